"""Reading request documents and writing responses in the negotiated rendering."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import falcon

from occi.documents import RequestDocument
from occi.entity import Entity
from occi.errors import BadRequest, OcciError, PayloadTooLarge
from occi.model.category import Category
from occi.rendering import negotiation as media
from occi.rendering.occi_json import (category_object, collection_object, dumps, entity_object, model_object,
                                      parse_json)
from occi.rendering.structures import (Structure, category_structure, entity_structures, location_structures,
                                       parse_structures)
from occi.urls import Urls

__all__ = ["Limits", "read_document", "Output", "render_entity", "render_entities", "render_locations",
           "render_categories", "render_error", "render_ok"]

_STRUCTURE_HEADERS = ("CATEGORY", "LINK", "X-OCCI-ATTRIBUTE", "X-OCCI-LOCATION")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_header_bytes: int = 64 << 10


def _header_text(value: str, name: str) -> str:
    """WSGI hands header values over as latin-1; OCCI text carries UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return value
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{name} header: invalid UTF-8 at byte {exc.start}", code="bad-encoding",
                         where=f"{name} header") from None


def _header_structures(req: falcon.Request):
    for name in _STRUCTURE_HEADERS:
        value = req.get_header(name)
        if value is not None:
            title = {"CATEGORY": "Category", "LINK": "Link"}.get(name, name.title().replace("Occi", "OCCI"))
            yield title, _header_text(value, title), f"{title} header"


def _body_text(req: falcon.Request, limits: Limits) -> str:
    length = req.content_length
    if length is not None and length > limits.max_body_bytes:
        raise PayloadTooLarge(f"the body has {length} bytes; this server takes at most {limits.max_body_bytes}",
                              where="body")
    raw = req.bounded_stream.read(limits.max_body_bytes + 1)
    if len(raw) > limits.max_body_bytes:
        raise PayloadTooLarge(f"the body is larger than {limits.max_body_bytes} bytes", where="body")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BadRequest(f"the body is not valid UTF-8 (byte {exc.start}, line {line} column {column})",
                         code="bad-encoding", where=f"body:{line}:{column}") from None


def _plain_lines(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise BadRequest(f"line {number}: expected 'Name: value' (e.g. 'Category: ...'), got {line[:60]!r}",
                             code="malformed-line", where=f"body:{number}:1")
        yield name.strip(), value.strip(), f"line {number}"


def read_document(req: falcon.Request, limits: Limits) -> RequestDocument:
    """Parse what the request carries, whatever the rendering; headers serve as filters on GET."""
    kind = media.request_media_type(req.content_type)
    text = _body_text(req, limits) if req.method in ("POST", "PUT", "DELETE") else ""
    if kind in (media.OCCI_JSON, media.JSON):
        return parse_json(text)
    if kind in (media.TEXT_PLAIN, media.TEXT_OCCI_PLAIN) and text.strip():
        return parse_structures(_plain_lines(text), strict_names=True)
    if kind == media.URI_LIST and text.strip():
        doc = RequestDocument(empty=False)
        doc.locations = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return doc
    if kind is None and text.strip():
        stripped = text.lstrip()
        if stripped.startswith("{") or stripped.startswith("["):
            return parse_json(text)
        return parse_structures(_plain_lines(text), strict_names=True)
    return parse_structures(_header_structures(req), strict_names=False)


# -- output -------------------------------------------------------------------------------
@dataclass
class Output:
    media_type: str
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def _text(structures: Iterable[Structure], media_type: str) -> Output:
    if media_type == media.TEXT_OCCI:
        grouped: dict[str, list[str]] = {}
        for name, value in structures:
            grouped.setdefault(name, []).append(value)
        # WSGI header values are latin-1 strings; OCCI text is UTF-8, so send its bytes as they are.
        return Output(media_type, b"OK", [(name, ", ".join(values).encode("utf-8").decode("latin-1"))
                                          for name, values in grouped.items()])
    lines = [f"{name}: {value}" for name, value in structures]
    return Output(media_type, ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")


def _not_a_listing() -> BadRequest:
    return BadRequest("text/uri-list renders only listings (collections); ask for another media type",
                      code="uri-list-not-a-listing", where="Accept")


def render_entity(entity: Entity, links: list[Entity], urls: Urls, media_type: str) -> Output:
    if media_type == media.URI_LIST:
        raise _not_a_listing()
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps(entity_object(entity, links, urls)))
    return _text(entity_structures(entity, links, urls), media_type)


def render_entities(entities: list[Entity], links: dict[str, list[Entity]], urls: Urls, media_type: str,
                    *, links_collection: bool) -> Output:
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps(collection_object(entities, links, urls, links_collection=links_collection)))
    return render_locations([e.location for e in entities], urls, media_type)


def render_locations(locations: list[str], urls: Urls, media_type: str) -> Output:
    if media_type == media.URI_LIST:       # the big listings: one join, no per-line calls
        if not locations:
            return Output(media_type, b"")
        separator = "\r\n" + urls.base
        return Output(media_type, (urls.base + separator.join(locations) + "\r\n").encode("utf-8"))
    if media_type == media.TEXT_PLAIN or media_type == media.TEXT_OCCI_PLAIN:
        if not locations:
            return Output(media_type, b"")
        separator = "\nX-OCCI-Location: " + urls.base
        return Output(media_type, ("X-OCCI-Location: " + urls.base + separator.join(locations) + "\n").encode("utf-8"))
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps({"locations": [urls.absolute(loc) for loc in locations]}))
    return _text(location_structures(locations, urls), media_type)


def render_categories(categories: Iterable[Category], media_type: str) -> Output:
    if media_type == media.URI_LIST:
        raise _not_a_listing()
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps(model_object(categories)))
    return _text((("Category", category_structure(c)) for c in categories), media_type)


def render_category_objects(categories: Iterable[Category], media_type: str) -> Output:
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps({"mixins": [category_object(c) for c in categories]}))
    return render_categories(categories, media_type)


def render_ok(media_type: str) -> Output:
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, b"{}")
    if media_type == media.TEXT_OCCI:
        return Output(media_type, b"OK")
    return Output(media_type if media_type != media.URI_LIST else media.TEXT_PLAIN, b"")


def render_error(error: OcciError, media_type: str) -> Output:
    if media_type in (media.OCCI_JSON, media.JSON):
        return Output(media_type, dumps({"error": error.as_dict()}))
    text = f"{error.status} {error.code}: {error.message}"
    if error.where:
        text += f"\nwhere: {error.where}"
    media_type = media_type if media_type != media.URI_LIST else media.TEXT_PLAIN
    return Output(media_type, (text + "\n").encode("utf-8"))
