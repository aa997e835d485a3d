"""/metrics: the exposition, route labels that stay few, error codes, loopback-only access,
one registry per app, and prometheus_client's multiprocess mode."""
from __future__ import annotations

import os
import time
import uuid

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from occi.auth import StaticCredentials
from occi.model import Model, infrastructure
from occi.server import create_app
from occi.server.metrics import FLUSH_INTERVAL, _follow_environment
from occi.service.context import Principal
from occi.store import open_store

COMPUTE = "http://schemas.ogf.org/occi/infrastructure#compute"
JSON = {"Content-Type": "application/occi+json"}
TOKEN = "metrics-test-token"


@pytest.fixture
def stores(tmp_path):
    opened = []

    def make(name="m"):
        store = open_store(tmp_path / f"{name}-{len(opened)}.db")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _client(store, component="provisioning", **options) -> falcon.testing.TestClient:
    app = create_app(model=Model([*infrastructure.CATEGORIES]), store=store, component=component, **options)
    return falcon.testing.TestClient(app)


def scrape(client, **headers) -> dict:
    """{metric family name: [samples]} of one scrape from loopback."""
    answer = client.simulate_get("/metrics", remote_addr="127.0.0.1", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(answer.text)}


def requests_by(samples, **labels) -> float:
    return sum(s.value for s in samples if s.name == "accords_http_requests_total"
               and all(s.labels.get(k) == v for k, v in labels.items()))


def _create(client) -> str:
    answer = client.simulate_post("/compute/", json={"kind": COMPUTE}, headers=JSON)
    assert answer.status_code == 201
    return "/" + answer.headers["Location"].split("/", 3)[3]


def test_the_exposition_parses_and_has_the_three_families(stores):
    client = _client(stores())
    _create(client)
    client.simulate_get("/-/")
    families = {f.name: f for f in text_string_to_metric_families(
        client.simulate_get("/metrics", remote_addr="127.0.0.1").text)}
    assert families["accords_http_requests"].type == "counter"
    assert families["accords_http_request_duration_seconds"].type == "histogram"
    assert families["accords_http_errors"].type == "counter"
    samples = families["accords_http_requests"].samples
    assert requests_by(samples, component="provisioning", method="POST", route="/compute/", status="201") == 1
    assert requests_by(samples, method="GET", route="/-/", status="200") == 1
    durations = {s.name: s for s in families["accords_http_request_duration_seconds"].samples
                 if s.labels.get("route") == "/compute/"}
    assert durations["accords_http_request_duration_seconds_count"].value == 1
    assert durations["accords_http_request_duration_seconds_sum"].value > 0
    assert set(durations["accords_http_request_duration_seconds_count"].labels) == {"component", "method", "route"}


def test_a_thousand_entity_gets_make_one_series(stores):
    client = _client(stores())
    real = [_create(client) for _ in range(10)]
    for n in range(1000):
        path = real[n % 10] if n % 2 else f"/compute/{uuid.uuid4()}"     # half found, half 404
        client.simulate_get(path, headers={"Accept": "text/plain"})
    samples = scrape(client)["accords_http_requests"]
    gets = [s for s in samples if s.name == "accords_http_requests_total" and s.labels["method"] == "GET"]
    assert {s.labels["route"] for s in gets} == {"/compute/{id}"}
    assert {s.labels["status"]: s.value for s in gets} == {"200": 500, "404": 500}
    every_label = {value for s in samples for value in s.labels.values()}
    assert not any(path.rsplit("/", 1)[1] in label for path in real for label in every_label)


@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_routes_of_collections_mixins_and_unknown_paths(stores):
    client = _client(stores())
    client.simulate_get("/compute/")
    client.simulate_get("/")
    client.simulate_get("/.well-known/org/ogf/occi/-/")
    mixin = client.simulate_post("/-/", body='Category: tag; scheme="http://example.com/tags#"; class="mixin"; '
                                             'location="/tags/tag/"\n', headers={"Content-Type": "text/plain"})
    assert mixin.status_code == 200, mixin.text
    assert client.simulate_get("/tags/tag/").status_code == 200
    for n in range(50):                               # a scanner: neither paths nor ids become labels
        client.simulate_get(f"/wp-admin-{n}/setup.php")
        client.simulate_get(f"/nothing-{n}/")
    client.simulate_request("PROPFIND", "/compute/")
    samples = scrape(client)["accords_http_requests"]
    routes = {s.labels["route"] for s in samples if s.name == "accords_http_requests_total"}
    assert routes == {"/compute/", "/", "/-/", "/tags/tag/", "other"}
    assert requests_by(samples, route="other", status="404") == 100
    assert {s.labels["method"] for s in samples} <= {"GET", "POST", "other"}


def test_errors_are_counted_by_occi_code(stores):
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="ops", name="ops", roles=frozenset({"admin"})))
    client = _client(stores(), authenticator=credentials)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    client.simulate_get("/compute/")                                             # 401 no-credentials
    client.simulate_get("/compute/", headers={"Authorization": "Bearer nope"})   # 401 bad-credentials
    client.simulate_get("/compute/missing", headers=auth)                        # 404 no-such-entity
    client.simulate_get("/compute/missing", headers=auth)
    client.simulate_put("/compute/", headers=auth)                               # 405
    client.simulate_post("/compute/", body="garbage", headers={**auth, "Content-Type": "text/plain"})  # 400
    client.simulate_get("/compute/", headers=auth)                               # 200: not an error
    samples = scrape(client)["accords_http_errors"]
    counts = {s.labels["code"]: s.value for s in samples if s.name == "accords_http_errors_total"}
    assert counts.pop("no-credentials") == 1 and counts.pop("bad-credentials") == 1
    assert counts.pop("no-such-entity") == 2 and counts.pop("method-not-allowed") == 1
    assert len(counts) == 1 and list(counts.values()) == [1]                     # the 400's code
    assert all(s.labels["component"] == "provisioning" for s in samples)


def test_metrics_need_credentials_off_loopback(stores):
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="ops", name="ops", roles=frozenset({"admin"})))
    client = _client(stores(), authenticator=credentials)
    for loopback in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.simulate_get("/metrics", remote_addr=loopback).status_code == 200
    assert client.simulate_get("/metrics", remote_addr="192.0.2.7").status_code == 401
    assert client.simulate_get("/metrics").status_code == 401                 # no REMOTE_ADDR: not loopback
    answer = client.simulate_get("/metrics", remote_addr="192.0.2.7", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and "accords_http_requests_total" in answer.text
    assert client.simulate_get("/healthz", remote_addr="192.0.2.7").status_code == 200


def test_openmetrics_when_asked_for(stores):
    client = _client(stores())
    answer = client.simulate_get("/metrics", remote_addr="127.0.0.1",
                                 headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")


def test_apps_in_one_process_count_apart(stores):
    first, second = _client(stores(), component="sla"), _client(stores(), component="monitors")
    for _ in range(3):
        first.simulate_get("/-/")
    second.simulate_get("/-/")
    assert requests_by(scrape(first)["accords_http_requests"], route="/-/") == 3
    samples = scrape(second)["accords_http_requests"]
    assert requests_by(samples, route="/-/") == 1
    assert {s.labels["component"] for s in samples} == {"monitors"}


def test_multiprocess_mode_counts_in_shared_files(stores, tmp_path):
    """What each gunicorn worker does under `accords serve`: count into PROMETHEUS_MULTIPROC_DIR;
    a scrape reads every file there, whichever app (or worker) answers it. (Several processes
    adding up is the end-to-end test's: tests/e2e/test_observability.py.)"""
    directory = tmp_path / "prom"
    directory.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        sla, monitors = _client(stores(), component="sla"), _client(stores(), component="monitors")
        for _ in range(4):
            sla.simulate_get("/-/")
        for _ in range(3):
            monitors.simulate_get("/-/")
        monitors.simulate_get("/compute/missing")
        scrape(monitors)                 # a scrape first writes out the tally of the app that answers it
        assert any(name.startswith("counter_") for name in os.listdir(directory))
        for client in (sla, monitors):
            families = scrape(client)
            assert requests_by(families["accords_http_requests"], component="sla", route="/-/") == 4
            assert requests_by(families["accords_http_requests"], component="monitors", route="/-/") == 3
            errors = [s for s in families["accords_http_errors"] if s.name == "accords_http_errors_total"]
            assert [(s.labels["component"], s.labels["code"], s.value) for s in errors] == [
                ("monitors", "no-such-entity", 1)]
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        _follow_environment()
    single = _client(stores())                       # back to one registry per app
    single.simulate_get("/-/")
    assert requests_by(scrape(single)["accords_http_requests"], route="/-/") == 1


def test_the_tally_reaches_the_values_within_a_second_without_a_scrape(stores):
    """The background flush: what another worker's scrape sees of this one."""
    client = _client(stores())
    app = client.app
    for _ in range(5):
        client.simulate_get("/-/")
    labels = {"component": "provisioning", "method": "GET", "route": "/-/", "status": "200"}

    def counted():
        return app.metrics.registry.get_sample_value("accords_http_requests_total", labels) or 0

    deadline = time.monotonic() + 5 * FLUSH_INTERVAL
    while counted() < 5:
        assert time.monotonic() < deadline, "the tally was never flushed"
        time.sleep(0.05)
    assert counted() == 5
