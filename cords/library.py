"""Definitions and manifests known beyond one document: what ``accords validate a.xml b.xml``
and the parser component resolve names against (CORDS.md §7.2: reuse by name)."""
from __future__ import annotations

from cords.plan import Definition, Plan

__all__ = ["MemoryLibrary"]


class MemoryLibrary:
    def __init__(self):
        self._definitions: dict[tuple[str, str], Definition] = {}
        self._manifests: dict[str, Plan] = {}

    def definition(self, tag: str, name: str) -> Definition | None:
        return self._definitions.get((tag, name))

    def manifest(self, name: str) -> Plan | None:
        return self._manifests.get(name)

    def add_definition(self, definition: Definition) -> None:
        if definition.name is None or not definition.resolved:
            return
        self._definitions.setdefault((definition.tag, definition.name), definition)
        for part in (*definition.parts.values(), *definition.packages):
            self.add_definition(part)

    def add_plan(self, plan: Plan) -> None:
        self._manifests.setdefault(plan.name, plan)
        for node in plan.nodes:
            for definition in (node.infrastructure, node.image):
                if definition is not None:
                    self.add_definition(definition)

    def add(self, checked) -> None:
        """What a checked document (cords.check.Checked) defines."""
        if checked.plan is not None:
            self.add_plan(checked.plan)
        for definition in checked.definitions:
            self.add_definition(definition)
