"""Entity operations (GFD.223 §10): create, read, partial update, full replace, delete, actions."""
from __future__ import annotations

import copy
import re
import uuid

from occi.access import OPEN, WRITE, AccessPolicy
from occi.documents import ActionDocument, EntityDocument
from occi.entity import Entity
from occi.errors import BadRequest, Forbidden, NotFound
from occi.model.category import Action, Kind
from occi.model.core import LINK
from occi.service.builder import EntityBuilder
from occi.service.context import RequestContext
from occi.service.links import build_link, check_source, resolve_target
from occi.store.base import StaleWrite

__all__ = ["EntityOperations"]

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~\-]{0,127}$")
_UUID_URN = re.compile(r"^(?:urn:uuid:)?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


class EntityOperations:
    """Operations on single entities; every method runs inside the caller's store session."""

    def __init__(self, builder: EntityBuilder, hooks, policy: AccessPolicy = OPEN):
        self.builder = builder
        self.hooks = hooks
        self.policy = policy

    # -- reads --------------------------------------------------------------------------
    def load(self, session, path: str) -> Entity:
        record = session.get(path)
        if record is None:
            raise NotFound(f"nothing at {path}", code="no-such-entity", where=path)
        return self.builder.from_record(record)

    def links_of(self, session, entities: list[Entity]) -> dict[str, list[Entity]]:
        sources = [e.location for e in entities if not e.is_link]
        found: dict[str, list[Entity]] = {}
        if sources:
            for record in session.links_from(sources):
                link = self.builder.from_record(record)
                found.setdefault(link.source, []).append(link)
        return found

    # -- create ---------------------------------------------------------------------------
    def create(self, session, kind: Kind, doc: EntityDocument, ctx: RequestContext, *,
               location: str | None = None) -> Entity:
        ctx.session = session            # hooks read (and write) in the same transaction
        builder = self.builder
        kind = builder.kind_for(doc.kind, kind, where="Category")
        self.policy.require(ctx.principal, kind, WRITE)
        mixins, _ = builder.mixins_for(doc.mixins, kind, where="Category")
        builder.confirm_user_mixins(session, mixins)
        attributes = builder.new_attributes(kind, mixins, doc.attributes)
        entity_id, location = self._identity(kind, doc.id, location)
        entity = Entity(location=location, kind=kind, id=entity_id, mixins=mixins, attributes=attributes,
                        owner=self.policy.owner_key(ctx.principal, kind))
        if kind.is_a(LINK):
            self._bind_link_ends(session, entity, doc, ctx)
        elif doc.source or doc.target:
            raise BadRequest(f"occi.core.source/target only apply to links; {kind.term} is a resource",
                             code="not-a-link", where="occi.core.source")
        self.hooks.run_create(entity, ctx)
        session.insert(builder.to_record(entity))
        for link_doc in doc.links:
            self._add_link(session, link_doc, entity, ctx)
        return entity

    def _identity(self, kind: Kind, given: str | None, location: str | None) -> tuple[str, str]:
        """(occi.core.id, location): urn:uuid ids; a client-chosen segment keeps a stable uuid5 id."""
        if location is not None:
            segment = location[len(kind.location):]
            match = _UUID_URN.match(segment)
            if match is None and not _SEGMENT.match(segment):
                raise BadRequest(f"{segment!r} cannot name an entity: use letters, digits, '.', '_', '~' and '-', "
                                 "starting with a letter or digit (at most 128)", code="bad-location", where=location)
            derived = f"urn:uuid:{match.group(1).lower()}" if match else \
                f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, location)}"
            if given is not None and given not in (derived, segment):
                raise BadRequest(f"occi.core.id {given} does not match the location {location}",
                                 code="id-mismatch", where="occi.core.id")
            return derived, location
        if given is None:
            ident = uuid.uuid4()
            return f"urn:uuid:{ident}", f"{kind.location}{ident}"
        match = _UUID_URN.match(given)
        if match:
            ident = match.group(1).lower()
            return f"urn:uuid:{ident}", f"{kind.location}{ident}"
        if not _SEGMENT.match(given):
            raise BadRequest(f"occi.core.id {given!r} is not a UUID nor a simple name", code="bad-id",
                             where="occi.core.id")
        return self._identity(kind, None, f"{kind.location}{given}")

    def _bind_link_ends(self, session, entity: Entity, doc: EntityDocument, ctx: RequestContext) -> None:
        if not doc.source:
            raise BadRequest("a link needs a source (occi.core.source)", code="missing-link-source",
                             where="occi.core.source")
        path = ctx.urls.local_path(doc.source, where="occi.core.source")
        record = session.get(path) if path is not None else None
        source = self.builder.from_record(record) if record is not None else None
        check_source(entity.kind, source, doc.source, where="occi.core.source")
        self.policy.require_owner(ctx.principal, source.owner, source.location, WRITE, source.kind)
        entity.source, entity.source_kind = source.location, source.kind.type_id
        entity.target, entity.target_kind = resolve_target(
            entity.kind, doc.target, session, self.builder, ctx, where="occi.core.target", policy=self.policy)

    def _add_link(self, session, link_doc, source: Entity, ctx: RequestContext) -> Entity:
        link = build_link(link_doc, source, session, self.builder, ctx, policy=self.policy)
        self.policy.require(ctx.principal, link.kind, WRITE)
        self.hooks.run_create(link, ctx)
        session.insert(self.builder.to_record(link))
        return link

    # -- update -----------------------------------------------------------------------------
    def update(self, session, path: str, doc: EntityDocument, ctx: RequestContext) -> Entity:
        """POST on an entity: only what is named changes; mixins and links are added."""
        ctx.session = session            # hooks read (and write) in the same transaction
        old = self.load(session, path)
        self.policy.require_entity(ctx.principal, old, WRITE)
        self._check_version(old, ctx)
        self._same_kind(old, doc)
        mixins, added = self.builder.mixins_for(doc.mixins, old.kind, where="Category", current=old.mixins)
        self.builder.confirm_user_mixins(session, added)
        new = copy.copy(old)
        new.mixins = mixins
        new.attributes = self.builder.updated_attributes(old, mixins, added, doc.attributes, replace=False)
        self._keep_link_ends(old, doc, ctx)
        self._save(session, old, new, ctx)
        for link_doc in doc.links:
            self._add_link(session, link_doc, new, ctx)
        return new

    def replace(self, session, path: str, doc: EntityDocument, ctx: RequestContext) -> Entity:
        """PUT on an existing entity: a full replace that keeps existing links (GFD.223 §10.2)."""
        ctx.session = session            # hooks read (and write) in the same transaction
        old = self.load(session, path)
        self.policy.require_entity(ctx.principal, old, WRITE)
        self._check_version(old, ctx)
        self._same_kind(old, doc)
        self._links_on_put(session, old, doc, ctx)
        mixins, added = self.builder.mixins_for(doc.mixins, old.kind, where="Category")
        self.builder.confirm_user_mixins(session, mixins)
        added = [m for m in added if m not in old.mixins]
        new = copy.copy(old)
        new.mixins = mixins
        new.attributes = self.builder.updated_attributes(old, mixins, added, doc.attributes, replace=True)
        self._keep_link_ends(old, doc, ctx)
        self._save(session, old, new, ctx)
        return new

    @staticmethod
    def _same_kind(old: Entity, doc: EntityDocument) -> None:
        if doc.kind is not None and doc.kind != old.kind.type_id:
            raise BadRequest(f"the kind of {old.location} is {old.kind.type_id}; an entity's kind never changes",
                             code="kind-change", where="Category")
        if doc.id is not None and doc.id not in (old.id, old.id.removeprefix("urn:uuid:")):
            raise Forbidden(f"attribute occi.core.id is immutable ({old.location} is {old.id})",
                            code="immutable-attribute", where="occi.core.id")

    @staticmethod
    def _keep_link_ends(old: Entity, doc: EntityDocument, ctx: RequestContext) -> None:
        for name, given, current in (("occi.core.source", doc.source, old.source),
                                     ("occi.core.target", doc.target, old.target)):
            if given is None or current is None:
                continue
            path = ctx.urls.local_path(given, where=name)
            if (path if path is not None else given) != current:
                raise BadRequest(f"{name} of an existing link cannot be changed here; delete the link and "
                                 "create another", code="link-end-change", where=name)

    def _links_on_put(self, session, old: Entity, doc: EntityDocument, ctx: RequestContext) -> None:
        """docs/OCCI.md §7: Link headers that repeat existing links or action links are ignored, others are 400.

        A repeated link is known by its target and its ``self=`` (text) or its id (JSON ``links``).
        """
        if not doc.links:
            return
        current = self.links_of(session, [old]).get(old.location, [])
        existing = {(link.target, link.location) for link in current} | {(link.target, link.id) for link in current}
        for link_doc in doc.links:
            target = ctx.urls.local_path(link_doc.target or "", where=link_doc.where) or link_doc.target
            self_path = ctx.urls.local_path(link_doc.self_, where=link_doc.where) if link_doc.self_ else None
            if (target, self_path) not in existing and (link_doc.id is None or (target, link_doc.id) not in existing):
                raise BadRequest("a full replace (PUT) cannot create links; POST them to the entity or to a "
                                 "link collection", code="link-in-put", where=link_doc.where)

    def _check_version(self, entity: Entity, ctx: RequestContext) -> None:
        if ctx.if_match is not None and ctx.if_match != entity.version:
            raise StaleWrite(f"{entity.location} is at version {entity.version}, not {ctx.if_match} as "
                             "If-Match says; read it again and retry", where="If-Match")

    def _save(self, session, old: Entity, new: Entity, ctx: RequestContext) -> None:
        self.hooks.run_update(old, new, ctx)
        record = session.update(self.builder.to_record(new), expected_version=old.version)
        new.version = record.version

    # -- delete -------------------------------------------------------------------------------
    def delete(self, session, entity: Entity, ctx: RequestContext) -> None:
        """Delete an entity; a resource takes its links with it (and links pointing at it)."""
        ctx.session = session            # hooks read (and write) in the same transaction
        self.policy.require_entity(ctx.principal, entity, WRITE)
        self._check_version(entity, ctx)
        if not entity.is_link:
            dependants = [self.builder.from_record(r) for r in session.links_from([entity.location])]
            dependants += [self.builder.from_record(r) for r in session.links_to(entity.location)]
            for link in dependants:
                self.hooks.run_delete(link, ctx)
                session.delete(link.location)
        self.hooks.run_delete(entity, ctx)
        session.delete(entity.location)

    # -- actions --------------------------------------------------------------------------------
    def resolve_action(self, entity: Entity, term: str, doc: ActionDocument | None) -> Action:
        model = self.builder.model
        offered = entity.offered_actions()
        if doc is not None and doc.action is not None:
            action = model.get(doc.action)
            if not isinstance(action, Action):
                raise BadRequest(f"{doc.action} is not an action known here", code="unknown-action",
                                 where="Category")
            if action.term != term:
                raise BadRequest(f"?action={term} names another action than the Category {doc.action}",
                                 code="action-mismatch", where="Category")
            if action not in offered:
                raise BadRequest(f"action {doc.action} is not defined for {entity.kind.term} {entity.location}",
                                 code="unknown-action", where="Category")
            return action
        return model.find_action(term, offered)

    def run_action(self, session, entity: Entity, action: Action, doc: ActionDocument | None,
                   ctx: RequestContext) -> Entity:
        ctx.session = session            # hooks read (and write) in the same transaction
        self.policy.require_action(ctx.principal, entity, action)
        self._check_version(entity, ctx)
        if action.enabled_in is not None and entity.state not in action.enabled_in:
            raise BadRequest(
                f"action {action.term} is not applicable to {entity.location}: {entity.kind.state_attribute} is "
                f"{entity.state} (it applies when {' or '.join(action.enabled_in)})",
                code="action-not-applicable", where="?action")
        parameters = self.builder.action_parameters(action, doc.attributes if doc is not None else {})
        new = copy.copy(entity)
        new.attributes = dict(entity.attributes)
        handler = self.hooks.action_handler(action)
        if handler is not None:
            handler(new, action, parameters, ctx)
        elif action.target_state is not None and entity.kind.state_attribute:
            new.attributes[entity.kind.state_attribute] = action.target_state
            new.attributes.pop(f"{entity.kind.state_attribute}.message", None)
        if new.attributes == entity.attributes and new.mixins == entity.mixins:
            # Nothing changed (the action acted elsewhere, or asked again what was asked): no
            # write, so a concurrent writer cannot make it stale and have it run twice.
            return new
        self._save(session, entity, new, ctx)
        return new
