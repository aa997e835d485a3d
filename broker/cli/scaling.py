"""Scaling and images from the command line:

- ``accords scaleup SERVICE NODE [--count N] [--wait]``: N more copies of a simple node
  (``NODE-2``, ``NODE-3`` …), each configured as the node is;
- ``accords scaledown SERVICE NODE [--count N] [--wait]``: the newest N copies deleted (never
  the node itself);
- ``accords snapshot|save SERVICE [--name PREFIX]``: an image of every node of the service's
  own (save: each node is created from it whenever it is created again). Images are taken in
  the background; each contract lists its own (``accords events SERVICE`` says how it went).

``--wait`` follows the nodes until none is on its way anywhere (a progress line per node on
stderr); ``--json`` prints the service's summary as ``accords status`` does. Exit 1 when the
service ends failed.
"""
from __future__ import annotations

import sys
import time

from broker.cli.output import CliError, emit
from broker.cli.progress import NodeProgress
from broker.cli.services import SERVICE_ACTIONS, SETTLED, clients, resolve, service_text, summary
from broker.cli.session import add_platform_options

__all__ = ["add_parsers", "MOVING"]

#: Node states on the way somewhere: --wait waits until no node is in one.
MOVING = ("pending", "creating", "configuring", "starting", "stopping", "deleting")


def add_parsers(sub) -> None:
    for verb, text in (("scaleup", "add copies of a simple node of a service (NODE-2, NODE-3 ...)"),
                       ("scaledown", "delete the newest copies of a node of a service")):
        command = sub.add_parser(verb, help=text)
        command.add_argument("service", help="service URL or name")
        command.add_argument("node", help="the node (a simple node of the service's own)")
        command.add_argument("--count", type=int, default=1, help="how many copies (1 to 100; default 1)")
        _wait_options(command)
        command.set_defaults(run=scale, service_action=verb)
    for verb, text in (("snapshot", "take an image of every node of a service's own"),
                       ("save", "take an image of every node of a service's own and create each node from it "
                                "from now on")):
        command = sub.add_parser(verb, help=text)
        command.add_argument("service", help="service URL or name")
        command.add_argument("--name", help="prefix of the images' names (each is PREFIX-NODE)")
        add_platform_options(command, publisher=True)
        command.set_defaults(run=take_images, service_action=verb)


def _wait_options(command) -> None:
    command.add_argument("--wait", action="store_true", help="follow the nodes until none is on its way")
    command.add_argument("--timeout", type=float, default=600, help="seconds --wait waits at most (600)")
    add_platform_options(command, publisher=True)


def scale(args) -> int:
    broker = clients(args)
    url = resolve(broker, args.service)
    broker.action(url, args.service_action, scheme=SERVICE_ACTIONS, node=args.node, count=args.count)
    attributes = _settle(broker, url, timeout=args.timeout) if args.wait else broker.get(url).attributes
    report = summary(url, attributes)
    emit(args, report, service_text)
    return 1 if report["state"] == "failed" else 0


def take_images(args) -> int:
    broker = clients(args)
    url = resolve(broker, args.service)
    extra = {"name": args.name} if args.name else {}
    broker.action(url, args.service_action, scheme=SERVICE_ACTIONS, **extra)
    report = summary(url, broker.get(url).attributes)
    emit(args, report, lambda r: f"service {r['name']}: an image of each node is being taken "
                                 f"(`accords events {r['name']}` says how it goes)")
    return 0


def _settle(broker, url: str, *, timeout: float) -> dict:
    """Poll the service until it is settled and no node is on its way (progress on stderr)."""
    deadline = time.monotonic() + timeout
    progress = NodeProgress(goal="running", stream=sys.stderr)
    while True:
        attributes = broker.get(url).attributes
        nodes = attributes.get("occi.service.nodes") or {}
        progress.update(nodes)
        state = attributes.get("occi.service.state")
        if state in SETTLED and not any(entry.get("state") in MOVING for entry in nodes.values()):
            return attributes
        if time.monotonic() >= deadline:
            raise CliError(f"the service is still {state} after {timeout:.0f} s: {url} (follow it with "
                           "`accords status`)")
        time.sleep(0.25)
