"""Operating a real `accords serve`: probes, metrics added up across gunicorn workers, JSON logs
carrying the request ids the caller sent."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import stop

pytestmark = pytest.mark.e2e

COMPUTE = "http://schemas.ogf.org/occi/infrastructure#compute"


def _read_lines(stream, into: list[str]) -> threading.Thread:
    """Drain a pipe as the server writes (a full pipe would block its workers)."""
    def run():
        for line in stream:
            into.append(line.rstrip("\n"))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _worker_files(directory: str) -> set[str]:
    return {name for name in os.listdir(directory) if name.startswith("counter_")}


def test_probes_metrics_and_json_logs_of_a_real_server(serve):
    server = serve("provisioning", "--log-format", "json", "--access-log", workers=2)
    stdout: list[str] = []
    stderr: list[str] = []
    readers = [_read_lines(server.process.stdout, stdout), _read_lines(server.process.stderr, stderr)]
    auth = {"Authorization": f"Bearer {server.token}"}

    # Probes and metrics need no credentials (from loopback); everything else does.
    assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(server.url + "/readyz", timeout=5).json() == {"status": "ok"}
    assert requests.get(server.url + "/compute/", timeout=5).status_code == 401

    # One fresh connection per request spreads them over both workers; each worker counts in
    # a file of its own in the server's metrics directory (written within a second).
    directory = os.path.join(server.data, "metrics", f"provisioning-127.0.0.1-{server.url.rsplit(':', 1)[1]}")
    sent: list[str] = []
    deadline = time.monotonic() + 30
    while len(sent) < 10 or len(_worker_files(directory)) < 2:
        assert time.monotonic() < deadline, f"the requests never reached a second worker: {os.listdir(directory)}"
        rid = f"e2e-{len(sent)}"
        answer = requests.get(server.url + "/compute/", headers={**auth, "X-Request-Id": rid, "Connection": "close"},
                              timeout=5)
        assert answer.status_code == 200 and answer.headers["X-Request-Id"] == rid
        sent.append(rid)
        time.sleep(0.02)
    assert len(_worker_files(directory)) == 2

    def scrape() -> dict:
        answer = requests.get(server.url + "/metrics", headers={"Connection": "close"}, timeout=5)
        assert answer.status_code == 200
        return {f.name: f for f in text_string_to_metric_families(answer.text)}

    def by_status(families) -> dict:
        return {s.labels["status"]: s.value for s in families["accords_http_requests"].samples
                if s.name == "accords_http_requests_total" and s.labels["route"] == "/compute/"}

    # Each worker writes its counts at most a second after its requests; then whichever worker
    # answers a scrape adds up both workers' counts.
    deadline = time.monotonic() + 10
    while by_status(scrape()) != {"200": len(sent), "401": 1}:
        assert time.monotonic() < deadline, f"{by_status(scrape())} after {len(sent)} requests"
        time.sleep(0.2)
    for _ in range(4):
        families = scrape()
        assert by_status(families) == {"200": len(sent), "401": 1}
        listed = [s for s in families["accords_http_requests"].samples if s.name == "accords_http_requests_total"]
        assert {s.labels["component"] for s in listed} == {"provisioning"}
        durations = [s for s in families["accords_http_request_duration_seconds"].samples
                     if s.name.endswith("_count") and s.labels["route"] == "/compute/"]
        assert sum(s.value for s in durations) == len(sent) + 1
        errors = {s.labels["code"]: s.value for s in families["accords_http_errors"].samples
                  if s.name == "accords_http_errors_total"}
        assert errors == {"no-credentials": 1}

    stop(server.process)
    for reader in readers:
        reader.join(timeout=10)
    # stdout: the start-up line, then the access log, one JSON object per request.
    access = [json.loads(line) for line in stdout[1:]]
    assert access and all(entry["logger"] == "occi.access" and entry["component"] == "provisioning"
                          for entry in access)
    listed = {entry["request_id"]: entry for entry in access if entry["path"] == "/compute/"
              and entry["status"] == 200}
    assert set(sent) <= set(listed)
    assert {listed[rid]["pid"] for rid in sent} == {int(name[len("counter_"):-len(".db")])
                                                   for name in _worker_files(directory)}
    for entry in listed.values():
        assert entry["method"] == "GET" and entry["duration_ms"] >= 0 and entry["ts"].endswith("Z")
    assert not any(server.token in line for line in stdout + stderr)
    for line in stderr:                         # gunicorn's own messages are JSON too
        assert json.loads(line)["level"]
