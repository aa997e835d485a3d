"""``accords plan MANIFEST --dry-run [--agreement FILE] [--provider NAME] [--json]``: where each node
would go, and why, without storing or creating anything.

The manifest goes to the parser's dry run (``POST /submit?dry_run=1``, as ``accords submit
--dry-run``: checked against what the platform stores, compiled, nothing kept), the agreement
to the sla component's dry run; the compiled nodes then go to the provisioning component's
placement question (``POST /preview``), which answers per node the provider, the reason, the
image and the size, and what cannot be placed and why. Exit 1 when a document is refused or
a node cannot be placed.

Without ``--dry-run``, ``accords plan FILE`` stays what it was (:mod:`broker.cli.documents`):
the plan compiled on this machine, no platform needed. This module adds ``--dry-run``,
``--provider`` and the platform options to that command rather than declaring a second
one: one ``plan`` command, two places to ask. Neither mode stores anything (``accords
submit --plan-only`` stores a plan; reserving quota will be the placement component's).
"""
from __future__ import annotations

import json
import sys

from broker.cli.output import CliError, emit, table
from broker.cli.services import CONTRACT_CATEGORY
from broker.cli.session import CliCredentials, locate, occi_client
from broker.cli.submit import (AGREEMENT_CATEGORY, MANIFEST_CATEGORY, DocumentRefused, _line, _read, _url_for,
                               send_document)

__all__ = ["add_parsers", "plan_files", "size_text"]


def add_parsers(sub) -> None:
    """``--dry-run`` and what it needs, added to the ``plan`` command :mod:`broker.cli.documents` declares."""
    command = sub.choices.get("plan")
    if command is None:
        raise RuntimeError("broker.cli.documents declares `accords plan`: add its parsers before these")
    command.add_argument("--dry-run", action="store_true",
                         help="ask the platform: the parser compiles, provisioning says where each node would go "
                              "and why; nothing is stored or created")
    command.add_argument("--provider", help="with --dry-run: the provider every node would go to "
                                            "(as `accords submit --provider`)")
    command.add_argument("--data", help="data directory (default $ACCORDS_DATA or ~/.local/share/accords)")
    command.add_argument("--security", help="URL of the security component (with --dry-run)")
    command.add_argument("--publisher", help="URL of the publisher (with --dry-run)")
    local = command.get_default("run")

    def run(args) -> int:
        if args.dry_run:
            return plan_files(args)
        if args.provider:
            raise CliError("--provider asks the platform: add --dry-run", code=2)
        return local(args)
    command.set_defaults(run=run)


def size_text(size: dict) -> str:
    parts = []
    if size.get("cores") is not None:
        parts.append(f"{size['cores']} core{'s' * (str(size['cores']) != '1')}")
    if size.get("memory"):
        parts.append(f"{size['memory']} memory")
    if size.get("disk"):
        parts.append(f"{size['disk']} disk")
    return ", ".join(parts) or "provider's default"


def _text(report: dict) -> str:
    lines = [_line(p) for p in report.get("problems", [])]
    lines.append(f"manifest {report['manifest']}: nodes in start order: {' -> '.join(report['order'])} "
                 "(dry run: nothing stored, nothing created)")
    if report.get("agreement"):
        lines.append(f"agreement {report['agreement']}: valid")
    rows = [{**node, "size_text": size_text(node.get("size") or {}),
             "image_text": node.get("image") or "provider's default"} for node in report["nodes"]]
    if rows:
        lines.append(table(rows, (("node", "node"), ("provider", "provider"), ("image_text", "image"),
                                  ("size_text", "size"), ("reason", "why"))))
    if report["unplaceable"]:
        lines.append("not placeable:")
        lines += [f"  {entry['node']}: {entry['reason']}" for entry in report["unplaceable"]]
    return "\n".join(lines)


def plan_files(args) -> int:
    manifest_data = _read(args.file)
    agreement_data = _read(args.agreement) if args.agreement else None
    platform = locate(args)
    credentials = CliCredentials(platform)
    publisher = occi_client(platform.need_publisher(), credentials)
    report: dict = {"ok": False, "dry_run": True}
    try:
        parser = occi_client(_url_for(publisher, MANIFEST_CATEGORY, "parser"), credentials)
        manifest = send_document(parser, args.file, manifest_data, params={"dry_run": "1"})
        compiled = manifest.get("compiled") or {}
        report.update(manifest=manifest.get("name"), order=compiled.get("order", []),
                      problems=list(manifest.get("problems", [])))
        if agreement_data is not None:
            sla = occi_client(_url_for(publisher, AGREEMENT_CATEGORY, "sla"), credentials)
            nodes = ",".join(node["name"] for node in compiled.get("nodes", []))
            answer = send_document(sla, args.agreement, agreement_data, params={"dry_run": "1", "nodes": nodes})
            report["agreement"] = answer.get("name")
            report["problems"] += answer.get("problems", [])
    except DocumentRefused as refused:
        report["refused"] = {"message": refused.message, "problems": refused.problems}
        emit(args, report, lambda d: "\n".join([*(_line(p) for p in refused.problems), f"refused: {refused.message}"]))
        return 1
    answer = {"nodes": [], "unplaceable": []}
    if compiled.get("nodes"):
        provisioning = occi_client(_url_for(publisher, CONTRACT_CATEGORY, "provisioning"), credentials)
        body = {"nodes": compiled["nodes"], **({"provider": args.provider} if args.provider else {})}
        print(f"asking {provisioning.transport.base_url} where {len(body['nodes'])} node(s) would go",
              file=sys.stderr)
        answer = provisioning.transport.request(
            "POST", "/preview", body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"}).json()
    report.update(nodes=answer["nodes"], unplaceable=answer["unplaceable"], ok=not answer["unplaceable"])
    emit(args, report, _text)
    return 0 if report["ok"] else 1
