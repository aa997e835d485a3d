"""Fixtures of the OCCI compliance checklist: an app over a fresh SQLite store per test."""
from __future__ import annotations

import pytest

from checklist_support import PASSWORD, TOKEN, USER, CheckedClient, build_model
from occi.auth import StaticCredentials
from occi.hooks import Hooks
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store


@pytest.fixture(scope="session")
def model():
    return build_model()


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "occi.db")
    yield store
    store.close()


@pytest.fixture
def hooks():
    """Component hooks of the app; tests may register handlers after the app is built."""
    return Hooks()


@pytest.fixture
def app(model, store, hooks):
    return create_app(model=model, store=store, hooks=hooks)


@pytest.fixture
def client(app):
    return CheckedClient(app)


@pytest.fixture
def auth_client(model, store):
    """A server that requires credentials (A17): one token and one user."""
    credentials = StaticCredentials()
    principal = Principal(account="acme", name="alice", roles=frozenset({"admin"}))
    credentials.add_token(TOKEN, principal)
    credentials.add_user(USER, PASSWORD, principal)
    return CheckedClient(create_app(model=model, store=store, authenticator=credentials))
