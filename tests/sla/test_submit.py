"""POST /submit on the sla component: what a submitted agreement becomes, in both forms."""
from __future__ import annotations

import pytest

from cords.check import check
from occi.model import sla as gfd228
from sla import cords_model as cm
from tests.cords import EXAMPLES

from .conftest import CUSTOMER_SLA, Caller, path

COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
LINK = "http://schemas.ogf.org/occi/core#link"
ACCEPT = gfd228.AGREEMENT_ACTIONS[0].type_id
EXAMPLE_AGREEMENTS = sorted(p.name for p in (EXAMPLES / "agreements").glob("*.xml")) if EXAMPLES.is_dir() else []


def _read(caller: Caller, url: str) -> dict:
    got = caller.get(url)
    assert got.status_code == 200, got.text
    return got.json


def _linked(entity: dict, kind: str) -> list[str]:
    """Targets of the entity's core links to entities of ``kind`` (a CORDS term)."""
    return [link["target"]["location"] for link in entity.get("links", [])
            if link["kind"] == LINK and link["target"]["kind"] == COMPATIBLE + kind]


def _cords_tree(caller: Caller, url: str) -> dict:
    """The stored CORDS agreement walked through its links, with every count checked against them."""
    agreement = _read(caller, url)
    sections = [_read(caller, u) for u in _linked(agreement, "terms")]
    assert agreement["attributes"]["occi.agreement.termss"] == len(sections)
    tree = {"agreement": agreement, "sections": sections, "conditions": [], "guarantees": []}
    for section in sections:
        terms = [_read(caller, u) for u in _linked(section, "term")]
        assert section["attributes"]["occi.terms.terms"] == len(terms)
        for term in terms:
            variables = [_read(caller, u) for u in _linked(term, "variable")]
            guarantees = [_read(caller, u) for u in _linked(term, "guarantee")]
            assert term["attributes"]["occi.term.variables"] == len(variables)
            assert term["attributes"]["occi.term.guarantees"] == len(guarantees)
            tree["conditions"] += variables
            for guarantee in guarantees:
                business = [_read(caller, u) for u in _linked(guarantee, "business")]
                assert guarantee["attributes"]["occi.guarantee.values"] == len(business)
                tree["guarantees"].append({**guarantee, "business": business})
    return tree


@pytest.mark.parametrize("file", EXAMPLE_AGREEMENTS or ["(no corpus)"])
def test_every_example_agreement_submits(alice, file):
    if not EXAMPLE_AGREEMENTS:
        pytest.skip(f"the CORDS example corpus is not at {EXAMPLES}")
    data = (EXAMPLES / "agreements" / file).read_bytes()
    expected = check(data, name=file).agreement
    made = alice.submit(data, name=file)
    assert made.status_code == 201, made.text
    body = made.json
    assert made.headers["Location"] == body["agreement"] and path(body["agreement"]).startswith("/agreement/")
    assert path(body["cords"]).startswith("/cords/agreement/")
    assert (body["kind"], body["file"], body["name"]) == ("agreement", file, expected.name)
    assert len(body["conditions"]) == len(expected.conditions)
    assert len(body["guarantees"]) == len(expected.guarantees)
    assert len(body["terms"]) == len(expected.manifests) + len(expected.providers) + len(expected.guarantees)
    assert body["problems"] and all(p["severity"] == "warning" for p in body["problems"])

    ogf = _read(alice, body["agreement"])
    assert ogf["kind"] == gfd228.AGREEMENT.type_id and sorted(ogf["mixins"]) == sorted(body["terms"])
    assert ogf["attributes"]["occi.agreement.state"] == "Pending"
    assert ogf["title"] == expected.name
    terms = [t for t in alice.term_mixins() if t["scheme"] + t["term"] in body["terms"]]
    assert len(terms) == len(body["terms"])
    for term in terms:
        assert ogf["attributes"][f"{term['term']}.term.state"] == "Undefined"
        assert term["depends"] == [gfd228.AGREEMENT_TERM.type_id]

    tree = _cords_tree(alice, body["cords"])
    assert tree["agreement"]["attributes"]["occi.agreement.name"] == expected.name
    assert len(tree["guarantees"]) == len(expected.guarantees)
    assert len(tree["conditions"]) == len(expected.conditions)
    assert [path(g["cords"]) for g in body["guarantees"]] == [path(g["id"].replace("urn:uuid:", "/guarantee/"))
                                                             for g in tree["guarantees"]]


def test_the_stored_forms_match_the_document(alice):
    made = alice.submit(CUSTOMER_SLA, name="customer.xml")
    assert made.status_code == 201, made.text
    body = made.json
    assert body["problems"] == []
    assert body["conditions"] == [
        {"name": "accords-platform:v1", "property": "occi.placement.algorithm", "operator": "eq",
         "value": "quota:zone"},
        {"name": "accords-platform:v2", "property": "occi.placement.zone", "operator": "eq", "value": "europe",
         "node": "web"}]
    first, second = body["guarantees"]
    assert (first["name"], first["metric"], first["operator"], first["objective"]) == (
        "accords-platform:g3", "user:count", "le", "1")
    assert first["rewards"] == ["cordscript:packet.consume();"] and first["penalties"] == ["cordscript:alert.new();"]
    assert (second["scope"], second["obligated"], second["rewards"], second["penalties"]) == (
        "=web,!db", "provider", ["cordscript:alert.new();"], ["cordscript:alert.new();"])

    # The GFD.228 form: one term mixin per service and guarantee, with GFD.228's term attributes.
    ogf = _read(alice, body["agreement"])
    attributes = ogf["attributes"]
    prefixes = [t.rpartition("#")[2] for t in body["terms"]]
    assert prefixes == ["accords-platform_service1", "accords-platform_g3", "accords-platform_up"]
    assert attributes["accords-platform_service1.term.type"] == "SERVICE-TERM"
    assert attributes["accords-platform_g3.term.desc"] == "user:count le 1"
    assert "alert.new" in attributes["accords-platform_g3.term.remedy"]
    assert "occi.agreement.effectiveFrom" not in attributes            # initiation="now"

    # The CORDS form, reached through the links the counts describe.
    tree = _cords_tree(alice, body["cords"])
    agreement = tree["agreement"]["attributes"]
    assert {k: agreement[k] for k in ("occi.agreement.name", "occi.agreement.initiator", "occi.agreement.responder",
                                      "occi.agreement.serviceprovider", "occi.agreement.templateid")} == {
        "occi.agreement.name": "accords-platform", "occi.agreement.initiator": "jamie",
        "occi.agreement.responder": "accords", "occi.agreement.serviceprovider": "responder",
        "occi.agreement.templateid": "none"}
    assert [s["attributes"]["occi.terms.type"] for s in tree["sections"]] == ["services", "conditions", "guarantees"]
    assert [s["attributes"]["occi.terms.name"] for s in tree["sections"]] == [
        "accords-platform:services", "accords-platform:conditions", "accords-platform:guarantees"]
    zone = tree["conditions"][1]["attributes"]
    assert (zone["occi.variable.property"], zone["occi.variable.value"], zone["occi.variable.location"]) == (
        "occi.placement.zone", "europe", "web")
    g3 = tree["guarantees"][0]
    assert g3["attributes"]["occi.guarantee.name"] == "accords-platform:g3"
    objective = _read(alice, g3["attributes"]["occi.guarantee.variable"])["attributes"]
    assert (objective["occi.variable.property"], objective["occi.variable.condition"]) == ("user:count", "notgreater")
    assert [b["attributes"]["occi.business.nature"] for b in g3["business"]] == ["reward", "penalty"]
    assert tree["guarantees"][1]["business"][0]["attributes"]["occi.business.nature"] == "both"
    assert [path(g["cords"]) for g in body["guarantees"]] == [
        "/guarantee/" + g["id"].removeprefix("urn:uuid:") for g in tree["guarantees"]]


def test_the_two_forms_link_to_each_other(alice):
    body = alice.submit(CUSTOMER_SLA).json
    ogf, cords = _read(alice, body["agreement"]), _read(alice, body["cords"])
    [to_cords] = [link for link in ogf["links"] if link["kind"] == gfd228.AGREEMENT_LINK.type_id]
    assert path(to_cords["target"]["location"]) == path(body["cords"])
    assert to_cords["target"]["kind"] == cm.AGREEMENT.type_id
    [back] = [link for link in cords["links"] if link["target"]["kind"] == gfd228.AGREEMENT.type_id]
    assert back["kind"] == LINK and path(back["target"]["location"]) == path(body["agreement"])


@pytest.mark.parametrize("accept", ["text/plain", "text/occi", "application/occi+json", "application/json"])
def test_both_agreements_read_in_every_rendering(alice, accept):
    body = alice.submit(CUSTOMER_SLA).json
    for url in (body["agreement"], body["cords"]):
        got = alice.get(url, accept=accept)
        assert got.status_code == 200, got.text
        text = got.text + "".join(f"{k}: {v}\n" for k, v in got.headers.items())
        assert "accords-platform" in text
    ogf = alice.get(body["agreement"], accept=accept)
    rendered = ogf.text + str(ogf.headers)
    assert "accords-platform_g3.term.state" in rendered and "Pending" in rendered


def test_the_accept_action_moves_the_agreement_to_accepted(alice, callers):
    body = alice.submit(CUSTOMER_SLA).json
    refused = callers["bob"].post(body["agreement"] + "?action=accept", {"action": ACCEPT})
    assert refused.status_code == 403
    accepted = alice.post(body["agreement"] + "?action=accept", {"action": ACCEPT})
    assert accepted.status_code == 200, accepted.text
    attributes = accepted.json["attributes"]
    assert attributes["occi.agreement.state"] == "Accepted" and attributes["occi.agreement.agreedAt"]
    assert attributes["accords-platform_g3.term.state"] == "Undefined"
    again = alice.post(body["agreement"] + "?action=accept", {"action": ACCEPT})
    assert again.status_code == 400 and again.json["error"]["code"] == "action-not-applicable"


def test_the_manifest_url_and_the_nodes_are_recorded_and_checked(alice):
    url = "http://parser.example:8094/manifest/0d7e5c2a-1111-4222-8333-944445555666"
    made = alice.submit(CUSTOMER_SLA, manifest=url, nodes="web,db")
    assert made.status_code == 201, made.text
    services = _cords_tree(alice, made.json["cords"])["sections"][0]
    [term] = [_read(alice, u) for u in _linked(services, "term")]
    assert term["attributes"]["occi.term.manifest"] == url
    assert term["attributes"]["occi.term.name"] == "accords-platform:service1"


def test_deleting_the_gfd228_agreement_removes_its_term_mixins(alice):
    body = alice.submit(CUSTOMER_SLA).json
    assert len(alice.term_mixins()) == 3
    assert alice.delete(body["agreement"]).status_code == 200
    alice.app.occi_service.models.refresh()      # as every worker does within 0.5 s (docs/occi.md)
    assert alice.term_mixins() == []
    assert alice.get(body["cords"]).status_code == 200          # the document stays until deleted itself
    again = alice.submit(CUSTOMER_SLA)                          # the name is still the CORDS agreement's
    assert again.status_code == 409


def test_two_accounts_may_use_one_name(callers):
    first = callers["alice"].submit(CUSTOMER_SLA)
    second = callers["bob"].submit(CUSTOMER_SLA)
    assert first.status_code == second.status_code == 201, second.text
    assert set(first.json["terms"]).isdisjoint(second.json["terms"])
    assert len(callers["bob"].term_mixins()) == 6                 # discovery lists every account's terms
    assert callers["ccmp"].submit(CUSTOMER_SLA).status_code == 409   # same account as alice


def test_a_user_mixin_depending_on_agreement_term_is_a_term(alice):
    # The rule the submitted terms rely on (occi.service.models), open to any client (docs/occi.md).
    category = ('availability; scheme="http://example.org/terms#"; class="mixin"; '
                'rel="http://schemas.ogf.org/occi/sla#agreement_term"; location="/availability/"')
    added = alice.client.simulate_post("/-/", headers={"Authorization": "Bearer alice", "Content-Type": "text/occi",
                                                       "Category": category})
    assert added.status_code == 200, added.text
    tagged = {"kind": gfd228.AGREEMENT.type_id, "mixins": ["http://example.org/terms#availability"]}
    made = alice.post("/agreement/", {**tagged, "attributes": {"availability.term.desc": "availability ge 99.5"}})
    assert made.status_code == 201, made.text
    attributes = _read(alice, made.headers["Location"])["attributes"]
    assert (attributes["availability.term.type"], attributes["availability.term.state"]) == ("SLO-TERM", "Undefined")
    refused = alice.post("/agreement/", {**tagged, "attributes": {"availability.term.state": "Fulfilled"}})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "server-managed-attribute"
