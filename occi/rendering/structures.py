"""The OCCI text structures (Category, Link, X-OCCI-Attribute, X-OCCI-Location) of model objects.

Both text renderings share this: text/plain writes the structures as body lines,
text/occi as headers. Parsing goes the other way, into request documents.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Iterator

from occi.documents import ActionDocument, CategoryDocument, EntityDocument, LinkDocument, RequestDocument
from occi.entity import Entity
from occi.errors import BadRequest
from occi.model.category import Category, Kind, Mixin
from occi.model.core import RESOURCE
from occi.rendering import grammar
from occi.urls import Urls

__all__ = ["category_structure", "entity_structures", "location_structures", "parse_structures",
           "Structure"]

Structure = tuple[str, str]  # (structure name, value)


def category_structure(category: Category, *, full: bool = True) -> str:
    """One Category value; ``full`` adds attributes and actions (discovery), else the short form.

    Categories are immutable, so each keeps its renderings (every entity GET needs them).
    """
    key = "_text_full" if full else "_text_short"
    cached = category.__dict__.get(key)
    if cached is None:
        cached = category.__dict__[key] = _render_category(category, full=full)
    return cached


def _render_category(category: Category, *, full: bool) -> str:
    rel: tuple[str, ...] = ()
    location = None
    if isinstance(category, Kind):
        rel = (category.parent.type_id,) if category.parent is not None else ()
        location = category.location
    elif isinstance(category, Mixin):
        # GFD.229 §5.5.2: depends/applies render as rel= with the first depends value.
        related = category.depends or category.applies
        rel = (related[0].type_id,) if related else ()
        location = category.location
    actions = tuple(a.type_id for a in getattr(category, "actions", ())) if full else ()
    return grammar.render_category(
        term=category.term, scheme=category.scheme, cls=category.category_class,
        title=category.title or None, rel=rel, location=location,
        attributes=_attribute_defs(category) if full else (), actions=actions)


def exposed_attributes(category: Category):
    """What instances of the category expose: inherited and depended-on attributes included."""
    attribute_map = getattr(category, "attribute_map", None)
    return tuple(attribute_map.values()) if attribute_map is not None else category.attributes


def _attribute_defs(category: Category) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple(
        (a.name, frozenset(p for p, on in (("immutable", not a.mutable), ("required", a.required)) if on))
        for a in exposed_attributes(category))


def entity_structures(entity: Entity, links: Iterable[Entity], urls: Urls) -> Iterator[Structure]:
    yield "Category", category_structure(entity.kind, full=False)
    for mixin in entity.mixins:
        yield "Category", category_structure(mixin, full=False)
    if not entity.is_link:
        for link in links:
            yield "Link", _link_value(link, urls)
    absolute = urls.absolute(entity.location)
    for action in entity.applicable_actions():
        yield "Link", grammar.render_action_link(uri=f"{absolute}?action={action.term}", rel=action.type_id)
    for name, value in entity_attributes(entity, urls):
        yield "X-OCCI-Attribute", grammar.render_attribute(name, value)


def entity_attributes(entity: Entity, urls: Urls) -> Iterator[tuple[str, Any]]:
    """The attribute values an entity shows, structural ones first."""
    yield "occi.core.id", entity.id
    if entity.is_link:
        yield "occi.core.source", urls.absolute(entity.source)
        if entity.source_kind:
            yield "occi.core.source.kind", entity.source_kind
        yield "occi.core.target", _target_uri(entity.target, urls)
        if entity.target_kind:
            yield "occi.core.target.kind", entity.target_kind
    yield from entity.shown_attributes()


def _target_uri(target: str, urls: Urls) -> str:
    return urls.absolute(target) if target.startswith("/") else target


def _link_value(link: Entity, urls: Urls) -> str:
    attributes = {"occi.core.id": link.id}
    attributes.update(link.shown_attributes())
    return grammar.render_link(
        target=_target_uri(link.target, urls), rel=(link.target_kind or RESOURCE.type_id,),
        self_=urls.absolute(link.location),
        categories=(link.kind.type_id, *(m.type_id for m in link.mixins)), attributes=attributes)


def location_structures(locations: Iterable[str], urls: Urls) -> Iterator[Structure]:
    for location in locations:
        yield "X-OCCI-Location", urls.absolute(location)


# -- parsing ------------------------------------------------------------------------
_NAMES = {"category": "Category", "link": "Link", "x-occi-attribute": "X-OCCI-Attribute",
          "x-occi-location": "X-OCCI-Location"}


def parse_structures(items: Iterable[tuple[str, str, str]], *, strict_names: bool) -> RequestDocument:
    """Parse (name, value, where) triples into a request document.

    ``strict_names`` rejects unknown structure names (text/plain bodies hold nothing else);
    headers of course carry many other names, which are skipped.
    """
    doc = RequestDocument()
    links: list[LinkDocument] = []
    for name, raw, where in items:
        canonical = _NAMES.get(name.strip().lower())
        if canonical is None:
            if strict_names:
                raise BadRequest(f"{where}: '{name}' is not an OCCI structure (expected Category, Link, "
                                 "X-OCCI-Attribute or X-OCCI-Location)", code="unknown-structure", where=where)
            continue
        doc.empty = False
        for index, value in enumerate(grammar.split_values(raw, where=where), start=1):
            here = f"{where}, value {index}" if "," in raw else where
            if canonical == "Category":
                cv = _parse_category(value, here)
                doc.categories.append(CategoryDocument(
                    term=cv.term, scheme=cv.scheme, cls=cv.cls, title=cv.title, rel=list(cv.rel),
                    location=cv.location, where=here))
            elif canonical == "Link":
                lv = grammar.parse_link(value, where=here)
                links.append(LinkDocument(target=lv.target, categories=list(lv.categories), rel=list(lv.rel),
                                          self_=lv.self_, attributes=dict(lv.attributes), where=here))
            elif canonical == "X-OCCI-Attribute":
                attr, attr_value = grammar.parse_attribute(value, where=here)
                if attr in doc.attributes:
                    raise BadRequest(f"{here}: attribute {attr} is given twice", code="duplicate-attribute",
                                     where=here)
                doc.attributes[attr] = attr_value
            else:
                doc.locations.append(grammar.parse_location(value, where=here))
    _assemble(doc, links)
    return doc


@lru_cache(maxsize=1024)
def _cached_category(value: str) -> grammar.CategoryValue:
    return grammar.parse_category(value, where="Category")


def _parse_category(value: str, where: str) -> grammar.CategoryValue:
    """Clients send the same few Category values again and again: parse each once."""
    try:
        return _cached_category(value)
    except BadRequest:
        return grammar.parse_category(value, where=where)     # raises, saying where


def _assemble(doc: RequestDocument, links: list[LinkDocument]) -> None:
    attributes = dict(doc.attributes)
    entity = EntityDocument(
        kind=None, mixins=doc.category_ids("mixin"),
        id=_pop_str(attributes, "occi.core.id"),
        source=_pop_str(attributes, "occi.core.source"),
        target=_pop_str(attributes, "occi.core.target"))
    attributes.pop("occi.core.source.kind", None)
    attributes.pop("occi.core.target.kind", None)
    kinds = doc.category_ids("kind")
    if len(kinds) > 1:
        raise BadRequest(f"an entity has exactly one kind; got {', '.join(kinds)}", code="several-kinds",
                         where="Category")
    entity.kind = kinds[0] if kinds else None
    entity.attributes = attributes
    for link in links:
        if "?action=" in link.target:
            entity.action_links.append(link.target)
        else:
            link.id = _pop_str(link.attributes, "occi.core.id")
            entity.links.append(link)
    doc.links = entity.links
    doc.entity = entity
    actions = doc.category_ids("action")
    if len(actions) > 1:
        raise BadRequest(f"one action at a time; got {', '.join(actions)}", code="several-actions",
                         where="Category")
    doc.action = ActionDocument(action=actions[0] if actions else None, attributes=dict(doc.attributes))


def _pop_str(attributes: dict, name: str) -> str | None:
    value = attributes.pop(name, None)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"attribute {name} must be a quoted string", code="invalid-attribute", where=name)
    return value
