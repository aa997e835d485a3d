"""Bad input: every client mistake is a 4xx that says what and where, changes nothing, and
leaves the server serving; a genuine 500 rolls back (docs/OCCI.md §8 "Errors and state", A16).
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from falcon import testing

from occi.errors import BadRequest
from occi.hooks import Hooks
from occi.model import Model
from occi.model import infrastructure, monitoring, platform, sla
from occi.model.infrastructure import COMPUTE, NETWORKINTERFACE
from occi.server import create_app
from occi.store import open_store

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
COMPUTE_KIND = f'compute; scheme="{INFRA}"; class="kind"'
NI = f"{INFRA}networkinterface"
JSON = "application/occi+json"
SCHEMA = json.loads((Path(__file__).parent / "checklist" / "data" / "occi-1.2-schema.json").read_text())
MODEL = Model([*infrastructure.CATEGORIES, *sla.CATEGORIES, *platform.CATEGORIES, *monitoring.CATEGORIES,
               infrastructure.os_template("ubuntu", scheme="http://accords.example/occi/templates#"),
               infrastructure.resource_template("small", scheme="http://accords.example/occi/templates#", cores=1)])


@pytest.fixture
def hooks():
    return Hooks()


@pytest.fixture
def client(tmp_path, hooks):
    store = open_store(tmp_path / "occi.db")
    yield testing.TestClient(create_app(model=MODEL, store=store, hooks=hooks))
    store.close()


@pytest.fixture
def world(client):
    """A compute linked to a network; the paths the cases refer to as {vm}, {network}, {link}."""
    network = _create(client, f'Category: network; scheme="{INFRA}"; class="kind"')
    vm = _create(client, f"Category: {COMPUTE_KIND}", 'X-OCCI-Attribute: occi.compute.hostname="vm"',
                 f'Link: <{network}>; rel="{INFRA}network"; category="{NI}"; '
                 'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="00:11:22:33:44:55"')
    listing = client.simulate_get("/link/networkinterface/", headers={"Accept": "text/uri-list"})
    link = listing.text.split()[0].removeprefix("http://falconframework.org")
    return {"vm": vm, "network": network, "link": link}


def _create(client, *lines: str) -> str:
    result = client.simulate_post(f"/{'network' if 'network;' in lines[0] else 'compute'}/",
                                  headers={"Content-Type": "text/plain"}, body="\n".join(lines) + "\n")
    assert result.status_code == 201, result.text
    return result.headers["Location"].removeprefix("http://falconframework.org")


def _snapshot(client, world) -> tuple:
    everything = client.simulate_get("/", headers={"Accept": "text/uri-list"})
    rendered = tuple(client.simulate_get(p, headers={"Accept": "text/plain"}).text for p in world.values())
    discovery = client.simulate_get("/-/", headers={"Accept": "text/plain"}).text
    return everything.text, rendered, discovery


def _error(result) -> dict:
    assert result.headers["Content-Type"] == JSON, result.headers
    return json.loads(result.text)["error"]


def _valid(text: str, definition: str) -> dict:
    """A JSON body, validated against the GFD.226 schema's ``#/definitions/<definition>``."""
    document = json.loads(text)
    jsonschema.Draft4Validator({"id": SCHEMA["id"], "definitions": SCHEMA["definitions"],
                                "$ref": f"#/definitions/{definition}"}).validate(document)
    return document


def _plain(*lines: str) -> str:
    return "\n".join(lines) + "\n"


CAT = f"Category: {COMPUTE_KIND}"
STATE = 'X-OCCI-Attribute: occi.compute.state="active"'
TEXT = {"Content-Type": "text/plain"}
OCCI = {"Content-Type": "text/occi"}
JSON_BODY = {"Content-Type": JSON}

# (id, method, path, query, headers, body, status, where, fragment of the message)
CASES = [
    # -- malformed Category -------------------------------------------------------------------------
    ("category-no-class", "POST", "/compute/", None, TEXT, _plain(f'Category: compute; scheme="{INFRA}"'),
     400, "line 1", 'missing class='),
    ("category-unterminated", "POST", "/compute/", None, TEXT, _plain('Category: compute; scheme="http://x'),
     400, "line 1", "unterminated quoted string"),
    ("category-bad-term", "POST", "/compute/", None, TEXT, _plain(f'Category: comp@ute; scheme="{INFRA}"; class=kind'),
     400, "line 1", "invalid term 'comp@ute'"),
    ("category-scheme-without-hash", "POST", "/compute/", None, TEXT,
     _plain('Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure"; class=kind'),
     400, "line 1", "must be a URI ending in '#'"),
    ("category-bad-class", "POST", "/compute/", None, TEXT, _plain(f'Category: compute; scheme="{INFRA}"; class="widget"'),
     400, "line 1", "'widget' must be kind, mixin or action"),
    ("category-empty", "POST", "/compute/", None, TEXT, _plain("Category: ;"), 400, "line 1", "empty Category"),
    ("category-duplicate-parameter", "POST", "/compute/", None, TEXT,
     _plain(f'Category: compute; scheme="{INFRA}"; scheme="{INFRA}"; class=kind'), 400, "line 1", "duplicate parameter"),
    ("category-on-line-3", "POST", "/compute/", None, TEXT,
     _plain(CAT, "X-OCCI-Attribute: occi.compute.cores=2", "Category: x; scheme=nohash; class=mixin"),
     400, "line 3", "scheme"),
    ("category-header-second-value", "POST", "/compute/", None, {**OCCI, "Category": f"{COMPUTE_KIND}, bogus"},
     None, 400, "Category header, value 2", "missing scheme"),
    ("category-two-kinds", "POST", "/compute/", None, TEXT,
     _plain(CAT, f'Category: storage; scheme="{INFRA}"; class="kind"'), 400, "Category", "exactly one kind"),
    # -- malformed Link -----------------------------------------------------------------------------
    ("link-without-angle-brackets", "POST", "/compute/", None, TEXT,
     _plain(CAT, f'Link: /network/x; rel="{INFRA}network"'), 400, "line 2", "must start with <URI>"),
    ("link-without-rel", "POST", "/compute/", None, TEXT, _plain(CAT, "Link: </network/x>"), 400, "line 2", "missing rel"),
    ("link-bad-target", "POST", "/compute/", None, TEXT, _plain(CAT, f'Link: <a b>; rel="{INFRA}network"'),
     400, "line 2", "is not a URI reference"),
    ("link-bad-rel", "POST", "/compute/", None, TEXT, _plain(CAT, 'Link: </network/x>; rel="network"'),
     400, "line 2", "not a type identifier"),
    ("link-unknown-category", "POST", "/compute/", None, TEXT,
     _plain(CAT, f'Link: <{{network}}>; rel="{INFRA}network"; category="http://nowhere.example/#thing"'),
     400, "line 2", "http://nowhere.example/#thing is not known"),
    ("link-unquoted-attribute", "POST", "/compute/", None, TEXT,
     _plain(CAT, f'Link: <{{network}}>; rel="{INFRA}network"; category="{NI}"; occi.networkinterface.mac=abc'),
     400, "line 2", "must be quoted"),
    ("link-missing-target", "POST", "/compute/", None, TEXT,
     _plain(CAT, f'Link: </network/missing>; rel="{INFRA}network"; category="{NI}"; '
                 'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="m"'),
     400, "line 2", "does not exist"),
    ("link-header-unterminated", "POST", "/compute/", None,
     {**OCCI, "Category": COMPUTE_KIND, "Link": f'<{{network}}>; rel="{INFRA}network; category="x'},
     None, 400, "Link header", "unexpected text after the quoted string in rel="),
    # -- malformed X-OCCI-Attribute -------------------------------------------------------------------
    ("attribute-without-equals", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.cores"),
     400, "line 2", "expected name=value"),
    ("attribute-unquoted-string", "POST", "/compute/", None, TEXT,
     _plain(CAT, "X-OCCI-Attribute: occi.compute.hostname=abc"), 400, "line 2", "must be quoted"),
    ("attribute-empty-value", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.cores="),
     400, "line 2", "empty value"),
    ("attribute-empty-name", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: =5"),
     400, "line 2", "empty attribute name"),
    ("attribute-given-twice", "POST", "/compute/", None, TEXT,
     _plain(CAT, "X-OCCI-Attribute: occi.compute.cores=1", "X-OCCI-Attribute: occi.compute.cores=2"),
     400, "line 3", "given twice"),
    ("attribute-header-unterminated", "POST", "/compute/", None,
     {**OCCI, "Category": COMPUTE_KIND, "X-OCCI-Attribute": 'occi.compute.cores=1, occi.core.title="abc'},
     None, 400, "X-OCCI-Attribute header", "unterminated"),
    ("attribute-huge-number", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.cores=" + "9" * 5000),
     400, "line 2", "unusable number"),
    # -- wrong attribute types and unknown attributes -----------------------------------------------
    ("type-quoted-number", "POST", "/compute/", None, TEXT, _plain(CAT, 'X-OCCI-Attribute: occi.compute.cores="2"'),
     400, "occi.compute.cores", "must be an unquoted number"),
    ("type-fractional-integer", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.cores=2.5"),
     400, "occi.compute.cores", "whole number"),
    ("type-boolean-for-number", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.memory=true"),
     400, "occi.compute.memory", "the boolean true"),
    ("type-enum", "POST", "/compute/", None, TEXT, _plain(CAT, 'X-OCCI-Attribute: occi.compute.architecture="arm"'),
     400, "occi.compute.architecture", "'arm' is not one of x86, x64"),
    ("type-number-for-string", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.hostname=5"),
     400, "occi.compute.hostname", "quoted string"),
    ("type-below-minimum", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: occi.compute.cores=0"),
     400, "occi.compute.cores", "below the minimum"),
    ("type-json-string-for-number", "POST", "/compute/", None, JSON_BODY,
     json.dumps({"kind": INFRA + "compute", "attributes": {"occi.compute.cores": "2"}}),
     400, "occi.compute.cores", "the string '2'"),
    ("type-control-character", "POST", "/compute/", None, JSON_BODY,
     json.dumps({"kind": INFRA + "compute", "title": "two\nlines"}), 400, "occi.core.title", "control characters"),
    ("unknown-attribute", "POST", "/compute/", None, TEXT, _plain(CAT, "X-OCCI-Attribute: org.example.nope=1"),
     400, "org.example.nope", "not defined by compute"),
    ("server-managed-at-creation", "POST", "/compute/", None, TEXT, _plain(CAT, STATE),
     400, "occi.compute.state", "maintained by the server"),
    # -- writes to immutable attributes ----------------------------------------------------------------
    ("immutable-state", "POST", "{vm}", None, TEXT, _plain(STATE), 403, "occi.compute.state", "immutable"),
    ("immutable-id", "POST", "{vm}", None, TEXT, _plain('X-OCCI-Attribute: occi.core.id="urn:uuid:1"'),
     403, "occi.core.id", "immutable"),
    ("immutable-state-by-put", "PUT", "{vm}", None, TEXT, _plain(CAT, STATE), 403, "occi.compute.state", "immutable"),
    ("immutable-link-attribute", "POST", "{link}", None, TEXT,
     _plain('X-OCCI-Attribute: occi.networkinterface.interface="eth9"'), 403, "occi.networkinterface.interface",
     "immutable"),
    ("immutable-link-source", "POST", "{link}", None, TEXT, _plain('X-OCCI-Attribute: occi.core.source="{network}"'),
     400, "occi.core.source", "cannot be changed"),
    ("immutable-kind", "POST", "{vm}", None, TEXT, _plain(f'Category: network; scheme="{INFRA}"; class="kind"'),
     400, "Category", "kind never changes"),
    # -- unknown kinds and mixins ---------------------------------------------------------------------
    ("unknown-kind", "POST", "/compute/", None, TEXT, _plain(f'Category: computer; scheme="{INFRA}"; class="kind"'),
     400, "Category", f"unknown kind {INFRA}computer"),
    ("unknown-kind-scheme", "POST", "/compute/", None, TEXT,
     _plain('Category: compute; scheme="http://example.org/occi/infrastructure#"; class="kind"'),
     400, "Category", "unknown kind http://example.org/occi/infrastructure#compute"),
    ("unknown-mixin", "POST", "/compute/", None, TEXT, _plain(CAT, 'Category: tag; scheme="http://x.example/#"; class=mixin'),
     400, "Category", "unknown mixin http://x.example/#tag"),
    ("kind-of-another-collection", "POST", "/compute/", None, TEXT,
     _plain(f'Category: networkinterface; scheme="{INFRA}"; class="kind"'), 400, "Category", "does not belong"),
    ("mixin-not-applicable", "POST", "/compute/", None, TEXT,
     _plain(CAT, 'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; class=mixin'),
     400, "Category", "does not apply to kind"),
    # -- encodings ----------------------------------------------------------------------------------
    ("body-invalid-utf8", "POST", "/compute/", None, TEXT, b"Category: caf\xe9; scheme=x\n", 400, "body:1:14",
     "not valid UTF-8"),
    ("body-invalid-utf8-line-2", "POST", "/compute/", None, TEXT,
     CAT.encode() + b'\nX-OCCI-Attribute: occi.core.title="\xff"\n', 400, "body:2:", "not valid UTF-8"),
    ("json-invalid-utf8", "POST", "/compute/", None, JSON_BODY, b'{"kind": "\xc3("}', 400, "body:1:", "not valid UTF-8"),
    ("header-invalid-utf8", "POST", "/compute/", None,
     {**OCCI, "Category": COMPUTE_KIND, "X-OCCI-Attribute": 'occi.core.title="caf\xc3"'}, None,
     400, "X-OCCI-Attribute header", "invalid UTF-8"),
    ("category-header-invalid-utf8", "POST", "/compute/", None, {**OCCI, "Category": "comp\xffute"}, None,
     400, "Category header", "invalid UTF-8"),
    # -- sizes ------------------------------------------------------------------------------------------
    ("body-10-mb", "POST", "/compute/", None, TEXT, b"X" * (10 << 20), 413, "body", "at most 1048576"),
    ("json-100000-levels-of-arrays", "POST", "/compute/", None, JSON_BODY, "[" * 100_000 + "]" * 100_000,
     400, "body", "nested deeper than"),
    ("json-100000-levels-of-objects", "POST", "/compute/", None, JSON_BODY, '{"a":' * 100_000 + "1" + "}" * 100_000,
     400, "body", "nested deeper than"),
    ("json-40-levels-in-an-attribute", "POST", "/compute/", None, JSON_BODY,
     json.dumps({"kind": INFRA + "compute", "attributes": {"x": json.loads("[" * 40 + "]" * 40)}}),
     400, "body", "nested deeper than"),
    ("headers-over-64-kib", "GET", "/compute/", None, {"X-Padding": "p" * (65 << 10)}, None, 431, "headers",
     "at most 65536"),
    ("many-headers-over-64-kib", "GET", "/compute/", None, {f"X-Pad-{i}": "p" * 1024 for i in range(70)}, None,
     431, "headers", "at most 65536"),
    ("huge-attribute-header", "POST", "/compute/", None,
     {**OCCI, "Category": COMPUTE_KIND, "X-OCCI-Attribute": f'occi.core.title="{"t" * (70 << 10)}"'}, None,
     431, "headers", "text/plain or JSON body"),
    # -- media types ------------------------------------------------------------------------------------
    ("content-type-xml", "POST", "/compute/", None, {"Content-Type": "application/xml"}, "<compute/>",
     415, "Content-Type", "application/xml"),
    ("content-type-html", "PUT", "{vm}", None, {"Content-Type": "text/html; charset=utf-8"}, "<p>", 415, "Content-Type",
     "text/html"),
    ("content-type-form-data", "POST", "/-/", None, {"Content-Type": "multipart/form-data; boundary=x"}, "--x--",
     415, "Content-Type", "multipart/form-data"),
    ("accept-unsupported", "GET", "{vm}", None, {"Accept": "application/xml"}, None, 406, "Accept", "application/xml"),
    ("accept-uri-list-on-entity", "GET", "{vm}", None, {"Accept": "text/uri-list"}, None, 400, "Accept", "uri-list"),
    # -- query parameters ------------------------------------------------------------------------------
    ("page-not-a-number", "GET", "/compute/", "page=abc", {}, None, 400, "?page", "'abc' is not an integer"),
    ("page-zero", "GET", "/compute/", "page=0&number=2", {}, None, 400, "?page", "page=0"),
    ("number-negative", "GET", "/compute/", "page=1&number=-1", {}, None, 400, "?number", "number=-1"),
    ("number-not-a-number", "GET", "/compute/", "number=ten", {}, None, 400, "?number", "'ten' is not an integer"),
    ("page-twice", "GET", "/compute/", "page=1&page=2", {}, None, 400, "?page", "given 2 times"),
    ("number-too-large", "GET", "/compute/", "number=5000", {}, None, 413, "?number", "number=5000"),
    ("action-blank", "POST", "{vm}", "action=", {}, None, 400, "?action", "not an action term"),
    ("action-bad-term", "POST", "{vm}", "action=st%20art", {}, None, 400, "?action", "not an action term"),
    ("action-unknown", "POST", "{vm}", "action=fly", {}, None, 400, "?action", "no action 'fly'"),
    ("action-twice", "POST", "{vm}", "action=start&action=stop", {}, None, 400, "?action", "given 2 times"),
    ("action-inapplicable", "POST", "{vm}", "action=stop", {}, None, 400, "?action", "not applicable"),
    ("action-wrong-category", "POST", "{vm}", "action=start", TEXT,
     _plain('Category: stop; scheme="http://schemas.ogf.org/occi/infrastructure/compute/action#"; class=action'),
     400, "Category", "names another action"),
    ("action-bad-parameter", "POST", "{vm}", "action=start", TEXT, _plain('X-OCCI-Attribute: method="now"'),
     400, "method", "no parameter method"),
    ("action-on-missing-collection", "POST", "/nowhere/", "action=start", {}, None, 404, "/nowhere/", "no collection"),
    # -- JSON structure --------------------------------------------------------------------------------
    ("json-truncated", "POST", "/compute/", None, JSON_BODY, '{"kind": ', 400, "body:1:10", "invalid JSON"),
    ("json-scalar", "POST", "/compute/", None, JSON_BODY, "42", 400, "$", "must be an object"),
    ("json-attributes-not-object", "POST", "/compute/", None, JSON_BODY, json.dumps({"kind": INFRA + "compute", "attributes": []}),
     400, "$.attributes", "must be an object"),
    ("json-bad-collection-item", "POST", "/compute/", None, JSON_BODY, json.dumps({"resources": [5]}),
     400, "$.resources[0]", "entity object or a location"),
    ("json-unknown-member", "POST", "/compute/", None, JSON_BODY, json.dumps({"kind": INFRA + "compute", "colour": "red"}),
     400, "$.colour", "unknown member"),
    ("json-not-occi", "POST", "/compute/", None, JSON_BODY, json.dumps({"hello": "world"}), 400, "$", "not an OCCI"),
    # -- text/plain structure lines --------------------------------------------------------------------
    ("plain-line-without-colon", "POST", "/compute/", None, TEXT, _plain(CAT, "just some words"), 400, "body:2:1",
     "expected 'Name: value'"),
    ("plain-unknown-structure", "POST", "/compute/", None, TEXT, _plain("Colour: red"), 400, "line 1",
     "not an OCCI structure"),
    # -- locations, versions, the query interface ---------------------------------------------------------
    ("if-match-garbage", "POST", "{vm}", None, {**TEXT, "If-Match": "yesterday"}, _plain("X-OCCI-Attribute: occi.compute.cores=2"),
     400, "If-Match", "not an entity tag"),
    ("if-match-stale", "POST", "{vm}", None, {**TEXT, "If-Match": '"99"'}, _plain("X-OCCI-Attribute: occi.compute.cores=2"),
     409, "If-Match", "not 99"),
    ("mixin-member-external", "POST", "/mixin/os_tpl/ubuntu/", None, {**OCCI, "X-OCCI-Location": "http://else.example/compute/1"},
     None, 400, "X-OCCI-Location", "not a location on this server"),
    ("mixin-member-traversal", "POST", "/mixin/os_tpl/ubuntu/", None, {**OCCI, "X-OCCI-Location": "/compute/../network/x"},
     None, 400, "X-OCCI-Location", "not a canonical path"),
    ("mixin-member-missing", "POST", "/mixin/os_tpl/ubuntu/", None, {**OCCI, "X-OCCI-Location": "/compute/nope"},
     None, 400, "X-OCCI-Location", "does not exist"),
    ("url-unbalanced-bracket", "POST", "/mixin/os_tpl/ubuntu/", None, {**OCCI, "X-OCCI-Location": "http://[oops/compute/1"},
     None, 400, "X-OCCI-Location", "not a valid URL"),
    ("link-target-unbalanced-bracket", "POST", "/link/", None, JSON_BODY,
     json.dumps({"kind": "http://schemas.ogf.org/occi/core#link", "source": {"location": "{vm}"},
                 "target": {"location": "http://[oops/x"}}), 400, "occi.core.target", "not a valid URL"),
    ("link-target-with-space", "POST", "/link/", None, JSON_BODY,
     json.dumps({"kind": "http://schemas.ogf.org/occi/core#link", "source": {"location": "{vm}"},
                 "target": {"location": "http://else.example/a b"}}), 400, "occi.core.target", "is not a URI"),
    ("link-target-with-control-character", "POST", "/compute/", None, JSON_BODY,
     json.dumps({"kind": INFRA + "compute", "links": [{"kind": "http://schemas.ogf.org/occi/core#link",
                                                       "target": {"location": "http://else.example/a\u0001b"}}]}),
     400, "$.links[0]", "is not a URI"),
    ("link-rel-with-control-character", "POST", "/compute/", None, TEXT,
     _plain(CAT, 'Link: <http://else.example/x>; rel="http://else.example/\x01#thing"'), 400, "line 2", "rel"),
    ("put-name-with-crlf", "PUT", "/compute/a%0d%0aSet-Cookie:%20x", None, TEXT, _plain(CAT), 400,
     "/compute/a\r\nSet-Cookie: x", "cannot name an entity"),
    ("put-name-with-space", "PUT", "/compute/a%20b", None, TEXT, _plain(CAT), 400, "/compute/a b", "cannot name an entity"),
    ("put-name-with-quote", "PUT", "/compute/%22q%22", None, TEXT, _plain(CAT), 400, '/compute/"q"', "cannot name an entity"),
    ("put-name-with-nul", "PUT", "/compute/a%00b", None, TEXT, _plain(CAT), 400, "/compute/a\x00b", "cannot name an entity"),
    ("put-name-dot-dot", "PUT", "/compute/..", None, TEXT, _plain(CAT), 400, "/compute/..", "cannot name an entity"),
    ("user-mixin-location-with-nul", "POST", "/-/", None, TEXT,
     _plain('Category: t; scheme="http://x.example/#"; class=mixin; location="/t\x00x/"'), 400, "location", "/my_tag/"),
    ("user-mixin-title-with-control", "POST", "/-/", None, TEXT,
     _plain('Category: t; scheme="http://x.example/#"; class=mixin; location="/t/"; title="a\x01b"'), 400, "title",
     "control characters"),
    ("user-mixin-scheme-with-nul", "POST", "/-/", None, TEXT,
     _plain('Category: t; scheme="http://x.exa\x00mple/#"; class=mixin; location="/t/"'), 400, "scheme", "ending in '#'"),
    ("user-mixin-json-bad-term", "POST", "/-/", None, JSON_BODY,
     json.dumps({"mixins": [{"term": "two words", "scheme": "http://x.example/#", "location": "/t/"}]}),
     400, "term", "is not a term"),
    ("user-mixin-json-bad-scheme", "POST", "/-/", None, JSON_BODY,
     json.dumps({"mixins": [{"term": "t", "scheme": "http://x.example/", "location": "/t/"}]}),
     400, "scheme", "ending in '#'"),
    ("user-mixin-is-a-kind", "POST", "/-/", None, TEXT, _plain('Category: k; scheme="http://x.example/#"; class=kind; location="/k/"'),
     400, "line 1", "only mixins"),
    ("user-mixin-without-location", "POST", "/-/", None, TEXT, _plain('Category: t; scheme="http://x.example/#"; class=mixin'),
     400, "line 1", "needs a location"),
    ("user-mixin-reserved-scheme", "POST", "/-/", None, TEXT,
     _plain('Category: t; scheme="http://schemas.ogf.org/occi/mine#"; class=mixin; location="/t/"'),
     400, "line 1", "reserved"),
    ("user-mixin-unknown-rel", "POST", "/-/", None, TEXT,
     _plain('Category: t; scheme="http://x.example/#"; class=mixin; location="/t/"; rel="http://x.example/#nope"'),
     400, "rel", "http://x.example/#nope"),
    ("remove-unknown-mixin", "DELETE", "/-/", None, TEXT, _plain('Category: t; scheme="http://x.example/#"; class=mixin'),
     404, "line 1", "no category"),
    ("remove-provider-kind", "DELETE", "/-/", None, TEXT, _plain(CAT), 403, "line 1", "defined by the provider"),
    ("newer-occi-version", "GET", "/-/", None, {"User-Agent": "client/1 OCCI/2.0"}, None, 501, "User-Agent", "OCCI/2.0"),
    ("put-on-query-interface", "PUT", "/-/", None, TEXT, _plain(CAT), 405, None, "PUT"),
    ("missing-entity", "GET", "/compute/missing", None, {}, None, 404, "/compute/missing", "nothing at"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_precisely_and_changes_nothing(client, world, case):
    _, method, path, query, headers, body, status, where, fragment = case
    path = path.format(**world)
    if isinstance(body, str):
        body = body.replace("{network}", world["network"]).replace("{vm}", world["vm"])
    headers = {k: v.replace("{network}", world["network"]) for k, v in headers.items()}
    before = _snapshot(client, world)

    result = client.simulate_request(method, path, query_string=query, body=body,
                                     headers={"Accept": JSON, **headers} if "Accept" not in headers else headers)

    assert result.status_code == status, (result.status, result.text)
    assert "OCCI/1.2" in result.headers["Server"]
    if "Accept" in headers and status in (400, 406):
        # The error is rendered in a type the client can read even when it asked for another.
        assert where in result.text and fragment in result.text, result.text
    else:
        error = _error(result)
        assert error["status"] == status and error["code"]
        if where is not None:
            if where.endswith(":"):
                assert error["where"].startswith(where), error
            else:
                assert error["where"] == where, error
        assert fragment in error["message"], error["message"]
    # Nothing changed, and the server still serves normal requests.
    assert _snapshot(client, world) == before
    ok = client.simulate_post("/compute/", headers={"Content-Type": "text/occi", "Category": COMPUTE_KIND})
    assert ok.status_code == 201
    assert client.simulate_get("/compute/", headers={"Accept": "text/uri-list"}).status_code == 200


def test_bad_input_errors_in_text_renderings_say_what_and_where(client):
    result = client.simulate_post("/compute/", headers={"Content-Type": "text/plain", "Accept": "text/plain"},
                                  body=_plain(CAT, 'X-OCCI-Attribute: occi.compute.cores="2"'))
    assert result.status_code == 400
    assert result.headers["Content-Type"] == "text/plain"
    assert result.text.startswith("400 invalid-attribute: attribute occi.compute.cores must be an unquoted number")
    assert "\nwhere: occi.compute.cores\n" in result.text
    occi = client.simulate_post("/compute/", headers={"Content-Type": "text/occi", "Accept": "text/occi",
                                                      "Category": "broken"})
    assert occi.status_code == 400 and occi.headers["Content-Type"] == "text/occi"
    assert "where: Category header" in occi.text


def test_bad_input_page_far_beyond_the_end_is_an_empty_200(client, world):
    result = client.simulate_get("/compute/", query_string="page=99999999999999999999999&number=1000",
                                 headers={"Accept": JSON})
    assert result.status_code == 200
    assert _valid(result.text, "resource_collection") == {"resources": []}


def test_bad_input_hook_runtime_error_is_a_500_that_leaves_nothing_behind(client, hooks):
    @hooks.on_create(COMPUTE)
    def explode(entity, ctx):
        raise RuntimeError("the hypervisor is on fire")

    result = client.simulate_post("/compute/", headers={"Content-Type": "text/plain", "Accept": JSON},
                                  body=_plain(CAT, "X-OCCI-Attribute: occi.compute.cores=2"))
    assert result.status_code == 500
    error = _error(result)
    assert error["code"] == "internal" and "changed nothing" in error["message"]
    assert "hypervisor" not in result.text
    listing = client.simulate_get("/compute/", headers={"Accept": "text/uri-list"})
    assert listing.status_code == 200 and listing.text == ""
    assert client.simulate_get("/", headers={"Accept": "text/uri-list"}).text == ""


def test_bad_input_hook_failure_after_earlier_writes_rolls_all_back(client, hooks):
    network = _create(client, f'Category: network; scheme="{INFRA}"; class="kind"')

    @hooks.on_create(NETWORKINTERFACE)
    def explode(entity, ctx):        # runs after the compute row is written
        raise RuntimeError("no free MAC address")

    result = client.simulate_post("/compute/", headers={"Content-Type": "text/plain"}, body=_plain(
        CAT, f'Link: <{network}>; rel="{INFRA}network"; category="{NI}"; occi.networkinterface.interface="eth0"; '
             'occi.networkinterface.mac="m"'))
    assert result.status_code == 500
    listing = client.simulate_get("/", headers={"Accept": "text/uri-list"})
    assert [u.removeprefix("http://falconframework.org") for u in listing.text.split()] == [network]


def test_bad_input_hook_raising_bad_request_refuses_with_400_and_writes_nothing(client, hooks):
    @hooks.on_create(COMPUTE)
    def refuse(entity, ctx):
        if entity.attributes.get("occi.compute.cores", 1) > 4:
            raise BadRequest("this provider offers at most 4 cores", code="quota", where="occi.compute.cores")

    result = client.simulate_post("/compute/", headers={"Content-Type": "text/plain", "Accept": JSON},
                                  body=_plain(CAT, "X-OCCI-Attribute: occi.compute.cores=8"))
    assert result.status_code == 400
    error = _error(result)
    assert error == {"status": 400, "code": "quota", "message": "this provider offers at most 4 cores",
                     "where": "occi.compute.cores"}
    assert client.simulate_get("/compute/", headers={"Accept": "text/uri-list"}).text == ""
    ok = client.simulate_post("/compute/", headers={"Content-Type": "text/plain"},
                              body=_plain(CAT, "X-OCCI-Attribute: occi.compute.cores=4"))
    assert ok.status_code == 201


def test_bad_input_update_hook_refusal_keeps_the_old_state(client, hooks, world):
    @hooks.on_update(COMPUTE)
    def refuse(old, new, ctx):
        if new.attributes.get("occi.compute.hostname") == "forbidden":
            raise BadRequest("that hostname is reserved", where="occi.compute.hostname")

    result = client.simulate_post(world["vm"], headers={"Content-Type": "text/plain", "Accept": JSON},
                                  body=_plain('X-OCCI-Attribute: occi.compute.hostname="forbidden"'))
    assert result.status_code == 400 and _error(result)["where"] == "occi.compute.hostname"
    shown = client.simulate_get(world["vm"], headers={"Accept": JSON})
    assert _valid(shown.text, "resource")["attributes"]["occi.compute.hostname"] == "vm"
