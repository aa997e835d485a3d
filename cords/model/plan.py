"""What a manifest compiles to: the plan, and the instructions brokering derives from its actions.

The broker instantiates a plan (``instance``) as a service with one contract per node;
each Cordscript statement of the configuration becomes an instruction of a contract
(CORDS.md §4). The ``services`` of a plan and the instructions of a contract are links.
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_action, cords_kind
from occi.model.attribute import Attribute

__all__ = ["PLAN", "PLAN_INSTANCE", "INSTRUCTION", "CATEGORIES"]

PLAN_INSTANCE = cords_action("plan", "instance", "Instantiate the plan as a new service (its URL in Location)",
                             attributes=(
                                 Attribute("name", description="Name of the service (default: the plan's)."),
                                 Attribute("provider", description="Provider every node goes to."),
                                 Attribute("sla", description="URL of the agreement the service runs under."),
                                 Attribute("rollback", type="boolean", description="On a failed deployment, delete "
                                           "what succeeded (default true) or keep it."),
                             ))
a = Attributes("plan")
PLAN = cords_kind("plan", "The provisioning plan compiled from a manifest", (
    a.name("Name of the plan: the name of its manifest.", required=True),
    a.ref("manifest", "manifest", "the manifest the plan was compiled from."),
    a("compiled", "The compiled plan (cords.plan.Plan.as_dict): nodes with their infrastructure, image and "
                  "firewall, the start order, the dependency edges and the instructions of each phase; complex "
                  "nodes name the plan of their manifest. Set once, by the parser.",
      type="object", required=True, mutable=False),
    a("access", "Access mode of the plan (the original platform's plan attribute)."),
    a.integer("created", "When the plan was compiled (seconds since the epoch); written by the server.",
              minimum=0, mutable=False, server_managed=True),
    a.count("services", "services"),
    a("tarification", "Price of a service of the plan, as computed when it is instantiated."),
    a("validation", "Outcome of the plan's validation when it is instantiated."),
    a.state("status"),
), actions=(PLAN_INSTANCE,))

a = Attributes("instruction")
INSTRUCTION = cords_kind("instruction", "One Cordscript statement of a configuration, bound to its contract", (
    a("nature", "Phase the statement belongs to: configuration, release or interface."),
    a("type", "Type of the instruction: method (method names what to do).", default="method"),
    a("method", "What the statement does: configure, monitor, system, fork, kill, ..."),
    a("arguments", "The statement's arguments as compiled (a linkage is [\"ref\", node, property]).",
      type="array", default=[]),
    a.integer("index", "Position of the statement in its phase, for the node (0: first).", minimum=0, default=0),
    a.ref("target", "contract", "the contract the statement acts on."),
    a.ref("source", "contract", "the contract a linkage reads from (configure(Other.hostname))."),
    a("symbol", "Node path the source was resolved from (e.g. Other)."),
    a("property", "Property or metric of the source named by the statement (e.g. hostname)."),
    a("value", "Value of the property, once the source contract is provisioned."),
    a.ref("provision", "provider instance", "the provider-specific contract that manages the target."),
    a.integer("line", "Line of the statement in its manifest.", minimum=0),
    a.enum("state", ("pending", "done", "failed", "skipped"), "pending until the node's agent ran it; done, "
           "failed (the result says why) or skipped (nothing for an agent to do yet, e.g. monitor).",
           default="pending", mutable=False, server_managed=True),
    a("result", "What running it gave (exit status, pid, metadata set ...).", mutable=False, server_managed=True),
))
del a

CATEGORIES = (PLAN, PLAN_INSTANCE, INSTRUCTION)
