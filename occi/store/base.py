"""The storage interface of the OCCI framework.

The store knows nothing of the category model: it keeps records that name their
categories by type id. The OCCI semantics live in :mod:`occi.service`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence

from occi.errors import Conflict

__all__ = ["EntityRecord", "MixinRecord", "Query", "StaleWrite", "DuplicateEntity", "StoreClosed", "Store",
           "StoreSession"]


class StaleWrite(Conflict):
    """The entity changed since it was read: the write would lose someone else's update."""

    default_code = "stale-write"


class DuplicateEntity(Conflict):
    default_code = "duplicate"


class StoreClosed(RuntimeError):
    """The store was closed: it answers no more (what :meth:`Store.ping` raises after ``close``)."""


@dataclass
class EntityRecord:
    location: str                      # absolute path, unique: "/compute/<uuid>"
    id: str                            # occi.core.id, unique: "urn:uuid:<uuid>"
    kind: str                          # kind type id
    mixins: list[str] = field(default_factory=list)   # mixin type ids, in association order
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None          # links only: absolute path of the source resource
    target: str | None = None          # links only: absolute path (ours) or absolute URI
    source_kind: str | None = None
    target_kind: str | None = None
    owner: str | None = None           # owning account
    version: int = 1                   # bumped by every write (optimistic concurrency)


@dataclass
class MixinRecord:
    """A user-defined mixin created through the query interface."""

    scheme: str
    term: str
    location: str
    title: str = ""
    depends: list[str] = field(default_factory=list)
    applies: list[str] = field(default_factory=list)
    owner: str | None = None

    @property
    def type_id(self) -> str:
        return self.scheme + self.term


@dataclass
class Query:
    """What to list. All criteria combine with AND."""

    kinds: Sequence[str] | None = None            # any of these kind type ids
    mixin: str | None = None                      # carries this mixin type id
    location_prefix: str | None = None            # location starts with this path
    attributes: dict[str, Any] = field(default_factory=dict)   # exact matches
    owner: str | None = None
    offset: int = 0
    limit: int | None = None


class StoreSession(Protocol):
    """One transaction. Leaving the ``with`` block commits; an exception rolls back."""

    def get(self, location: str) -> EntityRecord | None: ...
    def after_commit(self, callback: Callable[[], None]) -> None: ...   # called once committed, never on rollback
    def get_with_links(self, location: str) -> tuple[EntityRecord | None, list[EntityRecord]]: ...
    def get_by_id(self, entity_id: str) -> EntityRecord | None: ...
    def get_many(self, locations: Sequence[str]) -> list[EntityRecord]: ...
    def list(self, query: Query) -> list[EntityRecord]: ...
    def list_locations(self, query: Query) -> list[str]: ...
    def count(self, query: Query) -> int: ...
    def insert(self, record: EntityRecord) -> EntityRecord: ...
    def update(self, record: EntityRecord, *, expected_version: int) -> EntityRecord: ...
    def delete(self, location: str) -> bool: ...
    def links_from(self, sources: Sequence[str]) -> list[EntityRecord]: ...
    def links_to(self, target: str) -> list[EntityRecord]: ...
    def user_mixins(self) -> list[MixinRecord]: ...
    def add_user_mixin(self, mixin: MixinRecord) -> None: ...
    def remove_user_mixin(self, type_id: str) -> bool: ...
    def model_generation(self) -> int: ...


class Store(Protocol):
    def migrate(self) -> None: ...
    def session(self, *, readonly: bool = False) -> Iterator[StoreSession]: ...   # a context manager
    def model_generation(self) -> int: ...
    def ping(self) -> None: ...        # a trivial query; raises when the store does not answer (readiness)
    def close(self) -> None: ...
