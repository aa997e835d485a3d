"""Checklist C: creation (docs/OCCI.md §9 C1–C12)."""
from __future__ import annotations

import json
import re

import pytest

from checklist_support import (COMPUTE_KIND, DEBIAN, FLAGS, HOST, INFRA, LARGE, SMALL, UBUNTU, attributes,
                               by_type_id, categories, collection_paths, create, error_text, get, header_values,
                               json_body, links, locations, mixin_category, path_of, plain_values,
                               post_plain, put_plain)
from occi.model.infrastructure import IPNETWORK, OS_TPL, RESOURCE_TPL

NI = f"{INFRA}networkinterface"


# -- C1 ---------------------------------------------------------------------------------------------
def test_C1_post_to_kind_collection_returns_201_and_location(client):
    result = client.simulate_post("/compute/", headers={
        "Content-Type": "text/occi", "Accept": "text/occi", "Category": COMPUTE_KIND,
        "X-OCCI-Attribute": "occi.compute.cores=2, occi.compute.memory=4.0"})
    assert result.status_code == 201
    location = result.headers["Location"]
    assert re.fullmatch(rf"{HOST}/compute/[0-9a-f\-]{{36}}", location), location
    assert header_values(result, "X-OCCI-Location") == [location]
    shown = attributes(get(client, path_of(location)))
    assert shown["occi.compute.cores"] == 2 and shown["occi.compute.memory"] == 4.0


def test_C1_json_creation_returns_201_location_and_rendering(client):
    result = client.simulate_post("/compute/", headers={"Content-Type": "application/occi+json",
                                                        "Accept": "application/occi+json"},
                                  body=json.dumps({"kind": INFRA + "compute", "attributes": {"occi.compute.cores": 2}}))
    assert result.status_code == 201
    created = json_body(result, "resource")
    assert path_of(result.headers["Location"]).endswith(created["id"].removeprefix("urn:uuid:"))


# -- C2 ---------------------------------------------------------------------------------------------
def test_C2_new_entity_is_listed_in_its_kind_collection(client):
    assert collection_paths(client, "/compute/") == []
    first, second = create(client), create(client)
    assert collection_paths(client, "/compute/") == [first, second]
    assert [path_of(u) for u in locations(get(client, "/compute/"))] == [first, second]
    assert collection_paths(client, "/storage/") == []
    assert set(collection_paths(client, "/resource/")) == {first, second}   # the parent kind lists sub-kinds


# -- C3 ---------------------------------------------------------------------------------------------
def test_C3_missing_required_attribute_is_400(client):
    result = post_plain(client, "/storage/", f'Category: storage; scheme="{INFRA}"; class="kind"')
    assert result.status_code == 400
    assert "occi.storage.size" in result.text
    assert "where: occi.storage.size" in result.text
    assert collection_paths(client, "/storage/") == []
    create(client, "storage", {"occi.storage.size": 10.0})


def test_C3_missing_required_mixin_attribute_is_400(client):
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}",
                        'Category: ssh_key; scheme="http://schemas.ogf.org/occi/infrastructure/credentials#"; '
                        'class="mixin"')
    assert result.status_code == 400
    assert "occi.credentials.ssh.publickey" in result.text


# -- C4 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", [
    f'computer; scheme="{INFRA}"; class="kind"',
    'compute; scheme="http://schemas.example.org/occi/infrastructure#"; class="kind"',
    f'compute; scheme="{INFRA}"; class="mixin"',
])
def test_C4_unknown_kind_or_scheme_is_400(client, line):
    result = post_plain(client, "/compute/", f"Category: {line}")
    assert result.status_code == 400, result.text
    assert "where: Category" in result.text
    assert collection_paths(client, "/compute/") == []


def test_C4_kind_of_another_collection_is_400(client):
    result = post_plain(client, "/compute/", f'Category: storage; scheme="{INFRA}"; class="kind"',
                        "X-OCCI-Attribute: occi.storage.size=1.0")
    assert result.status_code == 400
    assert "/compute/" in result.text
    assert collection_paths(client, "/storage/") == collection_paths(client, "/compute/") == []


# -- C5 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mixin", [IPNETWORK, FLAGS])
def test_C5_mixin_that_does_not_apply_is_400(client, mixin):
    lines = [f'Category: storage; scheme="{INFRA}"; class="kind"', f"Category: {mixin_category(mixin)}",
             "X-OCCI-Attribute: occi.storage.size=1.0"]
    if mixin is IPNETWORK:
        lines[0] = f"Category: {COMPUTE_KIND}"
        lines.pop()
    collection = "/storage/" if mixin is FLAGS else "/compute/"
    result = post_plain(client, collection, *lines)
    assert result.status_code == 400
    assert "does not apply" in result.text and mixin.type_id in result.text
    assert collection_paths(client, collection) == []


def test_C5_template_applies_only_to_compute(client):
    result = post_plain(client, "/storage/", f'Category: storage; scheme="{INFRA}"; class="kind"',
                        f"Category: {mixin_category(UBUNTU)}", "X-OCCI-Attribute: occi.storage.size=1.0")
    assert result.status_code == 400


# -- C6 ---------------------------------------------------------------------------------------------
def test_C6_title_and_summary_are_accepted_at_creation(client):
    path = create(client, attrs={"occi.core.title": "web-01", "occi.core.summary": "the front end"})
    shown = attributes(get(client, path))
    assert shown["occi.core.title"] == "web-01" and shown["occi.core.summary"] == "the front end"
    document = json_body(get(client, path, "application/occi+json"), "resource")
    assert document["title"] == "web-01" and document["summary"] == "the front end"
    result = client.simulate_post("/storage/", headers={"Content-Type": "application/occi+json"}, body=json.dumps(
        {"kind": INFRA + "storage", "title": "disk", "summary": "a disk", "attributes": {"occi.storage.size": 2}}))
    assert result.status_code == 201
    shown = attributes(get(client, path_of(result.headers["Location"])))
    assert shown["occi.core.title"] == "disk" and shown["occi.core.summary"] == "a disk"


# -- C7 ---------------------------------------------------------------------------------------------
def test_C7_provider_templates_are_discoverable(client):
    listed = by_type_id(categories(get(client, "/-/")))
    for template, base in ((UBUNTU, OS_TPL), (DEBIAN, OS_TPL), (SMALL, RESOURCE_TPL), (LARGE, RESOURCE_TPL)):
        rendered = listed[template.type_id]
        assert rendered.cls == "mixin" and rendered.rel == (base.type_id,)
        assert rendered.location.startswith("/") and rendered.location.endswith("/")
    assert listed[OS_TPL.type_id].cls == listed[RESOURCE_TPL.type_id].cls == "mixin"
    document = json_body(get(client, "/-/", "application/occi+json"), "model")
    mixins = {m["scheme"] + m["term"]: m for m in document["mixins"]}
    assert mixins[SMALL.type_id]["depends"] == [RESOURCE_TPL.type_id]
    assert mixins[SMALL.type_id]["attributes"]["occi.compute.cores"]["default"] == 1


def test_C7_templates_given_at_creation_apply_their_defaults(client):
    path = create(client, mixins=(UBUNTU, SMALL))
    shown = attributes(get(client, path))
    assert shown["occi.compute.cores"] == 1 and shown["occi.compute.memory"] == 2.0
    assert {UBUNTU.type_id, SMALL.type_id} <= set(by_type_id(categories(get(client, path))))
    explicit = create(client, attrs={"occi.compute.cores": 4}, mixins=(LARGE,))
    shown = attributes(get(client, explicit))
    assert shown["occi.compute.cores"] == 4 and shown["occi.compute.memory"] == 32.0
    assert [path_of(u) for u in locations(get(client, SMALL.location))] == [path]


# -- C8 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["my-vm", "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"])
def test_C8_put_creates_at_a_client_chosen_location(client, name):
    result = put_plain(client, f"/compute/{name}", f"Category: {COMPUTE_KIND}", "X-OCCI-Attribute: occi.compute.cores=2")
    assert result.status_code == 201
    assert result.headers["Location"] == f"{HOST}/compute/{name}"
    shown = attributes(get(client, f"/compute/{name}"))
    assert shown["occi.compute.cores"] == 2
    assert shown["occi.core.id"].startswith("urn:uuid:")
    if "-" in name and len(name) == 36:
        assert shown["occi.core.id"] == f"urn:uuid:{name}"
    assert collection_paths(client, "/compute/") == [f"/compute/{name}"]


def test_C8_put_outside_a_kind_collection_is_400(client):
    result = put_plain(client, "/nowhere/vm", f"Category: {COMPUTE_KIND}")
    assert result.status_code == 400
    result = put_plain(client, "/storage/x", f"Category: {COMPUTE_KIND}")
    assert result.status_code == 400


# -- C9 ---------------------------------------------------------------------------------------------
def test_C9_inline_link_on_create_creates_the_link(client):
    network = create(client, "network")
    link_line = (f'Link: <{HOST}{network}>; rel="{INFRA}network"; category="{NI}"; '
                 'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="00:11:22:33:44:55"')
    vm = create(client, extra=[link_line])
    rendered = [link for link in links(get(client, vm)) if "?action=" not in link.target]
    assert len(rendered) == 1
    link = rendered[0]
    assert link.target == HOST + network and link.rel == (INFRA + "network",)
    assert link.categories == (NI,)
    assert link.attributes["occi.networkinterface.interface"] == "eth0"
    assert link.attributes["occi.networkinterface.mac"] == "00:11:22:33:44:55"
    own = attributes(get(client, path_of(link.self_)))
    assert own["occi.core.source"] == HOST + vm and own["occi.core.target"] == HOST + network
    assert collection_paths(client, "/link/networkinterface/") == [path_of(link.self_)]


def test_C9_inline_link_with_bad_target_creates_nothing(client):
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}",
                        f'Link: <{HOST}/network/missing>; rel="{INFRA}network"; category="{NI}"; '
                        'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"')
    assert result.status_code == 400
    assert collection_paths(client, "/compute/") == []


# -- C10 --------------------------------------------------------------------------------------------
def test_C10_ids_are_unique_urn_uuids(client):
    ids = set()
    for _ in range(5):
        path = create(client)
        ident = attributes(get(client, path))["occi.core.id"]
        assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", ident)
        assert path.endswith(ident.removeprefix("urn:uuid:"))
        ids.add(ident)
    assert len(ids) == 5


def test_C10_a_client_id_that_is_taken_is_refused(client):
    ident = "urn:uuid:11111111-2222-4333-8444-555555555555"
    first = create(client, extra=[f'X-OCCI-Attribute: occi.core.id="{ident}"'])
    assert first == "/compute/11111111-2222-4333-8444-555555555555"
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}", f'X-OCCI-Attribute: occi.core.id="{ident}"')
    assert result.status_code == 409
    assert collection_paths(client, "/compute/") == [first]


# -- C11 --------------------------------------------------------------------------------------------
def test_C11_typed_values_on_the_wire(client):
    path = create(client, mixins=(FLAGS,), extra=[
        "X-OCCI-Attribute: org.example.test.enabled=true",
        "X-OCCI-Attribute: org.example.test.ratio=0.5",
        'X-OCCI-Attribute: org.example.test.label="say \\"hi\\", then \\\\ go"',
        "X-OCCI-Attribute: occi.compute.cores=2",
        "X-OCCI-Attribute: occi.compute.memory=1.5"])
    shown = attributes(get(client, path))
    assert shown["org.example.test.enabled"] is True
    assert shown["org.example.test.ratio"] == 0.5
    assert shown["org.example.test.label"] == 'say "hi", then \\ go'
    assert shown["occi.compute.cores"] == 2 and isinstance(shown["occi.compute.cores"], int)
    lines = plain_values(get(client, path).text, "X-OCCI-Attribute")
    assert "org.example.test.enabled=true" in lines
    assert "occi.compute.cores=2" in lines
    assert "occi.compute.memory=1.5" in lines
    assert 'org.example.test.label="say \\"hi\\", then \\\\ go"' in lines
    assert 'occi.compute.state="inactive"' in lines
    document = json_body(get(client, path, "application/occi+json"), "resource")
    assert document["attributes"]["org.example.test.enabled"] is True
    assert document["attributes"]["org.example.test.label"] == 'say "hi", then \\ go'


# -- C12 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("attribute", [
    'occi.compute.cores="2"', "occi.compute.cores=2.5", "occi.compute.cores=true", "occi.compute.cores=0",
    'occi.compute.memory="big"', 'occi.compute.architecture="arm"', "occi.compute.hostname=5",
    'org.example.test.enabled="true"', "org.example.test.ratio=false",
])
def test_C12_values_are_checked_against_the_attribute_type(client, attribute):
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}", f"Category: {mixin_category(FLAGS)}",
                        f"X-OCCI-Attribute: {attribute}")
    assert result.status_code == 400, attribute
    name = attribute.split("=")[0]
    assert f"where: {name}" in result.text
    assert collection_paths(client, "/compute/") == []


def test_C12_json_values_are_checked_too(client):
    for attrs in ({"occi.compute.cores": "2"}, {"occi.compute.cores": [2]}, {"occi.compute.memory": {"gb": 2}}):
        result = client.simulate_post("/compute/", headers={"Content-Type": "application/occi+json"},
                                      body=json.dumps({"kind": INFRA + "compute", "attributes": attrs}))
        assert result.status_code == 400, attrs
        assert next(iter(attrs)) in error_text(result)
    assert collection_paths(client, "/compute/") == []
