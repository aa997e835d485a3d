"""Hooks shared by the components that serve named CORDS records (placement's offers, monitors' metrics).

* Names are what documents reuse records by (CORDS.md §7.2) and what ``accords import``
  matches a re-imported record with: :func:`unique_names` refuses a second record of a kind
  under a name already taken (409 ``duplicate-name``), whichever account owns the first, so
  that a name always designates one record.
* A linked collection (``x[*]->cat``) is a set of links in ``/link/`` whose attribute counts
  them (:meth:`cords.model.base.Attributes.count`, server-managed): :func:`count_links` keeps
  that count right whenever a link from the source kind to the target kind is created or
  deleted (directly, inline, or with either end). It recounts rather than adds one, so a count
  that was ever wrong heals on the next change.

Both run inside the request's store transaction (:class:`occi.hooks.Hooks`): a refusal rolls
everything back, and the count changes with the link in one commit.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from occi.errors import Conflict
from occi.hooks import Hooks
from occi.model.category import Kind
from occi.model.core import LINK
from occi.store.base import Query

__all__ = ["unique_names", "count_links", "DUPLICATE_NAME"]

DUPLICATE_NAME = "duplicate-name"


def unique_names(hooks: Hooks, kinds: Iterable[Kind], *, per_account: bool = False) -> None:
    """Refuse to create a record of one of ``kinds`` whose ``occi.<term>.name`` is taken: on the
    whole platform, or with ``per_account`` in the creator's account only.

    Names are immutable (:meth:`cords.model.base.Attributes.name`), so creation is the only
    moment to check. A record without a name is not checked (no document can refer to it)."""
    for kind in kinds:
        attribute = f"occi.{kind.term}.name"

        def check(entity, ctx, *, kind: Kind = kind, attribute: str = attribute) -> None:
            name = entity.attributes.get(attribute)
            if not name:
                return
            query = Query(kinds=[kind.type_id], attributes={attribute: name},
                          owner=entity.owner if per_account else None)
            if ctx.session.count(query):
                whose = "your account has" if per_account else "there is"
                raise Conflict(f"{whose} a {kind.term} named {name!r} already; names identify {kind.term}s, so "
                               "update that one (POST to its location) instead of creating another",
                               code=DUPLICATE_NAME, where=attribute)

        hooks.on_create(kind)(check)


def count_links(hooks: Hooks, *, source: Kind, target: Kind, attribute: str) -> None:
    """Keep ``attribute`` of every ``source`` entity equal to its number of links to ``target`` entities."""

    def recount(link, ctx, *, adding: bool) -> None:
        if link.source_kind != source.type_id or link.target_kind != target.type_id:
            return
        session = ctx.session
        record = session.get(link.source)
        if record is None:
            return
        others = [found for found in session.links_from([link.source])
                  if found.target_kind == target.type_id and found.location != link.location]
        count = len(others) + (1 if adding else 0)
        if record.attributes.get(attribute) != count:
            session.update(replace(record, attributes={**record.attributes, attribute: count}),
                           expected_version=record.version)

    hooks.on_create(LINK)(lambda link, ctx: recount(link, ctx, adding=True))
    hooks.on_delete(LINK)(lambda link, ctx: recount(link, ctx, adding=False))
