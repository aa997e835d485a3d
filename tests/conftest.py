"""Shared fixtures of the test suite.

Stores: every test that takes ``store`` (or ``store_url_factory``) runs twice, on SQLite
(a file under ``tmp_path``) and on PostgreSQL (a fresh random schema, dropped afterwards).
PostgreSQL comes from ``ACCORDS_TEST_POSTGRES_URL`` (default: a local server, database
``test``); when none answers, its variants are skipped, or fail if
``ACCORDS_REQUIRE_POSTGRES=1`` (as in CI, where a silent skip would hide a whole backend).

Cloud emulators (``moto_server`` for EC2 ...) run from their own virtual environments under
``.emu/`` (``scripts/emulators.sh``; see tests/emulators.py); without them their tests are
skipped, or fail if ``ACCORDS_REQUIRE_EMULATORS=1`` (as in CI).
"""
from __future__ import annotations

import itertools
import os
import uuid

import pytest
import sqlalchemy as sa

__all__ = ["STORE_BACKENDS", "StoreUrlFactory", "postgres_url", "require_postgres"]

# argon2's cheap profile for every process the tests start (the real one costs ~0.1 s and
# 64 MiB per hash); tests/occi/security/test_passwords.py checks the default profile itself.
os.environ.setdefault("ACCORDS_ARGON2_PROFILE", "test")

STORE_BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_postgres_errors: dict[str, str | None] = {}     # url -> why it does not answer (None: it does)


def postgres_url() -> str:
    return os.environ.get("ACCORDS_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed, poolclass=sa.NullPool, connect_args={"connect_timeout": 3})


def _postgres_error(url: str) -> str | None:
    """Why the server at ``url`` does not answer, probed once per test run."""
    if url not in _postgres_errors:
        try:
            engine = _engine(url)
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
            finally:
                engine.dispose()
            _postgres_errors[url] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "no server"
            lines = str(exc).strip().splitlines()
            _postgres_errors[url] = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return _postgres_errors[url]


def require_postgres() -> str:
    """The test PostgreSQL URL; skips the test (fails it under ACCORDS_REQUIRE_POSTGRES=1)
    when no server answers there."""
    url = postgres_url()
    error = _postgres_error(url)
    if error is not None:
        shown = sa.make_url(url).render_as_string(hide_password=True)
        if os.environ.get("ACCORDS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"no PostgreSQL server answers at {shown} ({error}), "
                        "and ACCORDS_REQUIRE_POSTGRES=1 requires one", pytrace=False)
        pytest.skip(f"no PostgreSQL server answers at {shown} "
                    "(set ACCORDS_TEST_POSTGRES_URL or ACCORDS_REQUIRE_POSTGRES=1)")
    return url


class StoreUrlFactory:
    """Makes the URL of a new, empty store on one backend; call it once per store wanted.

    SQLite: a new file under the test's ``tmp_path``. PostgreSQL: the test server with a new
    random schema (``?schema=``, understood by :class:`occi.store.SqlStore`), dropped with
    everything in it when the test ends.
    """

    def __init__(self, backend: str, tmp_path, postgres: str | None):
        self.backend = backend
        self._tmp_path = tmp_path
        self._postgres = postgres
        self._numbers = itertools.count(1)
        self.schemas: list[str] = []

    def __call__(self, name: str = "occi") -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self._tmp_path / f'{name}-{next(self._numbers)}.db'}"
        schema = f"test_{uuid.uuid4().hex[:20]}"
        self.schemas.append(schema)
        url = sa.make_url(self._postgres).update_query_dict({"schema": schema})
        return url.render_as_string(hide_password=False)

    def drop_schemas(self) -> None:
        if not self.schemas:
            return
        engine = _engine(self._postgres)
        try:
            with engine.begin() as connection:
                quote = connection.dialect.identifier_preparer.quote
                for schema in self.schemas:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
        finally:
            engine.dispose()


@pytest.fixture(params=[pytest.param(backend, marks=[pytest.mark.postgres] if backend == "postgresql" else [])
                        for backend in STORE_BACKENDS])
def store_url_factory(request, tmp_path):
    """A :class:`StoreUrlFactory`; tests using it run once per backend."""
    postgres = require_postgres() if request.param == "postgresql" else None
    factory = StoreUrlFactory(request.param, tmp_path, postgres)
    yield factory
    factory.drop_schemas()


@pytest.fixture
def store(store_url_factory):
    """A migrated, empty :class:`occi.store.SqlStore`, closed after the test."""
    from occi.store import open_store
    opened = open_store(store_url_factory())
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """One moto_server per test process (EC2 with tests/emulators.py's AMIs, AMI validation on)."""
    from tests.emulators import start_moto

    with start_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def moto(moto_server):
    """The moto server, emptied (``POST /moto-api/reset``) before the test."""
    moto_server.reset()
    return moto_server
