"""``accords components``: the running platform's components and their health, from the publisher.

Every component but the publisher publishes its kinds there; the rows group those
publications by component and server (identity and base URL), and the publisher itself
is added (it publishes nothing, yet everything depends on it). Health is each server's
``GET /readyz``, asked in parallel with a short timeout so that one hung server cannot
stall the listing. ``--available`` (or no platform known) lists instead what this
installation can serve: the registry of broker.components.
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from broker import components
from broker.cli.output import CliError, emit, table
from broker.cli.session import CliCredentials, NotLoggedIn, add_platform_options, locate, occi_client
from occi.publisher.model import PUBLICATION

__all__ = ["add_parsers", "list_components", "available", "published_components", "check_health", "HEALTH_TIMEOUT"]

HEALTH_TIMEOUT = 2.0
HEALTHY, NOT_READY, UNREACHABLE = "healthy", "not ready", "unreachable"


def add_parsers(sub) -> None:
    parser = sub.add_parser("components", help="the platform's components and their health (with --available, "
                                               "or when no platform is known: what this installation can serve)")
    parser.add_argument("--available", action="store_true",
                        help="list the components this installation can serve instead of the running ones")
    add_platform_options(parser, publisher=True)
    parser.set_defaults(run=list_components)


def available() -> list[dict]:
    return [{"name": name, "summary": components.load(name).summary} for name in components.names()]


def published_components(client, publisher_url: str) -> list[dict]:
    """One row per (component, base URL) among the publications, plus the publisher itself."""
    groups: dict[tuple[str, str], dict] = {}
    for entity in client.list_entities(PUBLICATION.location):
        attributes = entity.attributes
        url = attributes["occi.publication.why"].rstrip("/")
        name = attributes.get("occi.publication.identity") or url
        row = groups.setdefault((name, url), {
            "name": name, "url": url, "categories": [], "zone": attributes.get("occi.publication.zone"),
            "operator": attributes.get("occi.publication.operator")})
        category = attributes.get("occi.publication.category") or attributes["occi.publication.what"]
        if category not in row["categories"]:
            row["categories"].append(category)
    if not any(url == publisher_url for _, url in groups):
        groups[("publisher", publisher_url)] = {"name": "publisher", "url": publisher_url,
                                                "categories": [PUBLICATION.type_id], "zone": None, "operator": None}
    rows = sorted(groups.values(), key=lambda r: (r["name"], r["url"]))
    for row in rows:
        row["categories"].sort()
    return rows


def check_health(url: str, timeout: float = HEALTH_TIMEOUT) -> dict:
    """``GET url/readyz``: health (healthy, not ready, unreachable), HTTP status and latency."""
    started = time.perf_counter()
    try:
        answer = requests.get(url + "/readyz", timeout=timeout)
    except requests.RequestException:
        return {"health": UNREACHABLE, "status": None, "latency_ms": None}
    latency = round((time.perf_counter() - started) * 1000, 1)
    answer.close()
    return {"health": HEALTHY if answer.status_code == 200 else NOT_READY, "status": answer.status_code,
            "latency_ms": latency}


def _terms(categories: list[str]) -> list[str]:
    return [c.rpartition("#")[2] for c in categories]


def _text(rows: list[dict]) -> str:
    shown = [{**row, "latency": f"{row['latency_ms']:.0f} ms" if row["latency_ms"] is not None else None,
              "terms": _terms(row["categories"])} for row in rows]
    return table(shown, (("name", "NAME"), ("url", "URL"), ("health", "HEALTH"), ("latency", "LATENCY"),
                         ("zone", "ZONE"), ("operator", "OPERATOR"), ("terms", "CATEGORIES")))


def list_components(args) -> int:
    platform = locate(args)
    if args.available or not platform.publisher:
        emit(args, available(), lambda rows: "\n".join(f"{r['name']:<14} {r['summary']}" for r in rows))
        return 0
    client = occi_client(platform.publisher, CliCredentials(platform))
    try:
        rows = published_components(client, platform.publisher)
    except NotLoggedIn as exc:
        raise CliError(f"{exc.message} (`accords components --available` needs no login)") from None
    with ThreadPoolExecutor(max_workers=min(16, len(rows))) as pool:
        for row, health in zip(rows, pool.map(lambda r: check_health(r["url"]), rows)):
            row.update(health)
    emit(args, rows, _text)
    unhealthy = [f"{row['name']} ({row['health']})" for row in rows if row["health"] != HEALTHY]
    if unhealthy:
        print(f"accords components: not healthy: {', '.join(unhealthy)}", file=sys.stderr)
        return 1
    return 0
