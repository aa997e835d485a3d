"""How busy the machine was with other work while we measured (Linux /proc).

The benchmark shares its cores with whatever else runs; :class:`CpuWatch` measures the CPU
time the whole machine spent during a load test, minus what the benchmark's own processes
(this one, its waited-for children such as wrk, and the servers' processes) spent.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CpuWatch", "loadavg", "wait_quiet"]

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _machine() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    total = sum(fields[:8])            # guest time is already counted in user
    idle = fields[3] + fields[4]
    return (total - idle) / _HZ, total / _HZ


def _process(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _HZ      # utime + stime


def _ours(pids: list[int]) -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system + sum(map(_process, pids))


class CpuWatch:
    """``with CpuWatch(server_pids) as watch: ...``; then ``watch.foreign`` is the share of the
    machine's CPU capacity that other processes used meanwhile (0.0 to 1.0), or None."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.foreign: float | None = None
        self.ours: float | None = None

    def __enter__(self):
        self._start = _machine(), _ours(self.pids)
        return self

    def __exit__(self, *exc):
        end, ours = _machine(), _ours(self.pids)
        start, ours_start = self._start
        if start is None or end is None or end[1] <= start[1]:
            return False
        capacity = end[1] - start[1]
        busy = end[0] - start[0]
        mine = ours - ours_start
        self.ours = min(1.0, mine / capacity)
        self.foreign = max(0.0, min(1.0, (busy - mine) / capacity))
        return False


def wait_quiet(pids: list[int], *, threshold: float = 0.15, max_wait: float = 20.0, window: float = 0.5) -> float | None:
    """Wait (at most ``max_wait`` seconds) until other processes use less than ``threshold``
    of the CPU over ``window``; returns the last share seen."""
    import time

    deadline = time.monotonic() + max_wait
    share = None
    while True:
        with CpuWatch(pids) as watch:
            time.sleep(window)
        share = watch.foreign
        if share is None or share < threshold or time.monotonic() >= deadline:
            return share
