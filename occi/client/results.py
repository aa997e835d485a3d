"""What the client returns: plain dataclasses, built from JSON or from text structures.

The client hands back these rather than the server's model classes so that a caller
needs nothing but the wire: kinds, mixins and actions are type-identifier strings and
attribute values are plain Python values, whatever rendering carried them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from occi.rendering import grammar
from occi.rendering.structures import parse_structures

__all__ = ["CategoryInfo", "Discovery", "Entity", "discovery_from_json", "discovery_from_values",
           "entity_from_json", "entity_from_structures"]

_TITLE, _SUMMARY = "occi.core.title", "occi.core.summary"


@dataclass
class CategoryInfo:
    """A Kind, Mixin or Action as the query interface describes it.

    ``attributes`` maps a name to its description; text renderings can only say
    ``mutable`` and ``required``, JSON adds ``type``, ``default``, ``pattern``...
    Text renders a mixin's ``depends`` as one ``rel=`` and has no ``applies``.
    """

    term: str
    scheme: str
    cls: str
    title: str | None = None
    location: str | None = None
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    parent: str | None = None
    depends: list[str] = field(default_factory=list)
    applies: list[str] = field(default_factory=list)

    @property
    def type_id(self) -> str:
        return self.scheme + self.term


@dataclass
class Discovery:
    """The categories a server serves (``GET /-/``), looked up by type id, term or location."""

    kinds: list[CategoryInfo] = field(default_factory=list)
    mixins: list[CategoryInfo] = field(default_factory=list)
    actions: list[CategoryInfo] = field(default_factory=list)

    @property
    def categories(self) -> list[CategoryInfo]:
        return [*self.kinds, *self.mixins, *self.actions]

    def get(self, type_id: str) -> CategoryInfo | None:
        return next((c for c in self.categories if c.type_id == type_id), None)

    def by_location(self, path: str) -> CategoryInfo | None:
        return next((c for c in (*self.kinds, *self.mixins) if c.location == path), None)

    def find(self, name: str) -> CategoryInfo | None:
        """A category by type id, or by bare term when exactly one kind or mixin has it."""
        if "#" in name:
            return self.get(name)
        matches = [c for c in (*self.kinds, *self.mixins) if c.term == name]
        return matches[0] if len(matches) == 1 else None


@dataclass
class Entity:
    """A resource or link; ``location`` is absolute, ``links`` are link entities of a resource.

    Title and summary are fields (as in JSON), not in ``attributes``; ``actions`` holds
    the type ids of the actions the server offers now.
    """

    location: str
    kind: str | None
    id: str | None
    mixins: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list["Entity"] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    title: str | None = None
    summary: str | None = None
    source: str | None = None
    target: str | None = None


# -- discovery ------------------------------------------------------------------------
def discovery_from_json(data: dict) -> Discovery:
    out = Discovery()
    for key, cls in (("kinds", "kind"), ("mixins", "mixin"), ("actions", "action")):
        for item in data.get(key) or ():
            getattr(out, key).append(CategoryInfo(
                term=item["term"], scheme=item["scheme"], cls=cls, title=item.get("title"),
                location=item.get("location"), attributes=dict(item.get("attributes") or {}),
                actions=list(item.get("actions") or ()), parent=item.get("parent"),
                depends=list(item.get("depends") or ()), applies=list(item.get("applies") or ())))
    return out


def discovery_from_values(values: Iterable[grammar.CategoryValue]) -> Discovery:
    """From parsed Category values; ``rel=`` is a kind's parent and a mixin's depends."""
    out = Discovery()
    for cv in values:
        info = CategoryInfo(
            term=cv.term, scheme=cv.scheme, cls=cv.cls, title=cv.title, location=cv.location,
            attributes={name: {"mutable": "immutable" not in props, "required": "required" in props}
                        for name, props in cv.attributes},
            actions=list(cv.actions))
        if cv.cls == "kind":
            info.parent = cv.rel[0] if cv.rel else None
        elif cv.cls == "mixin":
            info.depends = list(cv.rel)
        getattr(out, cv.cls + "s").append(info)
    return out


# -- entities ---------------------------------------------------------------------------
Locate = Callable[[str, str], str]   # (kind type id, occi.core.id) -> absolute location


def _end(value: Any) -> str | None:
    return value.get("location") if isinstance(value, dict) else value


def entity_from_json(data: dict, location: str | None, locate: Locate) -> Entity:
    """GFD.226 entity objects carry no location: ``locate`` derives one from kind and id."""
    kind, ident = data.get("kind"), data.get("id")
    if location is None:
        location = locate(kind, ident)
    attributes = dict(data.get("attributes") or {})
    entity = Entity(
        location=location, kind=kind, id=ident, mixins=list(data.get("mixins") or ()), attributes=attributes,
        actions=list(data.get("actions") or ()),
        title=data.get("title", attributes.pop(_TITLE, None)),
        summary=data.get("summary", attributes.pop(_SUMMARY, None)),
        source=_end(data.get("source")), target=_end(data.get("target")))
    entity.links = [entity_from_json(link, None, locate) for link in data.get("links") or ()]
    return entity


def entity_from_structures(items: list[tuple[str, str, str]], location: str) -> Entity:
    """From (name, value, where) text structures, parsed with the server's own parser."""
    doc = parse_structures(items, strict_names=False)
    ent = doc.entity
    attributes = dict(ent.attributes)
    entity = Entity(location=location, kind=ent.kind, id=ent.id, mixins=list(ent.mixins), attributes=attributes,
                    title=attributes.pop(_TITLE, None), summary=attributes.pop(_SUMMARY, None),
                    source=ent.source, target=ent.target)
    # parse_structures keeps only the URI of an action link; its rel= is the action type id.
    for name, raw, where in items:
        if name.strip().lower() == "link":
            for value in grammar.split_values(raw, where=where):
                parsed = grammar.parse_link(value, where=where)
                if "?action=" in parsed.target:
                    entity.actions.extend(parsed.rel[:1])
    for link in ent.links:
        link_attributes = dict(link.attributes)
        entity.links.append(Entity(
            location=link.self_ or "", kind=link.categories[0] if link.categories else None, id=link.id,
            mixins=list(link.categories[1:]), attributes=link_attributes,
            title=link_attributes.pop(_TITLE, None), source=location, target=link.target))
    return entity
