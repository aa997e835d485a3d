"""The Model: every Category a server knows, indexed by type id and by location."""
from __future__ import annotations

from typing import Iterable

from occi.errors import BadRequest, Conflict
from occi.model import core
from occi.model.category import Action, Category, Kind, Mixin

__all__ = ["Model"]


class Model:
    """An immutable set of categories: the provider's, plus any user mixins.

    ``extend`` returns a new Model, so a rendering cached for one Model never goes stale.
    """

    def __init__(self, categories: Iterable[Category], *, user_mixins: Iterable[Mixin] = ()):
        self._by_id: dict[str, Category] = {}
        self._by_location: dict[str, Kind | Mixin] = {}
        for category in (*core.CATEGORIES, *categories):
            self._add(category, replace_same=True)
        for typed in (*self.kinds, *self.mixins):
            for action in typed.actions:
                self._add(action, replace_same=True)
        self._aliases = {alias: action for action in self.actions for alias in action.aliases}
        self._provider_ids = frozenset(self._by_id)
        #: Write-only attribute names of the provider's kinds and mixins (never filtered on).
        self.secret_attributes = frozenset(name for typed in (*self.kinds, *self.mixins)
                                           for name in typed.secret_attributes)
        self._check()
        self.user_mixins: tuple[Mixin, ...] = ()
        for mixin in user_mixins:
            self._add(mixin, replace_same=False)
        self.user_mixins = tuple(user_mixins)

    # -- construction ---------------------------------------------------------------
    def _add(self, category: Category, *, replace_same: bool) -> None:
        existing = self._by_id.get(category.type_id)
        if existing is not None:
            if replace_same and existing is category:
                return
            if not replace_same or existing is not category:
                raise ValueError(f"category {category.type_id} is declared twice")
        location = getattr(category, "location", None)
        if location is not None:
            holder = self._by_location.get(location)
            if holder is not None:
                raise ValueError(f"location {location} is bound to both {holder.type_id} and {category.type_id}")
            self._by_location[location] = category
        self._by_id[category.type_id] = category

    def _check(self) -> None:
        for category in self._by_id.values():
            if isinstance(category, Kind):
                if category.parent is not None and category.parent.type_id not in self._by_id:
                    raise ValueError(f"{category.type_id}: parent {category.parent.type_id} is not in the model")
                if category.type_id != core.ENTITY.type_id and category.location is None:
                    raise ValueError(f"{category.type_id}: every kind but core#entity needs a location")
            if isinstance(category, Mixin):
                for related in (*category.depends, *category.applies):
                    if related.type_id not in self._by_id:
                        raise ValueError(f"{category.type_id}: {related.type_id} is not in the model")
                if category.location is None:
                    raise ValueError(f"{category.type_id}: a mixin needs a location")

    def extend(self, user_mixins: Iterable[Mixin]) -> "Model":
        clone = object.__new__(Model)
        clone._by_id = {k: v for k, v in self._by_id.items() if k in self._provider_ids}
        clone._by_location = {loc: c for loc, c in self._by_location.items() if c.type_id in self._provider_ids}
        clone._provider_ids = self._provider_ids
        clone._aliases = self._aliases
        clone.secret_attributes = self.secret_attributes
        mixins = tuple(user_mixins)
        for mixin in mixins:
            clone._add(mixin, replace_same=False)
        clone.user_mixins = mixins
        return clone

    # -- lookup ---------------------------------------------------------------------
    def get(self, type_id: str) -> Category | None:
        found = self._by_id.get(type_id)
        return found if found is not None else self._aliases.get(type_id)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._by_id

    def is_provider_category(self, type_id: str) -> bool:
        return type_id in self._provider_ids

    def by_location(self, path: str) -> Kind | Mixin | None:
        return self._by_location.get(path)

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(self._by_id.values())

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(c for c in self._by_id.values() if isinstance(c, Kind))

    @property
    def mixins(self) -> tuple[Mixin, ...]:
        return tuple(c for c in self._by_id.values() if isinstance(c, Mixin))

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(c for c in self._by_id.values() if isinstance(c, Action))

    def kind(self, type_id: str, *, where: str | None = None) -> Kind:
        category = self._by_id.get(type_id)
        if not isinstance(category, Kind):
            raise BadRequest(f"unknown kind {type_id}: this server serves "
                             f"{', '.join(k.type_id for k in self.kinds if k.location)}",
                             code="unknown-kind", where=where)
        return category

    def mixin(self, type_id: str, *, where: str | None = None) -> Mixin:
        category = self._by_id.get(type_id)
        if not isinstance(category, Mixin):
            raise BadRequest(f"unknown mixin {type_id}", code="unknown-mixin", where=where)
        return category

    def related(self, category: Category) -> tuple[Category, ...]:
        """The category and those related to it (GFD.223 §7.1 filtering of /-/)."""
        related: list[Category] = [category]
        if isinstance(category, Kind):
            related.extend(category.lineage[1:])
            related.extend(category.all_actions)
            related.extend(k for k in self.kinds if k is not category and category in k.lineage)
        elif isinstance(category, Mixin):
            related.extend(category.lineage[1:])
            related.extend(category.applies)
            related.extend(category.actions)
            related.extend(m for m in self.mixins if category in m.lineage[1:])
        seen: dict[str, Category] = {}
        for item in related:
            seen.setdefault(item.type_id, item)
        return tuple(seen.values())

    def find_action(self, term: str, offered: Iterable[Action]) -> Action:
        """The Action named ``term`` among ``offered``; 400 if none, 409 if ambiguous."""
        matches = [a for a in offered if a.term == term]
        if not matches:
            raise BadRequest(f"no action '{term}' is defined for this entity", code="unknown-action",
                             where="?action")
        if len(matches) > 1:
            raise Conflict(f"action '{term}' is ambiguous: {', '.join(a.type_id for a in matches)}; "
                           "name it with a Category", code="ambiguous-action", where="?action")
        return matches[0]
