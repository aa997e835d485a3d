"""The CORDS agreement categories beside GFD.228 in the sla component, and their GFD.228 mapping."""
from __future__ import annotations

import copy
from urllib.parse import urlsplit

import falcon.testing
import pytest

from broker import components
from cords import model as cords
from occi.auth import StaticCredentials
from occi.model import Kind, Model, sla as gfd228
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from sla import cords_model
from sla.cords_model import CordsAgreementError, term_mixin, to_gfd228

COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
JSON = "application/occi+json"
TOKEN = "sla-test-token"
KINDS = [c for c in cords_model.CATEGORIES if isinstance(c, Kind)]

#: CORDS.md §9.4, as the XML reads (one dict per element, children as lists).
CUSTOMER_SLA = {
    "name": "accords-platform", "initiator": "jamie", "responder": "accords", "serviceprovider": "responder",
    "initiation": "now", "expiration": "never", "template": "none",
    "terms": [
        {"name": ":services", "type": "services",
         "terms": [{"name": ":service1", "manifest": {"name": "accords:platform"}}]},
        {"name": ":conditions", "type": "conditions",
         "terms": [{"name": ":condition1", "variables": [
             {"name": ":v1", "property": "occi.placement.algorithm", "condition": "eq", "value": "quota:zone"},
             {"name": ":v2", "property": "occi.placement.zone", "condition": "eq", "value": "europe"}]}]},
        {"name": ":guarantees", "type": "guarantees",
         "terms": [{"name": ":guarantee3", "guarantees": [
             {"name": ":g3", "obligated": "provider", "importance": "normal", "scope": "default",
              "variable": {"name": ":gv3", "property": "user:count", "condition": "notgreater", "value": "1"},
              "business": [{"name": ":bv3r", "nature": "reward", "expression": "cordscript:packet.consume();"},
                           {"name": ":bv3p", "nature": "penalty", "expression": "cordscript:alert.new();"}]}]}]},
    ],
}


# -- declarations -------------------------------------------------------------------------------
def test_the_agreement_side_is_declared():
    assert {k.term for k in KINDS} == {"agreement", "terms", "term", "variable", "guarantee", "business", "control",
                                       "penalty"}
    assert [a.term for a in cords_model.CONTROL.actions] == ["start", "stop", "verify"]
    assert [a.term for a in cords_model.AGREEMENT.actions] == ["instance"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.term)
def test_names_follow_the_cords_conventions(kind):
    assert kind.scheme == COMPATIBLE
    for attribute in kind.attributes:
        prefix, term, name = attribute.name.split(".", 2)
        assert (prefix, term) == ("occi", kind.term) and name, attribute.name
    state = kind.attribute_map[f"occi.{kind.term}.state"]
    assert state.type == "integer" and state.server_managed
    for action in kind.actions:
        assert action.scheme == f"http://scheme.compatibleone.fr/scheme/compatible/{kind.term}/action#"


def test_the_two_agreements_differ_by_type_id_and_location():
    cords_agreement, ogf_agreement = cords_model.AGREEMENT, gfd228.AGREEMENT
    assert cords_agreement.term == ogf_agreement.term == "agreement"
    assert cords_agreement.type_id != ogf_agreement.type_id
    assert (cords_agreement.location, ogf_agreement.location) == ("/cords/agreement/", "/agreement/")
    # Each kind validates its own occi.agreement.state.
    assert cords_agreement.attribute_map["occi.agreement.state"].type == "integer"
    assert ogf_agreement.attribute_map["occi.agreement.state"].type == "enum"
    assert {k.location for k in KINDS if k is not cords_agreement} == {
        f"/{k.term}/" for k in KINDS if k is not cords_agreement}


def test_the_enums_of_section_9():
    assert cords_model.TERMS.attribute_map["occi.terms.type"].enum == ("services", "conditions", "guarantees")
    assert {"eq", "notgreater", "gr", "le"} <= set(cords_model.VARIABLE.attribute_map["occi.variable.condition"].enum)
    assert cords_model.GUARANTEE.attribute_map["occi.guarantee.obligated"].enum == ("provider", "initiator",
                                                                                   "responder")
    assert cords_model.AGREEMENT.attribute_map["occi.agreement.initiator"].description.startswith("Name of the account")
    assert cords_model.TERM.attribute_map["occi.term.manifest"].description.startswith("URL of the manifest")


def test_the_models_load_alone_and_with_gfd228_and_the_manifest_side():
    Model(cords_model.CATEGORIES)
    both = Model([*gfd228.CATEGORIES, *cords_model.CATEGORIES])
    assert both.by_location("/agreement/") is gfd228.AGREEMENT
    assert both.by_location("/cords/agreement/") is cords_model.AGREEMENT
    Model([*gfd228.CATEGORIES, *cords_model.CATEGORIES, *cords.CATEGORIES])


# -- the sla component ----------------------------------------------------------------------------
def _app(tmp_path, model=None):
    component = components.load("sla")
    store = open_store(tmp_path / "sla.db")
    credentials = StaticCredentials()
    credentials.add_token(TOKEN, Principal(account="jamie", name="provider-jamie", roles=frozenset({"provider"})))
    app = create_app(model=model or component.model, store=store, hooks=component.hooks, policy=component.policy,
                     authenticator=credentials, component="sla")
    return falcon.testing.TestClient(app, headers={"Authorization": f"Bearer {TOKEN}", "Accept": JSON}), store


@pytest.fixture
def client(tmp_path):
    made, store = _app(tmp_path)
    yield made
    store.close()


def _path(result) -> str:
    """The path of the Location a creation answered (Location is absolute)."""
    return urlsplit(result.headers["Location"]).path


def _post(client, path: str, body: dict):
    return client.simulate_post(path, json=body, headers={"Content-Type": JSON})


def test_the_sla_component_serves_both_agreements(client):
    ogf = _post(client, "/agreement/", {"kind": gfd228.AGREEMENT.type_id, "attributes": {}})
    assert ogf.status_code == 201, ogf.text
    accepted = _post(client, _path(ogf) + "?action=accept", {"action": gfd228.AGREEMENT_ACTIONS[0].type_id})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json["attributes"]["occi.agreement.state"] == "Accepted"          # the hook still runs
    assert "occi.agreement.agreedAt" in accepted.json["attributes"]

    made = _post(client, "/cords/agreement/", {"kind": COMPATIBLE + "agreement", "attributes": {
        "occi.agreement.name": "accords-platform", "occi.agreement.initiator": "jamie",
        "occi.agreement.serviceprovider": "responder"}})
    assert made.status_code == 201, made.text
    location = _path(made)
    assert "/cords/agreement/" in location
    read = client.simulate_get(location)
    assert read.status_code == 200 and read.json["attributes"]["occi.agreement.state"] == 0
    assert read.json["attributes"]["occi.agreement.termss"] == 0
    # Each collection lists its own kind only.
    listed = client.simulate_get("/agreement/", headers={"Accept": "text/uri-list"}).text
    assert "/cords/agreement/" not in listed and _path(ogf).rpartition("/")[2] in listed
    cords_listed = client.simulate_get("/cords/agreement/", headers={"Accept": "text/uri-list"}).text
    assert location.rpartition("/")[2] in cords_listed and _path(ogf).rpartition("/")[2] not in cords_listed


def test_the_cords_agreement_parts_are_served(client):
    for term, attributes in (("terms", {"occi.terms.type": "conditions"}),
                             ("term", {"occi.term.name": "accords-platform:condition1"}),
                             ("variable", {"occi.variable.property": "occi.placement.zone",
                                           "occi.variable.condition": "eq", "occi.variable.value": "europe"}),
                             ("guarantee", {"occi.guarantee.obligated": "provider"}),
                             ("business", {"occi.business.nature": "penalty"}),
                             ("penalty", {"occi.penalty.sequence": 1})):
        made = _post(client, f"/{term}/", {"kind": COMPATIBLE + term, "attributes": attributes})
        assert made.status_code == 201, f"{term}: {made.text}"
    control = _post(client, "/control/", {"kind": COMPATIBLE + "control",
                                          "attributes": {"occi.control.property": "cpu:idle"}})
    assert control.status_code == 201, control.text
    verified = _post(client, _path(control) + "?action=verify",
                     {"action": "http://scheme.compatibleone.fr/scheme/compatible/control/action#verify"})
    assert verified.status_code == 200, verified.text
    wrong = _post(client, "/variable/", {"kind": COMPATIBLE + "variable",
                                         "attributes": {"occi.variable.condition": "about"}})
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "invalid-attribute"


# -- to_gfd228 ------------------------------------------------------------------------------------------
def test_to_gfd228_maps_the_customer_sla():
    before = copy.deepcopy(CUSTOMER_SLA)
    gfd = to_gfd228(CUSTOMER_SLA)
    assert CUSTOMER_SLA == before, "to_gfd228 is pure"
    entity = gfd["entity"]
    assert entity["kind"] == gfd228.AGREEMENT.type_id
    attributes = entity["attributes"]
    assert attributes["occi.core.title"] == "accords-platform"
    # now and never leave the validity open; GFD.228 records agreedAt on acceptance.
    assert "occi.agreement.effectiveFrom" not in attributes and "occi.agreement.effectiveUntil" not in attributes
    assert "occi.agreement.state" not in attributes                     # the server's
    service, guarantee = gfd["terms"]
    assert (service["name"], service["type"], service["state"]) == ("accords-platform:service1", "SERVICE-TERM",
                                                                    "Undefined")
    assert service["service"] == {"manifest": "accords:platform"}
    assert (guarantee["name"], guarantee["type"], guarantee["state"]) == ("accords-platform:g3", "SLO-TERM",
                                                                          "Undefined")
    assert guarantee["guarantee"] == {"metric": "user:count", "operator": "le", "objective": "1",
                                      "obligated": "provider", "importance": "normal", "scope": "default",
                                      "rewards": ["cordscript:packet.consume();"],
                                      "penalties": ["cordscript:alert.new();"]}
    assert entity["mixins"] == [service["type_id"], guarantee["type_id"]]
    prefix = guarantee["term"]
    assert attributes[f"{prefix}.term.type"] == "SLO-TERM" and attributes[f"{prefix}.term.desc"] == "user:count le 1"
    assert "alert.new" in attributes[f"{prefix}.term.remedy"]
    assert gfd["conditions"] == [
        {"name": "accords-platform:v1", "property": "occi.placement.algorithm", "operator": "eq",
         "value": "quota:zone"},
        {"name": "accords-platform:v2", "property": "occi.placement.zone", "operator": "eq", "value": "europe"}]
    assert gfd["parties"] == {"initiator": "jamie", "responder": "accords", "serviceprovider": "responder"}


def test_the_gfd228_form_is_created_and_accepted_by_the_sla_component(tmp_path):
    gfd = to_gfd228(CUSTOMER_SLA)
    mixins = [term_mixin(t) for t in gfd["terms"]]
    model = Model([*components.load("sla").model.categories, *mixins])
    client, store = _app(tmp_path, model)
    try:
        made = _post(client, "/agreement/", gfd["entity"])
        assert made.status_code == 201, made.text
        read = client.simulate_get(_path(made)).json
        assert sorted(read["mixins"]) == sorted(gfd["entity"]["mixins"])
        for term in gfd["terms"]:
            assert read["attributes"][f"{term['term']}.term.state"] == "Undefined"
        accepted = _post(client, _path(made) + "?action=accept",
                         {"action": gfd228.AGREEMENT_ACTIONS[0].type_id})
        assert accepted.json["attributes"]["occi.agreement.state"] == "Accepted"
    finally:
        store.close()


def test_to_gfd228_normalises_what_the_original_platform_wrote():
    provider_sla = {"name": "osprocci", "initiator": "osprocci", "responder": "accords",
                    "serviceprovider": "initiator", "initiation": "2025-01-01T00:00:00+00:00", "expiration": "never",
                    "terms": [
                        {"name": "osprocci:services", "type": "sla5:services",          # prefixed type
                         "term": [{"name": "osprocci:service1", "provider": {"name": "osprocci"}}]},
                        {"name": "osprocci:conditions", "type": "conditions", "term": [
                            {"name": "osprocci:condition1", "variable": [
                                {"name": "osprocci:v2", "property": "cords.placement.zone", "condition": "equal",
                                 "value": "europe", "location": "db"}]}]},
                        {"name": "accords:guarantees", "type": "guarantees"}]}
    gfd = to_gfd228(provider_sla)
    assert gfd["entity"]["attributes"]["occi.agreement.effectiveFrom"] == "2025-01-01T00:00:00+00:00"
    assert [t["service"] for t in gfd["terms"]] == [{"provider": "osprocci"}]
    assert gfd["conditions"] == [{"name": "osprocci:v2", "property": "occi.placement.zone", "operator": "eq",
                                  "value": "europe", "node": "db"}]


def _with(path: tuple, value) -> dict:
    """CUSTOMER_SLA with the value at ``path`` replaced."""
    agreement = copy.deepcopy(CUSTOMER_SLA)
    holder = agreement
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return agreement


@pytest.mark.parametrize("path, value, message", [
    (("name",), None, "no name"),
    (("terms", 0, "type"), "everything", "not one of services"),
    (("terms", 1, "terms", 0, "variables", 0, "property"), "occi.compute.cores", "not a placement input"),
    (("terms", 1, "terms", 0, "variables", 0, "condition"), "about", "not one of"),
    (("terms", 2, "terms", 0, "guarantees", 0, "variable"), {"condition": "eq"}, "variable has no metric property"),
    (("terms", 2, "terms", 0, "guarantees", 0, "business", 0, "nature"), "bonus", "not reward, penalty or both"),
    (("terms", 0, "terms", 0, "manifest"), None, "neither a manifest nor a provider"),
    (("initiation",), "tomorrow", "neither now nor an ISO 8601"),
    (("serviceprovider",), "broker", "neither initiator nor responder"),
    (("terms",), "all", "must be a list"),
])
def test_to_gfd228_refuses_what_it_cannot_map(path, value, message):
    with pytest.raises(CordsAgreementError, match=message):
        to_gfd228(_with(path, value))


def test_two_terms_cannot_become_one_mixin():
    agreement = _with(("terms", 2, "terms", 0, "guarantees", 0, "name"), ":service1")
    with pytest.raises(CordsAgreementError, match="map to the mixin") as raised:
        to_gfd228(agreement)
    # The error names the element at fault, for a caller that holds the document to locate it.
    assert raised.value.element is agreement["terms"][2]["terms"][0]["guarantees"][0]
    assert (raised.value.attribute, raised.value.code) == ("name", "cords-name-redefined")


def test_a_guarantee_without_a_variable_is_a_term_without_objective():
    # sla5.xml's guarantee: the checker only warns (nothing will be monitored).
    gfd = to_gfd228(_with(("terms", 2, "terms", 0, "guarantees", 0, "variable"), None))
    guarantee = gfd["terms"][1]
    assert (guarantee["type"], guarantee["desc"]) == ("SLO-TERM", "no objective: nothing is monitored")
    assert guarantee["guarantee"]["metric"] is None and guarantee["guarantee"]["penalties"]
