"""``accords demo``: every component on loopback, their URLs, until Ctrl-C.

Until the broker exists this is the main job of ``make demo``; it will grow into
submitting the health-monitoring manifest.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import requests

from broker import components, settings

__all__ = ["demo"]


def _wait_ready(url: str, token: str, process: subprocess.Popen, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(url + "/-/", headers={"Authorization": f"Bearer {token}"}, timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def demo(args) -> int:
    data = settings.data_dir(args.data)
    token = settings.local_token(data)
    started: list[tuple[str, str, subprocess.Popen]] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        # The publisher first, at the base port; every other component publishes with it.
        names = ["publisher", *(n for n in components.names() if n != "publisher")]
        publisher_url = f"http://127.0.0.1:{args.base_port}"
        for offset, name in enumerate(names):
            port = args.base_port + offset
            extra = [] if name == "publisher" else ["--publisher", publisher_url]
            process = subprocess.Popen(
                [sys.executable, "-m", "broker", "serve", name, "--port", str(port), "--data", str(data),
                 "--workers", "1", *extra], stdout=subprocess.DEVNULL)
            started.append((name, f"http://127.0.0.1:{port}", process))
        rows = []
        for name, url, process in started:
            ready = _wait_ready(url, token, process, time.monotonic() + 30)
            rows.append({"component": name, "url": url, "ready": ready})
        if args.json:
            print(json.dumps({"components": rows, "token_file": str(settings.token_file(data))}), flush=True)
        else:
            print(f"{'component':<14} {'url':<28} state")
            for row in rows:
                print(f"{row['component']:<14} {row['url']:<28} {'ready' if row['ready'] else 'FAILED'}")
            print(f"\ntoken: {settings.token_file(data)}  (curl -H \"Authorization: Bearer $(cat "
                  f"{settings.token_file(data)})\" {rows[0]['url']}/-/)\nCtrl-C stops everything.", flush=True)
        if not all(row["ready"] for row in rows):
            return 1
        until = time.monotonic() + args.exit_after if args.exit_after is not None else None
        while not stopping and (until is None or time.monotonic() < until):
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for _, _, process in started:
            process.terminate()
        for _, _, process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
