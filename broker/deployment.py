"""A plan's nodes made real: one contract per simple node, a nested service per complex node, one
shared contract per common node.

:class:`Deployment` instantiates one service (and, recursively, the services nested in it)
inside the broker's transaction: nested services are stored with their parent, contracts are
made at the provisioning component as the caller. It keeps every contract it made or attached
to, so that a failure half-way undoes exactly that (:meth:`Deployment.undo`).

Where things are found:

- a node's contract is at ``/contract/uuid5(service location # node)``: a retried request
  cannot make two;
- a common node's at ``/contract/uuid5(common # account # manifest # node)``, or for a public
  one ``... # public # node``: every service of the account that declares it finds the same
  one (sharing never crosses accounts);
- what a node's configuration reads (``configure(inner.db.hostname)``) is resolved here, to
  the contract of that path, and sent with the contract as ``reads``: the reconciler waits
  for those contracts and reads their values, wherever they sit in the tree.
"""
from __future__ import annotations

import contextvars
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from broker.model import SERVICE
from cords.model.plan import PLAN
from occi.errors import BadRequest, NotFound, OcciError
from occi.store.base import EntityRecord

__all__ = ["Deployment", "contract_location", "common_location", "CONTRACT_TYPE", "CONTRACT_ACTIONS"]

#: The contract kind at the provisioning component (by type id: the broker never imports it).
CONTRACT_TYPE = "http://scheme.compatibleone.fr/scheme/compatible#contract"
CONTRACT_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/contract/action#"
_NAMESPACE = uuid.UUID("4b0f7d8e-5c1a-4f57-9d8e-6a1c0c2b7e51")
S = "occi.service."
#: Requests sent at once to the provisioning component (its workers × threads serve them).
PARALLEL_REQUESTS = 8
#: Contracts in one request, and their size at most (a body is at most 1 MiB).
BATCH_CONTRACTS = 25
BATCH_BYTES = 256 * 1024
#: How deep complex nodes may nest (a manifest naming itself is refused before that).
MAX_DEPTH = 8


def contract_location(service_location: str, node: str) -> str:
    """Where the contract of ``node`` of a service lives: derived, so creating it twice is harmless."""
    return f"/contract/{uuid.uuid5(_NAMESPACE, service_location + '#' + node)}"


def common_location(*, account: str, manifest: str, node: dict) -> str:
    """Where the shared contract of a common node lives: the same for every service that shares it."""
    scope = "public" if node.get("access") == "public" else f"manifest#{manifest}"
    key = f"common#{account}#{scope}#{node['name']}"
    return f"/contract/{uuid.uuid5(_NAMESPACE, key)}"


def _statements(compiled: dict) -> dict[str, list]:
    """Each node's statements (configuration then release), with phase and index."""
    statements: dict[str, list] = {node["name"]: [] for node in compiled["nodes"]}
    for phase in ("configuration", "release"):
        counters: dict[str, int] = {}
        for statement in compiled["instructions"].get(phase, []):
            index = counters.get(statement["node"], 0)
            counters[statement["node"]] = index + 1
            statements[statement["node"]].append({**statement, "phase": phase, "index": index})
    return statements


def _read_paths(statements: list) -> list[str]:
    """The node paths a node's configuration reads (``configure(X.hostname)``), in order."""
    paths: list[str] = []
    for statement in statements:
        if statement.get("phase") != "configuration":
            continue
        for argument in statement.get("arguments") or []:
            if isinstance(argument, list) and argument[:1] == ["ref"] and argument[1] not in paths:
                paths.append(argument[1])
    return paths


def _batches(queued: list[tuple[str, dict]]) -> list[list[tuple[str, dict]]]:
    """The contracts in requests of at most :data:`BATCH_CONTRACTS` and :data:`BATCH_BYTES` (a
    request body is at most 1 MiB)."""
    batches: list[list[tuple[str, dict]]] = []
    size = 0
    for item in queued:
        length = len(json.dumps(item[1], default=str))
        if not batches or len(batches[-1]) >= BATCH_CONTRACTS or size + length > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += length
    return batches


class Deployment:
    """One ``service create`` (or ``plan?action=instance``): the contracts and nested services it makes."""

    def __init__(self, *, client, base: str, ctx):
        self.client = client          # the provisioning component, as the caller
        self.base = base
        self.ctx = ctx
        self.made: list[str] = []     # contracts this deployment created
        self.attached: list[tuple[str, str]] = []   # (shared contract, service) it attached
        self.peer_failed = False
        self._queued: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    # -- the tree -----------------------------------------------------------------------------
    def instantiate(self, entity, plan: EntityRecord, *, root: str, depth: int = 0) -> None:
        """Fill ``entity`` (a new service, not stored yet) from ``plan``: its nodes made real."""
        compiled = plan.attributes["occi.plan.compiled"]
        a = entity.attributes
        service_url = self.ctx.urls.absolute(entity.location)
        statements = _statements(compiled)
        nodes: dict[str, dict] = {}
        # Nested services first, and every contract's location: a node's configuration may
        # read any node of the tree, so what it reads must be known when its contract is made.
        for node in compiled["nodes"]:
            name = node["name"]
            if node["type"] != "simple":
                child = self._nested(entity, node, root=root, depth=depth)
                self.ctx.session.insert(child)        # same transaction: gone again if anything fails
                nodes[name] = {"service": self.ctx.urls.absolute(child.location), "nested": True,
                               "state": child.attributes[S + "state"], "sequence": 0}
            elif node["scope"] == "common":
                location = common_location(account=entity.owner, manifest=compiled["manifest"], node=node)
                nodes[name] = {"contract": self.base + location, "state": "pending", "sequence": 0, "shared": True}
            else:
                location = contract_location(entity.location, name)
                nodes[name] = {"contract": self.base + location, "state": "pending", "sequence": 0}
        for node in compiled["nodes"]:
            entry = nodes[node["name"]]
            if entry.get("nested"):
                continue
            attributes = self._contract(entity, node, statements[node["name"]], nodes)
            attributes["occi.contract.group"] = root
            if entry.get("shared"):
                self._share(entry["contract"], attributes, service=service_url, group=root)
            else:
                self._make(entry["contract"], attributes)
        if depth == 0:
            self.flush()
        now = int(time.time())
        a[S + "contracts"] = {name: entry.get("contract") or entry["service"] for name, entry in nodes.items()}
        a[S + "nodes"] = nodes
        a.update({S + "state": "deploying", S + "created": now, S + "changed": now})

    def _contract(self, entity, node: dict, statements: list, nodes: dict) -> dict:
        a = entity.attributes
        prefix = f"{a[S + 'node']}." if a.get(S + "parent") else ""
        reads: dict[str, str] = {}
        private: list[str] = []
        for path in _read_paths(statements):
            url, shared = self._resolve(path, nodes, node=node["name"])
            if url is not None:
                reads[path] = url
                if not shared:
                    private.append(path)
        if node["scope"] == "common" and private:
            raise BadRequest(f"shared node {node['name']} reads {', '.join(private)}, which belong to one service: "
                             "a shared node may read shared nodes only", code="common-reads-private",
                             where=f"node {node['name']}")
        return {
            "occi.contract.name": node["name"], "occi.contract.service": self.ctx.urls.absolute(entity.location),
            "occi.contract.plan": a[S + "plan"], "occi.contract.node": node,
            "occi.contract.configuration": statements, "occi.contract.depends": sorted(reads),
            "occi.contract.reads": reads, "occi.contract.path": prefix + node["name"],
            "occi.contract.scope": node["scope"],
            "occi.contract.provider": a.get(S + "provider") or node.get("provider") or "any",
            "occi.contract.rollback": a.get(S + "rollback", True),
        }

    def _resolve(self, path: str, nodes: dict, *, node: str) -> tuple[str | None, bool]:
        """The contract a node path names, through nested services, and whether it is shared
        (None: the path names a complex node itself, which has no address to wait for)."""
        head, _, rest = path.partition(".")
        entry = nodes.get(head)
        if entry is None:
            raise BadRequest(f"node {node} reads {path}, but the service has no node {head!r} (a node may read "
                             "the nodes declared before it is made: complex and shared ones, and its siblings)",
                             code="unknown-node", where=f"node {node}")
        if not entry.get("nested"):
            return entry["contract"], bool(entry.get("shared"))
        if not rest:
            return None, False
        child = self.ctx.session.get(self.ctx.urls.local_path(entry["service"], where=f"node {node}"))
        return self._resolve(rest, child.attributes[S + "nodes"], node=node)

    def _nested(self, parent, node: dict, *, root: str, depth: int) -> EntityRecord:
        """The service a complex node becomes, filled (not stored: the caller stores it)."""
        where = f"node {node['name']}"
        if depth + 1 >= MAX_DEPTH:
            raise BadRequest(f"complex node {node['name']} nests services {MAX_DEPTH} deep: does a manifest "
                             "contain itself?", code="nesting-too-deep", where=where)
        given = node.get("plan")
        if not given:
            raise BadRequest(f"complex node {node['name']} names manifest {node.get('manifest')!r}, which has no "
                             "plan here: submit that manifest first", code="no-nested-plan", where=where)
        path = self.ctx.urls.local_path(given, where=where)
        plan = self.ctx.session.get(path) if path is not None else None
        if plan is None or plan.kind != PLAN.type_id:
            raise NotFound(f"the plan of complex node {node['name']} ({given}) is gone: submit manifest "
                           f"{node.get('manifest')!r} again", code="no-nested-plan", where=where)
        p = parent.attributes
        ident = uuid.uuid4()
        child = EntityRecord(location=f"{SERVICE.location}{ident}", id=f"urn:uuid:{ident}", kind=SERVICE.type_id,
                             owner=parent.owner, attributes={
                                 S + "plan": self.ctx.urls.absolute(plan.location),
                                 S + "name": f"{p.get(S + 'name')}.{node['name']}",
                                 S + "parent": self.ctx.urls.absolute(parent.location), S + "node": node["name"],
                                 S + "account": parent.owner, S + "rollback": p.get(S + "rollback", True)})
        if p.get(S + "provider"):
            child.attributes[S + "provider"] = p[S + "provider"]
        if plan.attributes.get("occi.plan.manifest"):
            child.attributes[S + "manifest"] = plan.attributes["occi.plan.manifest"]
        self.instantiate(child, plan, root=root, depth=depth + 1)
        return child

    def copy(self, entity, plan: EntityRecord, *, node: str, copy: str, root: str) -> str:
        """A contract for ``copy``, a copy of simple node ``node`` of ``entity`` (scale up): configured
        as the node is; its failure fails the copy, never rolls back the service. Its URL."""
        compiled = plan.attributes["occi.plan.compiled"]
        spec = next(n for n in compiled["nodes"] if n["name"] == node)
        attributes = self._contract(entity, {**spec, "name": copy}, _statements(compiled)[node],
                                    entity.attributes.get(S + "nodes") or {})
        attributes.update({"occi.contract.group": root, "occi.contract.rollback": False})
        url = self.base + contract_location(entity.location, copy)
        self._make(url, attributes)
        self.flush()
        return url

    # -- at the provisioning component ----------------------------------------------------
    def _peer(self, call, *args, **kwargs):
        """A call to the provisioning component; its failure is the peer's, not the plan's."""
        try:
            return call(*args, **kwargs)
        except (OcciError, OSError):
            self.peer_failed = True
            raise

    def _make(self, url: str, attributes: dict) -> None:
        """Queue a contract: :meth:`flush` makes the queued ones at once (a 100-node plan is not
        100 round trips in a row)."""
        self._queued.append((url, attributes))

    def flush(self) -> None:
        """Make the queued contracts: several in each request (all or none of a request), several
        requests at a time; the first failure is raised once all are done (what was made is in
        ``made``, for :meth:`undo`)."""
        queued, self._queued = self._queued, []
        batches = _batches(queued)

        def make(batch: list[tuple[str, dict]]) -> None:
            if len(batch) == 1:
                self._peer(self.client.replace, batch[0][0], kind=CONTRACT_TYPE, attributes=batch[0][1])
            else:
                self._peer(self.client.create_many, CONTRACT_TYPE, [
                    {"id": f"urn:uuid:{url.rsplit('/', 1)[1]}", "attributes": attributes} for url, attributes in batch])
            with self._lock:
                self.made.extend(url for url, _ in batch)

        if len(batches) <= 1:
            for batch in batches:
                make(batch)
            return
        errors = []
        with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(batches)), thread_name_prefix="contracts") as pool:
            # Each in a copy of this context: the request id goes on with every request.
            for future in [pool.submit(contextvars.copy_context().run, make, batch) for batch in batches]:
                error = future.exception()
                if error is not None:
                    errors.append(error)
        if errors:
            raise errors[0]

    def _share(self, url: str, attributes: dict, *, service: str, group: str) -> None:
        """Attach to the shared contract at ``url``, making it first if nobody has."""
        try:
            self.client.get(url)
        except (OcciError, OSError) as exc:
            if not isinstance(exc, NotFound):
                self.peer_failed = True
                raise
            try:
                self.client.replace(url, kind=CONTRACT_TYPE, attributes=attributes)
                self.attached.append((url, service))
                return
            except OcciError:
                pass              # another service made it meanwhile: attach to that one
        self._peer(self.client.action, url, "attach", scheme=CONTRACT_ACTIONS, service=service, group=group)
        self.attached.append((url, service))

    def undo(self) -> None:
        """Delete the contracts made, detach from the shared ones: the failed request leaves nothing."""
        for url in self.made:
            try:
                self.client.action(url, "delete", scheme=CONTRACT_ACTIONS)
            except (OcciError, OSError):
                pass          # the contract stays pending-delete at worst; its reconciler owns it
        for url, service in self.attached:
            try:
                self.client.action(url, "detach", scheme=CONTRACT_ACTIONS, service=service, release="delete")
            except (OcciError, OSError):
                pass
