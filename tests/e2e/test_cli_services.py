"""Deploying with the CLI on real processes: security, publisher, parser, broker and provisioning
(two workers, each with its reconciler) on loopback, the local provider (each node an agent
process whose scripts really run); then a kill -9 of provisioning in mid-deployment."""
from __future__ import annotations

import json
import os
import signal

import pytest

from broker import settings
from broker.providers.local import LocalDriver
from tests.e2e.test_cli_security import accords, as_json, eventually
from tests.broker.test_services import THREE
from tests.cords.platform import delete_local_nodes
from tests.e2e.test_cli_submit import _published

pytestmark = pytest.mark.e2e

def _three(name: str, log, *, app_command: str | None = None) -> str:
    """tests/broker/test_services.py's manifest: db, then app (reads db), then web (reads app)."""
    return THREE.format(name=name, log=log, app_command=app_command or f"echo app $db_hostname >> {log}")


@pytest.fixture
def deploying(platform, serve):
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    servers = {}
    for component in ("broker", "parser", "provisioning"):
        servers[component] = serve(component, "--publisher", platform.publisher.url, data=platform.data, workers=2)
    assert eventually(lambda: _published(platform), timeout=20), "broker and parser never published their kinds"
    platform.servers = servers
    yield platform
    delete_local_nodes(platform.data / "nodes")      # every agent process a test left behind


def _local_nodes(data) -> list:
    return LocalDriver(root=data / "nodes").list() if (data / "nodes").exists() else []


def test_submit_wait_status_stop_start_delete(deploying, tmp_path):
    log = tmp_path / "order.log"
    manifest = tmp_path / "three.xml"
    manifest.write_text(_three("three", log))
    report = as_json(accords("submit", str(manifest), "--wait", "--json", data=deploying.data, timeout=180))
    assert report["state"] == "running" and report["service"].startswith("http://127.0.0.1:")
    assert {node["name"]: node["state"] for node in report["nodes"]} == {"db": "running", "app": "running",
                                                                         "web": "running"}
    assert all(node["provider"] == "local" and node["agent"].startswith("http://127.0.0.1:")
               for node in report["nodes"])
    assert log.read_text().splitlines() == ["db", "app 127.0.0.1", "web 127.0.0.1"]

    listed = as_json(accords("services", "--json", data=deploying.data))
    assert [(row["name"], row["state"]) for row in listed] == [("three", "running")]
    status = as_json(accords("status", "three", "--json", data=deploying.data))
    assert status["service"] == report["service"] and status["state"] == "running"

    stopped = as_json(accords("stop", "three", "--wait", "--json", data=deploying.data, timeout=120))
    assert stopped["state"] == "stopped" and {i.state for i in _local_nodes(deploying.data)} == {"stopped"}
    started = as_json(accords("start", report["service"], "--wait", "--json", data=deploying.data, timeout=120))
    assert started["state"] == "running"
    assert log.read_text().splitlines()[3:] == ["db", "app 127.0.0.1", "web 127.0.0.1"]
    deleted = as_json(accords("delete", "three", "--wait", "--json", data=deploying.data, timeout=120))
    assert deleted["state"] == "deleted" and _local_nodes(deploying.data) == []

    missing = accords("status", "nosuchservice", data=deploying.data)
    assert missing.returncode == 1 and "no service named 'nosuchservice'" in missing.stderr


def test_a_failing_node_fails_submit_wait_with_its_reason(deploying, tmp_path):
    manifest = tmp_path / "broken.xml"
    manifest.write_text(_three("broken", tmp_path / "x.log", app_command="exit 7"))
    result = accords("submit", str(manifest), "--wait", "--json", data=deploying.data, timeout=180)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "failed" and "node app failed" in report["message"] and "exit 7" in report["message"]
    assert eventually(lambda: _local_nodes(deploying.data) == [], timeout=60), "the rollback left nodes behind"


def test_provisioning_killed_mid_deployment_finishes_after_a_restart_without_leaks(deploying, serve, tmp_path):
    nodes = "".join(f'<node name="n{i}" infrastructure=":small" image=":debian"/>' for i in range(1, 8))
    manifest = tmp_path / "wide.xml"
    manifest.write_text(_three("wide", tmp_path / "w.log").replace(
        '<node name="app"', nodes + '<node name="app"'))
    report = as_json(accords("submit", str(manifest), "--json", data=deploying.data, timeout=60))
    provisioning = deploying.servers["provisioning"]
    # Some nodes exist, others do not yet: kill the whole component (master and workers) hard.
    assert eventually(lambda: len(_local_nodes(deploying.data)) >= 2, timeout=60, every=0.05)
    _kill_tree(provisioning.process.pid)
    provisioning.process.wait(timeout=10)
    restarted = serve("provisioning", "--publisher", deploying.publisher.url, data=deploying.data, workers=2)
    assert restarted.url

    def settled():
        result = accords("status", report["service"], "--json", data=deploying.data)
        status = json.loads(result.stdout)
        return status if status["state"] in ("running", "failed") else None

    final = eventually(settled, timeout=180, every=0.5)
    assert final is not None, "the service never settled after the restart"
    assert final["state"] == "running", final
    # Exactly one node per contract: nothing created twice, nothing orphaned.
    contracts = {node["name"]: node["contract"] for node in final["nodes"]}
    assert len(contracts) == 10
    live = _local_nodes(deploying.data)
    assert len(live) == 10 and {i.state for i in live} == {"running"}
    assert len({i.contract for i in live}) == 10
    as_json(accords("delete", report["service"], "--wait", "--json", data=deploying.data, timeout=120))
    assert _local_nodes(deploying.data) == []
    # Nor an agent process left behind, even of a creation the kill interrupted mid-spawn.
    assert eventually(lambda: _agent_processes(deploying.data) == [], timeout=20), _agent_processes(deploying.data)


def _agent_processes(data) -> list[int]:
    marker = str(data / "nodes").encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = open(f"/proc/{entry}/cmdline", "rb").read()
            except OSError:
                continue
            if b"agent" in command and marker in command:
                found.append(int(entry))
    return found


def _kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its children (gunicorn's workers), as a crash would."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    for target in (pid, *children):
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _events(data, service: str) -> list[dict]:
    result = accords("events", service, "--json", data=data)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)          # without --follow: one JSON list


def test_scaleup_scaledown_snapshot_and_save_from_the_cli(deploying, tmp_path):
    log = tmp_path / "scale.log"
    manifest = tmp_path / "scaled.xml"
    manifest.write_text(_three("scaled", log))
    report = as_json(accords("submit", str(manifest), "--wait", "--json", data=deploying.data, timeout=180))
    assert report["state"] == "running"

    up = as_json(accords("scaleup", "scaled", "app", "--count", "2", "--wait", "--json", data=deploying.data,
                         timeout=180))
    assert up["state"] == "running"
    assert {n["name"]: n["state"] for n in up["nodes"]} == {
        "db": "running", "app": "running", "app-2": "running", "app-3": "running", "web": "running"}
    assert len(_local_nodes(deploying.data)) == 5
    # Each copy is configured as the node is: it read db's address and ran app's script.
    assert log.read_text().splitlines().count("app 127.0.0.1") == 3

    down = as_json(accords("scaledown", "scaled", "app", "--wait", "--json", data=deploying.data, timeout=120))
    assert {n["name"]: n["state"] for n in down["nodes"]}["app-3"] == "deleted"
    assert down["state"] == "running", down
    assert sorted(i.name.rsplit("-", 1)[0] for i in _local_nodes(deploying.data)) == ["app", "app-2", "db", "web"], \
        (down, _local_nodes(deploying.data))

    refused = accords("scaleup", "scaled", "nosuchnode", data=deploying.data)
    assert refused.returncode != 0 and "no node 'nosuchnode'" in refused.stderr

    assert as_json(accords("snapshot", "scaled", "--name", "before", "--json", data=deploying.data))["state"] == \
        "running"
    taken = eventually(lambda: [e for e in _events(deploying.data, report["service"])
                                if e["what"] == "image" and e["outcome"] == "ok"] or None, timeout=60)
    assert taken and {e["node"] for e in taken} == {"db", "app", "app-2", "web"}, taken
    snapshots = deploying.data / "nodes" / "snapshots"
    assert len(list(snapshots.glob("snapshot-*"))) == 4

    as_json(accords("delete", "scaled", "--wait", "--json", data=deploying.data, timeout=120))
    assert _local_nodes(deploying.data) == []
