"""The parser's hooks: count attributes follow /link/, firewalls are rebuilt from their node."""
from __future__ import annotations

import pytest
import requests

from tests.cords.platform import start_platform
from tests.cords.test_submit import WEB

HEADERS = {"Authorization": "Bearer alice-token", "Accept": "application/json",
           "Content-Type": "application/occi+json"}
CORDS = "http://scheme.compatibleone.fr/scheme/compatible#"


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path)
    yield started
    started.stop()


def _attributes(url: str) -> dict:
    return requests.get(url, headers=HEADERS, timeout=10).json()["attributes"]


def test_counts_follow_links_added_and_removed_through_occi(platform):
    manifest = platform.submit(WEB).json()["manifest"]
    assert _attributes(manifest)["occi.manifest.nodes"] == 2
    node = requests.post(f"{platform.parser}/node/", headers=HEADERS, timeout=10, json={
        "kind": f"{CORDS}node", "attributes": {"occi.node.name": "extra"}})
    assert node.status_code == 201, node.text
    node_url = node.headers["Location"]
    link = requests.post(f"{platform.parser}/link/", headers=HEADERS, timeout=10, json={
        "kind": "http://schemas.ogf.org/occi/core#link", "source": {"location": manifest},
        "target": {"location": node_url, "kind": f"{CORDS}node"}})
    assert link.status_code == 201, link.text
    assert _attributes(manifest)["occi.manifest.nodes"] == 3
    assert requests.delete(node_url, headers=HEADERS, timeout=10).status_code in (200, 204)
    assert _attributes(manifest)["occi.manifest.nodes"] == 2          # the link went with its target


def test_firewall_build_follows_the_node_as_stored_now(platform):
    platform.submit(WEB)
    nodes = requests.get(f"{platform.parser}/node/", headers=HEADERS, timeout=10).json()["resources"]
    db = next(n for n in nodes if n["attributes"]["occi.node.name"] == "db")["attributes"]
    firewall = db["occi.node.firewall"]
    infrastructure = _attributes(db["occi.node.infrastructure"])
    network = infrastructure["occi.infrastructure.network"]
    port = requests.post(f"{platform.parser}/port/", headers=HEADERS, timeout=10, json={
        "kind": f"{CORDS}port", "attributes": {"occi.port.name": "https", "occi.port.protocol": "tcp",
                                               "occi.port.from": 443, "occi.port.to": 443}})
    assert port.status_code == 201, port.text
    added = requests.post(f"{platform.parser}/link/", headers=HEADERS, timeout=10, json={
        "kind": "http://schemas.ogf.org/occi/core#link", "source": {"location": network},
        "target": {"location": port.headers["Location"], "kind": f"{CORDS}port"}})
    assert added.status_code == 201, added.text
    assert _attributes(firewall)["occi.firewall.ports"] == 1
    built = requests.post(f"{firewall}?action=build", headers=HEADERS, timeout=10, json={
        "action": "http://scheme.compatibleone.fr/scheme/compatible/firewall/action#build"})
    assert built.status_code == 200, built.text
    rebuilt = requests.get(firewall, headers=HEADERS, timeout=10).json()
    assert rebuilt["attributes"]["occi.firewall.ports"] == 2
    ports = sorted(_attributes(link["target"]["location"])["occi.port.from"] for link in rebuilt["links"])
    assert ports == [443, 5432]


def test_plain_occi_creates_cannot_make_a_name_ambiguous(platform):
    platform.submit(WEB)
    twin = requests.post(f"{platform.parser}/manifest/", headers=HEADERS, timeout=10, json={
        "kind": f"{CORDS}manifest", "attributes": {"occi.manifest.name": "web"}})
    assert twin.status_code == 409 and twin.json()["error"]["code"] == "duplicate-name"
    compute = {"kind": f"{CORDS}compute", "attributes": {"occi.compute.name": "web:cpu", "occi.compute.cores": 4}}
    mine = requests.post(f"{platform.parser}/compute/", headers=HEADERS, timeout=10, json=compute)
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "duplicate-name"
    bobs = requests.post(f"{platform.parser}/compute/", timeout=10, json=compute,
                         headers={**HEADERS, "Authorization": "Bearer bob-token"})
    assert bobs.status_code == 201                 # another account's names are its own
