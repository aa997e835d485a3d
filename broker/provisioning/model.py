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
from occi.model.attribute import Attribute

__all__ = ["CONTRACT", "CONTRACT_ACTIONS", "CONTRACT_START", "CONTRACT_STOP", "CONTRACT_RESTART",
           "CONTRACT_DELETE", "CONTRACT_ATTACH", "CONTRACT_DETACH", "CONTRACT_SNAPSHOT", "CONTRACT_SAVE", "EVENT", "INSTRUCTION", "CONTRACT_STATES", "DESIRED", "BUSY", "CATEGORIES"]

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
#: A shared (common) node's users: each service that uses it attaches, and detaches when it no
#: longer does; the last one out stops or deletes the node (``release``).
CONTRACT_ATTACH = cords_action("contract", "attach", "A service starts using this shared node (it runs while "
                               "anyone uses it)", attributes=(
                                   Attribute("service", required=True, description="URL of the service."),
                                   Attribute("group", description="URL of the service's root service (the "
                                                                  "deployment a failure rolls back)."),
                               ))
CONTRACT_DETACH = cords_action("contract", "detach", "A service stops using this shared node; the last user "
                               "out stops or deletes it", attributes=(
                                   Attribute("service", required=True, description="URL of the service."),
                                   Attribute("release", type="enum", enum=("stop", "delete"), default="delete",
                                             description="What the last user out does to the node."),
                               ))
_IMAGE_NAME = (Attribute("name", description="Name of the image (default: node-contract-time)."),)
CONTRACT_SNAPSHOT = cords_action("contract", "snapshot", "Take an image of the node at its provider (listed in "
                                 "images)", attributes=_IMAGE_NAME)
CONTRACT_SAVE = cords_action("contract", "save", "Take an image of the node, and create the node from it whenever "
                             "it is created again", attributes=_IMAGE_NAME)
CONTRACT_ACTIONS = (CONTRACT_START, CONTRACT_STOP, CONTRACT_RESTART, CONTRACT_DELETE, CONTRACT_ATTACH,
                    CONTRACT_DETACH, CONTRACT_SNAPSHOT, CONTRACT_SAVE)

a = Attributes("contract")
CONTRACT = cords_kind("contract", "One node of a service: where it runs, what it is, where it stands", (
    a.name("Name of the node the contract is for."),
    a.ref("service", "service", "the service the contract belongs to; reports go there."),
    a.ref("plan", "plan", "the plan of the service."),
    a("node", "The compiled node (cords.plan.Plan.as_dict()['nodes'][i]): infrastructure, image, provider.",
      type="object", required=True, mutable=False),
    a("configuration", "The node's Cordscript statements as compiled, in order, each with its phase "
                       "(configuration, release).", type="array", default=[], mutable=False),
    a("depends", "Paths of the nodes whose properties the node's configuration reads (``db``, or "
                 "``inner.db`` through a complex node): it is configured after they run.", type="array", default=[],
      mutable=False),
    a("reads", "The contract of each path in ``depends``, by path (URL).", type="object", default={},
      mutable=False),
    a("path", "The node's path from the root service (``web``; ``inner.db`` for node db of complex node "
              "inner).", mutable=False),
    a("group", "URL of the root service of the deployment: a failure with rollback deletes the group's "
               "other nodes. None for a shared node.", mutable=False),
    a.enum("scope", ("normal", "common"), "normal: the node of one service; common: one node shared by the "
                                          "services that attach to it.", default="normal", mutable=False),
    a("users", "A shared node's users: [{service, group}], in the order they attached.", type="array",
      default=[], mutable=False, server_managed=True),
    a("provider", "Provider asked for (the service's, else the node's; any: placement chooses).",
      default="any", mutable=False),
    a("placed", "Provider the node was placed on.", mutable=False, server_managed=True),
    a("placement", "Why the node went there.", mutable=False, server_managed=True),
    a("rollback", "Whether a failure of this deployment deletes the service's other nodes.", type="boolean",
      default=True, mutable=False),
    a("rolledback", "Path of the failed node whose failure rolled the deployment back (set on each node of "
                    "the group; a node made later is deleted instead of placed).", mutable=False,
      server_managed=True),
    a.enum("desired", DESIRED, "What the node should be; the actions set it.", default="running",
           mutable=False, server_managed=True),
    a.enum("state", CONTRACT_STATES, "Where the node stands.", default="pending", mutable=False,
           server_managed=True),
    a("message", "Why the node is in its state, or what it waits for.", mutable=False, server_managed=True),
    a("reference", "The node's id at its provider.", mutable=False, server_managed=True),
    a("hostname", "Address the node answers on.", mutable=False, server_managed=True),
    a("agent", "URL of the node's agent.", mutable=False, server_managed=True),
    a("imaging", "An image asked for and not taken yet: {name, save, asked}.", type="object", mutable=False,
      server_managed=True),
    a("images", "Images taken of the node: [{name, image, provider, at, save}], oldest first.", type="array",
      default=[], mutable=False, server_managed=True),
    a("image", "Image the node is created from when created again (set by save).", mutable=False,
      server_managed=True),
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
    a("step", "Whether the contract's state machine has a step to take (due: a step or a report).",
      type="boolean", default=True, mutable=False, server_managed=True),
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
