"""`accords up`: the whole platform, supervised; a crashed component comes back."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading

import pytest
import requests

from occi.publisher.client import PublisherClient
from occi.security.authenticators import SecurityClient
from tests.e2e.conftest import free_port_range

pytestmark = pytest.mark.e2e


def test_up_starts_everything_restarts_a_crashed_component_and_stops_cleanly(tmp_path):
    base = free_port_range(10)
    env = {**os.environ, "ACCORDS_DATA": str(tmp_path)}
    env.pop("ACCORDS_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "broker", "up", "--json", "--base-port", str(base)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    events: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [events.put(json.loads(line)) for line in process.stdout], daemon=True).start()

    def next_event(kind: str, timeout=60.0) -> dict:
        while True:
            event = events.get(timeout=timeout)
            if event["event"] == kind:
                return event

    try:
        report = next_event("up")
        rows = {row["component"]: row for row in report["components"]}
        assert set(rows) == {"security", "publisher", "parser", "broker", "placement", "provisioning", "sla",
                             "monitors"}
        assert all(row["ready"] for row in rows.values())
        assert report["seconds"] < 30
        admin = json.loads((tmp_path / "credentials" / "admin.json").read_text())
        assert (tmp_path / "credentials" / "admin.json").stat().st_mode & 0o777 == 0o600
        token = SecurityClient(rows["security"]["url"]).login(admin["user"], admin["password"])["token"]
        directory = PublisherClient(rows["publisher"]["url"], token=token, cache_ttl=0)

        os.kill(rows["sla"]["pid"], signal.SIGKILL)               # a crash
        exited = next_event("exited")
        assert exited["component"] == "sla" and exited["code"] != 0
        restarted = next_event("restarted")
        assert restarted["component"] == "sla" and restarted["pid"] != rows["sla"]["pid"]
        answer = requests.get(restarted["url"] + "/-/", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 200
        assert any(p.url == restarted["url"] for p in directory.resolve("agreement"))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert next_event("stopped", timeout=5)
    for row in rows.values():                 # every component is gone
        with pytest.raises(requests.ConnectionError):
            requests.get(row["url"] + "/-/", timeout=2)
