"""Load generators: wrk when it is installed, else a multi-process keep-alive Python client.

Both talk to loopback only, run for a bounded duration, and stop every process they start.
"""
from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["LoadResult", "Load", "wrk_path", "time_requests", "percentile", "CONNECTIONS", "THREADS"]

# Each keep-alive connection stays on the worker that accepted it: with many connections the
# split between the two workers evens out, and so does the run-to-run spread of the rates.
CONNECTIONS = 64
THREADS = 2

_LUA = """
wrk.method = "%(method)s"
wrk.body = %(body)s
%(headers)s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; other = 0 end
function response(status, headers, body)
  if status == %(expect)d then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, x = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other") end
  io.write(string.format("BENCH ok=%%d other=%%d duration_us=%%d\\n", o, x, summary.duration))
end
"""


@dataclass
class LoadResult:
    rate: float                     # expected-status responses per second
    ok: int                         # responses with the expected status
    other: int                      # any other status (or socket errors)
    seconds: float
    tool: str
    notes: list[str] = field(default_factory=list)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Load:
    """Runs one load test: ``Load(tool).run(url, duration, method=..., headers=..., body=..., expect=...)``."""

    def __init__(self, tool: str | None = None, connections: int = CONNECTIONS, threads: int = THREADS):
        if tool is None:
            tool = "wrk" if wrk_path() else "python"
        if tool == "wrk" and not wrk_path():
            raise RuntimeError("wrk is not installed (apt-get install wrk), use --loadgen python")
        self.tool = tool
        self.connections = connections
        self.threads = threads

    def describe(self) -> str:
        if self.tool == "wrk":
            version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
            first = (version.stdout or version.stderr).splitlines()[0].split("[")[0].strip()
            return f"{first} (`-t{self.threads} -c{self.connections}`)"
        why = "wrk not installed" if not wrk_path() else "chosen with --loadgen python"
        return (f"Python fallback load generator ({why}): {self.threads} processes x "
                f"{self.connections // self.threads} keep-alive http.client connections")

    def run(self, url: str, duration: float, *, method: str = "GET", headers: dict | None = None,
            body: str = "", expect: int = 200) -> LoadResult:
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"load generators talk to loopback only, not {host}")
        if self.tool == "wrk":
            return self._wrk(url, duration, method, headers or {}, body, expect)
        return _python_load(url, duration, method, headers or {}, body, expect, self.threads,
                            self.connections // self.threads)

    def _wrk(self, url, duration, method, headers, body, expect) -> LoadResult:
        seconds = max(1, round(duration))
        header_lines = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        script = _LUA % {"method": method, "body": _lua_string(body), "headers": header_lines, "expect": expect}
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
            lua = handle.name
        argv = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", "--timeout", "10s",
                "-s", lua, url]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = process.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate(timeout=10)
            raise RuntimeError(f"wrk did not finish in {seconds + 30}s: {output[-2000:]}") from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            Path(lua).unlink(missing_ok=True)
        match = re.search(r"BENCH ok=(\d+) other=(\d+) duration_us=(\d+)", output)
        if process.returncode != 0 or match is None:
            raise RuntimeError(f"wrk failed ({process.returncode}): {output[-2000:]}")
        ok, other, micros = int(match.group(1)), int(match.group(2)), int(match.group(3))
        notes = []
        errors = re.search(r"Socket errors: (.*)", output)
        if errors:
            notes.append("socket errors: " + errors.group(1).strip())
        seconds_run = micros / 1e6
        return LoadResult(rate=ok / seconds_run, ok=ok, other=other, seconds=seconds_run, tool="wrk", notes=notes)


# -- the Python fallback ----------------------------------------------------------------------
def _connection_loop(host, port, path, method, headers, body, expect, deadline, counts, lock):
    ok = other = 0
    payload = body.encode() if body else None
    conn = None
    while time.monotonic() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == expect:
                ok += 1
            else:
                other += 1
            if response.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            other += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    with lock:
        counts[0] += ok
        counts[1] += other


def _process_load(args) -> tuple[int, int]:
    host, port, path, method, headers, body, expect, duration, connections = args
    counts, lock = [0, 0], threading.Lock()
    deadline = time.monotonic() + duration
    workers = [threading.Thread(target=_connection_loop, daemon=True,
                                args=(host, port, path, method, headers, body, expect, deadline, counts, lock))
               for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration + 20)
    return counts[0], counts[1]


def _python_load(url, duration, method, headers, body, expect, processes, connections) -> LoadResult:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    job = (parts.hostname, parts.port, path, method, headers, body, expect, duration, max(1, connections))
    context = multiprocessing.get_context("fork")
    pool = context.Pool(processes)
    try:
        results = pool.map_async(_process_load, [job] * processes).get(timeout=duration + 60)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
        pool.join()
    ok = sum(r[0] for r in results)
    other = sum(r[1] for r in results)
    # every connection loop runs until its process's deadline: `duration` after it started
    return LoadResult(rate=ok / duration, ok=ok, other=other, seconds=duration, tool="python")


# -- latency of one request at a time -----------------------------------------------------------
def time_requests(url: str, *, headers: dict | None = None, warmup: int = 3, count: int = 20,
                  timeout: float = 60) -> tuple[list[float], bytes]:
    """Seconds taken by ``count`` sequential GETs (after ``warmup`` untimed ones) on one
    keep-alive connection, each until its whole body is read; and the last body."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load generators talk to loopback only, not {parts.hostname}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    times, body = [], b""
    try:
        for i in range(warmup + count):
            started = time.perf_counter()
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise RuntimeError(f"GET {url} answered {response.status}: {body[:500]!r}")
            if i >= warmup:
                times.append(elapsed)
    finally:
        conn.close()
    return times, body


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]
