"""Checklist B: the query interface and discovery (docs/OCCI.md §9 B1–B15)."""
from __future__ import annotations

import re

import pytest

from checklist_support import (CORE, INFRA, SMALL, TPL, UBUNTU, attributes, by_type_id, categories, create,
                               error_text, get, header_values, json_body, locations, mixin_category, path_of,
                               plain_body, plain_values, post_plain)
from occi.model.infrastructure import IPNETWORK, OS_TPL

USER_SCHEME = "http://users.example/tags#"
USER_MIXIN = f'gold; scheme="{USER_SCHEME}"; class="mixin"; title="Gold customers"; location="/tags/gold/"'


def _discovery(client, path="/-/", accept="text/plain", **headers):
    result = get(client, path, accept, **headers)
    assert result.status_code == 200, result.text
    return result


def _add_user_mixin(client, line=USER_MIXIN):
    result = post_plain(client, "/-/", f"Category: {line}")
    assert result.status_code == 200, result.text
    return result


# -- B1 ---------------------------------------------------------------------------------------------
def test_B1_get_query_interface_returns_the_category_collection(client, model):
    result = _discovery(client)
    assert result.headers["Content-Type"] == "text/plain"
    names = {name for name, _ in (line.split(":", 1) for line in result.text.splitlines() if line)}
    assert names == {"Category"}
    listed = by_type_id(categories(result))
    assert set(listed) == {c.type_id for c in model.categories}
    assert listed[INFRA + "compute"].cls == "kind"
    assert listed[INFRA + "os_tpl"].cls == "mixin"
    assert listed["http://schemas.ogf.org/occi/infrastructure/compute/action#start"].cls == "action"


# -- B2 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", ["text/plain", "text/occi", "application/occi+json"])
def test_B2_well_known_location_is_identical_to_query_interface(client, accept):
    _add_user_mixin(client)
    plain = _discovery(client, "/-/", accept)
    well_known = _discovery(client, "/.well-known/org/ogf/occi/-/", accept)
    assert well_known.content == plain.content
    for name in ("Content-Type", "Category", "ETag"):
        assert well_known.headers.get(name) == plain.headers.get(name), name
    if accept == "application/occi+json":
        json_body(well_known, "model")
    filtered = {"Category": f'compute; scheme="{INFRA}"; class="kind"'}
    assert _discovery(client, "/.well-known/org/ogf/occi/-/", accept, **filtered).content == \
        _discovery(client, "/-/", accept, **filtered).content


# -- B3 ---------------------------------------------------------------------------------------------
def test_B3_core_kinds_entity_resource_link_are_listed(client):
    listed = by_type_id(categories(_discovery(client)))
    for term in ("entity", "resource", "link"):
        assert listed[CORE + term].cls == "kind", term
    assert listed[CORE + "entity"].attributes[0][0] == "occi.core.id"


# -- B4 ---------------------------------------------------------------------------------------------
def test_B4_every_kind_but_entity_has_a_location_ending_in_slash(client):
    kinds = [c for c in categories(_discovery(client)) if c.cls == "kind"]
    assert len(kinds) > 10
    for kind in kinds:
        if kind.scheme + kind.term == CORE + "entity":
            assert kind.location is None
        else:
            assert kind.location and kind.location.startswith("/") and kind.location.endswith("/"), kind
    for mixin in (c for c in categories(_discovery(client)) if c.cls == "mixin"):
        assert mixin.location.startswith("/") and mixin.location.endswith("/"), mixin
    document = json_body(_discovery(client, accept="application/occi+json"), "model")
    for kind in document["kinds"]:
        if kind["scheme"] + kind["term"] == CORE + "entity":
            assert "location" not in kind
        else:
            assert kind["location"].endswith("/") and kind["location"].startswith("/")


def test_B4_kind_locations_are_collections(client):
    for kind in (c for c in categories(_discovery(client)) if c.cls == "kind" and c.location):
        assert get(client, kind.location, "text/uri-list").status_code == 200, kind.location


# -- B5 ---------------------------------------------------------------------------------------------
def test_B5_every_kind_has_rel_to_its_parent_ending_at_entity(client):
    listed = by_type_id(categories(_discovery(client)))
    kinds = {tid: c for tid, c in listed.items() if c.cls == "kind"}
    assert kinds[CORE + "entity"].rel == ()
    for type_id, kind in kinds.items():
        chain, current = [type_id], kind
        while current.rel:
            assert len(current.rel) == 1, current
            parent = current.rel[0]
            assert parent in kinds, f"{type_id}: parent {parent} is not a listed kind"
            assert parent not in chain, "cycle"
            chain.append(parent)
            current = kinds[parent]
        assert chain[-1] == CORE + "entity", chain
    assert kinds[INFRA + "compute"].rel == (CORE + "resource",)
    assert kinds[INFRA + "networkinterface"].rel == (CORE + "link",)


# -- B6 ---------------------------------------------------------------------------------------------
def test_B6_attributes_carry_immutable_and_required_as_declared(client, model):
    result = _discovery(client)
    assert "{mutable}" not in result.text
    listed = by_type_id(categories(result))
    for category in (*model.kinds, *model.mixins):
        expected = getattr(category, "attribute_map")
        rendered = dict(listed[category.type_id].attributes)
        assert list(rendered) == list(expected), category.type_id
        for name, definition in expected.items():
            props = {p for p, on in (("immutable", not definition.mutable), ("required", definition.required)) if on}
            assert rendered[name] == props, (category.type_id, name)
    compute = dict(listed[INFRA + "compute"].attributes)
    assert compute["occi.compute.state"] == {"immutable", "required"}
    assert compute["occi.compute.cores"] == frozenset()
    assert dict(listed[INFRA + "storage"].attributes)["occi.storage.size"] == {"required"}
    assert 'occi.compute.state{immutable required}' in plain_values(result.text, "Category")[3]


# -- B7 ---------------------------------------------------------------------------------------------
def test_B7_actions_are_full_type_ids_and_listed_as_action_categories(client):
    listed = by_type_id(categories(_discovery(client)))
    actions = {tid: c for tid, c in listed.items() if c.cls == "action"}
    compute = listed[INFRA + "compute"]
    assert set(compute.actions) == {f"http://schemas.ogf.org/occi/infrastructure/compute/action#{t}"
                                    for t in ("start", "stop", "restart", "suspend", "save")}
    for category in listed.values():
        for action_id in category.actions:
            assert action_id in actions, f"{category.term}: action {action_id} is not listed"
        if category.cls == "action":
            assert category.actions == () and category.location is None and category.rel == ()
    stop = actions["http://schemas.ogf.org/occi/infrastructure/compute/action#stop"]
    assert [name for name, _ in stop.attributes] == ["method"]
    save = actions["http://schemas.ogf.org/occi/infrastructure/compute/action#save"]
    assert [name for name, _ in save.attributes] == ["method", "name"]
    kinds_without_actions = [c for c in listed.values() if c.cls == "kind" and not c.actions]
    assert INFRA + "storagelink" in {c.scheme + c.term for c in kinds_without_actions}


# -- B8 ---------------------------------------------------------------------------------------------
_LINE = re.compile(
    r'^(?P<term>[a-z0-9][a-z0-9_\-]*)'           # also satisfies the stricter 1.1 term
    r'; scheme="(?P<scheme>[^"\s]+#)"'
    r'; class=(?P<cls>kind|mixin|action)'         # class unquoted (OCCI.md §8)
    r'(?:; title="(?:[^"\\]|\\.)*")?'
    r'(?:; rel="[^"\s]+#[A-Za-z0-9_.\-]+")?'
    r'(?:; location="/[^"\s]*/")?'
    r'(?:; attributes="[A-Za-z0-9_.\-]+(?:\{(?:immutable|required|immutable required)\})?'
    r'(?: [A-Za-z0-9_.\-]+(?:\{(?:immutable|required|immutable required)\})?)*")?'
    r'(?:; actions="[^"\s]+#[a-z0-9_\-]+(?: [^"\s]+#[a-z0-9_\-]+)*")?$')


def test_B8_category_syntax_is_exact(client):
    _add_user_mixin(client)
    values = plain_values(_discovery(client).text, "Category")
    seen = set()
    for value in values:
        match = _LINE.match(value)
        assert match, f"bad Category syntax: {value}"
        type_id = match["scheme"] + match["term"]
        assert type_id not in seen, f"duplicate {type_id}"
        seen.add(type_id)
    assert len(seen) == len(values)
    for value in header_values(_discovery(client, accept="text/occi"), "Category"):
        assert _LINE.match(value), value


# -- B9 ---------------------------------------------------------------------------------------------
def test_B9_category_filter_returns_only_related_categories(client):
    result = _discovery(client, **{"Category": f'compute; scheme="{INFRA}"; class="kind"'})
    listed = set(by_type_id(categories(result)))
    assert INFRA + "compute" in listed
    assert "http://schemas.ogf.org/occi/infrastructure/compute/action#stop" in listed
    assert CORE + "resource" in listed
    for unrelated in (INFRA + "storage", INFRA + "network", "http://schemas.ogf.org/occi/sla#agreement",
                      "http://schemas.ogf.org/occi/infrastructure/storage/action#online"):
        assert unrelated not in listed
    mixin = _discovery(client, **{"Category": mixin_category(OS_TPL)})
    related = set(by_type_id(categories(mixin)))
    assert {OS_TPL.type_id, UBUNTU.type_id} <= related
    assert INFRA + "storage" not in related and SMALL.type_id not in related


def test_B9_unknown_category_filter_is_404(client):
    result = get(client, "/-/", Category='nothing; scheme="http://nowhere.example/#"; class="kind"')
    assert result.status_code in (400, 404)
    assert "nothing" in result.text


# -- B10 --------------------------------------------------------------------------------------------
def test_B10_filters_apply_to_gets_without_content_type(client):
    headers = {"Category": f'network; scheme="{INFRA}"; class="kind"'}
    result = client.simulate_get("/-/", headers={"Accept": "text/plain", **headers})
    listed = set(by_type_id(categories(result)))
    assert INFRA + "network" in listed and INFRA + "compute" not in listed
    create(client, attrs={"occi.compute.hostname": "a"})
    wanted = create(client, attrs={"occi.compute.hostname": "b"})
    listing = client.simulate_get("/compute/", headers={"X-OCCI-Attribute": 'occi.compute.hostname="b"'})
    assert [path_of(u) for u in locations(listing)] == [wanted]
    listing = client.simulate_get("/compute/", headers={"Content-Type": "text/occi",
                                                        "X-OCCI-Attribute": 'occi.compute.hostname="b"'})
    assert [path_of(u) for u in locations(listing)] == [wanted]


# -- B11 --------------------------------------------------------------------------------------------
def test_B11_post_user_mixin_returns_200_and_is_discoverable(client):
    before = _discovery(client)
    result = _add_user_mixin(client)
    assert result.status_code == 200
    after = by_type_id(categories(_discovery(client)))
    assert after[USER_SCHEME + "gold"].location == "/tags/gold/"
    assert after[USER_SCHEME + "gold"].title == "Gold customers"
    assert after[USER_SCHEME + "gold"].cls == "mixin"
    assert _discovery(client).headers["ETag"] != before.headers["ETag"]
    collection = get(client, "/tags/gold/")
    assert collection.status_code == 200 and locations(collection) == []
    vm = create(client)
    assert post_plain(client, "/tags/gold/", f"X-OCCI-Location: {vm}").status_code == 200
    assert [path_of(u) for u in locations(get(client, "/tags/gold/"))] == [vm]


def test_B11_user_mixin_as_json_and_text_occi(client):
    result = client.simulate_post("/-/", headers={"Content-Type": "text/occi", "Accept": "text/occi",
                                                  "Category": f'silver; scheme="{USER_SCHEME}"; class="mixin"; '
                                                              'location="/tags/silver/"'})
    assert result.status_code == 200 and result.text == "OK"
    result = client.simulate_post("/-/", headers={"Content-Type": "application/occi+json",
                                                  "Accept": "application/occi+json"},
                                  body='{"mixins": [{"term": "bronze", "scheme": "%s", "location": "/tags/bronze/"}]}'
                                  % USER_SCHEME)
    assert result.status_code == 200
    created = json_body(result, "mixin_collection")
    assert created["mixins"][0]["location"] == "/tags/bronze/"
    listed = by_type_id(categories(_discovery(client)))
    assert {USER_SCHEME + "silver", USER_SCHEME + "bronze"} <= set(listed)


# -- B12 --------------------------------------------------------------------------------------------
def test_B12_user_mixin_with_unknown_rel_is_400_by_policy(client):
    result = post_plain(client, "/-/", f'Category: {USER_MIXIN}; rel="http://nowhere.example/x#unknown"')
    assert result.status_code == 400
    assert "http://nowhere.example/x#unknown" in result.text
    assert "rel" in result.text
    assert USER_SCHEME + "gold" not in by_type_id(categories(_discovery(client)))
    ok = post_plain(client, "/-/", f'Category: {USER_MIXIN}; rel="{OS_TPL.type_id}"')
    assert ok.status_code == 200
    assert by_type_id(categories(_discovery(client)))[USER_SCHEME + "gold"].rel == (OS_TPL.type_id,)


# -- B13 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", [
    f'gold; scheme="{USER_SCHEME}"; class="mixin"; location="/tags/other/"',      # same scheme+term
    f'platinum; scheme="{USER_SCHEME}"; class="mixin"; location="/tags/gold/"',   # same location
    f'platinum; scheme="{USER_SCHEME}"; class="mixin"; location="/compute/"',     # a kind's location
    f'ubuntu; scheme="{TPL}"; class="mixin"; location="/mine/"',                  # a provider mixin's id
    f'compute; scheme="{INFRA}"; class="mixin"; location="/mine/"',               # a kind's id
])
def test_B13_colliding_user_mixin_is_rejected(client, line):
    _add_user_mixin(client)
    before = plain_values(_discovery(client).text, "Category")
    result = post_plain(client, "/-/", f"Category: {line}")
    assert result.status_code in (400, 409), result.status
    assert plain_values(_discovery(client).text, "Category") == before


# -- B14 --------------------------------------------------------------------------------------------
def test_B14_delete_user_mixin_removes_it_and_its_associations(client):
    _add_user_mixin(client)
    vm = create(client, extra=[f'Category: gold; scheme="{USER_SCHEME}"; class="mixin"'])
    assert USER_SCHEME + "gold" in by_type_id(categories(get(client, vm)))
    result = client.simulate_delete("/-/", headers={"Content-Type": "text/plain"},
                                    body=plain_body(f'Category: gold; scheme="{USER_SCHEME}"; class="mixin"'))
    assert result.status_code == 200
    assert USER_SCHEME + "gold" not in by_type_id(categories(_discovery(client)))
    assert USER_SCHEME + "gold" not in by_type_id(categories(get(client, vm)))
    assert get(client, "/tags/gold/").status_code == 404
    assert attributes(get(client, vm))["occi.compute.state"] == "inactive"


# -- B15 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", [f'compute; scheme="{INFRA}"; class="kind"', mixin_category(OS_TPL),
                                  mixin_category(UBUNTU), mixin_category(IPNETWORK),
                                  f'entity; scheme="{CORE}"; class="kind"'])
def test_B15_deleting_a_provider_category_is_403(client, line):
    before = _discovery(client).text
    result = client.simulate_delete("/-/", headers={"Content-Type": "text/plain"}, body=plain_body(f"Category: {line}"))
    assert result.status_code == 403
    assert "provider" in error_text(result)
    assert _discovery(client).text == before
