"""The dict form of a checked CORDS agreement: what :func:`sla.cords_model.to_gfd228` reads and
what :mod:`sla.store` stores.

    checked = cords.check.check(data, name="sla.xml")        # no errors, kind "agreement"
    form = agreement_form(checked.document.root)
    form["terms"][0]["terms"][0]["manifest"]                  # {"name": "accords:platform"}
    form.source                                               # the lxml <agreement> element

One :class:`Element` (a dict) per XML element: its attributes as keys (the values as the
checker left them: ``sla5:services`` already read as ``services``, ``agreementResponder`` as
``responder``), and its children under the keys :func:`~sla.cords_model.to_gfd228` documents:
``terms`` (of the agreement and of each terms section), ``manifest`` / ``provider`` (one
element), ``variables`` and ``guarantees`` (of a term), ``variable`` (one, of a guarantee, or
absent) and ``business`` (of a guarantee). A child key replaces an attribute of the same name
(``variables="2"`` counts what the children are). Every Element keeps its lxml element in
``source``, so that a problem found later is reported at its line and column.

A pre-schema ``terms type="all"`` section (CORDS.md §2, slamtest.xml) holds every kind of
term; it is read as cords.agreement reads it, each term by what it contains, and becomes one
section per kind it holds (same name), in the order the kinds first appear.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Element", "agreement_form", "held_kind"]


class Element(dict):
    """An element's attributes and children; ``source`` is the lxml element it was read from."""

    __slots__ = ("source",)

    def __init__(self, source: Any = None, **values: Any):
        super().__init__(**values)
        self.source = source


def _children(element, tag: str) -> list:
    return [c for c in element if isinstance(c.tag, str) and c.tag == tag]


def _attributes(element) -> Element:
    # Namespaced attributes keep lxml's {uri}name form (cords.reader): none of CORDS'.
    return Element(element, **{k: v for k, v in element.attrib.items() if not k.startswith("{")})


def held_kind(term) -> str:
    """What a term of a pre-schema 'all' section is, by what it holds (as cords.agreement reads it)."""
    if _children(term, "manifest") or _children(term, "provider"):
        return "services"
    return "guarantees" if _children(term, "guarantee") else "conditions"


def agreement_form(root) -> Element:
    """The dict form of a checked ``<agreement>`` (``Checked.document.root``)."""
    agreement = _attributes(root)
    agreement["terms"] = []
    for section in _children(root, "terms"):
        kind = (section.get("type") or "").rpartition(":")[2].lower()
        terms = _children(section, "term")
        if kind != "all":
            agreement["terms"].append(_section(section, kind, terms))
            continue
        by_kind: dict[str, list] = {}
        for term in terms:
            by_kind.setdefault(held_kind(term), []).append(term)
        agreement["terms"] += [_section(section, held, of_kind) for held, of_kind in by_kind.items()]
    return agreement


def _section(element, kind: str, terms: list) -> Element:
    section = _attributes(element)
    section["type"] = kind
    section["terms"] = [_term(term) for term in terms]
    return section


def _term(element) -> Element:
    term = _attributes(element)
    for tag in ("manifest", "provider"):
        found = _children(element, tag)
        if found:                       # its attributes only: an embedded manifest's nodes are not the SLA's
            term[tag] = _attributes(found[0])
    term["variables"] = [_variable(v) for v in _children(element, "variable")]
    term["guarantees"] = [_guarantee(g) for g in _children(element, "guarantee")]
    return term


def _variable(element) -> Element:
    variable = _attributes(element)
    metric = _children(element, "metric")
    if metric and not variable.get("metric") and metric[0].get("name"):
        variable["metric"] = metric[0].get("name")
    return variable


def _guarantee(element) -> Element:
    guarantee = _attributes(element)
    variables = _children(element, "variable")
    if variables:
        guarantee["variable"] = _variable(variables[0])
    else:
        guarantee.pop("variable", None)         # a variable="..." reference alone names no objective
    guarantee["business"] = [_attributes(b) for b in _children(element, "business")]
    return guarantee
