"""Running commands for the node agent: a clean environment, process groups, output tails.

Every command runs as ``/bin/sh -c COMMAND`` in a session (and process group) of its own,
with stdin closed and stdout and stderr in one log file, so that:

* a timeout, a ``kill`` script or the agent's stop reaches every process the command
  started (``killpg``: TERM, then KILL after :data:`GRACE` seconds), and nothing else;
* output never fills a pipe nor the agent's memory: the script keeps the last
  :data:`TAIL_BYTES` bytes (:func:`tail`), the log file the rest.

A process group is signalled only while it is known to exist: Linux does not reuse a pid
while a process group of that id has members, so a group id the agent saw alive cannot name
somebody else's processes. A process started by an earlier agent process is recognised by
its start time (``/proc/PID/stat``), never by its pid alone.
"""
from __future__ import annotations

import os
import pwd
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

__all__ = ["GRACE", "TAIL_BYTES", "BASE_PATH", "Home", "Finished", "Child", "Children", "environment", "now", "run",
           "spawn", "stop_group", "group_alive", "owned_group", "start_time", "tail", "printable"]

GRACE = 3.0
TAIL_BYTES = 16 * 1024
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class Home:
    """The agent's directory: ``agent.db`` (its store), ``metadata.env``, ``work/`` (where
    scripts run), ``logs/`` (one log per script), ``run/`` (pid files of forks)."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "agent.db"

    @property
    def metadata(self) -> Path:
        return self.root / "metadata.env"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def prepare(self) -> "Home":
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for directory in (self.work, self.logs, self.run):
            directory.mkdir(mode=0o700, exist_ok=True)
        return self

    def log_of(self, location: str) -> Path:
        """The log file of the script at ``location`` (its last segment is a safe file name:
        the framework allows only letters, digits, ``.``, ``_``, ``~`` and ``-``, not first)."""
        return self.logs / f"{location.rstrip('/').rsplit('/', 1)[-1]}.log"

    def pid_file(self, location: str) -> Path:
        return self.run / f"{location.rstrip('/').rsplit('/', 1)[-1]}.pid"


def now() -> str:
    """The current time as ISO 8601 UTC (what datetime attributes hold)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def environment(*, home: Home, variables: Mapping[str, str], script: str | None = None) -> dict[str, str]:
    """A clean minimal environment plus ``variables`` (the node's metadata): nothing of the
    agent's own environment leaks into scripts (no tokens, no ACCORDS_* settings).
    ``ACCORDS_SCRIPT`` is the script's location: it also lets a restarted agent recognise the
    processes of its forks (:func:`owned_group`)."""
    try:
        user = pwd.getpwuid(os.getuid())
        name, user_home = user.pw_name, user.pw_dir
    except KeyError:
        name, user_home = str(os.getuid()), str(home.work)
    base = {"PATH": BASE_PATH, "HOME": user_home, "USER": name, "LOGNAME": name, "SHELL": "/bin/sh",
            "LANG": "C.UTF-8", "ACCORDS_AGENT_DIR": str(home.root), "ACCORDS_METADATA": str(home.metadata)}
    if script is not None:
        base["ACCORDS_SCRIPT"] = script
    return {**variables, **base}


def printable(text: str) -> str:
    """``text`` with control characters (but tab) written as ``\\xNN``: safe in every rendering."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def tail(path: Path, *, limit: int = TAIL_BYTES) -> tuple[list[str], bool]:
    """The last lines of a log file (at most ``limit`` bytes, decoded as UTF-8), and whether
    earlier output was left out."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            data = handle.read(limit)
    except OSError:
        return [], False
    truncated = size > limit
    text = data.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text.split("\n", 1)[1]          # the first line is cut: drop it
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return [printable(line) for line in lines], truncated


def _stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()


def start_time(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot, None when it is gone or a
    zombie (dead, waiting for a parent that may never reap it)."""
    fields = _stat(pid)
    if not fields or len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:                         # no /proc: trust kill(2)
        return True
    for pid in pids:
        fields = _stat(pid)
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def owned_group(pgid: int, *, home: Home, script: str) -> bool:
    """Whether a running process of group ``pgid`` was started by the agent of ``home`` for
    ``script`` (its environment says so): how a restarted agent recognises a fork whose
    first process is gone but whose children still run."""
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return False
    marks = (f"ACCORDS_AGENT_DIR={home.root}".encode(), f"ACCORDS_SCRIPT={script}".encode())
    for pid in pids:
        fields = _stat(pid)
        if not fields or len(fields) < 3 or fields[2] != str(pgid) or fields[0] in ("Z", "X"):
            continue
        try:
            variables = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(mark in variables for mark in marks):
            return True
    return False


def _signal(pgid: int, number: int) -> bool:
    try:
        os.killpg(pgid, number)
    except ProcessLookupError:
        return False
    return True


def stop_group(pgid: int, *, process: subprocess.Popen | None = None, grace: float = GRACE) -> bool:
    """TERM the process group ``pgid``, KILL what is left after ``grace`` seconds; reaps
    ``process`` (its leader, when it is our child). False when the group was already empty."""
    if process is not None:
        process.poll()
    if not _signal(pgid, signal.SIGTERM):
        return False
    deadline = time.monotonic() + grace
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            _signal(pgid, signal.SIGKILL)
            break
        if process is not None:
            process.poll()
        time.sleep(0.02)
    if process is not None:
        try:
            process.wait(timeout=5)             # the leader is dead: reap it (its status is the result)
        except subprocess.TimeoutExpired:       # pragma: no cover - uninterruptible sleep
            pass
    return True


def spawn(command: str, *, cwd: Path, env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """``/bin/sh -c command`` in a session of its own, stdin closed, output to ``log``."""
    with os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as output:
        return subprocess.Popen(["/bin/sh", "-c", command], cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)


@dataclass
class Finished:
    """How a command that ran to its end (or its timeout) went."""

    exit: int
    timed_out: bool
    started: str
    finished: str


@dataclass
class Child:
    """A process group the agent started and still follows."""

    location: str                     # the script's location
    pid: int                          # leader pid = process group id = session id
    name: str = ""
    command: str = ""
    process: subprocess.Popen | None = None      # None: started by an earlier agent process
    started_ticks: str | None = None
    fork: bool = True
    #: The leader has exited (and was reported); members of its group may still run.
    reported: bool = False

    def leader_exit(self) -> tuple[bool, int | None]:
        """(ended, exit status when known) of the group's leader."""
        if self.process is not None:
            code = self.process.poll()
            return code is not None, code
        return start_time(self.pid) != self.started_ticks, None

    def alive(self) -> bool:
        ended, _ = self.leader_exit()
        return not ended or group_alive(self.pid)

    def matches(self, argument: str) -> bool:
        """A kill argument names this fork by script name, whole command, or program (as killall)."""
        program = self.command.split()[0].rsplit("/", 1)[-1] if self.command.split() else ""
        return argument in (self.name, self.command, program) and argument != ""


@dataclass
class Children:
    """The process groups the agent follows (running system scripts and forks), by script location."""

    _children: dict[str, Child] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add(self, child: Child) -> None:
        with self.lock:
            self._children[child.location] = child

    def remove(self, location: str) -> Child | None:
        with self.lock:
            return self._children.pop(location, None)

    def get(self, location: str) -> Child | None:
        with self.lock:
            return self._children.get(location)

    def forks(self) -> list[Child]:
        with self.lock:
            return [child for child in self._children.values() if child.fork]

    def stop_all(self, *, grace: float = GRACE) -> list[Child]:
        """Stop every group still alive (in parallel: one grace period in all); returns them."""
        with self.lock:
            children = list(self._children.values())
            self._children.clear()
        alive = [child for child in children if child.alive()]
        threads = [threading.Thread(target=stop_group, args=(child.pid,),
                                    kwargs={"process": child.process, "grace": grace}) for child in alive]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return alive


def run(command: str, *, cwd: Path, env: Mapping[str, str], log: Path, timeout: float, location: str,
        children: Children) -> Finished:
    """Run ``command`` to its end, or stop its group after ``timeout`` seconds."""
    started = now()
    process = spawn(command, cwd=cwd, env=env, log=log)
    children.add(Child(location=location, pid=process.pid, command=command, process=process, fork=False))
    timed_out = False
    try:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(process.pid, process=process)
    finally:
        children.remove(location)
    return Finished(exit=process.returncode, timed_out=timed_out, started=started, finished=now())
