"""``accords events SERVICE [--follow] [--interval S] [--timeout S] [--json]``: every step of a
service's contracts (who did what, when, and how it went), oldest first.

The events are the provisioning component's ``event`` entities of the service
(``GET /event/?occi.event.service=URL``), written by the hooks (a user's request) and the
reconciler (each step, before its side effect, and its outcome). ``--follow`` keeps asking
every ``--interval`` seconds (default 1, between 0.2 and 30) and prints the new ones until
the service settles (running, stopped, deleted or failed: one last look, then exit), until
``--timeout`` (default 3600 s, exit 1) or until Ctrl-C (exit 130). ``--json`` prints a JSON
array, or with ``--follow`` one JSON object per line as the events come (JSON Lines). With
``--follow``, exit 1 when the service ends failed.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from broker.cli.output import CliError, table
from broker.cli.services import SETTLED, clients, resolve
from broker.cli.session import add_platform_options

__all__ = ["add_parsers", "fetch", "row", "show_events", "MIN_INTERVAL", "MAX_INTERVAL"]

E = "occi.event."
MIN_INTERVAL, MAX_INTERVAL = 0.2, 30.0
_COLUMNS = (("when", "when"), ("node", "node"), ("who", "who"), ("what", "what"), ("outcome", "outcome"),
            ("change", "state"), ("message", "message"))


def add_parsers(sub) -> None:
    command = sub.add_parser("events", help="what happened to a service's nodes: who, what, when, outcome")
    command.add_argument("service", help="service URL or name")
    command.add_argument("--follow", action="store_true", help="keep printing new events until the service settles")
    command.add_argument("--interval", type=float, default=1.0,
                         help=f"seconds between looks with --follow (default 1; {MIN_INTERVAL:g} to {MAX_INTERVAL:g})")
    command.add_argument("--timeout", type=float, default=3600, help="seconds --follow follows at most (3600)")
    add_platform_options(command, publisher=True)
    command.set_defaults(run=show_events)


def row(entity) -> dict:
    """One event as the command shows it (and as ``--json`` prints it)."""
    a = entity.attributes
    at = a.get(E + "at")
    before, after = a.get(E + "from"), a.get(E + "to")
    return {"at": at, "when": _when(at), "node": a.get(E + "node"), "who": a.get(E + "who"),
            "what": a.get(E + "what"), "outcome": a.get(E + "outcome"), "from": before, "to": after,
            "change": f"{before or '-'} -> {after}" if after and after != before else None,
            "message": a.get(E + "message"), "contract": a.get(E + "contract"), "event": entity.id}


def _when(at) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(float(at), timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fetch(provisioning, service: str) -> list[dict]:
    """Every event of ``service``, oldest first (ties in the order they were stored)."""
    found = provisioning.list_entities("/event/", filters={E + "service": service})
    rows = [row(entity) for entity in found]
    return sorted(rows, key=lambda r: float(r["at"] or 0))      # stable: the store lists in insertion order


def _print(rows: list[dict], *, as_json: bool, header: bool) -> None:
    if as_json:
        for item in rows:
            print(json.dumps(item), flush=True)
        return
    text = table(rows, _COLUMNS)
    print("\n".join(text.splitlines()[0 if header else 1:]), flush=True)


def show_events(args) -> int:
    if not MIN_INTERVAL <= args.interval <= MAX_INTERVAL:
        raise CliError(f"--interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds", code=2)
    broker, provisioning = clients(args, provisioning=True)
    url = resolve(broker, args.service)
    if not args.follow:
        rows = fetch(provisioning, url)
        if args.json:
            print(json.dumps(rows))
        else:
            print(table(rows, _COLUMNS) if rows else f"no events for {url}")
        return 0
    return _follow(args, broker, provisioning, url)


def _follow(args, broker, provisioning, url: str) -> int:
    deadline = time.monotonic() + args.timeout
    seen: set[str] = set()
    header = not args.json
    while True:
        # The service's state first: events read after it include everything up to it.
        state = broker.get(url).attributes.get("occi.service.state")
        new = [r for r in fetch(provisioning, url) if r["event"] not in seen]
        if new:
            # A table re-aligned per batch: columns line up within a batch, not across them.
            _print(new, as_json=args.json, header=header)
            header = False
            seen.update(r["event"] for r in new)
        if state in SETTLED:
            return 1 if state == "failed" else 0
        if time.monotonic() >= deadline:
            raise CliError(f"the service is still {state} after {args.timeout:.0f} s: {url}")
        time.sleep(args.interval)
