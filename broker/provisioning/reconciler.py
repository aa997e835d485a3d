"""The reconciler: moves every contract towards its desired state, one persisted step at a time.

Each step is written (with its event) before its side effect and its outcome after it, so a
reconciler that starts after a crash finds every contract where it was left: ``creating``
looks for a node already tagged with the contract before creating one (adopting it, or
deleting extras), ``configuring`` finds the scripts that already ran on the agent and does
not run them twice, ``deleting`` deletes whatever carries the contract's tag. Nodes that
carry this installation's tag but no live contract (orphans) are deleted by the sweep.

Provider calls happen outside any transaction; transient provider errors are retried with
exponential backoff up to ``max_attempts``; a permanent one fails the contract with the
provider's reason. Contracts run in parallel on a bounded pool; a contract is configured
only once every contract it depends on runs. When a deployment fails and the contract asks
for rollback, every other contract of its service is deleted.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from broker.provisioning.configure import AgentClient, AgentError, step_for
from broker.provisioning.imaging import take_image
from broker.provisioning.placement import Unplaceable
from broker.provisioning.records import C, I, ContractStore, needs_step, unreported
from broker.provisioning.specs import OWNER_TAG, SERVICE_TAG, node_spec
from broker.providers.base import CONTRACT_TAG, ProviderError
from occi.store.base import StaleWrite

__all__ = ["Reconciler", "OWNER_TAG", "SERVICE_TAG"]

log = logging.getLogger("accords.provisioning")

#: How often a reconciler reads every due contract whole (see :meth:`Reconciler.tick`).
SWEEP_SECONDS = 5.0


class Reconciler:
    def __init__(self, store, *, clouds, placement, tokens, reporter=None, holder: str, concurrency: int = 8,
                 interval: float = 0.5, lease_seconds: float = 120.0, max_attempts: int = 6,
                 backoff: float = 1.0, agent_timeout: float = 120.0, clock=time.time):
        self.contracts = ContractStore(store, clock=clock)
        self.clouds = clouds
        self.placement = placement
        self.tokens = tokens
        self.reporter = reporter
        self.holder = holder
        self.owner = tokens.token_for("installation")[:16]
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.agent_timeout = agent_timeout
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="reconcile")
        self._busy: set[str] = set()
        self._next_sweep = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running ------------------------------------------------------------------------------
    def start(self) -> "Reconciler":
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        try:
            self.sweep_orphans()
        except Exception:                            # noqa: BLE001 - a sweep must not stop the loop
            log.exception("orphan sweep failed")
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:                        # noqa: BLE001 - the store may be restarting
                log.exception("reconciler tick failed")
            # Woken once a request's transaction committed (or a step ended): look at once.
            if self._wake.wait(self.interval):
                self._wake.clear()

    def tick(self) -> int:
        """Start a step for every contract with one that is not already being worked on here; now
        and then (and first of all) read every due contract whole: reports left unsent by a crash
        go to the reporter, and contracts stored before ``step`` existed get their step."""
        started = 0
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + SWEEP_SECONDS
            for record in self.contracts.due():
                if needs_step(record.attributes):
                    started += self._start(record.location)
                elif self.reporter is not None and not self.reporter.holds(record.location):
                    self.reporter.submit(record)      # due only for a report: no step, no lease
        for location in self.contracts.with_steps():
            started += self._start(location)
        return started

    def _start(self, location: str) -> int:
        with self._lock:
            if location in self._busy:
                return 0
            self._busy.add(location)
        self._pool.submit(self._run, location)
        return 1

    def _run(self, location: str) -> None:
        try:
            while not self._stop.is_set() and self.advance(location):
                pass
        except Exception:                            # noqa: BLE001 - reported on the contract next time
            log.exception("reconciling %s failed", location)
        finally:
            with self._lock:
                self._busy.discard(location)
            self._wake.set()

    # -- one step -----------------------------------------------------------------------------
    def advance(self, location: str) -> bool:
        """One step of one contract; True when there is more to do right away."""
        record = self.contracts.claim(location, holder=self.holder, lease_seconds=self.lease_seconds)
        if record is None:
            return False
        try:
            record = self._report(record)
            a = record.attributes
            state, desired = a[C + "state"], a[C + "desired"]
            if desired == "deleted" and state not in ("deleting", "deleted"):
                return self._to(record, "deleting", what="delete", message="deleting the node")
            if desired == "stopped" and state in ("pending", "failed") and not a.get(C + "reference"):
                return self._to(record, "stopped", what="stop", message="nothing to stop: no node exists")
            if desired == "stopped" and state in ("creating", "configuring", "running", "starting", "failed"):
                return self._to(record, "stopping", what="stop", message="stopping the node")
            if desired == "running" and state == "stopped":
                if a.get(C + "reference"):
                    return self._to(record, "starting", what="start", message="starting the node")
                return self._to(record, "pending", what="start", message="no node yet: provisioning one")
            if a.get(C + "imaging") and state in ("running", "stopped") and desired == state:
                return take_image(self, record)
            handler = getattr(self, f"_{state}", None)
            return handler(record) if handler is not None else False
        except StaleWrite:
            return False                # someone changed the contract meanwhile: look again next tick

    def _to(self, record, state: str, *, what: str, message: str = "", outcome: str = "ok", **changes) -> bool:
        """The transition written (and handed to the reporter); whether there is more to do."""
        return needs_step(self._move(record, state, what=what, message=message, outcome=outcome,
                                     **changes).attributes)

    def _move(self, record, state: str, *, what: str, message: str = "", outcome: str = "ok", **changes):
        before = record.attributes[C + "state"]
        updated = self.contracts.write(record, {C + "state": state, C + "message": message or None,
                                                C + "attempts": 0, C + "retry": None, **changes},
                                       event={"what": what, "outcome": outcome, "message": message,
                                              "before": before, "after": state})
        return self._report(updated)

    def _retry(self, record, error: Exception, *, what: str) -> bool:
        attempts = (record.attributes.get(C + "attempts") or 0) + 1
        if attempts >= self.max_attempts:
            return self._fail(record, f"{what} failed {attempts} times; last: {error}")
        delay = self.backoff * 2 ** (attempts - 1)
        self.contracts.write(record, {C + "attempts": attempts, C + "retry": self.clock() + delay,
                                      C + "message": f"{what}: {error}; retrying in {delay:.0f} s"},
                             event={"what": what, "outcome": "retrying", "message": str(error)}, transition=False)
        return False

    def _fail(self, record, message: str) -> bool:
        a = record.attributes
        self._to(record, "failed", what="fail", outcome="failed", message=message)
        if a.get(C + "rollback") and a.get(C + "desired") == "running":
            # A shared node's failure fails the deployment of each of its users.
            groups = [u.get("group") for u in a.get(C + "users") or []] if a.get(C + "scope") == "common" \
                else [a.get(C + "group") or a.get(C + "service")]
            for group in filter(None, groups):
                self._roll_back(group, failed=a.get(C + "path") or a.get(C + "name"))
        return False

    def _roll_back(self, group: str, *, failed: str) -> None:
        def delete(attributes: dict) -> dict | None:
            shared = attributes.get(C + "scope") == "common"      # its other users keep it
            if shared or attributes.get(C + "rolledback"):
                return None
            return {C + "desired": "deleted", C + "rolledback": failed}

        for sibling in self.contracts.group(group):
            self.contracts.amend(sibling, delete, event={
                "what": "rollback", "message": f"node {failed} failed: rolling back the deployment"})
        self.contracts.release_shared(group, why=f"node {failed} failed: rolling back")
        self.wake()

    def _failed_peer(self, record) -> str | None:
        """The path of the failed node that rolled back this contract's deployment, if one did."""
        a = record.attributes
        if not a.get(C + "rollback") or a.get(C + "scope") == "common" or not a.get(C + "group"):
            return None
        return next((p.attributes[C + "rolledback"] for p in self.contracts.group(a[C + "group"])
                     if p.attributes.get(C + "rolledback")), None)

    def _report(self, record):
        """Hand an unreported transition to the reporter (which sends it off this thread)."""
        if self.reporter is not None and unreported(record.attributes):
            self.reporter.submit(record)
        return record

    # -- states -------------------------------------------------------------------------------
    def _pending(self, record) -> bool:
        a = record.attributes
        failed = self._failed_peer(record)
        if failed is not None:          # made after its deployment failed: the rollback missed it
            return self._to(record, "deleting", what="rollback", message=f"node {failed} failed: rolling back "
                            "the deployment", **{C + "desired": "deleted", C + "rolledback": failed})
        try:
            choice = self.placement.choose(node=a.get(C + "node") or {}, asked=a.get(C + "provider") or "any",
                                           contract=record.location)
        except Unplaceable as exc:
            return self._fail(record, str(exc))
        placed = self._move(record, "creating", what="place", message=choice.reason, **{
            C + "placed": choice.provider, C + "placement": choice.reason})
        return self._creating(placed, fresh=True)       # same lease: no create can have been tried

    def _creating(self, record, *, fresh: bool = False) -> bool:
        a = record.attributes
        cloud = self.clouds.get(a[C + "placed"])
        if cloud is None:
            return self._fail(record, f"provider {a[C + 'placed']!r} is no longer configured")
        driver = self.clouds.driver(cloud.name)
        try:
            # A create tried before (a crash, a retry) may have left a node: adopt it, never make two.
            found = [] if fresh else driver.list(tags={CONTRACT_TAG: record.id})
            running = [i for i in found if i.state == "running"]
            for extra in [i for i in found if i not in running[:1]]:
                driver.delete(extra.id)          # a failed or duplicate attempt: never two nodes per contract
            if running:
                instance, what = running[0], "adopt"
            else:
                spec = node_spec(record, token=self.tokens.token_for(record.id), owner=self.owner,
                                 image=a.get(C + "image") or cloud.image)
                instance, what = driver.create(spec), "create"
        except ProviderError as exc:
            if exc.transient:
                return self._retry(record, exc, what="create")
            return self._fail(record, f"{cloud.name} refused to create the node: {exc}")
        if a.get(C + "run"):              # a node made again: its configuration runs again
            self.contracts.reset_instructions(record.location, "configuration")
        made = self._move(record, "configuring", what=what, message=f"node {instance.id} runs on {cloud.name}", **{
            C + "run": (a.get(C + "run") or 0) + 1, C + "reference": instance.id,
            C + "hostname": (instance.addresses or [None])[0], C + "agent": instance.agent_url})
        return self._configuring(made)    # same lease: no claim in between

    def _starting(self, record) -> bool:
        a = record.attributes
        driver = self.clouds.driver(a[C + "placed"])
        try:
            instance = driver.start(a[C + "reference"])
        except ProviderError as exc:
            if exc.transient:
                return self._retry(record, exc, what="start")
            return self._fail(record, f"{a[C + 'placed']} refused to start node {a[C + 'reference']}: {exc}")
        self.contracts.reset_instructions(record.location, "configuration")
        started = self._move(record, "configuring", what="start", message="started; configuring again", **{
            C + "run": (a.get(C + "run") or 0) + 1, C + "hostname": (instance.addresses or [None])[0],
            C + "agent": instance.agent_url})
        return self._configuring(started)

    def _configuring(self, record) -> bool:
        a = record.attributes
        siblings = self.contracts.dependencies(record)
        waiting = []
        for name, other in siblings.items():
            state = other.attributes.get(C + "state") if other is not None else "missing"
            if state == "failed" and a.get(C + "rollback"):
                waiting.append(f"{name} (failed: the deployment rolls back)")
                continue                      # the rollback deletes this node: its failure is not ours
            if state in ("failed", "deleting", "deleted", "missing"):
                return self._fail(record, f"node {name}, which this node's configuration reads, is {state}")
            if state != "running":
                waiting.append(name)
        if waiting:
            message = f"waiting for {', '.join(waiting)} to run"
            if a.get(C + "message") != message:
                self.contracts.write(record, {C + "message": message}, transition=False)
            return False                      # a sibling reaching running wakes the loop
        values = {(name, prop): other.attributes.get(C + key) for name, other in siblings.items()
                  for prop, key in (("hostname", "hostname"), ("reference", "reference"), ("agent", "agent"))}
        values.update({(name, "contract"): other.location for name, other in siblings.items()})
        outcome = self._run_phase(record, "configuration", values)
        if outcome is not None:
            return outcome
        return self._to(record, "running", what="configure", message="", **{C + "started": self.clock()})

    def _run_phase(self, record, phase: str, values: dict, *, best_effort: bool = False) -> bool | None:
        """Run the phase's pending statements on the agent; None when all ran (or were skipped)."""
        a = record.attributes
        cloud = self.clouds.get(a.get(C + "placed"))
        statements = [s for s in self.contracts.instructions(record.location, phase)
                      if s.attributes.get(I + "state") == "pending"]
        if not statements:
            return None
        if cloud is not None and not cloud.agent or not a.get(C + "agent"):
            for statement in statements:
                self.contracts.update_instruction(statement, state="skipped",
                                                  result="the node runs no agent this component can reach")
            return None
        agent = AgentClient(a[C + "agent"], self.tokens.token_for(record.id))
        try:
            if not agent.ready(within=0 if best_effort else self.agent_timeout):
                if best_effort:
                    return None
                return self._fail(record, f"the node's agent at {a[C + 'agent']} did not answer within "
                                          f"{self.agent_timeout:.0f} s")
            for statement in statements:
                s = statement.attributes
                step = step_for(s.get(I + "method"), s.get(I + "arguments") or [], values)
                if step.skip is not None:
                    self.contracts.update_instruction(statement, state="skipped", result=step.skip)
                    continue
                name = f"{phase}-{a.get(C + 'run') or 0}-{s.get(I + 'index', 0)}"
                try:
                    result = agent.run(name, step, target=statement.location)
                except AgentError as exc:
                    if best_effort:
                        continue
                    if exc.transient:
                        return self._retry(record, exc, what=f"{phase} statement at line {s.get(I + 'line')}")
                    return self._fail(record, str(exc))
                state = result.get("occi.script.state")
                summary = result.get("occi.script.result") or state or "done"
                ok = state in ("done", "running")
                self.contracts.update_instruction(statement, state="done" if ok else "failed", result=summary)
                self.contracts.write(record, {}, transition=False, event={
                    "what": "instruction", "outcome": "ok" if ok else "failed",
                    "message": f"line {s.get(I + 'line')}: {s.get(I + 'method')} {step.syntax!r}: {summary}"})
                record = self.contracts.get(record.location) or record
                if not ok and not best_effort:
                    tail = " | ".join((result.get("occi.script.output") or [])[-3:])
                    return self._fail(record, f"{s.get(I + 'method')}({step.syntax!r}) at line {s.get(I + 'line')} "
                                              f"ended with {summary}" + (f": {tail}" if tail else ""))
        finally:
            agent.close()
        return None

    def _stopping(self, record) -> bool:
        a = record.attributes
        if a.get(C + "reference"):
            self._run_phase(record, "release", {}, best_effort=True)
            record = self.contracts.get(record.location) or record
            try:
                self.clouds.driver(a[C + "placed"]).stop(a[C + "reference"])
            except ProviderError as exc:
                if exc.transient:
                    return self._retry(record, exc, what="stop")
                # The node runs on: it is what the contract should be again, or it would ask forever.
                return self._to(record, "failed", what="stop", outcome="failed", **{C + "desired": "running"},
                                message=f"{a[C + 'placed']} refused to stop node {a[C + 'reference']}: {exc}")
        self.contracts.reset_instructions(record.location, "release")
        return self._to(record, "stopped", what="stop", message="", **{C + "agent": None})

    def _deleting(self, record) -> bool:
        a = record.attributes
        placed = a.get(C + "placed")
        if placed and self.clouds.get(placed) is not None:
            if a.get(C + "agent") and a.get(C + "state") == "deleting":
                self._run_phase(record, "release", {}, best_effort=True)
                record = self.contracts.get(record.location) or record
            driver = self.clouds.driver(placed)
            try:
                for instance in driver.list(tags={CONTRACT_TAG: record.id}):
                    driver.delete(instance.id)
                if a.get(C + "reference"):
                    driver.delete(a[C + "reference"])
            except ProviderError as exc:
                if exc.transient:
                    return self._retry(record, exc, what="delete")
                return self._fail(record, f"{placed} refused to delete node {a.get(C + 'reference')}: {exc}")
        return self._to(record, "deleted", what="delete", message="", **{C + "agent": None, C + "hostname": None})

    # -- orphans ------------------------------------------------------------------------------
    def sweep_orphans(self) -> list[str]:
        """Delete the nodes this installation created for contracts that are gone or deleted."""
        # Listed before the contracts are read: a node listed here was created for a contract
        # that already existed, so a contract made meanwhile never loses its new node.
        listed = []
        for name in self.clouds.names():
            try:
                listed.append((name, self.clouds.driver(name).list(tags={OWNER_TAG: self.owner})))
            except ProviderError as exc:
                log.warning("orphan sweep of %s: %s", name, exc)
        live = {r.id for r in self.contracts.all_contracts() if r.attributes.get(C + "state") != "deleted"}
        removed = []
        for name, instances in listed:
            driver = self.clouds.driver(name)
            for instance in instances:
                if instance.contract in live:
                    continue
                try:
                    driver.delete(instance.id)
                except ProviderError as exc:
                    log.warning("orphan %s on %s: %s", instance.id, name, exc)
                    continue
                removed.append(instance.id)
                log.warning("deleted orphan node %s on %s (contract %s)", instance.id, name, instance.contract)
        return removed
