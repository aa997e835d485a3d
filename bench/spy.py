"""Sample the real gunicorn workers under load with py-spy (optional, bench-only tool).

``python -m bench.spy get_entity|create|get_root|list [--seconds 10] [--idle]``

Starts ``accords serve`` on a filled store, loads it with wrk (or the Python fallback),
records every worker with ``py-spy record --format raw`` and prints where the samples
fall: by package, and the heaviest functions (own samples and inclusive). Unlike
:mod:`bench.profile` this sees gunicorn, the threads and waiting (with ``--idle``).
py-spy is not a dependency of accords: ``.venv/bin/pip install py-spy``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import servers
from bench.__main__ import CREATE_BODY, CREATE_HEADERS, URI_LIST
from bench.fill import fill
from bench.load import Load

SCENARIOS = {
    "get_root": lambda sample: dict(path="/-/"),
    "get_entity": lambda sample: dict(path=sample),
    "create": lambda sample: dict(path="/compute/", method="POST", headers=CREATE_HEADERS,
                                  body=CREATE_BODY.format(hostname="bench"), expect=201),
    "list": lambda sample: dict(path="/compute/", headers=URI_LIST),
}


def _frame(text: str) -> tuple[str, str, str]:
    """py-spy raw frames look like ``function (path/file.py:line)``."""
    function, _, where = text.rpartition(" (")
    filename = where.rstrip(")").rsplit(":", 1)[0]
    return function or text, filename, where.rstrip(")")


def summarise(raw_files: list[Path], top: int) -> str:
    own: Counter = Counter()
    inclusive: Counter = Counter()
    packages: Counter = Counter()
    total = 0
    for path in raw_files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
            if not frames:
                continue
            function, filename, where = _frame(frames[-1])
            own[f"{function} ({where})"] += samples
            head = filename.split("/", 1)[0] if "/" in filename else ""
            packages[head if head and not head.startswith("<") else f"stdlib {filename}"] += samples
            for frame in set(frames):
                name, _, loc = _frame(frame)
                inclusive[f"{name} ({loc})"] += samples
    total = total or 1
    lines = [f"{total} samples", "", "| package | share |", "|---|---:|"]
    lines += [f"| {name} | {count / total:.1%} |" for name, count in packages.most_common(top)]
    lines += ["", "| function (own samples) | share |", "|---|---:|"]
    lines += [f"| `{name}` | {count / total:.1%} |" for name, count in own.most_common(top)]
    lines += ["", "| function (inclusive) | share |", "|---|---:|"]
    lines += [f"| `{name}` | {count / total:.1%} |" for name, count in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spy", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--idle", action="store_true", help="also sample threads that wait (locks, I/O)")
    parser.add_argument("--all-threads", action="store_true",
                        help="sample every thread, not only the one holding the GIL (the default: Python CPU time)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--loadgen", choices=("wrk", "python"))
    parser.add_argument("--raw", action="store_true", help="sample the raw Falcon baseline instead")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="accords-spy-"))
    server = None
    recorders: list[subprocess.Popen] = []
    try:
        (work / "data").mkdir()
        filled = fill(work / "data" / "provisioning.db", args.entities, max(1, args.entities // 10))
        server = servers.start_accords(work / "data", work)
        if args.raw:
            servers.stop(server)
            server = servers.start_raw({"root_bytes": 7941, "entity_bytes": 674, "list_bytes": 690000,
                                        "json_list_bytes": 337015, "create_bytes": 85}, work)
        request = SCENARIOS[args.scenario](filled["sample"])
        path = request.pop("path")
        load = Load(args.loadgen)
        load.run(server.url + path, 1, **request)                       # warm-up
        outputs = []
        for pid in server.worker_pids():
            output = work / f"spy-{pid}.txt"
            outputs.append(output)
            recorders.append(subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(args.seconds), "--rate", "200",
                 "--format", "raw", "--output", str(output), "--nonblocking", *(["--idle"] if args.idle else []),
                 *([] if args.all_threads else ["--gil"])],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(0.5)
        result = load.run(server.url + path, args.seconds, **request)
        for recorder in recorders:
            recorder.wait(timeout=args.seconds + 30)
        print(f"{'raw Falcon' if args.raw else 'accords'} {args.scenario}: {result.rate:,.0f}/s under py-spy ({result.ok} ok, {result.other} other)\n")
        print(summarise([o for o in outputs if o.exists()], args.top))
    finally:
        for recorder in recorders:
            if recorder.poll() is None:
                recorder.terminate()
                try:
                    recorder.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    recorder.kill()
                    recorder.wait(timeout=5)
        servers.stop(server)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
