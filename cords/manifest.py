"""Manifest semantics: from a read and validated manifest document to a :class:`~cords.plan.Plan`.

What the original parser did with HTTP round trips per element (CORDS.md §4, Phase A) is
done here in memory, as explicit steps rather than Cordscript hidden in schema defaults:

1. names: a name starting with ':' is prefixed with the manifest's name (``:small`` in
   manifest ``any`` is ``any:small``);
2. nodes: simple or complex (``type`` names another manifest), access, scope, provider and
   operator preferences, with the schema defaults;
3. definitions: an infrastructure, image, compute ... given only by name reuses the
   definition of that name met earlier in the document, else one the caller knows
   (:class:`Library`), else stays to be resolved by the parser component (a warning);
   a name defined twice with different content is a warning (the original merged them);
4. firewall rules from the ports of each node's networks and packages;
5. Cordscript: every action of configuration, release and interface is parsed and
   compiled to instructions with dependency edges; the start order follows them and a
   cycle is an error naming its nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cords import cordscript
from cords.diagnostics import Diagnostics, Location, register
from cords.plan import Definition, FirewallRule, NodePlan, Plan

__all__ = ["compile_manifest", "Library", "EmptyLibrary", "scoped", "firewall_rules", "DEFINITION_TAGS"]

NOT_A_MANIFEST = register("cords-not-a-manifest", "the document's root element is not <manifest>")
DUPLICATE_NODE = register("cords-duplicate-node", "two nodes of one manifest have the same name")
UNRESOLVED = register("cords-unresolved-definition",
                      "a definition is given by name only and is not defined in this document; the parser "
                      "component resolves it from what it already knows")
REDEFINED = register("cords-name-redefined", "one name is defined twice with different content")
NO_NODES = register("cords-no-nodes", "the manifest declares no node")
COMPLEX_UNKNOWN = register("cords-unknown-manifest",
                           "a complex node's type names a manifest that is not known (yet)")
BAD_PORT = register("cords-bad-port", "a port number is above 65535, or a port range's from is above its to")

_PHASES = ("configuration", "release", "interface")
#: Definitions that are nothing without their parts: given by name only, they refer to one elsewhere.
_CONTAINERS = ("infrastructure", "image")
DEFINITION_TAGS = _DEFINITION_TAGS = ("infrastructure", "compute", "storage", "network", "image", "system", "package", "security")


class Library(Protocol):
    """Named definitions and manifests known outside this document (the parser's store, or
    other files given on the command line)."""

    def definition(self, tag: str, name: str) -> Definition | None: ...
    def manifest(self, name: str) -> "Plan | None": ...


class EmptyLibrary:
    def definition(self, tag, name):
        return None

    def manifest(self, name):
        return None


def scoped(name: str | None, root_name: str) -> str | None:
    """CORDS.md §7.2: ':x' inside document 'd' is 'd:x' (nested ':a:b' is 'd:a:b')."""
    if name is None or not name.startswith(":"):
        return name
    return f"{root_name}{name}"


@dataclass
class _Context:
    document: object
    diagnostics: Diagnostics
    library: Library
    root_name: str
    defaults: object
    seen: dict[tuple[str, str], Definition] = field(default_factory=dict)

    def at(self, element) -> Location:
        return self.document.location(element)

    def attribute_at(self, element, name: str) -> Location:
        return self.document.attribute_location(element, name)

    def attributes(self, element) -> dict[str, str]:
        """The element's attributes over the schema defaults of its tag."""
        merged = dict(self.defaults("manifest", element.tag)) if self.defaults else {}
        merged.update(element.attrib)
        return merged


def _children(element, tag: str) -> list:
    return [child for child in element if isinstance(child.tag, str) and child.tag == tag]


def _definition(ctx: _Context, element, tag: str) -> Definition:
    """A named definition (infrastructure, image, compute ...) with its parts, reusing what a
    bare name refers to."""
    attributes = ctx.attributes(element)
    name = scoped(attributes.get("name"), ctx.root_name)
    parts = {child.tag: _definition(ctx, child, child.tag)
             for child in element if isinstance(child.tag, str) and child.tag in _DEFINITION_TAGS
             and child.tag != "package"}
    packages = [_definition(ctx, child, "package") for child in _children(element, "package")]
    ports = [dict(ctx.attributes(port)) for port in _ports(element)]
    own = {k: v for k, v in attributes.items() if k not in ("name", "id")}
    bare = name is not None and not set(element.attrib.keys()) - {"name", "id"} and len(element) == 0
    if bare:
        known = ctx.seen.get((tag, name)) or ctx.library.definition(tag, name)
        if known is not None:
            return known
        if tag in _CONTAINERS:
            ctx.diagnostics.warning(UNRESOLVED, f"{tag} {name!r} is not defined in this document; the parser "
                                                "component must already know it", ctx.at(element))
            return Definition(tag=tag, name=name, resolved=False, location=ctx.at(element))
        # A leaf named and nothing else (<system name="ubuntu"/>) is a definition with the defaults.
    found = Definition(tag=tag, name=name, attributes=own, parts=parts, packages=packages, ports=ports,
                       location=ctx.at(element))
    if name is not None:
        earlier = ctx.seen.get((tag, name))
        if earlier is not None and earlier.content() != found.content():
            ctx.diagnostics.warning(REDEFINED, f"{tag} {name!r} is defined again with different content "
                                               f"(first at line {earlier.location.line}); this one is used here",
                                    ctx.at(element))
        ctx.seen.setdefault((tag, name), found)
    return found


def _ports(element) -> list:
    """Ports directly under a network, an endpoint or a package."""
    found = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "port":
            found.append(child)
        elif child.tag == "endpoint":
            found.extend(_children(child, "port"))
    return found


def _port_number(diagnostics: Diagnostics, port: dict, key: str, location: Location) -> int | None:
    raw = port.get(key)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        return None           # cords.validate reports it (cords-bad-integer)
    if int(raw) > 65535:
        diagnostics.error(BAD_PORT, f"port {port.get('name', '?')!r}: {key}={raw} is above 65535", location)
        return None
    return int(raw)


def _firewall(ctx: _Context, node: NodePlan) -> list[FirewallRule]:
    return firewall_rules(node, diagnostics=ctx.diagnostics)


def firewall_rules(node: NodePlan, *, diagnostics: Diagnostics) -> list[FirewallRule]:
    """One rule per port of the node's network and packages (CORDS: node firewall.build())."""
    rules = []
    infrastructure = node.infrastructure
    sources = []
    if infrastructure is not None and infrastructure.parts.get("network") is not None:
        sources.append(infrastructure.parts["network"])
    if node.image is not None:
        sources.extend(node.image.packages)
    for source in sources:
        for port in source.ports:
            first = _port_number(diagnostics, port, "from", source.location)
            last = _port_number(diagnostics, port, "to", source.location)
            if first is None and last is None:
                continue
            first, last = first if first is not None else last, last if last is not None else first
            if first > last:
                diagnostics.error(BAD_PORT, f"port {port.get('name', '?')!r}: from {first} is above to {last}",
                                  source.location)
                continue
            rules.append(FirewallRule(name=port.get("name") or f"{first}-{last}", protocol=port.get("protocol", "tcp"),
                                      first=first, last=last, range=port.get("range") or "0.0.0.0/0",
                                      direction=port.get("direction", "inout")))
    return rules


def _node(ctx: _Context, element) -> NodePlan | None:
    attributes = ctx.attributes(element)
    raw_name = element.get("name")
    if not raw_name:
        return None           # cords.validate reports it (cords-missing-attribute)
    name = scoped(raw_name, ctx.root_name)
    node_type = attributes.get("type", "simple") or "simple"
    complex_node = node_type != "simple"
    node = NodePlan(name=name, complex=complex_node, manifest=scoped(node_type, ctx.root_name) if complex_node else None,
                    access=attributes.get("access", "private"), scope=attributes.get("scope", "normal"),
                    provider=attributes.get("provider", "any"), operator=attributes.get("operator", "any"),
                    profile=attributes.get("profile"), location=ctx.at(element))
    infrastructure = _children(element, "infrastructure")
    image = _children(element, "image")
    if infrastructure:
        node.infrastructure = _definition(ctx, infrastructure[0], "infrastructure")
    elif attributes.get("infrastructure"):
        node.infrastructure = _definition_by_name(ctx, element, "infrastructure", attributes["infrastructure"])
    if image:
        node.image = _definition(ctx, image[0], "image")
    elif attributes.get("image"):
        node.image = _definition_by_name(ctx, element, "image", attributes["image"])
    if complex_node:
        nested = ctx.library.manifest(node.manifest)
        if nested is None:
            ctx.diagnostics.warning(COMPLEX_UNKNOWN, f"node {name!r} is an instance of manifest {node.manifest!r}, "
                                                     "which is not known here; it must be submitted before this "
                                                     "one is instanced", ctx.attribute_at(element, "type"))
        else:
            node.interface_actions = set(nested.interface_actions)
    node.firewall = _firewall(ctx, node)
    return node


def _definition_by_name(ctx: _Context, element, tag: str, reference: str) -> Definition:
    name = scoped(reference, ctx.root_name)
    known = ctx.seen.get((tag, name)) or ctx.library.definition(tag, name)
    if known is not None:
        return known
    ctx.diagnostics.warning(UNRESOLVED, f"{tag} {name!r} is not defined in this document; the parser component "
                                        "must already know it", ctx.attribute_at(element, tag))
    return Definition(tag=tag, name=name, resolved=False, location=ctx.attribute_at(element, tag))


def _actions(ctx: _Context, root, nature: str, nodes: dict[str, NodePlan]) -> list:
    instructions = []
    for section in _children(root, nature):
        for action in _children(section, "action"):
            expression = action.get("expression")
            if not expression:
                continue
            statements = cordscript.parse(
                expression, diagnostics=ctx.diagnostics,
                locate=lambda offset, action=action: ctx.document.value_location(action, "expression", offset))
            instructions.extend(cordscript.compile_statements(statements, nature=nature, nodes=nodes,
                                                              diagnostics=ctx.diagnostics))
    return instructions


def compile_manifest(document, *, diagnostics: Diagnostics, library: Library | None = None,
                     defaults=None) -> Plan | None:
    """The plan of a manifest document (``cords.reader.Document``); None when it is not a manifest.

    ``defaults(kind, tag)`` gives the schema defaults (``cords.rules.defaults``).
    """
    root = document.root
    if root.tag != "manifest":
        diagnostics.error(NOT_A_MANIFEST, f"the root element is <{root.tag}>, not <manifest>", document.location(root))
        return None
    name = root.get("name") or ""
    ctx = _Context(document=document, diagnostics=diagnostics, library=library or EmptyLibrary(), root_name=name,
                   defaults=defaults)
    nodes: dict[str, NodePlan] = {}
    for element in _children(root, "node"):
        node = _node(ctx, element)
        if node is None:
            continue
        if node.name in nodes:
            diagnostics.error(DUPLICATE_NODE, f"node {node.name!r} is declared twice (first at line "
                                              f"{nodes[node.name].location.line})", node.location)
            continue
        nodes[node.name] = node
    if not nodes:
        diagnostics.error(NO_NODES, f"manifest {name!r} declares no <node>", document.location(root))
    plan = Plan(name=name, file=document.name, description=_description(root), nodes=list(nodes.values()),
                account=scoped(_first_name(root, "account"), name), security=scoped(_first_name(root, "security"), name),
                zone=root.get("zone"))
    for nature in _PHASES:
        plan.instructions[nature] = _actions(ctx, root, nature, nodes)
    plan.interface_actions = sorted({a.get("name") for s in _children(root, "interface")
                                     for a in _children(s, "action") if a.get("name")})
    configuration = plan.instructions["configuration"]
    plan.order = cordscript.dependency_order(
        configuration, list(nodes), diagnostics=diagnostics,
        location_of=lambda node: nodes[node].location if node in nodes else document.location(root))
    plan.edges = sorted({(i.node, dependency) for i in configuration for dependency in i.depends_on})
    return plan


def _first_name(root, tag: str) -> str | None:
    found = _children(root, tag)
    return found[0].get("name") if found else None


def _description(root) -> str | None:
    texts = [(d.text or "").strip() for d in _children(root, "description")]
    return " ".join(t for t in texts if t) or root.get("description")


def import_definitions(document, *, diagnostics: Diagnostics, defaults=None) -> list[Definition]:
    """The named definitions of an import document (e.g. coips.xml's infrastructure models),
    for a :class:`Library`."""
    root = document.root
    ctx = _Context(document=document, diagnostics=Diagnostics(), library=EmptyLibrary(),
                   root_name=root.get("name") or "", defaults=defaults)
    return [_definition(ctx, child, child.tag) for child in root
            if isinstance(child.tag, str) and child.tag in _DEFINITION_TAGS]
