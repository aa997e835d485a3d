"""A provider added through OCCI is used by the running reconciler at once: parser, broker,
publisher and provisioning over real HTTP, the node on a local provider with its own root."""
from __future__ import annotations

import time

import pytest
import requests

from broker.providers.local import LocalDriver
from broker.provisioning.provider_model import P, PROVIDER
from tests.cords.platform import delete_local_nodes, start_platform

ALICE = {"Authorization": "Bearer alice-token", "Accept": "application/json", "Content-Type": "application/json"}
ADMIN = {**ALICE, "Authorization": "Bearer admin-token"}
INSTANCE = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#instance"
SERVICE_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/service/action#"

SOLO = """<manifest name="solo">
  <node name="solo" provider="edge"><infrastructure name=":tiny"><compute name=":one" cores="1" memory="256M"/>
    <network name=":lan"/><storage name=":disk" size="1G"/></infrastructure><image name=":deb"><system name="debian"/></image></node>
  <configuration><action expression="solo.system('echo placed > {marker}');"/></configuration>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path, provisioning=True, reconciler={"interval": 0.1, "backoff": 0.1})
    yield started
    started.stop()
    delete_local_nodes(tmp_path / "edge-nodes")


def _service_state(url: str, *states: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        service = requests.get(url, headers=ALICE, timeout=10).json()["attributes"]
        if service["occi.service.state"] in states:
            return service
        assert time.monotonic() < deadline, f"still {service['occi.service.state']}: {service}"
        time.sleep(0.1)


def test_a_contract_is_placed_on_a_provider_added_through_the_api(platform, tmp_path):
    root = tmp_path / "edge-nodes"
    made = requests.post(f"{platform.provisioning}/provider/", headers=ADMIN, timeout=10, json={
        "kind": PROVIDER.type_id, "attributes": {P + "name": "edge", P + "driver": "local",
                                                 P + "options": {"root": str(root)}}})
    assert made.status_code == 201, made.text

    marker = tmp_path / "marker"
    answer = platform.submit(SOLO.format(marker=marker).encode(), name="solo.xml")
    assert answer.status_code == 201, answer.text
    instance = requests.post(answer.json()["plan"], params={"action": "instance"}, json={"action": INSTANCE},
                             headers=ALICE, timeout=30)
    assert instance.status_code == 200, instance.text
    service_url = instance.headers["Location"]
    service = _service_state(service_url, "running", "failed")
    assert service["occi.service.state"] == "running", service
    assert service["occi.service.nodes"]["solo"]["provider"] == "edge"
    nodes = LocalDriver(root=root).list()
    assert len(nodes) == 1 and nodes[0].state == "running"          # under the provider's own root
    assert marker.read_text().strip() == "placed"

    refused = requests.delete(f"{platform.provisioning}/provider/edge", headers=ADMIN, timeout=10)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "provider-in-use"
    deleting = requests.post(service_url, params={"action": "delete"}, json={"action": SERVICE_ACTIONS + "delete"},
                             headers=ALICE, timeout=30)
    assert deleting.status_code == 200, deleting.text
    _service_state(service_url, "deleted")
    assert LocalDriver(root=root).list() == []
    assert requests.delete(f"{platform.provisioning}/provider/edge", headers=ADMIN, timeout=10).status_code == 200
