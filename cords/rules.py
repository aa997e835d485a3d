"""The CORDS document rules, declared once: what the original XSDs said, as data we ship.

The original parser validated documents against XSDs fetched from compatibleone.fr, which
no longer resolve (and the parser then silently did nothing, CORDS.md §13). These tables
carry the same rules with the product: per element its attributes (type, default), its
children (how many) and whether it may hold text. :mod:`cords.validate` applies them,
:func:`defaults` gives the compiler the schema defaults, :func:`describe_rules` the docs.

Four document kinds (CORDS.md §7, §9, §10, §11), one element table shared by all of them
because a tag means the same thing everywhere (a ``<manifest>`` inside an agreement term is
a manifest; a quota's ``<price>`` is an imported price):

=========  =========  ==============================================
kind       root       replaces
=========  =========  ==============================================
manifest   manifest   manifest.xsd + cordstypes.xsd (CORDS 2.08)
import     import     cords.xsd (2.08)
agreement  agreement  slam.xsd 2.12 + slamtypes.xsd 2.15
provider   provider   provision.xsd + quotatypes.xsd (2.12)
=========  =========  ==============================================

Where these rules knowingly differ from the XSDs, :data:`XSD_DIFFERENCES` says so and why
(tests/cords/test_rules.py derives the differences from the XSDs and checks the table).
"""
from __future__ import annotations

from cords.rules_sla import SLA_ELEMENTS, SLA_DIFFERENCES, SLA_ATTRIBUTE_NOTES
from cords.rules_types import (BANDWIDTH, BOOLEAN, COUNT, DURATION, ERROR, FLAG_OR_BANDWIDTH, INTEGER, NUMBER,
                               SIZE, SPEED, STRING, WARNING, AttrRule, AttrType, ChildRule, Difference,
                               DocumentKind, ElementRule, STATE, element, enum, integer)
from cords.rules_types import AttrRule as A, ChildRule as C

__all__ = ["AttrRule", "AttrType", "ChildRule", "ElementRule", "DocumentKind", "Difference", "KINDS", "ELEMENTS",
           "XSD_DIFFERENCES", "GENERAL_DIFFERENCES", "ATTRIBUTE_NOTES", "ELEMENT_NOTES",
           "document_kind", "kind_of_root", "element_rule", "defaults", "describe_rules", "root_note",
           "STRING", "INTEGER", "COUNT", "BOOLEAN", "NUMBER", "SIZE", "SPEED", "BANDWIDTH", "DURATION", "ERROR",
           "WARNING"]

PORT_NUMBER = integer(0, 65535)
CORDSCRIPT = enum("cordscript")

MANIFEST_ELEMENTS = (
    element("manifest", "a service: its nodes and what to run on them (the root of a manifest document)",
            A("name", required=True, doc="the manifest's name; ':x' names inside it become '<name>:x'",
              reserved=(("simple", "node type=\"simple\" means a node described by its infrastructure and "
                                   "image, so a manifest named simple could never be used as a node type"),)),
            A("description"), A("configuration"), A("release"), A("interface"), A("security"), A("account"),
            A("nodes", COUNT), A("plan", script="cordscript: plan.new(id.value,name.value);"), A("zone"),
            children=(C("security", 0, 1), C("account", 0, 1), C("configuration", 0, 1), C("release", 0, 1),
                      C("interface", 0, 1), C("node"), C("error"), C("warning"), C("choice"), C("description"))),
    element("description", "free text describing the document", common=(), text=True),
    element("security", "the security level and scheme required", A("name"), A("level"), A("scheme")),
    element("account", "the account the service is billed to, and its users",
            A("name"), A("number"), A("security"), A("date"), A("legal"), A("users", COUNT),
            children=(C("user"),)),
    element("user", "a user of an account", A("name", required=True), A("password"), A("email"), A("role"),
            A("account"), A("authorization"), A("stamp")),
    *(element(section, f"the {section} actions of the manifest", A("name"), A("actions", COUNT),
              children=(C("action"),))
      for section in ("configuration", "release", "interface")),
    element("action", "one Cordscript expression (CORDS.md §8)", A("name"), A("type", CORDSCRIPT),
            A("expression")),
    element("node", "one machine (simple node) or one nested manifest (complex node)",
            A("name", required=True, doc="unique in the manifest; names the node in Cordscript"),
            A("infrastructure"), A("image"),
            A("provider", default="any", doc="a provider category: openstack, opennebula, amazonEc2, ..."),
            A("operator", default="any"), A("profile"),
            A("access", enum("private", "public"), default="private"),
            A("category", enum("manifest", "PAAS_manifest"), default="manifest"),
            A("scope", enum("normal", "common"), default="normal"),
            A("type", default="simple", doc="simple, or the name of the manifest this node instantiates"),
            A("entry", default="none"),
            A("cordscript", script="type.resolve(plan.name,type.value);"),
            A("firewall", script="cordscript: firewall.new(id.value); firewall.build();"),
            children=(C("infrastructure", 0, 1), C("image", 0, 1))),
    element("infrastructure", "the hardware of a node: compute, network and storage",
            A("name"), A("compute"), A("network"), A("storage"),
            children=(C("compute", 1, 1), C("network", 1, 1), C("storage", 1, 1)), reusable=True),
    element("compute", "processors and memory", A("name"), A("architecture", doc="x86, x86_64, ..."),
            A("hostname"), A("cores", integer(1)), A("speed", SPEED, default="1G"), A("memory", SIZE, default="1G")),
    element("network", "the network a node is attached to, with its open ports",
            A("name"), A("label", default="ethernet"), A("vlan", FLAG_OR_BANDWIDTH, default="100M"),
            children=(C("port"), C("endpoint")), exclusive=(("port", "endpoint"),)),
    element("endpoint", "a network endpoint with its ports", A("name"), A("label"), A("dns"), A("subnet"),
            A("range"), children=(C("port"),)),
    element("port", "a port the node's firewall opens",
            A("name"), A("description"), A("protocol", enum("tcp", "udp"), default="tcp"),
            A("from", PORT_NUMBER), A("to", PORT_NUMBER), A("range", doc="allowed sources, CIDR (0.0.0.0/0)"),
            A("direction", enum("none", "in", "out", "inout"), default="inout"),
            A("target", PORT_NUMBER, doc="the port to redirect to (NAT)")),
    element("storage", "the node's disk", A("name"), A("size", SIZE, default="10G"), A("type", doc="SATA, ..."),
            children=(C("volume"),)),
    element("volume", "an additional volume", A("name"), A("size", SIZE), A("type")),
    element("image", "the software of a node: a system and packages",
            A("name"), A("system"), A("vm", script="cordscript: vm.new(id.value,provider.value); vm.build();"),
            A("agent", enum("cosacs", "none", "http:cosacs", "https:cosacs"), default="cosacs",
              doc="the in-VM agent configuration and monitoring go through"),
            A("price"), A("packages", COUNT),
            children=(C("system", 1, 1), C("package")), reusable=True),
    element("system", "the operating system (a name or a provider image id)", A("name"), A("version"),
            A("distribution"), A("description"), A("constraint"), A("requirement"), A("price"), A("license")),
    element("package", "a software package installed on the image", A("name"), A("version"),
            A("installation", default="#"), A("configuration", default="#"), A("distribution", default="none"),
            A("mirrors", default="none"), A("description"), A("constraint"), A("requirements"), A("price"),
            A("license"), children=(C("port"),)),
    *(element(tag, f"a {tag} the parser writes into the plan document", A("code"), A("message"),
              common=(STATE,))
      for tag in ("error", "warning", "choice")),
    element("metric", "a measurement a probe takes (a shell expression run every period)",
            A("name", required=True), A("units"), A("period", DURATION), A("samples", integer(1)),
            A("expression")),
)

IMPORT_ELEMENTS = (
    element("import", "definitions and records loaded into the platform (the root of an import document)",
            A("name", required=True, doc="':x' names inside it become '<name>:x'"), A("description"),
            children=tuple(C(tag) for tag in ("description", "infrastructure", "compute", "network", "port",
                                              "storage", "image", "system", "package", "account", "user",
                                              "action", "security", "metric", "price", "geolocation"))),
    element("geolocation", "a zone mapped to a provider region (imports/geolocations-amazonEc2.xml)",
            A("name"), A("category"), A("operator"), A("zone"), A("location"), A("country"), A("town"),
            A("gps")),
)

#: Every element, by tag (one meaning per tag across the four kinds).
ELEMENTS: dict[str, ElementRule] = {}
for _rule in (*MANIFEST_ELEMENTS, *IMPORT_ELEMENTS, *SLA_ELEMENTS):
    assert _rule.tag not in ELEMENTS, f"element {_rule.tag} declared twice"
    ELEMENTS[_rule.tag] = _rule


def _closure(root: str) -> dict[str, ElementRule]:
    """The elements a document of this root may contain, in declaration order from the root."""
    found: dict[str, ElementRule] = {}
    pending = [root]
    while pending:
        tag = pending.pop(0)
        if tag not in found:
            found[tag] = ELEMENTS[tag]
            pending.extend(c.tag for c in ELEMENTS[tag].children)
    return found


_NS = "http://www.compatibleone.fr/schemes/"
KINDS: dict[str, DocumentKind] = {
    kind.name: kind for kind in (
        DocumentKind("manifest", "manifest", f"{_NS}manifest.xsd (cordstypes.xsd, CORDS 2.08)",
                     "a service described as nodes, configuration and accounts (CORDS.md §7)",
                     _closure("manifest")),
        DocumentKind("import", "import", f"{_NS}cords.xsd (CORDS 2.08)",
                     "definitions and records to load: accounts, metrics, prices, models (CORDS.md §11)",
                     _closure("import")),
        DocumentKind("agreement", "agreement", f"{_NS}slam.xsd (slamtypes.xsd 2.15)",
                     "a service level agreement: services, conditions, guarantees (CORDS.md §9)",
                     _closure("agreement")),
        DocumentKind("provider", "provider", f"{_NS}provision.xsd (quotatypes.xsd 2.12)",
                     "a provider's quotas and prices (CORDS.md §10)", _closure("provider")),
    )}

#: Why an attribute the rules do not know appears in real documents (said with the warning).
ATTRIBUTE_NOTES: dict[tuple[str, str], str] = {
    ("package", "requirement"): "cordstypes.xsd spells it 'requirements' on <package> ('requirement' is "
                                "<system>'s)",
    ("system", "requirements"): "cordstypes.xsd spells it 'requirement' on <system> ('requirements' is "
                                "<package>'s)",
    ("node", "common"): "the broker records a common node's shared contract there; documents do not set it",
    **SLA_ATTRIBUTE_NOTES,
}

#: Why an element the rules do not know is not supported.
ELEMENT_NOTES: dict[str, str] = {
    "firewall": "firewalls are built by the broker from the node's ports (CORDS.md §4); cordstypes.xsd "
                "declares the type but no element uses it",
    "federation": "federation documents (federation.xsd, saas.xsd) are not supported",
    "saas": "federation documents (federation.xsd, saas.xsd) are not supported",
}

XSD_DIFFERENCES: tuple[Difference, ...] = (
    # Defaults the manual's examples and CORDS.md §7.1 use, which cordstypes.xsd never declared:
    # a node must be placeable from a manifest that gives only names.
    Difference("compute", "@speed", "default", "1G, as in every example of the manual (cordstypes.xsd has none)"),
    Difference("compute", "@memory", "default", "1G, as in every example of the manual (cordstypes.xsd has none)"),
    Difference("storage", "@size", "default", "10G, as in every example of the manual (cordstypes.xsd has none)"),
    Difference("network", "@label", "default", "ethernet, as in every example (cordstypes.xsd has none)"),
    Difference("network", "@vlan", "default", "100M, as in every example (cordstypes.xsd has none)"),
    Difference("port", "@protocol", "default", "tcp: every port of the corpus is tcp (cordstypes.xsd has none)"),
    # Attributes the manual's port category has and cordstypes.xsd forgot (CORDS.md §7.1).
    Difference("port", "@description", "added", "the manual's port category has a description"),
    Difference("port", "@target", "added", "the manual's port category has a NAT target port"),
    # Values the XSDs left as xsd:string but the manual restricts: checked, so mistakes surface
    # at submission rather than at provisioning.
    *(Difference(tag, f"@{name}", "type", why) for tag, name, why in (
        ("compute", "cores", "a number of cores (1 or more)"),
        ("compute", "speed", "a clock speed with its unit (manual: 0.5G 1G 2G ...)"),
        ("compute", "memory", "a size with K, M, G or T (manual)"),
        ("storage", "size", "a size with K, M, G or T (manual)"),
        ("volume", "size", "a size with K, M, G or T (manual)"),
        ("network", "vlan", "true/false or a bandwidth (the corpus writes both)"),
        ("port", "protocol", "TCP or UDP (manual)"),
        ("port", "direction", "NONE, IN, OUT or INOUT (manual)"),
        ("port", "from", "a port number, 0 to 65535 (manual: 1 to 64K)"),
        ("port", "to", "a port number, 0 to 65535 (manual: 1 to 64K)"),
        ("node", "access", "private or public (manual)"),
        ("node", "scope", "normal or common (manual)"),
        ("node", "category", "manifest or PAAS_manifest (manual)"),
        ("image", "agent", "the agent modes the provider servers implement (CORDS.md §4 step 11)"),
        ("action", "type", "only Cordscript actions exist (manual)"),
        ("metric", "period", "a duration (seconds unless a unit is given)"),
        ("metric", "samples", "a number of samples (1 or more)"),
    )),
    # Names the platform cannot do without (the XSDs declare no attribute required).
    *(Difference(tag, f"@{name}", "required", why) for tag, name, why in (
        ("manifest", "name", "plans, complex nodes and ':' scoping all use it"),
        ("node", "name", "Cordscript and the plan refer to nodes by name"),
        ("user", "name", "a user logs in by name"),
        ("metric", "name", "probes resolve metrics by name"),
        ("import", "name", "':' names inside the document are scoped by it"),
    )),
    Difference("import", "<price>", "added", "CORDS.md §11: prices are imported like the other records "
                                              "(imports/prices.xml)"),
    Difference("import", "<geolocation>", "added", "CORDS.md §11: zone-to-region records "
                                                   "(imports/geolocations-amazonEc2.xml)"),
    Difference("geolocation", "", "added", "the geolocation category's attributes (CORDS.md §12)"),
    *SLA_DIFFERENCES,
)

#: Differences that are behaviour rather than a declaration.
GENERAL_DIFFERENCES: tuple[str, ...] = (
    "Child order is free: the XSD sequences fix an order the corpus does not follow (example1.xml puts "
    "<configuration> after the nodes and <security> before <account>), and the original parser never "
    "enforced it.",
    "An <infrastructure> or <image> without child elements refers to an earlier definition of the same name "
    "(CORDS.md §7.2), so its required children (compute, network, storage; system) are only asked for when it "
    "has children; a child can also be given by reference as the attribute of the same name.",
    "Enumerated values match without regard to case (the manual writes TCP, INOUT, EQ) and are rewritten in the "
    "document in the spelling these rules give.",
    "Attributes the rules do not know are warnings, not errors: real documents carry attributes later schema "
    "versions dropped.",
    "XSD defaults that are Cordscript (manifest plan, node cordscript and firewall, image vm, agreement "
    "cordscript) are recorded as scripts, not values: defaults() leaves them out and the compiler performs the "
    "equivalent step explicitly (CORDS.md §13).",
    "Documented defects tolerated when reading the XSDs: dead include URLs, the xsd namespace typo in "
    "quotatypes.xsd and saas.xsd, and cords.xsd's elements directly inside a complexType (read as children).",
)


def document_kind(kind: str) -> DocumentKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}") from None


def kind_of_root(tag: str) -> str | None:
    """The kind whose root element is ``tag`` (None: not a CORDS document)."""
    return next((k.name for k in KINDS.values() if k.root == tag), None)


def root_note(tag: str) -> str:
    """What a root element that is no CORDS document probably is."""
    if tag.startswith("cords_"):
        return (f"<{tag}> is a category store persisted by an original ACCORDS server (one <cords_<category>> "
                "per instance), not a document to submit")
    return ELEMENT_NOTES.get(tag, "")


def element_rule(kind: str, tag: str) -> ElementRule:
    """The rule of ``tag`` in documents of ``kind`` (KeyError if such documents cannot hold it)."""
    elements = document_kind(kind).elements
    if tag not in elements:
        raise KeyError(f"<{tag}> is not part of {kind} documents")
    return elements[tag]


def defaults(kind: str, element_tag: str) -> dict[str, str]:
    """The schema defaults of an element (attribute -> value); {} for a tag the kind does not have."""
    rule = document_kind(kind).elements.get(element_tag)
    return rule.defaults() if rule is not None else {}


def describe_rules(kind: str) -> list[dict]:
    """The rules of one document kind as plain data, root first (for docs/manifests.md)."""
    described = []
    elements = document_kind(kind).elements
    for tag, rule in elements.items():
        parents = [p for p, r in elements.items() if r.child(tag) is not None]
        described.append({
            "element": tag, "doc": rule.doc, "parents": parents, "text": rule.text, "reusable": rule.reusable,
            "attributes": [{"name": a.name, "type": a.type.name, "describe": a.type.describe,
                            "values": list(a.type.values), "default": a.default, "script": a.script,
                            "required": a.required, "reserved": [v for v, _ in a.reserved], "doc": a.doc}
                           for a in rule.attributes],
            "children": [{"element": c.tag, "min": c.min, "max": c.max, "cardinality": c.cardinality(),
                          "below_min": c.below_min} for c in rule.children],
            "exclusive": [list(group) for group in rule.exclusive],
            "differences": [{"item": d.item, "change": d.change, "why": d.why}
                            for d in XSD_DIFFERENCES if d.element == tag],
        })
    return described
