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

import time
import uuid
from urllib.parse import urlsplit

from broker.gateway import Gateway, peer_error
from broker.model import SERVICE, SERVICE_DELETE, derive_state
from cords.model.plan import PLAN
from occi.errors import BadRequest, Conflict, Forbidden, NotFound, NotImplementedByServer, OcciError
from occi.store.base import EntityRecord

__all__ = ["Services", "CONTRACT_TYPE", "contract_location"]

#: The contract kind at the provisioning component (by type id: the broker never imports it).
CONTRACT_TYPE = "http://scheme.compatibleone.fr/scheme/compatible#contract"
_CONTRACT_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/contract/action#"
_NAMESPACE = uuid.UUID("4b0f7d8e-5c1a-4f57-9d8e-6a1c0c2b7e51")
S = "occi.service."


def contract_location(service_location: str, node: str) -> str:
    """Where the contract of ``node`` of a service lives: derived, so creating it twice is harmless."""
    return f"/contract/{uuid.uuid5(_NAMESPACE, service_location + '#' + node)}"


def _by_node(compiled: dict) -> tuple[dict[str, list], dict[str, list[str]]]:
    """Each node's statements (configuration then release, with phase and index) and dependencies."""
    statements: dict[str, list] = {node["name"]: [] for node in compiled["nodes"]}
    for phase in ("configuration", "release"):
        counters: dict[str, int] = {}
        for statement in compiled["instructions"].get(phase, []):
            index = counters.get(statement["node"], 0)
            counters[statement["node"]] = index + 1
            statements[statement["node"]].append({**statement, "phase": phase, "index": index})
    depends: dict[str, list[str]] = {name: [] for name in statements}
    for node, dependency in compiled["edges"]:
        if dependency not in depends[node]:
            depends[node].append(dependency)
    return statements, depends


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
        for node in compiled["nodes"]:
            if node["type"] != "simple":
                raise NotImplementedByServer(
                    f"node {node['name']} is a complex node (a nested manifest {node.get('manifest')!r}); this broker "
                    "does not instantiate nested services yet", code="complex-node", where=f"node {node['name']}")
            if node["scope"] == "common":
                raise NotImplementedByServer(
                    f"node {node['name']} is a common node; this broker does not share contracts between services "
                    "yet", code="common-node", where=f"node {node['name']}")
        statements, depends = _by_node(compiled)
        base = self.provisioning.base_url()
        service_url = ctx.urls.absolute(entity.location)
        client = self.provisioning.as_caller(ctx.authorization, base_url=base)
        contracts: dict[str, str] = {}
        try:
            for node in compiled["nodes"]:
                name = node["name"]
                location = contract_location(entity.location, name)
                attributes = {
                    "occi.contract.name": name, "occi.contract.service": service_url,
                    "occi.contract.plan": a[S + "plan"], "occi.contract.node": node,
                    "occi.contract.configuration": statements[name], "occi.contract.depends": depends[name],
                    "occi.contract.provider": a.get(S + "provider") or node.get("provider") or "any",
                    "occi.contract.rollback": a.get(S + "rollback", True),
                }
                client.replace(base + location, kind=CONTRACT_TYPE, attributes=attributes)
                contracts[name] = base + location
        except (OcciError, OSError) as exc:
            self._undo(client, contracts.values())
            raise peer_error(exc, what=f"creating the contracts of {a[S + 'name']}") from None
        now = int(time.time())
        a[S + "contracts"] = contracts
        a[S + "nodes"] = {name: {"contract": url, "state": "pending", "sequence": 0} for name, url in contracts.items()}
        a.update({S + "state": "deploying", S + "created": now, S + "changed": now})
        ctx.response_headers.setdefault("X-Accords-Contracts", str(len(contracts)))

    @staticmethod
    def _undo(client, contracts) -> None:
        for url in contracts:
            try:
                client.action(url, "delete", scheme=_CONTRACT_ACTIONS)
            except (OcciError, OSError):
                pass          # the contract stays pending-delete at worst; its reconciler owns it

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
        """start, stop, restart, delete: passed on to every contract, as the caller."""
        a = entity.attributes
        contracts = a.get(S + "contracts") or {}
        nodes = a.get(S + "nodes") or {}
        if contracts:
            # Wherever the provisioning component is published now (it may have moved).
            base = self.provisioning.base_url()
            client = self.provisioning.as_caller(ctx.authorization, base_url=base)
        for name, url in sorted(contracts.items()):
            if action is SERVICE_DELETE and (nodes.get(name) or {}).get("state") == "deleted":
                continue
            try:
                client.action(base + urlsplit(url).path, action.term, scheme=_CONTRACT_ACTIONS)
            except OcciError as exc:
                if exc.code == "action-not-applicable":
                    raise Conflict(f"cannot {action.term} node {name}: {exc.message}", code="node-not-ready",
                                   where=url) from None
                raise peer_error(exc, what=f"{action.term} of node {name}", where=url) from None
            except OSError as exc:
                raise peer_error(exc, what=f"{action.term} of node {name}", where=url) from None
        transitional = {"start": "starting", "stop": "stopping", "restart": "starting", "delete": "deleting"}
        a[S + "state"] = transitional[action.term]
        a[S + "message"] = None
        a[S + "failure"] = None        # a user's action starts a new story
        a[S + "changed"] = int(time.time())

    def report(self, entity, action, parameters, ctx) -> None:
        """What a contract says of itself; older reports than the one kept are ignored."""
        a = entity.attributes
        node = parameters["node"]
        contracts = a.get(S + "contracts") or {}
        if urlsplit(contracts.get(node) or "").path != urlsplit(parameters["contract"]).path:
            raise BadRequest(f"{parameters['contract']} is not the contract of node {node!r} of {entity.location}",
                             code="not-this-service", where="contract")
        nodes = dict(a.get(S + "nodes") or {})
        kept = nodes.get(node) or {}
        if parameters["sequence"] <= kept.get("sequence", 0):
            return
        nodes[node] = {key: parameters.get(key) or None for key in ("state", "message", "provider", "hostname",
                                                                     "agent", "reference")}
        nodes[node].update(contract=contracts[node], sequence=parameters["sequence"])
        a[S + "nodes"] = nodes
        current = a.get(S + "state") or "deploying"
        if parameters["state"] == "failed" and not a.get(S + "failure") and current in ("deploying", "starting"):
            a[S + "failure"] = f"node {node} failed: {parameters.get('message') or 'no reason given'}"
        state, message = derive_state(current, nodes, failure=a.get(S + "failure"))
        if state != current:
            a[S + "changed"] = int(time.time())
        a[S + "state"], a[S + "message"] = state, message

    def delete(self, entity, ctx) -> None:
        """DELETE /service/ID forgets a service only once its nodes are gone (?action=delete first)."""
        live = [name for name, report in (entity.attributes.get(S + "nodes") or {}).items()
                if report.get("state") != "deleted"]
        if live:
            raise Conflict(f"{entity.location} still has {len(live)} node(s) ({', '.join(sorted(live)[:5])}); "
                           "delete them first with POST ?action=delete", code="service-has-nodes",
                           where=entity.location)
