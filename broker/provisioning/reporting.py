"""Reports off the reconciler's path: what a contract became goes to its service(s) from one
thread per worker, coalesced (only the newest of a contract is sent) and batched (one request
per service carries every contract of it that changed).

Why: a report is an HTTP request to the broker, and each used to sit between a step and the
next (three per node on its way to running), and many nodes of one service reporting at once
kept colliding on that service's record. Now a step hands its record over and goes on.

Nothing is lost on a crash: a contract records the sequence last reported (``reported``), and
one with an unreported transition stays due, so the reconciler hands it over again after a
restart. A report that could not be delivered is tried again with backoff.
"""
from __future__ import annotations

import logging
import threading
import time

from broker.provisioning.records import C, ContractStore
from occi.store.base import EntityRecord

__all__ = ["Reporter"]

log = logging.getLogger(__name__)


class Reporter:
    """``send(records) -> set of delivered locations`` called from a thread of its own."""

    def __init__(self, contracts: ContractStore, send, *, backoff: float = 0.2, max_backoff: float = 5.0,
                 clock=time.monotonic):
        self.contracts = contracts
        self.send = send
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self._pending: dict[str, list[EntityRecord]] = {}   # location -> what to report of it, oldest first
        self._failures: dict[str, tuple[int, float]] = {}  # location -> (failures, not before)
        self._sending: set[str] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = False
        self._thread: threading.Thread | None = None

    # -- handing over ---------------------------------------------------------------------------
    def submit(self, record: EntityRecord) -> None:
        """Report ``record`` (unless a newer one of the contract is already waiting)."""
        with self._lock:
            if _queue(self._pending.setdefault(record.location, []), record):
                self._changed.notify()

    def holds(self, location: str) -> bool:
        """Whether a report of this contract is waiting or on its way (the reconciler need not hand it over)."""
        with self._lock:
            return location in self._pending or location in self._sending

    def idle(self, *, timeout: float) -> bool:
        """Wait until nothing is waiting nor on its way (at most ``timeout`` s); whether it is so."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._sending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))
            return True

    # -- running --------------------------------------------------------------------------------
    def start(self) -> "Reporter":
        self._thread = threading.Thread(target=self._loop, name="reporter", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 5.0) -> None:
        """Deliver what waits (for at most ``timeout`` s), then stop; what is left is reported after
        the restart (its contract is still due)."""
        self.idle(timeout=timeout)
        with self._lock:
            self._stop = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                batch = self._take()
                while not batch and not self._stop:
                    self._changed.wait(self._next_retry())
                    batch = self._take()
                if self._stop and not batch:
                    return
                self._sending = set(batch)
            delivered: set[str] = set()
            try:
                delivered = self._deliver(batch)
            finally:
                with self._lock:
                    self._settle(batch, delivered)
                    self._sending = set()
                    self._changed.notify_all()

    def _take(self) -> dict[str, list[EntityRecord]]:
        """The waiting reports not in backoff (called with the lock held)."""
        now = self.clock()
        batch = {location: record for location, record in self._pending.items()
                 if self._failures.get(location, (0, 0.0))[1] <= now}
        for location in batch:
            del self._pending[location]
        return batch

    def _next_retry(self) -> float | None:
        if not self._pending:
            return None
        soonest = min(self._failures.get(location, (0, 0.0))[1] for location in self._pending)
        return max(0.0, soonest - self.clock())

    def _deliver(self, batch: dict[str, list[EntityRecord]]) -> set[str]:
        try:
            delivered = set(self.send([record for queue in batch.values() for record in queue]))
        except Exception:                              # noqa: BLE001 - retried; the thread must live
            log.exception("sending the reports of %d contract(s) failed", len(batch))
            return set()
        for location in delivered:
            record = batch[location][-1]
            sequence = record.attributes.get(C + "sequence") or 0
            try:
                self.contracts.amend(record, lambda a: {C + "reported": sequence}
                                     if (a.get(C + "reported") or 0) < sequence else None, transition=False)
            except Exception:                          # noqa: BLE001 - reported again after a restart
                log.exception("recording the report of %s failed", location)
        return delivered

    def _settle(self, batch: dict[str, list[EntityRecord]], delivered: set[str]) -> None:
        """Forget what was delivered; put back what was not, with backoff (called with the lock held)."""
        now = self.clock()
        for location, sent in batch.items():
            if location in delivered:
                self._failures.pop(location, None)
                continue
            failures = self._failures.get(location, (0, 0.0))[0] + 1
            delay = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
            self._failures[location] = (failures, now + delay)
            queue: list[EntityRecord] = []
            for record in sorted([*sent, *self._pending.get(location, [])], key=_sequence):
                _queue(queue, record)
            self._pending[location] = queue


def _sequence(record: EntityRecord) -> int:
    return record.attributes.get(C + "sequence") or 0


def _queue(queue: list[EntityRecord], record: EntityRecord) -> bool:
    """Add ``record`` to a contract's queue of reports; whether it was added. A newer report
    replaces the one waiting, except a failure: the service must hear that a node failed
    (it fails the deployment, and names the node) even when the node moved on since (a
    rollback deletes it at once)."""
    if queue and _sequence(queue[-1]) >= _sequence(record):
        return False
    if queue and queue[-1].attributes.get(C + "state") != "failed":
        queue[-1] = record
    else:
        queue.append(record)
    return True
