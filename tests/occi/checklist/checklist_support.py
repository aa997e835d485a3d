"""Helpers of the OCCI compliance checklist (docs/OCCI.md §9): the test model, a client
that checks the protocol invariants on every response, text and JSON parsing helpers.

Every JSON response that a checked client receives with a 2xx status is validated
against the GFD.226 schema (draft-04), against the definition its shape calls for;
tests also validate explicitly against the definition they expect.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import jsonschema
from falcon import testing

from occi.model import Attribute, Mixin, Model, Action
from occi.model import infrastructure, monitoring, platform, sla
from occi.rendering import grammar

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
CORE = "http://schemas.ogf.org/occi/core#"
COMPUTE_ACTION = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
TPL = "http://accords.example/occi/templates#"
TEST = "http://accords.example/occi/test#"
TEST_ACTION = "http://accords.example/occi/test/action#"
HOST = "http://falconframework.org"
#: Credentials of the authenticating app (A17).
TOKEN = "s3cret-token"
USER, PASSWORD = "alice", "wonderland"

COMPUTE_KIND = f'compute; scheme="{INFRA}"; class="kind"'
STORAGE_KIND = f'storage; scheme="{INFRA}"; class="kind"'
NETWORK_KIND = f'network; scheme="{INFRA}"; class="kind"'
NETWORKINTERFACE_KIND = f'networkinterface; scheme="{INFRA}"; class="kind"'

UBUNTU = infrastructure.os_template("ubuntu", scheme=TPL, title="Ubuntu 24.04")
DEBIAN = infrastructure.os_template("debian", scheme=TPL, title="Debian 12")
SMALL = infrastructure.resource_template("small", scheme=TPL, title="Small", cores=1, memory=2.0)
LARGE = infrastructure.resource_template("large", scheme=TPL, title="Large", cores=8, memory=32.0)
#: A provider mixin with typed extension attributes (C11, C12).
FLAGS = Mixin(TEST, "flags", title="Test flags", applies=(infrastructure.COMPUTE,), location="/mixin/flags/",
              attributes=(Attribute("org.example.test.enabled", type="boolean"),
                          Attribute("org.example.test.ratio", type="number"),
                          Attribute("org.example.test.label")))
#: A mixin whose action shares the term of compute's ``start`` (E3: ambiguous action → 409).
BOOSTER = Mixin(TEST, "booster", title="Second start action", applies=(infrastructure.COMPUTE,),
                location="/mixin/booster/",
                actions=(Action(TEST_ACTION, "start", title="Start the booster"),))

TEMPLATES = (UBUNTU, DEBIAN, SMALL, LARGE)


def build_model() -> Model:
    return Model([*infrastructure.CATEGORIES, *sla.CATEGORIES, *platform.CATEGORIES, *monitoring.CATEGORIES,
                  *TEMPLATES, FLAGS, BOOSTER])


# -- GFD.226 schema -------------------------------------------------------------------------------
SCHEMA = json.loads((Path(__file__).parent / "data" / "occi-1.2-schema.json").read_text())
jsonschema.Draft4Validator.check_schema(SCHEMA)
_VALIDATORS: dict[str, jsonschema.Draft4Validator] = {}


def validator(definition: str | None) -> jsonschema.Draft4Validator:
    key = definition or ""
    if key not in _VALIDATORS:
        schema = SCHEMA if definition is None else {
            "id": SCHEMA["id"], "$schema": SCHEMA["$schema"], "definitions": SCHEMA["definitions"],
            "$ref": f"#/definitions/{definition}"}
        _VALIDATORS[key] = jsonschema.Draft4Validator(schema)
    return _VALIDATORS[key]


def validate(obj: Any, definition: str | None) -> Any:
    """Raise if ``obj`` is not valid against ``#/definitions/<definition>`` (or the whole schema)."""
    errors = sorted(validator(definition).iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, f"not a valid GFD.226 {definition or 'document'}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
    return obj


def definition_for(obj: Any) -> str | None:
    """The GFD.226 definition a rendered document's shape claims to be."""
    if not isinstance(obj, dict):
        return None
    if "action" in obj:
        return "action_invocation"
    if "kind" in obj:
        return "link" if "source" in obj or "target" in obj else "resource"
    if set(obj) == {"resources"}:
        return "resource_collection"
    if set(obj) == {"links"}:
        return "link_collection"
    return "model"


# -- the checked client ----------------------------------------------------------------------------
class CheckedClient(testing.TestClient):
    """A TestClient asserting what must hold for every response (A1, A3, A16, JSON validity)."""

    allow_500 = False

    def simulate_request(self, *args, **kwargs):
        result = super().simulate_request(*args, **kwargs)
        check_response(result, allow_500=self.allow_500)
        return result


def check_response(result, *, allow_500: bool = False) -> None:
    assert "OCCI/1.2" in result.headers.get("Server", ""), result.headers
    if not allow_500:
        assert result.status_code < 500 or result.status_code == 501, (result.status, result.text)
    if result.status_code == 304:
        return
    content_type = result.headers.get("Content-Type", "")
    assert content_type, f"no Content-Type on {result.status}"
    if content_type.startswith(("application/occi+json", "application/json")):
        obj = json.loads(result.text)
        if 200 <= result.status_code < 300:
            validate(obj, definition_for(obj))


def json_body(result, definition: str | None) -> Any:
    """The parsed JSON body, validated against the named GFD.226 definition."""
    assert result.headers["Content-Type"].startswith("application/occi+json"), result.headers
    return validate(json.loads(result.text), definition)


# -- text renderings ------------------------------------------------------------------------------
def plain_lines(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines of a text/plain body."""
    out = []
    for line in text.splitlines():
        if line.strip():
            name, sep, value = line.partition(":")
            assert sep, f"not a structure line: {line!r}"
            out.append((name.strip(), value.strip()))
    return out


def plain_values(text: str, name: str) -> list[str]:
    return [v for n, v in plain_lines(text) if n.lower() == name.lower()]


def header_values(result, name: str) -> list[str]:
    raw = result.headers.get(name)
    return grammar.split_values(raw) if raw else []


def structures(result, name: str) -> list[str]:
    """Values of a structure, whichever text rendering the response used."""
    content_type = result.headers.get("Content-Type", "")
    if content_type.startswith("text/occi") and not content_type.startswith("text/occi+plain"):
        return header_values(result, name)
    return plain_values(result.text, name)


def categories(result) -> list[grammar.CategoryValue]:
    return [grammar.parse_category(v, where="test") for v in structures(result, "Category")]


def attributes(result) -> dict[str, Any]:
    return dict(grammar.parse_attribute(v, where="test") for v in structures(result, "X-OCCI-Attribute"))


def links(result) -> list[grammar.LinkValue]:
    return [grammar.parse_link(v, where="test") for v in structures(result, "Link")]


def locations(result) -> list[str]:
    return [grammar.parse_location(v, where="test") for v in structures(result, "X-OCCI-Location")]


def by_type_id(values: Iterable[grammar.CategoryValue]) -> dict[str, grammar.CategoryValue]:
    return {c.scheme + c.term: c for c in values}


def path_of(url: str) -> str:
    assert url.startswith(HOST + "/"), url
    return url[len(HOST):]


def error_text(result) -> str:
    """The error message and where, whatever the rendering."""
    if result.headers.get("Content-Type", "").startswith("application/"):
        error = json.loads(result.text)["error"]
        return f"{error['message']} where: {error.get('where', '')}"
    return result.text


# -- building requests ------------------------------------------------------------------------------
def plain_body(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def attribute_lines(attrs: dict[str, Any]) -> list[str]:
    return [f"X-OCCI-Attribute: {grammar.render_attribute(k, v)}" for k, v in attrs.items()]


def mixin_category(mixin: Mixin) -> str:
    return f'{mixin.term}; scheme="{mixin.scheme}"; class="mixin"'


def create(client, kind: str = "compute", attrs: dict[str, Any] | None = None, *, scheme: str = INFRA,
           mixins: Iterable[Mixin] = (), extra: Iterable[str] = (), expect: int = 201) -> str:
    """POST a text/plain creation to the kind's collection; the new entity's path."""
    lines = [f'Category: {kind}; scheme="{scheme}"; class="kind"']
    lines += [f"Category: {mixin_category(m)}" for m in mixins]
    lines += list(extra)
    lines += attribute_lines(attrs or {})
    collection = {"networkinterface": "/link/networkinterface/", "storagelink": "/link/storagelink/",
                  "agreement_link": "/link/agreement_link/", "collector": "/link/collector/"}.get(kind, f"/{kind}/")
    result = client.simulate_post(collection, headers={"Content-Type": "text/plain"}, body=plain_body(*lines))
    assert result.status_code == expect, (result.status, result.text)
    if expect != 201:
        return ""
    return path_of(result.headers["Location"])


def get(client, path: str, accept: str = "text/plain", **headers):
    return client.simulate_get(path, headers={"Accept": accept, **headers})


def post_plain(client, path: str, *lines: str, accept: str = "text/plain", query: str | None = None):
    return client.simulate_post(path, headers={"Content-Type": "text/plain", "Accept": accept},
                                body=plain_body(*lines) if lines else "", query_string=query)


def put_plain(client, path: str, *lines: str, accept: str = "text/plain"):
    return client.simulate_put(path, headers={"Content-Type": "text/plain", "Accept": accept},
                               body=plain_body(*lines) if lines else "")


def collection_paths(client, path: str) -> list[str]:
    result = get(client, path, "text/uri-list")
    assert result.status_code == 200, result.text
    return [path_of(line) for line in result.text.splitlines() if line.strip()]
