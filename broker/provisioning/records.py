"""The reconciler's view of the provisioning store: contracts, their instructions and events.

Every write is one short transaction with an optimistic version check: a contract is
claimed with a lease (so one reconciler works on it at a time, and another takes over
when the lease runs out after a crash), and each transition is written, with its event,
*before* the side effect it announces.
"""
from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit
from dataclasses import replace

from broker.provisioning.model import BUSY, CONTRACT, EVENT, INSTRUCTION
from occi.store.base import EntityRecord, Query, StaleWrite

__all__ = ["ContractStore", "mark_due", "needs_step", "unreported", "C", "I", "instruction_records", "event_record"]

C = "occi.contract."
I = "occi.instruction."


def mark_due(attributes: dict) -> dict:
    """Set ``due`` (something to do: a step or a report) and ``step`` (a step) on a contract's
    attributes. ``step`` lets the reconciler find its work by the index alone, without reading
    every due contract each time it looks."""
    attributes[C + "step"] = needs_step(attributes)
    attributes[C + "due"] = attributes[C + "step"] or unreported(attributes)
    return attributes


def unreported(attributes: dict) -> bool:
    return (attributes.get(C + "reported") or 0) < (attributes.get(C + "sequence") or 0)


def needs_step(attributes: dict) -> bool:
    """Whether the contract's state machine has a step to take."""
    state, desired = attributes.get(C + "state"), attributes.get(C + "desired")
    if attributes.get(C + "imaging") and state in ("running", "stopped"):
        return True
    if state in BUSY:
        return True
    if desired == "running":
        return state not in ("running", "failed")
    if desired == "stopped":
        return state != "stopped"
    return state != "deleted"


#: What the reporter writes on a contract: a step that read the contract before is not stale for it.
_BOOKKEEPING = frozenset({C + "reported", C + "due", C + "step"})


def _bookkeeping_only(before: dict, now: dict) -> bool:
    """Whether ``now`` differs from ``before`` in bookkeeping only."""
    return all(before.get(key) == now.get(key) for key in before.keys() | now.keys() if key not in _BOOKKEEPING)


def instruction_records(contract: EntityRecord, *, owner: str | None) -> list[EntityRecord]:
    """The instructions of a new contract, from its compiled configuration."""
    records = []
    for statement in contract.attributes.get(C + "configuration") or []:
        ident = uuid.uuid4()
        attributes = {I + "nature": statement.get("phase", "configuration"), I + "type": "method",
                      I + "method": statement["method"], I + "arguments": statement.get("arguments", []),
                      I + "index": statement.get("index", 0), I + "target": contract.location,
                      I + "line": statement.get("line", 0), I + "state": "pending"}
        ref = next((arg for arg in statement.get("arguments", []) if isinstance(arg, list) and arg[:1] == ["ref"]),
                   None)
        if ref is not None:
            attributes.update({I + "symbol": ref[1], I + "property": ref[2]})
        records.append(EntityRecord(location=f"{INSTRUCTION.location}{ident}", id=f"urn:uuid:{ident}",
                                    kind=INSTRUCTION.type_id, attributes=attributes, owner=owner))
    return records


def event_record(location: str, attributes: dict, *, owner: str | None, at: float, what: str, outcome: str = "ok",
                 message: str = "", who: str = "reconciler", before: str | None = None,
                 after: str | None = None) -> EntityRecord:
    """An ``event`` of the contract at ``location`` (with these attributes)."""
    ident = uuid.uuid4()
    values = {"occi.event.service": attributes.get(C + "service"), "occi.event.contract": location,
              "occi.event.node": attributes.get(C + "name"), "occi.event.what": what, "occi.event.outcome": outcome,
              "occi.event.message": message[:2000], "occi.event.who": who, "occi.event.at": at,
              "occi.event.from": before, "occi.event.to": after}
    return EntityRecord(location=f"{EVENT.location}{ident}", id=f"urn:uuid:{ident}", kind=EVENT.type_id,
                        attributes={k: v for k, v in values.items() if v is not None}, owner=owner)


class ContractStore:
    def __init__(self, store, *, clock=time.time):
        self.store = store
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------
    def due(self, *, limit: int = 200) -> list[EntityRecord]:
        """Contracts with something to do (a step or a report), read whole."""
        with self.store.session(readonly=True) as session:
            return session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "due": True}, limit=limit))

    def with_steps(self, *, limit: int = 1000) -> list[str]:
        """Locations of the contracts with a step to take (found by the index; nothing decoded)."""
        with self.store.session(readonly=True) as session:
            return session.list_locations(Query(kinds=[CONTRACT.type_id], attributes={C + "step": True},
                                                limit=limit))

    def get(self, location: str) -> EntityRecord | None:
        with self.store.session(readonly=True) as session:
            return session.get(location)

    def all_contracts(self) -> list[EntityRecord]:
        with self.store.session(readonly=True) as session:
            return session.list(Query(kinds=[CONTRACT.type_id]))

    def siblings(self, service: str) -> dict[str, EntityRecord]:
        with self.store.session(readonly=True) as session:
            found = session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "service": service}))
        return {record.attributes.get(C + "name"): record for record in found}

    def dependencies(self, record: EntityRecord) -> dict[str, EntityRecord | None]:
        """The contracts ``record``'s configuration reads, by path (None: gone). Contracts made
        without ``reads`` name their siblings in ``depends``."""
        a = record.attributes
        reads = a.get(C + "reads") or {}
        if reads:
            with self.store.session(readonly=True) as session:
                return {path: session.get(urlsplit(location).path) for path, location in reads.items()}
        siblings = self.siblings(a.get(C + "service")) if a.get(C + "service") else {}
        return {name: siblings.get(name) for name in a.get(C + "depends") or []}

    def group(self, group: str) -> list[EntityRecord]:
        """The contracts of one deployment (a root service and the services nested in it)."""
        with self.store.session(readonly=True) as session:
            found = session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "group": group}))
            if not found:        # contracts made before groups existed: the service's own
                found = session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "service": group}))
        return found

    def release_shared(self, group: str, *, why: str) -> int:
        """A rolled back deployment stops using the shared nodes it attached to (the last user out
        deletes the node). How many it used."""
        with self.store.session(readonly=True) as session:
            shared = session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "scope": "common"}))
        released = 0
        for record in shared:
            if not any(u.get("group") == group for u in record.attributes.get(C + "users") or []):
                continue

            def detach(attributes: dict) -> dict | None:
                users = attributes.get(C + "users") or []
                left = [u for u in users if u.get("group") != group]
                if len(left) == len(users):
                    return None                       # released meanwhile (a retried rollback)
                return {C + "users": left, C + "service": left[-1]["service"]} if left else {
                    C + "desired": "deleted", C + "users": [{**users[-1], "releasing": True}]}

            changed = self.amend(record, detach, event=lambda a: {
                "what": "detach", "message": f"{why}: {group} no longer uses the node "
                                             f"({len(a.get(C + 'users') or []) - 1} left)"})
            released += changed is not None
        return released

    def amend(self, record: EntityRecord, changes_for, *, event=None, transition: bool = True,
              attempts: int = 50) -> EntityRecord | None:
        """Apply ``changes_for(attributes)`` to the contract, reading it again each time another
        writer (a reconciler busy with its own step, whose next write then fails and looks again)
        got there first. None when the contract is gone or needs no change.

        A lost write here would be a lost rollback or release, so it is retried far beyond any
        real contention; persisting contention is a bug worth an exception."""
        for _ in range(attempts):
            changes = changes_for(record.attributes)
            if not changes:
                return None
            try:
                return self.write(record, changes, event=event(record.attributes) if callable(event) else event,
                                  transition=transition)
            except StaleWrite:
                time.sleep(0.005)
                record = self.get(record.location)
                if record is None:
                    return None
        raise StaleWrite(f"{record.location}: still changing after {attempts} attempts")

    def instructions(self, contract: str, phase: str) -> list[EntityRecord]:
        with self.store.session(readonly=True) as session:
            found = session.list(Query(kinds=[INSTRUCTION.type_id],
                                       attributes={I + "target": contract, I + "nature": phase}))
        return sorted(found, key=lambda r: r.attributes.get(I + "index", 0))

    # -- writing ----------------------------------------------------------------------------
    def claim(self, location: str, *, holder: str, lease_seconds: float) -> EntityRecord | None:
        """The contract, leased to ``holder``; None when another holds it, or it has nothing due."""
        now = self.clock()
        try:
            with self.store.session() as session:
                record = session.get(location)
                if record is None or not record.attributes.get(C + "due"):
                    return None
                if float(record.attributes.get(C + "retry") or 0) > now:
                    return None
                lease = record.attributes.get(C + "lease") or ""
                owner, _, until = lease.rpartition("@")
                if owner and owner != holder and float(until or 0) > now:
                    return None
                attributes = {**record.attributes, C + "lease": f"{holder}@{now + lease_seconds:.3f}"}
                return session.update(replace(record, attributes=attributes), expected_version=record.version)
        except StaleWrite:
            return None

    def write(self, record: EntityRecord, changes: dict, *, event: dict | None = None,
              transition: bool = True) -> EntityRecord:
        """``changes`` applied to ``record`` (which must be current: else StaleWrite), with ``event``.

        A transition (a change users see) bumps the contract's sequence, so it is reported. A
        contract changed meanwhile only by the reporter (which records what it reported) is not
        a conflict: the changes are applied to it as it is now."""
        for _ in range(8):
            try:
                return self._write(record, changes, event=event, transition=transition)
            except StaleWrite:
                current = self.get(record.location)
                if current is None or not _bookkeeping_only(record.attributes, current.attributes):
                    raise
                record = current
        raise StaleWrite(f"{record.location}: still changing after 8 attempts")

    def _write(self, record: EntityRecord, changes: dict, *, event: dict | None, transition: bool) -> EntityRecord:
        attributes = {**record.attributes, **changes}
        if transition:
            attributes[C + "sequence"] = (attributes.get(C + "sequence") or 0) + 1
        mark_due(attributes)
        with self.store.session() as session:
            updated = session.update(replace(record, attributes=attributes), expected_version=record.version)
            if event is not None:
                session.insert(self.event_record(updated, **event))
        return updated

    def event_record(self, contract: EntityRecord, **event) -> EntityRecord:
        return event_record(contract.location, contract.attributes, owner=contract.owner, at=self.clock(), **event)

    def update_instruction(self, record: EntityRecord, *, state: str, result: str) -> None:
        with self.store.session() as session:
            current = session.get(record.location)
            if current is None:
                return
            session.update(replace(current, attributes={**current.attributes, I + "state": state,
                                                        I + "result": result[:2000]}),
                           expected_version=current.version)

    def reset_instructions(self, contract: str, phase: str) -> None:
        for record in self.instructions(contract, phase):
            self.update_instruction(record, state="pending", result="")
