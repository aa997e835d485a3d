"""Where a request's time goes: cProfile of the accords WSGI app, in process, on a store.

The raw Falcon baseline already pays for gunicorn and the HTTP parsing, so what accords
costs beyond it is the app itself: this calls the app (the one ``accords serve`` builds)
directly with prepared WSGI environs and profiles only those calls.

``python -m bench.profile DB_PATH METHOD PATH [--header 'Name: value'] [--body TEXT] [-n N]``
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import time
from collections import defaultdict

from falcon import testing

__all__ = ["profile_requests", "format_profile"]

_SITE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_BUILTIN_OWNER = re.compile(r"of '([A-Za-z0-9_]+)[.']")


def _bucket(filename: str, function: str) -> str:
    """A package-level name for a profiled function: occi.server.io, sqlalchemy, json, ..."""
    if filename == "~":
        owner = _BUILTIN_OWNER.search(function)
        return f"builtin ({owner.group(1)})" if owner else "builtin"
    site = _SITE.search(filename)
    if site:
        return site.group(1)
    for package in ("occi", "broker", "bench"):
        marker = f"/{package}/"
        if marker in filename:
            tail = filename.rsplit(marker, 1)[1].removesuffix(".py").replace("/", ".")
            return f"{package}.{tail}"
    stdlib = filename.rsplit("/", 1)[-1].removesuffix(".py")
    return f"stdlib {stdlib}"


def profile_requests(db_url: str, method: str, path: str, *, headers: dict | None = None, body: str = "",
                     query: str = "", requests: int = 500, warmup: int = 20, expect: int = 200) -> dict:
    """Profile ``requests`` calls of the provisioning app on ``db_url``; returns the stats."""
    from broker.cli.serve import build_app

    app = build_app("provisioning", db_url=db_url, token=None)
    environs = [testing.create_environ(path=path, query_string=query, method=method, headers=headers or {},
                                       body=body, host="127.0.0.1", port=8086)
                for _ in range(warmup + 2 * requests)]
    statuses: list[str] = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    def call(environ):
        for _ in app(environ, start_response):
            pass

    for environ in environs[:warmup]:
        call(environ)
    started = time.perf_counter()
    for environ in environs[warmup:warmup + requests]:
        call(environ)
    elapsed = time.perf_counter() - started
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in environs[warmup + requests:]:
        call(environ)
    profiler.disable()
    wrong = [s for s in statuses if not s.startswith(str(expect))]
    if wrong:
        raise RuntimeError(f"{method} {path} answered {wrong[0]} in the profile run")
    stats = pstats.Stats(profiler)
    functions = []
    buckets: dict[str, float] = defaultdict(float)
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        name = f"{filename.rsplit('site-packages/', 1)[-1].rsplit('/work/main/', 1)[-1]}:{line}({function})" \
            if filename != "~" else function
        functions.append({"function": name, "calls": calls, "tottime": tottime, "cumtime": cumtime})
        buckets[_bucket(filename, function)] += tottime
    total = sum(buckets.values()) or 1.0
    return {
        "requests": requests, "us_per_request": elapsed / requests * 1e6,
        "profiled_us_per_request": total / requests * 1e6,
        "by_tottime": sorted(functions, key=lambda f: -f["tottime"]),
        "by_cumtime": sorted(functions, key=lambda f: -f["cumtime"]),
        "by_package": sorted(({"package": k, "share": v / total, "us_per_request": v / requests * 1e6}
                              for k, v in buckets.items()), key=lambda b: -b["share"]),
    }


def format_profile(result: dict, top: int = 15) -> str:
    """Markdown: the time by package and the heaviest functions (own time)."""
    n = result["requests"]
    out = io.StringIO()
    out.write(f"{n} requests in process, app only (no HTTP server): {result['us_per_request']:.0f} µs per request "
              f"without the profiler, {result['profiled_us_per_request']:.0f} µs under cProfile.\n\n")
    out.write("| package or module | share of own time | µs/request |\n|---|---:|---:|\n")
    for bucket in result["by_package"][:top]:
        out.write(f"| {bucket['package']} | {bucket['share']:.1%} | {bucket['us_per_request']:.1f} |\n")
    out.write("\n| function (own time) | calls/request | own µs/request | cumulative µs/request |\n"
              "|---|---:|---:|---:|\n")
    for function in result["by_tottime"][:top]:
        out.write(f"| `{function['function']}` | {function['calls'] / n:.1f} | {function['tottime'] / n * 1e6:.1f} | "
                  f"{function['cumtime'] / n * 1e6:.1f} |\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("db", help="SQLite file or SQLAlchemy URL of a provisioning store")
    parser.add_argument("method")
    parser.add_argument("path", help="path, optionally with ?query")
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--body", default="")
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("-n", "--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cumulative", action="store_true", help="also list functions by cumulative time")
    args = parser.parse_args(argv)
    path, _, query = args.path.partition("?")
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    db = args.db if "://" in args.db else f"sqlite:///{args.db}"
    result = profile_requests(db, args.method, path, headers=headers, body=args.body.replace("\\n", "\n"),
                              query=query, requests=args.requests, expect=args.expect)
    print(format_profile(result, args.top))
    if args.cumulative:
        print("| function (cumulative) | calls/request | cumulative µs/request |\n|---|---:|---:|")
        for function in result["by_cumtime"][:args.top]:
            print(f"| `{function['function']}` | {function['calls'] / args.requests:.1f} | "
                  f"{function['cumtime'] / args.requests * 1e6:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
