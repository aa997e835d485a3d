"""Checklist A: protocol, versioning, content negotiation (docs/OCCI.md §9 A1–A18)."""
from __future__ import annotations

import base64
import json

import pytest
from falcon import testing

from checklist_support import (COMPUTE_KIND, HOST, INFRA, attributes, categories, create,
                               get, header_values, json_body, locations, path_of, plain_body,
                               plain_lines, plain_values, post_plain, PASSWORD, TOKEN, USER)

OCCI_TYPES = ("text/plain", "text/occi", "application/occi+json", "text/uri-list")


def _requests(client):
    """A spread of requests: successes, client errors of every kind, every rendering."""
    path = create(client, attrs={"occi.compute.cores": 2})
    return [
        ("GET", "/-/", {}, None),
        ("GET", "/-/", {"Accept": "text/occi"}, None),
        ("GET", "/compute/", {"Accept": "application/occi+json"}, None),
        ("GET", "/compute/", {"Accept": "text/uri-list"}, None),
        ("GET", path, {}, None),
        ("GET", path, {"Accept": "text/occi"}, None),
        ("POST", "/compute/", {"Content-Type": "text/occi", "Category": COMPUTE_KIND}, None),
        ("POST", path, {"Content-Type": "text/plain"}, "X-OCCI-Attribute: occi.compute.hostname=\"h\"\n"),
        ("GET", "/compute/does-not-exist", {}, None),                # 404
        ("PUT", "/-/", {}, None),                                    # 405
        ("GET", path, {"Accept": "application/xml"}, None),          # 406
        ("GET", path, {"Accept": "text/uri-list"}, None),            # 400
        ("POST", "/storage/", {"Content-Type": "text/plain"}, f'Category: storage; scheme="{INFRA}"; class="kind"\n'),
        ("GET", "/-/", {"User-Agent": "client OCCI/9.9"}, None),     # 501
        ("DELETE", path, {}, None),
    ]


def _simulate(client, method, path, headers, body):
    return client.simulate_request(method, path, headers=headers, body=body)


# -- A1 ---------------------------------------------------------------------------------------------
def test_A1_every_response_names_occi_1_2(client):
    statuses = set()
    for method, path, headers, body in _requests(client):
        result = _simulate(client, method, path, headers, body)
        statuses.add(result.status_code)
        server = result.headers.get("Server")
        assert server is not None, (method, path)
        assert "OCCI/1.2" in server.split(), (method, path, server)
    assert {200, 201, 400, 404, 405, 406, 501} <= statuses


# -- A2 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("agent", ["occi-client/2.0 OCCI/9.9", "OCCI/1.3", "rOCCI-cli/5 OCCI/2.0 (linux)"])
def test_A2_newer_occi_user_agent_is_501(client, agent):
    result = get(client, "/-/", **{"User-Agent": agent})
    assert result.status_code == 501
    assert "User-Agent" in result.text
    assert "OCCI/1.2" in result.text


@pytest.mark.parametrize("agent", ["occi-client/1.0 OCCI/1.1", "OCCI/1.2", "curl/8.5.0", "OCCI/1.0"])
def test_A2_same_or_older_occi_user_agent_is_served(client, agent):
    assert get(client, "/-/", **{"User-Agent": agent}).status_code == 200


# -- A3 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept, expected", [
    ("text/plain", "text/plain"), ("text/occi+plain", "text/occi+plain"), ("text/occi", "text/occi"),
    ("application/occi+json", "application/occi+json"), ("text/uri-list", "text/uri-list")])
def test_A3_content_type_names_the_media_type_used_for_collections(client, accept, expected):
    create(client)
    result = get(client, "/compute/", accept)
    assert result.status_code == 200
    assert result.headers["Content-Type"].split(";")[0] == expected


@pytest.mark.parametrize("accept", ["text/plain", "text/occi+plain", "text/occi", "application/occi+json"])
def test_A3_content_type_names_the_media_type_used_for_entities_and_errors(client, accept):
    path = create(client)
    for target in (path, "/-/", "/compute/missing"):
        result = get(client, target, accept)
        assert result.headers["Content-Type"].split(";")[0] == accept, (target, result.headers)


# -- A4 ---------------------------------------------------------------------------------------------
def test_A4_responses_list_supported_media_types_in_accept(client):
    for method, path, headers, body in _requests(client):
        result = _simulate(client, method, path, headers, body)
        offered = {t.strip().split(";")[0] for t in result.headers.get("Accept", "").split(",")}
        assert set(OCCI_TYPES) <= offered, (method, path, result.headers.get("Accept"))


# -- A5 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", [None, "*/*", "", "text/*"])
def test_A5_no_accept_or_wildcard_yields_text_plain(client, accept):
    path = create(client, attrs={"occi.compute.cores": 3})
    headers = {} if accept is None else {"Accept": accept}
    for target in (path, "/-/", "/compute/"):
        result = client.simulate_get(target, headers=headers)
        assert result.status_code == 200
        assert result.headers["Content-Type"] == "text/plain"
        assert plain_lines(result.text), "structures travel in the body"
    assert attributes(client.simulate_get(path, headers=headers))["occi.compute.cores"] == 3


def test_A5_multi_valued_accept_picks_the_first_supported(client):
    path = create(client)
    result = get(client, path, "text/html, text/occi, text/plain")
    assert result.headers["Content-Type"] == "text/occi"
    result = get(client, path, "text/plain,text/occi")
    assert result.headers["Content-Type"] == "text/plain"


# -- A6 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", ["application/xml", "image/png, text/html", "text/plain;q=0"])
def test_A6_unsupported_accept_is_406(client, accept):
    path = create(client)
    for target in (path, "/-/", "/compute/"):
        result = get(client, target, accept)
        assert result.status_code == 406, (target, result.status)
        assert "Accept" in result.text
        assert "text/plain" in result.text   # says what is supported


# -- A7 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("media", ["text/plain", "text/occi+plain"])
def test_A7_text_plain_flavours_are_accepted_and_produced_in_the_body(client, media):
    body = plain_body(f"Category: {COMPUTE_KIND}", 'X-OCCI-Attribute: occi.compute.hostname="plain.example"')
    result = client.simulate_post("/compute/", headers={"Content-Type": media, "Accept": media}, body=body)
    assert result.status_code == 201
    assert result.headers["Content-Type"] == media
    assert plain_values(result.text, "X-OCCI-Location") == [result.headers["Location"]]
    entity = get(client, path_of(result.headers["Location"]), media)
    assert entity.headers["Content-Type"] == media
    assert "Category" not in entity.headers and "X-OCCI-Attribute" not in entity.headers
    names = [name for name, _ in plain_lines(entity.text)]
    assert names[0] == "Category" and "X-OCCI-Attribute" in names
    assert attributes(entity)["occi.compute.hostname"] == "plain.example"


# -- A8 ---------------------------------------------------------------------------------------------
def test_A8_text_occi_is_accepted_and_produced_in_headers_with_body_ok(client):
    result = client.simulate_post("/compute/", headers={
        "Content-Type": "text/occi", "Accept": "text/occi", "Category": COMPUTE_KIND,
        "X-OCCI-Attribute": 'occi.compute.hostname="occi.example", occi.compute.cores=4'})
    assert result.status_code == 201
    assert result.headers["Content-Type"] == "text/occi"
    assert result.text == "OK"
    assert header_values(result, "X-OCCI-Location") == [result.headers["Location"]]
    entity = get(client, path_of(result.headers["Location"]), "text/occi")
    assert entity.status_code == 200
    assert entity.text == "OK"
    assert categories(entity)[0].term == "compute"
    assert attributes(entity)["occi.compute.hostname"] == "occi.example"
    assert attributes(entity)["occi.compute.cores"] == 4


# -- A9 ---------------------------------------------------------------------------------------------
def test_A9_repeated_headers_and_comma_lists_are_both_accepted(client):
    repeated = client.simulate_post("/compute/", headers=[
        ("Content-Type", "text/occi"), ("Category", COMPUTE_KIND),
        ("X-OCCI-Attribute", "occi.compute.cores=2"),
        ("X-OCCI-Attribute", 'occi.core.title="web, front-end; \\"blue\\""'),
        ("X-OCCI-Attribute", 'occi.compute.hostname="a.example"')])
    joined = client.simulate_post("/compute/", headers={
        "Content-Type": "text/occi", "Category": COMPUTE_KIND,
        "X-OCCI-Attribute": 'occi.compute.cores=2, occi.core.title="web, front-end; \\"blue\\"", '
                            'occi.compute.hostname="a.example"'})
    for result in (repeated, joined):
        assert result.status_code == 201, result.text
        shown = attributes(get(client, path_of(result.headers["Location"])))
        assert shown["occi.compute.cores"] == 2
        assert shown["occi.core.title"] == 'web, front-end; "blue"'
        assert shown["occi.compute.hostname"] == "a.example"


def test_A9_repeated_lines_in_text_plain_and_multi_value_output(client):
    path = create(client, extra=['X-OCCI-Attribute: occi.compute.cores=1, occi.compute.memory=2.5'],
                  attrs={"occi.core.title": "x, y"})
    shown = attributes(get(client, path))
    assert (shown["occi.compute.cores"], shown["occi.compute.memory"], shown["occi.core.title"]) == (1, 2.5, "x, y")
    # Output: one comma-separated header per structure (RECOMMENDED), values still split correctly.
    occi = get(client, path, "text/occi")
    assert len(header_values(occi, "X-OCCI-Attribute")) == len(plain_values(get(client, path).text,
                                                                             "X-OCCI-Attribute"))


# -- A10 --------------------------------------------------------------------------------------------
def test_A10_header_and_structure_names_are_case_insensitive(client):
    result = client.simulate_post("/compute/", headers=[
        ("content-type", "text/occi"), ("CATEGORY", COMPUTE_KIND), ("x-occi-attribute", "occi.compute.cores=3")])
    assert result.status_code == 201
    path = path_of(result.headers["Location"])
    assert attributes(client.simulate_get(path, headers={"ACCEPT": "text/plain"}))["occi.compute.cores"] == 3
    body = plain_body(f"category: {COMPUTE_KIND}", "X-Occi-Attribute: occi.compute.cores=5")
    result = client.simulate_post("/compute/", headers={"Content-Type": "text/plain"}, body=body)
    assert result.status_code == 201
    assert attributes(get(client, path_of(result.headers["Location"])))["occi.compute.cores"] == 5


# -- A11 --------------------------------------------------------------------------------------------
def test_A11_uri_list_is_served_for_listings(client):
    paths = {create(client), create(client)}
    storage = create(client, "storage", {"occi.storage.size": 1.0})
    result = get(client, "/compute/", "text/uri-list")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/uri-list"
    lines = [line for line in result.text.splitlines() if line]
    assert {path_of(line) for line in lines} == paths
    namespace = get(client, "/", "text/uri-list")
    assert namespace.status_code == 200
    assert namespace.headers["Content-Type"] == "text/uri-list"
    listed = {path_of(line) for line in namespace.text.splitlines() if line}
    assert paths | {storage} <= listed


# -- A12 --------------------------------------------------------------------------------------------
def test_A12_uri_list_on_a_non_listing_is_400(client):
    path = create(client)
    for target in (path, "/-/", "/.well-known/org/ogf/occi/-/"):
        result = get(client, target, "text/uri-list")
        assert result.status_code == 400, (target, result.status)
        assert "uri-list" in result.text
        assert "where: Accept" in result.text


# -- A13 --------------------------------------------------------------------------------------------
def test_A13_occi_json_is_produced_and_consumed(client):
    document = {"kind": INFRA + "compute", "attributes": {"occi.compute.cores": 2, "occi.compute.hostname": "j"},
                "title": "json vm"}
    result = client.simulate_post("/compute/", headers={"Content-Type": "application/occi+json",
                                                        "Accept": "application/occi+json"},
                                  body=json.dumps(document))
    assert result.status_code == 201
    created = json_body(result, "resource")
    assert created["kind"] == INFRA + "compute" and created["title"] == "json vm"
    entity = json_body(get(client, path_of(result.headers["Location"]), "application/occi+json"), "resource")
    assert entity["id"] == created["id"] and entity["id"].startswith("urn:uuid:")
    assert entity["attributes"]["occi.compute.cores"] == 2
    assert entity["attributes"]["occi.compute.state"] == "inactive"
    collection = json_body(get(client, "/compute/", "application/occi+json"), "resource_collection")
    assert [r["id"] for r in collection["resources"]] == [entity["id"]]
    discovery = json_body(get(client, "/-/", "application/occi+json"), "model")
    assert {"kinds", "mixins", "actions"} == set(discovery)


# -- A14 --------------------------------------------------------------------------------------------
def test_A14_large_discovery_as_text_occi_is_not_truncated(client):
    plain = get(client, "/-/", "text/plain")
    occi = get(client, "/-/", "text/occi")
    assert occi.status_code == 200 and occi.text == "OK"
    plain_categories = plain_values(plain.text, "Category")
    header_categories = header_values(occi, "Category")
    assert len(plain_categories) > 40 and len(plain.text) > 4096
    assert header_categories == plain_categories
    assert [c.scheme + c.term for c in categories(occi)] == [c.scheme + c.term for c in categories(plain)]


# -- A15 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path", [("PUT", "/-/"), ("PUT", "/compute/"), ("PUT", "/.well-known/org/ogf/occi/-/"),
                                          ("DELETE", "/"), ("PUT", "/"), ("POST", "/")])
def test_A15_undefined_method_for_a_path_is_405(client, method, path):
    result = client.simulate_request(method, path, headers={"Content-Type": "text/plain"},
                                     body=f"Category: {COMPUTE_KIND}\n")
    assert result.status_code == 405
    assert method not in [m.strip() for m in result.headers["Allow"].split(",")]
    assert "GET" in result.headers["Allow"]


def test_A15_patch_is_not_defined(client):
    path = create(client)
    result = client.simulate_request("PATCH", path)
    assert result.status_code == 405 and "PATCH" not in result.headers["Allow"]


# -- A16 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, headers, body", [
    ("POST", "/compute/", {"Content-Type": "text/plain"}, "Category: compute; scheme=\"broken\n"),
    ("POST", "/compute/", {"Content-Type": "text/plain"}, "not a structure line\n"),
    ("POST", "/compute/", {"Content-Type": "application/occi+json"}, '{"kind": 5}'),
    ("POST", "/compute/", {"Content-Type": "application/occi+json"}, "[[[[[["),
    ("POST", "/compute/", {"Content-Type": "text/occi", "X-OCCI-Attribute": "occi.compute.cores=\"x"}, None),
    ("POST", "/compute/", {"Content-Type": "text/occi", "Category": COMPUTE_KIND, "Link": "<nowhere"}, None),
    ("POST", "/compute/", {"Content-Type": "text/occi", "Category": COMPUTE_KIND,
                           "X-OCCI-Attribute": "occi.compute.cores=" + "9" * 5000}, None),
    ("POST", "/compute/", {"Content-Type": "text/occi", "Category": COMPUTE_KIND,
                           "X-OCCI-Attribute": "occi.compute.memory=1e999"}, None),
    ("POST", "/compute/", {"Content-Type": "text/occi", "Category": COMPUTE_KIND,
                           "X-OCCI-Attribute": "occi.compute.memory=NaN"}, None),
    ("GET", "/compute/", {"Category": "nonsense"}, None),
    ("GET", "/compute/", {"X-OCCI-Attribute": "=1"}, None),
    ("GET", "/nowhere/", {}, None),
    ("GET", "/compute/?page=x", {}, None),
    ("POST", "/compute/x/y", {"Content-Type": "text/plain"}, ""),
    ("DELETE", "/-/", {"Content-Type": "text/plain"}, "Category: nothing; scheme=\"http://x.example/#\"; class=mixin\n"),
    ("PUT", "/compute/../etc", {"Content-Type": "text/plain"}, f"Category: {COMPUTE_KIND}\n"),
    ("POST", "/-/", {"Content-Type": "text/plain"}, 'Category: t; scheme="http://x.example/#"; class="mixin"\n'),
])
def test_A16_client_errors_are_4xx_never_500(client, method, path, headers, body):
    query = None
    if "?" in path:
        path, query = path.split("?", 1)
    result = client.simulate_request(method, path, headers=headers, body=body, query_string=query)
    assert 400 <= result.status_code < 500, (result.status, result.text)
    assert "where" in result.text or result.status_code in (404, 405)
    assert get(client, "/compute/", "text/uri-list").status_code == 200


def test_A16_a_500_rolls_back_every_partial_change(client, hooks):
    network = create(client, "network")

    @hooks.on_create("http://schemas.ogf.org/occi/infrastructure#networkinterface")
    def explode(entity, ctx):
        raise RuntimeError("backend fell over")

    client.allow_500 = True
    result = post_plain(client, "/compute/", f"Category: {COMPUTE_KIND}",
                        f'Link: <{HOST}{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"; '
                        'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="00:11:22:33:44:55"')
    assert result.status_code == 500
    assert "backend fell over" not in result.text     # no internals leak
    assert "changed nothing" in result.text
    client.allow_500 = False
    assert locations(get(client, "/compute/")) == []        # the compute written before the link is gone too
    assert locations(get(client, "/link/networkinterface/")) == []


# -- A17 --------------------------------------------------------------------------------------------
def test_A17_missing_credentials_get_401_with_basic_challenge(auth_client):
    for target in ("/-/", "/compute/", "/compute/x"):
        result = auth_client.simulate_get(target)
        assert result.status_code == 401
        challenge = result.headers["WWW-Authenticate"]
        schemes = [part.strip().split()[0].lower() for part in challenge.split(",") if "realm" in part]
        assert "basic" in schemes
        assert challenge.lower().startswith("basic")      # Basic is the default scheme
    wrong = auth_client.simulate_get("/-/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong.headers


def test_A17_basic_bearer_and_x_occi_authorize_are_accepted(auth_client):
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for headers in ({"Authorization": basic}, {"Authorization": f"Bearer {TOKEN}"},
                    {"X-OCCI-Authorize": TOKEN}):
        result = auth_client.simulate_post("/compute/", headers={
            **headers, "Content-Type": "text/occi", "Category": COMPUTE_KIND})
        assert result.status_code == 201, (headers, result.text)
        assert auth_client.simulate_get(path_of(result.headers["Location"]), headers=headers).status_code == 200
    bad_basic = "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()
    assert auth_client.simulate_get("/-/", headers={"Authorization": bad_basic}).status_code == 401


# -- A18 --------------------------------------------------------------------------------------------
def _raw(app, method, path, headers=(), body=b""):
    """Call the WSGI app directly to see the raw header list (the TestClient folds duplicates)."""
    env = testing.create_environ(path=path, method=method, headers=list(headers), body=body)
    seen = {}

    def start_response(status, header_list, exc_info=None):
        seen["status"], seen["headers"] = status, list(header_list)

    chunks = app(env, start_response)
    data = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return int(seen["status"][:3]), seen["headers"], data


def test_A18_exactly_one_content_length(app, client):
    path = create(client)
    cases = [("GET", "/-/", [("Accept", "text/occi")], b""),
             ("GET", "/-/", [], b""),
             ("GET", path, [("Accept", "text/occi")], b""),
             ("GET", path, [("Accept", "application/occi+json")], b""),
             ("GET", "/compute/", [("Accept", "text/uri-list")], b""),
             ("POST", "/compute/", [("Content-Type", "text/occi"), ("Category", COMPUTE_KIND)], b""),
             ("GET", "/compute/missing", [], b""),
             ("PUT", "/-/", [], b""),
             ("GET", path, [("Accept", "image/png")], b""),
             ("POST", "/compute/", [("Content-Type", "text/plain")], b"garbage"),
             ("DELETE", path, [], b"")]
    for method, target, headers, body in cases:
        status, header_list, data = _raw(app, method, target, headers, body)
        lengths = [value for name, value in header_list if name.lower() == "content-length"]
        assert len(lengths) == 1, (method, target, status, header_list)
        assert int(lengths[0]) == len(data), (method, target)
        servers = [value for name, value in header_list if name.lower() == "server"]
        assert len(servers) == 1
    result = get(client, "/-/", "text/occi")
    assert int(result.headers["Content-Length"]) == len(result.content) == 2
