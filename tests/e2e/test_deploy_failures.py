"""Failure injection on the cloud emulators, through the real CLI and real servers: one node (app)
is placed on a provider that fails it (mimic's ``server_error`` and ``create_server_failure``
metadata, an image moto does not know with AMI validation on), the others on one that works.
`accords submit --wait` exits 1 naming the node and the cloud's reason, and the rollback leaves
nothing in the emulator. (A configuration script that exits non-zero on a node is
tests/e2e/test_cli_services.py's test_a_failing_node_fails_submit_wait_with_its_reason.)"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.e2e.clouds import (UNKNOWN_AMI, Inventory, cloud_platform, mimic_inventory,  # noqa: F401 - fixture
                              moto_inventory, three)
from tests.e2e.test_cli_security import accords, eventually
from tests.emulators_openstack import Cloud, mimic_server  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

QUOTA = json.dumps({"message": "Quota exceeded for instances (injected by the test)", "code": 403})


@dataclass
class Failing:
    good: dict
    bad: dict
    #: What the service's message must say of app's failure, besides naming it.
    reasons: tuple[str, ...]
    inventory: Inventory


@pytest.fixture(params=["mimic-server-error", "mimic-create-failure", "moto-unknown-ami"])
def failing(request) -> Failing:
    if request.param.startswith("mimic"):
        cloud = Cloud.v2(request.getfixturevalue("mimic_server"))
        good = {"driver": "openstack", "agent": False, **cloud.driver_config(zones=list(cloud.driver_config()["zones"]),
                                                                             ready_timeout=30)}
        if request.param == "mimic-server-error":
            return Failing(good, {**good, "metadata": {"server_error": "1"}},
                           ("went to ERROR instead of ACTIVE",), mimic_inventory(cloud))
        return Failing(good, {**good, "metadata": {"create_server_failure": QUOTA}},
                       ("403", "Quota exceeded for instances (injected by the test)"), mimic_inventory(cloud))
    moto = request.getfixturevalue("moto")
    good = {"driver": "ec2", "agent": False, **moto.driver_config()}
    return Failing(good, {**good, "image": UNKNOWN_AMI}, ("InvalidAMIID.NotFound", UNKNOWN_AMI),
                   moto_inventory(moto))


def test_a_node_the_cloud_fails_fails_submit_naming_it_and_the_rollback_leaves_nothing(failing, cloud_platform,
                                                                                       tmp_path):
    platform = cloud_platform({"good": failing.good, "bad": failing.bad})
    manifest = tmp_path / "failing.xml"
    manifest.write_text(three("failing", tmp_path / "never-written.log", failing_on="bad"))
    result = accords("submit", str(manifest), "--wait", "--json", data=platform.data, timeout=180)
    assert result.returncode == 1, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["state"] == "failed"
    assert report["message"].startswith("node app failed: bad refused to create the node: "), report["message"]
    for reason in failing.reasons:
        assert reason in report["message"], report["message"]
    providers = {node["name"]: node["provider"] for node in report["nodes"]}
    assert providers["app"] == "bad" and providers["db"] == "good", providers

    def rolled_back():
        status = json.loads(accords("status", "failing", "--json", data=platform.data).stdout)
        return status if {node["state"] for node in status["nodes"]} == {"deleted"} else None

    final = eventually(rolled_back, timeout=90, every=0.5)
    assert final is not None, "the rollback did not delete every node"
    assert final["state"] == "failed" and final["message"].endswith("rolled back: every node was deleted")
    assert final["message"].startswith("node app failed: ")
    assert eventually(lambda: failing.inventory.live() == [], timeout=30), failing.inventory.live()
