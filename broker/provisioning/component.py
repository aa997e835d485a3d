"""The ``provisioning`` component: contracts and their instructions and events, driven to their
desired state by the reconciler (:mod:`broker.provisioning.reconciler`) on the configured
providers (:mod:`broker.provisioning.clouds`); and the OGF infrastructure face (GFD.224,
:mod:`broker.provisioning.iaas`): every compute is a node with a contract of its own, os_tpl and
resource_tpl templates come from the providers; storage, network and links are stored entities.

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
from broker.provisioning.iaas import IaasFace
from broker.provisioning.iaas_model import IAAS_CATEGORIES
from broker.provisioning.model import CONTRACT_SAVE, CONTRACT_SNAPSHOT
from broker.provisioning.model import (CATEGORIES as CONTRACT_CATEGORIES, CONTRACT, CONTRACT_ATTACH,
                                       CONTRACT_DELETE, CONTRACT_DETACH, CONTRACT_RESTART, CONTRACT_START,
                                       CONTRACT_STOP, EVENT, INSTRUCTION)
from broker.provisioning.provider_model import CATEGORIES as PROVIDER_CATEGORIES, PROVIDER as PROVIDER_KIND
from broker.provisioning.provider_records import provider_hooks
from broker.provisioning.records import C, event_record, instruction_records, mark_due
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

#: Provider-neutral templates, beside the providers' own (broker.provisioning.iaas_templates): the
#: size is a minimum any provider may meet, the image name goes to whichever provider is chosen.
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
                                                                                          write=roles()),
           # Providers are the installation's infrastructure: operators run them (their own
           # account's; admins any), components read them (credentials are write-only anyway);
           # the accounts that deploy on them neither see nor change them.
           PROVIDER_KIND.type_id: Rule(read=roles(OPERATOR, SERVICE), write=roles(OPERATOR))},
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
)


class Engine:
    """What a worker runs besides its responders: the reconciler, once attached."""

    def __init__(self):
        self.reconciler = None
        self.clouds = None               # the worker's providers (broker.provisioning.clouds), once attached
        self.secrets = None              # the key that seals provider credentials, once attached
        self.services = Gateway("http://scheme.compatibleone.fr/scheme/compatible#service", what="broker")
        self.iaas = IaasFace(wake=self.wake)      # computes are nodes: their contracts report to them

    def wake(self) -> None:
        if self.reconciler is not None:
            self.reconciler.wake()

    def send_reports(self, records: list) -> set[str]:
        """Tell each contract's service (every user of a shared one) what the contract became, one
        request per service; the locations of the contracts every service of which was told."""
        by_service: dict[str, list] = {}
        failed: set[str] = set()
        for record in records:
            if self.iaas.owns(record):
                if not self.iaas.report(record):
                    failed.add(record.location)
                continue
            users = [u.get("service") for u in record.attributes.get(C + "users") or []]
            for service in users or [record.attributes.get(C + "service")]:
                if service and "/service/" in service:         # else nobody to tell
                    by_service.setdefault(service, []).append(record)
        for service, batch in by_service.items():
            failed.update(self._tell(service, batch))
        return {record.location for record in records} - failed

    def _tell(self, service: str, records: list) -> set[str]:
        """One report request to ``service`` for ``records``; the locations not delivered."""
        base = service[: service.index("/service/")]
        reports = [{"node": a.get(C + "name"), "contract": r.location, "state": a.get(C + "state"),
                    "message": a.get(C + "message") or "", "provider": a.get(C + "placed") or "",
                    "hostname": a.get(C + "hostname") or "", "agent": a.get(C + "agent") or "",
                    "reference": a.get(C + "reference") or "", "sequence": a.get(C + "sequence") or 0}
                   for r in records for a in (r.attributes,)]
        try:
            self.services.as_service(base).action(
                service, "report", scheme="http://scheme.compatibleone.fr/scheme/compatible/service/action#",
                reports=reports)
        except OcciError as exc:
            if exc.status == 404:
                # The broker stores a service only once all its contracts exist, and these may
                # have moved on already: dropping the report would lose it. Unless they are
                # being deleted: then the service is gone, nobody to keep telling.
                live = {r.location for r in records if r.attributes.get(C + "desired") != "deleted"}
                if live:
                    log.warning("reporting %d contract(s) to %s: %s %s", len(live), service, exc.status,
                                exc.message)
                return live
            if exc.status == 400 and len(records) > 1:
                # One report the service refuses must not hold up the others: one by one.
                return {location for record in records for location in self._tell(service, [record])}
            if exc.status == 400:
                # Refused for what it says (e.g. not a contract of that service): it always will be.
                log.error("%s refused the report of %s, which is dropped: %s", service, records[0].location,
                          exc.message)
                return set()
            log.warning("reporting %d contract(s) to %s: %s %s", len(records), service, exc.status, exc.message)
            return {r.location for r in records}
        except OSError as exc:
            log.warning("reporting %d contract(s) to %s: %s", len(records), service, exc.__class__.__name__)
            return {r.location for r in records}
        return set()

    def attach(self, store, peers, *, data=None, **options):
        from broker.provisioning.clouds import Clouds
        from broker.provisioning.placement import SimplePlacement
        from broker.provisioning.provider_records import mirror_file_providers
        from broker.provisioning.secrets import SecretBox
        from broker.provisioning.reconciler import Reconciler
        from broker.provisioning.records import ContractStore
        from broker.provisioning.reporting import Reporter
        from broker.provisioning.tokens import AgentTokens

        self.services.attach(peers)
        self.secrets = SecretBox.from_settings(data)
        clouds = self.clouds = Clouds.from_settings(data, store=store, secrets=self.secrets)
        mirror_file_providers(store, clouds)
        reporter = Reporter(ContractStore(store), self.send_reports).start()
        self.reconciler = Reconciler(store, clouds=clouds, placement=SimplePlacement(clouds),
                                     tokens=AgentTokens.from_settings(data), reporter=reporter,
                                     holder=f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}",
                                     **options).start()
        self.iaas.attach(store, clouds=clouds)

        def stop():
            self.iaas.stop()
            self.reconciler.stop()
            reporter.stop()
            clouds.close()
        return stop


def hooks(engine: Engine) -> Hooks:
    table = Hooks()
    provider_hooks(table, engine)
    engine.iaas.register(table)

    @table.on_create(CONTRACT)
    def create(entity, ctx):
        a = entity.attributes
        now = time.time()
        a.update({C + "state": "pending", C + "desired": "running", C + "sequence": 1, C + "reported": 0,
                  C + "created": now})
        a.setdefault(C + "path", a.get(C + "name"))
        if a.get(C + "scope") == "common":
            # Shared: no one deployment rolls it back; the group given is its first user's.
            a[C + "users"] = [{"service": a[C + "service"], "group": a.get(C + "group") or a[C + "service"]}] \
                if a.get(C + "service") else []
            a[C + "group"] = None
        else:
            a.setdefault(C + "group", a.get(C + "service"))
        records = instruction_records(entity, owner=entity.owner)
        a[C + "instructions"] = len(records)
        mark_due(a)
        for record in records:
            ctx.session.insert(record)
        ctx.session.insert(_event(entity, ctx, what="created", message=f"contract of node {a.get(C + 'name')}"))
        ctx.session.after_commit(engine.wake)

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
            mark_due(a)
            ctx.session.insert(_event(entity, ctx, what=action.term, message=f"{ctx.principal.name} asked to "
                                                                            f"{action.term} the node"))
            ctx.session.after_commit(engine.wake)
        return handler

    def image(save: bool):
        def handler(entity, action, parameters, ctx):
            a = entity.attributes
            if a.get(C + "state") not in ("running", "stopped") or a.get(C + "desired") == "deleted":
                raise Conflict(f"node {a.get(C + 'name')} is {a.get(C + 'state')}: an image is taken of a running or "
                               "stopped node", code="node-not-ready", where=entity.location)
            if a.get(C + "imaging"):
                return            # one is being taken: asking again (a retried request) changes nothing
            name = parameters.get("name") or f"{a.get(C + 'name')}-{entity.id.rsplit(':', 1)[-1][:8]}-{int(time.time())}"
            a[C + "imaging"] = {"name": name, "save": save, "asked": time.time()}
            mark_due(a)
            ctx.session.insert(_event(entity, ctx, what=action.term, message=f"{ctx.principal.name} asked for image "
                                                                                 f"{name}"))
            ctx.session.after_commit(engine.wake)
        return handler

    table.on_action(CONTRACT_SNAPSHOT)(image(save=False))
    table.on_action(CONTRACT_SAVE)(image(save=True))

    @table.on_action(CONTRACT_ATTACH)
    def attach(entity, action, parameters, ctx):
        a = entity.attributes
        _require_shared(entity, action)
        if a.get(C + "desired") == "deleted":
            raise Conflict(f"shared node {a.get(C + 'name')} is being deleted: it cannot take a new user",
                           code="contract-deleted", where=entity.location)
        users = [u for u in a.get(C + "users") or [] if u.get("service") != parameters["service"]]
        users.append({"service": parameters["service"], "group": parameters.get("group") or parameters["service"]})
        a[C + "users"] = users
        a[C + "service"] = parameters["service"]
        a[C + "desired"] = "running"
        a[C + "retry"], a[C + "attempts"] = None, 0
        a[C + "reported"] = 0                        # the newcomer hears where the node stands
        a[C + "sequence"] = (a.get(C + "sequence") or 0) + 1
        mark_due(a)
        ctx.session.insert(_event(entity, ctx, what="attach", message=f"{parameters['service']} uses the shared "
                                                                        f"node ({len(users)} user(s))"))
        ctx.session.after_commit(engine.wake)

    @table.on_action(CONTRACT_DETACH)
    def detach(entity, action, parameters, ctx):
        a = entity.attributes
        _require_shared(entity, action)
        users = [u for u in a.get(C + "users") or [] if u.get("service") != parameters["service"]]
        if len(users) == len(a.get(C + "users") or []):
            return                                       # not a user (any more): a retried request
        if users:
            a[C + "users"] = users
            a[C + "service"] = users[-1]["service"]
            message = f"{parameters['service']} no longer uses the shared node ({len(users)} user(s) left)"
        else:
            # The last user out releases the node, and keeps hearing of it until it is gone.
            a[C + "desired"] = "deleted" if parameters.get("release", "delete") == "delete" else "stopped"
            a[C + "users"] = [{"service": parameters["service"], "group": None, "releasing": True}]
            message = f"{parameters['service']}, the last user, releases the shared node ({a[C + 'desired']})"
        a[C + "retry"], a[C + "attempts"] = None, 0
        a[C + "sequence"] = (a.get(C + "sequence") or 0) + 1
        mark_due(a)
        ctx.session.insert(_event(entity, ctx, what="detach", message=message))
        ctx.session.after_commit(engine.wake)

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


def _require_shared(entity, action) -> None:
    if entity.attributes.get(C + "scope") != "common":
        raise Conflict(f"{entity.location} is not a shared (common) node: {action.term} applies to shared nodes "
                       "only", code="not-shared", where="?action")


def _event(entity, ctx, *, what: str, message: str):
    return event_record(entity.location, entity.attributes, owner=entity.owner, at=time.time(), what=what,
                        message=message, who=ctx.principal.name, after=entity.attributes.get(C + "state"))


def _questions(engine: Engine):
    """``GET /drift`` and ``POST /preview`` (:mod:`broker.provisioning.questions`), answered with the
    worker's reconciler once attached."""
    def routes(app, store, peers=None) -> None:
        from broker.provisioning.questions import add_routes
        add_routes(app, store, policy=POLICY, engine=engine)
    return routes


def build():
    from broker.components import Component

    engine = Engine()
    return Component(name="provisioning", model=Model([*infra.CATEGORIES, *TEMPLATES, *IAAS_CATEGORIES,
                                                                 *CONTRACT_CATEGORIES, *PROVIDER_CATEGORIES]),
                     hooks=hooks(engine), policy=POLICY, attach=engine.attach,
                     routes=engine.iaas.routes(_questions(engine)),
                     summary="Contracts driven to running nodes on the configured providers; OGF infrastructure "
                             "(compute, storage, network, links, templates)")
