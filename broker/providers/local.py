"""The ``local`` provider: each node is a sandbox directory on this machine, with the node agent
running as a process on a loopback port, so that configuration scripts really run.

    ROOT/<instance id>/instance.json   what the driver knows (name, tags, state, agent pid and URL)
    ROOT/<instance id>/token           the agent's token (0600)
    ROOT/<instance id>/agent.log       the agent's output
    ROOT/<instance id>/...             the agent's own files (its store, work directory, logs)

Everything the driver knows is in those files, so a restarted provisioning component finds
every node again (``list``) and can reconcile; a node whose agent died is reported in the
``error`` state with the reason. Processes are told apart from a reused pid by their command
line. It is the default provider of ``accords up``: the main job needs no cloud.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from broker.providers.base import (Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderRefused,
                                   ProviderUnavailable, Size)

__all__ = ["LocalDriver"]

_PREFIX = "local-"


class LocalDriver(ProviderDriver):
    name = "local"
    capabilities = frozenset({"start", "stop", "reboot", "snapshot", "tags"})

    def __init__(self, *, root: str | Path, python: str = sys.executable, ready_timeout: float = 30.0,
                 stop_timeout: float = 10.0):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.python = python
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout

    # -- files --------------------------------------------------------------------------------
    def _dir(self, instance_id: str) -> Path:
        if not instance_id.startswith(_PREFIX) or "/" in instance_id or instance_id in (".", ".."):
            raise InstanceNotFound(f"{instance_id!r} is not a local node id", provider=self.name,
                                   instance=instance_id)
        return self.root / instance_id

    def _read(self, instance_id: str) -> dict:
        try:
            return json.loads((self._dir(instance_id) / "instance.json").read_text())
        except FileNotFoundError:
            raise InstanceNotFound(f"no local node {instance_id}", provider=self.name, instance=instance_id) from None

    def _write(self, record: dict) -> None:
        path = self._dir(record["id"]) / "instance.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        os.replace(temporary, path)

    # -- processes ----------------------------------------------------------------------------
    def _alive(self, record: dict) -> bool:
        pid = record.get("pid")
        if not pid:
            return False
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"agent" in command and str(self._dir(record["id"])).encode() in command

    def _agents_of(self, instance_id: str) -> list[int]:
        """Every agent process serving the node's directory, whether or not instance.json knows
        its pid (a creation interrupted after the spawn, before the pid was written)."""
        home = str(self._dir(instance_id)).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"agent" in command and home in command:
                found.append(int(entry.name))
        return found

    def _spawn(self, record: dict) -> dict:
        home = self._dir(record["id"])
        ready = home / "ready.json"
        ready.unlink(missing_ok=True)
        argv = [self.python, "-m", "broker", "agent", "--dir", str(home), "--host", "127.0.0.1", "--port", "0",
                "--token-file", str(home / "token"), "--ready-file", str(ready)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORDS_")}
        with open(home / "agent.log", "ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=home, env=env, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ProviderRefused(f"the agent of {record['name']} exited with {process.returncode}: "
                                      f"{self._log_tail(home)}", provider=self.name, instance=record["id"])
            if ready.exists():
                try:
                    found = json.loads(ready.read_text())
                except ValueError:        # being written (the agent writes it atomically; be safe)
                    found = None
                if found:
                    return {**record, "pid": process.pid, "url": found["url"], "state": "running", "reason": None}
            time.sleep(0.05)
        self._terminate(process.pid)
        raise ProviderUnavailable(f"the agent of {record['name']} did not start within {self.ready_timeout:.0f} s: "
                                  f"{self._log_tail(home)}", provider=self.name, instance=record["id"])

    @staticmethod
    def _log_tail(home: Path) -> str:
        try:
            lines = (home / "agent.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-3:]) or "no output"

    def _terminate(self, pid: int) -> None:
        """The agent's whole process group (it started with its own session): TERM, then KILL."""
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline:
            try:
                finished, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:          # not our child (a restarted component): poll /proc
                finished = 0 if Path(f"/proc/{pid}").exists() else pid
            if finished:
                return
            time.sleep(0.05)
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    # -- the interface ------------------------------------------------------------------------
    def _instance(self, record: dict) -> Instance:
        state, reason = record.get("state", "error"), record.get("reason")
        if state == "running" and not self._alive(record):
            state, reason = "error", f"the agent (pid {record.get('pid')}) is not running"
        return Instance(id=record["id"], name=record["name"], state=state,
                        addresses=["127.0.0.1"] if state == "running" else [], tags=dict(record["tags"]),
                        agent_url=record.get("url") if state == "running" else None, reason=reason,
                        extra={"directory": str(self._dir(record["id"]))})

    def create(self, spec: NodeSpec) -> Instance:
        instance_id = f"{_PREFIX}{uuid.uuid4().hex[:16]}"
        home = self._dir(instance_id)
        home.mkdir(mode=0o700)
        token = home / "token"
        token.touch(mode=0o600)
        token.write_text(spec.agent_token or secrets.token_urlsafe(32))
        record = {"id": instance_id, "name": spec.name, "tags": spec.all_tags(), "state": "pending",
                  "created": time.time(), "spec": {"cores": spec.cores, "memory_mb": spec.memory_mb,
                                                   "disk_gb": spec.disk_gb, "image": spec.image}}
        self._write(record)
        try:
            record = self._spawn(record)
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)       # nothing left behind
            raise
        self._write(record)
        return self._instance(record)

    def get(self, instance_id: str) -> Instance:
        return self._instance(self._read(instance_id))

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        found = []
        for home in sorted(self.root.glob(f"{_PREFIX}*")):
            try:
                record = self._read(home.name)
            except InstanceNotFound:
                continue               # a creation that was interrupted before its first write
            if all(record["tags"].get(k) == v for k, v in (tags or {}).items()):
                found.append(self._instance(record))
        return found

    def delete(self, instance_id: str) -> bool:
        try:
            home = self._dir(instance_id)
        except InstanceNotFound:
            return False
        if not home.exists():
            return False
        for pid in self._agents_of(instance_id):
            self._terminate(pid)
        shutil.rmtree(home, ignore_errors=True)
        return True

    def stop(self, instance_id: str) -> Instance:
        record = self._read(instance_id)
        if self._alive(record):
            self._terminate(record["pid"])
        record.update(state="stopped", pid=None, url=None, reason=None)
        self._write(record)
        return self._instance(record)

    def start(self, instance_id: str) -> Instance:
        record = self._read(instance_id)
        if self._alive(record):
            return self._instance(record)
        record = self._spawn(record)
        self._write(record)
        return self._instance(record)

    def snapshot(self, instance_id: str, *, name: str) -> str:
        """A copy of the node's directory (without the agent's pid and URL) under ROOT/snapshots/."""
        home = self._dir(instance_id)
        self._read(instance_id)
        snapshot_id = f"snapshot-{uuid.uuid4().hex[:16]}"
        target = self.root / "snapshots" / snapshot_id
        shutil.copytree(home, target, ignore=shutil.ignore_patterns("ready.json", "*.tmp"))
        (target / "snapshot.json").write_text(json.dumps({"id": snapshot_id, "name": name, "of": instance_id,
                                                          "taken": time.time()}))
        return snapshot_id

    def sizes(self) -> list[Size]:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        disk = shutil.disk_usage(self.root)
        return [Size(name="local", cores=os.cpu_count() or 1, memory_mb=pages // (1024 * 1024),
                     disk_gb=disk.free // (1024 ** 3), price=0.0, currency="EUR")]

    def images(self) -> list[str]:
        return ["local"]

    def zones(self) -> list[str]:
        return ["local"]
