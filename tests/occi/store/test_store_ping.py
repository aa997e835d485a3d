"""Store.ping(): what readiness asks of the store, on both backends."""
from __future__ import annotations

import falcon.testing
import pytest
import sqlalchemy as sa

from occi.model import Model, infrastructure
from occi.server import create_app
from occi.store import SqlStore, StoreClosed


def test_a_store_answers_until_it_is_closed(store):
    store.ping()
    store.ping()
    store.close()
    with pytest.raises(StoreClosed):
        store.ping()


def test_an_unreachable_database_does_not_answer():
    unreachable = SqlStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(sa.exc.OperationalError):
            unreachable.ping()
        client = falcon.testing.TestClient(create_app(model=Model([*infrastructure.CATEGORIES]), store=unreachable))
        answer = client.simulate_get("/readyz")
        assert answer.status_code == 503
        assert answer.json["reason"] == "the store does not answer (OperationalError)"
        assert client.simulate_get("/healthz").status_code == 200
    finally:
        unreachable.close()
