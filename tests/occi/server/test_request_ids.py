"""Request ids: taken when sane, made otherwise, echoed, handed to the service layer and to
hooks, carried by log records, and sent on by occi.client to the next component."""
from __future__ import annotations

import contextvars
import json
import logging
import re

import falcon.testing
import pytest

import occi.client
from occi import logs
from occi.auth import StaticCredentials
from occi.client import OcciClient
from occi.hooks import Hooks
from occi.model import Model, infrastructure, sla
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi

COMPUTE = "http://schemas.ogf.org/occi/infrastructure#compute"
AGREEMENT = "http://schemas.ogf.org/occi/sla#agreement"
JSON = {"Content-Type": "application/occi+json"}
GENERATED = re.compile(r"[0-9a-f]{32}")
TOKEN = "request-id-test-token"


def _app(tmp_path, name, hooks=None, categories=infrastructure.CATEGORIES, **options):
    store = open_store(tmp_path / f"{name}.db")
    return create_app(model=Model([*categories]), store=store, hooks=hooks, component=name, **options), store


@pytest.fixture
def seen(tmp_path):
    """A server whose compute create hook records the request id its service layer got."""
    recorded: list[str | None] = []
    hooks = Hooks()

    @hooks.on_create(COMPUTE)
    def record(entity, ctx):
        recorded.append(ctx.request_id)

    app, store = _app(tmp_path, "seen", hooks)
    yield falcon.testing.TestClient(app), recorded
    store.close()


# -- in one server -------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["abc", "trace-7.x_Y", "0" * 64])
def test_a_sane_request_id_is_kept_and_reaches_the_service_layer(seen, given):
    client, recorded = seen
    answer = client.simulate_post("/compute/", json={"kind": COMPUTE}, headers={**JSON, "X-Request-Id": given})
    assert answer.status_code == 201
    assert answer.headers["X-Request-Id"] == given
    assert recorded == [given]


@pytest.mark.parametrize("given", [None, "", "x" * 65, "two words", "a;b", "caf\u00e9", "<script>"])
def test_any_other_request_id_is_replaced_by_a_new_one(seen, given):
    client, recorded = seen
    headers = {**JSON} if given is None else {**JSON, "X-Request-Id": given}
    answer = client.simulate_post("/compute/", json={"kind": COMPUTE}, headers=headers)
    rid = answer.headers["X-Request-Id"]
    assert GENERATED.fullmatch(rid) and rid != given
    assert recorded == [rid]


def test_every_answer_has_its_own_id_even_errors(seen):
    client, _ = seen
    ids = set()
    for path in ("/compute/missing", "/nothing/", "/-/", "/healthz"):
        answer = client.simulate_get(path)
        ids.add(answer.headers["X-Request-Id"])
    too_large = client.simulate_get("/-/", headers={"X-Big": "x" * 70000})     # refused by the first check
    assert too_large.status_code == 431
    ids.add(too_large.headers["X-Request-Id"])
    assert len(ids) == 5


def test_the_request_id_is_not_left_behind(seen):
    client, _ = seen
    client.simulate_get("/-/", headers={"X-Request-Id": "done-1"})
    assert occi.client.request_id.get() is None


# -- logs -------------------------------------------------------------------------------------
def test_the_access_log_has_a_line_per_request_and_no_credentials(tmp_path, caplog):
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="ops", name="ops", roles=frozenset({"admin"})))
    app, store = _app(tmp_path, "access", authenticator=credentials)
    client = falcon.testing.TestClient(app)
    with caplog.at_level(logging.INFO, logger=logs.ACCESS_LOGGER):
        client.simulate_post("/compute/", json={"kind": COMPUTE, "attributes": {"occi.compute.hostname": "secret-body"}},
                             headers={**JSON, "Authorization": f"Bearer {TOKEN}", "X-Request-Id": "acc-1"},
                             remote_addr="127.0.0.1")
        client.simulate_get("/compute/", headers={"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},   # user:password
                            params={"page": "1"})
    store.close()
    lines = [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    assert len(lines) == 2
    first, second = lines
    assert (first.request_id, first.method, first.path, first.status) == ("acc-1", "POST", "/compute/", 201)
    assert first.duration_ms >= 0 and first.remote == "127.0.0.1"
    assert first.getMessage().startswith('127.0.0.1 "POST /compute/" 201 ')
    assert second.status == 401 and second.path == "/compute/"                  # no query string either
    formatted = [logs.JsonFormatter(component="access").format(r) for r in lines]
    assert json.loads(formatted[0])["request_id"] == "acc-1"
    for text in formatted + [r.getMessage() for r in caplog.records]:
        for secret in (TOKEN, "dXNlcjpwYXNzd29yZA", "password", "secret-body", "Authorization"):
            assert secret not in text


def test_the_log_of_an_internal_error_carries_the_request_id(tmp_path, caplog):
    hooks = Hooks()

    @hooks.on_create(COMPUTE)
    def fail(entity, ctx):
        raise RuntimeError("hook bug")

    app, store = _app(tmp_path, "failing", hooks)
    with caplog.at_level(logging.ERROR, logger="occi.server"):
        answer = falcon.testing.TestClient(app).simulate_post(
            "/compute/", json={"kind": COMPUTE}, headers={**JSON, "X-Request-Id": "boom-1"})
    store.close()
    assert answer.status_code == 500 and answer.headers["X-Request-Id"] == "boom-1"
    [record] = [r for r in caplog.records if r.name == "occi.server"]
    out = json.loads(logs.JsonFormatter().format(record))
    assert out["request_id"] == "boom-1"
    assert (out["method"], out["path"], out["status"]) == ("POST", "/compute/", 500)
    assert "RuntimeError: hook bug" in out["traceback"]


# -- across components, on real sockets -------------------------------------------------------
@pytest.fixture
def chain(tmp_path):
    """Server B records the request id of every agreement created; server A's compute create
    hook creates an agreement in B through OcciClient (as a component calling another does)."""
    recorded: list[str | None] = []
    b_hooks = Hooks()

    @b_hooks.on_create(AGREEMENT)
    def record(entity, ctx):
        recorded.append(ctx.request_id)

    b_app, b_store = _app(tmp_path, "b", b_hooks, categories=sla.CATEGORIES)
    b_url, stop_b = serve_wsgi(b_app)
    a_hooks = Hooks()

    @a_hooks.on_create(COMPUTE)
    def call_b(entity, ctx):
        with OcciClient(b_url) as other:
            other.create(AGREEMENT)

    a_app, a_store = _app(tmp_path, "a", a_hooks)
    a_url, stop_a = serve_wsgi(a_app)
    yield a_url, b_url, recorded
    stop_a()
    stop_b()
    a_store.close()
    b_store.close()


def test_a_component_passes_the_request_id_on_to_the_next(chain):
    a_url, _, recorded = chain
    with OcciClient(a_url, request_id="chain-42") as client:
        client.create(COMPUTE)
    assert recorded == ["chain-42"]


def test_a_generated_request_id_is_passed_on_too(chain):
    import requests
    a_url, _, recorded = chain
    answer = requests.post(a_url + "/compute/", json={"kind": COMPUTE}, headers=JSON, timeout=10)
    assert answer.status_code == 201
    rid = answer.headers["X-Request-Id"]
    assert GENERATED.fullmatch(rid) and recorded == [rid]


def test_the_context_variable_tags_calls_outside_a_server(chain):
    _, b_url, recorded = chain

    def batch():
        occi.client.request_id.set("batch-9")
        with OcciClient(b_url) as client:
            client.create(AGREEMENT)
    contextvars.copy_context().run(batch)
    with OcciClient(b_url) as client:          # no request id anywhere: B makes one
        client.create(AGREEMENT)
    assert recorded[0] == "batch-9" and GENERATED.fullmatch(recorded[1])


def test_the_clients_own_request_id_wins_over_the_context(chain):
    _, b_url, recorded = chain

    def call():
        occi.client.request_id.set("from-context")
        with OcciClient(b_url, request_id="explicit-1") as client:
            client.create(AGREEMENT)
    contextvars.copy_context().run(call)
    assert recorded == ["explicit-1"]
