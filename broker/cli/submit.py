"""``accords submit MANIFEST [--agreement FILE] [--provider NAME] [--wait] [--dry-run] [--plan-only] [--json]``:
documents sent to the platform, and the service deployed from them.

The manifest goes to the parser component (``POST /submit``, found through the publisher):
it is checked against what the platform already stores, stored as OCCI entities and its
plan kept by the broker. The agreement, if any, then goes to the sla component, with the
plan's node names so that its guarantee scopes are checked. Problems print as
``file:line:col: CODE message`` with the local file name; any error exits 1. ``--dry-run``
checks both documents on the platform and stores nothing.

Then the broker instantiates the plan as a service (``--plan-only`` stops before), on the
provider ``--provider`` names for every node, else where each node asks to go; with
``--wait`` every node is followed (a progress bar per node redrawn on stderr when it is a
terminal, else a line per change: :mod:`broker.cli.progress`) until the service runs or
fails (exit 1). ``--json`` prints one object: ``service``, ``agreement`` (URLs), ``state``,
``nodes`` (name, provider, state, hostname, agent), and the documents' answers.
"""
from __future__ import annotations

import sys
from pathlib import Path

from broker.cli.output import CliError, emit
from broker.cli.session import CliCredentials, add_platform_options, locate, occi_client
from occi.errors import OcciError

__all__ = ["add_parsers", "submit_files", "send_document", "DocumentRefused", "MANIFEST_CATEGORY", "AGREEMENT_CATEGORY"]

MANIFEST_CATEGORY = "http://scheme.compatibleone.fr/scheme/compatible#manifest"
AGREEMENT_CATEGORY = "http://scheme.compatibleone.fr/scheme/compatible#agreement"


def add_parsers(sub) -> None:
    command = sub.add_parser("submit", help="send a manifest (and its agreement) to the platform: stored, "
                                            "planned, ready to instantiate")
    command.add_argument("file", help="the CORDS manifest")
    command.add_argument("--agreement", help="the CORDS agreement for it (sent to the sla component)")
    command.add_argument("--dry-run", action="store_true", help="check on the platform, store nothing")
    command.add_argument("--plan-only", action="store_true", help="store the documents and the plan; deploy nothing")
    command.add_argument("--provider", help="provider every node goes to (default: the node's own, else the first)")
    command.add_argument("--wait", action="store_true", help="follow every node until the service runs or fails")
    command.add_argument("--keep-on-failure", action="store_true",
                         help="when a node fails, keep what succeeded (default: delete it, roll back)")
    command.add_argument("--timeout", type=float, default=900, help="seconds --wait waits at most (900)")
    add_platform_options(command, publisher=True)
    command.set_defaults(run=submit_files)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


class DocumentRefused(CliError):
    """The platform refused a document; ``problems`` as it listed them, named by the local path."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


def send_document(client, path: str, data: bytes, *, params: dict | None = None) -> dict:
    """POST ``data`` (a CORDS document read from ``path``) to ``/submit`` of the server ``client``
    talks to; the answer, with every problem's file set to ``path``. Refusals with located
    problems raise :class:`DocumentRefused`; other failures their OcciError."""
    query = {"name": Path(path).name, **(params or {})}
    try:
        response = client.transport.request("POST", "/submit", body=data, params=query,
                                            headers={"Content-Type": "application/xml",
                                                     "Accept": "application/json"})
    except OcciError as exc:
        problems = _problems_of(exc)
        if problems is None:
            raise
        raise DocumentRefused(exc.message.splitlines()[0].replace(query["name"], path, 1),
                              [{**p, "file": path} for p in problems]) from None
    body = response.json()
    body["problems"] = [{**p, "file": path} for p in body.get("problems", [])]
    return body


def _problems_of(error: OcciError) -> list[dict] | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    try:
        problems = response.json().get("error", {}).get("problems")
    except ValueError:
        return None
    return problems if isinstance(problems, list) else None


def _line(problem: dict) -> str:
    warning = "" if problem.get("severity") == "error" else "warning: "
    return f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['code']} {warning}{problem['message']}"


def submit_files(args) -> int:
    manifest_data = _read(args.file)
    agreement_data = _read(args.agreement) if args.agreement else None
    platform = locate(args)
    credentials = CliCredentials(platform)
    publisher = occi_client(platform.need_publisher(), credentials)
    params = {"dry_run": "1"} if args.dry_run else {}
    report: dict = {"ok": False, "dry_run": bool(args.dry_run)}
    try:
        parser = occi_client(_url_for(publisher, MANIFEST_CATEGORY, "parser"), credentials)
        print(f"submitting {args.file} to {parser.transport.base_url}", file=sys.stderr)
        report["manifest"] = manifest = send_document(parser, args.file, manifest_data, params=params)
        if agreement_data is not None:
            sla = occi_client(_url_for(publisher, AGREEMENT_CATEGORY, "sla"), credentials)
            print(f"submitting {args.agreement} to {sla.transport.base_url}", file=sys.stderr)
            nodes = ",".join(node["name"] for node in (manifest.get("compiled") or {}).get("nodes", []))
            extra = {**params, "nodes": nodes}
            if manifest.get("manifest"):
                extra["manifest"] = manifest["manifest"]
            report["agreement_document"] = sent = send_document(sla, args.agreement, agreement_data, params=extra)
            report["agreement"] = sent.get("agreement")
    except DocumentRefused as refused:
        report["refused"] = {"message": refused.message, "problems": refused.problems}
        emit(args, report, lambda d: "\n".join([*(_line(p) for p in refused.problems), f"refused: {refused.message}"]))
        if "manifest" in report and not args.dry_run:
            print(f"the manifest was stored ({report['manifest'].get('manifest')}); fix the agreement and send it "
                  "again", file=sys.stderr)
        return 1
    if args.dry_run or args.plan_only:
        report["ok"] = True
        emit(args, report, _text)
        return 0
    from broker.cli import services

    broker = occi_client(_url_for(publisher, services.SERVICE_CATEGORY, "broker"), credentials)
    url = services.instantiate(broker, manifest["plan"], provider=args.provider, agreement=report.get("agreement"),
                               rollback=not args.keep_on_failure)
    print(f"service {url}: deploying", file=sys.stderr)
    attributes = services.follow(broker, url, until=("running",), timeout=args.timeout, quiet=False) \
        if args.wait else broker.get(url).attributes
    report.update(services.summary(url, attributes))
    report["ok"] = report["state"] != "failed"
    emit(args, report, _text)
    return 0 if report["ok"] else 1


def _url_for(publisher, category: str, component: str) -> str:
    from occi.errors import NotFound
    from occi.publisher.client import PublisherClient

    try:
        return PublisherClient(publisher.transport.base_url, client=publisher).url_for(category)
    except NotFound:
        raise CliError(f"no {component} component is published: is the platform up (`accords components`)?") \
            from None


def _text(report: dict) -> str:
    manifest = report["manifest"]
    lines = [_line(p) for p in manifest.get("problems", [])]
    compiled = manifest.get("compiled") or {}
    order = " -> ".join(compiled.get("order", []))
    if report["dry_run"]:
        lines.append(f"manifest {manifest['name']}: valid on the platform; nodes in start order: {order} "
                     "(nothing stored)")
    else:
        lines.append(f"manifest {manifest['name']}: {manifest['manifest']}")
        lines.append(f"plan: {manifest['plan']}")
        lines.append(f"nodes in start order: {order}")
        reused = ", ".join(f"{r['kind']} {r['name']}" for r in manifest.get("reused", []))
        lines.append(f"stored {manifest.get('written', 0)} entities and links"
                     + (f"; reused {reused}" if reused else ""))
    agreement = report.get("agreement_document")
    if agreement is not None:
        lines += [_line(p) for p in agreement.get("problems", [])]
        where = "valid (nothing stored)" if report["dry_run"] else agreement.get("agreement") or agreement.get("cords")
        lines.append(f"agreement {agreement.get('name')}: {where}")
    if report.get("service"):
        lines.append(f"service {report['service']}: {report['state']}" +
                     (f" ({report['message']})" if report.get("message") else ""))
        for node in report.get("nodes", []):
            where = " ".join(filter(None, (node.get("hostname"), node.get("agent"))))
            lines.append(f"  {node['name']}: {node['state']} on {node.get('provider') or '?'} {where}".rstrip())
    return "\n".join(lines)
