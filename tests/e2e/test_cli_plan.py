"""`accords plan FILE --dry-run` on real processes: the parser compiles without storing, the
provisioning component says where each node would go and why; nothing is stored or created."""
from __future__ import annotations

import json

import pytest

from broker import settings
from tests.e2e.test_cli_security import accords, as_json, eventually
from tests.e2e.test_cli_submit import AGREEMENT, _published, _published_term

pytestmark = pytest.mark.e2e

MANIFEST = """<manifest name="web">
  <node name="db" provider="second"><infrastructure name=":small"><compute name=":cpu" cores="2" memory="1G"/>
    <network name=":net"/><storage name=":disk" size="10G"/></infrastructure>
    <image name=":debian"><system name="debian"/></image></node>
  <node name="front" access="public" infrastructure=":small" image=":debian"/>
  <node name="lost" provider="nowhere" infrastructure=":small" image=":debian"/>
  <configuration><action expression="front.configure(db.hostname);"/></configuration>
</manifest>"""


@pytest.fixture
def planning(platform, serve):
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    providers = platform.data / "providers.json"
    providers.write_text(json.dumps({"first": {"driver": "local"}, "second": {"driver": "local", "image": "golden"}}))
    providers.chmod(0o600)
    for component in ("broker", "parser", "provisioning", "sla"):
        serve(component, "--publisher", platform.publisher.url, data=platform.data, workers=1)
    assert eventually(lambda: _published(platform) and _published_term(platform, "contract")
                      and _published_term(platform, "agreement"), timeout=30), "components never published"
    return platform


def test_plan_dry_run_shows_where_each_node_would_go_and_why(planning, tmp_path):
    data = planning.data
    manifest = tmp_path / "web.xml"
    manifest.write_text(MANIFEST)

    result = accords("plan", str(manifest), "--dry-run", "--json", data=data)
    assert result.returncode == 1, result.stderr              # a node cannot be placed
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["ok"] is False and report["order"]
    placed = {node["node"]: node for node in report["nodes"]}
    assert placed["db"]["provider"] == "second" and placed["db"]["image"] == "golden"
    assert placed["db"]["size"] == {"cores": 2, "memory": "1G", "disk": "10G"}
    assert placed["front"]["provider"] == "first" and "first configured" in placed["front"]["reason"]
    assert [(u["node"], "'nowhere'" in u["reason"]) for u in report["unplaceable"]] == [("lost", True)]

    text = accords("plan", str(manifest), "--dry-run", data=data)
    assert text.returncode == 1
    header = next(line for line in text.stdout.splitlines() if line.startswith("node"))
    assert header.split() == ["node", "provider", "image", "size", "why"]
    assert "not placeable:" in text.stdout and "  lost: node lost asks for provider 'nowhere'" in text.stdout
    assert "2 cores, 1G memory, 10G disk" in text.stdout

    everywhere = as_json(accords("plan", str(manifest), "--dry-run", "--provider", "first", "--json", data=data))
    assert {n["node"]: n["provider"] for n in everywhere["nodes"]} == {"db": "first", "front": "first",
                                                                     "lost": "first"}
    assert everywhere["unplaceable"] == [] and everywhere["ok"] is True

    # Nothing was stored: the same manifest is not taken, no service and no node exists.
    assert as_json(accords("services", "--json", data=data)) == []
    assert not list((data / "nodes").glob("local-*")) if (data / "nodes").exists() else True
    stored = as_json(accords("submit", str(manifest), "--plan-only", "--json", data=data))
    assert stored["manifest"]["manifest"]


def test_plan_dry_run_checks_the_agreement_and_reports_refusals_with_lines(planning, tmp_path):
    data = planning.data
    manifest, agreement = tmp_path / "web.xml", tmp_path / "sla.xml"
    manifest.write_text(MANIFEST.replace(' provider="nowhere"', ""))
    agreement.write_text(AGREEMENT.replace("SCOPE", "nosuchnode"))
    refused = accords("plan", str(manifest), "--dry-run", "--agreement", str(agreement), data=data)
    assert refused.returncode == 1 and f"{agreement}:" in refused.stdout, (refused.stdout, refused.stderr)

    agreement.write_text(AGREEMENT.replace("SCOPE", "front"))
    report = as_json(accords("plan", str(manifest), "--dry-run", "--agreement", str(agreement), "--json",
                             data=data))
    assert report["agreement"] == "web-sla" and report["ok"] is True and len(report["nodes"]) == 3

    broken = tmp_path / "broken.xml"
    broken.write_text("<manifest name='x'><node name='a'></manifest>")
    bad = accords("plan", str(broken), "--dry-run", data=data)
    assert bad.returncode == 1 and f"{broken}:1:" in bad.stdout


def test_plan_without_dry_run_is_the_local_compile_and_provider_needs_dry_run(tmp_path):
    manifest = tmp_path / "web.xml"
    manifest.write_text(MANIFEST)
    local = accords("plan", str(manifest), "--json", data=tmp_path / "nowhere")     # no platform at all
    assert local.returncode == 0, local.stderr
    assert {node["name"] for node in json.loads(local.stdout)["plan"]["nodes"]} == {"db", "front", "lost"}
    needs = accords("plan", str(manifest), "--provider", "first", data=tmp_path / "nowhere")
    assert needs.returncode == 2 and "add --dry-run" in needs.stderr
