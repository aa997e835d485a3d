"""Services end to end over real HTTP: parser, broker, publisher and provisioning (with its
reconciler and the local provider: every node is an agent process, scripts really run)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from broker.providers.local import LocalDriver
from tests.cords.platform import start_platform

HEADERS = {"Authorization": "Bearer alice-token", "Accept": "application/json", "Content-Type": "application/json"}
INSTANCE = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#instance"
SERVICE_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/service/action#"

THREE = """<manifest name="{name}">
  <node name="db" provider="local"><infrastructure name=":small"><compute name=":cpu" cores="1" memory="512M"/>
    <network name=":net"/><storage name=":disk" size="1G"/></infrastructure>
    <image name=":debian"><system name="debian"/></image></node>
  <node name="app" infrastructure=":small" image=":debian"/>
  <node name="web" access="public" infrastructure=":small" image=":debian"/>
  <configuration>
    <action expression="web.configure(app.hostname); web.system('echo web $app_hostname >> {log}');"/>
    <action expression="db.system('echo db >> {log}');"/>
    <action expression="app.configure(db.hostname); app.system('{app_command}'); app.fork('sleep 300');"/>
  </configuration>
  <release><action expression="app.kill('sleep');"/></release>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path, provisioning=True, reconciler={"interval": 0.1, "backoff": 0.1})
    yield started
    started.stop()


def _submit(platform, tmp_path, *, name="three", app_command=None, **parameters) -> str:
    log = tmp_path / "order.log"
    xml = THREE.format(name=name, log=log, app_command=app_command or f"echo app $db_hostname >> {log}")
    answer = platform.submit(xml.encode(), name=f"{name}.xml")
    assert answer.status_code == 201, answer.text
    plan = answer.json()["plan"]
    body = {"action": INSTANCE, **({"attributes": parameters} if parameters else {})}
    made = requests.post(plan, params={"action": "instance"}, json=body, headers=HEADERS, timeout=30)
    assert made.status_code == 200, made.text
    return made.headers["Location"]


def _service(url: str) -> dict:
    answer = requests.get(url, headers=HEADERS, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["attributes"]


def _wait(url: str, *states: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        service = _service(url)
        if service["occi.service.state"] in states:
            return service
        assert time.monotonic() < deadline, f"still {service['occi.service.state']}: {service}"
        time.sleep(0.1)


def _act(url: str, term: str) -> requests.Response:
    return requests.post(url, params={"action": term}, json={"action": SERVICE_ACTIONS + term}, headers=HEADERS,
                         timeout=60)


def _nodes(tmp_path) -> list:
    root = tmp_path / "provisioning" / "nodes"
    return LocalDriver(root=root).list() if root.exists() else []


def test_a_three_node_service_runs_its_configuration_in_dependency_order(platform, tmp_path):
    service_url = _submit(platform, tmp_path)
    service = _wait(service_url, "running", "failed")
    assert service["occi.service.state"] == "running", service
    lines = (tmp_path / "order.log").read_text().splitlines()
    # Declared web, db, app; run db, then app (reads db), then web (reads app).
    assert lines == ["db", "app 127.0.0.1", "web 127.0.0.1"]
    nodes = service["occi.service.nodes"]
    assert set(nodes) == {"db", "app", "web"}
    for report in nodes.values():
        assert report["state"] == "running" and report["provider"] == "local"
        assert report["agent"].startswith("http://127.0.0.1:") and report["hostname"] == "127.0.0.1"
    assert {i.state for i in _nodes(tmp_path)} == {"running"} and len(_nodes(tmp_path)) == 3

    # Every step is an event clients can follow, and each statement records what it gave.
    contract = nodes["app"]["contract"]
    events = requests.get(f"{platform.provisioning}/event/", timeout=10, headers={
        **HEADERS, "X-OCCI-Attribute": f'occi.event.contract="{urlsplit(contract).path}"'})
    assert events.status_code == 200
    whats = [e["attributes"]["occi.event.what"] for e in events.json().get("resources", [])]
    for step in ("created", "place", "create", "instruction", "configure"):
        assert step in whats, whats
    instructions = requests.get(f"{platform.provisioning}/instruction/", headers=HEADERS, timeout=10).json()
    states = {(i["attributes"]["occi.instruction.method"], i["attributes"]["occi.instruction.state"])
              for i in instructions["resources"]}
    assert ("system", "done") in states and ("configure", "done") in states and ("fork", "done") in states
    assert ("kill", "pending") in states          # release runs at stop and delete


def test_stop_start_and_delete_act_on_every_node(platform, tmp_path):
    service_url = _submit(platform, tmp_path)
    _wait(service_url, "running")
    assert _act(service_url, "stop").status_code == 200
    _wait(service_url, "stopped")
    assert {i.state for i in _nodes(tmp_path)} == {"stopped"}

    assert _act(service_url, "start").status_code == 200
    _wait(service_url, "running")
    assert {i.state for i in _nodes(tmp_path)} == {"running"}
    # Configuration runs again on start, in the same order.
    assert (tmp_path / "order.log").read_text().splitlines()[3:] == ["db", "app 127.0.0.1", "web 127.0.0.1"]

    refused = requests.delete(service_url, headers=HEADERS, timeout=10)
    assert refused.status_code == 409 and "action=delete" in refused.text
    assert _act(service_url, "delete").status_code == 200
    service = _wait(service_url, "deleted")
    assert {report["state"] for report in service["occi.service.nodes"].values()} == {"deleted"}
    assert _nodes(tmp_path) == []
    assert requests.delete(service_url, headers=HEADERS, timeout=10).status_code == 200


def test_a_failing_script_names_the_node_and_rolls_back_the_deployment(platform, tmp_path):
    service_url = _submit(platform, tmp_path, app_command="echo broken >&2; exit 3")
    service = _wait(service_url, "failed")
    assert "node app failed" in service["occi.service.message"]
    assert "exit 3" in service["occi.service.message"] and "line" in service["occi.service.message"]
    deadline = time.monotonic() + 30
    while _nodes(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _nodes(tmp_path) == []
    service = _wait(service_url, "failed")
    deadline = time.monotonic() + 30
    while "rolled back" not in (service["occi.service.message"] or "") and time.monotonic() < deadline:
        time.sleep(0.1)
        service = _service(service_url)
    assert "rolled back" in service["occi.service.message"], service
    assert service["occi.service.failure"].startswith("node app failed")


def test_without_rollback_what_succeeded_is_kept(platform, tmp_path):
    service_url = _submit(platform, tmp_path, app_command="exit 1", rollback=False)
    service = _wait(service_url, "failed")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        nodes = _service(service_url)["occi.service.nodes"]
        if nodes["web"]["state"] == "failed":
            break
        time.sleep(0.1)
    assert nodes["db"]["state"] == "running"
    assert nodes["app"]["state"] == "failed"
    # web reads app's hostname: it cannot be configured, and says why.
    assert nodes["web"]["state"] == "failed" and "app" in nodes["web"]["message"]
    # Nodes are created in parallel, only configuration waits: all three exist and are kept for a look.
    assert len([i for i in _nodes(tmp_path) if i.state == "running"]) == 3
    assert _act(service_url, "delete").status_code == 200
    _wait(service_url, "deleted")
    assert _nodes(tmp_path) == []


def test_another_accounts_plan_cannot_be_instantiated(platform, tmp_path):
    log = tmp_path / "order.log"
    answer = platform.submit(THREE.format(name="mine", log=log, app_command="true").encode(), name="mine.xml")
    plan = answer.json()["plan"]
    refused = requests.post(f"{platform.broker}/service/", json={
        "kind": "http://scheme.compatibleone.fr/scheme/compatible#service",
        "attributes": {"occi.service.plan": plan}}, headers={**HEADERS, "Authorization": "Bearer bob-token"},
        timeout=10)
    assert refused.status_code == 403 and "another account" in refused.text


def test_a_broker_without_provisioning_says_so_and_keeps_nothing(tmp_path):
    started = start_platform(tmp_path)            # no provisioning component published
    try:
        answer = started.submit(THREE.format(name="lonely", log=tmp_path / "x", app_command="true").encode())
        plan = answer.json()["plan"]
        refused = requests.post(plan, params={"action": "instance"}, json={"action": INSTANCE}, headers=HEADERS,
                                timeout=10)
        assert refused.status_code == 503 and "provisioning" in refused.text
        listed = requests.get(f"{started.broker}/service/", headers=HEADERS, timeout=10).json()
        assert listed.get("resources", []) == []
    finally:
        started.stop()
