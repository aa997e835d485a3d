"""Services from the command line: ``accords services``, ``accords status SERVICE``,
``accords start|stop|restart|delete SERVICE [--wait]``, and what ``accords submit --wait``
does after the manifest is stored (instantiate the plan, follow every node).

SERVICE is a service URL or a service name (the newest service of that name). Following a
service shows a progress line per node on stderr (:mod:`broker.cli.progress`: redrawn in place
on a terminal, a line per change elsewhere); ``--json`` prints one object at the end:
``service``, ``state``, ``message`` and ``nodes`` (name, provider, state, hostname, agent,
message). Exit 1 when the service ends failed.

``accords status`` also asks the provisioning component what the providers really report
(``GET /drift``; ``--no-check`` skips it): each node gets ``reported`` and ``verdict``, the
report a ``drift`` list (empty: none; null: not checked) and ``extra`` nodes. Exit 1 when the
service failed, else 2 when drift was found, else 0; a provider that could not be asked is
shown as unknown and does not change the exit status.
"""
from __future__ import annotations

import json
import sys
import time

from broker.cli.output import CliError, emit, table
from broker.cli.progress import NodeProgress
from broker.cli.session import CliCredentials, add_platform_options, locate, occi_client
from occi.errors import OcciError

__all__ = ["add_parsers", "SERVICE_CATEGORY", "CONTRACT_CATEGORY", "instantiate", "follow", "summary", "clients",
           "resolve", "SETTLED", "EXIT_DRIFT", "service_text"]

SERVICE_CATEGORY = "http://scheme.compatibleone.fr/scheme/compatible#service"
CONTRACT_CATEGORY = "http://scheme.compatibleone.fr/scheme/compatible#contract"
#: Service states in which nothing moves until someone asks for something.
SETTLED = ("running", "stopped", "deleted", "failed")
#: ``accords status``'s exit status when the providers report something else than believed.
EXIT_DRIFT = 2
PLAN_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#"
SERVICE_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/service/action#"


def add_parsers(sub) -> None:
    listing = sub.add_parser("services", help="the services of your account, with their state")
    add_platform_options(listing, publisher=True)
    listing.set_defaults(run=list_services)

    status = sub.add_parser("status", help="a service and each of its nodes: state, provider, addresses")
    status.add_argument("service", help="service URL or name")
    status.add_argument("--no-check", action="store_true",
                        help="do not ask the providers what they report (no drift check)")
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


def clients(args, *, provisioning: bool = False):
    """The broker's client, and the provisioning component's too when asked: found through the publisher."""
    from broker.cli.submit import _url_for

    platform = locate(args)
    credentials = CliCredentials(platform)
    publisher = occi_client(platform.need_publisher(), credentials)
    broker = occi_client(_url_for(publisher, SERVICE_CATEGORY, "broker"), credentials)
    if not provisioning:
        return broker
    return broker, occi_client(_url_for(publisher, CONTRACT_CATEGORY, "provisioning"), credentials)


def _broker(args):
    return clients(args)


def resolve(broker, given: str) -> str:
    """The URL of the service ``given`` names (a URL, a /service/ path, or a name: the newest)."""
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


def service_text(report: dict) -> str:
    lines = [f"service {report.get('name')}: {report['state']}  {report['service']}"]
    if report.get("message"):
        lines.append(f"  {report['message']}")
    checked = report.get("drift") is not None
    columns = (("name", "node"), ("state", "believed" if checked else "state"),
               *((("reported_state", "reported"), ("verdict", "check")) if checked else ()),
               ("provider", "provider"), ("hostname", "hostname"), ("agent", "agent"))
    rows = [{**node, "reported_state": (node.get("reported") or {}).get("state")} for node in report["nodes"]]
    lines.append(table(rows, columns))
    if report.get("check_error"):
        lines.append(f"drift: not checked: {report['check_error']}")
    elif checked:
        lines += _drift_lines(report)
    return "\n".join(lines)


def _drift_lines(report: dict) -> list[str]:
    lines = []
    for node in report["nodes"]:
        if node.get("verdict") == "unknown":
            lines.append(f"  {node['name']}: {node.get('check')}")
    for entry in report.get("unknown_providers") or []:
        lines.append(f"  provider {entry['provider']}: unknown, because {entry['message']}")
    drift = report["drift"]
    if not drift:
        lines.append("drift: none (every provider reports what the broker believes)" if not lines
                     else "drift: none found where the providers answered")
        return lines
    lines.append(f"drift: {len(drift)} finding{'s' * (len(drift) > 1)}")
    lines += [f"  {entry['kind']}: {entry['message']}" for entry in drift]
    return lines


def with_drift(report: dict, provisioning, url: str) -> dict:
    """``report`` (a :func:`summary`) with what the providers report: per node ``reported``,
    ``verdict`` and ``check``; ``drift``, ``extra``, ``unknown_providers``; or ``check_error``."""
    try:
        answer = provisioning.transport.request("GET", "/drift", params={"service": url},
                                                headers={"Accept": "application/json"}).json()
    except (OcciError, OSError, ValueError) as exc:
        # The broker's view is still worth showing: say why the providers' is missing.
        report.update(drift=None, extra=None, check_error=getattr(exc, "message", None) or exc.__class__.__name__)
        return report
    checks = {entry["node"]: entry for entry in answer.get("nodes", [])}
    for node in report["nodes"]:
        entry = checks.get(node["name"]) or {}
        node.update(reference=(entry.get("believed") or {}).get("reference"), reported=entry.get("reported"),
                    verdict=entry.get("verdict"), check=entry.get("message"))
    report.update(drift=answer.get("drift", []), extra=answer.get("extra", []),
                  unknown_providers=[u for u in answer.get("unknown", []) if not u.get("node")])
    return report


def follow(broker, url: str, *, until: tuple[str, ...], timeout: float, quiet: bool = False,
           progress: NodeProgress | None = None) -> dict:
    """Poll the service until its state is one of ``until`` or failed, showing each node's progress
    on stderr (``progress``, by default one for ``until[0]``; nothing when ``quiet``)."""
    deadline = time.monotonic() + timeout
    if progress is None and not quiet:
        progress = NodeProgress(goal=until[0], stream=sys.stderr)
    while True:
        attributes = broker.get(url).attributes
        if progress is not None:
            progress.update(attributes.get("occi.service.nodes") or {})
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
    url = resolve(broker, args.service)
    report = summary(url, broker.get(url).attributes)
    report.update(drift=None, extra=None)
    if not args.no_check:
        try:
            provisioning = clients(args, provisioning=True)[1]
        except CliError as exc:
            report["check_error"] = exc.message
        else:
            with_drift(report, provisioning, url)
    emit(args, report, service_text)
    if report["state"] == "failed":
        return 1
    return EXIT_DRIFT if report.get("drift") else 0


def act(args) -> int:
    broker = _broker(args)
    url = resolve(broker, args.service)
    broker.action(url, args.service_action, scheme=SERVICE_ACTIONS)
    if not args.wait:
        attributes = broker.get(url).attributes
        emit(args, summary(url, attributes), lambda r: f"service {r['name']}: {r['state']}  {r['service']}")
        return 0
    goal = {"start": ("running",), "restart": ("running",), "stop": ("stopped",), "delete": ("deleted",)}
    attributes = follow(broker, url, until=goal[args.service_action], timeout=args.timeout)
    report = summary(url, attributes)
    emit(args, report, service_text)
    return 1 if report["state"] == "failed" else 0
