"""The effective model of a server: the provider's categories plus the user mixins in the store."""
from __future__ import annotations

import re
import threading
import time

from occi.errors import BadRequest
from occi.model.category import TERM_PATTERN, Kind, Mixin
from occi.model.registry import Model
from occi.store.base import MixinRecord

__all__ = ["ModelCache", "mixin_from_record"]


_LOCATION = re.compile(r"^/(?:[A-Za-z0-9._~\-]+/)+$")
_SCHEME = re.compile(r'^[^\x00-\x20\x7f<>"\\#]+#$')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_names(record: MixinRecord) -> None:
    """What a user mixin renders must render: a valid term, scheme, title and location."""
    if not TERM_PATTERN.match(record.term):
        raise BadRequest(f"mixin term {record.term!r} is not a term (letters, digits, '-', '_', '.')",
                         code="invalid-term", where="term")
    if not _SCHEME.match(record.scheme):
        raise BadRequest(f"mixin scheme {record.scheme!r} must be a URI ending in '#'", code="invalid-scheme",
                         where="scheme")
    if _CONTROL.search(record.title or ""):
        raise BadRequest("a mixin title cannot hold control characters", code="invalid-title", where="title")
    if not _LOCATION.match(record.location):
        raise BadRequest(f"mixin location {record.location!r} must be a path like /my_tag/ (letters, digits, "
                         "'.', '_', '~', '-')", code="bad-location", where="location")


def mixin_from_record(record: MixinRecord, model: Model, known: dict[str, Mixin]) -> Mixin:
    """Build a user mixin; its ``depends`` may name provider mixins or earlier user mixins."""
    _check_names(record)
    depends = []
    for type_id in record.depends:
        target = known.get(type_id) or model.get(type_id)
        if not isinstance(target, Mixin):
            raise BadRequest(f"mixin {record.type_id}: rel/depends names {type_id}, which is not a mixin here; "
                             "user mixins may only depend on known mixins", code="unknown-related", where="rel")
        depends.append(target)
    applies = []
    for type_id in record.applies:
        target = model.get(type_id)
        if not isinstance(target, Kind):
            raise BadRequest(f"mixin {record.type_id}: applies names {type_id}, which is not a kind here",
                             code="unknown-related", where="applies")
        applies.append(target)
    return Mixin(record.scheme, record.term, title=record.title, depends=tuple(depends), applies=tuple(applies),
                 location=record.location, user_defined=True, owner=record.owner,
                 attributes=_member_attributes(record.term, depends))


def _member_attributes(term: str, depends: list[Mixin]) -> tuple:
    """What the mixins a user mixin depends on make it declare (GFD.228 terms: ``<term>.term.*``)."""
    found: dict = {}
    for mixin in (m for d in depends for m in d.lineage):
        if mixin.member_attributes is not None:
            for attribute in mixin.member_attributes(term):
                found.setdefault(attribute.name, attribute)
    return tuple(found.values())


class ModelCache:
    """Caches the effective model per process.

    Checking the store's model generation costs a query, so a worker re-checks at most
    every ``refresh_interval`` seconds, and at once when a request names a category or a
    collection it does not know (:meth:`OcciService` retries such a request after a
    refresh): a mixin created through one worker is usable through every other at once.
    """

    def __init__(self, base: Model, store, *, refresh_interval: float = 0.5):
        self.base = base
        self.store = store
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._model = base
        self._generation: int | None = None
        self._checked = 0.0

    def current(self) -> Model:
        now = time.monotonic()
        if self._generation is not None and now - self._checked < self.refresh_interval:
            return self._model
        self.refresh()
        return self._model

    @property
    def latest(self) -> Model:
        """The model as last built, without asking the store (for labels, never for semantics)."""
        return self._model

    def snapshot(self) -> tuple[Model, int | None]:
        """The current model and the store generation it was built from."""
        self.current()
        with self._lock:
            return self._model, self._generation

    def refresh(self) -> bool:
        """Check the store now; True when the model changed (a lookup that missed may now hit)."""
        with self._lock:
            generation = self.store.model_generation()
            changed = generation != self._generation
            if changed:
                with self.store.session(readonly=True) as session:
                    records = session.user_mixins()
                self._model = self.build(records)
                self._generation = generation
            self._checked = time.monotonic()
            return changed

    def build(self, records: list[MixinRecord]) -> Model:
        known: dict[str, Mixin] = {}
        for record in records:
            try:
                known[record.type_id] = mixin_from_record(record, self.base, known)
            except (BadRequest, ValueError):
                continue   # a mixin whose relatives vanished is dropped rather than breaking the server
        return self.base.extend(known.values())

    def invalidate(self) -> None:
        with self._lock:
            self._generation = None
