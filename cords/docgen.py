"""docs/manifests.md's reference part, generated from the rules and the diagnostic codes.

    python -m cords.docgen docs/manifests.md          # rewrite the generated part
    python -m cords.docgen docs/manifests.md --check  # exit 1 when it is stale (a test runs this)

Everything between the markers comes from :mod:`cords.rules` (elements, attributes, types,
defaults, children) and :data:`cords.diagnostics.CODES` (every code any stage reports), so
the documentation cannot drift from what the parser does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["render", "update_file", "BEGIN", "END", "all_codes"]

BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m cords.docgen docs/manifests.md) -->"
END = "<!-- END GENERATED REFERENCE -->"
_KINDS = (("manifest", "Manifests"), ("agreement", "Agreements"), ("import", "Imports"),
          ("provider", "Provider quota documents"))


def all_codes() -> dict[str, str]:
    """Every registered code: importing the stages registers theirs."""
    import cords.agreement  # noqa: F401
    import cords.check  # noqa: F401
    import cords.cordscript  # noqa: F401
    import cords.manifest  # noqa: F401
    import cords.submission  # noqa: F401
    from cords.diagnostics import CODES
    return dict(sorted(CODES.items()))


def _cell(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _element(rule: dict) -> list[str]:
    lines = [f"#### `<{rule['element']}>`", "", _cell(rule["doc"]) or "", ""]
    if rule["parents"]:
        lines += ["Inside: " + ", ".join(f"`<{p}>`" for p in rule["parents"]) + ".", ""]
    attributes = [a for a in rule["attributes"] if a["name"] not in ("id", "state")]
    if attributes:
        lines += ["| attribute | value | default | notes |", "|---|---|---|---|"]
        for a in attributes:
            value = "one of " + ", ".join(f"`{v}`" for v in a["values"]) if a["values"] else _cell(a["describe"])
            notes = "**required**. " if a["required"] else ""
            notes += _cell(a["doc"])
            if a.get("script"):
                notes += " The original ran the Cordscript default `" + _cell(a["script"]) + "`; we do the " \
                         "equivalent step explicitly."
            default = f"`{a['default']}`" if a["default"] is not None else ""
            lines.append(f"| `{a['name']}` | {value} | {default} | {notes.strip()} |")
        lines.append("")
    if rule["children"]:
        children = [f"`<{child['element']}>` ({child['cardinality']})" for child in rule["children"]]
        lines += ["Children: " + ", ".join(children) + ".", ""]
    for difference in rule.get("differences") or ():
        lines.append(f"- differs from the original XSD: {_cell(difference)}")
    if rule.get("differences"):
        lines.append("")
    return lines


def render() -> str:
    from cords import rules

    out = [BEGIN, "", "## Reference", "", "### Problem codes", "",
           "Every problem is printed as `file:line:col: CODE message`; warnings say `warning:`.", "",
           "| code | meaning |", "|---|---|"]
    out += [f"| `{code}` | {_cell(text)} |" for code, text in all_codes().items()]
    out.append("")
    for kind, title in _KINDS:
        out += [f"### {title}", ""]
        for rule in rules.describe_rules(kind):
            out += _element(rule)
    out.append(END)
    return "\n".join(out) + "\n"


def update_file(path: Path, *, check: bool = False) -> bool:
    """Rewrite the generated part of ``path``; with ``check``, only say whether it is current."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no generated-reference markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = head + render().rstrip("\n") + tail
    if check:
        return updated == text
    path.write_text(updated)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cords.docgen")
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        current = update_file(args.path, check=True)
        if not current:
            print(f"{args.path} is stale: run python -m cords.docgen {args.path}", file=sys.stderr)
        return 0 if current else 1
    update_file(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
