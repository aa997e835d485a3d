"""What the OGF IaaS face adds to GFD.224's compute: the ``node`` mixin, declared once, and how a
contract's state reads as a compute's.

Every compute the provisioning component serves is a real node: creating one creates a
``contract`` (:mod:`broker.provisioning.model`) that the reconciler drives on a provider. The
``node`` mixin, which the server associates with every compute it creates, is the explicit
link between the two and shows where the node runs; its attributes are written by the server
only, except ``accords.node.tags`` (labels a client may set once, at creation: the ``occi``
provider driver keeps its contract tags there, so that a federated accords can find its nodes
again after a crash).
"""
from __future__ import annotations

from occi.model import infrastructure as infra
from occi.model.attribute import Attribute
from occi.model.category import Mixin

__all__ = ["IAAS_SCHEME", "NODE", "N", "IAAS_CATEGORIES", "compute_state", "PAUSES"]

IAAS_SCHEME = "http://accords.example/occi/iaas#"
N = "accords.node."
#: How a client asked its compute to rest: ``stop`` (inactive) or ``suspend`` (suspended).
PAUSES = ("stop", "suspend")


def _managed(name: str, description: str, **options) -> Attribute:
    return Attribute(N + name, description=description, mutable=False, server_managed=True, **options)


NODE = Mixin(
    IAAS_SCHEME, "node", title="The node that runs a compute (associated and written by the server)",
    applies=(infra.COMPUTE,), location="/mixin/node/",
    attributes=(
        _managed("contract", "URL of the contract that drives the node; its events: "
                             "GET /event/?occi.event.contract=<that URL's path>."),
        _managed("provider", "Provider the node is placed on (or asked for, until it is placed)."),
        _managed("reference", "The node's id at its provider."),
        _managed("state", "Where the node stands (the contract's state: pending, creating, configuring, running, "
                          "stopping, stopped, starting, deleting, deleted, failed)."),
        _managed("addresses", "The node's addresses.", type="array"),
        _managed("pause", "How the compute was asked to rest: stop (inactive) or suspend (suspended).",
                 type="enum", enum=PAUSES),
        Attribute(N + "tags", type="object", mutable=False,
                  description="Labels of the client's own (string values), set once at creation; kept, never "
                              "interpreted."),
    ),
)

IAAS_CATEGORIES = (NODE,)

_CREATING = {"pending": "waiting to be placed", "creating": "being created", "configuring": "being configured",
             "starting": "starting"}


def compute_state(contract_state: str | None, *, pause: str | None, provider: str | None,
                  message: str | None) -> tuple[str, str]:
    """``(occi.compute.state, occi.compute.state.message)`` of a compute whose contract is in
    ``contract_state`` (GFD.224: active, inactive, suspended, error)."""
    where = f" on {provider}" if provider else ""
    if contract_state == "running":
        return "active", f"running{where}"
    if contract_state in _CREATING:
        return "inactive", f"{_CREATING[contract_state]}{where}" + (f": {message}" if message else "")
    if contract_state == "stopping":
        # The node still runs until the provider has stopped it.
        return "active", f"{'suspending' if pause == 'suspend' else 'stopping'}{where}"
    if contract_state == "stopped":
        if pause == "suspend":
            return "suspended", f"suspended (its node is stopped{where})"
        return "inactive", f"stopped{where}"
    if contract_state == "deleting":
        return "inactive", f"its node is being deleted{where}"
    if contract_state == "deleted":
        return "error", f"its node was deleted{where}; delete the compute"
    if contract_state == "failed":
        return "error", message or f"its node failed{where}"
    return "inactive", message or "waiting to be placed"
