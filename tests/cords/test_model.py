"""The manifest-side CORDS categories (cords.model) and the parser component that serves them."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import falcon.testing
import pytest

from broker import components
from broker.provisioning import component as provisioning
from cords import component as parser
from cords import model as cords
from occi import docgen
from occi.auth import StaticCredentials
from occi.model import Kind, Model, infrastructure, monitoring, sla
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from sla import cords_model as cords_sla

COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
JSON = "application/occi+json"
TOKEN = "parser-test-token"
KINDS = [c for c in cords.CATEGORIES if isinstance(c, Kind)]


def test_every_manifest_side_category_is_declared():
    assert {k.term for k in KINDS} == {
        "manifest", "node", "infrastructure", "compute", "storage", "volume", "network", "endpoint", "port",
        "image", "system", "package", "configuration", "release", "interface", "action", "security", "firewall",
        "plan", "instruction", "metric", "price", "geolocation", "quota", "provider"}
    # Accounts and users are the security component's: a manifest only names its account.
    assert not {"account", "user"} & {k.term for k in KINDS}
    assert cords.MANIFEST.attribute_map["occi.manifest.account"].type == "string"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.term)
def test_names_follow_the_cords_conventions(kind):
    assert kind.scheme == COMPATIBLE and kind.location == f"/{kind.term}/"
    for attribute in kind.attributes:
        prefix, term, name = attribute.name.split(".", 2)
        assert (prefix, term) == ("occi", kind.term) and name, attribute.name
    for action in kind.actions:
        assert action.scheme == f"http://scheme.compatibleone.fr/scheme/compatible/{kind.term}/action#"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.term)
def test_states_and_counts_are_integers_the_server_writes(kind):
    state = kind.attribute_map.get(f"occi.{kind.term}.state") or kind.attribute_map.get(f"occi.{kind.term}.status")
    if kind is cords.INSTRUCTION:
        # What the reconciler records per statement is a named state (pending, done, failed, skipped).
        assert state.type == "enum" and state.server_managed and state.default == "pending"
        return
    assert state is not None and state.type == "integer" and state.server_managed and state.default == 0


@pytest.mark.parametrize("kind, count", [(cords.MANIFEST, "nodes"), (cords.IMAGE, "packages"),
                                         (cords.CONFIGURATION, "actions"), (cords.RELEASE, "actions"),
                                         (cords.INTERFACE, "actions"), (cords.FIREWALL, "ports"),
                                         (cords.PLAN, "services"), (cords.PROVIDER, "quotas")])
def test_linked_collections_are_counts(kind, count):
    attribute = kind.attribute_map[f"occi.{kind.term}.{count}"]
    assert attribute.type == "integer" and attribute.server_managed and "/link/" in attribute.description


@pytest.mark.parametrize("kind, name, target", [
    (cords.MANIFEST, "plan", "plan"), (cords.MANIFEST, "configuration", "configuration"),
    (cords.NODE, "infrastructure", "infrastructure"), (cords.NODE, "image", "image"),
    (cords.INFRASTRUCTURE, "compute", "compute"), (cords.IMAGE, "system", "system"),
    (cords.FIREWALL, "node", "node"), (cords.PLAN, "manifest", "manifest"), (cords.QUOTA, "price", "price")])
def test_references_are_urls(kind, name, target):
    attribute = kind.attribute_map[f"occi.{kind.term}.{name}"]
    assert attribute.type == "string" and attribute.description.startswith(f"URL of the {target}")


def test_enums_and_defaults_come_from_the_schema():
    node = cords.NODE.attribute_map
    assert node["occi.node.access"].enum == ("private", "public") and node["occi.node.access"].default == "private"
    assert node["occi.node.scope"].enum == ("normal", "common") and node["occi.node.scope"].default == "normal"
    assert node["occi.node.category"].enum == ("manifest", "PAAS_manifest")
    assert (node["occi.node.provider"].default, node["occi.node.operator"].default) == ("any", "any")
    assert (node["occi.node.type"].default, node["occi.node.entry"].default) == ("simple", "none")
    port = cords.PORT.attribute_map
    assert port["occi.port.protocol"].enum == ("tcp", "udp") and port["occi.port.direction"].default == "inout"
    assert port["occi.port.from"].type == "integer" and port["occi.port.to"].maximum == 65535
    assert cords.IMAGE.attribute_map["occi.image.agent"].default == "cosacs"
    assert cords.PACKAGE.attribute_map["occi.package.installation"].default == "#"
    assert cords.ACTION.attribute_map["occi.action.type"].default == "cordscript"
    assert cords.QUOTA.attribute_map["occi.quota.units"].default == "U"
    assert cords.QUOTA.attribute_map["occi.quota.granularity"].default == 1
    assert "accords.vm.count" in cords.QUOTA.attribute_map["occi.quota.property"].enum
    # Sizes keep their CORDS string form; counts are numbers.
    assert cords.COMPUTE.attribute_map["occi.compute.memory"].type == "string"
    assert cords.STORAGE.attribute_map["occi.storage.size"].type == "string"
    assert cords.COMPUTE.attribute_map["occi.compute.cores"].type == "integer"
    # The schema's Cordscript defaults are explicit steps of the parser, not defaults.
    assert node["occi.node.firewall"].default is None
    assert cords.MANIFEST.attribute_map["occi.manifest.plan"].default is None


def test_actions_of_plan_and_firewall():
    assert [a.term for a in cords.PLAN.actions] == ["instance"]
    assert [a.term for a in cords.FIREWALL.actions] == ["build"]


def test_the_models_load_alone_and_together():
    alone = Model(cords.CATEGORIES)
    assert {k.location for k in alone.kinds} >= {"/manifest/", "/node/", "/quota/", "/provider/"}
    # With both agreement models, as one platform's categories would be.
    Model([*cords.CATEGORIES, *sla.CATEGORIES, *cords_sla.CATEGORIES])
    # The kinds other components will serve sit beside those components' standard models...
    elsewhere = [*cords.plan.CATEGORIES, *cords.offers.CATEGORIES]
    Model([*elsewhere, *infrastructure.CATEGORIES, *monitoring.CATEGORIES])
    # ...but CORDS compute/storage/network take the OGF locations: never in one component.
    with pytest.raises(ValueError, match="location /compute/"):
        Model([*cords.manifest.CATEGORIES, *infrastructure.CATEGORIES])


# -- the parser component ---------------------------------------------------------------------
def test_the_parser_component_is_registered_with_provisionings_access_policy():
    component = components.load("parser")
    assert component.name == "parser" and "parser" in components.names()
    assert {k.type_id for k in component.model.kinds if k.scheme == COMPATIBLE} == {
        k.type_id for k in cords.manifest.CATEGORIES if isinstance(k, Kind)}
    # The same roles as provisioning's, minus its rules for what only its reconciler writes.
    assert component.policy == parser.POLICY
    assert (parser.POLICY.default, parser.POLICY.see_all, parser.POLICY.read_all) == (
        provisioning.POLICY.default, provisioning.POLICY.see_all, provisioning.POLICY.read_all)


@pytest.fixture
def client(tmp_path):
    store = open_store(tmp_path / "parser.db")
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="a", name="provider-a", roles=frozenset({"provider"})))
    component = components.load("parser")
    app = create_app(model=component.model, store=store, hooks=component.hooks, policy=component.policy,
                     authenticator=credentials, component="parser")
    yield falcon.testing.TestClient(app, headers={"Authorization": f"Bearer {TOKEN}", "Accept": JSON})
    store.close()


def _path(result) -> str:
    """The path of the Location a creation answered (Location is absolute)."""
    return urlsplit(result.headers["Location"]).path


def _create(client, term: str, attributes: dict):
    return client.simulate_post(f"/{term}/", json={"kind": COMPATIBLE + term, "attributes": attributes},
                                headers={"Content-Type": JSON})


def test_a_node_and_its_manifest_are_created_and_read(client):
    made = _create(client, "node", {"occi.node.name": "any", "occi.node.access": "public"})
    assert made.status_code == 201, made.text
    node = _path(made)
    read = client.simulate_get(node)
    assert read.status_code == 200, read.text
    attributes = read.json["attributes"]
    assert attributes["occi.node.name"] == "any" and attributes["occi.node.access"] == "public"
    assert attributes["occi.node.provider"] == "any" and attributes["occi.node.state"] == 0

    made = _create(client, "manifest", {"occi.manifest.name": "any", "occi.manifest.account": "test"})
    assert made.status_code == 201, made.text
    manifest = client.simulate_get(_path(made))
    assert manifest.status_code == 200, manifest.text
    assert manifest.json["kind"] == COMPATIBLE + "manifest"
    assert manifest.json["attributes"]["occi.manifest.nodes"] == 0
    listed = client.simulate_get("/node/", headers={"Accept": "text/uri-list"})
    assert node.rpartition("/node/")[2] in listed.text


@pytest.mark.parametrize("term, attributes, code", [
    ("node", {"occi.node.access": "public"}, "missing-attribute"),                     # a node has a name
    ("node", {"occi.node.name": "n", "occi.node.scope": "shared"}, "invalid-attribute"),
    ("node", {"occi.node.name": "n", "occi.node.state": 2}, "server-managed-attribute"),
    ("manifest", {"occi.manifest.name": "m", "occi.manifest.nodes": 3}, "server-managed-attribute"),
    ("port", {"occi.port.from": "22"}, "invalid-attribute"),                           # a number
    ("port", {"occi.port.protocol": "icmp"}, "invalid-attribute"),
])
def test_the_declarations_validate(client, term, attributes, code):
    refused = _create(client, term, attributes)
    assert refused.status_code == 400 and refused.json["error"]["code"] == code, refused.text


def test_docs_occi_md_documents_the_cords_categories():
    reference = docgen.render_reference()
    for category in (cords.MANIFEST, cords.QUOTA, cords.PLAN_INSTANCE, cords_sla.AGREEMENT, cords_sla.CONTROL):
        assert f"#### `{category.type_id}`" in reference
    path = Path(__file__).resolve().parents[2] / "docs" / "occi.md"
    assert docgen.update_file(path, check=True), "docs/occi.md is stale: run python -m occi.docgen docs/occi.md"
