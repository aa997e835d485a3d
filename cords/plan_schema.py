"""The JSON form of a compiled plan (:meth:`cords.plan.Plan.as_dict`), as a JSON Schema.

The broker keeps a plan's compiled form in ``occi.plan.compiled`` and later instantiates
it; whoever created the plan (the parser on a submitter's behalf, or a client posting a
plan of its own), the broker accepts only what this schema describes, so that
instantiation never meets a malformed plan.
"""
from __future__ import annotations

from functools import lru_cache

__all__ = ["PLAN_SCHEMA", "plan_errors"]

_TEXT = {"type": "string", "maxLength": 4096}
_NAME = {"type": "string", "minLength": 1, "maxLength": 512}
_OPTIONAL_TEXT = {"type": ["string", "null"], "maxLength": 4096}

_DEFINITION = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": ["string", "null"], "maxLength": 512},
        "resolved": {"type": "boolean"},
        "location": _TEXT,
        "packages": {"type": "array", "items": {"$ref": "#/$defs/definition"}},
        "ports": {"type": "array", "items": {"type": "object", "additionalProperties": _TEXT}},
    },
    # Attributes are strings; parts (compute, storage, network, system ...) are definitions.
    "additionalProperties": {"anyOf": [_TEXT, {"$ref": "#/$defs/definition"}]},
}

_FIREWALL_RULE = {
    "type": "object",
    "required": ["name", "protocol", "from", "to", "range", "direction"],
    "properties": {
        "name": _NAME, "protocol": _TEXT, "range": _TEXT, "direction": _TEXT,
        "from": {"type": "integer", "minimum": 0, "maximum": 65535},
        "to": {"type": "integer", "minimum": 0, "maximum": 65535},
    },
    "additionalProperties": False,
}

_NODE = {
    "type": "object",
    "required": ["name", "type", "access", "scope", "provider", "operator"],
    "properties": {
        "name": _NAME,
        "type": {"enum": ["simple", "complex"]},
        "access": _TEXT, "scope": _TEXT, "provider": _TEXT, "operator": _TEXT, "profile": _TEXT,
        "manifest": _NAME,
        "plan": _TEXT,
        "location": _TEXT,
        "infrastructure": {"$ref": "#/$defs/definition"},
        "image": {"$ref": "#/$defs/definition"},
        "firewall": {"type": "array", "items": _FIREWALL_RULE},
        "line": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}

_ARGUMENT = {"anyOf": [{"type": ["string", "number"]},
                       {"type": "array", "items": {"anyOf": [{"type": ["string", "number"]},
                                                            {"type": "array", "items": _TEXT}]}}]}

_INSTRUCTION = {
    "type": "object",
    "required": ["node", "method", "arguments", "line", "column"],
    "properties": {
        "node": _NAME, "method": _NAME,
        "arguments": {"type": "array", "items": _ARGUMENT},
        "path": {"type": "array", "items": _NAME, "minItems": 1},
        "depends_on": {"type": "array", "items": _NAME},
        "line": {"type": "integer", "minimum": 0}, "column": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}

PLAN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "accords compiled plan",
    "type": "object",
    "required": ["manifest", "nodes", "order", "edges", "instructions"],
    "properties": {
        "manifest": _NAME,
        "file": _OPTIONAL_TEXT, "description": _OPTIONAL_TEXT, "account": _OPTIONAL_TEXT,
        "security": _OPTIONAL_TEXT, "zone": _OPTIONAL_TEXT,
        "nodes": {"type": "array", "minItems": 1, "items": _NODE},
        "order": {"type": "array", "items": _NAME},
        "edges": {"type": "array", "items": {"type": "array", "items": _NAME, "minItems": 2, "maxItems": 2}},
        "instructions": {"type": "object",
                         "propertyNames": {"enum": ["configuration", "release", "interface"]},
                         "additionalProperties": {"type": "array", "items": _INSTRUCTION}},
        "interface_actions": {"type": "array", "items": _NAME},
    },
    "additionalProperties": False,
    "$defs": {"definition": _DEFINITION},
}


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(PLAN_SCHEMA)


def plan_errors(document, *, limit: int = 5) -> list[str]:
    """What is wrong with ``document`` as a compiled plan (empty when nothing), as
    ``$.path: message`` lines, the first ``limit`` of them; also checks that the order,
    the edges and the instructions name declared nodes."""
    problems = []
    for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))[:limit]:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        problems.append(f"{path}: {error.message[:300]}")
    if problems:
        return problems
    names = {node["name"] for node in document["nodes"]}
    if len(names) != len(document["nodes"]):
        problems.append("$.nodes: two nodes have the same name")
    if set(document["order"]) != names:
        problems.append("$.order: the start order must list every node exactly once")
    for index, (node, dependency) in enumerate(document["edges"]):
        if node not in names or dependency not in names:
            problems.append(f"$.edges[{index}]: names a node the plan does not declare")
    for phase, instructions in document["instructions"].items():
        for index, instruction in enumerate(instructions):
            if instruction["node"] not in names:
                problems.append(f"$.instructions.{phase}[{index}].node: {instruction['node']!r} is not a node "
                                "of the plan")
    return problems[:limit]
