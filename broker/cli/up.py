"""``accords up``: the whole platform on this machine, one supervised process per component.

The security component starts first (on the base port + 1): on a first run it creates the
admin user and every component's service user, whose credentials it writes in
DIR/credentials/ (mode 0600). The publisher follows on the base port, checking
credentials with it; every other component takes the next ports, finds the security
component through the publisher and publishes itself there. Each has its own SQLite file
in the data directory. DIR/platform.json tells the CLI where the platform is.
A component that exits unexpectedly is started again (with a growing pause if it keeps
failing) and the restart is reported; Ctrl-C or SIGTERM stops everything.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import requests

from broker import components, settings

__all__ = ["up", "Supervisor", "Child"]

READY_TIMEOUT = 30.0
MAX_BACKOFF = 30.0


@dataclass
class Child:
    name: str
    port: int
    command: list[str]
    #: Children of one wave start together, once every earlier wave is ready.
    wave: int = 0
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Supervisor:
    def __init__(self, children: list[Child], *, emit):
        self.children = children
        self.emit = emit
        self.stopping = False

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, stdout=subprocess.DEVNULL)
        child.started_at = time.monotonic()

    def ready(self, child: Child, deadline: float) -> bool:
        while time.monotonic() < deadline and not self.stopping:
            if child.process.poll() is not None:
                return False
            try:
                answer = requests.get(child.url + "/readyz", timeout=1)
                if answer.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def start_all(self) -> list[dict]:
        rows = []
        # In waves: security, then the publisher (which checks credentials with it), then the
        # others together (they need both).
        for wave in sorted({child.wave for child in self.children}):
            starting = [child for child in self.children if child.wave == wave]
            for child in starting:
                self.start(child)
            deadline = time.monotonic() + READY_TIMEOUT
            for child in starting:
                ok = self.ready(child, deadline)
                rows.append({"component": child.name, "url": child.url, "pid": child.process.pid, "ready": ok})
        return rows

    def watch_once(self) -> None:
        """Restart whatever died; called in the supervision loop."""
        now = time.monotonic()
        for child in self.children:
            if self.stopping:
                return
            if child.process is None:                  # waiting out its pause
                if now >= child.next_start:
                    self._restart(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            child.restarts += 1
            # One that lived a while is restarted at once; one that keeps dying waits longer each time.
            lived = now - child.started_at
            pause = 0.0 if lived > MAX_BACKOFF else min(2.0 ** (child.restarts - 1), MAX_BACKOFF)
            self.emit({"event": "exited", "component": child.name, "code": code, "restart_in": pause,
                       "restarts": child.restarts})
            child.process = None
            child.next_start = now + pause

    def _restart(self, child: Child) -> None:
        self.start(child)
        ok = self.ready(child, time.monotonic() + READY_TIMEOUT)
        self.emit({"event": "restarted" if ok else "restart-failed", "component": child.name, "url": child.url,
                   "pid": child.process.pid, "restarts": child.restarts})

    def stop_all(self) -> None:
        self.stopping = True
        for child in reversed(self.children):          # security and the publisher last: the others withdraw
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
                try:
                    child.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait(timeout=5)


def plan(args, data) -> list[Child]:
    others = [n for n in components.names() if n not in ("publisher", "security")]
    ports = {"publisher": args.base_port, "security": args.base_port + 1,
             **{name: args.base_port + 2 + offset for offset, name in enumerate(others)}}
    publisher_url = f"http://127.0.0.1:{ports['publisher']}"
    security_url = f"http://127.0.0.1:{ports['security']}"
    children = []
    for name in ("security", "publisher", *others):
        extra = ["--security", security_url] if name == "publisher" else ["--publisher", publisher_url]
        wave = {"security": 0, "publisher": 1}.get(name, 2)
        children.append(Child(name=name, port=ports[name], wave=wave, command=[
            sys.executable, "-m", "broker", "serve", name, "--port", str(ports[name]), "--data", str(data),
            "--workers", str(args.workers), *extra]))
    return children


def up(args) -> int:
    data = settings.data_dir(args.data)
    started = time.monotonic()

    def emit(event: dict) -> None:
        if args.json:
            print(json.dumps(event), flush=True)
        elif event["event"] == "exited":
            print(f"! {event['component']} exited with code {event['code']}; restarting in "
                  f"{event['restart_in']:.0f} s (restart {event['restarts']})", flush=True)
        else:
            print(f"  {event['component']} {event['event']} at {event['url']} (pid {event['pid']})", flush=True)

    children = plan(args, data)
    urls = {child.name: child.url for child in children}
    settings.write_platform(data, publisher=urls["publisher"], security=urls["security"])
    supervisor = Supervisor(children, emit=emit)

    def stop(*_):
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        rows = supervisor.start_all()
        report = {"event": "up", "components": rows, "seconds": round(time.monotonic() - started, 2),
                  "data": str(data), "admin_credentials": str(data / "credentials" / "admin.json")}
        if args.json:
            print(json.dumps(report), flush=True)
        else:
            print(f"{'component':<14} {'url':<28} {'pid':>7}  state")
            for row in rows:
                print(f"{row['component']:<14} {row['url']:<28} {row['pid']:>7}  "
                      f"{'ready' if row['ready'] else 'FAILED'}")
            print(f"\nup in {report['seconds']} s; data in {data}; admin credentials in "
                  f"{report['admin_credentials']}\n`accords whoami` and `accords components` use them. "
                  "Ctrl-C stops everything.", flush=True)
        if not all(row["ready"] for row in rows):
            return 1
        until = time.monotonic() + args.exit_after if args.exit_after is not None else None
        while not supervisor.stopping and (until is None or time.monotonic() < until):
            supervisor.watch_once()
            time.sleep(0.2)
        return 0
    finally:
        supervisor.stop_all()
        if args.json:
            print(json.dumps({"event": "stopped"}), flush=True)
