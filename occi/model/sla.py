"""OCCI Service Level Agreements (GFD.228)."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind, Mixin
from occi.model.core import LINK, RESOURCE

__all__ = ["SLA", "AGREEMENT", "AGREEMENT_LINK", "AGREEMENT_TPL", "AGREEMENT_TERM",
           "AGREEMENT_ACTIONS", "CATEGORIES", "term_mixin", "term_attributes"]

SLA = "http://schemas.ogf.org/occi/sla#"
#: Published models also use the infrastructure convention for the action scheme;
#: GFD.228's text says sla#. We render sla# and accept both (docs/occi.md).
_ALIAS_SCHEME = "http://schemas.ogf.org/occi/sla/agreement/action#"
_STATES = ("Pending", "Accepted", "Rejected", "Suspended", "Terminated")


def _action(term: str, title: str, enabled_in: tuple[str, ...], target: str) -> Action:
    return Action(SLA, term, title=title, enabled_in=enabled_in, target_state=target,
                  aliases=(_ALIAS_SCHEME + term,))


AGREEMENT_ACTIONS = (
    _action("accept", "Accept the agreement", ("Pending",), "Accepted"),
    _action("reject", "Reject the agreement", ("Pending",), "Rejected"),
    _action("suspend", "Suspend the agreement", ("Accepted",), "Suspended"),
    _action("resume", "Resume the agreement", ("Suspended",), "Accepted"),
    _action("terminate", "Terminate the agreement", ("Pending", "Accepted", "Suspended", "Rejected"),
            "Terminated"),
)

AGREEMENT = Kind(
    SLA, "agreement", title="A Service Level Agreement", parent=RESOURCE, location="/agreement/",
    state_attribute="occi.agreement.state", actions=AGREEMENT_ACTIONS,
    attributes=(
        Attribute("occi.agreement.state", type="enum", enum=_STATES, mutable=False, required=True,
                  default="Pending", server_managed=True, description="State of the agreement."),
        Attribute("occi.agreement.agreedAt", type="datetime", mutable=False, server_managed=True,
                  description="When the agreement was accepted (absolute ISO 8601)."),
        Attribute("occi.agreement.effectiveFrom", type="datetime",
                  description="Start of the agreement's validity (absolute ISO 8601)."),
        Attribute("occi.agreement.effectiveUntil", type="datetime",
                  description="End of the agreement's validity (absolute ISO 8601)."),
    ),
)

AGREEMENT_LINK = Kind(SLA, "agreement_link", title="Link between a SLA and its associated resources",
                      parent=LINK, location="/link/agreement_link/")

AGREEMENT_TPL = Mixin(SLA, "agreement_tpl", title="Mixin defining a SLA template collection", exclusive=True,
                      applies=(AGREEMENT,), location="/mixin/agreement_tpl/")

def term_attributes(prefix: str) -> tuple[Attribute, ...]:
    """GFD.228's attributes of a term mixin: ``<prefix>.term.type``, ``.state``, ``.desc``, ``.remedy``."""
    return (
        Attribute(f"{prefix}.term.type", type="enum", enum=("SERVICE-TERM", "SLO-TERM", "n/a"),
                  mutable=False, required=True, default="SLO-TERM", description="Kind of the term."),
        Attribute(f"{prefix}.term.state", type="enum", enum=("Undefined", "Fulfilled", "Violated"),
                  mutable=False, required=True, default="Undefined", server_managed=True,
                  description="Whether the term is met, as monitoring last found."),
        Attribute(f"{prefix}.term.desc", mutable=False, description="What the term says."),
        Attribute(f"{prefix}.term.remedy", mutable=False, description="What happens when the term is violated."),
    )


#: A user mixin depending on agreement_term (POST /-/ with rel=...#agreement_term) is a term
#: and declares the term attributes under its own term (occi.service.models).
AGREEMENT_TERM = Mixin(SLA, "agreement_term", title="Mixin defining a Term collection for an agreement",
                       applies=(AGREEMENT,), location="/mixin/agreement_term/", member_attributes=term_attributes)

CATEGORIES = (AGREEMENT, *AGREEMENT_ACTIONS, AGREEMENT_LINK, AGREEMENT_TPL, AGREEMENT_TERM)


def term_mixin(term: str, *, scheme: str, prefix: str, title: str = "", attributes=()) -> Mixin:
    """A provider term (e.g. Availability) depending on agreement_term, with GFD.228's term attributes."""
    return Mixin(scheme, term, title=title, depends=(AGREEMENT_TERM,), applies=(AGREEMENT,),
                 location=f"/mixin/agreement_term/{term}/", attributes=(*term_attributes(prefix), *attributes))
