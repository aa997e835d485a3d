"""Probes: a command run every ``period`` seconds whose output is a metric's value.

``POST /probe/ID?action=start`` schedules the probe's expression on the agent's
APScheduler (first sample at once, then every period; a run never overlaps the previous one)
and ``stop`` removes it; a probe left running comes back when the agent restarts. Each
sample runs ``/bin/sh -c EXPRESSION`` like a script (``DIR/work``, the metadata in its
environment, its own process group, stopped after ``min(period, 60)`` seconds) and keeps, on
the probe, the last non-empty line of its standard output (``value``; ``number`` too when
it is one), the time and the count; a failed sample records ``error`` and keeps the value.

Delivering measurements to the monitors component is not done yet: every ``samples``
samples, the probe hands them to :attr:`Probes.sink`, a :class:`MeasurementSink`, which is
None (nothing delivered) until the monitoring issue supplies one that posts them.
"""
from __future__ import annotations

import logging
import math
import subprocess
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Protocol

from broker.agent.model import PROBE, PROBE_START, PROBE_STOP
from broker.agent.processes import Child, Children, Home, now, printable, stop_group
from occi.store.base import Query, StaleWrite

__all__ = ["Probes", "Sample", "MeasurementSink", "parse_number", "MAX_VALUE"]

log = logging.getLogger("accords.agent")
P = "occi.probe."
MAX_VALUE = 1024            # characters kept of a value
_OUTPUT_LIMIT = 64 * 1024   # bytes of a sample's output read


@dataclass(frozen=True)
class Sample:
    time: str
    value: str
    number: float | int | None


class MeasurementSink(Protocol):
    """Where measurements go (the extension point for the monitors component): called from the
    scheduler's thread with the probe's attributes and its last ``samples`` samples."""

    def deliver(self, probe: Mapping[str, Any], samples: list[Sample]) -> None: ...


def parse_number(text: str) -> float | int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Probes:
    def __init__(self, *, home: Home, store, scheduler, lock: threading.RLock,
                 environment: Callable[[], dict[str, str]], children: Children,
                 sink: MeasurementSink | None = None):
        self.home = home
        self.children = children
        self.store = store
        self.scheduler = scheduler
        #: Held by every write to a probe (requests and samples): no write ever loses another.
        self.lock = lock
        self.environment = environment
        self.sink = sink
        self._batches: dict[str, list[Sample]] = {}

    def install(self, hooks) -> None:
        hooks.on_action(PROBE_START)(self.start)
        hooks.on_action(PROBE_STOP)(self.stop)
        hooks.on_update(PROBE)(self.updated)
        hooks.on_delete(PROBE)(lambda entity, ctx: self._unschedule(entity.location))

    # -- hooks ------------------------------------------------------------------------------
    def start(self, entity, action, parameters, ctx) -> None:
        entity.attributes.update({P + "state": "running", P + "count": 0, P + "error": None})
        self._schedule(entity.location, entity.attributes.get(P + "period") or 60, first=True)

    def stop(self, entity, action, parameters, ctx) -> None:
        entity.attributes[P + "state"] = "stopped"
        self._unschedule(entity.location)

    def updated(self, old, new, ctx) -> None:
        period = new.attributes.get(P + "period")
        if new.attributes.get(P + "state") == "running" and period != old.attributes.get(P + "period"):
            self._schedule(new.location, period or 60, first=False)

    def resume(self) -> None:
        """At start: schedule again the probes that were running."""
        with self.store.session(readonly=True) as session:
            running = session.list(Query(kinds=[PROBE.type_id], attributes={P + "state": "running"}))
        for record in running:
            self._schedule(record.location, record.attributes.get(P + "period") or 60, first=True)

    # -- scheduling -----------------------------------------------------------------------------
    @staticmethod
    def _job_id(location: str) -> str:
        return f"probe:{location}"

    def _schedule(self, location: str, period: int, *, first: bool) -> None:
        # The first run waits for the lock the request holds until its commit: it sees the probe running.
        start = datetime.now(timezone.utc) + (timedelta(0) if first else timedelta(seconds=period))
        self.scheduler.add_job(self.sample, "interval", seconds=period, args=[location], id=self._job_id(location),
                               replace_existing=True, max_instances=1, coalesce=True, next_run_time=start,
                               misfire_grace_time=None)

    def _unschedule(self, location: str) -> None:
        self._batches.pop(location, None)
        try:
            self.scheduler.remove_job(self._job_id(location))
        except LookupError:         # apscheduler's JobLookupError
            pass

    # -- sampling -------------------------------------------------------------------------------
    def sample(self, location: str) -> None:
        """One sample of the probe at ``location`` (in the scheduler's thread)."""
        with self.lock:
            with self.store.session(readonly=True) as session:
                record = session.get(location)
            if record is None or record.attributes.get(P + "state") != "running":
                self._unschedule(location)      # deleted or stopped (even by a request that failed)
                return
        a = record.attributes
        period = a.get(P + "period") or 60
        stamp = now()
        changes: dict[str, Any]
        try:
            value, error = self._measure(location, a.get(P + "expression") or "", timeout=min(period, 60))
        except Exception as exc:  # noqa: BLE001 - a sample must not kill the job
            value, error = None, f"{type(exc).__name__}: {exc}"
        if error is None:
            sample = Sample(time=stamp, value=value, number=parse_number(value))
            changes = {P + "value": value, P + "number": sample.number, P + "last": stamp, P + "error": None}
        else:
            sample, changes = None, {P + "error": error, P + "last": stamp}
        with self.lock:
            with self.store.session() as session:
                current = session.get(location)
                if current is None or current.attributes.get(P + "state") != "running":
                    return                      # stopped while the command ran: no update after stop
                attributes = {**current.attributes, **changes, P + "count": (current.attributes.get(P + "count")
                                                                             or 0) + 1}
                try:
                    session.update(replace(current, attributes={k: v for k, v in attributes.items() if v is not None}),
                                   expected_version=current.version)
                except StaleWrite:      # pragma: no cover - writers hold self.lock
                    return
        if sample is not None:
            self._deliver(location, attributes, sample)

    def _deliver(self, location: str, attributes: Mapping[str, Any], sample: Sample) -> None:
        batch = self._batches.setdefault(location, [])
        batch.append(sample)
        if len(batch) >= (attributes.get(P + "samples") or 1):
            self._batches[location] = []
            if self.sink is not None:
                try:
                    self.sink.deliver(attributes, batch)
                except Exception:  # noqa: BLE001 - delivery problems must not stop measuring
                    log.exception("probe %s: delivering measurements failed", location)

    def _measure(self, location: str, expression: str, *, timeout: float) -> tuple[str | None, str | None]:
        """(value, None) or (None, why it failed): the value is the last non-empty line of
        standard output; standard error only explains a failure."""
        with tempfile.TemporaryFile(dir=self.home.run) as output, tempfile.TemporaryFile(dir=self.home.run) as errors:
            process = subprocess.Popen(["/bin/sh", "-c", expression], cwd=self.home.work, env=self.environment(),
                                       stdin=subprocess.DEVNULL, stdout=output, stderr=errors,
                                       start_new_session=True, close_fds=True)
            key = f"{location}#sample"          # stopped with the agent, like scripts
            self.children.add(Child(location=key, pid=process.pid, process=process, fork=False))
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop_group(process.pid, process=process)
                return None, f"timed out after {timeout:g} s"
            finally:
                self.children.remove(key)
            last = _last_line(output)
            if code != 0:
                why = _last_line(errors) or last
                return None, f"exit {code}" + (f": {why}" if why else "")
        return last, None


def _last_line(handle) -> str:
    size = handle.seek(0, 2)
    handle.seek(max(0, size - _OUTPUT_LIMIT))
    lines = [line.strip() for line in handle.read().decode("utf-8", errors="replace").splitlines() if line.strip()]
    return printable(lines[-1])[:MAX_VALUE] if lines else ""
