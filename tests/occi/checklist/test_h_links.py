"""Checklist H: links (docs/OCCI.md §9 H1–H4)."""
from __future__ import annotations

import json

import pytest

from checklist_support import (HOST, INFRA, attributes, categories, collection_paths, create, get, json_body, links,
                               path_of, post_plain)

NI_KIND = f'networkinterface; scheme="{INFRA}"; class="kind"'
SL_KIND = f'storagelink; scheme="{INFRA}"; class="kind"'


def _post_link(client, source, target, *, kind=NI_KIND, collection="/link/networkinterface/", extra=()):
    return post_plain(client, collection, f"Category: {kind}",
                      f'X-OCCI-Attribute: occi.core.source="{source}"', f'X-OCCI-Attribute: occi.core.target="{target}"',
                      'X-OCCI-Attribute: occi.networkinterface.interface="eth0"',
                      'X-OCCI-Attribute: occi.networkinterface.mac="00:11:22:33:44:55"', *extra)


# -- H1 ---------------------------------------------------------------------------------------------
def test_H1_post_to_a_link_collection_returns_201_and_location(client):
    vm, network = create(client), create(client, "network")
    result = _post_link(client, HOST + vm, HOST + network)
    assert result.status_code == 201
    link = path_of(result.headers["Location"])
    assert link.startswith("/link/networkinterface/")
    assert collection_paths(client, "/link/networkinterface/") == [link]
    # Paths are accepted as well as absolute URLs.
    assert _post_link(client, vm, network).status_code == 201


def test_H1_link_with_text_occi_and_json(client):
    vm, disk = create(client), create(client, "storage", {"occi.storage.size": 1.0})
    result = client.simulate_post("/link/storagelink/", headers={
        "Content-Type": "text/occi", "Category": SL_KIND,
        "X-OCCI-Attribute": f'occi.core.source="{HOST}{vm}", occi.core.target="{HOST}{disk}", '
                            'occi.storagelink.deviceid="/dev/vdb"'})
    assert result.status_code == 201
    body = {"kind": INFRA + "storagelink", "source": {"location": HOST + vm}, "target": {"location": disk},
            "attributes": {"occi.storagelink.deviceid": "/dev/vdc"}}
    result = client.simulate_post("/link/storagelink/", headers={"Content-Type": "application/occi+json",
                                                                 "Accept": "application/occi+json"},
                                  body=json.dumps(body))
    assert result.status_code == 201
    document = json_body(result, "link")
    assert document["source"] == {"location": HOST + vm, "kind": INFRA + "compute"}
    assert document["target"] == {"location": HOST + disk, "kind": INFRA + "storage"}


# -- H2 ---------------------------------------------------------------------------------------------
def test_H2_link_rendering_shows_source_target_and_target_kind(client):
    vm, network = create(client), create(client, "network")
    link = path_of(_post_link(client, HOST + vm, HOST + network).headers["Location"])
    result = get(client, link)
    assert categories(result)[0].term == "networkinterface"
    shown = attributes(result)
    assert shown["occi.core.source"] == HOST + vm
    assert shown["occi.core.target"] == HOST + network
    assert shown["occi.core.target.kind"] == INFRA + "network"
    assert shown["occi.core.source.kind"] == INFRA + "compute"
    assert shown["occi.networkinterface.interface"] == "eth0"
    document = json_body(get(client, link, "application/occi+json"), "link")
    assert document["source"]["location"] == HOST + vm
    assert document["target"] == {"location": HOST + network, "kind": INFRA + "network"}


# -- H3 ---------------------------------------------------------------------------------------------
def test_H3_source_rendering_links_to_the_target_with_self(client):
    vm, network = create(client), create(client, "network")
    link = path_of(_post_link(client, HOST + vm, HOST + network).headers["Location"])
    rendered = [l for l in links(get(client, vm)) if "?action=" not in l.target]
    assert len(rendered) == 1
    assert rendered[0].target == HOST + network
    assert rendered[0].self_ == HOST + link
    assert rendered[0].rel == (INFRA + "network",)
    assert rendered[0].categories == (INFRA + "networkinterface",)
    # The target does not render the link as its own.
    assert [l for l in links(get(client, network)) if "?action=" not in l.target] == []


# -- H4 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["http://elsewhere.example/compute/1", f"{HOST}/compute/missing", "/compute/missing",
                                    "network"])
def test_H4_link_source_must_be_one_of_our_resources(client, source):
    network = create(client, "network")
    if source == "network":
        source = HOST + network          # a network is not a valid source of a networkinterface
    result = _post_link(client, source, HOST + network)
    assert result.status_code == 400, result.text
    assert "where: occi.core.source" in result.text
    assert collection_paths(client, "/link/networkinterface/") == []


def test_H4_link_source_cannot_be_a_link(client):
    vm, network = create(client), create(client, "network")
    link = path_of(_post_link(client, vm, network).headers["Location"])
    result = post_plain(client, "/link/", 'Category: link; scheme="http://schemas.ogf.org/occi/core#"; class="kind"',
                        f'X-OCCI-Attribute: occi.core.source="{link}"', f'X-OCCI-Attribute: occi.core.target="{vm}"')
    assert result.status_code == 400
    assert collection_paths(client, "/link/") == [link]


def test_H4_external_target_of_a_generic_link_is_allowed(client):
    vm = create(client)
    result = post_plain(client, "/link/", 'Category: link; scheme="http://schemas.ogf.org/occi/core#"; class="kind"',
                        f'X-OCCI-Attribute: occi.core.source="{vm}"',
                        'X-OCCI-Attribute: occi.core.target="http://elsewhere.example/storage/9"')
    assert result.status_code == 201
    assert attributes(get(client, path_of(result.headers["Location"])))["occi.core.target"] == \
        "http://elsewhere.example/storage/9"
