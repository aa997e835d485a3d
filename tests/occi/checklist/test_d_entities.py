"""Checklist D: entity read, update, delete (docs/OCCI.md §9 D1–D12)."""
from __future__ import annotations

import json

import pytest

from checklist_support import (COMPUTE_ACTION, COMPUTE_KIND, DEBIAN, FLAGS, HOST, INFRA, LARGE, SMALL, UBUNTU,
                               attributes, by_type_id, categories, collection_paths, create, get, json_body, links,
                               mixin_category, path_of, plain_lines, post_plain, put_plain)

NI = f"{INFRA}networkinterface"


def _with_interface(client):
    network = create(client, "network")
    vm = create(client, attrs={"occi.compute.hostname": "vm"}, extra=[
        f'Link: <{HOST}{network}>; rel="{INFRA}network"; category="{NI}"; '
        'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="00:11:22:33:44:55"'])
    link = next(link for link in links(get(client, vm)) if "?action=" not in link.target)
    return vm, network, path_of(link.self_)


def _resource_links(result):
    return [link for link in links(result) if "?action=" not in link.target]


def _action_links(result):
    return [link for link in links(result) if "?action=" in link.target]


# -- D1 ---------------------------------------------------------------------------------------------
def test_D1_get_entity_renders_kind_mixins_links_and_attributes(client):
    network = create(client, "network")
    vm = create(client, attrs={"occi.compute.cores": 2}, mixins=(UBUNTU, SMALL), extra=[
        f'Link: <{HOST}{network}>; rel="{INFRA}network"; category="{NI}"; '
        'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"'])
    result = get(client, vm)
    assert result.status_code == 200
    names = [name for name, _ in plain_lines(result.text)]
    # GFD.229 §5: Categories, then Links, then attributes.
    assert names == sorted(names, key=["Category", "Link", "X-OCCI-Attribute"].index)
    rendered = categories(result)
    assert [c.cls for c in rendered] == ["kind", "mixin", "mixin"]
    assert rendered[0].scheme + rendered[0].term == INFRA + "compute"
    assert {c.scheme + c.term for c in rendered[1:]} == {UBUNTU.type_id, SMALL.type_id}
    assert len(_resource_links(result)) == 1 and _action_links(result)
    shown = attributes(result)
    assert shown["occi.core.id"] == "urn:uuid:" + vm.rsplit("/", 1)[1]
    assert shown["occi.compute.cores"] == 2 and shown["occi.compute.state"] == "inactive"
    assert result.headers["ETag"]


# -- D2 ---------------------------------------------------------------------------------------------
def test_D2_action_links_only_for_applicable_actions(client):
    vm = create(client)
    inactive = _action_links(get(client, vm))
    assert {link.rel[0] for link in inactive} == {COMPUTE_ACTION + "start", COMPUTE_ACTION + "save"}
    for link in inactive:
        term = link.rel[0].split("#")[1]
        assert link.target == f"{HOST}{vm}?action={term}"
        assert link.self_ is None and link.categories == ()
    assert post_plain(client, vm, query="action=start").status_code == 200
    active = {link.rel[0] for link in _action_links(get(client, vm))}
    assert active == {COMPUTE_ACTION + t for t in ("stop", "restart", "suspend", "save")}
    raw = [value for name, value in plain_lines(get(client, vm).text) if name == "Link"]
    assert f'<{HOST}{vm}?action=stop>; rel="{COMPUTE_ACTION}stop"' in raw
    document = json_body(get(client, vm, "application/occi+json"), "resource")
    assert set(document["actions"]) == active


# -- D3 ---------------------------------------------------------------------------------------------
def test_D3_outgoing_links_render_self_category_and_attributes(client):
    vm, network, link_path = _with_interface(client)
    (link,) = _resource_links(get(client, vm))
    assert link.target == HOST + network
    assert link.rel == (INFRA + "network",)
    assert link.self_ == HOST + link_path
    assert link.categories == (NI,)
    assert link.attributes["occi.networkinterface.interface"] == "eth0"
    assert link.attributes["occi.networkinterface.mac"] == "00:11:22:33:44:55"
    assert link.attributes["occi.networkinterface.state"] == "inactive"
    assert link.attributes["occi.core.id"] == "urn:uuid:" + link_path.rsplit("/", 1)[1]
    document = json_body(get(client, vm, "application/occi+json"), "resource")
    (linked,) = document["links"]
    assert linked["target"] == {"location": HOST + network, "kind": INFRA + "network"}
    assert linked["source"]["location"] == HOST + vm


# -- D4 ---------------------------------------------------------------------------------------------
def test_D4_partial_update_changes_only_the_named_attributes(client):
    vm = create(client, attrs={"occi.compute.cores": 2, "occi.compute.hostname": "old", "occi.core.title": "t"})
    result = post_plain(client, vm, 'X-OCCI-Attribute: occi.compute.hostname="new"')
    assert result.status_code == 200
    assert attributes(result)["occi.compute.hostname"] == "new"
    shown = attributes(get(client, vm))
    assert shown["occi.compute.hostname"] == "new"
    assert shown["occi.compute.cores"] == 2 and shown["occi.core.title"] == "t"
    assert shown["occi.compute.state"] == "inactive"


def test_D4_partial_update_adds_a_mixin_and_keeps_the_others(client):
    vm = create(client, mixins=(UBUNTU,))
    result = post_plain(client, vm, f"Category: {mixin_category(FLAGS)}", "X-OCCI-Attribute: org.example.test.enabled=true")
    assert result.status_code == 200
    shown = by_type_id(categories(get(client, vm)))
    assert {UBUNTU.type_id, FLAGS.type_id} <= set(shown)
    assert attributes(get(client, vm))["org.example.test.enabled"] is True


# -- D5 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("attribute", [
    'occi.compute.state="active"', 'occi.compute.state.message="hacked"',
    'occi.core.id="urn:uuid:00000000-0000-4000-8000-000000000000"'])
def test_D5_changing_an_immutable_attribute_is_403(client, attribute):
    vm = create(client)
    before = get(client, vm).text
    result = post_plain(client, vm, f"X-OCCI-Attribute: {attribute}")
    assert result.status_code == 403, result.text
    assert f"where: {attribute.split('=')[0]}" in result.text
    assert get(client, vm).text == before


def test_D5_immutable_attribute_of_a_link_and_through_put(client):
    vm, _, link_path = _with_interface(client)
    result = post_plain(client, link_path, 'X-OCCI-Attribute: occi.networkinterface.interface="eth1"')
    assert result.status_code == 403
    assert attributes(get(client, link_path))["occi.networkinterface.interface"] == "eth0"
    result = put_plain(client, vm, f"Category: {COMPUTE_KIND}", 'X-OCCI-Attribute: occi.compute.state="active"')
    assert result.status_code == 403
    # Repeating the current value of an immutable attribute is not a change.
    same = post_plain(client, link_path, 'X-OCCI-Attribute: occi.networkinterface.interface="eth0"')
    assert same.status_code == 200


# -- D6 ---------------------------------------------------------------------------------------------
def test_D6_changing_the_kind_is_refused(client):
    vm = create(client)
    for request in (post_plain, put_plain):
        result = request(client, vm, f'Category: storage; scheme="{INFRA}"; class="kind"',
                         "X-OCCI-Attribute: occi.storage.size=1.0")
        assert result.status_code == 400
        assert "kind" in result.text
    assert categories(get(client, vm))[0].term == "compute"
    assert collection_paths(client, "/storage/") == []


# -- D7 ---------------------------------------------------------------------------------------------
def test_D7_put_replaces_attributes_and_keeps_links(client):
    vm, network, link_path = _with_interface(client)
    post_plain(client, vm, "X-OCCI-Attribute: occi.compute.cores=2", 'X-OCCI-Attribute: occi.core.title="t"')
    result = put_plain(client, vm, f"Category: {COMPUTE_KIND}", "X-OCCI-Attribute: occi.compute.cores=4")
    assert result.status_code == 200
    shown = attributes(get(client, vm))
    assert shown["occi.compute.cores"] == 4
    assert "occi.compute.hostname" not in shown and "occi.core.title" not in shown
    assert shown["occi.compute.state"] == "inactive"           # server-managed, kept
    (link,) = _resource_links(get(client, vm))
    assert link.self_ == HOST + link_path
    assert get(client, link_path).status_code == 200


def test_D7_put_replaces_mixins(client):
    vm = create(client, mixins=(UBUNTU, FLAGS), extra=["X-OCCI-Attribute: org.example.test.enabled=true"])
    result = put_plain(client, vm, f"Category: {COMPUTE_KIND}", f"Category: {mixin_category(UBUNTU)}")
    assert result.status_code == 200
    assert set(by_type_id(categories(get(client, vm)))) == {INFRA + "compute", UBUNTU.type_id}
    assert "org.example.test.enabled" not in attributes(get(client, vm))


def test_D7_put_with_json(client):
    vm = create(client, attrs={"occi.compute.hostname": "h"})
    result = client.simulate_put(vm, headers={"Content-Type": "application/occi+json", "Accept": "application/occi+json"},
                                 body=json.dumps({"kind": INFRA + "compute", "attributes": {"occi.compute.cores": 3}}))
    assert result.status_code == 200
    document = json_body(result, "resource")
    assert document["attributes"]["occi.compute.cores"] == 3 and "occi.compute.hostname" not in document["attributes"]


# -- D8 ---------------------------------------------------------------------------------------------
def test_D8_new_link_headers_in_put_are_400(client):
    vm, network, link_path = _with_interface(client)
    other = create(client, "network")
    before = get(client, vm).text
    result = put_plain(client, vm, f"Category: {COMPUTE_KIND}",
                       f'Link: <{HOST}{other}>; rel="{INFRA}network"; category="{NI}"; '
                       'occi.networkinterface.interface="eth1"; occi.networkinterface.mac="m"')
    assert result.status_code == 400
    assert "where: line 2" in result.text
    assert get(client, vm).text == before
    assert collection_paths(client, "/link/networkinterface/") == [link_path]


def test_D8_put_repeating_the_fetched_rendering_is_accepted(client):
    """OCCI.md §7: Link headers repeating existing links or action links are ignored."""
    vm, _, link_path = _with_interface(client)
    fetched = get(client, vm).text
    result = client.simulate_put(vm, headers={"Content-Type": "text/plain"}, body=fetched)
    assert result.status_code == 200, result.text
    assert collection_paths(client, "/link/networkinterface/") == [link_path]
    assert attributes(get(client, vm))["occi.compute.hostname"] == "vm"


def test_D8_put_repeating_the_fetched_json_is_accepted(client):
    vm, _, link_path = _with_interface(client)
    fetched = json_body(get(client, vm, "application/occi+json"), "resource")
    fetched["attributes"]["occi.compute.cores"] = 2
    result = client.simulate_put(vm, headers={"Content-Type": "application/occi+json",
                                              "Accept": "application/occi+json"}, body=json.dumps(fetched))
    assert result.status_code == 200, result.text
    replaced = json_body(result, "resource")
    assert replaced["attributes"]["occi.compute.cores"] == 2
    assert [link["id"] for link in replaced["links"]] == [link["id"] for link in fetched["links"]]
    assert collection_paths(client, "/link/networkinterface/") == [link_path]
    fetched["links"][0]["id"] = "urn:uuid:5a3c1f57-32ac-4bd8-93f8-4c2c8e1a0e02"   # not an existing link
    result = client.simulate_put(vm, headers={"Content-Type": "application/occi+json"}, body=json.dumps(fetched))
    assert result.status_code == 400


# -- D9 ---------------------------------------------------------------------------------------------
def test_D9_delete_then_get_is_404(client):
    vm = create(client)
    result = client.simulate_delete(vm)
    assert result.status_code in (200, 204)
    assert get(client, vm).status_code == 404
    assert collection_paths(client, "/compute/") == []
    assert client.simulate_delete(vm).status_code == 404


# -- D10 --------------------------------------------------------------------------------------------
def test_D10_deleting_a_resource_deletes_its_links(client):
    vm, network, link_path = _with_interface(client)
    assert client.simulate_delete(vm).status_code in (200, 204)
    assert get(client, link_path).status_code == 404
    assert collection_paths(client, "/link/networkinterface/") == []
    assert get(client, network).status_code == 200


def test_D10_deleting_a_target_deletes_the_links_to_it(client):
    vm, network, link_path = _with_interface(client)
    assert client.simulate_delete(network).status_code in (200, 204)
    assert get(client, link_path).status_code == 404
    assert _resource_links(get(client, vm)) == []


def test_D10_deleting_a_link_updates_its_source(client):
    vm, network, link_path = _with_interface(client)
    assert client.simulate_delete(link_path).status_code in (200, 204)
    assert _resource_links(get(client, vm)) == []
    assert get(client, vm).status_code == get(client, network).status_code == 200


# -- D11 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/compute/does-not-exist", "/compute/0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                                  "/link/networkinterface/x", "/nowhere/at-all"])
def test_D11_get_of_a_missing_entity_is_404(client, path):
    result = get(client, path)
    assert result.status_code == 404
    assert path in result.text


# -- D12 --------------------------------------------------------------------------------------------
def test_D12_a_new_template_replaces_the_old_one(client):
    vm = create(client, mixins=(UBUNTU, SMALL))
    result = post_plain(client, vm, f"Category: {mixin_category(DEBIAN)}")
    assert result.status_code == 200
    shown = set(by_type_id(categories(get(client, vm))))
    assert DEBIAN.type_id in shown and UBUNTU.type_id not in shown and SMALL.type_id in shown
    post_plain(client, vm, f"Category: {mixin_category(LARGE)}")
    shown = set(by_type_id(categories(get(client, vm))))
    assert LARGE.type_id in shown and SMALL.type_id not in shown
    assert attributes(get(client, vm))["occi.compute.cores"] == 8
    assert collection_paths(client, UBUNTU.location) == []
    assert collection_paths(client, DEBIAN.location) == [vm]


def test_D12_two_templates_of_one_kind_at_once_are_refused(client):
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}", f"Category: {mixin_category(UBUNTU)}",
                        f"Category: {mixin_category(DEBIAN)}")
    assert result.status_code == 400
    assert collection_paths(client, "/compute/") == []
