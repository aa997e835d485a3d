"""Start and stop the two servers under test: ``accords serve`` and the raw Falcon baseline.

Both run under gunicorn with the same options (:data:`GUNICORN_OPTIONS`, a copy of what
``broker/cli/serve.py`` passes) and the same worker and thread counts, on loopback only.
Every process started here is stopped by :func:`stop` (terminate, wait, kill on timeout).
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Server", "free_port", "start_accords", "start_raw", "stop", "GUNICORN_OPTIONS", "WORKERS", "THREADS"]

HOST = "127.0.0.1"
WORKERS = 2
THREADS = 4
ROOT = Path(__file__).resolve().parent.parent

#: The gunicorn settings ``accords serve`` uses (broker/cli/serve.py), bind and workers aside.
GUNICORN_OPTIONS = {
    "worker_class": "gthread", "keepalive": 5, "timeout": 60, "graceful_timeout": 10,
    "limit_request_line": 8190, "limit_request_fields": 200, "limit_request_field_size": 65536,
    "accesslog": None, "errorlog": "-", "loglevel": "warning",
}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the arbiter), from /proc."""
        return sorted(pid for pid, _ in _children(self.process.pid))


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19]


def _children(parent: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] == parent:
                found.append((int(entry.name), stat[1]))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}; log:\n"
                               + server.log.read_text(errors="replace")[-3000:])
        try:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=2)
            try:
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    # both workers must be up: gunicorn forks them one after the other
                    if len(server.worker_pids()) >= server.extra.get("workers", WORKERS):
                        return
            finally:
                conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} on port {server.port} not ready after {timeout:.0f}s")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the benchmark dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _spawn(name: str, argv: list[str], log_dir: Path, env: dict | None = None) -> tuple[subprocess.Popen, Path]:
    log = log_dir / f"{name}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=ROOT, env=env or os.environ.copy(), preexec_fn=_die_with_parent)
    return process, log


def start_accords(data: Path, log_dir: Path, *, workers: int = WORKERS, threads: int = THREADS,
                  timeout: float = 60, component: str = "provisioning", extra: tuple[str, ...] = ()) -> Server:
    """``accords serve COMPONENT --insecure-no-auth`` (the provisioning component by default)."""
    port = free_port()
    env = {**os.environ}
    env.pop("ACCORDS_TOKEN", None)
    argv = [sys.executable, "-m", "broker", "serve", component, "--insecure-no-auth", "--host", HOST,
            "--port", str(port), "--workers", str(workers), "--threads", str(threads), "--data", str(data), *extra]
    name = "accords" if component == "provisioning" else f"accords-{component}"
    process, log = _spawn(name, argv, log_dir, env)
    server = Server(name, port, process, log, {"workers": workers})
    try:
        _wait_ready(server, "/-/", timeout)
    except BaseException:
        stop(server)
        raise
    return server


def start_raw(sizes: dict[str, int], log_dir: Path, *, workers: int = WORKERS, threads: int = THREADS,
              timeout: float = 60) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.raw_app", "--host", HOST, "--port", str(port), "--workers", str(workers),
            "--threads", str(threads)]
    for key, value in sizes.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    process, log = _spawn("raw-falcon", argv, log_dir)
    server = Server("raw-falcon", port, process, log, {"workers": workers})
    try:
        _wait_ready(server, "/-/", timeout)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: Server | None, timeout: float = 15) -> None:
    """SIGTERM to the gunicorn arbiter (it stops its workers), wait, SIGKILL what is left."""
    if server is None:
        return
    process = server.process
    workers = _children(process.pid) if process.poll() is None else []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for pid, started in workers:    # orphans, if the arbiter had to be killed: the same processes only
        stat = _stat(pid)
        if stat is not None and stat[1] == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
