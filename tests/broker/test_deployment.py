"""Complex nodes (nested services) and common nodes (shared, reference-counted contracts), end to
end over real HTTP with the local provider: the nodes are agent processes, scripts really run."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from broker.providers.local import LocalDriver
from tests.broker.test_services import HEADERS, INSTANCE, _act, _service, _wait
from tests.cords.platform import start_platform

INNER = """<manifest name="inner">
  <node name="db" provider="local"><infrastructure name=":small"><compute name=":cpu" cores="1" memory="512M"/>
    <network name=":net"/><storage name=":disk" size="1G"/></infrastructure>
    <image name=":debian"><system name="debian"/></image></node>
  <node name="api" infrastructure=":small" image=":debian"/>
  <configuration>
    <action expression="api.configure(db.hostname); api.system('{api_command}');"/>
    <action expression="db.system('echo inner.db >> {log}');"/>
  </configuration>
  <interface><action name="ping" expression="api.system('true');"/></interface>
</manifest>"""

OUTER = """<manifest name="{name}">
  <node name="in" type="inner"/>
  <node name="cache" scope="common" infrastructure="inner:small" image="inner:debian"/>
  <node name="web" infrastructure="inner:small" image="inner:debian"/>
  <configuration>
    <action expression="web.configure(in.db.hostname); web.configure(cache.hostname);
                        web.system('echo web $in_db_hostname $cache_hostname >> {log}');"/>
    <action expression="cache.system('echo cache >> {log}');"/>
  </configuration>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path, provisioning=True, reconciler={"interval": 0.1, "backoff": 0.1})
    yield started
    started.stop()


def _plans(platform, tmp_path, *, api_command: str | None = None, name: str = "outer") -> str:
    log = tmp_path / "order.log"
    inner = INNER.format(log=log, api_command=api_command or f"echo inner.api $db_hostname >> {log}")
    assert platform.submit(inner.encode(), name="inner.xml").status_code == 201
    answer = platform.submit(OUTER.format(name=name, log=log).encode(), name=f"{name}.xml")
    assert answer.status_code == 201, answer.text
    return answer.json()["plan"]


def _instance(plan: str, **parameters) -> str:
    body = {"action": INSTANCE, **({"attributes": parameters} if parameters else {})}
    made = requests.post(plan, params={"action": "instance"}, json=body, headers=HEADERS, timeout=30)
    assert made.status_code == 200, made.text
    return made.headers["Location"]


def _nodes(tmp_path) -> list:
    root = tmp_path / "provisioning" / "nodes"
    return LocalDriver(root=root).list() if root.exists() else []


def _until(predicate, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def test_a_complex_node_is_a_nested_service_whose_nodes_the_parent_reads(platform, tmp_path):
    service_url = _instance(_plans(platform, tmp_path))
    service = _wait(service_url, "running", "failed")
    assert service["occi.service.state"] == "running", service["occi.service.message"]
    nodes = service["occi.service.nodes"]
    assert nodes["in"]["nested"] is True and nodes["in"]["state"] == "running"
    child = _service(nodes["in"]["service"])
    assert child["occi.service.parent"] == service_url and child["occi.service.node"] == "in"
    assert child["occi.service.name"] == "outer.in" and child["occi.service.state"] == "running"
    assert set(child["occi.service.nodes"]) == {"db", "api"}
    # inner.db before inner.api (which reads it); web last, with the nested db's and the shared
    # cache's addresses: the configuration read across the complex node.
    lines = (tmp_path / "order.log").read_text().splitlines()
    assert lines.index("inner.db") < lines.index("inner.api 127.0.0.1")
    web = lines.index("web 127.0.0.1 127.0.0.1")
    assert web > lines.index("inner.db") and web > lines.index("cache")
    assert len(_nodes(tmp_path)) == 4

    # The child's contracts say where they sit in the tree.
    api = requests.get(child["occi.service.nodes"]["api"]["contract"], headers=HEADERS, timeout=10).json()
    assert api["attributes"]["occi.contract.path"] == "in.api"
    assert api["attributes"]["occi.contract.group"] == service_url

    assert _act(service_url, "stop").status_code == 200
    _wait(service_url, "stopped")
    assert _service(nodes["in"]["service"])["occi.service.state"] == "stopped"
    assert {i.state for i in _nodes(tmp_path)} == {"stopped"}

    deleting = _act(service_url, "delete")
    assert deleting.status_code == 200, deleting.text
    _wait(service_url, "deleted")
    _until(lambda: _nodes(tmp_path) == [], what="every node deleted")
    # A nested service goes with its parent, not on its own.
    assert requests.delete(nodes["in"]["service"], headers=HEADERS, timeout=10).status_code == 409
    assert requests.delete(service_url, headers=HEADERS, timeout=10).status_code == 200
    assert requests.get(nodes["in"]["service"], headers=HEADERS, timeout=10).status_code == 404


def test_a_failure_inside_a_nested_service_fails_and_rolls_back_the_whole_deployment(platform, tmp_path):
    service_url = _instance(_plans(platform, tmp_path, api_command="echo nope >&2; exit 4"))
    service = _wait(service_url, "failed")
    assert service["occi.service.message"].startswith("node in failed: node api failed"), service
    assert "exit 4" in service["occi.service.message"]
    _until(lambda: _nodes(tmp_path) == [], what="rollback of every node, nested and not")
    service = _until(lambda: (s := _service(service_url)) and "rolled back" in (s["occi.service.message"] or "")
                     and s, what="the parent says it rolled back")
    assert service["occi.service.state"] == "failed"


def test_a_common_node_is_shared_by_services_and_deleted_by_the_last_one(platform, tmp_path):
    plan = _plans(platform, tmp_path)
    first, second = _instance(plan), _instance(plan)
    a, b = _wait(first, "running", "failed"), _wait(second, "running", "failed")
    assert a["occi.service.state"] == b["occi.service.state"] == "running", (a, b)
    cache_a, cache_b = a["occi.service.nodes"]["cache"], b["occi.service.nodes"]["cache"]
    assert cache_a["contract"] == cache_b["contract"] and cache_a["reference"] == cache_b["reference"]
    assert cache_a["shared"] is True
    # Two services of 3 own nodes each (web, in.db, in.api) and one cache between them.
    assert len(_nodes(tmp_path)) == 7
    contract = requests.get(cache_a["contract"], headers=HEADERS, timeout=10).json()["attributes"]
    assert [u["service"] for u in contract["occi.contract.users"]] == [first, second]

    assert _act(first, "delete").status_code == 200
    done = _wait(first, "deleted")
    assert done["occi.service.nodes"]["cache"]["released"] is True
    _until(lambda: len(_nodes(tmp_path)) == 4, what="the first service's own nodes deleted")
    assert cache_a["reference"] in {i.id for i in _nodes(tmp_path)}
    assert _service(second)["occi.service.state"] == "running"

    assert _act(second, "delete").status_code == 200
    _wait(second, "deleted")
    _until(lambda: _nodes(tmp_path) == [], what="the last user deleted the shared node")
    contract = requests.get(cache_a["contract"], headers=HEADERS, timeout=10).json()["attributes"]
    assert contract["occi.contract.state"] == "deleted"


def test_a_stopped_user_releases_a_shared_node_only_when_it_is_the_last(platform, tmp_path):
    plan = _plans(platform, tmp_path)
    first, second = _instance(plan), _instance(plan)
    _wait(first, "running"), _wait(second, "running")
    assert _act(first, "stop").status_code == 200
    stopped = _wait(first, "stopped")
    assert stopped["occi.service.nodes"]["cache"]["state"] == "stopped"
    cache = stopped["occi.service.nodes"]["cache"]["reference"]
    assert next(i for i in _nodes(tmp_path) if i.id == cache).state == "running"      # second still uses it
    started = _act(first, "start")
    assert started.status_code == 200, started.text
    restarted = _wait(first, "running", "failed")
    assert restarted["occi.service.state"] == "running", restarted["occi.service.message"]
    assert restarted["occi.service.nodes"]["cache"]["reference"] == cache
    for url in (first, second):
        assert _act(url, "delete").status_code == 200
        _wait(url, "deleted")
    _until(lambda: _nodes(tmp_path) == [], what="every node deleted")


def test_a_shared_node_cannot_read_one_services_node(platform, tmp_path):
    log = tmp_path / "order.log"
    assert platform.submit(INNER.format(log=log, api_command="true").encode(), name="inner.xml").status_code == 201
    manifest = """<manifest name="leaky">
  <node name="cache" scope="common" infrastructure="inner:small" image="inner:debian"/>
  <node name="web" infrastructure="inner:small" image="inner:debian"/>
  <configuration><action expression="cache.configure(web.hostname);"/></configuration>
</manifest>"""
    answer = platform.submit(manifest.encode(), name="leaky.xml")
    assert answer.status_code == 201, answer.text
    refused = requests.post(answer.json()["plan"], params={"action": "instance"}, json={"action": INSTANCE},
                            headers=HEADERS, timeout=30)
    assert refused.status_code == 400 and "common-reads-private" in refused.text, refused.text
    assert "web" in refused.json()["error"]["message"]
    # Nothing was kept: no service, no nested service, no contract left wanting a node.
    assert requests.get(f"{platform.broker}/service/", headers=HEADERS, timeout=10).json().get("resources", []) == []
    contracts = requests.get(f"{platform.provisioning}/contract/", headers=HEADERS, timeout=10).json()
    assert all(c["attributes"]["occi.contract.desired"] == "deleted" for c in contracts.get("resources", []))


def test_events_of_a_shared_node_say_who_attached_and_detached(platform, tmp_path):
    plan = _plans(platform, tmp_path)
    first, second = _instance(plan), _instance(plan)
    a = _wait(first, "running")
    _wait(second, "running")
    contract = urlsplit(a["occi.service.nodes"]["cache"]["contract"]).path
    assert _act(first, "delete").status_code == 200
    _wait(first, "deleted")
    events = requests.get(f"{platform.provisioning}/event/", timeout=10, headers={
        **HEADERS, "X-OCCI-Attribute": f'occi.event.contract="{contract}"'}).json()["resources"]
    messages = [(e["attributes"]["occi.event.what"], e["attributes"]["occi.event.message"]) for e in events]
    assert any(what == "attach" and second in message for what, message in messages), messages
    assert any(what == "detach" and first in message and "1 user(s) left" in message for what, message in messages)
    for url in (second,):
        _act(url, "delete")
        _wait(url, "deleted")


def _scale(url: str, term: str, **parameters) -> requests.Response:
    body = {"action": f"http://scheme.compatibleone.fr/scheme/compatible/service/action#{term}",
            "attributes": parameters}
    return requests.post(url, params={"action": term}, json=body, headers=HEADERS, timeout=60)


def test_scaling_a_node_up_adds_configured_copies_and_down_removes_the_newest(platform, tmp_path):
    service_url = _instance(_plans(platform, tmp_path))
    _wait(service_url, "running")
    assert _scale(service_url, "scaleup", node="web", count=2).status_code == 200
    service = _wait(service_url, "running", "failed")
    assert service["occi.service.state"] == "running", service["occi.service.message"]
    nodes = service["occi.service.nodes"]
    assert nodes["web-2"]["copy_of"] == "web" and nodes["web-3"]["state"] == "running"
    assert nodes["web-2"]["reference"] != nodes["web"]["reference"]
    # Each copy ran the node's configuration, reading the nested db and the shared cache.
    assert (tmp_path / "order.log").read_text().splitlines().count("web 127.0.0.1 127.0.0.1") == 3
    assert len(_nodes(tmp_path)) == 6

    assert _scale(service_url, "scaledown", node="web").status_code == 200
    service = _until(lambda: (s := _service(service_url)) and s["occi.service.nodes"]["web-3"]["state"] == "deleted"
                     and s, what="the newest copy deleted")
    assert service["occi.service.nodes"]["web-2"]["state"] == "running"
    assert _wait(service_url, "running")["occi.service.state"] == "running"
    assert nodes["web-3"]["reference"] not in {i.id for i in _nodes(tmp_path)}

    refused = _scale(service_url, "scaleup", node="nope")
    assert refused.status_code == 400 and "unknown-node" in refused.text
    refused = _scale(service_url, "scaleup", node="in")
    assert refused.status_code == 409 and "node-does-not-scale" in refused.text
    assert _scale(service_url, "scaledown", node="web", count=5).status_code == 200      # web-2 only
    _until(lambda: _service(service_url)["occi.service.nodes"]["web-2"]["state"] == "deleted", what="web-2 gone")
    refused = _scale(service_url, "scaledown", node="web")
    assert refused.status_code == 409 and "never removes the node itself" in refused.text
    assert _act(service_url, "delete").status_code == 200
    _wait(service_url, "deleted")
    _until(lambda: _nodes(tmp_path) == [], what="every node deleted")


def test_a_failed_copy_fails_the_service_without_rolling_it_back_and_scaling_down_recovers(platform, tmp_path):
    log = tmp_path / "order.log"
    flag = tmp_path / "broken"
    service_url = _instance(_plans(platform, tmp_path, api_command=f"test ! -e {flag} && echo api >> {log}"))
    _wait(service_url, "running")
    child = _service(service_url)["occi.service.nodes"]["in"]["service"]
    flag.write_text("")
    assert _scale(child, "scaleup", node="api").status_code == 200
    failed = _wait(child, "failed")
    assert failed["occi.service.nodes"]["api-2"]["state"] == "failed"
    assert failed["occi.service.nodes"]["api"]["state"] == "running"          # nothing rolled back
    assert _wait(service_url, "failed")["occi.service.message"].startswith("node in failed: node api-2 failed")
    assert _scale(child, "scaledown", node="api").status_code == 200
    assert _wait(child, "running")["occi.service.state"] == "running"
    assert _wait(service_url, "running")["occi.service.state"] == "running"
    deleting = _act(service_url, "delete")
    assert deleting.status_code == 200, deleting.text
    _wait(service_url, "deleted")


def test_snapshot_and_save_take_an_image_of_every_own_node_nested_ones_too(platform, tmp_path):
    service_url = _instance(_plans(platform, tmp_path))
    service = _wait(service_url, "running")
    asked = _scale(service_url, "snapshot", name="before")
    assert asked.status_code == 200, asked.text

    def images(url: str) -> list:
        return requests.get(url, headers=HEADERS, timeout=10).json()["attributes"].get("occi.contract.images") or []

    child = _service(service["occi.service.nodes"]["in"]["service"])
    contracts = {"web": service["occi.service.nodes"]["web"]["contract"],
                 "in.db": child["occi.service.nodes"]["db"]["contract"],
                 "in.api": child["occi.service.nodes"]["api"]["contract"]}
    for path, url in contracts.items():
        taken = _until(lambda: images(url), what=f"an image of {path}")
        assert taken[0]["name"] == f"before-{path}" and taken[0]["provider"] == "local" and not taken[0]["save"]
        # The local provider's image is a copy of the node's directory.
        assert (tmp_path / "provisioning" / "nodes" / "snapshots" / taken[0]["image"]).is_dir()
    cache = service["occi.service.nodes"]["cache"]["contract"]
    assert images(cache) == []                      # shared: not this service's alone to image

    assert _act(service_url, "stop").status_code == 200
    _wait(service_url, "stopped")
    assert _scale(service_url, "save").status_code == 200
    saved = _until(lambda: len(images(contracts["web"])) == 2 and images(contracts["web"]),
                   what=f"a saved image of {requests.get(contracts['web'], headers=HEADERS, timeout=10).text}")
    assert saved[1]["save"] is True
    web = requests.get(contracts["web"], headers=HEADERS, timeout=10).json()["attributes"]
    assert web["occi.contract.image"] == saved[1]["image"]
    assert _service(service_url)["occi.service.state"] == "stopped"    # an image changes no state

    _act(service_url, "delete")
    _wait(service_url, "deleted")
    refused = _scale(service_url, "snapshot")
    assert refused.status_code == 400 and "action-not-applicable" in refused.text
