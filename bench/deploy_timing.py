"""The provider's own time, measured where it is spent: a driver that delegates and times each call.

``TimingDriver`` wraps any registered driver (``inner``) and appends one JSON line per call to
``ledger`` (a file: the reconciler runs in gunicorn workers, other processes than the
benchmark's). It is registered under :data:`DRIVER` and chosen in providers.json like any
driver, so the provisioning code under test is unchanged::

    {"local": {"driver": "timed", "inner": "local", "ledger": "/tmp/x/ledger.jsonl", "root": "/tmp/x/nodes"}}

``python -m bench.deploy_timing ARGS`` is the ``accords`` command (``serve provisioning ...``)
with that driver registered: gunicorn forks its workers from this process, so they inherit
the registration. The cost of timing is one ``perf_counter`` pair and one short append per call.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from broker.providers import registry
from broker.providers.base import Instance, NodeSpec, ProviderDriver, Size

__all__ = ["TimingDriver", "DRIVER", "register", "read_ledger", "provider_seconds"]

#: The registry name of the wrapper.
DRIVER = "timed"


class TimingDriver(ProviderDriver):
    """``inner`` (a registry name) configured with the other options; every call is timed."""

    def __init__(self, *, inner: str, ledger: str, **options):
        self._inner = registry.create_driver(inner, **options)
        self.name = self._inner.name
        self.capabilities = self._inner.capabilities
        self._ledger = Path(ledger)
        self._lock = threading.Lock()

    def _timed(self, call: str, function, *args, **kwargs):
        started = time.perf_counter()
        ok, result = False, None
        try:
            result = function(*args, **kwargs)
            ok = True
            return result
        finally:
            seconds = time.perf_counter() - started
            line = {"call": call, "seconds": seconds, "end": time.time(), "pid": os.getpid(), "ok": ok,
                    "instance": result.id if isinstance(result, Instance) else None}
            with self._lock, open(self._ledger, "a") as handle:     # one short O_APPEND write per line
                handle.write(json.dumps(line) + "\n")

    def create(self, spec: NodeSpec) -> Instance:
        return self._timed("create", self._inner.create, spec)

    def get(self, instance_id: str) -> Instance:
        return self._timed("get", self._inner.get, instance_id)

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        return self._timed("list", self._inner.list, tags=tags)

    def delete(self, instance_id: str) -> bool:
        return self._timed("delete", self._inner.delete, instance_id)

    def start(self, instance_id: str) -> Instance:
        return self._timed("start", self._inner.start, instance_id)

    def stop(self, instance_id: str) -> Instance:
        return self._timed("stop", self._inner.stop, instance_id)

    def reboot(self, instance_id: str) -> Instance:
        return self._timed("reboot", self._inner.reboot, instance_id)

    def snapshot(self, instance_id: str, *, name: str) -> str:
        return self._timed("snapshot", self._inner.snapshot, instance_id, name=name)

    def sizes(self) -> list[Size]:
        return self._timed("sizes", self._inner.sizes)

    def images(self) -> list[str]:
        return self._timed("images", self._inner.images)

    def zones(self) -> list[str]:
        return self._timed("zones", self._inner.zones)

    def close(self) -> None:
        self._inner.close()


def register() -> None:
    """Make ``timed`` a driver name (in this process and the workers it forks)."""
    registry.REGISTRY.setdefault(DRIVER, f"{__name__}:TimingDriver")


def read_ledger(path: Path, *, since: float = 0.0, until: float | None = None) -> list[dict]:
    """The calls that ended within [since, until] (wall clock)."""
    if not path.exists():
        return []
    calls = []
    for line in path.read_text().splitlines():
        if line.strip():
            call = json.loads(line)
            if call["end"] >= since and (until is None or call["end"] <= until):
                calls.append(call)
    return calls


def provider_seconds(calls: list[dict]) -> dict[str, float]:
    """Seconds spent in the provider, per call name and in total (``total``)."""
    by_call: dict[str, float] = {}
    for call in calls:
        by_call[call["call"]] = by_call.get(call["call"], 0.0) + call["seconds"]
    return {**by_call, "total": sum(by_call.values())}


if __name__ == "__main__":
    import sys

    from broker.cli import main

    register()
    sys.exit(main())
