"""What a client sent, independent of the rendering it used.

The text and JSON parsers produce these documents; the service validates them against
the model. Nothing here is trusted yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LinkDocument", "EntityDocument", "ActionDocument", "CategoryDocument", "RequestDocument"]


@dataclass
class LinkDocument:
    """A link as a client wrote it: inline on a resource, or a link entity of its own."""

    target: str | None = None
    source: str | None = None
    categories: list[str] = field(default_factory=list)   # type ids: the link kind and mixins
    rel: list[str] = field(default_factory=list)
    self_: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    where: str = ""


@dataclass
class EntityDocument:
    kind: str | None = None
    mixins: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[LinkDocument] = field(default_factory=list)
    action_links: list[str] = field(default_factory=list)
    id: str | None = None
    source: str | None = None
    target: str | None = None


@dataclass
class ActionDocument:
    action: str | None = None          # type id of the action category, if given
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class CategoryDocument:
    """A category definition sent to the query interface (user mixins)."""

    term: str
    scheme: str
    cls: str
    title: str | None = None
    rel: list[str] = field(default_factory=list)       # depends (text: rel=)
    applies: list[str] = field(default_factory=list)
    location: str | None = None
    where: str = ""

    @property
    def type_id(self) -> str:
        return self.scheme + self.term


@dataclass
class RequestDocument:
    """Everything a request carried; each operation reads the parts it needs."""

    categories: list[CategoryDocument] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[LinkDocument] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    entity: EntityDocument | None = None
    action: ActionDocument | None = None
    entities: list[EntityDocument] = field(default_factory=list)   # JSON collections
    empty: bool = True

    def category_ids(self, cls: str | None = None) -> list[str]:
        return [c.type_id for c in self.categories if cls is None or c.cls == cls]
