"""Services: a plan instantiated as contracts at the provisioning component, and what users do to them.

Creating a service (``POST /service/`` with ``occi.service.plan``, or
``POST /plan/ID?action=instance``) reads the compiled plan and creates one contract per node
at the provisioning component, as the caller, at locations derived from the service and
the node (a retried request cannot make two contracts of one node). If any of them fails,
the ones already made are deleted again and nothing is stored. The provisioning component
then reports every change of every contract (``?action=report``), from which the service's
state follows (:func:`broker.model.derive_state`).
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from urllib.parse import urlsplit

from broker.deployment import CONTRACT_ACTIONS as _CONTRACT_ACTIONS, CONTRACT_TYPE, Deployment, contract_location
from broker.gateway import Gateway, peer_error
from broker.model import REPORT_FIELDS, SERVICE, SERVICE_DELETE, derive_state
from cords.model.plan import PLAN
from occi.errors import BadRequest, Conflict, Forbidden, NotFound, OcciError
from occi.store.base import EntityRecord

__all__ = ["Services", "CONTRACT_TYPE", "contract_location"]

S = "occi.service."
#: What a service action asks of a node it shares with other services (the last user out releases it).
_SHARED = {"start": ("attach", {}), "restart": ("attach", {}), "stop": ("detach", {"release": "stop"}),
           "delete": ("detach", {"release": "delete"})}
_TRANSITIONAL = {"start": "starting", "stop": "stopping", "restart": "starting", "delete": "deleting"}


class Services:
    """The hooks of the service kind, with the gateway to the provisioning component."""

    def __init__(self):
        self.provisioning = Gateway(CONTRACT_TYPE, what="provisioning component")

    # -- creating ---------------------------------------------------------------------------
    def plan_of(self, entity, ctx) -> EntityRecord:
        given = entity.attributes.get(S + "plan")
        if not given:
            raise BadRequest("a service needs occi.service.plan: the URL of the plan to instantiate",
                             code="missing-attribute", where=S + "plan")
        path = ctx.urls.require_local(given, where=S + "plan")
        record = ctx.session.get(path)
        if record is None or record.kind != PLAN.type_id:
            raise NotFound(f"no plan at {given}", code="no-such-plan", where=S + "plan")
        if record.owner != entity.owner and not {"admin", "service"} & ctx.principal.roles:
            raise Forbidden(f"{given} belongs to another account", code="owner-forbidden", where=S + "plan")
        return record

    def create(self, entity, ctx) -> None:
        """on_create(SERVICE): instantiate the plan the service names."""
        plan = self.plan_of(entity, ctx)
        compiled = plan.attributes["occi.plan.compiled"]
        a = entity.attributes
        a[S + "plan"] = ctx.urls.absolute(plan.location)
        a.setdefault(S + "name", compiled["manifest"])
        if plan.attributes.get("occi.plan.manifest"):
            a.setdefault(S + "manifest", plan.attributes["occi.plan.manifest"])
        a[S + "account"] = entity.owner
        base = self.provisioning.base_url()
        deployment = Deployment(client=self.provisioning.as_caller(ctx.authorization, base_url=base), base=base,
                                ctx=ctx)
        try:
            deployment.instantiate(entity, plan, root=ctx.urls.absolute(entity.location))
        except (OcciError, OSError) as exc:
            deployment.undo()
            if isinstance(exc, OcciError) and not deployment.peer_failed:
                raise                     # the plan cannot be deployed as it is: the client's to fix
            raise peer_error(exc, what=f"creating the contracts of {a[S + 'name']}") from None
        ctx.response_headers.setdefault("X-Accords-Contracts", str(len(deployment.made) + len(deployment.attached)))

    def instance(self, plan, action, parameters, ctx) -> None:
        """plan?action=instance: a new service of this plan (its URL in Location)."""
        ident = uuid.uuid4()
        location = f"{SERVICE.location}{ident}"
        attributes = {S + "plan": ctx.urls.absolute(plan.location), S + "rollback": True}
        for name in ("name", "provider", "sla"):
            if parameters.get(name) is not None:
                attributes[S + name] = parameters[name]
        if parameters.get("rollback") is not None:
            attributes[S + "rollback"] = parameters["rollback"]
        record = EntityRecord(location=location, id=f"urn:uuid:{ident}", kind=SERVICE.type_id,
                              attributes=attributes, owner=ctx.principal.account)
        self.create(record, ctx)          # a record has what the hook reads: attributes, location, owner
        ctx.session.insert(record)
        ctx.response_headers["Location"] = ctx.urls.absolute(location)

    # -- acting -----------------------------------------------------------------------------
    def act(self, entity, action, parameters, ctx) -> None:
        """start, stop, restart, delete: passed on to every node, as the caller (a nested
        service is acted on in turn; a shared node is attached to or detached from)."""
        peer = _Peer(self.provisioning, ctx)
        self._act(entity, action, ctx, peer, root=self._root(entity, ctx))

    def _act(self, entity, action, ctx, peer, *, root: str) -> None:
        a = entity.attributes
        service_url = ctx.urls.absolute(entity.location)
        nodes = {name: dict(entry) for name, entry in (a.get(S + "nodes") or {}).items()}
        for name, entry in sorted(nodes.items()):
            if action is SERVICE_DELETE and entry.get("state") == "deleted":
                continue
            if entry.get("nested"):
                child = ctx.session.get(urlsplit(entry["service"]).path)
                if child is not None:
                    self._act(child, action, ctx, peer, root=root)
                    ctx.session.update(child, expected_version=child.version)
                    entry.update(state=child.attributes[S + "state"], message=None)
                continue
            url = peer.base + urlsplit(entry["contract"]).path
            if entry.get("shared"):
                term, extra = _SHARED[action.term]
                extra = {**extra, "group": root} if term == "attach" else extra
                after = peer.act(url, term, node=name, service=service_url, **extra)
                entry.pop("released", None)
                users = [u for u in after.attributes.get("occi.contract.users") or []
                         if u.get("service") != service_url]
                if term == "detach" and users:
                    # The others keep it running: for this service the node is done with, and
                    # what the node said until now is history (a later attach says more).
                    entry.update(state="stopped" if action.term == "stop" else "deleted", released=True,
                                 message=f"shared: still used by {len(users)} other service(s)",
                                 sequence=after.attributes.get("occi.contract.sequence") or entry.get("sequence", 0))
                continue
            peer.act(url, action.term, node=name)
        a[S + "nodes"] = nodes
        a[S + "state"] = _TRANSITIONAL[action.term]
        a[S + "message"] = None
        a[S + "failure"] = None        # a user's action starts a new story
        a[S + "changed"] = int(time.time())
        goal = {"start": "running", "stop": "stopped", "delete": "deleted"}.get(action.term)
        if goal and all(entry.get("released") or entry.get("state") == goal for entry in nodes.values()):
            # Every node is there already (or left to a shared node's other users): no report
            # will come to move the service on.
            a[S + "state"], a[S + "message"] = derive_state(a[S + "state"], nodes, failure=None)

    # -- scaling ----------------------------------------------------------------------------
    def scale_up(self, entity, action, parameters, ctx) -> None:
        """scaleup(node, count): ``count`` more copies of a simple node, each a contract of its own."""
        a = entity.attributes
        name = parameters["node"]
        nodes = {key: dict(entry) for key, entry in (a.get(S + "nodes") or {}).items()}
        original = nodes.get(name)
        if original is None or original.get("copy_of"):
            raise BadRequest(f"{entity.location} has no node {name!r} to copy (nodes: {', '.join(sorted(nodes))})",
                             code="unknown-node", where="node")
        if original.get("nested") or original.get("shared"):
            raise Conflict(f"node {name} is {'a nested service' if original.get('nested') else 'shared'}: only a "
                           "service's own simple nodes scale (scale the nested service itself)",
                           code="node-does-not-scale", where="node")
        plan = self.plan_of(entity, ctx)
        base = self.provisioning.base_url()
        deployment = Deployment(client=self.provisioning.as_caller(ctx.authorization, base_url=base), base=base,
                                ctx=ctx)
        copies = 0
        index = 2
        try:
            while copies < parameters.get("count", 1):
                copy = f"{name}-{index}"
                index += 1
                if copy in nodes:
                    continue
                url = deployment.copy(entity, plan, node=name, copy=copy, root=self._root(entity, ctx))
                nodes[copy] = {"contract": url, "state": "pending", "sequence": 0, "copy_of": name}
                copies += 1
        except (OcciError, OSError) as exc:
            deployment.undo()
            raise peer_error(exc, what=f"scaling node {name} up") from None
        a[S + "nodes"] = nodes
        a[S + "contracts"] = {**(a.get(S + "contracts") or {}), **{k: v["contract"] for k, v in nodes.items()
                                                                    if v.get("copy_of") == name}}
        a[S + "state"], a[S + "message"], a[S + "failure"] = "starting", None, None
        a[S + "changed"] = int(time.time())

    def scale_down(self, entity, action, parameters, ctx) -> None:
        """scaledown(node, count): the newest ``count`` copies of a node are deleted (a deleted copy
        stays listed, and no longer counts in the service's state)."""
        a = entity.attributes
        name = parameters["node"]
        nodes = {key: dict(entry) for key, entry in (a.get(S + "nodes") or {}).items()}
        copies = sorted((key for key, entry in nodes.items() if entry.get("copy_of") == name
                         and entry.get("state") not in ("deleting", "deleted")),
                        key=lambda key: int(key.rsplit("-", 1)[1]), reverse=True)
        if not copies:
            raise Conflict(f"node {name} of {entity.location} has no copies to remove (scaledown never removes the "
                           "node itself)", code="nothing-to-scale-down", where="node")
        peer = _Peer(self.provisioning, ctx)
        for copy in copies[: parameters.get("count", 1)]:
            peer.act(peer.base + urlsplit(nodes[copy]["contract"]).path, "delete", node=copy)
            nodes[copy]["state"] = "deleting"
        a[S + "nodes"] = nodes
        a[S + "failure"] = None              # removing a failed copy is how a service recovers from it
        if a.get(S + "state") == "failed":
            a[S + "state"], a[S + "message"] = derive_state("starting", nodes, failure=None)
        a[S + "changed"] = int(time.time())

    # -- images -----------------------------------------------------------------------------
    def take_images(self, entity, action, parameters, ctx) -> None:
        """snapshot and save: asked of every node of the service's own (nested ones too; shared
        nodes belong to all their users and are left out). Taken asynchronously: each
        contract's ``images`` lists them, its events say how it went."""
        targets = list(self._own_nodes(entity, ctx))
        busy = sorted(f"{path} ({entry.get('state')})" for path, entry in targets
                      if entry.get("state") not in ("running", "stopped"))
        if busy:
            raise Conflict(f"an image is taken of running or stopped nodes; not ready: {', '.join(busy)}",
                           code="node-not-ready", where=entity.location)
        peer = _Peer(self.provisioning, ctx)
        for path, entry in targets:
            extra = {"name": f"{parameters['name']}-{path}"} if parameters.get("name") else {}
            peer.act(peer.base + urlsplit(entry["contract"]).path, action.term, node=path, **extra)

    def _own_nodes(self, entity, ctx, prefix: str = ""):
        for name, entry in sorted((entity.attributes.get(S + "nodes") or {}).items()):
            if entry.get("shared") or entry.get("state") == "deleted":
                continue
            if entry.get("nested"):
                child = ctx.session.get(urlsplit(entry["service"]).path)
                if child is not None:
                    yield from self._own_nodes(child, ctx, prefix=f"{prefix}{name}.")
                continue
            yield prefix + name, entry

    @staticmethod
    def _root(entity, ctx) -> str:
        """The URL of the service at the top of ``entity``'s nesting (the deployment's group)."""
        current = entity
        for current in _ancestors(entity, ctx):
            pass
        return ctx.urls.absolute(current.location)

    def report(self, entity, action, parameters, ctx) -> None:
        """What contracts say of themselves (one, or several in ``reports``); older reports than
        the one kept are ignored."""
        a = entity.attributes
        reports = parameters.get("reports")
        if reports is None:
            reports = [{key: parameters.get(key) for key in REPORT_FIELDS}]
        elif any(parameters.get(key) is not None for key in ("node", "contract", "state", "sequence")):
            raise BadRequest("send one contract's fields or reports, not both", code="report-mixed",
                             where="reports")
        nodes = dict(a.get(S + "nodes") or {})
        changed = False
        batched = parameters.get("reports") is not None
        for index, report in enumerate(reports):
            report = _checked_report(report, where=f"reports[{index}]" if batched else "")
            changed |= self._note(entity, nodes, report)
        if not changed:
            return
        a[S + "nodes"] = nodes
        _derive(a)
        self._tell_parent(entity, ctx)

    @staticmethod
    def _note(entity, nodes: dict, report: dict) -> bool:
        """Keep ``report`` in ``nodes`` if it is newer than the one kept; whether it was."""
        a = entity.attributes
        node = report["node"]
        contracts = a.get(S + "contracts") or {}
        if urlsplit(contracts.get(node) or "").path != urlsplit(report["contract"]).path:
            raise BadRequest(f"{report['contract']} is not the contract of node {node!r} of {entity.location}",
                             code="not-this-service", where="contract")
        kept = nodes.get(node) or {}
        if report["sequence"] <= kept.get("sequence", 0):
            return False
        nodes[node] = {key: report.get(key) or None for key in ("state", "message", "provider", "hostname",
                                                                 "agent", "reference")}
        nodes[node].update(contract=contracts[node], sequence=report["sequence"])
        for flag in ("shared", "copy_of"):
            if kept.get(flag):
                nodes[node][flag] = kept[flag]
        if kept.get("state") == "deleting" and report["state"] not in ("deleting", "deleted"):
            nodes[node]["state"] = "deleting"       # told to go: a report from before it heard is history
        if nodes[node]["state"] == "failed":
            _note_failure(a, f"node {node} failed: {report.get('message') or 'no reason given'}")
        return True

    @staticmethod
    def _tell_parent(entity, ctx) -> None:
        """A nested service's state is its complex node's state in the parent service (and up)."""
        child = entity
        for parent in _ancestors(entity, ctx):
            c, p = child.attributes, parent.attributes
            nodes = dict(p.get(S + "nodes") or {})
            kept = nodes.get(c.get(S + "node")) or {}
            nodes[c.get(S + "node")] = {**kept, "service": ctx.urls.absolute(child.location), "nested": True,
                                        "state": c.get(S + "state"), "message": c.get(S + "message"),
                                        "sequence": (kept.get("sequence") or 0) + 1}
            p[S + "nodes"] = nodes
            if c.get(S + "state") == "failed":
                _note_failure(p, f"node {c.get(S + 'node')} failed: {c.get(S + 'message') or 'no reason given'}")
            _derive(p)
            ctx.session.update(parent, expected_version=parent.version)
            child = parent

    def delete(self, entity, ctx) -> None:
        """DELETE /service/ID forgets a service only once its nodes are gone (?action=delete first),
        and the services nested in it with it; a nested service goes with its parent only."""
        a = entity.attributes
        if _parent(entity, ctx) is not None:
            raise Conflict(f"{entity.location} is node {a.get(S + 'node')} of {a[S + 'parent']}: delete that service",
                           code="nested-service", where=entity.location)
        live = [name for name, report in (a.get(S + "nodes") or {}).items() if report.get("state") != "deleted"]
        if live:
            raise Conflict(f"{entity.location} still has {len(live)} node(s) ({', '.join(sorted(live)[:5])}); "
                           "delete them first with POST ?action=delete", code="service-has-nodes",
                           where=entity.location)
        for report in (a.get(S + "nodes") or {}).values():
            child = ctx.session.get(urlsplit(report["service"]).path) if report.get("nested") else None
            if child is not None:
                self.delete(replace(child, attributes={**child.attributes, S + "parent": None}), ctx)
                ctx.session.delete(child.location)


def _parent(service, ctx):
    """The stored service ``service`` is nested in, if any (nesting is bounded: callers stop at 16)."""
    url = service.attributes.get(S + "parent")
    return ctx.session.get(urlsplit(url).path) if url else None


def _ancestors(service, ctx):
    """The stored services ``service`` is nested in, innermost first (at most 16: nesting is bounded)."""
    current = service
    for _ in range(16):
        current = _parent(current, ctx)
        if current is None:
            return
        yield current


def _checked_report(report, *, where: str) -> dict:
    """One contract's report, its fields checked (a report in ``reports`` is not checked by the model)."""
    prefix = f"{where}." if where else ""
    if not isinstance(report, dict):
        raise BadRequest(f"{where}: a report is an object of {', '.join(REPORT_FIELDS)}", code="bad-report",
                         where=where)
    for key in ("node", "contract", "state"):
        if not isinstance(report.get(key), str) or not report[key]:
            raise BadRequest(f"{prefix}{key} is required (a non-empty string)", code="bad-report",
                             where=prefix + key)
    sequence = report.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise BadRequest(f"{prefix}sequence is required (an integer ≥ 0)", code="bad-report",
                         where=prefix + "sequence")
    for key in ("message", "provider", "hostname", "agent", "reference"):
        if report.get(key) is not None and not isinstance(report[key], str):
            raise BadRequest(f"{prefix}{key} must be a string", code="bad-report", where=prefix + key)
    return report


def _note_failure(a: dict, failure: str) -> None:
    if not a.get(S + "failure") and (a.get(S + "state") or "deploying") in ("deploying", "starting"):
        a[S + "failure"] = failure


def _derive(a: dict) -> None:
    current = a.get(S + "state") or "deploying"
    state, message = derive_state(current, a.get(S + "nodes") or {}, failure=a.get(S + "failure"))
    if state != current:
        a[S + "changed"] = int(time.time())
    a[S + "state"], a[S + "message"] = state, message


class _Peer:
    """The provisioning component as the caller, found once per request, on first use."""

    def __init__(self, gateway, ctx):
        self.gateway, self.ctx = gateway, ctx
        self._client = None
        self._base = None

    @property
    def base(self) -> str:
        if self._base is None:
            # Wherever the provisioning component is published now (it may have moved).
            self._base = self.gateway.base_url()
        return self._base

    def act(self, url: str, term: str, *, node: str, **parameters):
        """The contract action's answer. Asked once per request: when the service changed under
        the action (a report landed), the action runs again and finds the answers it had."""
        answers = self.ctx.retained.setdefault("contract-actions", {})
        key = json.dumps([url, term, parameters], sort_keys=True, default=str)
        if key not in answers:
            answers[key] = self._act(url, term, node=node, **parameters)
        return answers[key]

    def _act(self, url: str, term: str, *, node: str, **parameters):
        if self._client is None:
            self._client = self.gateway.as_caller(self.ctx.authorization, base_url=self.base)
        try:
            return self._client.action(url, term, scheme=_CONTRACT_ACTIONS, **parameters)
        except OcciError as exc:
            if exc.code == "action-not-applicable":
                raise Conflict(f"cannot {term} node {node}: {exc.message}", code="node-not-ready",
                               where=url) from None
            raise peer_error(exc, what=f"{term} of node {node}", where=url) from None
        except OSError as exc:
            raise peer_error(exc, what=f"{term} of node {node}", where=url) from None
