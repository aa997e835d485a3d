"""`accords validate` and `accords plan` as a service provider runs them: the real CLI, real files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cords import EXAMPLES

pytestmark = pytest.mark.e2e


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest name="shop" xmlns="http://www.compatibleone.fr/schemes/manifest.xsd">
  <node name="web" access="public">
    <infrastructure name=":web">
      <compute name=":small" cores="1" memory="2G" speed="1G"/>
      <storage name=":disk" size="10G"/>
      <network name=":net"><port name="http" protocol="tcp" from="80" to="80"/></network>
    </infrastructure>
    <image name=":debian"><system name="debian"/></image>
  </node>
  <node name="db">
    <infrastructure name=":web"/>
    <image name=":debian"/>
  </node>
  <configuration>
    <action expression="web.configure(db.hostname); web.system('systemctl start shop');"/>
  </configuration>
  <release/><interface/><account name="shop"/><security/>
</manifest>
"""

AGREEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<agreement name="shop-sla" xmlns="http://www.compatibleone.fr/schemes/slam.xsd" initiator="shop" responder="accords"
           serviceprovider="responder" initiation="now" expiration="never" template="none">
  <terms name=":services" type="services"><term name=":s1"><manifest name="shop"/></term></terms>
  <terms name=":conditions" type="conditions">
    <term name=":c1"><variable name=":v1" property="occi.placement.zone" condition="equal" value="europe"/></term>
  </terms>
  <terms name=":guarantees" type="guarantees">
    <term name=":g">
      <guarantee name=":up" obligated="provider" scope="=web">
        <variable name=":uv" property="availability" condition="notless" value="99.5"/>
        <business name=":p" nature="penalty" expression="cordscript:alert.new();"/>
      </guarantee>
    </term>
  </terms>
</agreement>
"""


def accords(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "broker", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_validate_prints_one_located_line_per_problem_and_exits_1(tmp_path):
    good = tmp_path / "shop.xml"
    good.write_text(MANIFEST)
    bad = tmp_path / "broken.xml"
    bad.write_text(MANIFEST.replace("db.hostname", "dbx.hostname").replace('cores="1"', 'cores="one"'))
    result = accords("validate", "shop.xml", "broken.xml", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("broken.xml:5:") and "cords-bad-integer" in line for line in lines), lines
    unknown = [line for line in lines if "cordscript-unknown-node" in line]
    assert len(unknown) == 1 and unknown[0].startswith("broken.xml:16:39:") and "'dbx'" in unknown[0]
    assert not any(line.startswith("shop.xml") for line in lines)
    assert "1 of 2 documents valid" in result.stderr

    alone = accords("validate", "shop.xml", "--json", cwd=tmp_path)
    assert alone.returncode == 0
    report = json.loads(alone.stdout)
    assert report["ok"] and report["files"][0]["kind"] == "manifest" and report["files"][0]["problems"] == []


def test_plan_shows_nodes_order_instructions_and_the_agreement(tmp_path):
    (tmp_path / "shop.xml").write_text(MANIFEST)
    (tmp_path / "sla.xml").write_text(AGREEMENT)
    result = accords("plan", "shop.xml", "--agreement", "sla.xml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plan = data["plan"]
    assert plan["order"] == ["db", "web"] and plan["edges"] == [["web", "db"]]
    web = next(n for n in plan["nodes"] if n["name"] == "web")
    assert web["infrastructure"]["name"] == "shop:web" and web["firewall"][0]["from"] == 80
    db = next(n for n in plan["nodes"] if n["name"] == "db")
    assert db["infrastructure"]["compute"]["name"] == "shop:small"       # reused by name within the document
    assert [i["method"] for i in plan["instructions"]["configuration"]] == ["configure", "system"]
    assert data["placement"] == {"occi.placement.zone": "europe"}
    [guarantee] = data["agreement"]["guarantees"]
    assert (guarantee["metric"], guarantee["operator"], guarantee["objective"], guarantee["scope"]) == (
        "availability", "ge", "99.5", "=web")

    text = accords("plan", "shop.xml", cwd=tmp_path)
    assert text.returncode == 0 and "in start order: db -> web" in text.stdout
    assert "web.configure(db.hostname)   (after db)" in text.stdout


def test_plan_refuses_an_agreement_scope_naming_an_unknown_node(tmp_path):
    (tmp_path / "shop.xml").write_text(MANIFEST)
    (tmp_path / "sla.xml").write_text(AGREEMENT.replace('scope="=web"', 'scope="=web,!cache"'))
    result = accords("plan", "shop.xml", "--agreement", "sla.xml", cwd=tmp_path)
    assert result.returncode == 1
    assert "cords-bad-scope" in result.stdout and "'cache'" in result.stdout


def test_hostile_documents_are_refused_with_a_location(tmp_path):
    laughs = tmp_path / "laughs.xml"
    laughs.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
                      '<manifest name="x">&lol2;</manifest>\n')
    result = accords("validate", "laughs.xml", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("laughs.xml:2:") and "xml-doctype" in result.stdout
    missing = accords("validate", "nowhere.xml", cwd=tmp_path)
    assert missing.returncode == 1 and "cannot read nowhere.xml" in missing.stderr


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/cords-examples is absent")
def test_the_whole_corpus_through_the_cli(tmp_path):
    files = sorted(str(p) for folder in ("manifests", "agreements", "imports")
                   for p in (EXAMPLES / folder).glob("*.xml"))
    result = accords("validate", *files, "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    failing = [f["file"] for f in report["files"] if not f["ok"]]
    assert result.returncode == 1 and [Path(f).name for f in failing] == ["example2.xml"]
