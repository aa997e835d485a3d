"""Agreement semantics: a read and validated CORDS agreement document as plain data.

* ``services`` terms name the manifests (customer SLA) or providers (provider SLA) covered;
* ``conditions`` terms hold placement criteria: ``occi.placement.*`` variables (the manual's
  ``cords.placement.*`` accepted and normalised) with their operators;
* ``guarantees`` terms hold guarantees: a metric (the variable's property), an operator,
  an objective (with its unit normalised where it has one), who is obligated, the scope
  (which nodes), and business values (reward, penalty or both).

Operators accept the long aliases (``notgreater`` is ``le``). A guarantee's scope resolves
to node names against a plan (:meth:`Guarantee.nodes`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cords import units
from cords.diagnostics import Diagnostics, Location, register
from cords.manifest import scoped

__all__ = ["Agreement", "Condition", "Guarantee", "BusinessValue", "Scope", "compile_agreement", "OPERATORS",
           "PLACEMENT_PROPERTIES", "normalise_objective"]

NOT_AN_AGREEMENT = register("cords-not-an-agreement", "the document's root element is not <agreement>")
BAD_PLACEMENT = register("cords-bad-placement-property",
                         "a conditions term names a placement property that placement does not know")
BAD_SCOPE = register("cords-bad-scope", "a guarantee scope names a node that the plan does not have")

#: Every spelling the original platform accepted -> the canonical operator.
OPERATORS = {
    "eq": "eq", "equal": "eq", "ne": "ne", "notequal": "ne", "gr": "gt", "gt": "gt", "greater": "gt",
    "ls": "lt", "lt": "lt", "less": "lt", "ge": "ge", "notless": "ge", "le": "le", "notgreater": "le",
}
PLACEMENT_PROPERTIES = ("algorithm", "provider", "operator", "zone", "opinion", "energy", "security", "price")
_SCOPE_SPLIT = re.compile(r"[\s,;]+")
_EVERY_NODE = {"default", "any", "all", ""}


@dataclass(frozen=True)
class Condition:
    """A placement criterion: ``occi.placement.<property> <operator> <value>``."""

    property: str
    operator: str
    value: str
    location: Location | None = None
    #: Restricts the condition to one node (``variable location=``), else every node.
    node: str | None = None

    def as_dict(self) -> dict:
        out = {"property": self.property, "operator": self.operator, "value": self.value}
        if self.node:
            out["node"] = self.node
        return out


@dataclass(frozen=True)
class Scope:
    """Which nodes a guarantee covers: every node, or those included minus those excluded."""

    every: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> "Scope":
        words = [w for w in _SCOPE_SPLIT.split((text or "").strip()) if w]
        if not words or (len(words) == 1 and words[0].lower() in _EVERY_NODE):
            return cls()
        include = tuple(w.lstrip("=") for w in words if not w.startswith("!"))
        exclude = tuple(w[1:] for w in words if w.startswith("!"))
        return cls(every=not include, include=include, exclude=exclude)

    def nodes(self, all_nodes: list[str]) -> list[str]:
        chosen = all_nodes if self.every else [n for n in all_nodes if n in self.include]
        return [n for n in chosen if n not in self.exclude]

    def as_text(self) -> str:
        if self.every and not self.exclude:
            return "all"
        return " ".join([*(f"={n}" for n in self.include), *(f"!{n}" for n in self.exclude)])


@dataclass(frozen=True)
class BusinessValue:
    name: str | None
    nature: str                     # reward | penalty | both
    expression: str | None


def normalise_objective(text: str | None) -> float | None:
    """An objective as a number in base units: 99.5 or 99.5% is 99.5; 100ms is 0.1 (seconds);
    512M is 536870912 (bytes); None when it is not a measurable value (left to the metric)."""
    if text is None:
        return None
    value = text.strip().removesuffix("%").strip()
    try:
        return float(value)
    except ValueError:
        pass
    # "5m" is five minutes and "512M" half a gigabyte: upper case units are sizes.
    sizes_first = value[-1:].isupper() or value.upper().endswith("B")
    for parse in ((units.parse_size, units.parse_duration) if sizes_first else
                  (units.parse_duration, units.parse_size)):
        try:
            return float(parse(value))
        except units.UnitError:
            continue
    return None


@dataclass
class Guarantee:
    name: str | None
    metric: str | None
    operator: str | None
    objective: str | None
    obligated: str = "provider"
    importance: str = "normal"
    scope: Scope = field(default_factory=Scope)
    business: list[BusinessValue] = field(default_factory=list)
    location: Location | None = None

    @property
    def target(self) -> float | None:
        """The objective in base units (seconds, bytes, plain numbers), for the monitors."""
        return normalise_objective(self.objective)

    def as_dict(self) -> dict:
        return {"name": self.name, "metric": self.metric, "operator": self.operator, "objective": self.objective,
                "target": self.target,
                "obligated": self.obligated, "importance": self.importance, "scope": self.scope.as_text(),
                "business": [{"name": b.name, "nature": b.nature, "expression": b.expression} for b in self.business]}


@dataclass
class Agreement:
    name: str
    file: str
    attributes: dict[str, str] = field(default_factory=dict)
    manifests: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    guarantees: list[Guarantee] = field(default_factory=list)

    def placement(self) -> dict[str, Any]:
        """The placement criteria (what the placement component consumes)."""
        return {f"occi.placement.{c.property}": c.value for c in self.conditions if c.operator == "eq"}

    def as_dict(self) -> dict:
        return {"agreement": self.name, "file": self.file, **self.attributes, "manifests": self.manifests,
                "providers": self.providers, "conditions": [c.as_dict() for c in self.conditions],
                "guarantees": [g.as_dict() for g in self.guarantees]}


def _children(element, tag: str) -> list:
    return [c for c in element if isinstance(c.tag, str) and c.tag == tag]


def _operator(document, variable, diagnostics: Diagnostics) -> str | None:
    """The canonical operator; None for an unknown one (cords.validate reports it)."""
    return OPERATORS.get((variable.get("condition") or "eq").strip().lower())


def _terms_type(element) -> str:
    raw = (element.get("type") or "").strip()
    return raw.rsplit(":", 1)[-1].lower()        # sla5:services is services (CORDS.md §13)


def compile_agreement(document, *, diagnostics: Diagnostics, nodes: list[str] | None = None) -> Agreement | None:
    """The agreement of a document (``cords.reader.Document``); ``nodes`` (a plan's node names)
    checks guarantee scopes."""
    root = document.root
    if root.tag != "agreement":
        diagnostics.error(NOT_AN_AGREEMENT, f"the root element is <{root.tag}>, not <agreement>",
                          document.location(root))
        return None
    name = root.get("name") or ""
    agreement = Agreement(name=name, file=document.name,
                          attributes={k: v for k, v in root.attrib.items() if k not in ("name", "id")})
    for terms in _children(root, "terms"):
        kind = _terms_type(terms)
        if kind not in ("services", "conditions", "guarantees", "all"):
            continue          # cords.validate reports it (cords-bad-enum)
        for term in _children(terms, "term"):
            holds = kind
            if kind == "all":          # a pre-schema section: each term is what it holds
                holds = "services" if _children(term, "manifest") or _children(term, "provider") else \
                    "guarantees" if _children(term, "guarantee") else "conditions"
            if holds == "services":
                agreement.manifests += [scoped(m.get("name"), name) for m in _children(term, "manifest") if m.get("name")]
                agreement.providers += [p.get("name") for p in _children(term, "provider") if p.get("name")]
            elif holds == "conditions":
                agreement.conditions += _conditions(document, term, diagnostics)
            else:
                agreement.guarantees += [_guarantee(document, g, name, diagnostics, nodes)
                                         for g in _children(term, "guarantee")]
    return agreement


def _conditions(document, term, diagnostics: Diagnostics) -> list[Condition]:
    found = []
    for variable in _children(term, "variable"):
        prop = (variable.get("property") or "").strip()
        short = prop.removeprefix("occi.placement.").removeprefix("cords.placement.")
        if short == prop or short not in PLACEMENT_PROPERTIES:
            diagnostics.error(BAD_PLACEMENT, f"{prop!r} is not a placement property: use occi.placement. followed by "
                                             f"one of {', '.join(PLACEMENT_PROPERTIES)}",
                              document.attribute_location(variable, "property"))
            continue
        operator = _operator(document, variable, diagnostics)
        if operator is None:
            continue
        found.append(Condition(property=short, operator=operator, value=variable.get("value") or "",
                               location=document.location(variable), node=variable.get("location") or None))
    return found


def _guarantee(document, element, root_name: str, diagnostics: Diagnostics, nodes: list[str] | None) -> Guarantee:
    where = document.location(element)
    guarantee = Guarantee(name=scoped(element.get("name"), root_name), metric=None, operator=None, objective=None,
                          obligated=element.get("obligated") or "provider",
                          importance=element.get("importance") or "normal",
                          scope=Scope.parse(element.get("scope")), location=where)
    variables = _children(element, "variable")      # none or no business: cords.validate warns
    if variables:
        variable = variables[0]
        guarantee.metric = variable.get("property")
        guarantee.operator = _operator(document, variable, diagnostics)
        guarantee.objective = variable.get("value")
    for business in _children(element, "business"):
        nature = (business.get("nature") or "penalty").lower()
        guarantee.business.append(BusinessValue(name=scoped(business.get("name"), root_name), nature=nature,
                                                expression=business.get("expression")))
    if nodes is not None:
        for name in (*guarantee.scope.include, *guarantee.scope.exclude):
            if name not in nodes:
                diagnostics.error(BAD_SCOPE, f"guarantee {guarantee.name!r}: scope names node {name!r}, which the plan "
                                             f"does not have ({', '.join(nodes)})", document.attribute_location(element, "scope"))
    return guarantee
