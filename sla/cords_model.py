"""CORDS agreements (CORDS.md §9, §12) beside the OCCI SLA model (GFD.228), in one sla component.

Both standards call their main kind ``agreement``. They live side by side because a
category is identified by scheme and term, and served at a location:

* GFD.228's is ``http://schemas.ogf.org/occi/sla#agreement`` at ``/agreement/``
  (:mod:`occi.model.sla`): the agreement a customer accepts, suspends, terminates;
* the CORDS one is ``http://scheme.compatibleone.fr/scheme/compatible#agreement`` at
  ``/cords/agreement/``: the document as written (parties, services, placement conditions,
  guarantees with business values), instantiated by its ``instance`` action.

Their type ids differ by scheme and the CORDS one moves off ``/agreement/``, so the model
registry accepts both; the other CORDS kinds (terms, term, variable, guarantee, business,
control, penalty) clash with nothing and keep ``/<term>/``. Attributes are declared per
kind, so ``occi.agreement.state`` is an integer on the CORDS kind (the original platform's
state) and GFD.228's Pending/Accepted/... on the other without either seeing the other's.

:func:`to_gfd228` maps a CORDS agreement to its GFD.228 form: a GFD.228 agreement whose
terms are ``agreement_term`` mixins (one SERVICE-TERM per service, one SLO-TERM per
guarantee, each Undefined until monitoring says Fulfilled or Violated), plus the placement
conditions as a list for placement.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from cords.model.base import Attributes, cords_action, cords_kind
from occi.model import sla as gfd228
from occi.model.attribute import AttributeValueError
from occi.model.category import Mixin

__all__ = ["AGREEMENT", "AGREEMENT_INSTANCE", "TERMS", "TERM", "VARIABLE", "GUARANTEE", "BUSINESS", "CONTROL",
           "CONTROL_ACTIONS", "PENALTY", "CATEGORIES", "TERMS_TYPES", "CONDITIONS", "OPERATORS", "PLACEMENT_PROPERTIES",
           "TERM_SCHEME", "CordsAgreementError", "to_gfd228", "term_mixin"]

TERMS_TYPES = ("services", "conditions", "guarantees")
#: Every spelling of a comparison -> the operator it means. §9.1 lists the short and the long
#: forms; gt and lt are the canonical ones the agreement reader (cords.agreement) emits.
OPERATORS = {"eq": "eq", "equal": "eq", "ne": "ne", "notequal": "ne", "gr": "gt", "gt": "gt", "greater": "gt",
             "ls": "lt", "lt": "lt", "less": "lt", "ge": "ge", "notless": "ge", "le": "le", "notgreater": "le"}
CONDITIONS = tuple(OPERATORS)
_PARTIES = ("provider", "initiator", "responder")
#: The placement inputs a condition may set (CORDS.md §6, §9.1).
PLACEMENT_PROPERTIES = ("algorithm", "provider", "operator", "zone", "opinion", "energy", "security", "price")
#: Scheme of the agreement_term mixins :func:`to_gfd228` derives from CORDS terms.
TERM_SCHEME = "http://scheme.compatibleone.fr/scheme/compatible/agreement/term#"

AGREEMENT_INSTANCE = cords_action("agreement", "instance", "Broker the agreement's services under its conditions")
a = Attributes("agreement")
AGREEMENT = cords_kind("agreement", "A CORDS service level agreement: services, conditions and guarantees", (
    a.name(required=True),
    a("description", "What the agreement is about."),
    a("initiator", "Name of the account initiating the agreement (the customer)."),
    a("responder", "Name of the account responding to it (e.g. accords, the platform's)."),
    a.enum("serviceprovider", ("initiator", "responder"), "Which party provides the service."),
    a("initiation", "When the agreement takes effect: now, or an ISO 8601 date-time."),
    a("expiration", "When it ends: never, or an ISO 8601 date-time."),
    a("templateid", "Template the agreement follows, or none (the template attribute of the XML element)."),
    a("templatename", "Name of that template."),
    a.count("termss", "terms"),
    a("cordscript", "Parse-time Cordscript of the original platform, kept for its documents; never evaluated."),
    a.state(),
), actions=(AGREEMENT_INSTANCE,), location="/cords/agreement/")

a = Attributes("terms")
TERMS = cords_kind("terms", "A group of terms of an agreement: its services, conditions or guarantees", (
    a.name(),
    a("description", "What the terms are."),
    a.enum("type", TERMS_TYPES, "What the terms are about (a prefixed sla5:services is read as services)."),
    a.count("terms", "term"),
    a.state(),
))

a = Attributes("term")
TERM = cords_kind("term", "One term: a service (manifest or provider), conditions (variables) or guarantees", (
    a.name(),
    a("description", "What the term is."),
    a("type", "Type of the term."),
    a("identity", "Identity of the provider a provider SLA's term is about."),
    a.ref("manifest", "manifest", "the service of a customer SLA."),
    a.ref("federation", "federation"),
    a.ref("provider", "provider", "the service of a provider SLA."),
    a.count("variables", "variables"),
    a.count("guarantees", "guarantees"),
    a.state(),
))

a = Attributes("variable")
VARIABLE = cords_kind("variable", "A comparison: a placement condition, or a guarantee's objective on a metric", (
    a.name(),
    a("property", "occi.placement.<input> for a condition (cords.placement.* is read the same), or a metric "
                  "name (cpu:idle, user:count, ...) for a guarantee."),
    a.enum("condition", CONDITIONS, "Comparison of the property with value."),
    a("value", "The value compared with (the objective, for a guarantee)."),
    a("description", "What the variable expresses."),
    a.ref("metric", "metric"),
    a("location", "Name of the node a condition is restricted to."),
    a.state(),
))

a = Attributes("guarantee")
GUARANTEE = cords_kind("guarantee", "A guarantee: an objective on a metric and its rewards and penalties (links)", (
    a.name(),
    a("description", "What is guaranteed."),
    a.enum("obligated", _PARTIES, "Who must meet the objective."),
    a("importance", "Importance of the guarantee (e.g. normal)."),
    a("scope", "Nodes it applies to: default, any, all, or =name and !name lists (CORDS.md §9.2)."),
    a.ref("variable", "variable", "the objective."),
    a.count("values", "business values"),
    a.state(),
))

a = Attributes("business")
BUSINESS = cords_kind("business", "A business value: what happens when a guarantee is met or missed", (
    a.name(),
    a("description", "What the business value is."),
    a.enum("nature", ("reward", "penalty", "both"), "When it applies (the XML's BOTH is read as both)."),
    a("type", "Language of the expression.", default="cordscript"),
    a("expression", "What to do, e.g. cordscript:alert.new();"),
    a.state(),
))

CONTROL_ACTIONS = (cords_action("control", "start", "Start watching the guarantee"),
                   cords_action("control", "stop", "Stop watching the guarantee"),
                   cords_action("control", "verify", "Check the guarantee's objective now"))
a = Attributes("control")
CONTROL = cords_kind("control", "A guarantee being watched on one contract", (
    a.name(),
    a("mode", "How the control is checked."),
    a.ref("contract", "contract"),
    a.ref("agreement", "CORDS agreement"),
    a("property", "Metric checked."),
    a.enum("condition", CONDITIONS, "Comparison of the measured value with objective."),
    a("objective", "The value compared with."),
    a.ref("reference", "guarantee", "the guarantee the control watches."),
    a("importance", "Importance of the guarantee."),
    a.enum("obligated", _PARTIES, "Who must meet the objective."),
    a("scope", "Nodes the guarantee applies to."),
    a.ref("session", "monitoring session"),
    a("account", "Name of the account of the agreement."),
    a.ref("monitor", "monitor"),
    a.ref("connection", "monitoring connection"),
    a.ref("metric", "metric"),
    a.ref("probe", "probe"),
    a.ref("timer", "timer", "when the control is checked."),
    a.integer("process", "Identifier of the process checking the control; written by the server.", minimum=0,
              mutable=False, server_managed=True),
    a.state(),
), actions=CONTROL_ACTIONS)

a = Attributes("penalty")
PENALTY = cords_kind("penalty", "A penalty applied for a missed guarantee", (
    a.name(),
    a("account", "Name of the account that bears the penalty."),
    a.ref("agreement", "CORDS agreement"),
    a.ref("contract", "contract"),
    a.ref("control", "control", "the control that found the guarantee missed."),
    a("data", "The measurement that missed the objective."),
    a.integer("sequence", "Sequence number of the penalty within its control.", minimum=0),
    a.integer("timestamp", "When the penalty was applied (seconds since the epoch).", minimum=0),
    a.state(),
))
del a

CATEGORIES = (AGREEMENT, AGREEMENT_INSTANCE, TERMS, TERM, VARIABLE, GUARANTEE, BUSINESS, CONTROL, *CONTROL_ACTIONS,
              PENALTY)


# -- CORDS to GFD.228 -----------------------------------------------------------------------
#: The CORDS problem codes (cords.diagnostics) a mapping error is reported under.
BAD_VALUE, NO_SERVICE, SAME_TERM = "cords-bad-enum", "cords-missing-child", "cords-name-redefined"


class CordsAgreementError(ValueError):
    """The agreement cannot be mapped; the message names the element, ``element`` is the input
    mapping at fault and ``attribute`` its key (to locate it in the document), ``code`` a CORDS code."""

    def __init__(self, message: str, *, element: Mapping[str, Any] | None = None, attribute: str | None = None,
                 code: str = BAD_VALUE):
        super().__init__(message)
        self.element, self.attribute, self.code = element, attribute, code


_NOT_TERM = re.compile(r"[^A-Za-z0-9_.\-]")


def to_gfd228(cords_agreement: Mapping[str, Any], *, scheme: str = TERM_SCHEME) -> dict:
    """The GFD.228 form of a CORDS agreement; pure, raises :class:`CordsAgreementError`.

    The input is the agreement as its XML reads, one dict per element with the element's
    attributes as keys and the children as lists (CORDS.md §9.4)::

        {"name": "accords-platform", "initiator": "jamie", "responder": "accords",
         "serviceprovider": "responder", "initiation": "now", "expiration": "never",
         "terms": [{"name": ":services", "type": "services",
                    "terms": [{"name": ":service1", "manifest": {"name": "accords:platform"}}]},
                   {"name": ":conditions", "type": "conditions",
                    "terms": [{"name": ":condition1", "variables": [{"name": ":v2",
                               "property": "occi.placement.zone", "condition": "eq", "value": "europe"}]}]},
                   {"name": ":guarantees", "type": "guarantees",
                    "terms": [{"name": ":guarantee3", "guarantees": [{"name": ":g3", "obligated": "provider",
                               "variable": {"property": "user:count", "condition": "notgreater", "value": "1"},
                               "business": [{"nature": "penalty", "expression": "cordscript:alert.new();"}]}]}]}]}

    Children may also be keyed by their singular tag (``term``, ``variable``, ``guarantee``).
    Names starting with ``:`` are scoped by the agreement's name (CORDS.md §7.2). As in the
    reader, a guarantee obliges the provider with normal importance unless it says otherwise,
    a business value without a nature is a penalty, and a guarantee without a variable (the
    checker warns: nothing will be monitored) is a term without an objective. Returns:

    * ``entity``: the GFD.228 agreement to create (``kind``, ``mixins``, ``attributes``):
      title and summary from name and description, effectiveFrom/Until from initiation and
      expiration (``now`` and ``never`` leave them open: GFD.228 records agreedAt on
      acceptance), and each term's type, desc and remedy. States are the server's: the
      agreement starts Pending and every term Undefined;
    * ``terms``: one entry per term mixin (``term``, ``scheme``, ``type_id``, ``type``,
      ``state``, ``desc``, ``remedy``, the CORDS ``name``, and ``service`` or ``guarantee``
      details); :func:`term_mixin` declares one;
    * ``conditions``: the placement conditions, ``{"name", "property", "operator",
      "value"[, "node"]}`` with ``property`` always ``occi.placement.<input>``, ``operator``
      one of eq, ne, gt, lt, ge, le (as cords.agreement's), ``node`` the node it is
      restricted to (the variable's location);
    * ``parties``: initiator, responder and serviceprovider as written.
    """
    root = _text(cords_agreement, "name", "agreement")
    if not root:
        raise CordsAgreementError("the agreement has no name", element=cords_agreement, attribute="name")
    terms: list[dict] = []
    conditions: list[dict] = []
    origins: list[Mapping[str, Any]] = []          # the input element of each entry of terms
    for group in _children(cords_agreement, ("terms",), f"agreement {root}"):
        kind = _terms_type(group, root)
        for index, term in enumerate(_children(group, ("terms", "term"), f"terms {group.get('name')}"), start=1):
            unnamed = f"{_text(group, 'name', 'terms') or f'{root}:{kind}'}:{index}"     # named after its place
            term_name = _scoped(_text(term, "name", "term") or unnamed, root)
            if kind == "services":
                terms.append(_service_term(term, term_name, scheme))
                origins.append(term)
            elif kind == "conditions":
                variables = _children(term, ("variables", "variable"), f"term {term_name}")
                conditions += [_condition(v, root) for v in variables]
            else:
                guarantees = _children(term, ("guarantees", "guarantee"), f"term {term_name}")
                terms += [_guarantee_term(g, f"{term_name}:{n}", root, scheme)
                          for n, g in enumerate(guarantees, start=1)]
                origins += guarantees
    seen: set[str] = set()
    for term, origin in zip(terms, origins):
        if term["type_id"] in seen:
            raise CordsAgreementError(f"two terms of agreement {root} map to the mixin {term['type_id']}: give "
                                      f"{term['name']} another name", element=origin, attribute="name",
                                      code=SAME_TERM)
        seen.add(term["type_id"])

    attributes: dict[str, Any] = {"occi.core.title": root}
    description = _text(cords_agreement, "description", "agreement")
    if description:
        attributes["occi.core.summary"] = description
    for key, open_word, attribute in (("initiation", "now", "occi.agreement.effectiveFrom"),
                                      ("expiration", "never", "occi.agreement.effectiveUntil")):
        when = _when(cords_agreement, key, open_word, attribute)
        if when is not None:
            attributes[attribute] = when
    for term in terms:
        prefix = term["term"]
        attributes[f"{prefix}.term.type"] = term["type"]
        attributes[f"{prefix}.term.desc"] = term["desc"]
        if term["remedy"]:
            attributes[f"{prefix}.term.remedy"] = term["remedy"]
    serviceprovider = _text(cords_agreement, "serviceprovider", "agreement")
    if serviceprovider not in (None, "initiator", "responder"):
        raise CordsAgreementError(f"agreement {root}: serviceprovider {serviceprovider!r} is neither initiator "
                                  "nor responder", element=cords_agreement, attribute="serviceprovider")
    return {
        "entity": {"kind": gfd228.AGREEMENT.type_id, "mixins": [t["type_id"] for t in terms],
                   "attributes": attributes},
        "terms": terms,
        "conditions": conditions,
        "parties": {"initiator": _text(cords_agreement, "initiator", "agreement"),
                    "responder": _text(cords_agreement, "responder", "agreement"),
                    "serviceprovider": serviceprovider},
    }


def term_mixin(term: Mapping[str, Any]) -> Mixin:
    """The ``agreement_term`` mixin of one entry of ``to_gfd228(...)["terms"]``."""
    return gfd228.term_mixin(term["term"], scheme=term["scheme"], prefix=term["term"], title=term["desc"])


# -- the pieces ---------------------------------------------------------------------------------
def _service_term(term: Mapping[str, Any], name: str, scheme: str) -> dict:
    service = {}
    for key in ("manifest", "provider"):
        # The child element (<manifest name="..."/>) or, once resolved, the attribute (a name or URL).
        child = term.get(key)
        value = _text(child, "name", key) if isinstance(child, Mapping) else _text(term, key, f"term {name}")
        if value:
            service[key] = value
    if not service:
        raise CordsAgreementError(f"service term {name} names neither a manifest nor a provider: give it a "
                                  "<manifest name=...> or <provider name=...>", element=term, code=NO_SERVICE)
    desc = "; ".join(f"{key} {value}" for key, value in service.items())
    return _term(name, scheme, "SERVICE-TERM", desc, "", service=service)


def _guarantee_term(guarantee: Mapping[str, Any], fallback: str, root: str, scheme: str) -> dict:
    name = _scoped(_text(guarantee, "name", "guarantee") or fallback, root)
    variable = guarantee.get("variable")
    if isinstance(variable, list) and len(variable) <= 1:     # the XML's one <variable> child, as a list
        variable = variable[0] if variable else None
    if variable is not None and (not isinstance(variable, Mapping) or not _text(variable, "property", "variable")):
        raise CordsAgreementError(f"guarantee {name}: its variable has no metric property", element=guarantee,
                                  attribute="variable")
    rewards, penalties = [], []
    for value in _children(guarantee, ("business",), f"guarantee {name}"):   # none: a violation costs nothing
        nature = (_text(value, "nature", "business") or "penalty").lower()
        if nature not in ("reward", "penalty", "both"):
            raise CordsAgreementError(f"guarantee {name}: business nature {nature!r} is not reward, penalty or both",
                                      element=value, attribute="nature")
        expression = _text(value, "expression", "business") or ""
        if nature in ("reward", "both"):
            rewards.append(expression)
        if nature in ("penalty", "both"):
            penalties.append(expression)
    obligated = _text(guarantee, "obligated", "guarantee") or "provider"
    if obligated not in _PARTIES:
        raise CordsAgreementError(f"guarantee {name}: obligated {obligated!r} is not one of {', '.join(_PARTIES)}",
                                  element=guarantee, attribute="obligated")
    details = {"metric": None, "operator": None, "objective": "", "obligated": obligated,
               "importance": _text(guarantee, "importance", "guarantee") or "normal",
               "scope": _text(guarantee, "scope", "guarantee") or "default",   # §9.2: default is every node
               "rewards": rewards, "penalties": penalties}
    if variable is None:          # the checker warns (nothing will be monitored): a term without objective
        desc = "no objective: nothing is monitored"
    else:
        details.update(metric=variable["property"], operator=_operator(variable, f"guarantee {name}"),
                       objective=_text(variable, "value", "variable") or "")
        desc = f"{details['metric']} {details['operator']} {details['objective']}"
    # Expressions end with ';' themselves: ' | ' keeps the remedy readable.
    remedy = " | ".join([f"penalty: {e}" for e in penalties if e] + [f"reward: {e}" for e in rewards if e])
    return _term(name, scheme, "SLO-TERM", desc, remedy, guarantee=details)


def _term(name: str, scheme: str, kind: str, desc: str, remedy: str, **details: Any) -> dict:
    # A mixin term allows letters, digits, '_', '.' and '-': the ':' of scoped names becomes '_'.
    term = _NOT_TERM.sub("_", name)
    if not term[:1].isalnum():
        term = "t" + term
    return {"name": name, "term": term, "scheme": scheme, "type_id": scheme + term, "type": kind,
            "state": "Undefined", "desc": desc, "remedy": remedy, **details}


def _condition(variable: Mapping[str, Any], root: str) -> dict:
    name = _scoped(_text(variable, "name", "variable") or "", root)
    prop = _text(variable, "property", "variable") or ""
    family, _, what = prop.rpartition(".")
    # The manual writes cords.placement.*, the platform used occi.placement.*: accept both.
    if family not in ("occi.placement", "cords.placement") or what not in PLACEMENT_PROPERTIES:
        raise CordsAgreementError(f"condition {name or prop}: {prop!r} is not a placement input "
                                  f"(occi.placement.{{{','.join(PLACEMENT_PROPERTIES)}}})",
                                  element=variable, attribute="property")
    out = {"name": name, "property": f"occi.placement.{what}",
           "operator": _operator(variable, f"condition {name}"),
           "value": _text(variable, "value", "variable") or ""}
    node = _text(variable, "location", "variable")
    if node:
        out["node"] = node
    return out


def _operator(variable: Mapping[str, Any], where: str) -> str:
    condition = _text(variable, "condition", "variable")
    found = OPERATORS.get((condition or "eq").strip().lower())   # no condition: equality
    if found is None:
        raise CordsAgreementError(f"{where}: condition {condition!r} is not one of {', '.join(CONDITIONS)}",
                                  element=variable, attribute="condition")
    return found


def _terms_type(group: Mapping[str, Any], root: str) -> str:
    written = _text(group, "type", "terms") or ""
    kind = written.rpartition(":")[2].lower()   # sla5:services is services (CORDS.md §13)
    if kind not in TERMS_TYPES:
        raise CordsAgreementError(f"agreement {root}: terms {group.get('name')!r} has type {written!r}, not one "
                                  f"of {', '.join(TERMS_TYPES)}", element=group, attribute="type")
    return kind


def _when(agreement: Mapping[str, Any], key: str, open_word: str, attribute: str) -> str | None:
    value = _text(agreement, key, "agreement")
    if value is None or value.strip().lower() in ("", open_word):
        return None
    try:
        return gfd228.AGREEMENT.attribute_map[attribute].check(value.strip())
    except AttributeValueError:
        raise CordsAgreementError(f"agreement {key} {value!r} is neither {open_word} nor an ISO 8601 date-time",
                                  element=agreement, attribute=key) from None


def _scoped(name: str, root: str) -> str:
    return root + name if name.startswith(":") else name


def _text(element: Mapping[str, Any], key: str, what: str) -> str | None:
    value = element.get(key)
    if value is not None and not isinstance(value, str):
        raise CordsAgreementError(f"{what} {key} must be a string, not {type(value).__name__}", element=element,
                                  attribute=key)
    return value


def _children(element: Mapping[str, Any], keys: tuple[str, ...], what: str) -> list[Mapping[str, Any]]:
    """The child elements under the first of ``keys`` present (the plural, or the XML tag)."""
    key = next((k for k in keys if element.get(k) is not None), keys[0])
    value = element.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise CordsAgreementError(f"{what}: {key} must be a list of elements", element=element)
    return value
