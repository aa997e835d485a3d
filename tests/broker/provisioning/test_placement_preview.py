"""``POST /preview`` at the provisioning component: where each node of a compiled (not stored) plan
would go and why, with its image and size, and what cannot be placed; nothing is created."""
from __future__ import annotations

import json

import pytest
import requests

from tests.cords.platform import start_platform

MANIFEST = """<manifest name="preview">
  <node name="db" provider="second"><infrastructure name=":small"><compute name=":cpu" cores="2" memory="1G"/>
    <network name=":net"/><storage name=":disk" size="10G"/></infrastructure>
    <image name=":debian"><system name="debian"/></image></node>
  <node name="app" infrastructure=":small" image=":debian"/>
  <node name="lost" provider="nowhere" infrastructure=":small" image=":debian"/>
</manifest>"""


@pytest.fixture
def platform(tmp_path):
    data = tmp_path / "provisioning"
    data.mkdir()
    # Two providers, in placement's order of preference; the second boots its own image.
    (data / "providers.json").write_text(json.dumps({"first": {"driver": "local"},
                                                      "second": {"driver": "local", "image": "golden"}}))
    started = start_platform(tmp_path, provisioning=True, reconciler={"interval": 0.1})
    yield started
    started.stop()


def compiled_nodes(platform) -> list[dict]:
    answer = platform.submit(MANIFEST.encode(), name="preview.xml", dry_run=True)
    assert answer.status_code == 200, answer.text
    return answer.json()["compiled"]["nodes"]


def preview(platform, body, *, token: str = "alice-token", content_type: str = "application/json"):
    return requests.post(f"{platform.provisioning}/preview", data=json.dumps(body), timeout=30,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": content_type,
                                  "Accept": "application/json"})


def test_each_node_gets_its_provider_reason_image_and_size_and_the_unplaceable_say_why(platform, tmp_path):
    answer = preview(platform, {"nodes": compiled_nodes(platform)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    placed = {entry["node"]: entry for entry in body["nodes"]}
    assert set(placed) == {"db", "app"}
    assert placed["db"]["provider"] == "second" and "asks for provider second" in placed["db"]["reason"]
    assert placed["db"]["image"] == "golden" and placed["db"]["image_from"] == "provider"
    assert placed["db"]["size"] == {"cores": 2, "memory": "1G", "disk": "10G"}
    assert placed["app"]["provider"] == "first" and "first configured" in placed["app"]["reason"]
    assert placed["app"]["image"] == "debian" and placed["app"]["image_from"] == "node"
    [lost] = body["unplaceable"]
    assert lost["node"] == "lost" and "'nowhere'" in lost["reason"] and "first, second" in lost["reason"]

    # Nothing was created: no contract, no node, no plan.
    contracts = requests.get(f"{platform.provisioning}/contract/", timeout=10,
                             headers={"Authorization": "Bearer alice-token", "Accept": "application/json"})
    assert contracts.json().get("resources", []) == []
    assert not (tmp_path / "provisioning" / "nodes").exists() or \
        list((tmp_path / "provisioning" / "nodes").glob("local-*")) == []


def test_a_provider_for_every_node_overrides_their_own(platform):
    body = preview(platform, {"nodes": compiled_nodes(platform), "provider": "first"}).json()
    assert {entry["node"]: entry["provider"] for entry in body["nodes"]} == {"db": "first", "app": "first",
                                                                            "lost": "first"}
    assert body["unplaceable"] == []
    refused = preview(platform, {"nodes": compiled_nodes(platform), "provider": "mars"}).json()
    assert refused["nodes"] == [] and len(refused["unplaceable"]) == 3


def test_nodes_the_broker_would_refuse_are_unplaceable():
    from broker.provisioning.placement import SimplePlacement
    from broker.provisioning.clouds import Clouds
    from broker.provisioning.preview import preview_nodes

    clouds = Clouds.from_config({"local": {"driver": "local"}})
    answer = preview_nodes([{"name": "nested", "type": "complex", "manifest": "inner"},
                            {"name": "shared", "type": "simple", "scope": "common"},
                            {"name": "plain", "type": "simple"}], placement=SimplePlacement(clouds), clouds=clouds)
    assert [e["node"] for e in answer["nodes"]] == ["plain"] and answer["nodes"][0]["size"] == {}
    reasons = {e["node"]: e["reason"] for e in answer["unplaceable"]}
    assert "complex node" in reasons["nested"] and "common node" in reasons["shared"]


def test_a_placement_that_offers_a_preview_is_asked_that_instead_of_choose():
    from broker.provisioning.clouds import Clouds
    from broker.provisioning.placement import Choice
    from broker.provisioning.preview import preview_nodes

    class Reserving:
        def choose(self, **_):
            raise AssertionError("choose reserves: preview must not call it")

        def preview(self, *, node, asked):
            return Choice("local", f"cheapest for {node['name']} ({asked})")

    clouds = Clouds.from_config({"local": {"driver": "local"}})
    answer = preview_nodes([{"name": "a"}], placement=Reserving(), clouds=clouds)
    assert answer["nodes"][0]["reason"] == "cheapest for a (any)"


@pytest.mark.parametrize("body, where", [({}, "nodes"), ({"nodes": []}, "nodes"), ({"nodes": [{"x": 1}]}, "nodes[0]"),
                                         ({"nodes": [{"name": "a"}], "provider": 3}, "provider"), ([1], "body")])
def test_malformed_questions_are_400_saying_where(platform, body, where):
    answer = preview(platform, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["where"] == where


def test_who_may_ask_and_in_what_form(platform):
    nodes = [{"name": "a", "type": "simple"}]
    assert preview(platform, {"nodes": nodes}, token="olga-token").status_code == 200
    assert preview(platform, {"nodes": nodes}, token="agent-token").status_code == 403
    assert preview(platform, {"nodes": nodes}, content_type="application/xml").status_code == 415
    broken = requests.post(f"{platform.provisioning}/preview", data=b"{nope", timeout=10, headers={
        "Authorization": "Bearer alice-token", "Content-Type": "application/json", "Accept": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "malformed-json"
