"""Fixtures of the security component's tests: an in-process component on a fresh SQLite store."""
from __future__ import annotations

import pytest

from occi.store import open_store
from tests.occi.security.support import Clock, Security


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def security_store(tmp_path):
    store = open_store(tmp_path / "security.db")
    yield store
    store.close()


@pytest.fixture
def security(security_store, tmp_path, clock):
    """The security component (bootstrapped: platform account, admin, svc-publisher) with ``clock``."""
    return Security(security_store, tmp_path, clock=clock)
