"""The parser's store seen as CORDS: named definitions found and reused, new ones written.

:class:`ParserStore` works inside one store session (one transaction) for one owner
(account). It is a :class:`cords.manifest.Library` (a manifest's bare names resolve to what
is stored, CORDS.md §7.2: reuse by name) and writes the entities a document describes:
each named definition once, reusing a stored one of the same name, owned by the submitter's
account or shared by the platform's.

References (``occi.infrastructure.compute``) hold absolute URLs, as CORDS.md §13 asks;
collections (an image's packages, a network's ports, a manifest's nodes) are links in
``/link/`` counted by their count attribute.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cords.model import manifest as m
from cords.plan import Definition
from occi.entity import Entity
from occi.model.core import LINK
from occi.security.model import PLATFORM_ACCOUNT
from occi.service.builder import EntityBuilder
from occi.store.base import Query
from occi.urls import Urls

__all__ = ["ParserStore", "StoredManifest", "KINDS", "written_attributes"]

#: Definition tag -> the kind it is stored as.
KINDS = {"infrastructure": m.INFRASTRUCTURE, "compute": m.COMPUTE, "storage": m.STORAGE, "network": m.NETWORK,
         "image": m.IMAGE, "system": m.SYSTEM, "package": m.PACKAGE, "security": m.SECURITY, "port": m.PORT,
         "endpoint": m.ENDPOINT, "volume": m.VOLUME}
#: Parts held by reference: tag -> the reference attributes naming its parts.
_PARTS = {"infrastructure": ("compute", "network", "storage"), "image": ("system",)}
#: XML attribute -> model attribute where they differ (the model says why).
_RENAMED = {("package", "requirements"): "requirement"}
_XML_NAMES = {(tag, model): xml for (tag, xml), model in _RENAMED.items()}
#: OCCI text renderings cannot carry control characters; in CORDS values (descriptions,
#: Cordscript spread over lines) a line break is only whitespace.
_BREAKS = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class StoredManifest:
    """What a complex node needs of the manifest it instantiates."""

    name: str
    location: str
    plan: str | None
    interface_actions: list[str] = field(default_factory=list)


def written_attributes(kind, tag: str, definition: Definition) -> dict:
    """The OCCI attributes of ``definition`` (its XML attributes in the model's types)."""
    out = {}
    if definition.name is not None:
        out[f"occi.{tag}.name"] = definition.name
    declared = kind.attribute_map
    for key, value in definition.attributes.items():
        name = f"occi.{tag}.{_RENAMED.get((tag, key), key)}"
        attribute = declared.get(name)
        if attribute is None or attribute.server_managed or key == "name" or key in _PARTS.get(tag, ()):
            continue       # the rules accepted it; the model keeps what brokering uses
        if attribute.type == "integer" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        out[name] = value
    return out


class ParserStore:
    def __init__(self, session, *, builder: EntityBuilder, owner: str, urls: Urls,
                 shared: tuple[str, ...] = (PLATFORM_ACCOUNT,)):
        self.session = session
        self.builder = builder
        self.owner = owner
        self.urls = urls
        self.owners = (owner, *[o for o in shared if o != owner])
        #: (tag, name) -> (path, effective definition) of what this document wrote or reused.
        self._done: dict[tuple[str, str], tuple[str, Definition]] = {}
        self.created: list[dict] = []
        self.reused: list[dict] = []
        #: Every entity and link written, for the submitter's summary.
        self.written = 0
        #: (kind, name) -> the stored record found (or None): checking a document and writing it
        #: ask for the same names. What this document writes is in ``_done``, asked first.
        self._found: dict[tuple[str, str], object] = {}
        self._manifests: dict[str, StoredManifest | None] = {}

    # -- reading --------------------------------------------------------------------------
    def find(self, kind, name: str):
        """The stored entity of ``kind`` named ``name``: the owner's, else a shared one."""
        key = (kind.type_id, name)
        if key not in self._found:
            # One query for every owner: the name is indexed and rarely shared across accounts.
            found = self.session.list(Query(kinds=[kind.type_id], attributes={f"occi.{kind.term}.name": name}))
            self._found[key] = next((r for owner in self.owners for r in found if r.owner == owner), None)
        return self._found[key]

    def definition(self, tag: str, name: str) -> Definition | None:
        done = self._done.get((tag, name))
        if done is not None:
            return done[1]
        kind = KINDS.get(tag)
        record = self.find(kind, name) if kind is not None else None
        return self._from_record(record, tag) if record is not None else None

    def manifest(self, name: str) -> StoredManifest | None:
        """A stored manifest (checking a document and storing it both ask: read once)."""
        if name not in self._manifests:
            self._manifests[name] = self._manifest(name)
        return self._manifests[name]

    def _manifest(self, name: str) -> StoredManifest | None:
        record = self.find(m.MANIFEST, name)
        if record is None:
            return None
        actions = []
        interface = record.attributes.get("occi.manifest.interface")
        if interface:
            for link in self.session.links_from([_path(interface)]):
                action = self.session.get(link.target)
                if action is not None and action.attributes.get("occi.action.name"):
                    actions.append(action.attributes["occi.action.name"])
        return StoredManifest(name=name, location=self.urls.absolute(record.location),
                              plan=record.attributes.get("occi.manifest.plan"), interface_actions=sorted(actions))

    def definition_of(self, record, tag: str) -> Definition:
        """The definition a stored entity of ``tag`` holds, with its parts, packages and ports."""
        return self._from_record(record, tag)

    def _from_record(self, record, tag: str) -> Definition:
        kind = KINDS[tag]
        prefix = f"occi.{tag}."
        own, parts = {}, {}
        for name, value in record.attributes.items():
            attribute = kind.attribute_map.get(name)
            if not name.startswith(prefix) or attribute is None or attribute.server_managed:
                continue
            key = name[len(prefix):]
            if key == "name":
                continue
            if key in _PARTS.get(tag, ()):
                part = self.session.get(_path(value))
                if part is not None:
                    parts[key] = self._from_record(part, key)
                continue
            own[_XML_NAMES.get((tag, key), key)] = str(value)
        packages, ports = [], []
        for link in self.session.links_from([record.location]):
            target = self.session.get(link.target)
            if target is None:
                continue
            if target.kind == m.PACKAGE.type_id:
                packages.append(self._from_record(target, "package"))
            elif target.kind == m.PORT.type_id:
                ports.append({key[len("occi.port."):]: str(value) for key, value in target.attributes.items()
                              if key.startswith("occi.port.") and key != "occi.port.state"})
        return Definition(tag=tag, name=record.attributes.get(f"{prefix}name"), attributes=own, parts=parts,
                          packages=packages, ports=ports, stored_at=self.urls.absolute(record.location))

    # -- writing --------------------------------------------------------------------------
    def insert(self, kind, attributes: dict, *, managed: dict | None = None, location: str | None = None) -> Entity:
        """A new entity of ``kind``, its attributes checked as a client's would be."""
        values = self.builder.new_attributes(kind, [], {name: _BREAKS.sub(" ", value).strip()
                                                        if isinstance(value, str) else value
                                                        for name, value in attributes.items()})
        values.update(managed or {})
        ident = uuid.uuid4()
        entity = Entity(location=location or f"{kind.location}{ident}", kind=kind, id=f"urn:uuid:{ident}",
                        attributes=values, owner=self.owner)
        self.session.insert(self.builder.to_record(entity))
        self.written += 1
        return entity

    def link(self, source: Entity, target_path: str, target_kind) -> None:
        ident = uuid.uuid4()
        self.session.insert(self.builder.to_record(Entity(
            location=f"{LINK.location}{ident}", kind=LINK, id=f"urn:uuid:{ident}",
            attributes=self.builder.new_attributes(LINK, [], {}), source=source.location, target=target_path,
            source_kind=source.kind.type_id, target_kind=target_kind.type_id, owner=self.owner)))
        self.written += 1

    def _agrees(self, record, definition: Definition) -> bool:
        """Whether a stored entity has every value the document gives its namesake, parts
        included (defaults the document leaves out are not compared)."""
        tag = definition.tag
        if any(record.attributes.get(name) != value
               for name, value in written_attributes(KINDS[tag], tag, definition).items()):
            return False
        for part_tag, part in definition.parts.items():
            reference = record.attributes.get(f"occi.{tag}.{part_tag}")
            stored = self.session.get(_path(reference)) if reference else None
            if stored is None or (part.resolved and not self._agrees(stored, part)):
                return False
        return True

    def url(self, path: str) -> str:
        return self.urls.absolute(path)

    def write(self, definition: Definition) -> tuple[str, Definition]:
        """(absolute URL, the definition in effect) of ``definition``: the stored one of its name
        when there is one, else what is written now."""
        tag, name = definition.tag, definition.name
        if name is not None:
            done = self._done.get((tag, name))
            if done is not None:
                return done
            record = self.find(KINDS[tag], name)
            if record is not None:
                stored = self._from_record(record, tag)
                result = (self.url(record.location), stored)
                self._done[(tag, name)] = result
                self.reused.append({"kind": tag, "name": name, "location": result[0],
                                    "same": not definition.resolved or self._agrees(record, definition),
                                    "at": definition.location})
                return result
        kind = KINDS[tag]
        attributes = written_attributes(kind, tag, definition)
        for part_tag in _PARTS.get(tag, ()):
            part = definition.parts.get(part_tag)
            if part is not None:
                attributes[f"occi.{tag}.{part_tag}"], effective = self.write(part)
                definition.parts[part_tag] = effective
        packages = []
        for index, package in enumerate(definition.packages):
            url, definition.packages[index] = self.write(package)
            packages.append(url)
        managed = {"occi.image.packages": len(packages)} if tag == "image" else None
        entity = self.insert(kind, attributes, managed=managed)
        for url in packages:
            self.link(entity, _path(url), m.PACKAGE)
        for port in definition.ports:
            self.link(entity, self.insert(m.PORT, written_attributes(m.PORT, "port", Definition(
                tag="port", name=port.get("name"), attributes=port))).location, m.PORT)
        result = (self.url(entity.location), definition)
        definition.stored_at = result[0]
        if name is not None:
            self._done[(tag, name)] = result
        self.created.append({"kind": tag, "name": name, "location": result[0]})
        return result


def _path(url: str) -> str:
    return urlsplit(url).path
