"""The OGF IaaS face in process: a plain OCCI compute becomes a real local node (an agent process),
its actions reach the node, and deleting it leaves no node behind."""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
import requests

from broker.providers.local import LocalDriver
from tests.cords.platform import delete_local_nodes, start_platform

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
ACTION = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
LOCAL_OS = "http://accords.example/occi/templates/local/os#local"
LOCAL_SIZE = "http://accords.example/occi/templates/local/resource#local"
SPARE_SIZE = "http://accords.example/occi/templates/spare/resource#local"
SMALL = "http://accords.example/occi/templates#small"
HEADERS = {"Authorization": "Bearer alice-token", "Accept": "application/occi+json",
           "Content-Type": "application/occi+json"}


@pytest.fixture
def platform(tmp_path):
    data = tmp_path / "provisioning"
    data.mkdir()
    # Two providers on this machine, so that a template's provider is seen to decide placement.
    (data / "providers.json").write_text(json.dumps({
        "local": {"driver": "local"}, "spare": {"driver": "local", "root": str(data / "spare-nodes")}}))
    started = start_platform(tmp_path, broker=False, provisioning=True,
                             reconciler={"interval": 0.05, "backoff": 0.1})
    yield started
    started.stop()
    delete_local_nodes(data / "spare-nodes")


def _nodes(tmp_path, root: str = "nodes") -> list:
    path = tmp_path / "provisioning" / root
    return LocalDriver(root=path).list() if path.exists() else []


def _create(platform, *, mixins=(), attributes=None, links=()) -> requests.Response:
    body = {"kind": INFRA + "compute", "mixins": list(mixins), "attributes": attributes or {}}
    if links:
        body["links"] = list(links)
    return requests.post(f"{platform.provisioning}/compute/", json=body, headers=HEADERS, timeout=30)


def _get(url: str) -> dict:
    answer = requests.get(url, headers=HEADERS, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait(url: str, state: str, *, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = _get(url)
        if found["attributes"]["occi.compute.state"] == state:
            return found
        assert time.monotonic() < deadline, f"still {found['attributes']}"
        time.sleep(0.05)


def _act(url: str, term: str) -> requests.Response:
    return requests.post(url, params={"action": term}, json={"action": ACTION + term}, headers=HEADERS, timeout=30)


def _gone(check, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_the_query_interface_offers_each_providers_images_and_sizes(platform):
    mixins = {m["scheme"] + m["term"]: m for m in _get(f"{platform.provisioning}/-/")["mixins"]}
    local = LocalDriver(root="/tmp").sizes()[0]
    for provider in ("local", "spare"):
        os_tpl = mixins[f"http://accords.example/occi/templates/{provider}/os#local"]
        size = mixins[f"http://accords.example/occi/templates/{provider}/resource#local"]
        assert os_tpl["depends"] == [INFRA + "os_tpl"] and size["depends"] == [INFRA + "resource_tpl"]
        assert os_tpl["location"] == f"/mixin/os_tpl/{provider}/local/"
        assert size["attributes"]["occi.compute.cores"]["default"] == local.cores
        assert size["attributes"]["occi.compute.memory"]["default"] == round(local.memory_mb / 1024, 3)
        assert f"provider {provider}" in size["title"]
    assert SMALL in mixins                        # provider-neutral templates remain


def test_a_compute_with_templates_runs_as_a_local_node_and_follows_its_actions(platform, tmp_path):
    created = _create(platform, mixins=[LOCAL_OS, LOCAL_SIZE], attributes={"occi.core.title": "web"})
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    body = created.json()
    assert body["attributes"]["occi.compute.state"] == "inactive"
    assert "http://accords.example/occi/iaas#node" in body["mixins"]
    contract_url = body["attributes"]["accords.node.contract"]

    compute = _wait(url, "active")["attributes"]
    contract = _get(contract_url)["attributes"]
    assert contract["occi.contract.service"] == urlsplit(url).path            # the compute is the service
    assert contract["occi.contract.placed"] == "local" and contract["occi.contract.state"] == "running"
    [node] = _nodes(tmp_path)
    assert node.id == compute["accords.node.reference"] and node.state == "running"
    assert compute["occi.compute.hostname"] == "127.0.0.1" and compute["accords.node.addresses"] == ["127.0.0.1"]
    assert requests.get(f"{node.agent_url}/healthz", timeout=5).status_code == 200     # a real agent answers
    assert _nodes(tmp_path, "spare-nodes") == []

    assert _act(url, "stop").status_code == 200
    assert _wait(url, "inactive")["attributes"]["accords.node.state"] == "stopped"
    assert [n.state for n in _nodes(tmp_path)] == ["stopped"]
    assert _act(url, "start").status_code == 200
    _wait(url, "active")
    assert [n.state for n in _nodes(tmp_path)] == ["running"]
    assert _act(url, "suspend").status_code == 200
    assert "suspended" in _wait(url, "suspended")["attributes"]["occi.compute.state.message"]
    assert [n.state for n in _nodes(tmp_path)] == ["stopped"]
    assert _act(url, "start").status_code == 200
    _wait(url, "active")
    before = _nodes(tmp_path)[0].agent_url
    assert _act(url, "restart").status_code == 200
    _gone(lambda: _get(contract_url)["attributes"]["occi.contract.run"] == 4)       # create, start, start, restart
    _wait(url, "active")
    assert [n.state for n in _nodes(tmp_path)] == ["running"] and _nodes(tmp_path)[0].agent_url != before

    saved = _act(url, "save")
    assert saved.status_code == 501 and "save" in saved.json()["error"]["message"]
    resized = requests.post(url, json={"kind": INFRA + "compute", "attributes": {"occi.compute.cores": 64}},
                            headers=HEADERS, timeout=10)
    assert resized.status_code == 409 and resized.json()["error"]["code"] == "compute-placed"

    assert requests.delete(url, headers=HEADERS, timeout=10).status_code == 200
    assert requests.get(url, headers=HEADERS, timeout=10).status_code == 404
    _gone(lambda: _nodes(tmp_path) == [])
    _gone(lambda: requests.get(contract_url, headers=HEADERS, timeout=10).status_code == 404)


def test_the_template_provider_places_the_node_and_plain_attributes_size_it(platform, tmp_path):
    spare = _create(platform, mixins=[SPARE_SIZE])
    assert spare.status_code == 201, spare.text
    plain = _create(platform, attributes={"occi.compute.cores": 1, "occi.compute.memory": 0.5})
    assert plain.status_code == 201, plain.text
    for answer, provider in ((spare, "spare"), (plain, "local")):
        contract = _get(answer.json()["attributes"]["accords.node.contract"])["attributes"]
        assert contract["occi.contract.provider"] == ("spare" if provider == "spare" else "any")
        _wait(answer.headers["Location"], "active")
        assert _get(answer.json()["attributes"]["accords.node.contract"])["attributes"][
            "occi.contract.placed"] == provider
    plain_node = _get(plain.json()["attributes"]["accords.node.contract"])["attributes"]["occi.contract.node"]
    assert plain_node["infrastructure"]["compute"] == {"cores": 1, "memory": "512M"}
    assert len(_nodes(tmp_path, "spare-nodes")) == 1 and len(_nodes(tmp_path)) == 1

    mixed = _create(platform, mixins=[LOCAL_OS, SPARE_SIZE])
    assert mixed.status_code == 400 and mixed.json()["error"]["code"] == "templates-of-two-providers"
    assert "spare" in mixed.json()["error"]["message"] and "local" in mixed.json()["error"]["message"]
    for answer in (spare, plain):
        assert requests.delete(answer.headers["Location"], headers=HEADERS, timeout=10).status_code == 200
    _gone(lambda: _nodes(tmp_path) == [] and _nodes(tmp_path, "spare-nodes") == [])


def test_a_networkinterface_shows_the_nodes_address(platform):
    network = requests.post(f"{platform.provisioning}/network/", json={"kind": INFRA + "network"}, headers=HEADERS,
                            timeout=10)
    assert network.status_code == 201, network.text
    created = _create(platform, mixins=[SMALL], links=[{"kind": INFRA + "networkinterface",
                                                        "target": {"location": network.headers["Location"],
                                                                   "kind": INFRA + "network"}}])
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    _wait(url, "active")
    [link] = [link for link in _get(url)["links"] if link["kind"] == INFRA + "networkinterface"]
    assert link["attributes"]["occi.networkinterface.address"] == "127.0.0.1"
    assert link["attributes"]["occi.networkinterface.state"] == "active"
    assert INFRA.replace("#", "/networkinterface#") + "ipnetworkinterface" in link["mixins"]
    # One made once the node runs gets the address at once.
    later = requests.post(f"{platform.provisioning}/link/networkinterface/", headers=HEADERS, timeout=10, json={
        "kind": INFRA + "networkinterface", "source": {"location": url},
        "target": {"location": network.headers["Location"]}})
    assert later.status_code == 201, later.text
    assert later.json()["attributes"]["occi.networkinterface.address"] == "127.0.0.1"
    assert requests.delete(url, headers=HEADERS, timeout=10).status_code == 200
