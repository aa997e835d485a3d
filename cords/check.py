"""One call from bytes to a checked document: read safely, validate against the rules, compile.

    result = check(data, name="any.xml")
    for problem in result.diagnostics: print(problem)     # file:line:col: CODE message
    result.plan          # a manifest's Plan (or None)
    result.agreement     # an agreement's Agreement (or None)

Each stage runs as far as the document allows, so that one run reports every problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cords import rules, validate as validation
from cords.agreement import Agreement, compile_agreement
from cords.diagnostics import Diagnostics
from cords.manifest import Library, compile_manifest, import_definitions
from cords.plan import Definition, Plan
from cords.reader import Document, Limits, read_document

__all__ = ["Checked", "check", "check_file", "check_together"]


@dataclass
class Checked:
    name: str
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    document: Document | None = None
    kind: str | None = None
    plan: Plan | None = None
    agreement: Agreement | None = None
    #: Named definitions of an import document (infrastructure models, images ...).
    definitions: list[Definition] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.diagnostics.ok

    def as_dict(self) -> dict:
        out: dict = {"file": self.name, "kind": self.kind, "ok": self.ok,
                     "legacy": bool(self.document is not None and self.document.legacy),
                     "problems": [d.as_dict() for d in self.diagnostics]}
        if self.plan is not None:
            out["plan"] = self.plan.as_dict()
        if self.agreement is not None:
            out["agreement"] = self.agreement.as_dict()
        return out


def check(data: bytes, *, name: str, library: Library | None = None, limits: Limits = Limits(),
          nodes: list[str] | None = None) -> Checked:
    """Read, validate and compile one document; ``nodes`` checks an agreement's scopes."""
    result = Checked(name=name)
    document = read_document(data, name=name, diagnostics=result.diagnostics, limits=limits)
    if document is None:
        return result
    result.document = document
    result.kind = validation.validate(document.root, kind=None, locate=document.location,
                                      locate_attribute=document.attribute_location, diagnostics=result.diagnostics)
    if result.kind == "manifest":
        result.plan = compile_manifest(document, diagnostics=result.diagnostics, library=library,
                                       defaults=rules.defaults)
    elif result.kind == "agreement":
        result.agreement = compile_agreement(document, diagnostics=result.diagnostics, nodes=nodes)
    elif result.kind == "import":
        result.definitions = import_definitions(document, diagnostics=result.diagnostics, defaults=rules.defaults)
    return result


def check_together(paths, **options) -> list[Checked]:
    """Several documents that may use each other's definitions and manifests (by name):
    checked once to learn what each defines, then again with all of that known."""
    from cords.library import MemoryLibrary

    first = [check_file(path, **options) for path in paths]
    library = MemoryLibrary()
    for checked in first:
        library.add(checked)
    return [check_file(path, library=library, **options) for path in paths]


def check_file(path: str | Path, **options) -> Checked:
    path = Path(path)
    return check(path.read_bytes(), name=str(path), **options)
