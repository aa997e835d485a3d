"""Entity instances: what the store keeps and the renderings show."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from occi.model.category import Action, Kind, Mixin
from occi.model.core import LINK

__all__ = ["Entity"]


@dataclass
class Entity:
    """A Resource or Link instance bound to the categories of a Model.

    ``attributes`` holds every attribute but the structural ones (id, source, target),
    which are fields so that the store can index them.
    """

    location: str
    kind: Kind
    id: str
    mixins: list[Mixin] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    target: str | None = None
    source_kind: str | None = None
    target_kind: str | None = None
    owner: str | None = None
    version: int = 0

    @property
    def is_link(self) -> bool:
        return self.kind.is_a(LINK)

    def has_category(self, type_id: str) -> bool:
        return (any(k.type_id == type_id for k in self.kind.lineage)
                or any(m.type_id == type_id for mixin in self.mixins for m in mixin.lineage))

    @property
    def attribute_definitions(self) -> dict:
        """The attributes this entity exposes: its kind's, then its mixins' (mixins override)."""
        merged = dict(self.kind.attribute_map)
        for mixin in self.mixins:
            merged.update(mixin.attribute_map)
        return merged

    def shown_attributes(self):
        """(name, value) of the attributes renderings show: set ones, write-only ones left out."""
        hidden = self.kind.secret_attributes
        for mixin in self.mixins:
            if mixin.secret_attributes:
                hidden = hidden | mixin.secret_attributes
        if hidden:
            return ((k, v) for k, v in self.attributes.items() if v is not None and k not in hidden)
        return ((k, v) for k, v in self.attributes.items() if v is not None)

    @property
    def state(self) -> str | None:
        name = self.kind.state_attribute
        return self.attributes.get(name) if name else None

    def offered_actions(self) -> list[Action]:
        actions: dict[str, Action] = {a.type_id: a for a in self.kind.all_actions}
        for mixin in self.mixins:
            for m in mixin.lineage:
                for action in m.actions:
                    actions.setdefault(action.type_id, action)
        return list(actions.values())

    def applicable_actions(self) -> list[Action]:
        """Actions valid in the current state (GFD.185: list only those)."""
        state = self.state
        return [a for a in self.offered_actions() if a.enabled_in is None or state in a.enabled_in]
