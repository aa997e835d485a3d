"""Checklist G: filtering collections (docs/OCCI.md §9 G1–G2)."""
from __future__ import annotations

from checklist_support import (FLAGS, INFRA, UBUNTU, create, get, header_values, json_body, locations,
                               mixin_category, path_of)


def _listed(result):
    assert result.status_code == 200, result.text
    return [path_of(u) for u in locations(result)]


# -- G1 ---------------------------------------------------------------------------------------------
def test_G1_attribute_filter_returns_only_matching_entities(client):
    a = create(client, attrs={"occi.compute.hostname": "x", "occi.compute.cores": 2})
    b = create(client, attrs={"occi.compute.hostname": "y", "occi.compute.cores": 2})
    create(client, attrs={"occi.compute.hostname": "x, y"})
    assert _listed(client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.hostname="x"'})) == [a]
    assert _listed(client.simulate_get("/compute/", headers={"X-OCCI-Attribute": "occi.compute.cores=2"})) == [a, b]
    both = client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.cores=2, occi.compute.hostname="y"'})
    assert _listed(both) == [b]
    assert _listed(client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.hostname="z"'})) == []
    # A number never matches a string.
    assert _listed(client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.cores="2"'})) == []


def test_G1_attribute_filter_in_every_listing_rendering(client):
    a = create(client, attrs={"occi.compute.hostname": "x"})
    create(client, attrs={"occi.compute.hostname": "y"})
    headers = {"X-OCCI-Attribute": 'occi.compute.hostname="x"'}
    occi = client.simulate_get("/compute/", headers={"Accept": "text/occi", **headers})
    assert [path_of(u) for u in header_values(occi, "X-OCCI-Location")] == [a]
    uri_list = client.simulate_get("/compute/", headers={"Accept": "text/uri-list", **headers})
    assert [path_of(u) for u in uri_list.text.split()] == [a]
    document = json_body(client.simulate_get("/compute/", headers={"Accept": "application/occi+json", **headers}),
                         "resource_collection")
    assert [r["attributes"]["occi.compute.hostname"] for r in document["resources"]] == ["x"]
    by_state = client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.state="inactive"'})
    assert len(_listed(by_state)) == 2


# -- G2 ---------------------------------------------------------------------------------------------
def test_G2_category_filter_returns_only_entities_with_the_mixin(client):
    plain = create(client)
    tagged = create(client, mixins=(UBUNTU,))
    flagged = create(client, mixins=(FLAGS, UBUNTU))
    result = client.simulate_get("/compute/", headers={"Category": mixin_category(UBUNTU)})
    assert _listed(result) == [tagged, flagged]
    result = client.simulate_get("/compute/", headers={"Category": mixin_category(FLAGS)})
    assert _listed(result) == [flagged]
    # 1.2: the same through the mixin's own collection.
    assert _listed(get(client, UBUNTU.location)) == [tagged, flagged]
    assert plain not in _listed(client.simulate_get("/compute/", headers={"Category": mixin_category(UBUNTU)}))


def test_G2_kind_filter_on_a_parent_collection(client):
    vm = create(client)
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    result = client.simulate_get("/resource/", headers={"Category": f'storage; scheme="{INFRA}"; class="kind"'})
    assert _listed(result) == [disk]
    combined = client.simulate_get("/resource/", headers=[
        ("Category", f'compute; scheme="{INFRA}"; class="kind"'), ("X-OCCI-Attribute", 'occi.compute.state="inactive"')])
    assert _listed(combined) == [vm]


def test_G2_unknown_category_filter_is_400(client):
    result = client.simulate_get("/compute/", headers={"Category": 'nope; scheme="http://nowhere.example/#"; class="mixin"'})
    assert result.status_code == 400
    assert "where: Category" in result.text
