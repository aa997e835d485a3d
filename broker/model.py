"""The broker's ``service``: a plan instantiated, one contract per node, declared once.

A service lives on the broker; its contracts live on the provisioning component, which
drives them and reports every change back with ``service?action=report`` (the broker keeps
the latest report per node in ``occi.service.nodes`` and derives the service's state from
them, :func:`derive_state`). What a user does to a service (start, stop, restart, delete)
the broker passes on to every contract.

States are names, not the original platform's integers: ``deploying`` → ``running``;
``stopping`` → ``stopped`` → ``starting`` → ``running``; ``deleting`` → ``deleted``;
``failed`` when a node failed (the message names it and says why; with rollback, the other
nodes are deleted and the message says so once they are).
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_action, cords_kind
from occi.model.attribute import Attribute

__all__ = ["SERVICE", "SERVICE_ACTIONS", "SERVICE_START", "SERVICE_STOP", "SERVICE_RESTART", "SERVICE_DELETE",
           "SERVICE_SCALEUP", "SERVICE_SCALEDOWN", "SERVICE_SNAPSHOT", "SERVICE_SAVE", "SERVICE_REPORT", "REPORT_FIELDS", "SERVICE_STATES", "SETTLED", "CATEGORIES", "derive_state"]

SERVICE_STATES = ("deploying", "running", "starting", "stopping", "stopped", "deleting", "deleted", "failed")
#: States a service rests in until someone acts on it.
SETTLED = frozenset({"running", "stopped", "deleted", "failed"})

# Each action also applies in the state it leads to: a request retried after the service
# changed under it (a report landed meanwhile) finds its work done, and changes nothing.
SERVICE_START = cords_action("service", "start", "Start every node of the service",
                             enabled_in=("stopped", "failed", "stopping", "running"))
SERVICE_STOP = cords_action("service", "stop", "Stop every node (their cloud resources are kept)",
                            enabled_in=("running", "deploying", "starting", "failed", "stopped"))
SERVICE_RESTART = cords_action("service", "restart", "Stop then start every node (configuration runs again)",
                               enabled_in=("running", "failed", "stopped"))
SERVICE_DELETE = cords_action("service", "delete", "Delete every node and what it holds at its provider",
                              enabled_in=SERVICE_STATES)
#: What one report says of one contract (also each entry of ``reports``).
REPORT_FIELDS = ("node", "contract", "state", "message", "provider", "hostname", "agent", "reference", "sequence")
SERVICE_REPORT = cords_action("service", "report", "What contracts report (the provisioning component only): one "
                                                   "contract's fields, or several contracts' in reports",
                              attributes=(
                                  Attribute("node", description="Name of the node."),
                                  Attribute("contract", description="URL of its contract."),
                                  Attribute("state", description="State of the contract."),
                                  Attribute("message", description="Why, when the state needs explaining."),
                                  Attribute("provider", description="Where the node was placed."),
                                  Attribute("hostname", description="Address the node answers on."),
                                  Attribute("agent", description="URL of the node's agent."),
                                  Attribute("reference", description="The node's id at its provider."),
                                  Attribute("sequence", type="integer", minimum=0,
                                            description="The contract's version: older reports are ignored."),
                                  Attribute("reports", type="array",
                                            description="Several contracts' reports at once, each an object with "
                                                        "the fields above (node, contract, state and sequence "
                                                        "required): one transaction for all."),
                              ))
_SCALED = (Attribute("node", required=True, description="Name of the node (a simple node of the service's own)."),
           Attribute("count", type="integer", minimum=1, maximum=100, default=1,
                     description="How many copies to add or remove."))
SERVICE_SCALEUP = cords_action("service", "scaleup", "Add copies of a node (named node-2, node-3 ...), configured "
                               "as the node is", enabled_in=("running", "failed"), attributes=_SCALED)
SERVICE_SCALEDOWN = cords_action("service", "scaledown", "Delete the newest copies of a node (never the node itself)",
                                 enabled_in=("running", "failed", "stopped"), attributes=_SCALED)
_IMAGE = (Attribute("name", description="Prefix of the images' names (each is PREFIX-NODE)."),)
SERVICE_SNAPSHOT = cords_action("service", "snapshot", "Take an image of every node of the service's own (listed in "
                                "each contract's images)", enabled_in=("running", "stopped"), attributes=_IMAGE)
SERVICE_SAVE = cords_action("service", "save", "Take an image of every node of the service's own; each node is "
                            "created from it whenever it is created again", enabled_in=("running", "stopped"),
                            attributes=_IMAGE)
SERVICE_ACTIONS = (SERVICE_START, SERVICE_STOP, SERVICE_RESTART, SERVICE_DELETE, SERVICE_SCALEUP, SERVICE_SCALEDOWN,
                   SERVICE_SNAPSHOT, SERVICE_SAVE, SERVICE_REPORT)

a = Attributes("service")
SERVICE = cords_kind("service", "A plan instantiated: one contract per node, placed, provisioned and configured", (
    a.name("Name of the service (the plan's, unless given)."),
    a.ref("plan", "plan", "what the service instantiates (required)."),
    a.ref("manifest", "manifest", "the manifest of the plan."),
    a.ref("sla", "agreement", "the agreement the service runs under, if any."),
    a("account", "Account the service belongs to.", mutable=False, server_managed=True),
    a("provider", "Provider every node goes to, overriding the nodes' own (accords submit --provider).",
      mutable=False),
    a("parent", "URL of the service this one is nested in (it instantiates a complex node of it), if any.",
      mutable=False, server_managed=True),
    a("node", "Name of the complex node of the parent service this service instantiates.", mutable=False,
      server_managed=True),
    a("rollback", "On a failed deployment, delete what succeeded (true) or keep it (false).", type="boolean",
      default=True, mutable=False),
    a.enum("state", SERVICE_STATES, "Where the service is: deploying, running, stopping, stopped, starting, "
           "deleting, deleted, failed.", default="deploying", mutable=False, server_managed=True),
    a("message", "Why the service is in its state (which node failed and why).", mutable=False,
      server_managed=True),
    a("failure", "The first failure of the service's deployment, kept after a rollback.", mutable=False,
      server_managed=True),
    a("nodes", "The latest report of each node's contract, by node name: contract, state, provider, hostname, "
               "agent, reference, message.", type="object", mutable=False, server_managed=True),
    a("contracts", "URLs of the service's contracts, by node name.", type="object", mutable=False,
      server_managed=True),
    a.integer("created", "When the service was created (seconds since the epoch).", mutable=False,
              server_managed=True),
    a.integer("changed", "When the service last changed state (seconds since the epoch).", mutable=False,
              server_managed=True),
), actions=SERVICE_ACTIONS, state_attribute="occi.service.state")
del a

CATEGORIES = (SERVICE, *SERVICE_ACTIONS)


_GOALS = {"deploying": "running", "starting": "running", "stopping": "stopped", "deleting": "deleted"}


def derive_state(current: str, nodes: dict[str, dict], *, failure: str | None) -> tuple[str, str | None]:
    """The service's state and message from its nodes' latest reports.

    A transitional state (``deploying``, ``starting`` ...) holds until every node agrees;
    one failed node fails the service; when every node is gone after a failure, the
    failure stays the service's message (a rolled back deployment is still a failed one).
    """
    # Copies scaled down are gone for good: they no longer count (unless nothing else is left).
    nodes = {name: report for name, report in nodes.items()
             if not (report.get("copy_of") and report.get("state") == "deleted")} or nodes
    states = [report.get("state") for report in nodes.values()]
    failed = sorted(name for name, report in nodes.items() if report.get("state") == "failed")
    # A rollback leaves shared nodes to their other users: what is the service's own is gone.
    own = [report.get("state") for report in nodes.values() if not report.get("shared")] or states
    if failure is not None and own and all(s == "deleted" for s in own):
        return "failed", f"{failure}; rolled back: every node was deleted"
    if failed and current == "deleting":
        # Deleting cleans up failed nodes too: the service says why while it waits for them.
        first = nodes[failed[0]]
        return "deleting", f"node {failed[0]} failed: {first.get('message') or 'no reason given'}; deleting"
    if failed:
        first = nodes[failed[0]]
        return "failed", f"node {failed[0]} failed: {first.get('message') or 'no reason given'}"
    if states and all(s == "deleted" for s in states):
        if failure is not None:
            return "failed", f"{failure}; rolled back: every node was deleted"
        return "deleted", None
    if failure is not None and current == "failed":
        return "failed", f"{failure}; rolling back"
    # A transitional state ends at its own goal only: reports sent before a node heard of the
    # action (still stopped, after a start) must not settle the service where it came from.
    goal = _GOALS.get(current)
    if goal is not None:
        return (goal, None) if states and all(s == goal for s in states) else (current, None)
    if states and all(s == "running" for s in states):
        return "running", None
    if states and all(s == "stopped" for s in states):
        return "stopped", None
    return current, None
