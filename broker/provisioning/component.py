"""The ``provisioning`` component: contracts and their instructions and events, driven to their
desired state by the reconciler (:mod:`broker.provisioning.reconciler`) on the configured
providers (:mod:`broker.provisioning.clouds`); and the OGF infrastructure model (GFD.224),
still with stored entities and state-only actions, plus a few templates.

The broker creates contracts (one per node of a service, as the service's owner) and asks
for start, stop, restart and delete; the actions only set what the contract should be and
wake the reconciler, which reports every change back to the service.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

from broker.gateway import Gateway
from broker.provisioning.model import (CATEGORIES as CONTRACT_CATEGORIES, CONTRACT, CONTRACT_DELETE,
                                       CONTRACT_RESTART, CONTRACT_START, CONTRACT_STOP, EVENT, INSTRUCTION)
from broker.provisioning.records import C, event_record, instruction_records, is_due
from broker.roles import ADMIN, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from occi.access import AccessPolicy, Rule
from occi.errors import Conflict, OcciError
from occi.hooks import Hooks
from occi.model import Model
from occi.model import infrastructure as infra
from occi.store.base import Query

__all__ = ["build", "TEMPLATE_SCHEME", "TEMPLATES", "POLICY", "Engine"]

log = logging.getLogger("accords.provisioning")

TEMPLATE_SCHEME = "http://accords.example/occi/templates#"

TEMPLATES = (
    infra.os_template("debian12", scheme=TEMPLATE_SCHEME, title="Debian 12 (bookworm)"),
    infra.os_template("ubuntu2404", scheme=TEMPLATE_SCHEME, title="Ubuntu 24.04 LTS"),
    infra.resource_template("small", scheme=TEMPLATE_SCHEME, title="1 core, 2 GiB", cores=1, memory=2.0),
    infra.resource_template("medium", scheme=TEMPLATE_SCHEME, title="2 cores, 4 GiB", cores=2, memory=4.0),
    infra.resource_template("large", scheme=TEMPLATE_SCHEME, title="4 cores, 16 GiB", cores=4, memory=16.0),
)

#: Providers and the CCMP order workloads for their own account; components (service) act for
#: every account; operators watch every account's infrastructure but change none of it.
#: Auditors and node agents have no business here. Events and instructions are written by the
#: reconciler only: clients read them.
_READERS = roles(PROVIDER, CCMP, OPERATOR, SERVICE)
POLICY = AccessPolicy(
    default=Rule(read=_READERS, write=roles(PROVIDER, CCMP, SERVICE)),
    kinds={EVENT.type_id: Rule(read=_READERS, write=roles()), INSTRUCTION.type_id: Rule(read=_READERS,
                                                                                          write=roles())},
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
)


class Engine:
    """What a worker runs besides its responders: the reconciler, once attached."""

    def __init__(self):
        self.reconciler = None
        self.services = Gateway("http://scheme.compatibleone.fr/scheme/compatible#service", what="broker")

    def wake(self) -> None:
        if self.reconciler is not None:
            self.reconciler.wake()

    def report(self, record) -> bool:
        """Tell the contract's service what the contract became; False when it could not be told."""
        a = record.attributes
        service = a.get(C + "service")
        if not service or "/service/" not in service:
            return True                          # nobody to tell
        base = service[: service.index("/service/")]
        try:
            self.services.as_service(base).action(
                service, "report", scheme="http://scheme.compatibleone.fr/scheme/compatible/service/action#",
                node=a.get(C + "name"), contract=record.location, state=a.get(C + "state"),
                message=a.get(C + "message") or "", provider=a.get(C + "placed") or "",
                hostname=a.get(C + "hostname") or "", agent=a.get(C + "agent") or "",
                reference=a.get(C + "reference") or "", sequence=a.get(C + "sequence") or 0)
        except OcciError as exc:
            if exc.status == 404:
                return True                      # the service is gone: nothing to keep telling
            log.warning("reporting %s to %s: %s %s", record.location, service, exc.status, exc.message)
            return False
        except OSError as exc:
            log.warning("reporting %s to %s: %s", record.location, service, exc.__class__.__name__)
            return False
        return True

    def attach(self, store, peers, *, data=None, **options):
        from broker.provisioning.clouds import Clouds
        from broker.provisioning.placement import SimplePlacement
        from broker.provisioning.reconciler import Reconciler
        from broker.provisioning.tokens import AgentTokens

        self.services.attach(peers)
        clouds = Clouds.from_settings(data)
        self.reconciler = Reconciler(store, clouds=clouds, placement=SimplePlacement(clouds),
                                     tokens=AgentTokens.from_settings(data), reporter=self.report,
                                     holder=f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}",
                                     **options).start()

        def stop():
            self.reconciler.stop()
            clouds.close()
        return stop


def hooks(engine: Engine) -> Hooks:
    table = Hooks()

    @table.on_create(CONTRACT)
    def create(entity, ctx):
        a = entity.attributes
        now = time.time()
        a.update({C + "state": "pending", C + "desired": "running", C + "sequence": 1, C + "reported": 0,
                  C + "created": now})
        records = instruction_records(entity, owner=entity.owner)
        a[C + "instructions"] = len(records)
        a[C + "due"] = is_due(a)
        for record in records:
            ctx.session.insert(record)
        ctx.session.insert(_event(entity, ctx, what="created", message=f"contract of node {a.get(C + 'name')}"))
        _after_commit(engine)

    def desire(desired: str, *, restart: bool = False):
        def handler(entity, action, parameters, ctx):
            a = entity.attributes
            before = a.get(C + "state")
            if a.get(C + "desired") == "deleted" and desired != "deleted":
                raise Conflict(f"node {a.get(C + 'name')} is {before}: it cannot {action.term} any more",
                               code="contract-deleted", where=entity.location)
            if a.get(C + "desired") == desired and not restart:
                return                                   # already asked: nothing changes
            a[C + "desired"] = desired
            if restart and before == "running":
                a[C + "state"] = "stopping"
            a[C + "retry"] = None
            a[C + "attempts"] = 0
            a[C + "sequence"] = (a.get(C + "sequence") or 0) + 1
            a[C + "due"] = is_due(a)
            ctx.session.insert(_event(entity, ctx, what=action.term, message=f"{ctx.principal.name} asked to "
                                                                            f"{action.term} the node"))
            _after_commit(engine)
        return handler

    table.on_action(CONTRACT_START)(desire("running"))
    table.on_action(CONTRACT_STOP)(desire("stopped"))
    table.on_action(CONTRACT_RESTART)(desire("running", restart=True))
    table.on_action(CONTRACT_DELETE)(desire("deleted"))

    @table.on_delete(CONTRACT)
    def forget(entity, ctx):
        if entity.attributes.get(C + "state") != "deleted":
            raise Conflict(f"{entity.location} is {entity.attributes.get(C + 'state')}: its node may exist; "
                           "delete it first with POST ?action=delete", code="contract-not-deleted",
                           where=entity.location)
        for location in ctx.session.list_locations(Query(kinds=[INSTRUCTION.type_id],
                                                         attributes={"occi.instruction.target": entity.location})):
            ctx.session.delete(location)

    return table


def _event(entity, ctx, *, what: str, message: str):
    return event_record(entity.location, entity.attributes, owner=entity.owner, at=time.time(), what=what,
                        message=message, who=ctx.principal.name, after=entity.attributes.get(C + "state"))


def _after_commit(engine: Engine) -> None:
    # The hook runs inside the transaction: the reconciler is woken now and looks a moment
    # later; if it looks before the commit it finds nothing new and the next tick does.
    engine.wake()


def build():
    from broker.components import Component

    engine = Engine()
    return Component(name="provisioning", model=Model([*infra.CATEGORIES, *TEMPLATES, *CONTRACT_CATEGORIES]),
                     hooks=hooks(engine), policy=POLICY, attach=engine.attach,
                     summary="Contracts driven to running nodes on the configured providers; OGF infrastructure "
                             "(compute, storage, network, links, templates)")
