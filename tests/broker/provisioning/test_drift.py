"""Drift: ``GET /drift`` at the provisioning component against what the local provider really has,
changed behind the reconciler's back (an agent killed, a node's directory deleted, a tagged node
that no contract owns); and the comparison itself against drivers that fail or do not answer."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from urllib.parse import quote

import pytest
import requests

from broker.providers.base import Instance, InstanceNotFound, NodeSpec, ProviderUnavailable
from broker.providers.local import LocalDriver
from broker.provisioning.drift import inspect
from broker.provisioning.reconciler import OWNER_TAG, SERVICE_TAG
from broker.provisioning.tokens import AgentTokens
from occi.store.base import EntityRecord
from tests.cords.platform import start_platform

HEADERS = {"Authorization": "Bearer alice-token", "Accept": "application/json", "Content-Type": "application/json"}
INSTANCE = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#instance"

TWO = """<manifest name="{name}">
  <node name="db" provider="local"><infrastructure name=":small"><compute name=":cpu" cores="1" memory="512M"/>
    <network name=":net"/><storage name=":disk" size="1G"/></infrastructure>
    <image name=":debian"><system name="debian"/></image></node>
  <node name="app" infrastructure=":small" image=":debian"/>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path, provisioning=True, reconciler={"interval": 0.1, "backoff": 0.1})
    yield started
    started.stop()


def deploy(platform, *, name: str = "two") -> str:
    """A running two-node service's URL."""
    answer = platform.submit(TWO.format(name=name).encode(), name=f"{name}.xml")
    assert answer.status_code == 201, answer.text
    made = requests.post(answer.json()["plan"], params={"action": "instance"}, json={"action": INSTANCE},
                         headers=HEADERS, timeout=30)
    assert made.status_code == 200, made.text
    url = made.headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        state = requests.get(url, headers=HEADERS, timeout=10).json()["attributes"]["occi.service.state"]
        if state in ("running", "failed"):
            assert state == "running"
            return url
        assert time.monotonic() < deadline, f"service still {state}"
        time.sleep(0.1)


def drift(platform, *, token: str = "alice-token", **params) -> requests.Response:
    return requests.get(f"{platform.provisioning}/drift", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


def nodes_root(tmp_path):
    return tmp_path / "provisioning" / "nodes"


def by_node(answer: dict) -> dict:
    return {entry["node"]: entry for entry in answer["nodes"]}


def test_a_running_service_has_no_drift_and_each_node_shows_what_its_provider_reports(platform, tmp_path):
    url = deploy(platform)
    answer = drift(platform, service=url)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["service"] == url and body["drift"] == [] and body["extra"] == [] and body["unknown"] == []
    nodes = by_node(body)
    assert set(nodes) == {"db", "app"}
    references = {i.id for i in LocalDriver(root=nodes_root(tmp_path)).list()}
    for entry in nodes.values():
        assert entry["verdict"] == "ok" and entry["provider"] == "local"
        assert entry["believed"]["state"] == "running" and entry["believed"]["reference"] in references
        assert entry["reported"]["state"] == "running" and entry["reported"]["addresses"] == ["127.0.0.1"]
        assert entry["reported"]["tags"]["accords-contract"]


def test_a_killed_agent_and_a_deleted_node_are_drift(platform, tmp_path):
    url = deploy(platform)
    nodes = by_node(drift(platform, service=url).json())
    driver = LocalDriver(root=nodes_root(tmp_path))
    # Behind the reconciler's back: db's agent dies, app's node disappears whole.
    db_reference = nodes["db"]["believed"]["reference"]
    pid = json.loads((nodes_root(tmp_path) / db_reference / "instance.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while driver.get(db_reference).state == "running":
        assert time.monotonic() < deadline, "the killed agent still counts as running"
        time.sleep(0.05)
    driver.delete(nodes["app"]["believed"]["reference"])

    body = drift(platform, service=url).json()
    nodes = by_node(body)
    assert nodes["db"]["verdict"] == "drift" and nodes["db"]["reported"]["state"] == "error"
    assert "believed running, the provider reports error" in nodes["db"]["message"]
    assert f"pid {pid}" in nodes["db"]["message"]
    assert nodes["app"]["verdict"] == "drift" and nodes["app"]["reported"] == {"state": "absent"}
    assert sorted((d["kind"], d["node"]) for d in body["drift"]) == [("missing", "app"), ("state", "db")]
    # The broker still believes both run: drift is what status shows next to that.
    service = requests.get(url, headers=HEADERS, timeout=10).json()["attributes"]
    assert {n["state"] for n in service["occi.service.nodes"].values()} == {"running"}

    # One contract may be asked about alone.
    one = drift(platform, contract=nodes["app"]["contract"]).json()
    assert [d["kind"] for d in one["drift"]] == ["missing"] and one["service"] == url


def test_a_node_tagged_with_the_service_that_no_contract_owns_is_extra(platform, tmp_path):
    url = deploy(platform)
    other = deploy(platform, name="other")
    owner = AgentTokens.from_settings(tmp_path / "provisioning").token_for("installation")[:16]
    driver = LocalDriver(root=nodes_root(tmp_path))
    stray = driver.create(NodeSpec(name="stray", contract="urn:uuid:00000000-0000-4000-8000-000000000001",
                                   tags={OWNER_TAG: owner, SERVICE_TAG: url[-200:]}))
    # Another installation's node with this service's tag is none of our business.
    driver.create(NodeSpec(name="foreign", contract="urn:uuid:00000000-0000-4000-8000-000000000002",
                           tags={OWNER_TAG: "someone-else", SERVICE_TAG: url[-200:]}))

    body = drift(platform, service=url).json()
    assert [(e["reference"], e["provider"], e["name"]) for e in body["extra"]] == [(stray.id, "local", "stray")]
    assert [(d["kind"], d["reference"]) for d in body["drift"]] == [("extra", stray.id)]
    assert all(entry["verdict"] == "ok" for entry in body["nodes"])
    # The other service knows nothing of it.
    assert drift(platform, service=other).json()["drift"] == []


def test_who_may_ask(platform):
    url = deploy(platform)
    assert drift(platform, token="olga-token", service=url).status_code == 200        # operator: every account
    assert drift(platform, token="service-token", service=url).status_code == 200
    hidden = drift(platform, token="bob-token", service=url)                            # another account
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "no-such-service"
    contract = by_node(drift(platform, service=url).json())["db"]["contract"]
    refused = drift(platform, token="bob-token", contract=contract)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "owner-forbidden"
    assert drift(platform, token="agent-token", service=url).status_code == 403        # agents: no business
    missing = drift(platform)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing-parameter"
    both = drift(platform, service=url, contract=contract)
    assert both.status_code == 400
    assert drift(platform, contract="/contract/nothing-here").status_code == 404
    assert requests.get(f"{platform.provisioning}/drift?service={quote(url)}", timeout=10).status_code == 401


# -- the comparison alone, with drivers injected ------------------------------------------------------
class Cloud:
    def __init__(self, name):
        self.name, self.image, self.agent = name, None, True


class Clouds:
    def __init__(self, drivers: dict):
        self.drivers = drivers

    def get(self, name):
        return Cloud(name) if name in self.drivers else None

    def driver(self, name):
        return self.drivers[name]


class Answering:
    """Reports every node running at 10.0.0.1, and lists what it is given."""

    def __init__(self, listed=()):
        self.listed = list(listed)

    def get(self, reference):
        return Instance(id=reference, name=reference, state="running", addresses=["10.0.0.1"])

    def list(self, *, tags=None):
        return self.listed


class Failing:
    def get(self, reference):
        raise ProviderUnavailable("503 from the API")

    def list(self, *, tags=None):
        raise ProviderUnavailable("503 from the API")


class Hanging:
    def __init__(self):
        self.release = threading.Event()

    def get(self, reference):
        self.release.wait(10)
        raise InstanceNotFound("too late")

    list = lambda self, *, tags=None: self.get("x")          # noqa: E731


def contract(name: str, *, placed: str, state: str = "running", reference: str | None = "n-1",
             hostname: str | None = "10.0.0.1") -> EntityRecord:
    ident = f"urn:uuid:{name}"
    return EntityRecord(location=f"/contract/{name}", id=ident, kind="contract", owner="clinic", attributes={
        "occi.contract.name": name, "occi.contract.placed": placed, "occi.contract.state": state,
        "occi.contract.reference": reference, "occi.contract.hostname": hostname})


def test_a_provider_that_fails_or_hangs_makes_unknown_entries_within_the_timeout():
    hanging = Hanging()
    clouds = Clouds({"good": Answering(), "bad": Failing(), "slow": hanging})
    contracts = [contract("a", placed="good"), contract("b", placed="bad", reference="n-2"),
                 contract("c", placed="slow", reference="n-3")]
    started = time.monotonic()
    try:
        check = inspect(contracts, clouds=clouds, owner="me", service="http://b/service/1", timeout=0.5)
    finally:
        hanging.release.set()
    assert time.monotonic() - started < 3
    nodes = {entry["node"]: entry for entry in check.nodes}
    assert nodes["a"]["verdict"] == "ok"
    assert nodes["b"]["verdict"] == "unknown" and "503 from the API" in nodes["b"]["message"]
    assert nodes["b"]["message"].startswith("unknown, because provider bad")
    assert nodes["c"]["verdict"] == "unknown" and "did not answer within 0.5 s" in nodes["c"]["message"]
    assert check.drift == []
    assert {(u.get("node"), u["provider"]) for u in check.unknown} == {("b", "bad"), ("c", "slow"), (None, "bad"),
                                                                      (None, "slow")}


@pytest.mark.parametrize("state, reported, kind", [
    ("running", Instance(id="n-1", name="n", state="stopped"), "state"),
    ("stopped", Instance(id="n-1", name="n", state="running", addresses=["10.0.0.1"]), "state"),
    ("running", Instance(id="n-1", name="n", state="running", addresses=["10.9.9.9"]), "address"),
    ("deleted", Instance(id="n-1", name="n", state="running", addresses=["10.0.0.1"]), "leftover"),
    ("running", None, "missing"),
    ("creating", None, None),
    ("deleted", None, None),
])
def test_what_counts_as_drift(state, reported, kind):
    class Driver(Answering):
        def get(self, reference):
            if reported is None:
                raise InstanceNotFound("gone")
            return reported

    check = inspect([contract("a", placed="p", state=state)], clouds=Clouds({"p": Driver()}), owner="me",
                    service="http://b/service/1", timeout=2)
    assert [d["kind"] for d in check.drift] == ([kind] if kind else [])


def test_nodes_being_created_are_not_extra_and_a_second_node_of_a_contract_is():
    listed = [Instance(id="n-1", name="a", state="running", tags={"accords-contract": "urn:uuid:a"}),
              Instance(id="n-9", name="a", state="running", tags={"accords-contract": "urn:uuid:a"}),
              Instance(id="n-5", name="b", state="pending", tags={"accords-contract": "urn:uuid:b"})]
    contracts = [contract("a", placed="p"), contract("b", placed="p", state="creating", reference=None)]
    check = inspect(contracts, clouds=Clouds({"p": Answering(listed)}), owner="me", service="s", timeout=2)
    assert [(e["reference"], e["message"]) for e in check.extra] == [("n-9", "its contract records another node")]
