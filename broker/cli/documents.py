"""``accords validate`` and ``accords plan``: CORDS documents checked on this machine, no server needed.

``validate`` prints one line per problem, ``file:line:col: CODE message`` (warnings say so),
and exits 1 when any document has an error. ``plan`` prints what a manifest becomes: nodes,
start order, instructions, and with ``--agreement`` the placement conditions and
guarantees (scopes checked against the plan's nodes).
"""
from __future__ import annotations

import sys

from broker.cli.output import CliError, emit

__all__ = ["add_parsers", "validate_files", "plan_file"]


def add_parsers(sub) -> None:
    validate = sub.add_parser("validate", help="check CORDS manifests, agreements and imports; "
                                               "one line per problem as file:line:col: CODE message")
    validate.add_argument("files", nargs="+", help="documents to check")
    validate.add_argument("--json", action="store_true", help="one JSON object with every file's problems")
    validate.set_defaults(run=validate_files)

    plan = sub.add_parser("plan", help="what a manifest becomes: nodes, start order, instructions")
    plan.add_argument("file", help="the manifest")
    plan.add_argument("--agreement", help="an agreement to apply (placement conditions, guarantees)")
    plan.add_argument("--json", action="store_true", help="the plan as JSON")
    plan.set_defaults(run=plan_file)


def _check(path: str, **options):
    from cords.check import check_file     # imported here: the CLI starts fast for other commands

    try:
        return check_file(path, **options)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def validate_files(args) -> int:
    from cords.check import check_together

    for path in args.files:
        _check_readable(path)
    # Together: a manifest may reuse another's infrastructure, or be a complex node's type.
    results = check_together(args.files)
    if args.json:
        emit(args, {"ok": all(r.ok for r in results), "files": [
            {k: v for k, v in r.as_dict().items() if k not in ("plan", "agreement")} for r in results]}, str)
    else:
        for result in results:
            for problem in result.diagnostics:
                print(problem, file=sys.stdout)
        bad = [r for r in results if not r.ok]
        summary = (f"{len(results) - len(bad)} of {len(results)} document{'s' if len(results) > 1 else ''} valid"
                   + (f"; errors in {', '.join(r.name for r in bad)}" if bad else ""))
        print(summary, file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


def plan_file(args) -> int:
    result = _check(args.file)
    if result.plan is None:
        for problem in result.diagnostics:
            print(problem, file=sys.stderr)
        raise CliError(f"{args.file} is not a manifest" if result.kind not in (None, "manifest")
                       else f"{args.file} has no plan (see the errors above)")
    agreement = None
    problems = list(result.diagnostics)
    if args.agreement:
        checked = _check(args.agreement, nodes=[n.name for n in result.plan.nodes])
        problems += list(checked.diagnostics)
        agreement = checked.agreement
        if agreement is None and checked.kind not in (None, "agreement"):
            raise CliError(f"{args.agreement} is not an agreement")
    ok = not any(p.severity == "error" for p in problems)
    data = {"ok": ok, "plan": result.plan.as_dict(), "problems": [p.as_dict() for p in problems]}
    if agreement is not None:
        data["agreement"] = agreement.as_dict()
        data["placement"] = agreement.placement()
    emit(args, data, lambda d: _text(d, problems))
    return 0 if ok else 1


def _text(data: dict, problems) -> str:
    plan = data["plan"]
    lines = [f"manifest {plan['manifest']} ({plan['file']})"]
    lines.append(f"nodes ({len(plan['nodes'])}), in start order: {' -> '.join(plan['order'])}")
    for node in plan["nodes"]:
        kind = f"complex: {node['manifest']}" if node["type"] == "complex" else "simple"
        infrastructure = (node.get("infrastructure") or {}).get("name") or "-"
        image = (node.get("image") or {}).get("name") or "-"
        rules = len(node.get("firewall", []))
        lines.append(f"  {node['name']:<24} {kind:<28} {node['access']}/{node['scope']:<7} provider {node['provider']:<10} "
                     f"infrastructure {infrastructure}, image {image}, {rules} firewall rule{'s' if rules != 1 else ''}")
    for phase, items in plan["instructions"].items():
        if not items:
            continue
        lines.append(f"{phase} ({len(items)})")
        for item in items:
            arguments = ", ".join(_argument(a) for a in item["arguments"])
            waits = f"   (after {', '.join(item['depends_on'])})" if item.get("depends_on") else ""
            lines.append(f"  {'.'.join(item.get('path', [item['node']]))}.{item['method']}({arguments}){waits}")
    if "agreement" in data:
        agreement = data["agreement"]
        lines.append(f"agreement {agreement['agreement']}")
        for condition in agreement["conditions"]:
            lines.append(f"  placement: occi.placement.{condition['property']} {condition['operator']} "
                         f"{condition['value']}")
        for guarantee in agreement["guarantees"]:
            lines.append(f"  guarantee {guarantee['name']}: {guarantee['metric']} {guarantee['operator']} "
                         f"{guarantee['objective']} on {guarantee['scope']}")
    for problem in problems:
        lines.append(str(problem))
    return "\n".join(lines)


def _argument(value) -> str:
    if isinstance(value, list) and value and value[0] == "ref":
        return ".".join(str(v) for v in value[1:])
    return repr(value)

