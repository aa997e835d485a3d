"""What the parser component does besides storing: count attributes kept true, firewalls built.

* Counts. A manifest's ``nodes``, an image's ``packages``, a firewall's ``ports`` and a
  section's ``actions`` count the links from it to entities of that kind (CORDS.md §12,
  ``x[*]->cat``). Clients add and remove such links through plain OCCI (``POST /link/``,
  inline links, deleting either end); the hooks below keep the count in the same
  transaction, so it never disagrees with ``/link/``.
* Names. A manifest's name is unique on the platform (complex nodes name manifests by it);
  a definition's (infrastructure, image, compute ...) within its account (bare names in
  documents resolve to it). ``POST /submit`` reuses what exists; these hooks refuse a plain
  OCCI create that would make a name ambiguous (409 ``duplicate-name``).
* ``firewall?action=build`` rebuilds a firewall's ports from its node as stored now: one
  port per port of the node's network and of its image's packages (what the parser derives
  when a manifest is submitted), replacing the ports it had.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from cords.diagnostics import Diagnostics
from cords.model import manifest as m
from cords.plan import NodePlan
from cords.records import count_links, unique_names
from occi.errors import Conflict
from occi.hooks import Hooks

__all__ = ["hooks", "COUNTED"]

#: (source kind, target kind, the source's attribute counting such links)
COUNTED = (
    (m.MANIFEST, m.NODE, "occi.manifest.nodes"),
    (m.IMAGE, m.PACKAGE, "occi.image.packages"),
    (m.FIREWALL, m.PORT, "occi.firewall.ports"),
    *((section, m.ACTION, f"occi.{section.term}.actions") for section in (m.CONFIGURATION, m.RELEASE, m.INTERFACE)),
)


#: Definitions documents reuse by name within an account.
NAMED_PER_ACCOUNT = (m.INFRASTRUCTURE, m.COMPUTE, m.STORAGE, m.NETWORK, m.IMAGE, m.SYSTEM, m.PACKAGE, m.SECURITY)


def _path(url: str) -> str:
    return urlsplit(url).path


def hooks(model) -> Hooks:
    table = Hooks()
    for source, target, attribute in COUNTED:
        count_links(table, source=source, target=target, attribute=attribute)
    unique_names(table, [m.MANIFEST])
    unique_names(table, NAMED_PER_ACCOUNT, per_account=True)

    @table.on_action(m.FIREWALL_BUILD)
    def build(entity, action, parameters, ctx):
        _build_firewall(entity, ctx, model)

    return table


def _build_firewall(firewall, ctx, model) -> None:
    from cords.manifest import firewall_rules
    from cords.store import ParserStore
    from occi.service.builder import EntityBuilder

    session = ctx.session
    node_url = firewall.attributes.get("occi.firewall.node")
    node = session.get(_path(node_url)) if node_url else None
    if node is None:
        raise Conflict(f"firewall {firewall.location} names no stored node to build from",
                       code="firewall-without-node", where="occi.firewall.node")
    store = ParserStore(session, builder=EntityBuilder(model), owner=firewall.owner, urls=ctx.urls)
    plan = NodePlan(name=node.attributes.get("occi.node.name", ""))
    for tag in ("infrastructure", "image"):
        reference = node.attributes.get(f"occi.node.{tag}")
        record = session.get(_path(reference)) if reference else None
        if record is not None:
            setattr(plan, tag, store.definition_of(record, tag))
    diagnostics = Diagnostics()
    rules = firewall_rules(plan, diagnostics=diagnostics)
    for link in session.links_from([firewall.location]):
        if link.target_kind == m.PORT.type_id:
            session.delete(link.location)
            session.delete(link.target)
    source = store.builder.from_record(session.get(firewall.location))
    for rule in rules:
        port = store.insert(m.PORT, {"occi.port.name": rule.name, "occi.port.protocol": rule.protocol,
                                     "occi.port.from": rule.first, "occi.port.to": rule.last,
                                     "occi.port.range": rule.range, "occi.port.direction": rule.direction})
        store.link(source, port.location, m.PORT)
    firewall.attributes["occi.firewall.ports"] = len(rules)
