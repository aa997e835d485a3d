"""POST /submit on the sla component: what is refused (located, all or nothing), dry runs, who may submit."""
from __future__ import annotations

import pytest

from .conftest import CUSTOMER_SLA, Caller

#: Two errors the checker finds: a condition that is no placement input, an unknown comparison.
BROKEN = b"""<agreement name="broken" xmlns="http://www.compatibleone.fr/schemes/slam.xsd">
  <terms name=":conditions" type="conditions">
    <term name=":c1">
      <variable name=":v1" property="occi.compute.cores" condition="eq" value="2"/>
      <variable name=":v2" property="occi.placement.zone" condition="about" value="europe"/>
    </term>
  </terms>
</agreement>
"""


def _nothing_stored(caller: Caller) -> None:
    for collection in ("/agreement/", "/cords/agreement/", "/terms/", "/term/", "/variable/", "/guarantee/",
                       "/business/", "/link/"):
        assert caller.locations(collection) == [], collection
    assert caller.term_mixins() == []


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json["error"]
    assert (error["status"], error["code"]) == (status, code), error
    return error


def _with(old: bytes, new: bytes) -> bytes:
    assert old in CUSTOMER_SLA
    return CUSTOMER_SLA.replace(old, new)


def test_a_broken_document_is_refused_with_every_problem_located(alice):
    error = _error(alice.submit(BROKEN, name="broken.xml"), 400, "cords-invalid")
    assert error["message"].startswith("broken.xml: 2 errors")
    problems = [p for p in error["problems"] if p["severity"] == "error"]
    assert [(p["code"], p["line"]) for p in problems] == [("cords-bad-placement-property", 4), ("cords-bad-enum", 5)]
    assert all(p["file"] == "broken.xml" and p["column"] > 1 for p in problems)
    assert set(problems[0]) == {"file", "line", "column", "code", "severity", "message"}
    _nothing_stored(alice)


def test_unreadable_xml_is_refused_located(alice):
    error = _error(alice.submit(b"<agreement name='x'>\n  <terms type='services'>\n</agreement>", name="bad.xml"),
                   400, "cords-invalid")
    assert [(p["code"], p["line"]) for p in error["problems"]] == [("xml-malformed", 3)]
    _nothing_stored(alice)


@pytest.mark.parametrize("old, new, code, line", [
    # Two guarantees that become one term mixin: the second is at fault.
    (b'<guarantee name=":up"', b'<guarantee name=":g3"', "cords-name-redefined", 21),
    # A date GFD.228 cannot hold.
    (b'initiation="now"', b'initiation="tomorrow"', "cords-bad-enum", 4),
    # A services term that names no service.
    (b'<term name=":service1"><manifest name="accords:platform"/></term>', b'<term name=":service1"/>',
     "cords-missing-child", 6),
])
def test_what_only_the_gfd228_form_cannot_hold_is_located_too(alice, old, new, code, line):
    error = _error(alice.submit(_with(old, new), name="customer.xml"), 400, "cords-invalid")
    [problem] = [p for p in error["problems"] if p["severity"] == "error"]
    assert (problem["code"], problem["file"], problem["line"]) == (code, "customer.xml", line)
    _nothing_stored(alice)


def test_guarantee_scopes_are_checked_against_the_plan_nodes(alice):
    error = _error(alice.submit(CUSTOMER_SLA, nodes="web"), 400, "cords-invalid")
    assert [p["code"] for p in error["problems"]] == ["cords-bad-scope"] and "'db'" in error["problems"][0]["message"]
    assert alice.submit(CUSTOMER_SLA, nodes=["web", "db"]).status_code == 201


def test_a_manifest_goes_to_the_parser(alice):
    manifest = b'<manifest name="shop" xmlns="http://www.compatibleone.fr/schemes/manifest.xsd">' \
               b'<node name="web" type="simple"/></manifest>'
    error = _error(alice.submit(manifest, name="shop.xml"), 400, "cords-wrong-kind")
    assert "manifests go to the parser" in error["message"]
    assert [p["code"] for p in error["problems"]] == ["cords-wrong-kind"]
    _nothing_stored(alice)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/occi+json", ""])
def test_only_xml_is_taken(alice, content_type):
    error = _error(alice.submit(CUSTOMER_SLA, content_type=content_type), 415, "not-xml")
    assert "application/xml" in error["message"]
    assert alice.submit(CUSTOMER_SLA, content_type="text/xml; charset=utf-8").status_code == 201


def test_a_body_over_the_limit_is_413(alice):
    limit = alice.app.limits.max_body_bytes
    padded = CUSTOMER_SLA.replace(b"</agreement>", b"<!--" + b"x" * limit + b"--></agreement>")
    _error(alice.submit(padded), 413, "document-too-large")
    _nothing_stored(alice)


def test_a_name_an_account_already_has_is_409(alice):
    assert alice.submit(CUSTOMER_SLA).status_code == 201
    error = _error(alice.submit(CUSTOMER_SLA, name="again.xml"), 409, "agreement-exists")
    assert "accords-platform" in error["message"]
    assert len(alice.locations("/agreement/")) == len(alice.locations("/cords/agreement/")) == 1
    assert len(alice.term_mixins()) == 3


def test_one_name_submitted_at_once_from_several_threads_is_stored_once(alice):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: alice.submit(CUSTOMER_SLA), range(4)))
    assert statuses == [201, 409, 409, 409]
    assert len(alice.locations("/agreement/")) == len(alice.locations("/cords/agreement/")) == 1


def test_a_dry_run_checks_and_stores_nothing(alice):
    made = alice.submit(CUSTOMER_SLA, dry_run="1")
    assert made.status_code == 200, made.text
    body = made.json
    assert body["dry_run"] is True and body["cords"] is body["agreement"] is None and "Location" not in made.headers
    assert len(body["terms"]) == 3 and len(body["guarantees"]) == 2 and len(body["conditions"]) == 2
    _nothing_stored(alice)
    _error(alice.submit(BROKEN, dry_run="true"), 400, "cords-invalid")
    _error(alice.submit(CUSTOMER_SLA, dry_run="maybe"), 400, "bad-parameter")
    assert alice.submit(CUSTOMER_SLA).status_code == 201
    _error(alice.submit(CUSTOMER_SLA, dry_run="1"), 409, "agreement-exists")


def test_another_account_sees_nothing_of_it(callers):
    body = callers["alice"].submit(CUSTOMER_SLA).json
    bob = callers["bob"]
    for url in (body["agreement"], body["cords"], body["guarantees"][0]["cords"]):
        assert bob.get(url).status_code == 403, url
    assert bob.locations("/agreement/") == [] and bob.locations("/cords/agreement/") == []
    assert bob.locations("/guarantee/") == []
    # Auditors and operators read every account's agreements.
    for reader in ("auditor", "operator"):
        assert callers[reader].get(body["agreement"]).status_code == 200
        assert callers[reader].get(body["cords"]).status_code == 200


@pytest.mark.parametrize("role", ["auditor", "operator", "agent"])
def test_callers_without_the_write_role_are_refused(callers, role):
    error = _error(callers[role].submit(CUSTOMER_SLA), 403, "role-forbidden")
    assert "may not change" in error["message"]
    _error(callers[role].submit(CUSTOMER_SLA, dry_run="1"), 403, "role-forbidden")
    _error(callers[role].submit(b"not even xml", content_type="text/plain"), 403, "role-forbidden")
    _nothing_stored(callers["alice"])


def test_the_ccmp_submits_for_its_account(callers):
    made = callers["ccmp"].submit(CUSTOMER_SLA)
    assert made.status_code == 201, made.text
    assert callers["alice"].get(made.json["agreement"]).status_code == 200      # hospital-a's
    assert callers["bob"].get(made.json["agreement"]).status_code == 403


def test_no_credentials_is_401(alice):
    response = alice.client.simulate_post("/submit", body=CUSTOMER_SLA, headers={"Content-Type": "application/xml"})
    assert response.status_code == 401


def test_a_manifest_url_must_be_one_url_for_one_manifest(alice):
    _error(alice.submit(CUSTOMER_SLA, manifest="accords:platform"), 400, "bad-manifest")
    provider_sla = _with(b'<manifest name="accords:platform"/>', b'<provider name="osprocci"/>')
    _error(alice.submit(provider_sla, manifest="http://parser/manifest/x"), 400, "bad-manifest")
    _nothing_stored(alice)
