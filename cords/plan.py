"""The plan of a manifest: what the broker instantiates (nodes, start order, instructions).

A plain data structure with a JSON form (:meth:`Plan.as_dict`), built by
:func:`cords.manifest.compile_manifest`. It holds no XML and no URLs: the parser component
stores it as OCCI entities, the CLI prints it, the broker consumes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cords.diagnostics import Location

__all__ = ["Definition", "FirewallRule", "NodePlan", "Plan"]


@dataclass
class Definition:
    """A named piece of a node (infrastructure, compute, storage, network, image, system,
    package, security) with its attributes and parts; ``resolved`` is False for a name whose
    definition lives elsewhere (the parser component's store)."""

    tag: str
    name: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    parts: dict[str, "Definition"] = field(default_factory=dict)
    packages: list["Definition"] = field(default_factory=list)
    ports: list[dict[str, str]] = field(default_factory=list)
    resolved: bool = True
    location: Location | None = None
    #: URL of the stored entity, once the parser component has stored or found it.
    stored_at: str | None = None

    def content(self) -> Any:
        """What two definitions of one name must share to be the same thing."""
        return (self.attributes, {k: v.content() for k, v in self.parts.items()},
                [p.content() for p in self.packages], self.ports)

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        if self.stored_at is not None:
            out["location"] = self.stored_at
        if not self.resolved:
            out["resolved"] = False
            return out
        out.update(self.attributes)
        for tag, part in self.parts.items():
            out[tag] = part.as_dict()
        if self.packages:
            out["packages"] = [p.as_dict() for p in self.packages]
        if self.ports:
            out["ports"] = [dict(p) for p in self.ports]
        return out


@dataclass(frozen=True)
class FirewallRule:
    name: str
    protocol: str
    first: int
    last: int
    range: str
    direction: str

    def as_dict(self) -> dict:
        return {"name": self.name, "protocol": self.protocol, "from": self.first, "to": self.last,
                "range": self.range, "direction": self.direction}


@dataclass
class NodePlan:
    name: str
    complex: bool = False
    #: For a complex node: the manifest it is an instance of.
    manifest: str | None = None
    access: str = "private"
    scope: str = "normal"
    provider: str = "any"
    operator: str = "any"
    profile: str | None = None
    infrastructure: Definition | None = None
    image: Definition | None = None
    firewall: list[FirewallRule] = field(default_factory=list)
    #: The interface actions of a complex node's manifest, when known.
    interface_actions: set[str] = field(default_factory=set)
    location: Location | None = None
    #: Once stored by the parser component: the node's URL, and a complex node's nested plan.
    stored_at: str | None = None
    plan: str | None = None

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "type": "complex" if self.complex else "simple",
                               "access": self.access, "scope": self.scope, "provider": self.provider,
                               "operator": self.operator}
        if self.stored_at is not None:
            out["location"] = self.stored_at
        if self.complex:
            out["manifest"] = self.manifest
            if self.plan is not None:
                out["plan"] = self.plan
        if self.profile:
            out["profile"] = self.profile
        if self.infrastructure is not None:
            out["infrastructure"] = self.infrastructure.as_dict()
        if self.image is not None:
            out["image"] = self.image.as_dict()
        if self.firewall:
            out["firewall"] = [rule.as_dict() for rule in self.firewall]
        if self.location is not None:
            out["line"] = self.location.line
        return out


@dataclass
class Plan:
    name: str
    file: str
    description: str | None = None
    nodes: list[NodePlan] = field(default_factory=list)
    account: str | None = None
    security: str | None = None
    zone: str | None = None
    #: phase (configuration, release, interface) -> cordscript.Instruction list, in document order.
    instructions: dict[str, list] = field(default_factory=dict)
    #: Start order of the nodes (configure() dependencies first).
    order: list[str] = field(default_factory=list)
    #: (node, node it waits for)
    edges: list[tuple[str, str]] = field(default_factory=list)
    interface_actions: list[str] = field(default_factory=list)

    def node(self, name: str) -> NodePlan | None:
        return next((n for n in self.nodes if n.name == name), None)

    def as_dict(self) -> dict:
        return {
            "manifest": self.name, "file": self.file, "description": self.description,
            "account": self.account, "security": self.security, "zone": self.zone,
            "nodes": [n.as_dict() for n in self.nodes], "order": list(self.order),
            "edges": [list(e) for e in self.edges],
            "instructions": {phase: [_instruction(i) for i in items] for phase, items in self.instructions.items()},
            "interface_actions": list(self.interface_actions),
        }


def _instruction(instruction) -> dict:
    out = {"node": instruction.node, "method": instruction.method,
           "arguments": [list(a) if isinstance(a, tuple) else a for a in instruction.arguments],
           "line": instruction.location.line, "column": instruction.location.column}
    if tuple(instruction.path) != (instruction.node,):
        out["path"] = list(instruction.path)
    if instruction.depends_on:
        out["depends_on"] = sorted(instruction.depends_on)
    return out
