"""Generate the model reference of docs/occi.md from the category declarations.

    python -m occi.docgen docs/occi.md           # rewrite the generated section
    python -m occi.docgen docs/occi.md --check   # exit 1 when it is stale

The section between the markers is owned by this generator; the rest of the file is prose.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from broker.agent import model as agent_model
from cords import model as cords_model
from occi import publisher
from occi.security import model as security_model
from occi.model import core, infrastructure, monitoring, platform, sla
from occi.model.category import Action, Category, Kind, Mixin
from sla import cords_model as cords_sla

__all__ = ["render_reference", "update_file", "BEGIN", "END"]

BEGIN = "<!-- BEGIN GENERATED MODEL REFERENCE (python -m occi.docgen docs/occi.md) -->"
END = "<!-- END GENERATED MODEL REFERENCE -->"

SECTIONS = (
    ("Core (GFD.221)", core.CATEGORIES),
    ("Infrastructure (GFD.224)", infrastructure.CATEGORIES),
    ("Service Level Agreements (GFD.228)", sla.CATEGORIES),
    ("Platform (GFD.227)", platform.CATEGORIES),
    ("Monitoring (draft, 2015)", monitoring.CATEGORIES),
    ("accords platform: the publisher (CORDS scheme)", publisher.CATEGORIES),
    ("accords platform: security (CORDS scheme)", security_model.CATEGORIES),
    # The CORDS categories (cords/ and sla/): documented here so that docs/occi.md is the one
    # reference of every category the platform's components serve.
    ("accords platform: CORDS manifests (CORDS scheme, parser)", cords_model.manifest.CATEGORIES),
    ("accords platform: CORDS plans and instructions (CORDS scheme)", cords_model.plan.CATEGORIES),
    ("accords platform: CORDS imports, providers and quotas (CORDS scheme)", cords_model.offers.CATEGORIES),
    ("accords platform: CORDS agreements (CORDS scheme, sla)", cords_sla.CATEGORIES),
    ("accords platform: the node agent (CORDS scheme, accords agent on each node)", agent_model.CATEGORIES),
)


def _type(attribute) -> str:
    if attribute.type == "enum":
        return "enum {" + ", ".join(attribute.enum) + "}"
    text = attribute.type
    if attribute.minimum is not None or attribute.maximum is not None:
        low = "" if attribute.minimum is None else f"{attribute.minimum:g}"
        high = "" if attribute.maximum is None else f"{attribute.maximum:g}"
        text += f" [{low}..{high}]"
    if attribute.pattern:
        text += f" `{attribute.pattern}`"
    return text


def _attributes(category: Category) -> list[str]:
    if not category.attributes:
        return []
    lines = ["| attribute | type | mutable | required | default | description |", "|---|---|---|---|---|---|"]
    for a in category.attributes:
        default = "" if a.default is None else f"`{a.default}`"
        mutable = "server" if a.server_managed else ("yes" if a.mutable else "no")
        if a.secret:
            mutable += ", write-only"
        lines.append(f"| `{a.name}` | {_type(a)} | {mutable} | {'yes' if a.required else 'no'} | {default} | "
                     f"{a.description} |")
    return lines


def _category(category: Category) -> list[str]:
    head = f"#### `{category.type_id}` ({category.category_class})"
    lines = [head, ""]
    facts = []
    if category.title:
        facts.append(f"title \"{category.title}\"")
    if isinstance(category, Kind):
        if category.parent is not None:
            facts.append(f"parent `{category.parent.type_id}`")
        if category.source_kinds:
            facts.append("source: " + ", ".join(f"`{k.term}`" for k in category.source_kinds))
        if category.target_kinds:
            facts.append("target: " + ", ".join(f"`{k.term}`" for k in category.target_kinds))
    if isinstance(category, Mixin):
        if category.depends:
            facts.append("depends " + ", ".join(f"`{m.type_id}`" for m in category.depends))
        if category.applies:
            facts.append("applies to " + ", ".join(f"`{k.term}`" for k in category.applies))
        if category.exclusive:
            facts.append("template base: one per entity, a new one replaces the old")
    location = getattr(category, "location", None)
    if location:
        facts.append(f"location `{location}`")
    if isinstance(category, Action):
        if category.enabled_in is not None:
            facts.append("applicable when state is " + " or ".join(category.enabled_in))
        if category.target_state:
            facts.append(f"leads to {category.target_state}")
        if category.aliases:
            facts.append("also accepted as " + ", ".join(f"`{a}`" for a in category.aliases))
    if facts:
        lines += ["; ".join(facts) + ".", ""]
    attributes = _attributes(category)
    if attributes:
        lines += attributes + [""]
    return lines


def render_reference() -> str:
    lines = [BEGIN, ""]
    for title, categories in SECTIONS:
        lines += [f"### {title}", ""]
        for category in categories:
            lines += _category(category)
    lines.append(END)
    return "\n".join(lines)


def update_file(path: Path, *, check: bool) -> bool:
    """Rewrite the generated section; with ``check``, only say whether it is current."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{path}: the markers of the generated section are missing")
    updated = text[:start] + render_reference() + text[end + len(END):]
    if updated == text:
        return True
    if not check:
        path.write_text(updated, encoding="utf-8")
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m occi.docgen")
    parser.add_argument("file", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    current = update_file(args.file, check=args.check)
    if args.check and not current:
        print(f"{args.file}: the model reference is stale; run python -m occi.docgen {args.file}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
