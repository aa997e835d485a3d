"""Checklist I: the JSON rendering (docs/OCCI.md §9 I1–I4), validated against the GFD.226 schema."""
from __future__ import annotations

import json

import pytest

from checklist_support import (CORE, HOST, INFRA, SMALL, UBUNTU, attributes, create, get, json_body, path_of,
                               validate)

JSON = {"Content-Type": "application/occi+json", "Accept": "application/occi+json"}


def _model(client, **headers):
    result = get(client, "/-/", "application/occi+json", **headers)
    assert result.status_code == 200
    return json_body(result, "model")


# -- I1 ---------------------------------------------------------------------------------------------
def test_I1_query_interface_as_json(client, model):
    document = _model(client)
    assert set(document) == {"kinds", "mixins", "actions"}
    validate({"kinds": document["kinds"]}, "kind_collection")
    validate({"mixins": document["mixins"]}, "mixin_collection")
    validate({"actions": document["actions"]}, "action_collection")
    for kind in document["kinds"]:
        validate(kind, "kind")
    for mixin in document["mixins"]:
        validate(mixin, "mixin")
    for action in document["actions"]:
        validate(action, "action")
    ids = {c["scheme"] + c["term"] for group in document.values() for c in group}
    assert ids == {c.type_id for c in model.categories}
    kinds = {k["scheme"] + k["term"]: k for k in document["kinds"]}
    compute = kinds[INFRA + "compute"]
    assert compute["parent"] == CORE + "resource" and compute["location"] == "/compute/"
    assert "http://schemas.ogf.org/occi/infrastructure/compute/action#stop" in compute["actions"]
    assert "parent" not in kinds[CORE + "entity"] and "location" not in kinds[CORE + "entity"]
    mixins = {m["scheme"] + m["term"]: m for m in document["mixins"]}
    assert mixins[UBUNTU.type_id]["depends"] == [INFRA + "os_tpl"]
    assert mixins[UBUNTU.type_id]["applies"] == [INFRA + "compute"]
    assert mixins["http://schemas.ogf.org/occi/infrastructure/network#ipnetwork"]["applies"] == [INFRA + "network"]


def test_I1_filtered_query_interface_as_json(client):
    document = _model(client, Category=f'network; scheme="{INFRA}"; class="kind"')
    assert {k["term"] for k in document["kinds"]} == {"network", "resource", "entity"}
    assert {a["term"] for a in document["actions"]} == {"up", "down"}


# -- I2 ---------------------------------------------------------------------------------------------
def test_I2_entity_json_validates_as_resource_or_link(client):
    network = create(client, "network")
    vm = create(client, attrs={"occi.core.title": "t", "occi.core.summary": "s"}, mixins=(UBUNTU,), extra=[
        f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"; '
        'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"'])
    resource = json_body(get(client, vm, "application/occi+json"), "resource")
    assert resource["kind"] == INFRA + "compute"
    assert resource["id"] == "urn:uuid:" + vm.rsplit("/", 1)[1]
    assert resource["mixins"] == [UBUNTU.type_id]
    assert resource["title"] == "t" and resource["summary"] == "s"
    assert "occi.core.title" not in resource["attributes"]
    (link,) = resource["links"]
    validate(link, "link")
    assert link["source"]["location"] == HOST + vm
    assert link["target"]["location"] == HOST + network
    links = json_body(get(client, "/link/networkinterface/", "application/occi+json"), "link_collection")["links"]
    standalone = links[0]
    assert standalone["id"] == link["id"]
    assert {"kind", "id", "source", "target"} <= set(standalone)
    assert standalone["attributes"]["occi.networkinterface.interface"] == "eth0"


# -- I3 ---------------------------------------------------------------------------------------------
def test_I3_attribute_descriptions(client):
    document = _model(client)
    allowed = {"mutable", "required", "type", "pattern", "default", "description"}
    count = 0
    for group in document.values():
        for category in group:
            for name, description in category.get("attributes", {}).items():
                validate({name: description}, "attribute_description")
                assert set(description) <= allowed, (category["term"], name)
                assert description["type"] in {"string", "number", "boolean", "array", "object"}
                assert isinstance(description["mutable"], bool) and isinstance(description["required"], bool)
                if "pattern" in description:
                    assert isinstance(description["pattern"], dict)
                count += 1
    assert count > 100
    kinds = {k["scheme"] + k["term"]: k for k in document["kinds"]}
    state = kinds[INFRA + "compute"]["attributes"]["occi.compute.state"]
    assert state["mutable"] is False and state["required"] is True and state["type"] == "string"
    assert state["pattern"]["enum"] == ["active", "inactive", "suspended", "error"]
    assert state["default"] == "inactive"
    cores = kinds[INFRA + "compute"]["attributes"]["occi.compute.cores"]
    assert cores["type"] == "number" and cores["mutable"] is True and cores["required"] is False
    size = kinds[INFRA + "storage"]["attributes"]["occi.storage.size"]
    assert size["required"] is True and size["type"] == "number"
    actions = {a["scheme"] + a["term"]: a for a in document["actions"]}
    method = actions["http://schemas.ogf.org/occi/infrastructure/compute/action#stop"]["attributes"]["method"]
    assert method["pattern"]["enum"] == ["graceful", "acpioff", "poweroff"]


def test_I3_a_default_is_applied_when_the_attribute_is_absent(client):
    document = _model(client)
    mixins = {m["scheme"] + m["term"]: m for m in document["mixins"]}
    assert mixins[SMALL.type_id]["attributes"]["occi.compute.memory"]["default"] == 2.0
    vm = create(client, mixins=(SMALL,))
    assert json_body(get(client, vm, "application/occi+json"), "resource")["attributes"]["occi.compute.memory"] == 2.0


# -- I4 ---------------------------------------------------------------------------------------------
def test_I4_json_create_and_update_bodies_are_accepted(client):
    body = validate({"kind": INFRA + "compute", "id": "urn:uuid:0d9cc5a4-3b21-4a2e-9a3e-0c1f6f5b7e11",
                     "mixins": [UBUNTU.type_id], "title": "j",
                     "attributes": {"occi.compute.cores": 2, "occi.compute.hostname": "h"}}, "resource")
    result = client.simulate_post("/compute/", headers=JSON, body=json.dumps(body))
    assert result.status_code == 201
    created = json_body(result, "resource")
    assert created["id"] == body["id"]
    vm = path_of(result.headers["Location"])
    assert vm == "/compute/0d9cc5a4-3b21-4a2e-9a3e-0c1f6f5b7e11"
    # The id is the server's to choose when the client leaves it out.
    without_id = client.simulate_post("/compute/", headers=JSON, body=json.dumps({"kind": INFRA + "compute"}))
    assert without_id.status_code == 201
    update = validate({"kind": INFRA + "compute", "id": created["id"], "attributes": {"occi.compute.cores": 4}},
                      "resource")
    result = client.simulate_post(vm, headers=JSON, body=json.dumps(update))
    assert result.status_code == 200
    updated = json_body(result, "resource")
    assert updated["attributes"]["occi.compute.cores"] == 4
    assert updated["attributes"]["occi.compute.hostname"] == "h" and updated["title"] == "j"
    assert attributes(get(client, vm))["occi.compute.cores"] == 4


def test_I4_json_link_creation_and_collection_creation(client):
    vm, network = create(client), create(client, "network")
    link = validate({"kind": INFRA + "networkinterface", "id": "urn:uuid:5a3c1f57-32ac-4bd8-93f8-4c2c8e1a0e01",
                     "source": {"location": vm}, "target": {"location": HOST + network, "kind": INFRA + "network"},
                     "attributes": {"occi.networkinterface.interface": "eth0",
                                    "occi.networkinterface.mac": "00:11:22:33:44:55"}}, "link")
    result = client.simulate_post("/link/networkinterface/", headers=JSON, body=json.dumps(link))
    assert result.status_code == 201
    assert result.headers["Location"] == f"{HOST}/link/networkinterface/5a3c1f57-32ac-4bd8-93f8-4c2c8e1a0e01"
    many = validate({"resources": [{"kind": INFRA + "compute", "id": f"urn:uuid:{n}0000000-0000-4000-8000-000000000000"}
                                   for n in (1, 2)]}, "resource_collection")
    result = client.simulate_post("/compute/", headers=JSON, body=json.dumps(many))
    assert result.status_code == 201
    assert len(json_body(result, "resource_collection")["resources"]) == 2


@pytest.mark.parametrize("body, where", [
    ({"kind": INFRA + "compute", "bogus": 1}, "$.bogus"),
    ({"kind": INFRA + "compute", "attributes": {"occi.compute.cores": None}}, "$.attributes.occi.compute.cores"),
    ({"kind": 7}, "$.kind"),
    ({"kind": INFRA + "compute", "mixins": "x"}, "$.mixins"),
])
def test_I4_invalid_json_bodies_are_400_with_a_json_path(client, body, where):
    result = client.simulate_post("/compute/", headers=JSON, body=json.dumps(body))
    assert result.status_code == 400
    assert json.loads(result.text)["error"]["where"] == where


def test_I4_json_inline_links_are_created_and_rendered(client):
    network = create(client, "network")
    body = {"kind": INFRA + "compute", "links": [{
        "kind": INFRA + "networkinterface", "target": {"location": HOST + network, "kind": INFRA + "network"},
        "attributes": {"occi.networkinterface.interface": "eth0", "occi.networkinterface.mac": "m"}}]}
    result = client.simulate_post("/compute/", headers=JSON, body=json.dumps(body))
    assert result.status_code == 201
    created = json_body(result, "resource")
    (link,) = created["links"]
    assert link["target"] == {"location": HOST + network, "kind": INFRA + "network"}
    assert link["source"]["location"] == result.headers["Location"]
    fetched = json_body(get(client, path_of(result.headers["Location"]), "application/occi+json"), "resource")
    assert fetched["links"] == created["links"]
