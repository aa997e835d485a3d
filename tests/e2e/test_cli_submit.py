"""`accords submit` against real security, publisher, parser and broker processes."""
from __future__ import annotations

import json

import pytest
import requests

from broker import settings
from tests.cords import EXAMPLES
from tests.e2e.test_cli_security import accords, as_json, eventually

pytestmark = pytest.mark.e2e

WEB = """<manifest name="web">
  <node name="db"><infrastructure name=":small"><compute name=":cpu" cores="1"/><network name=":net"/>
    <storage name=":disk" size="1G"/></infrastructure><image name=":debian"><system name="debian"/></image></node>
  <node name="front" access="public" infrastructure=":small" image=":debian"/>
  <configuration><action expression="front.configure(db.hostname);"/></configuration>
</manifest>
"""


@pytest.fixture
def brokering(platform, serve):
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    for component in ("broker", "parser"):
        serve(component, "--publisher", platform.publisher.url, data=platform.data, workers=1)
    published = eventually(lambda: _published(platform), timeout=20)
    assert published, "broker and parser never published their kinds"
    return platform


def _published(platform) -> bool:
    response = requests.get(f"{platform.publisher.url}/publication/", timeout=5,
                            headers={"Authorization": f"Bearer {platform.admin_token}", "Accept": "application/json"})
    terms = {r["attributes"]["occi.publication.what"] for r in response.json().get("resources", [])}
    return {"plan", "manifest"} <= terms


def test_submit_stores_the_manifest_and_its_plan(brokering, tmp_path):
    path = tmp_path / "web.xml"
    path.write_text(WEB)
    dry = as_json(accords("submit", str(path), "--dry-run", "--json", data=brokering.data))
    assert dry["dry_run"] and dry["manifest"]["compiled"]["order"] == ["db", "front"]

    report = as_json(accords("submit", str(path), "--plan-only", "--json", data=brokering.data))
    manifest = report["manifest"]
    headers = {"Authorization": f"Bearer {brokering.admin_token}", "Accept": "application/json"}
    plan = requests.get(manifest["plan"], headers=headers, timeout=5).json()["attributes"]
    assert plan["occi.plan.manifest"] == manifest["manifest"]
    assert plan["occi.plan.compiled"]["edges"] == [["front", "db"]]
    stored = requests.get(manifest["manifest"], headers=headers, timeout=5).json()["attributes"]
    assert stored["occi.manifest.nodes"] == 2

    text = accords("submit", str(path), "--plan-only", data=brokering.data)
    assert text.returncode == 1 and "manifest-exists" not in text.stdout
    assert "a manifest named 'web' exists" in text.stderr


def test_submit_prints_located_problems_and_stores_nothing(brokering, tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text(WEB.replace("db.hostname", "dbb.hostname").replace('name="web"', 'name="broken"'))
    result = accords("submit", str(path), "--plan-only", data=brokering.data)
    assert result.returncode == 1
    assert f"{path}:5:" in result.stdout and "cordscript-unknown-node" in result.stdout
    as_json_result = accords("submit", str(path), "--plan-only", "--json", data=brokering.data)
    assert as_json_result.returncode == 1
    refused = json.loads(as_json_result.stdout)["refused"]
    assert refused["problems"][0]["file"] == str(path)
    headers = {"Authorization": f"Bearer {brokering.admin_token}", "Accept": "application/json"}
    parser_url = next(r["attributes"]["occi.publication.why"] for r in requests.get(
        f"{brokering.publisher.url}/publication/", headers=headers, timeout=5).json()["resources"]
        if r["attributes"]["occi.publication.what"] == "manifest")
    assert requests.get(f"{parser_url}/manifest/", headers=headers, timeout=5).json().get("resources", []) == []


def test_submit_of_a_corpus_manifest(brokering):
    path = EXAMPLES / "manifests" / "any.xml"
    if not path.is_file():
        pytest.skip(f"the CORDS example corpus is not at {EXAMPLES}")
    report = as_json(accords("submit", str(path), "--plan-only", "--json", data=brokering.data))
    assert report["manifest"]["name"] == "any" and report["manifest"]["plan"].startswith("http://127.0.0.1:")


AGREEMENT = """<agreement name="web-sla" initiator="clinic" responder="accords" serviceprovider="responder"
           initiation="now" expiration="never" template="none">
  <terms name=":services" type="services"><term name=":s1"><manifest name="web"/></term></terms>
  <terms name=":conditions" type="conditions">
    <term name=":c1"><variable name=":zone" property="occi.placement.zone" condition="eq" value="europe"/></term>
  </terms>
  <terms name=":guarantees" type="guarantees">
    <term name=":g1">
      <guarantee name=":up" obligated="provider" importance="normal" scope="=SCOPE">
        <variable name=":uv" property="availability" condition="ge" value="99.5"/>
        <business name=":penalty" nature="penalty" expression="cordscript:alert.new();"/>
      </guarantee>
    </term>
  </terms>
</agreement>
"""


def test_submit_with_an_agreement_checks_its_scopes_against_the_plan(brokering, serve, tmp_path):
    serve("sla", "--publisher", brokering.publisher.url, data=brokering.data, workers=1)
    assert eventually(lambda: _published_term(brokering, "agreement"), timeout=20), "sla never published"
    manifest, agreement = tmp_path / "web.xml", tmp_path / "sla.xml"
    manifest.write_text(WEB)
    agreement.write_text(AGREEMENT.replace("SCOPE", "nosuchnode"))
    refused = accords("submit", str(manifest), "--agreement", str(agreement), "--plan-only", data=brokering.data)
    assert refused.returncode == 1 and f"{agreement}:" in refused.stdout, refused.stdout
    assert "the manifest was stored" in refused.stderr          # and the agreement can be sent again

    manifest.write_text(WEB.replace('name="web"', 'name="web2"'))
    agreement.write_text(AGREEMENT.replace("SCOPE", "front").replace('<manifest name="web"/>',
                                                                    '<manifest name="web2"/>'))
    report = as_json(accords("submit", str(manifest), "--agreement", str(agreement), "--plan-only", "--json", data=brokering.data))
    sent = report["agreement_document"]
    assert report["agreement"] == sent["agreement"]
    headers = {"Authorization": f"Bearer {brokering.admin_token}", "Accept": "application/json"}
    gfd = requests.get(sent["agreement"], headers=headers, timeout=5).json()
    assert gfd["attributes"]["occi.agreement.state"] == "Pending"
    assert requests.get(sent["cords"], headers=headers, timeout=5).status_code == 200


def _published_term(platform, term: str) -> bool:
    response = requests.get(f"{platform.publisher.url}/publication/", timeout=5,
                            headers={"Authorization": f"Bearer {platform.admin_token}", "Accept": "application/json"})
    return any(r["attributes"]["occi.publication.what"] == term for r in response.json().get("resources", []))


def test_imported_definitions_are_reused_by_name_by_later_manifests(brokering, tmp_path):
    models = tmp_path / "models.xml"
    models.write_text('<import name="models"><infrastructure name=":small"><compute name=":cpu" cores="2"/>'
                      '<network name=":net"/><storage name=":disk" size="5G"/></infrastructure>'
                      '<image name=":debian"><system name="debian"/></image></import>')
    imported = as_json(accords("import", str(models), "--json", data=brokering.data))
    rows = imported["files"][0]["records"]
    assert {row["name"] for row in rows if row["outcome"] == "created"} >= {"models:small", "models:debian"}
    manifest = tmp_path / "uses.xml"
    manifest.write_text('<manifest name="uses"><node name="n" infrastructure="models:small" image="models:debian"/>'
                        '</manifest>')
    report = as_json(accords("submit", str(manifest), "--plan-only", "--json", data=brokering.data))
    assert {r["name"] for r in report["manifest"]["reused"]} == {"models:small", "models:debian"}
    again = as_json(accords("import", str(models), "--json", data=brokering.data))
    rows = again["files"][0]["records"]
    assert {row["outcome"] for row in rows if row["name"] in ("models:small", "models:debian")} == {"unchanged"}
