"""/healthz and /readyz: answers, authentication, and that they are not OCCI entities."""
from __future__ import annotations

import falcon.testing
import pytest

from occi.auth import StaticCredentials
from occi.model import Model, infrastructure
from occi.server import create_app
from occi.service.context import Principal
from occi.store import StoreClosed, open_store

TOKEN = "health-test-token"
COMPUTE = "http://schemas.ogf.org/occi/infrastructure#compute"


class BrokenStore:
    """A working store whose ping fails, as a store whose database went away would."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def ping(self):
        raise ConnectionRefusedError("db.internal.example:5432 refused the connection")


def _credentials() -> StaticCredentials:
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="ops", name="ops", roles=frozenset({"admin"})))
    return credentials


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "health.db")
    yield opened
    opened.close()


@pytest.fixture
def client(store):
    """A server that requires credentials for everything else."""
    app = create_app(model=Model([*infrastructure.CATEGORIES]), store=store, authenticator=_credentials())
    return falcon.testing.TestClient(app)


def test_liveness_answers_without_credentials(client):
    answer = client.simulate_get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok"}
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Cache-Control"] == "no-store"
    assert client.simulate_head("/healthz").status_code == 200


def test_readiness_answers_when_the_store_does(client):
    answer = client.simulate_get("/readyz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok"}


def test_credentials_are_still_required_everywhere_else(client):
    assert client.simulate_get("/-/").status_code == 401
    assert client.simulate_get("/compute/").status_code == 401
    assert client.simulate_get("/healthz/").status_code == 401      # not the probe path: an OCCI path
    assert client.simulate_get("/-/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_readiness_fails_with_the_reason_when_the_store_does_not_answer(store, caplog):
    app = create_app(model=Model([*infrastructure.CATEGORIES]), store=BrokenStore(store), authenticator=_credentials())
    client = falcon.testing.TestClient(app)
    with caplog.at_level("WARNING", logger="occi.server.health"):
        answer = client.simulate_get("/readyz", headers={"X-Request-Id": "probe-1"})
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "reason": "the store does not answer (ConnectionRefusedError)"}
    assert "db.internal.example" not in answer.text            # the details go to the log only
    assert any("db.internal.example" in r.getMessage() for r in caplog.records)
    assert client.simulate_get("/healthz").status_code == 200    # alive all the same: do not restart it


def test_readiness_fails_once_the_store_is_closed(store):
    client = falcon.testing.TestClient(create_app(model=Model([*infrastructure.CATEGORIES]), store=store))
    assert client.simulate_get("/readyz").status_code == 200
    store.close()
    answer = client.simulate_get("/readyz")
    assert answer.status_code == 503
    assert "StoreClosed" in answer.json["reason"]


def test_sql_store_ping(store):
    store.ping()
    store.close()
    with pytest.raises(StoreClosed):
        store.ping()


def test_probe_paths_are_not_entities_and_not_categories(store):
    client = falcon.testing.TestClient(create_app(model=Model([*infrastructure.CATEGORIES]), store=store))
    for path in ("/healthz", "/readyz"):
        assert client.simulate_put(path, json={"kind": COMPUTE},
                                   headers={"Content-Type": "application/occi+json"}).status_code == 405
        assert client.simulate_post(path, json={"kind": COMPUTE},
                                    headers={"Content-Type": "application/occi+json"}).status_code == 405
        assert client.simulate_delete(path).status_code == 405
    discovery = client.simulate_get("/-/", headers={"Accept": "application/occi+json"})
    assert discovery.status_code == 200
    assert "healthz" not in discovery.text and "readyz" not in discovery.text and "metrics" not in discovery.text
    text = client.simulate_get("/-/", headers={"Accept": "text/plain"}).text
    assert "healthz" not in text and "readyz" not in text
    assert client.simulate_get("/", headers={"Accept": "text/uri-list"}).text.strip() == ""   # nothing stored
