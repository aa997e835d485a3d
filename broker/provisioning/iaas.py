"""The OGF IaaS face of the provisioning component: every compute is a real node.

``POST /compute/`` creates, in the request's transaction, the compute and a ``contract`` for
it (created through the contract's own hooks, so exactly as the broker's are): the contract's
``service`` is the compute's location, the compute carries the ``node`` mixin whose
``accords.node.contract`` is the contract's URL. The reconciler places the contract and
creates the node; what it becomes is reported here (:meth:`IaasFace.report`, instead of to a
broker's service) and written on the compute: ``occi.compute.state`` after
:func:`broker.provisioning.iaas_model.compute_state`, ``hostname`` (unless the client named
it), the ``node`` attributes and the addresses of its networkinterface links.

Actions map onto the contract's desired state: start → running, stop and suspend → stopped
(suspend shows ``suspended``; both need a provider that can stop nodes, else 409), restart →
restart; save is not offered (501). ``DELETE`` removes the compute at once and asks for its
node's deletion (contract desired=deleted); the contract, readable by its owner, follows the
deletion and is removed once the node is gone. A compute names a provider only through its
templates (:mod:`broker.provisioning.iaas_templates`); without one placement chooses.

Storage, network and the links stay stored entities with state-only actions: no driver
creates volumes or networks yet.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace

from broker.provisioning.iaas_model import N, NODE, compute_state
from broker.provisioning.iaas_templates import TemplateCatalog
from broker.provisioning.model import CONTRACT, CONTRACT_DELETE, CONTRACT_RESTART, CONTRACT_START, CONTRACT_STOP
from broker.provisioning.records import C
from occi.entity import Entity
from occi.errors import BadRequest, Conflict, NotImplementedByServer
from occi.hooks import Hooks
from occi.model import infrastructure as infra
from occi.service.builder import EntityBuilder
from occi.store.base import StaleWrite

__all__ = ["IaasFace"]

log = logging.getLogger("accords.provisioning")

_STATE, _MESSAGE = "occi.compute.state", "occi.compute.state.message"
_HOSTNAME = "occi.compute.hostname"
#: What the node was made with: changing it would need a resize no driver offers.
_SIZING = ("occi.compute.cores", "occi.compute.memory", "occi.compute.architecture", "occi.compute.share")
_TEMPLATE_BASES = (infra.OS_TPL.type_id, infra.RESOURCE_TPL.type_id)
_NODE_NAME = re.compile(r"[^A-Za-z0-9-]+")
_ACTIONS = {a.term: a for a in infra.COMPUTE.actions}


def _base(mixin) -> str | None:
    """The template base (os_tpl, resource_tpl) ``mixin`` depends on, if any."""
    return next((base for base in _TEMPLATE_BASES if mixin.depends_on(base)), None)


def _path(url: str | None) -> str | None:
    """The local path of a URL this component wrote (``http://host:port/contract/ID`` → ``/contract/ID``)."""
    if not url:
        return None
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^/]+(/.*)$", url)
    return match.group(1) if match else url


class IaasFace:
    """Hooks and reports of the IaaS face; one per worker (made with the component's Engine)."""

    def __init__(self, *, wake, templates: TemplateCatalog | None = None):
        self.wake = wake
        self.templates = templates or TemplateCatalog()
        self.store = None
        self.clouds = None
        self.table: Hooks | None = None

    # -- wiring -------------------------------------------------------------------------------
    def routes(self, other=None):
        """The component's ``routes``: ``other``'s, then the templates bound to the app's model."""
        def routes(app, store, peers=None) -> None:
            if other is not None:
                other(app, store, peers)
            self.templates.bind(app.occi_service.models)
        return routes

    def attach(self, store, *, clouds) -> None:
        self.store, self.clouds = store, clouds
        self.templates.start(clouds=clouds, store=store)

    def stop(self) -> None:
        self.templates.stop()

    def register(self, table: Hooks) -> None:
        """Add the compute and networkinterface hooks to ``table`` (which holds the contract's)."""
        self.table = table
        table.on_create(infra.COMPUTE)(self._create)
        table.on_update(infra.COMPUTE)(self._update)
        table.on_delete(infra.COMPUTE)(self._delete)
        for term in ("start", "stop", "suspend", "restart", "save"):
            table.on_action(_ACTIONS[term])(self._action)
        table.on_create(infra.NETWORKINTERFACE)(self._interface)

    # -- the contract, through its own hooks ----------------------------------------------------
    @staticmethod
    def _contract_entity(record) -> Entity:
        return Entity(location=record.location, kind=CONTRACT, id=record.id, attributes=dict(record.attributes),
                      owner=record.owner, version=record.version)

    def _contract(self, session, compute: Entity):
        path = _path(compute.attributes.get(N + "contract"))
        return session.get(path) if path else None

    def _ask(self, session, record, action, ctx) -> None:
        """Run contract ``action``'s own hook on ``record`` (desired state, event, wake-up) and save it."""
        entity = self._contract_entity(record)
        self.table.action_handler(action)(entity, action, {}, ctx)
        session.update(EntityBuilder.to_record(entity), expected_version=record.version)

    # -- compute hooks --------------------------------------------------------------------------
    def _wanted(self, entity: Entity) -> dict:
        templates = [(m, t) for m, t in ((m, self.templates.lookup(m)) for m in entity.mixins) if t is not None]
        providers = {t.provider: m for m, t in templates if t.provider}
        if len(providers) > 1:
            named = ", ".join(f"{m.term} ({p})" for p, m in providers.items())
            raise BadRequest(f"the templates {named} belong to different providers; a compute runs on one: choose "
                             "templates of the same provider", code="templates-of-two-providers", where="Category")
        a = entity.attributes
        memory = a.get("occi.compute.memory")
        return {"provider": next(iter(providers), None),
                "image": next((t.image for _, t in templates if t.image), None),
                "cores": a.get("occi.compute.cores") or next((t.cores for _, t in templates if t.cores), None),
                "memory_mb": int(round(memory * 1024)) if memory else next(
                    (t.memory_mb for _, t in templates if t.memory_mb), None),
                "disk_gb": next((t.disk_gb for _, t in templates if t.disk_gb), None)}

    def _create(self, entity: Entity, ctx) -> None:
        a = entity.attributes
        wanted = self._wanted(entity)
        tags = a.get(N + "tags")
        if tags is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise BadRequest("accords.node.tags holds labels: an object of strings", code="invalid-attribute",
                             where=N + "tags")
        name = _NODE_NAME.sub("-", a.get(_HOSTNAME) or a.get("occi.core.title") or "compute").strip("-")[:40]
        compute = {k: v for k, v in (("cores", wanted["cores"]),
                                     ("memory", f"{wanted['memory_mb']}M" if wanted["memory_mb"] else None)) if v}
        node = {"name": name or "compute", "type": "simple", "provider": wanted["provider"] or "any",
                "infrastructure": {"compute": compute, **({"storage": {"size": f"{wanted['disk_gb']}G"}}
                                                          if wanted["disk_gb"] else {})},
                "image": {"system": {"name": wanted["image"]}} if wanted["image"] else {}}
        ident = uuid.uuid4()
        attributes = {name_: d.default for name_, d in CONTRACT.attribute_map.items() if d.default is not None}
        attributes.update({C + "name": node["name"], C + "service": entity.location, C + "node": node,
                           C + "provider": node["provider"], C + "rollback": False})
        contract = Entity(location=f"{CONTRACT.location}{ident}", kind=CONTRACT, id=f"urn:uuid:{ident}",
                          attributes=attributes, owner=entity.owner)
        self.table.run_create(contract, ctx)           # the contract's own hooks: state, event, wake-up
        ctx.session.insert(EntityBuilder.to_record(contract))
        if NODE not in entity.mixins:
            entity.mixins.append(NODE)
        a.update({N + "contract": ctx.urls.absolute(contract.location), N + "provider": node["provider"],
                  N + "state": contract.attributes.get(C + "state")})
        a[_STATE], a[_MESSAGE] = compute_state(contract.attributes.get(C + "state"), pause=None,
                                               provider=wanted["provider"], message=None)

    def _update(self, old: Entity, new: Entity, ctx) -> None:
        if not old.attributes.get(N + "contract"):
            return                                   # a compute from before the IaaS face: a stored entity
        # A full replace (PUT) that leaves out the node mixin or a template keeps them: they are the
        # node's; one that names another template or size is a resize, which no driver offers.
        for mixin in old.mixins:
            if mixin in new.mixins or not (mixin is NODE or _base(mixin)):
                continue
            if _base(mixin) and any(_base(m) == _base(mixin) for m in new.mixins):
                continue                             # replaced by another template: a resize, refused below
            new.mixins.append(mixin)
        changed = [m.type_id for m in new.mixins if _base(m) and m not in old.mixins]
        for name in _SIZING:
            if new.attributes.get(name) is None and old.attributes.get(name) is not None:
                new.attributes[name] = old.attributes[name]
            elif new.attributes.get(name) != old.attributes.get(name):
                changed.append(name)
        if changed:
            raise Conflict(f"{old.location} runs as a node already: {', '.join(changed)} cannot change (no provider "
                           "resizes a node here); delete the compute and create another", code="compute-placed",
                           where=changed[0])
        for name, value in old.attributes.items():
            if name.startswith(N) and new.attributes.get(name) is None:
                new.attributes[name] = value

    def _delete(self, entity: Entity, ctx) -> None:
        record = self._contract(ctx.session, entity)
        if record is not None and record.attributes.get(C + "desired") != "deleted":
            self._ask(ctx.session, record, CONTRACT_DELETE, ctx)

    def _capable(self, record, what: str, term: str) -> None:
        a = record.attributes
        provider = a.get(C + "placed") or (a.get(C + "provider") if a.get(C + "provider") != "any" else None)
        if provider is None or self.clouds is None or self.clouds.get(provider) is None:
            return                                   # not placed yet: the provider is not known
        try:
            capabilities = self.clouds.driver(provider).capabilities
        except Exception:                            # noqa: BLE001 - a driver that cannot be made fails the step later
            return
        if what not in capabilities:
            raise Conflict(f"provider {provider} cannot {what} nodes, so the compute cannot {term}",
                           code="provider-cannot", where="?action")

    def _action(self, entity: Entity, action, parameters: dict, ctx) -> None:
        a = entity.attributes
        record = self._contract(ctx.session, entity)
        if record is None:                           # a stored entity only: the state moves, nothing else
            if action.target_state is not None:
                a[_STATE] = action.target_state
                a.pop(_MESSAGE, None)
            return
        if action.term == "save":
            raise NotImplementedByServer("save is not offered: node snapshots do not become os templates here",
                                         code="save-not-offered", where="?action")
        who = ctx.principal.name
        if record.attributes.get(C + "state") == "failed" and action.term in ("start", "restart"):
            raise Conflict(f"the node of {entity.location} failed ({record.attributes.get(C + 'message')}); a failed "
                           "node is not retried: delete the compute and create another", code="compute-failed",
                           where="?action")
        if action.term == "start":
            self._ask(ctx.session, record, CONTRACT_START, ctx)
            a.pop(N + "pause", None)
            a[_MESSAGE] = f"starting (asked by {who})"
        elif action.term in ("stop", "suspend"):
            self._capable(record, "stop", action.term)
            self._ask(ctx.session, record, CONTRACT_STOP, ctx)
            a[N + "pause"] = action.term
            a[_MESSAGE] = f"{'suspending' if action.term == 'suspend' else 'stopping'} (asked by {who})"
        elif action.term == "restart":
            self._capable(record, "stop", action.term)
            self._ask(ctx.session, record, CONTRACT_RESTART, ctx)
            a[_MESSAGE] = f"restarting (asked by {who})"

    # -- links ----------------------------------------------------------------------------------
    @staticmethod
    def _interface_values(link_attributes: dict, compute_attributes: dict) -> dict:
        """What a networkinterface of the compute shows: its state, and for a dynamic one the node's
        first address; empty when nothing changes."""
        values = {"occi.networkinterface.state": "active" if compute_attributes.get(_STATE) == "active"
                  else "inactive"}
        addresses = compute_attributes.get(N + "addresses") or []
        if addresses and link_attributes.get("occi.networkinterface.allocation") != "static":
            values.update({"occi.networkinterface.address": addresses[0],
                           "occi.networkinterface.allocation": "dynamic"})
        return {k: v for k, v in values.items() if link_attributes.get(k) != v}

    def _interface(self, link: Entity, ctx) -> None:
        source = ctx.session.get(link.source) if link.source else None
        if source is None or not source.attributes.get(N + "contract"):
            return
        values = self._interface_values(link.attributes, source.attributes)
        link.attributes.update(values)
        if "occi.networkinterface.address" in values and infra.IPNETWORKINTERFACE not in link.mixins:
            link.mixins.append(infra.IPNETWORKINTERFACE)

    # -- reports from the reconciler --------------------------------------------------------------
    @staticmethod
    def owns(record) -> bool:
        """Whether ``record`` is the contract of a compute (its reports are written here)."""
        return str(record.attributes.get(C + "service") or "").startswith(infra.COMPUTE.location)

    def report(self, record, *, attempts: int = 5) -> bool:
        """Write what the contract became on its compute; False when it could not be written."""
        for _ in range(attempts):
            try:
                with self.store.session() as session:
                    self._write_report(session, record)
                return True
            except StaleWrite:
                continue                             # a client wrote the compute meanwhile: read it again
        log.warning("reporting %s to its compute: the compute kept changing", record.location)
        return False

    def _write_report(self, session, record) -> None:
        a = record.attributes
        compute = session.get(a[C + "service"])
        if compute is None or _path(compute.attributes.get(N + "contract")) != record.location:
            # The compute is gone (deleted by its client): once the node is gone too, so is the contract.
            if a.get(C + "state") == "deleted":
                session.delete(record.location)
            return
        values = dict(compute.attributes)
        hostname = a.get(C + "hostname")
        known = values.get(N + "addresses") or []
        if hostname and (not values.get(_HOSTNAME) or values.get(_HOSTNAME) in known):
            values[_HOSTNAME] = hostname             # the node's, unless the client named it
        values.update({N + "state": a.get(C + "state"), N + "provider": a.get(C + "placed") or a.get(C + "provider"),
                       N + "reference": a.get(C + "reference")})
        if hostname:
            values[N + "addresses"] = [hostname]
        values[_STATE], values[_MESSAGE] = compute_state(a.get(C + "state"), pause=values.get(N + "pause"),
                                                         provider=a.get(C + "placed"), message=a.get(C + "message"))
        values = {k: v for k, v in values.items() if v is not None}
        if values != compute.attributes:
            session.update(replace(compute, attributes=values), expected_version=compute.version)
        for link in session.links_from([compute.location]):
            if link.kind != infra.NETWORKINTERFACE.type_id:
                continue
            changes = self._interface_values(link.attributes, values)
            if changes:
                mixins = list(link.mixins)
                if "occi.networkinterface.address" in changes and infra.IPNETWORKINTERFACE.type_id not in mixins:
                    mixins.append(infra.IPNETWORKINTERFACE.type_id)
                session.update(replace(link, attributes={**link.attributes, **changes}, mixins=mixins),
                               expected_version=link.version)
