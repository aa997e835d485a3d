"""application/occi+json (GFD.226): rendering and parsing."""
from __future__ import annotations

import json
from typing import Any, Iterable

from occi.documents import ActionDocument, CategoryDocument, EntityDocument, LinkDocument, RequestDocument
from occi.entity import Entity
from occi.errors import BadRequest
from occi.model.category import Action, Category, Kind, Mixin
from occi.rendering.structures import exposed_attributes
from occi.urls import Urls

__all__ = ["category_object", "model_object", "entity_object", "collection_object", "parse_json",
           "MAX_DEPTH", "dumps"]

MAX_DEPTH = 32
_ENTITY_KEYS = {"kind", "mixins", "attributes", "actions", "id", "links", "summary", "title",
                "source", "target", "rel", "location"}


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# -- rendering ----------------------------------------------------------------------
def category_object(category: Category) -> dict:
    out: dict[str, Any] = {"term": category.term, "scheme": category.scheme}
    if category.title:
        out["title"] = category.title
    out["attributes"] = {a.name: a.describe() for a in exposed_attributes(category)}
    if isinstance(category, Action):
        return out
    actions = [a.type_id for a in category.actions]
    if actions:
        out["actions"] = actions
    if isinstance(category, Kind):
        if category.parent is not None:
            out["parent"] = category.parent.type_id
        if category.location is not None:
            out["location"] = category.location
    elif isinstance(category, Mixin):
        if category.depends:
            out["depends"] = [m.type_id for m in category.depends]
        if category.applies:
            out["applies"] = [k.type_id for k in category.applies]
        out["location"] = category.location
    return out


def model_object(categories: Iterable[Category]) -> dict:
    out: dict[str, list] = {"kinds": [], "mixins": [], "actions": []}
    for category in categories:
        out[category.category_class + "s"].append(category_object(category))
    return {k: v for k, v in out.items() if v}


def _plain_attributes(entity: Entity) -> dict:
    skip = ("occi.core.title", "occi.core.summary")
    return {k: v for k, v in entity.shown_attributes() if k not in skip}


def _target(location: str, urls: Urls) -> str:
    return urls.absolute(location) if location.startswith("/") else location


def entity_object(entity: Entity, links: Iterable[Entity], urls: Urls) -> dict:
    out: dict[str, Any] = {"kind": entity.kind.type_id, "id": entity.id}
    if entity.mixins:
        out["mixins"] = [m.type_id for m in entity.mixins]
    attributes = _plain_attributes(entity)
    if attributes:
        out["attributes"] = attributes
    actions = [a.type_id for a in entity.applicable_actions()]
    if actions:
        out["actions"] = actions
    title = entity.attributes.get("occi.core.title")
    if title is not None:
        out["title"] = title
    if entity.is_link:
        source = {"location": urls.absolute(entity.source)}
        if entity.source_kind:
            source["kind"] = entity.source_kind
        target = {"location": _target(entity.target, urls)}
        if entity.target_kind:
            target["kind"] = entity.target_kind
        out["source"], out["target"] = source, target
        return out
    summary = entity.attributes.get("occi.core.summary")
    if summary is not None:
        out["summary"] = summary
    rendered_links = [entity_object(link, (), urls) for link in links]
    if rendered_links:
        out["links"] = rendered_links
    return out


def collection_object(entities: Iterable[Entity], links_by_source: dict[str, list[Entity]], urls: Urls,
                      *, links_collection: bool) -> dict:
    """``{"resources": [...]}`` or ``{"links": [...]}``; a mixed collection (a mixin's, an unbound
    path's) has both arrays, as the GFD.226 ``model`` object allows."""
    resources: list[dict] = []
    links: list[dict] = []
    for entity in entities:
        (links if entity.is_link else resources).append(
            entity_object(entity, links_by_source.get(entity.location, ()), urls))
    if links_collection:
        return {"links": links}
    return {"resources": resources, "links": links} if links else {"resources": resources}


# -- parsing ------------------------------------------------------------------------
def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def parse_json(body: str) -> RequestDocument:
    if not body.strip():
        return RequestDocument()
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels", code="too-deep", where="body") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                         code="malformed-json", where=f"body:{exc.lineno}:{exc.colno}") from None
    if not _depth_ok(data):
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels", code="too-deep", where="body")
    doc = RequestDocument(empty=False)
    if isinstance(data, list):
        data = {"locations": data}
    if not isinstance(data, dict):
        raise BadRequest("the JSON body must be an object", code="malformed-json", where="$")
    if "action" in data:
        _allowed(data, {"action", "attributes"}, "$")
        doc.action = ActionDocument(action=_str(data, "action", "$", required=True),
                                    attributes=_attributes(data, "$"))
        doc.attributes = doc.action.attributes
        return doc
    if "kind" in data:
        doc.entity = _entity(data, "$")
        doc.links, doc.attributes = doc.entity.links, doc.entity.attributes
        return doc
    for key in ("resources", "links"):
        if key in data:
            items = _list(data, key, "$")
            for index, item in enumerate(items):
                where = f"$.{key}[{index}]"
                if isinstance(item, str):
                    doc.locations.append(item)
                elif isinstance(item, dict) and "kind" in item:
                    doc.entities.append(_entity(item, where))
                elif isinstance(item, dict) and isinstance(item.get("location"), str):
                    doc.locations.append(item["location"])
                else:
                    raise BadRequest(f"{where} must be an entity object or a location", code="malformed-json",
                                     where=where)
    if "locations" in data:
        for index, item in enumerate(_list(data, "locations", "$")):
            if not isinstance(item, str):
                raise BadRequest(f"$.locations[{index}] must be a string", code="malformed-json",
                                 where=f"$.locations[{index}]")
            doc.locations.append(item)
    if "term" in data:
        doc.categories.append(_category(data, "$", None))
    for key, cls in (("kinds", "kind"), ("mixins", "mixin"), ("actions", "action")):
        if key in data:
            for index, item in enumerate(_list(data, key, "$")):
                if not isinstance(item, dict):
                    raise BadRequest(f"$.{key}[{index}] must be an object", code="malformed-json",
                                     where=f"$.{key}[{index}]")
                doc.categories.append(_category(item, f"$.{key}[{index}]", cls))
    if not (doc.entities or doc.locations or doc.categories):
        raise BadRequest("the JSON body is not an OCCI entity, action invocation, collection or category "
                         "(expected a 'kind', 'action', 'resources', 'links', 'locations' or 'mixins' member)",
                         code="malformed-json", where="$")
    return doc


def _entity(data: dict, where: str) -> EntityDocument:
    _allowed(data, _ENTITY_KEYS, where)
    attributes = _attributes(data, where)
    for key, name in (("title", "occi.core.title"), ("summary", "occi.core.summary")):
        value = _str(data, key, where)
        if value is not None:
            attributes[name] = value
    entity = EntityDocument(kind=_str(data, "kind", where, required=True), mixins=_strings(data, "mixins", where),
                            attributes=attributes, id=_str(data, "id", where))
    for end in ("source", "target"):
        if end in data:
            value = data[end]
            if isinstance(value, str):
                setattr(entity, end, value)
            elif isinstance(value, dict) and isinstance(value.get("location"), str):
                setattr(entity, end, value["location"])
            else:
                raise BadRequest(f"{where}.{end} must be an object with a 'location' string",
                                 code="malformed-json", where=f"{where}.{end}")
    for index, link in enumerate(_list(data, "links", where) if "links" in data else ()):
        here = f"{where}.links[{index}]"
        if not isinstance(link, dict):
            raise BadRequest(f"{here} must be a link object", code="malformed-json", where=here)
        inner = _entity(link, here)
        categories = ([inner.kind] if inner.kind else []) + inner.mixins
        entity.links.append(LinkDocument(target=inner.target, source=inner.source, categories=categories,
                                         attributes=inner.attributes, id=inner.id, where=here))
    return entity


def _category(data: dict, where: str, cls: str | None) -> CategoryDocument:
    term, scheme = _str(data, "term", where, required=True), _str(data, "scheme", where, required=True)
    if cls is None:
        cls = "mixin" if "location" in data and "parent" not in data else "kind"
    return CategoryDocument(term=term, scheme=scheme, cls=cls, title=_str(data, "title", where),
                            rel=_strings(data, "depends", where), applies=_strings(data, "applies", where),
                            location=_str(data, "location", where), where=where)


def _allowed(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"{where}: unknown member(s) {', '.join(unknown)}", code="malformed-json",
                         where=f"{where}.{unknown[0]}")


def _str(data: dict, key: str, where: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{where}.{key} is required", code="malformed-json", where=f"{where}.{key}")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{where}.{key} must be a string", code="malformed-json", where=f"{where}.{key}")
    return value


def _list(data: dict, key: str, where: str) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise BadRequest(f"{where}.{key} must be an array", code="malformed-json", where=f"{where}.{key}")
    return value


def _strings(data: dict, key: str, where: str) -> list[str]:
    if data.get(key) is None:
        return []
    items = _list(data, key, where)
    if not all(isinstance(i, str) for i in items):
        raise BadRequest(f"{where}.{key} must be an array of strings", code="malformed-json",
                         where=f"{where}.{key}")
    return list(items)


def _attributes(data: dict, where: str) -> dict:
    value = data.get("attributes")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"{where}.attributes must be an object", code="malformed-json",
                         where=f"{where}.attributes")
    for name, item in value.items():
        if item is None:
            raise BadRequest(f"{where}.attributes.{name}: null is not an OCCI value; omit the attribute",
                             code="invalid-attribute", where=f"{where}.attributes.{name}")
    return dict(value)


