"""kill -9 of the provisioning component (master and workers) in the middle of a 20-node deployment
on moto, then a restart: the service ends running or cleanly rolled back, and moto holds no
instance that no contract owns, none twice for one contract, and none untagged."""
from __future__ import annotations

import json

import pytest

from tests.e2e.clouds import (CONTRACT_TAG, cloud_platform, contract_id, moto_inventory,  # noqa: F401 - fixture
                              service_contracts, service_events, slow_answers, three)
from tests.e2e.test_cli_security import accords, as_json, eventually
from tests.e2e.test_cli_services import _kill_tree

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

#: RunInstances answers this late (through slow_answers), so that the kill finds creations in flight.
CREATE_DELAY = 1.0


def _twenty(tmp_path) -> str:
    extra = "".join(f'<node name="n{i:02d}" infrastructure=":small" image=":debian"/>' for i in range(1, 18))
    return three("twenty", tmp_path / "never-written.log").replace('<node name="app"', extra + '<node name="app"')


def _owned_exactly_once(moto, platform, service: str) -> tuple[list, dict]:
    """moto's live instances and the service's contracts; asserts that each instance belongs to a
    live contract that references it, and no contract has two."""
    live = moto_inventory(moto).live()        # every live instance in moto, tagged by us or not
    contracts = {r["id"]: r["attributes"] for r in service_contracts(platform, service)}
    assert all(CONTRACT_TAG in node.tags for node in live), f"stray instances: {live}"
    tagged = [node.tags[CONTRACT_TAG] for node in live]
    assert len(tagged) == len(set(tagged)), f"a contract with two instances: {live}"
    for node in live:
        contract = contracts.get(node.tags[CONTRACT_TAG])
        assert contract is not None, f"{node.id} belongs to no contract of the service"
        assert contract["occi.contract.state"] != "deleted", f"{node.id} outlived its contract"
        assert contract["occi.contract.reference"] == node.id, (node, contract)
    return live, contracts


def test_provisioning_killed_mid_20_node_deployment_on_moto_leaks_nothing(moto, cloud_platform, serve, tmp_path):
    with slow_answers(moto.url, action="RunInstances", delay=CREATE_DELAY) as endpoint:
        config = {**moto.driver_config(endpoint_url=endpoint), "ready_timeout": 30, "poll_interval": 0.2}
        platform = cloud_platform({"aws": {"driver": "ec2", "agent": False, **config}})
        manifest = tmp_path / "twenty.xml"
        manifest.write_text(_twenty(tmp_path))
        report = as_json(accords("submit", str(manifest), "--provider", "aws", "--json", data=platform.data,
                                 timeout=120))
        service = report["service"]
        inventory = moto_inventory(moto)
        # Some instances exist, more are being created: kill the whole component hard.
        assert eventually(lambda: len(inventory.ours()) >= 2, timeout=90, every=0.05), "nothing was created"
        provisioning = platform.servers["provisioning"]
        _kill_tree(provisioning.process.pid)
        provisioning.process.wait(timeout=10)
        # moto holds instances whose RunInstances answers were still on their way: lost now.
        at_kill = json.loads(accords("status", service, "--json", data=platform.data).stdout)
        assert at_kill["state"] == "deploying", at_kill
        assert sum(node["state"] == "running" for node in at_kill["nodes"]) < 20, at_kill
        platform.servers["provisioning"] = serve("provisioning", "--publisher", platform.publisher.url,
                                                 data=platform.data, workers=2)

        seen = {}

        def settled():
            seen.update(json.loads(accords("status", service, "--json", data=platform.data).stdout))
            return seen if seen["state"] in ("running", "failed") else None

        # A contract a killed worker held is taken over once its lease (120 s) runs out.
        final = eventually(settled, timeout=300, every=1.0)
        assert final is not None, ("the service never settled after the restart", seen, [
            {k: c["attributes"].get(k) for k in ("occi.contract.name", "occi.contract.state", "occi.contract.lease",
                                                  "occi.contract.message")}
            for c in service_contracts(platform, service)])
        live, contracts = _owned_exactly_once(moto, platform, service)
        assert len(contracts) == 20
        # The instances whose answers the kill lost were found by their contract tag and adopted.
        adopted = [e for e in service_events(platform, service) if e["occi.event.what"] == "adopt"]
        assert adopted, "no instance was adopted after the restart"
        if final["state"] == "running":
            assert {node["state"] for node in final["nodes"]} == {"running"}
            assert len(live) == 20 and {node.state for node in live} == {"running"}
            assert {node.tags[CONTRACT_TAG] for node in live} == {contract_id(node) for node in final["nodes"]}
        else:                                   # rolled back: every node deleted, nothing left in moto
            assert eventually(lambda: moto_inventory(moto).live() == [], timeout=60), final
        deleted = as_json(accords("delete", service, "--wait", "--json", data=platform.data, timeout=180))
        assert deleted["state"] in ("deleted", "failed") and {n["state"] for n in deleted["nodes"]} == {"deleted"}
        assert eventually(lambda: inventory.live() == [], timeout=30), inventory.live()
