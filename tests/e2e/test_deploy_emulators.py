"""The same 3-node manifest (db, then app reading db, then web reading app) deployed with the real
CLI and real servers on each cloud emulator: moto (EC2), mimic behind the real Keystone (v3) and
mimic's own Keystone v2 (OpenStack), and the OpenNebula double; then stop, start and delete. After
every step the CLI's JSON and the emulator's own inventory (read through its API) must agree."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.doubles.opennebula import start_opennebula
from tests.e2e.clouds import (CONTRACT_TAG, ONE_PASSWORD, ONE_USER, OWNER_TAG, SERVICE_TAG, Inventory,
                              cloud_platform, contract_id, mimic_inventory, moto_inventory,  # noqa: F401 - fixture
                              opennebula_inventory, running_order, three)
from tests.e2e.test_cli_security import accords, as_json, eventually
from tests.emulators_openstack import Cloud, keystone_server, mimic_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


@dataclass
class Target:
    """One cloud under test: its providers.json entry and its emulator's inventory."""

    name: str
    entry: dict
    inventory: Inventory


def _quick(config: dict) -> dict:
    return {**config, "agent": False, "ready_timeout": 30, "poll_interval": 0.2}


@pytest.fixture
def opennebula():
    with start_opennebula(users={ONE_USER: ONE_PASSWORD}, step=0.05, lag=0.02) as double:
        yield double


@pytest.fixture(params=["ec2", "openstack-v3", "openstack-v2", "opennebula"])
def target(request) -> Target:
    if request.param == "ec2":
        moto = request.getfixturevalue("moto")
        return Target("aws", {"driver": "ec2", **_quick(moto.driver_config())}, moto_inventory(moto))
    if request.param.startswith("openstack"):
        mimic = request.getfixturevalue("mimic_server")
        cloud = (Cloud.v3(mimic, request.getfixturevalue("keystone_server")) if request.param.endswith("v3")
                 else Cloud.v2(mimic))
        config = {**cloud.driver_config(), "zones": list(cloud.driver_config()["zones"])}
        return Target("nova", {"driver": "openstack", **_quick(config)}, mimic_inventory(cloud))
    double = request.getfixturevalue("opennebula")
    return Target("one", {"driver": "opennebula", **_quick({
        "endpoint": double.endpoint, "username": ONE_USER, "password": ONE_PASSWORD, "image": "debian-12",
        "network": "public", "soft_stop_timeout": 5, "connect_timeout": 2, "read_timeout": 10})},
        opennebula_inventory(double))


def _states(report: dict) -> dict:
    return {node["name"]: node["state"] for node in report["nodes"]}


def _check_inventory(target: Target, report: dict, state: str) -> None:
    """Exactly one node per contract in the emulator, in ``state``, carrying the contract's tags."""
    nodes = target.inventory.ours()
    by_contract = {n.tags[CONTRACT_TAG]: n for n in nodes}
    assert len(nodes) == len(by_contract) == 3, nodes
    assert set(by_contract) == {contract_id(node) for node in report["nodes"]}
    assert {n.state for n in nodes} == {state}, nodes
    assert len({n.tags[OWNER_TAG] for n in nodes}) == 1 and all(n.tags[OWNER_TAG] for n in nodes)
    assert all(report["service"].endswith(n.tags[SERVICE_TAG]) and n.tags[SERVICE_TAG] for n in nodes)


def test_the_three_node_manifest_runs_stops_starts_and_is_deleted_on_each_cloud(target, cloud_platform, tmp_path):
    platform = cloud_platform({target.name: target.entry})
    manifest = tmp_path / "three.xml"
    manifest.write_text(three("three", tmp_path / "never-written.log"))
    report = as_json(accords("submit", str(manifest), "--provider", target.name, "--wait", "--json",
                             data=platform.data, timeout=180))
    assert report["state"] == "running", report
    assert _states(report) == {"db": "running", "app": "running", "web": "running"}
    assert {node["provider"] for node in report["nodes"]} == {target.name}
    assert all(node["hostname"] for node in report["nodes"]), report["nodes"]
    _check_inventory(target, report, "running")
    # No agent to run the statements on, but app still waited for db, and web for app.
    assert running_order(platform, report["service"]) == ["db", "app", "web"]

    if target.inventory.can_stop:
        stopped = as_json(accords("stop", "three", "--wait", "--json", data=platform.data, timeout=120))
        assert stopped["state"] == "stopped" and set(_states(stopped).values()) == {"stopped"}
        _check_inventory(target, report, "stopped")
        started = as_json(accords("start", "three", "--wait", "--json", data=platform.data, timeout=120))
        assert started["state"] == "running" and set(_states(started).values()) == {"running"}
        _check_inventory(target, report, "running")
    else:
        # docs/providers.md, openstack "Limits": no start or stop. The user is told, per node, and
        # the nodes keep running.
        refused = accords("stop", "three", "--wait", "--json", data=platform.data, timeout=120)
        assert refused.returncode == 1, (refused.stdout, refused.stderr)
        failed = json.loads(refused.stdout)
        assert failed["state"] == "failed"
        assert "refused to stop node" in failed["message"] and "openstack cannot stop nodes" in failed["message"]
        assert failed["message"].startswith(("node db failed", "node app failed", "node web failed"))
        _check_inventory(target, report, "running")

    deleted = as_json(accords("delete", "three", "--wait", "--json", data=platform.data, timeout=120))
    assert deleted["state"] == "deleted" and set(_states(deleted).values()) == {"deleted"}
    assert eventually(lambda: target.inventory.live() == [], timeout=30), target.inventory.live()
