"""The provisioning component's categories: ``contract``, ``instruction`` and ``event``, declared once.

A contract is one node of one service. Its user sets what it should be (``desired``:
running, stopped or deleted, through the start/stop/restart/delete actions); the
reconciler (:mod:`broker.provisioning.reconciler`) moves ``state`` towards it, one
persisted transition at a time, *before* each side effect:

    pending ─► creating ─► configuring ─► running ─► stopping ─► stopped ─► starting ─► configuring
       │           │             │            │                                    │
       └───────────┴─────────────┴────────────┴──────► deleting ─► deleted         └─► ...
    any step that cannot succeed ─► failed (message says why; ``delete`` still cleans up)

Every transition is also an ``event`` (who, what, when, outcome), so clients can follow a
deployment (``GET /event/?occi.event.service=URL``). Each Cordscript statement of the
node becomes an ``instruction`` of the contract that records what running it gave.
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_action, cords_kind
from cords.model.plan import INSTRUCTION

__all__ = ["CONTRACT", "CONTRACT_ACTIONS", "CONTRACT_START", "CONTRACT_STOP", "CONTRACT_RESTART",
           "CONTRACT_DELETE", "EVENT", "INSTRUCTION", "CONTRACT_STATES", "DESIRED", "BUSY", "CATEGORIES"]

CONTRACT_STATES = ("pending", "creating", "configuring", "running", "stopping", "stopped", "starting",
                   "deleting", "deleted", "failed")
DESIRED = ("running", "stopped", "deleted")
#: States the reconciler works on (the others rest until the desired state changes).
BUSY = frozenset({"pending", "creating", "configuring", "stopping", "starting", "deleting"})

# Applicable in every state (the hook refuses what makes no sense, e.g. starting a node being
# deleted): asking for what is already asked for changes nothing, so a retried request is harmless.
CONTRACT_START = cords_action("contract", "start", "Start the node (configuration runs again)")
CONTRACT_STOP = cords_action("contract", "stop", "Stop the node, keeping its resources")
CONTRACT_RESTART = cords_action("contract", "restart", "Stop then start the node")
CONTRACT_DELETE = cords_action("contract", "delete", "Delete the node and everything it holds at its provider")
CONTRACT_ACTIONS = (CONTRACT_START, CONTRACT_STOP, CONTRACT_RESTART, CONTRACT_DELETE)

a = Attributes("contract")
CONTRACT = cords_kind("contract", "One node of a service: where it runs, what it is, where it stands", (
    a.name("Name of the node the contract is for."),
    a.ref("service", "service", "the service the contract belongs to; reports go there."),
    a.ref("plan", "plan", "the plan of the service."),
    a("node", "The compiled node (cords.plan.Plan.as_dict()['nodes'][i]): infrastructure, image, provider.",
      type="object", required=True, mutable=False),
    a("configuration", "The node's Cordscript statements as compiled, in order, each with its phase "
                       "(configuration, release).", type="array", default=[], mutable=False),
    a("depends", "Names of the nodes whose properties the node's configuration reads: it is configured "
                 "after they run.", type="array", default=[], mutable=False),
    a("provider", "Provider asked for (the service's, else the node's; any: placement chooses).",
      default="any", mutable=False),
    a("placed", "Provider the node was placed on.", mutable=False, server_managed=True),
    a("placement", "Why the node went there.", mutable=False, server_managed=True),
    a("rollback", "Whether a failure of this deployment deletes the service's other nodes.", type="boolean",
      default=True, mutable=False),
    a.enum("desired", DESIRED, "What the node should be; the actions set it.", default="running",
           mutable=False, server_managed=True),
    a.enum("state", CONTRACT_STATES, "Where the node stands.", default="pending", mutable=False,
           server_managed=True),
    a("message", "Why the node is in its state, or what it waits for.", mutable=False, server_managed=True),
    a("reference", "The node's id at its provider.", mutable=False, server_managed=True),
    a("hostname", "Address the node answers on.", mutable=False, server_managed=True),
    a("agent", "URL of the node's agent.", mutable=False, server_managed=True),
    a.integer("attempts", "Attempts at the current step (transient provider errors are retried with backoff).",
              minimum=0, default=0, mutable=False, server_managed=True),
    a("retry", "Not before this time (seconds since the epoch) is the current step tried again.", type="number",
      mutable=False, server_managed=True),
    a("lease", "Which reconciler works on the contract, and until when (holder@epoch).", mutable=False,
      server_managed=True),
    a.integer("sequence", "Counts the contract's transitions (a report carries it: the service keeps the "
                          "newest).", minimum=0, default=0, mutable=False, server_managed=True),
    a.integer("reported", "The sequence last reported to the service.", minimum=0, default=0, mutable=False,
              server_managed=True),
    a("due", "Whether the reconciler has something to do for the contract.", type="boolean", default=True,
      mutable=False, server_managed=True),
    a.integer("run", "Counts the node's boots (creation and every start): the scripts of each boot are the "
                     "agent's afresh.", minimum=0, default=0, mutable=False, server_managed=True),
    a.count("instructions", "instructions"),
    a("created", "When the contract was created (seconds since the epoch).", type="number", mutable=False,
      server_managed=True),
    a("started", "When the node last reached running.", type="number", mutable=False, server_managed=True),
), actions=CONTRACT_ACTIONS, state_attribute="occi.contract.state")

a = Attributes("event")
EVENT = cords_kind("event", "One step of a contract: who did what, when, and how it went", (
    a.ref("service", "service"),
    a.ref("contract", "contract"),
    a("node", "Name of the node."),
    a("what", "The step: placed, create, configure, instruction, stop, start, delete, retry, adopt, orphan ..."),
    a.enum("outcome", ("ok", "failed", "retrying"), "How the step went.", default="ok"),
    a("message", "What happened, in a sentence."),
    a("who", "Who asked (a user, or the reconciler)."),
    a("at", "When (seconds since the epoch).", type="number"),
    a("from", "State before the step."),
    a("to", "State after the step."),
))
del a

CATEGORIES = (CONTRACT, *CONTRACT_ACTIONS, INSTRUCTION, EVENT)
