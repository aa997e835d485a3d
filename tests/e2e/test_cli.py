"""The `accords` command line, run for real."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.e2e


def accords(*args: str, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "broker", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_components_lists_what_can_be_served(tmp_path):
    # A data directory without platform.json: no running platform is known, so the registry.
    env = {k: v for k, v in os.environ.items() if k not in ("ACCORDS_PUBLISHER", "ACCORDS_TOKEN")}
    result = accords("components", "--json", "--data", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    names = {row["name"] for row in json.loads(result.stdout)}
    assert {"provisioning", "sla", "monitors"} <= names


def test_serving_an_unknown_component_fails_clearly(tmp_path):
    result = accords("serve", "nonesuch", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "unknown component 'nonesuch'" in result.stderr


@pytest.mark.parametrize("arguments, message", [
    (("sla", "--reconcile-interval", "1"), "sla has no reconciler"),
    (("provisioning", "--lease", "0"), "--lease: must be more than 0: 0"),
    (("provisioning", "--reconcile-interval", "soon"), "not a number: 'soon'"),
    (("provisioning", "--reconcile-concurrency", "0"), "--reconcile-concurrency must be 1 to 256, not 0"),
])
def test_reconciler_options_are_checked_before_anything_starts(tmp_path, arguments, message):
    result = accords("serve", *arguments, "--data", str(tmp_path / "data"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").glob("*.db"))


def test_the_reconciler_runs_as_serve_was_told(serve):
    server = serve("provisioning", "--json", "--reconcile-interval", "0.25", "--reconcile-concurrency", "3",
                   "--lease", "30")
    line = json.loads(server.process.stdout.readline())
    assert line["reconciler"] == {"interval": 0.25, "concurrency": 3, "lease_seconds": 30.0}


def test_serve_requires_the_local_token_and_keeps_it_private(serve):
    server = serve("provisioning")
    assert oct(os.stat(os.path.join(server.data, "token")).st_mode & 0o777) == "0o600"
    assert requests.get(server.url + "/-/", timeout=5).status_code == 401
    answer = requests.get(server.url + "/-/", headers={"Authorization": f"Bearer {server.token}"}, timeout=5)
    assert answer.status_code == 200
    assert "OCCI/1.2" in answer.headers["Server"]
    assert server.token not in (server.process.stdout.readline() if server.process.stdout else "")


def test_several_workers_share_one_store_and_see_user_mixins(serve):
    server = serve("sla", "--insecure-no-auth", workers=2)
    created = requests.post(server.url + "/agreement/", json={"kind": "http://schemas.ogf.org/occi/sla#agreement"},
                            headers={"Content-Type": "application/occi+json"}, timeout=5)
    assert created.status_code == 201
    location = created.headers["Location"]
    # Many requests over fresh connections reach both workers; every one sees the entity.
    for _ in range(20):
        assert requests.get(location, headers={"Connection": "close"}, timeout=5).status_code == 200
    accepted = requests.post(location + "?action=accept", timeout=5)
    assert accepted.status_code == 200
    assert "occi.agreement.agreedAt" in accepted.text
    assert 'occi.agreement.state="Accepted"' in accepted.text


def test_demo_is_the_platform_coming_up_and_going_down(tmp_path):
    env = {**os.environ, "ACCORDS_DATA": str(tmp_path)}
    from tests.e2e.conftest import free_port_range   # noqa: PLC0415
    result = accords("demo", "--json", "--exit-after", "0.5", "--base-port", str(free_port_range(10)), env=env,
                     timeout=120)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [e["event"] for e in events] == ["up", "stopped"]
    report = events[0]
    assert {row["component"] for row in report["components"]} == {
        "security", "publisher", "parser", "broker", "placement", "provisioning", "sla", "monitors"}
    assert all(row["ready"] for row in report["components"])
    assert [row["component"] for row in report["components"]][:2] == ["security", "publisher"]
