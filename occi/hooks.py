"""Component hooks: behaviour a component adds per kind and per action, without touching the framework.

A hook runs inside the request's store transaction, before the write: raising an
:class:`occi.errors.OcciError` refuses the operation and nothing is written.

    hooks = Hooks()

    @hooks.on_create(COMPUTE)
    def place(entity, ctx): ...

    @hooks.on_action(COMPUTE_ACTIONS[0])      # compute start
    def start(entity, action, parameters, ctx): ...
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from occi.model.category import Action, Category, Kind

__all__ = ["Hooks", "CreateHook", "UpdateHook", "DeleteHook", "ActionHook"]

CreateHook = Callable[..., None]        # (entity, ctx)
UpdateHook = Callable[..., None]        # (old_entity, new_entity, ctx)
DeleteHook = Callable[..., None]        # (entity, ctx)
ActionHook = Callable[..., Any]         # (entity, action, parameters, ctx) -> None


def _type_id(category: Category | str) -> str:
    return category if isinstance(category, str) else category.type_id


class Hooks:
    """Handlers per kind (inherited by sub-kinds) and per action."""

    def __init__(self):
        self._create: dict[str, list[CreateHook]] = defaultdict(list)
        self._update: dict[str, list[UpdateHook]] = defaultdict(list)
        self._delete: dict[str, list[DeleteHook]] = defaultdict(list)
        self._action: dict[str, ActionHook] = {}

    def _register(self, table: dict, category: Category | str):
        def decorator(fn):
            table[_type_id(category)].append(fn)
            return fn
        return decorator

    def on_create(self, kind: Kind | str):
        return self._register(self._create, kind)

    def on_update(self, kind: Kind | str):
        return self._register(self._update, kind)

    def on_delete(self, kind: Kind | str):
        return self._register(self._delete, kind)

    def on_action(self, action: Action | str):
        """The handler replaces the default state transition of the action."""
        def decorator(fn):
            type_id = _type_id(action)
            if type_id in self._action:
                raise ValueError(f"action {type_id} already has a handler")
            self._action[type_id] = fn
            return fn
        return decorator

    # -- dispatch -----------------------------------------------------------------------
    @staticmethod
    def _for_kind(table: dict, kind: Kind) -> list:
        found = []
        for ancestor in reversed(kind.lineage):
            found.extend(table.get(ancestor.type_id, ()))
        return found

    def run_create(self, entity, ctx) -> None:
        for fn in self._for_kind(self._create, entity.kind):
            fn(entity, ctx)

    def run_update(self, old, new, ctx) -> None:
        for fn in self._for_kind(self._update, new.kind):
            fn(old, new, ctx)

    def run_delete(self, entity, ctx) -> None:
        for fn in self._for_kind(self._delete, entity.kind):
            fn(entity, ctx)

    def action_handler(self, action: Action) -> ActionHook | None:
        return self._action.get(action.type_id)
