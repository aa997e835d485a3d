"""Submitting a CORDS document to the parser component: checked, then stored as OCCI entities.

One submission is one transaction of the parser's store. A manifest becomes its nodes,
their infrastructure, image and firewall, its configuration, release and interface
actions, its security and the manifest itself; named definitions already stored are reused
(CORDS.md §7.2). Its plan is created at the server of the plan kind (the broker), with the
submitter's credentials so that it belongs to the submitter's account; if that fails,
nothing of the manifest is kept. An import document's definitions (infrastructure models,
images ...) are stored the same way for later manifests to reuse.

Bare names a manifest gives are resolved from the store here, so what ``accords validate``
only warns about (a definition or a nested manifest it cannot see) is an error once the
document reaches the component that should know it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from cords import manifest as manifest_rules
from cords.check import Checked, check
from cords.diagnostics import ERROR, Diagnostic, register
from cords.model import manifest as m
from cords.plan import Definition
from cords.store import ParserStore
from occi.errors import BadRequest, Conflict, ServiceUnavailable

__all__ = ["InvalidDocument", "Submission", "submit", "PlanSink", "manifest_location", "MANIFEST_NAMESPACE"]

REUSED_DIFFERS = register("cords-reused-definition-differs",
                          "a named definition is already stored with other values; the stored one is used "
                          "(definitions are shared by name: give this one another name to use its values)")
#: Names are unique on the platform, so a manifest's location is derived from its name:
#: two submissions of one name collide in the store itself, even when they race.
MANIFEST_NAMESPACE = uuid.UUID("6f1c9d3e-5b0a-4c77-9a51-3b0f8e2d7c41")
#: What the offline checker only warns about, and the component must refuse.
_FATAL_HERE = {manifest_rules.UNRESOLVED, manifest_rules.COMPLEX_UNKNOWN}
_SECTIONS = (("configuration", m.CONFIGURATION), ("release", m.RELEASE), ("interface", m.INTERFACE))


class InvalidDocument(BadRequest):
    """The document has errors: every problem, located, in the error body."""

    default_code = "cords-invalid"

    def __init__(self, name: str, problems: list[Diagnostic], *, message: str | None = None,
                 code: str | None = None):
        errors = [p for p in problems if p.severity == ERROR]
        lines = "\n".join(str(p) for p in errors[:20])
        super().__init__(message or f"{name}: {len(errors)} error{'s' if len(errors) != 1 else ''}, nothing stored"
                                    f"\n{lines}", code=code, where=name)
        self.problems = problems

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": [p.as_dict() for p in self.problems]}


#: ``(attributes) -> URL``: creates the plan at the plan kind's server; raises OcciError.
PlanSink = Callable[[dict], str]


@dataclass
class Submission:
    kind: str
    file: str
    name: str | None = None
    manifest: str | None = None
    plan: str | None = None
    problems: list[Diagnostic] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    reused: list[dict] = field(default_factory=list)
    #: Entities and links written in all.
    written: int = 0
    #: Records of an import document that other components take (tag -> how many).
    skipped: dict = field(default_factory=dict)
    compiled: dict | None = None

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "file": self.file, "name": self.name}
        if self.manifest is not None:
            out.update(manifest=self.manifest, plan=self.plan)
        out["written"] = self.written
        out["created"] = self.created
        out["reused"] = [{k: v for k, v in r.items() if k != "at"} for r in self.reused]
        out["problems"] = [p.as_dict() for p in self.problems]
        if self.skipped:
            out["skipped"] = self.skipped
        if self.compiled is not None:
            out["compiled"] = self.compiled
        return out


def manifest_location(name: str) -> str:
    return f"{m.MANIFEST.location}{uuid.uuid5(MANIFEST_NAMESPACE, name)}"


def submit(data: bytes, *, name: str, store: ParserStore, plans: PlanSink | None, dry_run: bool = False) -> Submission:
    """Check ``data`` against what ``store`` knows and, unless ``dry_run``, write it through
    ``store`` (whose session the caller commits) and create its plan with ``plans``."""
    checked = check(data, name=name, library=store)
    problems = _problems(checked)
    if any(p.severity == ERROR for p in problems):
        raise InvalidDocument(name, problems)
    if checked.kind == "manifest":
        return _manifest(checked, store, plans, problems, dry_run=dry_run)
    if checked.kind == "import":
        return _import(checked, store, problems, dry_run=dry_run)
    where = "the sla component (accords submit --agreement)" if checked.kind == "agreement" else \
        "the placement component (accords import)"
    raise BadRequest(f"{name} is {_article(checked.kind)} document: the parser takes manifests and the "
                     f"definitions of import documents; send it to {where}", code="wrong-document", where=name)


def _article(kind: str | None) -> str:
    return f"an {kind}" if kind and kind[0] in "aeiou" else f"a {kind or 'unknown'}"


def _problems(checked: Checked) -> list[Diagnostic]:
    return [Diagnostic(ERROR, d.code, d.message, d.location) if d.code in _FATAL_HERE else d
            for d in checked.diagnostics]


def _differences(store: ParserStore) -> list[Diagnostic]:
    return [Diagnostic("warning", REUSED_DIFFERS,
                       f"{r['kind']} {r['name']!r} is already stored ({r['location']}) with other values; "
                       "the stored one is used", r["at"])
            for r in store.reused if not r["same"] and r["at"] is not None]


def _import(checked: Checked, store: ParserStore, problems, *, dry_run: bool) -> Submission:
    root = checked.document.root
    result = Submission(kind="import", file=checked.name, name=root.get("name"), problems=problems)
    for child in root:
        if isinstance(child.tag, str) and child.tag not in manifest_rules.DEFINITION_TAGS and child.tag != "description":
            result.skipped[child.tag] = result.skipped.get(child.tag, 0) + 1
    if not dry_run:
        for definition in checked.definitions:
            store.write(definition)
        result.problems = problems + _differences(store)
    result.created, result.reused, result.written = store.created, store.reused, store.written
    return result


def _manifest(checked: Checked, store: ParserStore, plans: PlanSink | None, problems, *,
              dry_run: bool) -> Submission:
    plan = checked.plan
    result = Submission(kind="manifest", file=checked.name, name=plan.name, problems=problems)
    location = manifest_location(plan.name)
    if store.session.get(location) is not None:
        raise Conflict(f"a manifest named {plan.name!r} exists ({store.url(location)}); names are unique on the "
                       "platform: delete it first or choose another name", code="manifest-exists",
                       where=store.url(location))
    for node in plan.nodes:
        if node.complex:
            nested = store.manifest(node.manifest)
            node.plan = nested.plan if nested is not None else None
    if dry_run:
        result.compiled = plan.as_dict()
        return result
    root = checked.document.root
    security = _security(root, plan.name)
    nodes = [_node(store, node) for node in plan.nodes]
    attributes = {"occi.manifest.name": plan.name, "occi.manifest.account": plan.account,
                  "occi.manifest.zone": plan.zone, "occi.manifest.description": plan.description}
    if security is not None:
        attributes["occi.manifest.security"] = store.write(security)[0]
    for nature, kind in _SECTIONS:
        attributes[f"occi.manifest.{nature}"] = _section(store, root, nature, kind, plan.name)
    attributes["occi.manifest.plan"] = result.plan = _plan(plans, plan, store.url(location))
    manifest = store.insert(m.MANIFEST, {k: v for k, v in attributes.items() if v is not None},
                            managed={"occi.manifest.nodes": len(nodes)}, location=location)
    for node in nodes:
        store.link(manifest, node.location, m.NODE)
    result.manifest = store.url(location)
    result.compiled = plan.as_dict()
    result.created, result.reused, result.written = store.created, store.reused, store.written
    result.problems = problems + _differences(store)
    return result


def _plan(plans: PlanSink | None, plan, manifest_url: str) -> str:
    if plans is None:
        raise ServiceUnavailable("this parser has no publisher to find the broker that keeps plans (serve it "
                                 "with --publisher URL)", code="no-broker")
    return plans({"occi.plan.name": plan.name, "occi.plan.manifest": manifest_url, "occi.plan.access": "public",
                  "occi.plan.compiled": plan.as_dict()})


def _node(store: ParserStore, node):
    attributes = {"occi.node.name": node.name, "occi.node.provider": node.provider,
                  "occi.node.operator": node.operator, "occi.node.access": node.access,
                  "occi.node.scope": node.scope, "occi.node.type": node.manifest if node.complex else "simple"}
    if node.profile:
        attributes["occi.node.profile"] = node.profile
    for tag in ("infrastructure", "image"):
        definition = getattr(node, tag)
        if definition is not None:
            attributes[f"occi.node.{tag}"], effective = store.write(definition)
            setattr(node, tag, effective)
    firewall_location = f"{m.FIREWALL.location}{uuid.uuid4()}"
    if node.firewall:
        attributes["occi.node.firewall"] = store.url(firewall_location)
    entity = store.insert(m.NODE, attributes)
    node.stored_at = store.url(entity.location)
    if node.firewall:
        firewall = store.insert(m.FIREWALL, {"occi.firewall.name": f"{node.name}:firewall",
                                             "occi.firewall.node": node.stored_at},
                                managed={"occi.firewall.ports": len(node.firewall)}, location=firewall_location)
        for rule in node.firewall:
            port = store.insert(m.PORT, {"occi.port.name": rule.name, "occi.port.protocol": rule.protocol,
                                         "occi.port.from": rule.first, "occi.port.to": rule.last,
                                         "occi.port.range": rule.range, "occi.port.direction": rule.direction})
            store.link(firewall, port.location, m.PORT)
    return entity


def _section(store: ParserStore, root, nature: str, kind, manifest_name: str) -> str | None:
    sections = [child for child in root if isinstance(child.tag, str) and child.tag == nature]
    if not sections:
        return None
    actions = []
    for section in sections:
        for element in section:
            if isinstance(element.tag, str) and element.tag == "action":
                attributes = {"occi.action.name": element.get("name"), "occi.action.type": element.get("type"),
                              "occi.action.expression": element.get("expression")}
                actions.append(store.insert(m.ACTION, {k: v for k, v in attributes.items() if v}))
    name = manifest_rules.scoped(sections[0].get("name"), manifest_name) or f"{manifest_name}:{nature}"
    entity = store.insert(kind, {f"occi.{nature}.name": name}, managed={f"occi.{nature}.actions": len(actions)})
    for action in actions:
        store.link(entity, action.location, m.ACTION)
    return store.url(entity.location)


def _security(root, manifest_name: str) -> Definition | None:
    for element in root:
        if isinstance(element.tag, str) and element.tag == "security" and element.get("name"):
            attributes = {k: v for k, v in element.attrib.items() if k not in ("name", "id")}
            return Definition(tag="security", name=manifest_rules.scoped(element.get("name"), manifest_name),
                              attributes=attributes, location=None)
    return None
