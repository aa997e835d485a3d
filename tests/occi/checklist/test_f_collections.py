"""Checklist F: collections and mixins (docs/OCCI.md §9 F1–F10)."""
from __future__ import annotations


import pytest

from checklist_support import (COMPUTE_KIND, FLAGS, HOST, INFRA, UBUNTU, by_type_id, categories, collection_paths,
                               create, get, header_values, json_body, locations, path_of, plain_body, plain_values,
                               post_plain, put_plain)

TAGS = "http://users.example/tags#"


def _user_mixin(client, term="gold"):
    result = post_plain(client, "/-/", f'Category: {term}; scheme="{TAGS}"; class="mixin"; location="/tags/{term}/"')
    assert result.status_code == 200, result.text
    return f"/tags/{term}/"


def _mixins_of(client, path):
    return {tid for tid, c in by_type_id(categories(get(client, path))).items() if c.cls == "mixin"}


# -- F1 ---------------------------------------------------------------------------------------------
def test_F1_kind_collection_in_every_rendering(client):
    vms = [create(client), create(client)]
    urls = [HOST + vm for vm in vms]
    occi = get(client, "/compute/", "text/occi")
    assert occi.status_code == 200 and occi.text == "OK"
    assert header_values(occi, "X-OCCI-Location") == urls
    plain = get(client, "/compute/", "text/plain")
    assert plain.status_code == 200 and plain_values(plain.text, "X-OCCI-Location") == urls
    assert "X-OCCI-Location" not in plain.headers
    uri_list = get(client, "/compute/", "text/uri-list")
    assert uri_list.text.split() == urls
    document = json_body(get(client, "/compute/", "application/occi+json"), "resource_collection")
    assert [r["id"] for r in document["resources"]] == ["urn:uuid:" + vm.rsplit("/", 1)[1] for vm in vms]


@pytest.mark.parametrize("accept", ["text/plain", "text/occi", "text/uri-list", "application/occi+json"])
def test_F1_empty_collection_is_200(client, accept):
    result = get(client, "/storage/", accept)
    assert result.status_code == 200
    if accept == "application/occi+json":
        assert json_body(result, "resource_collection") == {"resources": []}
    elif accept == "text/occi":
        assert "X-OCCI-Location" not in result.headers and result.text == "OK"
    else:
        assert result.text.strip() == ""


def test_F1_link_collection_in_json(client):
    network = create(client, "network")
    create(client, extra=[f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"; '
                          'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"'])
    document = json_body(get(client, "/link/networkinterface/", "application/occi+json"), "link_collection")
    assert len(document["links"]) == 1
    assert document["links"][0]["target"]["location"] == HOST + network


# -- F2 ---------------------------------------------------------------------------------------------
def test_F2_text_occi_and_uri_list_give_the_same_uris(client):
    for _ in range(4):
        create(client)
    occi = header_values(get(client, "/compute/", "text/occi"), "X-OCCI-Location")
    uri_list = get(client, "/compute/", "text/uri-list").text.split()
    plain = plain_values(get(client, "/compute/", "text/plain").text, "X-OCCI-Location")
    assert occi == uri_list == plain
    assert len(occi) == 4


# -- F3 ---------------------------------------------------------------------------------------------
def test_F3_locations_are_absolute_and_dereferenceable(client):
    create(client, "storage", {"occi.storage.size": 1.0})
    for url in locations(get(client, "/storage/")):
        assert url.startswith("http://falconframework.org/storage/")
        assert get(client, path_of(url)).status_code == 200


def test_F3_public_url_sets_the_base(model, store):
    from checklist_support import CheckedClient
    from occi.server import create_app
    client = CheckedClient(create_app(model=model, store=store, public_url="https://occi.example:8443"))
    result = client.simulate_post("/compute/", headers={"Content-Type": "text/occi", "Category": COMPUTE_KIND})
    assert result.headers["Location"].startswith("https://occi.example:8443/compute/")
    assert get(client, "/compute/").text.strip() == "X-OCCI-Location: " + result.headers["Location"]


# -- F4 ---------------------------------------------------------------------------------------------
def test_F4_post_to_a_mixin_collection_associates(client):
    gold = _user_mixin(client)
    vms = [create(client), create(client)]
    result = client.simulate_post(gold, headers={"Content-Type": "text/occi", "X-OCCI-Location": HOST + vms[0]})
    assert result.status_code == 200
    assert [path_of(u) for u in locations(result)] == [vms[0]]
    assert TAGS + "gold" in _mixins_of(client, vms[0])
    assert TAGS + "gold" not in _mixins_of(client, vms[1])
    result = post_plain(client, gold, f"X-OCCI-Location: {vms[1]}", accept="application/occi+json")
    assert result.status_code == 200
    assert len(json_body(result, "resource_collection")["resources"]) == 2
    assert collection_paths(client, gold) == vms


def test_F4_association_checks_applies(client):
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    result = post_plain(client, FLAGS.location, f"X-OCCI-Location: {HOST}{disk}")
    assert result.status_code == 400
    assert collection_paths(client, FLAGS.location) == []
    missing = post_plain(client, FLAGS.location, f"X-OCCI-Location: {HOST}/compute/missing")
    assert missing.status_code in (400, 404)


# -- F5 ---------------------------------------------------------------------------------------------
def test_F5_put_on_a_mixin_collection_replaces_membership(client):
    gold = _user_mixin(client)
    a, b, c = create(client), create(client), create(client)
    post_plain(client, gold, f"X-OCCI-Location: {a}", f"X-OCCI-Location: {b}")
    result = client.simulate_put(gold, headers={"Content-Type": "text/occi",
                                                "X-OCCI-Location": f"{HOST}{b}, {HOST}{c}"})
    assert result.status_code == 200
    assert sorted(path_of(u) for u in header_values(result, "X-OCCI-Location")) == sorted([b, c]) or \
        sorted(path_of(u) for u in locations(result)) == sorted([b, c])
    assert sorted(collection_paths(client, gold)) == sorted([b, c])
    assert TAGS + "gold" not in _mixins_of(client, a)
    assert put_plain(client, gold).status_code == 200      # an empty list empties it
    assert collection_paths(client, gold) == []


# -- F6 ---------------------------------------------------------------------------------------------
def test_F6_delete_on_a_mixin_collection_disassociates_the_listed(client):
    gold = _user_mixin(client)
    a, b = create(client), create(client)
    post_plain(client, gold, f"X-OCCI-Location: {a}", f"X-OCCI-Location: {b}")
    result = client.simulate_delete(gold, headers={"Content-Type": "text/plain"}, body=plain_body(f"X-OCCI-Location: {HOST}{a}"))
    assert result.status_code == 200
    assert collection_paths(client, gold) == [b]
    assert TAGS + "gold" not in _mixins_of(client, a)
    assert get(client, a).status_code == 200               # the entity itself stays
    assert client.simulate_delete(gold).status_code == 200  # no list: all of them
    assert collection_paths(client, gold) == []
    assert collection_paths(client, "/compute/") == [a, b]


def test_F6_disassociating_a_template(client):
    vm = create(client, mixins=(UBUNTU,))
    result = client.simulate_delete(UBUNTU.location, headers={"Content-Type": "text/occi", "X-OCCI-Location": vm})
    assert result.status_code == 200
    assert UBUNTU.type_id not in _mixins_of(client, vm)


# -- F7 ---------------------------------------------------------------------------------------------
def test_F7_delete_on_a_kind_collection_deletes_every_member(client):
    for _ in range(3):
        create(client)
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    result = client.simulate_delete("/compute/")
    assert result.status_code in (200, 204)
    assert collection_paths(client, "/compute/") == []
    assert collection_paths(client, "/storage/") == [disk]


# -- F8 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/compute/", "/link/networkinterface/", "/resource/"])
def test_F8_put_on_a_kind_collection_is_405(client, path):
    vm = create(client)
    result = client.simulate_put(path, headers={"Content-Type": "text/occi", "X-OCCI-Location": vm})
    assert result.status_code == 405
    allowed = {m.strip() for m in result.headers["Allow"].split(",")}
    assert "PUT" not in allowed and {"GET", "POST", "DELETE"} <= allowed
    assert collection_paths(client, "/compute/") == [vm]


# -- F9 ---------------------------------------------------------------------------------------------
def test_F9_pagination(client):
    vms = [create(client) for _ in range(5)]
    page = lambda q, accept="text/uri-list": client.simulate_get("/compute/", query_string=q,
                                                                 headers={"Accept": accept})
    assert [path_of(u) for u in page("page=1&number=2").text.split()] == vms[:2]
    assert [path_of(u) for u in page("page=2&number=2").text.split()] == vms[2:4]
    assert [path_of(u) for u in page("page=3&number=2").text.split()] == vms[4:]
    beyond = page("page=9&number=2")
    assert beyond.status_code == 200 and beyond.text == ""
    beyond_json = page("page=9&number=2", "application/occi+json")
    assert beyond_json.status_code == 200
    assert json_body(beyond_json, "resource_collection") == {"resources": []}
    assert len(json_body(page("page=1&number=3", "application/occi+json"), "resource_collection")["resources"]) == 3


@pytest.mark.parametrize("query", ["number=100000", "page=1&number=1001"])
def test_F9_too_large_number_is_413(client, query):
    result = client.simulate_get("/compute/", query_string=query)
    assert result.status_code == 413
    assert "where: ?number" in result.text


# -- F10 --------------------------------------------------------------------------------------------
def test_F10_unbound_path_lists_what_is_below(client):
    vm = create(client)
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    network = create(client, "network")
    create(client, extra=[f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"; '
                          'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"'])
    root = get(client, "/", "text/uri-list")
    assert root.status_code == 200
    listed = [path_of(u) for u in root.text.split()]
    assert {vm, disk, network} <= set(listed)
    assert len(listed) == 5                   # and the link
    document = json_body(get(client, "/", "application/occi+json"), "model")
    assert len(document["resources"]) == 4 and len(document["links"]) == 1
    below = [path_of(u) for u in get(client, "/link/", "text/uri-list").text.split()]
    assert len(below) == 1 and below[0].startswith("/link/networkinterface/")
