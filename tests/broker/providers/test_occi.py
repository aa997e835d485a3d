"""The ``occi`` driver against a real second accords: a provisioning component in this process
(its reconciler and the local provider: every node an agent process), served over HTTP on
127.0.0.1. That is federation: our nodes are computes there, and theirs are real nodes."""
from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import requests

from broker import components
from broker.components import Peers
from broker.providers import InstanceNotFound, NodeSpec, ProviderRefused, ProviderUnavailable, create_driver
from broker.providers.base import CONTRACT_TAG
from broker.providers.local import LocalDriver
from occi.auth import StaticCredentials
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.broker.providers.contract import DriverContract
from tests.cords.platform import delete_local_nodes, start_platform
from tests.livehttp import serve_wsgi

TOKEN = "remote-token-0123456789"
INFRA = "http://schemas.ogf.org/occi/infrastructure#"


class Remote:
    def __init__(self, url: str, data):
        self.url, self.data = url, data

    def nodes(self) -> list:
        return LocalDriver(root=self.data / "nodes").list() if (self.data / "nodes").exists() else []

    def computes(self) -> list[dict]:
        answer = requests.get(f"{self.url}/compute/", timeout=10, headers={
            "Authorization": f"Bearer {TOKEN}", "Accept": "application/occi+json"})
        assert answer.status_code == 200, answer.text
        return answer.json().get("resources", [])


@pytest.fixture
def remote(tmp_path):
    """Another accords' provisioning component, alone (no publisher: its computes report to themselves)."""
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="federation", name="peer", roles=frozenset({"provider"})))
    store = open_store(tmp_path / "remote.db")
    component = components.load("provisioning")
    app = create_app(model=component.model, store=store, hooks=component.hooks, authenticator=credentials,
                     policy=component.policy, component="provisioning")
    component.routes(app, store, None)
    data = tmp_path / "remote"
    data.mkdir()
    stop_engine = component.attach(store, Peers(), data=data, interval=0.05, backoff=0.1)
    url, stop_server = serve_wsgi(app)
    yield Remote(url, data)
    stop_engine()
    delete_local_nodes(data / "nodes")
    stop_server()
    store.close()


@pytest.fixture
def driver(remote):
    occi = create_driver("occi", endpoint=remote.url, token=TOKEN, ready_timeout=60, poll_interval=0.05)
    yield occi
    for instance in occi.list():
        occi.delete(instance.id)
    occi.close()


class TestOcciDriver(DriverContract):
    pass


def _wait(check, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_a_node_is_a_tagged_compute_there_and_a_real_node_behind_it(driver, remote):
    node = driver.create(NodeSpec(name="db", contract="c-1", cores=1, memory_mb=512, image="local",
                                  tags={"accords-owner": "us"}))
    [compute] = remote.computes()
    assert node.id.startswith(remote.url + "/compute/") and node.state == "running"
    assert compute["attributes"]["accords.node.tags"] == {"accords-owner": "us", CONTRACT_TAG: "c-1"}
    assert compute["title"] == "db"
    # The image and the smallest size that fits, of one remote provider (local's own os_tpl).
    assert "http://accords.example/occi/templates/local/os#local" in compute["mixins"]
    assert "http://accords.example/occi/templates#small" in compute["mixins"]
    [behind] = remote.nodes()
    assert behind.state == "running" and node.addresses == ["127.0.0.1"]
    assert node.extra["remote_provider"] == "local"
    assert driver.stop(node.id).state == "stopped" and [n.state for n in remote.nodes()] == ["stopped"]
    assert driver.start(node.id).state == "running" and [n.state for n in remote.nodes()] == ["running"]
    assert driver.delete(node.id) is True
    _wait(lambda: remote.nodes() == [])
    assert remote.computes() == []


def test_sizes_and_images_are_the_remotes_templates(driver):
    images = driver.images()
    assert "local" in images and "debian12" in images
    sizes = {size.name: size for size in driver.sizes()}
    assert (sizes["small"].cores, sizes["small"].memory_mb) == (1, 2048)
    local = LocalDriver(root="/tmp").sizes()[0]
    assert sizes["local"].cores == local.cores
    assert driver.zones() == [driver.endpoint.split("//", 1)[1]]


def test_refusals_and_unreachable_endpoints(driver, remote, caplog):
    with pytest.raises(ProviderRefused) as unknown:
        driver.create(NodeSpec(name="x", contract="c-2", image="no-such-image"))
    assert "no-such-image" in str(unknown.value) and "local" in str(unknown.value)
    assert remote.computes() == []
    with pytest.raises(InstanceNotFound):
        driver.get("http://elsewhere.example/compute/1")
    with pytest.raises(InstanceNotFound):
        driver.get(f"{remote.url}/compute/4b0c2a9e-55a0-4d0c-9d9b-1d5e0e6b0f00")

    caplog.set_level(logging.DEBUG)
    wrong = create_driver("occi", endpoint=remote.url, token="wrong-token-9876543210", ready_timeout=5)
    with pytest.raises(ProviderRefused) as refused:
        wrong.list()
    assert "401" in str(refused.value) and "wrong-token-9876543210" not in str(refused.value)
    assert "wrong-token-9876543210" not in repr(wrong) and TOKEN not in repr(create_driver(
        "occi", endpoint=remote.url, token=TOKEN))
    assert not any("wrong-token-9876543210" in r.getMessage() for r in caplog.records)

    with socket.socket() as sock:                # a bound port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = create_driver("occi", endpoint=f"http://127.0.0.1:{sock.getsockname()[1]}", token=TOKEN,
                               timeout=2)
        with pytest.raises(ProviderUnavailable):
            closed.list()
    with pytest.raises(ProviderRefused):
        create_driver("occi", endpoint="ftp://127.0.0.1/", token=TOKEN)


def test_federation_a_compute_here_is_a_compute_there(remote, tmp_path):
    """This accords' IaaS face on the occi provider: the templates come from the remote, the
    node is a compute there, deleting ours deletes theirs."""
    data = tmp_path / "provisioning"
    data.mkdir()
    (data / "providers.json").write_text(json.dumps({"peer": {
        "driver": "occi", "endpoint": remote.url, "token": TOKEN, "agent": False, "poll_interval": 0.05,
        "ready_timeout": 60}}))
    here = start_platform(tmp_path, broker=False, provisioning=True, reconciler={"interval": 0.05, "backoff": 0.1})
    headers = {"Authorization": "Bearer alice-token", "Accept": "application/occi+json",
               "Content-Type": "application/occi+json"}
    try:
        mixins = {m["scheme"] + m["term"] for m in requests.get(f"{here.provisioning}/-/", headers=headers,
                                                                  timeout=10).json()["mixins"]}
        os_tpl = "http://accords.example/occi/templates/peer/os#local"
        assert os_tpl in mixins and "http://accords.example/occi/templates/peer/resource#small" in mixins
        created = requests.post(f"{here.provisioning}/compute/", headers=headers, timeout=30, json={
            "kind": INFRA + "compute", "mixins": [os_tpl], "attributes": {"occi.core.title": "fed"}})
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        _wait(lambda: requests.get(url, headers=headers, timeout=10).json()["attributes"][
            "occi.compute.state"] == "active")
        ours = requests.get(url, headers=headers, timeout=10).json()["attributes"]
        [theirs] = remote.computes()
        assert ours["accords.node.provider"] == "peer" and ours["accords.node.reference"].startswith(remote.url)
        assert theirs["attributes"]["occi.compute.state"] == "active"
        assert [n.state for n in remote.nodes()] == ["running"]
        assert requests.delete(url, headers=headers, timeout=10).status_code == 200
        _wait(lambda: remote.computes() == [] and remote.nodes() == [])
    finally:
        here.stop()
