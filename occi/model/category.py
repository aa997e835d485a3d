"""Categories: the type system of OCCI Core (GFD.221 §4.4–4.6).

A Kind, Mixin or Action is declared once, as data. Everything else (discovery
renderings, validation of instances, storage, applicability of actions and the
documentation) is derived from these declarations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterable

from occi.model.attribute import Attribute

__all__ = ["Category", "Action", "Kind", "Mixin", "TERM_PATTERN", "split_type_id"]

#: GFD.229 §4 term; we emit only terms that also satisfy the stricter 1.1 grammar.
TERM_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def split_type_id(type_id: str) -> tuple[str, str]:
    """Split ``scheme#term`` into ``(scheme-with-#, term)``; ValueError when malformed."""
    scheme, sep, term = type_id.rpartition("#")
    if not sep or not scheme or not TERM_PATTERN.match(term):
        raise ValueError(f"{type_id!r} is not a category type identifier (scheme#term)")
    return scheme + "#", term


@dataclass(frozen=True, eq=False)
class Category:
    scheme: str
    term: str
    title: str = ""
    attributes: tuple[Attribute, ...] = ()
    type_id: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self):
        # The type id is every lookup's key (and the hash): computed once.
        object.__setattr__(self, "type_id", self.scheme + self.term)
        if not self.scheme.endswith("#"):
            raise ValueError(f"category scheme {self.scheme!r} must end with '#'")
        if not TERM_PATTERN.match(self.term):
            raise ValueError(f"invalid category term {self.term!r}")
        object.__setattr__(self, "attributes", tuple(self.attributes))
        names = [a.name for a in self.attributes]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.type_id}: duplicate attribute declarations")

    @property
    def category_class(self) -> str:
        raise NotImplementedError

    def __eq__(self, other):
        return isinstance(other, Category) and other.type_id == self.type_id

    def __hash__(self):
        return hash(self.type_id)

    def __repr__(self):
        return f"<{type(self).__name__} {self.type_id}>"


@dataclass(frozen=True, eq=False, repr=False)
class Action(Category):
    """An operation; its attributes are the invocation parameters.

    ``enabled_in`` lists the states (of the owning Kind's ``state_attribute``) in which
    the action is applicable (None: always); ``target_state`` is the state it leads to
    when no component hook decides otherwise.
    """

    enabled_in: tuple[str, ...] | None = None
    target_state: str | None = None
    #: Other type ids accepted on input for this action (published models disagree on schemes).
    aliases: tuple[str, ...] = ()

    @property
    def category_class(self) -> str:
        return "action"

    def parameter(self, name: str) -> Attribute | None:
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None


@dataclass(frozen=True, eq=False, repr=False)
class _Typed(Category):
    actions: tuple[Action, ...] = ()
    location: str | None = None

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "actions", tuple(self.actions))
        if self.location is not None and not (self.location.startswith("/") and self.location.endswith("/")):
            raise ValueError(f"{self.type_id}: location {self.location!r} must start and end with '/'")

    def own_attribute_map(self) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes}


@dataclass(frozen=True, eq=False, repr=False)
class Kind(_Typed):
    """An entity type; ``parent`` chains to ``core#entity``."""

    parent: "Kind | None" = None
    #: Name of the attribute holding the lifecycle state that ``Action.enabled_in`` reads.
    state_attribute: str | None = None
    #: For link kinds: the kinds a source (and a local target) must be, empty for any resource.
    source_kinds: tuple["Kind", ...] = ()
    target_kinds: tuple["Kind", ...] = ()

    @property
    def category_class(self) -> str:
        return "kind"

    @cached_property
    def lineage(self) -> tuple["Kind", ...]:
        """This kind and its ancestors, nearest first."""
        chain, kind = [], self
        while kind is not None:
            chain.append(kind)
            kind = kind.parent
        return tuple(chain)

    @cached_property
    def _ancestor_ids(self) -> frozenset[str]:
        return frozenset(k.type_id for k in self.lineage)

    def is_a(self, other: "Kind") -> bool:
        return other.type_id in self._ancestor_ids

    @cached_property
    def attribute_map(self) -> dict[str, Attribute]:
        """Every attribute of this kind, inherited ones first (child declarations win)."""
        merged: dict[str, Attribute] = {}
        for kind in reversed(self.lineage):
            merged.update(kind.own_attribute_map())
        return merged

    @cached_property
    def secret_attributes(self) -> frozenset[str]:
        """Names of the write-only attributes: stored, never rendered."""
        return frozenset(name for name, a in self.attribute_map.items() if a.secret)

    @cached_property
    def all_actions(self) -> tuple[Action, ...]:
        seen: dict[str, Action] = {}
        for kind in reversed(self.lineage):
            for action in kind.actions:
                seen[action.type_id] = action
        return tuple(seen.values())


@dataclass(frozen=True, eq=False, repr=False)
class Mixin(_Typed):
    """A capability added to entities: templates, tags, extension attributes."""

    depends: tuple["Mixin", ...] = ()
    applies: tuple[Kind, ...] = ()
    #: A template base (os_tpl, resource_tpl, ...): an entity carries at most one mixin that
    #: depends on it, and associating a new one replaces the old (GFD.224 §3.5).
    exclusive: bool = False
    #: Created by a client through the query interface (POST /-/), not by the provider.
    user_defined: bool = False
    owner: str | None = None
    #: ``term -> attributes`` that a *user* mixin depending on this one declares under its own
    #: term (GFD.228's ``agreement_term``: every term is a mixin depending on it, with
    #: ``<term>.term.type``, ``.state``, ...; occi.service.models applies it).
    member_attributes: Callable[[str], tuple[Attribute, ...]] | None = None

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "depends", tuple(self.depends))
        object.__setattr__(self, "applies", tuple(self.applies))

    @property
    def category_class(self) -> str:
        return "mixin"

    @cached_property
    def lineage(self) -> tuple["Mixin", ...]:
        """This mixin and everything it depends on, transitively, nearest first."""
        ordered: list[Mixin] = []
        pending = [self]
        while pending:
            mixin = pending.pop(0)
            if mixin not in ordered:
                ordered.append(mixin)
                pending.extend(mixin.depends)
        return tuple(ordered)

    @cached_property
    def attribute_map(self) -> dict[str, Attribute]:
        merged: dict[str, Attribute] = {}
        for mixin in reversed(self.lineage):
            merged.update(mixin.own_attribute_map())
        return merged

    @cached_property
    def secret_attributes(self) -> frozenset[str]:
        return frozenset(name for name, a in self.attribute_map.items() if a.secret)

    def depends_on(self, type_id: str) -> bool:
        return any(m.type_id == type_id for m in self.lineage[1:])

    def applies_to(self, kind: Kind) -> bool:
        """GFD.221: an empty ``applies`` means any Kind; else the kind or an ancestor must be listed.

        A Mixin inherits the restrictions of what it depends on.
        """
        for mixin in self.lineage:
            if mixin.applies and not any(kind.is_a(target) for target in mixin.applies):
                return False
        return True

    def is_template(self, template_type_id: str) -> bool:
        return self.depends_on(template_type_id)


def iter_categories(*groups: Iterable[Category]) -> Iterable[Category]:
    for group in groups:
        yield from group
