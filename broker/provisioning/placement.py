"""Where a node goes, until the placement component answers the question (issue order: placement
comes later). The interface is the one it will answer: a node and what was asked in, a
provider and the reason out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Choice", "Placement", "SimplePlacement", "Unplaceable"]


class Unplaceable(Exception):
    """No configured provider can take the node (a permanent failure of the contract)."""


@dataclass(frozen=True)
class Choice:
    provider: str
    reason: str


class Placement(Protocol):
    def choose(self, *, node: dict, asked: str, contract: str) -> Choice: ...


class SimplePlacement:
    """The provider the node (or its service) names, else the first configured one."""

    def __init__(self, clouds):
        self.clouds = clouds

    def choose(self, *, node: dict, asked: str, contract: str) -> Choice:
        names = self.clouds.names()
        if asked and asked != "any":
            if asked in names:
                return Choice(asked, f"node {node['name']} asks for provider {asked}")
            raise Unplaceable(f"node {node['name']} asks for provider {asked!r}, which is not configured here "
                              f"(configured: {', '.join(names)})")
        return Choice(names[0], f"node {node['name']} names no provider; {names[0]} is the first configured")
