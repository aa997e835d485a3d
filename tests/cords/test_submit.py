"""POST /submit on the parser: documents stored as OCCI entities, plans kept by the broker."""
from __future__ import annotations

import pytest
import requests

from cords.model import manifest as m
from occi.store.base import Query
from tests.cords import EXAMPLES
from tests.cords.platform import start_platform

ANY = EXAMPLES / "manifests" / "any.xml"

WEB = b"""<manifest name="web" xmlns="http://www.compatibleone.fr/schemes/manifest.xsd">
  <node name="db" access="private">
    <infrastructure name=":small">
      <compute name=":cpu" cores="2" memory="4G"/>
      <network name=":net" label="ethernet"><port name="pg" protocol="tcp" from="5432" to="5432"/></network>
      <storage name=":disk" size="20G"/>
    </infrastructure>
    <image name=":debian"><system name="debian"/></image>
  </node>
  <node name="front" access="public" infrastructure=":small" image=":debian"/>
  <configuration>
    <action name="link" expression="front.configure(db.hostname);"/>
  </configuration>
  <interface><action name="backup" expression="db.system('pg_dump');"/></interface>
  <account name="clinic"/>
  <security name=":sec" level="public"/>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path)
    yield started
    started.stop()


def _count(platform, kind, owner=None) -> int:
    with platform.stores["parser"].session(readonly=True) as session:
        return session.count(Query(kinds=[kind.type_id], owner=owner))


def _all_entities(platform) -> int:
    with platform.stores["parser"].session(readonly=True) as session:
        return session.count(Query())


def test_a_manifest_becomes_entities_and_a_plan_owned_by_the_submitter(platform):
    response = platform.submit(WEB, name="web.xml")
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == body["manifest"]
    manifest = platform.get(body["manifest"]).json()["attributes"]
    assert manifest["occi.manifest.name"] == "web" and manifest["occi.manifest.nodes"] == 2
    assert manifest["occi.manifest.plan"] == body["plan"]
    assert manifest["occi.manifest.account"] == "clinic"
    assert platform.get(manifest["occi.manifest.security"]).json()["attributes"]["occi.security.name"] == "web:sec"

    # the named infrastructure and image are written once and shared by both nodes
    assert _count(platform, m.INFRASTRUCTURE) == 1 and _count(platform, m.IMAGE) == 1
    assert {c["name"] for c in body["created"]} >= {"web:small", "web:cpu", "web:net", "web:disk", "web:debian"}
    nodes = platform.get(f"{platform.parser}/node/").json()
    assert sorted(n["attributes"]["occi.node.name"] for n in nodes["resources"]) == ["db", "front"]
    front = next(n for n in nodes["resources"] if n["attributes"]["occi.node.name"] == "front")["attributes"]
    infrastructure = platform.get(front["occi.node.infrastructure"]).json()["attributes"]
    compute = platform.get(infrastructure["occi.infrastructure.compute"]).json()["attributes"]
    assert compute["occi.compute.cores"] == 2 and compute["occi.compute.memory"] == "4G"
    firewall = platform.get(front["occi.node.firewall"]).json()
    assert firewall["attributes"]["occi.firewall.ports"] == 1 and len(firewall["links"]) == 1
    interface = platform.get(manifest["occi.manifest.interface"]).json()
    assert interface["attributes"]["occi.interface.actions"] == 1

    plan = platform.get(body["plan"]).json()["attributes"]
    compiled = plan["occi.plan.compiled"]
    assert plan["occi.plan.name"] == "web" and plan["occi.plan.manifest"] == body["manifest"]
    assert compiled["order"] == ["db", "front"] and compiled["edges"] == [["front", "db"]]
    assert {n["name"]: n["location"] for n in compiled["nodes"]}["front"].startswith(f"{platform.parser}/node/")
    assert compiled["nodes"][1]["infrastructure"]["location"] == front["occi.node.infrastructure"]
    assert plan["occi.plan.created"] > 0

    # another account sees neither the manifest nor the plan
    assert platform.get(body["manifest"], token="bob-token").status_code in (403, 404)
    assert platform.get(body["plan"], token="bob-token").status_code in (403, 404)
    assert platform.get(f"{platform.parser}/node/", token="bob-token").json().get("resources", []) == []


def test_bare_names_reuse_what_the_account_or_the_platform_stored(platform):
    assert platform.submit(WEB).status_code == 201
    other = (b'<manifest name="web2"><node name="n" infrastructure="web:small" image="web:debian"/>'
             b'<account name="clinic"/></manifest>')
    response = platform.submit(other)
    assert response.status_code == 201, response.text
    assert {r["name"] for r in response.json()["reused"]} == {"web:small", "web:debian"}
    assert _count(platform, m.INFRASTRUCTURE) == 1

    # bob's account cannot name alice's definitions
    refused = platform.submit(other.replace(b"web2", b"web3"), token="bob-token")
    assert refused.status_code == 400
    codes = {p["code"] for p in refused.json()["error"]["problems"] if p["severity"] == "error"}
    assert codes == {"cords-unresolved-definition"}

    # what the platform account imported is everyone's
    shared = b'<import name="models"><infrastructure name="shared:small"><compute name="shared:cpu" cores="1"/>' \
             b'<network name="shared:net"/><storage name="shared:disk" size="1G"/></infrastructure></import>'
    imported = platform.submit(shared, token="admin-token")
    assert imported.status_code == 201 and imported.json()["kind"] == "import"
    uses = b'<manifest name="bobs"><node name="n" infrastructure="shared:small"/></manifest>'
    assert platform.submit(uses, token="bob-token").status_code == 201


def test_a_stored_name_with_other_values_is_reused_with_a_located_warning(platform):
    assert platform.submit(WEB).status_code == 201
    changed = (b'<manifest name="other">\n<node name="n">\n<infrastructure name="web:small">'
               b'<compute name="web:cpu" cores="8"/><network name="web:net"/><storage name="web:disk"/>'
               b'</infrastructure></node></manifest>')
    response = platform.submit(changed, name="other.xml")
    assert response.status_code == 201, response.text
    warnings = [p for p in response.json()["problems"] if p["code"] == "cords-reused-definition-differs"]
    assert warnings and warnings[0]["file"] == "other.xml" and warnings[0]["line"] == 3
    compiled = platform.get(response.json()["plan"]).json()["attributes"]["occi.plan.compiled"]
    assert compiled["nodes"][0]["infrastructure"]["compute"]["cores"] == "2"     # the stored one, as used


def test_a_document_with_errors_stores_nothing_and_says_where(platform):
    broken = WEB.replace(b"front.configure(db.hostname);", b"front.configure(dbb.hostname);")
    response = platform.submit(broken, name="web.xml")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "cords-invalid"
    problem = next(p for p in error["problems"] if p["severity"] == "error")
    assert (problem["file"], problem["line"], problem["code"]) == ("web.xml", 12, "cordscript-unknown-node")
    assert "web.xml:12:" in error["message"]
    assert _all_entities(platform) == 0

    unreadable = platform.submit(b"<manifest name='x'><node", name="cut.xml")
    assert unreadable.status_code == 400 and unreadable.json()["error"]["problems"][0]["line"] == 1


def test_http_level_refusals(platform):
    assert platform.submit(WEB, content_type="application/json").status_code == 415
    assert platform.submit(WEB, token="olga-token").status_code == 403
    assert platform.submit(WEB, token="agent-token").status_code == 403
    assert requests.post(f"{platform.parser}/submit", data=WEB, timeout=10,
                         headers={"Content-Type": "application/xml"}).status_code == 401
    too_big = platform.submit(b"<manifest>" + b" " * (10 * 1024 * 1024) + b"</manifest>")
    assert too_big.status_code == 413
    agreement = platform.submit(b'<agreement name="a"/>')
    assert agreement.status_code == 400 and agreement.json()["error"]["code"] == "wrong-document"
    assert platform.submit(WEB).status_code == 201
    again = platform.submit(WEB)
    assert again.status_code == 409 and again.json()["error"]["code"] == "manifest-exists"


def test_dry_run_checks_against_the_store_and_writes_nothing(platform):
    response = platform.submit(WEB, dry_run=True)
    assert response.status_code == 200 and response.json()["compiled"]["order"] == ["db", "front"]
    assert _all_entities(platform) == 0
    with platform.stores["broker"].session(readonly=True) as session:
        assert session.count(Query()) == 0


def test_without_a_broker_nothing_is_kept(tmp_path):
    started = start_platform(tmp_path, broker=False)
    try:
        response = started.submit(WEB)
        assert response.status_code == 503 and response.json()["error"]["code"] == "broker-unavailable"
        assert _all_entities(started) == 0
    finally:
        started.stop()


def test_complex_nodes_name_the_plan_of_their_manifest(platform):
    inner = platform.submit(WEB).json()
    outer = b'<manifest name="site"><node name="app" type="web"/>' \
            b'<configuration><action expression="app.backup();"/></configuration></manifest>'
    response = platform.submit(outer)
    assert response.status_code == 201, response.text
    node = response.json()["compiled"]["nodes"][0]
    assert node["type"] == "complex" and node["manifest"] == "web" and node["plan"] == inner["plan"]
    unknown = platform.submit(outer.replace(b"app.backup()", b"app.restore()").replace(b"site", b"site2"))
    assert unknown.status_code == 400
    assert "cordscript-unknown-interface-action" in {p["code"] for p in unknown.json()["error"]["problems"]}


def test_the_broker_keeps_only_well_formed_plans(platform):
    headers = {"Authorization": "Bearer alice-token", "Content-Type": "application/occi+json",
               "Accept": "application/json"}
    bad = {"kind": "http://scheme.compatibleone.fr/scheme/compatible#plan",
           "attributes": {"occi.plan.name": "x", "occi.plan.compiled": {"manifest": "x", "nodes": []}}}
    response = requests.post(f"{platform.broker}/plan/", json=bad, headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad-plan"
    plan = platform.submit(WEB).json()["plan"]
    instance = requests.post(f"{plan}?action=instance", headers=headers, timeout=10, json={
        "action": "http://scheme.compatibleone.fr/scheme/compatible/plan/action#instance"})
    # No provisioning component is published here: nothing to instantiate on, and it says so.
    assert instance.status_code == 503 and "provisioning" in instance.text


def test_every_example_manifest_submits_once_its_nested_manifests_are_in(platform, examples):
    from cords.check import check_file

    for path in sorted((examples / "imports").glob("*.xml")):
        assert platform.submit(path.read_bytes(), name=path.name, token="admin-token").status_code == 201, path
    pending = sorted((examples / "manifests").glob("*.xml"))
    names: dict[str, str] = {}
    failures = {}
    while pending:
        progress = False
        for path in list(pending):
            response = platform.submit(path.read_bytes(), name=path.name)
            if response.status_code == 201:
                names[response.json()["name"]] = path.name
                pending.remove(path)
                progress = True
            else:
                failures[path.name] = response.json()["error"]
        if not progress:
            break
    for path in pending:
        error = failures[path.name]
        if error["code"] == "manifest-exists":
            continue                    # the corpus reuses names (pademo, test3): unique on a platform
        offline = check_file(path)
        expected = {d.code for d in offline.diagnostics.errors} | {"cords-unknown-manifest"}
        found = {p["code"] for p in error["problems"] if p["severity"] == "error"}
        assert found <= expected, (path.name, found)
    assert len(names) >= 20
