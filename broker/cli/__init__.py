"""The ``accords`` command line."""
from __future__ import annotations

import argparse
import sys

from broker import components
from broker.cli import accounts, documents, identity, imports, inventory, providers, services, submit, users
from broker.cli import events, plan, scaling
from broker.cli.output import CliError
from occi.errors import OcciError

__all__ = ["main", "parser", "run"]


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="accords", description="accords: an OCCI cloud broker with SLA manifests")
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run one component as an OCCI server")
    serve.add_argument("component", help=f"one of: {', '.join(components.names())}")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8086, help="port to bind (default 8086)")
    serve.add_argument("--db", help="SQLAlchemy URL of the store (default: SQLite file in the data dir)")
    serve.add_argument("--data", help="data directory (default $ACCORDS_DATA or ~/.local/share/accords)")
    serve.add_argument("--publisher", help="URL of the publisher to publish this component's categories with")
    serve.add_argument("--security", help="URL of the security component that checks credentials "
                                          "(default: ask the publisher)")
    serve.add_argument("--credentials", help="this component's service credentials (JSON: user, password; "
                                             "default DIR/credentials/COMPONENT.json)")
    serve.add_argument("--zone", help="zone published with the categories (e.g. a data centre)")
    serve.add_argument("--operator", help="operator published with the categories")
    serve.add_argument("--publish-ttl", type=int, default=30,
                       help="seconds after which the publisher forgets us without a heartbeat (default 30)")
    serve.add_argument("--public-url", help="base of the absolute URLs in responses (behind a proxy)")
    serve.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    serve.add_argument("--certfile", help="TLS certificate (PEM); serve HTTPS")
    serve.add_argument("--keyfile", help="TLS private key (PEM)")
    serve.add_argument("--access-log", action="store_true",
                       help="log every request to stdout (one line each, with its request id)")
    serve.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="logs as text for humans (default) or one JSON object per line")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="accept every request without credentials (tests and local experiments only)")
    serve.add_argument("--json", action="store_true", help="print the start-up line as JSON")
    reconcile = serve.add_argument_group("provisioning's reconciler (each worker runs one)")
    reconcile.add_argument("--reconcile-interval", type=_positive, metavar="SECONDS",
                           help="how often it looks for due contracts besides being woken (default 0.5)")
    reconcile.add_argument("--reconcile-concurrency", type=int, metavar="N",
                           help="contracts it moves at once (default 8)")
    reconcile.add_argument("--lease", type=_positive, metavar="SECONDS",
                           help="how long a claimed contract is its own: another worker takes over a crashed "
                                "one's after this (default 120)")

    agent = sub.add_parser("agent", help="run the node agent (metadata, scripts, probes) on this node")
    agent.add_argument("--dir", required=True, help="the agent's directory (store, metadata.env, work/, logs/)")
    agent.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    agent.add_argument("--port", type=int, default=8286, help="port to bind; 0 picks a free one (default 8286)")
    agent.add_argument("--token-file", help="file holding the token callers must send (mode 0600; "
                                            "default DIR/token, created on first start)")
    agent.add_argument("--ready-file", help='written atomically once listening: {"url": ..., "pid": ...}')
    agent.add_argument("--json", action="store_true", help="print the start-up line as JSON")

    for name, text in (("up", "start the whole platform on loopback, supervised, until Ctrl-C"),
                       ("demo", "the main job of `make demo`; for now the same as `up`")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--base-port", type=int, default=8086,
                             help="the publisher's port; the other components take the next ones")
        command.add_argument("--data", help="data directory (default $ACCORDS_DATA or ~/.local/share/accords)")
        command.add_argument("--workers", type=int, default=1, help="worker processes per component (default 1)")
        command.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
        command.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)

    # Commands that talk to a running platform; each module adds its own and sets ``run``.
    for module in (inventory, identity, users, accounts, documents, submit, plan, services, scaling, events, imports,
                   providers):
        module.add_parsers(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        from broker.cli.serve import serve
        return serve(args)
    if args.command == "agent":
        from broker.agent.main import run as run_agent
        return run_agent(args)
    if args.command in ("up", "demo"):
        from broker.cli.up import up
        return up(args)
    return run(args)


def run(args) -> int:
    """A platform command; its failures as ``accords COMMAND [VERB]: message`` on stderr, exit 1
    (usage errors are argparse's: exit 2)."""
    label = " ".join(filter(None, ("accords", args.command, getattr(args, "verb", None))))
    try:
        return args.run(args)
    except CliError as exc:
        print(f"{label}: {exc.message}", file=sys.stderr)
        return exc.code
    except OcciError as exc:
        hint = "; run `accords login`" if exc.status == 401 else ""
        print(f"{label}: {exc.message}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
