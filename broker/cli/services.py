"""Services from the command line: ``accords services``, ``accords status SERVICE``,
``accords start|stop|restart|delete SERVICE [--wait]``, and what ``accords submit --wait``
does after the manifest is stored (instantiate the plan, follow every node).

SERVICE is a service URL or a service name (the newest service of that name). Following a
service prints a line on stderr each time a node changes state; ``--json`` prints one object
at the end: ``service``, ``state``, ``message`` and ``nodes`` (name, provider, state,
hostname, agent, message). Exit 1 when the service ends failed.
"""
from __future__ import annotations

import json
import sys
import time

from broker.cli.output import CliError, emit, table
from broker.cli.session import CliCredentials, add_platform_options, locate, occi_client

__all__ = ["add_parsers", "SERVICE_CATEGORY", "instantiate", "follow", "summary"]

SERVICE_CATEGORY = "http://scheme.compatibleone.fr/scheme/compatible#service"
PLAN_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#"
SERVICE_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/service/action#"


def add_parsers(sub) -> None:
    listing = sub.add_parser("services", help="the services of your account, with their state")
    add_platform_options(listing, publisher=True)
    listing.set_defaults(run=list_services)

    status = sub.add_parser("status", help="a service and each of its nodes: state, provider, addresses")
    status.add_argument("service", help="service URL or name")
    add_platform_options(status, publisher=True)
    status.set_defaults(run=show_status)

    for verb, text in (("start", "start every node of a service (configuration runs again)"),
                       ("stop", "stop every node of a service, keeping its resources"),
                       ("restart", "stop then start every node of a service"),
                       ("delete", "delete every node of a service and what it holds at its provider")):
        command = sub.add_parser(verb, help=text)
        command.add_argument("service", help="service URL or name")
        command.add_argument("--wait", action="store_true", help="follow the nodes until the service settles")
        command.add_argument("--timeout", type=float, default=600, help="seconds --wait waits at most (600)")
        add_platform_options(command, publisher=True)
        command.set_defaults(run=act, service_action=verb)


def _broker(args):
    from broker.cli.submit import _url_for

    platform = locate(args)
    credentials = CliCredentials(platform)
    publisher = occi_client(platform.need_publisher(), credentials)
    return occi_client(_url_for(publisher, SERVICE_CATEGORY, "broker"), credentials)


def _resolve(broker, given: str) -> str:
    if "://" in given or given.startswith("/service/"):
        return broker.transport.url(given)
    found = broker.list_entities("/service/", filters={"occi.service.name": given})
    if not found:
        raise CliError(f"no service named {given!r} (see `accords services`)")
    newest = max(found, key=lambda e: e.attributes.get("occi.service.created") or 0)
    return broker.transport.url(newest.location)


def summary(url: str, attributes: dict) -> dict:
    nodes = attributes.get("occi.service.nodes") or {}
    return {"service": url, "name": attributes.get("occi.service.name"), "state": attributes.get("occi.service.state"),
            "message": attributes.get("occi.service.message"), "agreement": attributes.get("occi.service.sla"),
            "nodes": [{"name": name, "provider": report.get("provider"), "state": report.get("state"),
                       "hostname": report.get("hostname"), "agent": report.get("agent"),
                       "contract": report.get("contract"), "message": report.get("message")}
                      for name, report in sorted(nodes.items())]}


def _text(report: dict) -> str:
    lines = [f"service {report.get('name')}: {report['state']}  {report['service']}"]
    if report.get("message"):
        lines.append(f"  {report['message']}")
    lines.append(table(report["nodes"], (("node", "name"), ("state", "state"), ("provider", "provider"),
                                         ("hostname", "hostname"), ("agent", "agent"))))
    return "\n".join(lines)


def follow(broker, url: str, *, until: tuple[str, ...], timeout: float, quiet: bool = False) -> dict:
    """Poll the service until its state is one of ``until`` or failed; a stderr line per change."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while True:
        attributes = broker.get(url).attributes
        for name, report in sorted((attributes.get("occi.service.nodes") or {}).items()):
            line = f"{report.get('state')}" + (f" ({report['message']})" if report.get("message") else "")
            if seen.get(name) != line and not quiet:
                where = f" on {report['provider']}" if report.get("provider") else ""
                print(f"  {name}{where}: {line}", file=sys.stderr)
            seen[name] = line
        state = attributes.get("occi.service.state")
        if state in until or state == "failed":
            return attributes
        if time.monotonic() >= deadline:
            raise CliError(f"the service is still {state} after {timeout:.0f} s: {url} (follow it with "
                           "`accords status`)")
        time.sleep(0.25)


def instantiate(broker, plan: str, *, provider: str | None, agreement: str | None, rollback: bool) -> str:
    """``plan?action=instance``: the new service's URL."""
    attributes = {"rollback": rollback}
    if provider:
        attributes["provider"] = provider
    if agreement:
        attributes["sla"] = agreement
    response = broker.transport.request(
        "POST", plan, params={"action": "instance"},
        headers={"Content-Type": "application/occi+json", "Accept": "application/occi+json"},
        body=json.dumps({"action": PLAN_ACTIONS + "instance", "attributes": attributes}).encode())
    location = response.headers.get("Location")
    if not location:
        raise CliError(f"the broker instantiated {plan} but did not say where the service is")
    return broker.transport.url(location)


def list_services(args) -> int:
    broker = _broker(args)
    rows = [{**summary(broker.transport.url(e.location), e.attributes), "nodes": len(
        e.attributes.get("occi.service.nodes") or {})} for e in broker.list_entities("/service/")]
    emit(args, rows, lambda r: table(r, (("name", "name"), ("state", "state"), ("nodes", "nodes"),
                                          ("service", "service"))) if r else "no services")
    return 0


def show_status(args) -> int:
    broker = _broker(args)
    url = _resolve(broker, args.service)
    report = summary(url, broker.get(url).attributes)
    emit(args, report, _text)
    return 1 if report["state"] == "failed" else 0


def act(args) -> int:
    broker = _broker(args)
    url = _resolve(broker, args.service)
    broker.action(url, args.service_action, scheme=SERVICE_ACTIONS)
    if not args.wait:
        attributes = broker.get(url).attributes
        emit(args, summary(url, attributes), lambda r: f"service {r['name']}: {r['state']}  {r['service']}")
        return 0
    goal = {"start": ("running",), "restart": ("running",), "stop": ("stopped",), "delete": ("deleted",)}
    attributes = follow(broker, url, until=goal[args.service_action], timeout=args.timeout)
    report = summary(url, attributes)
    emit(args, report, _text)
    return 1 if report["state"] == "failed" else 0
