"""Links: inline links on resources and link entities of their own (GFD.221 Link, GFD.185 §3.4.5)."""
from __future__ import annotations

import re
import uuid

from occi.access import OPEN, AccessPolicy
from occi.documents import LinkDocument
from occi.entity import Entity
from occi.errors import BadRequest
from occi.model.category import Kind
from occi.model.core import LINK, RESOURCE
from occi.service.builder import EntityBuilder
from occi.service.context import RequestContext

__all__ = ["build_link", "check_source", "resolve_target"]

#: What cannot appear in a URI we store and later render (in <...> or a quoted string).
_UNSAFE = re.compile(r'[\x00-\x20\x7f<>"\\]')


def check_source(kind: Kind, source: Entity | None, source_uri: str, *, where: str) -> None:
    if source is None:
        raise BadRequest(f"link source {source_uri} is not a resource on this server", code="bad-link-source",
                         where=where)
    if source.is_link:
        raise BadRequest(f"link source {source_uri} is a link; a link starts at a resource", code="bad-link-source",
                         where=where)
    if kind.source_kinds and not any(source.kind.is_a(k) for k in kind.source_kinds):
        wanted = " or ".join(k.term for k in kind.source_kinds)
        raise BadRequest(f"a {kind.term} link starts at a {wanted}; {source_uri} is a {source.kind.term}",
                         code="bad-link-source", where=where)


def resolve_target(kind: Kind, target_uri: str | None, session, builder: EntityBuilder, ctx: RequestContext,
                   *, where: str, policy: AccessPolicy = OPEN) -> tuple[str, str | None]:
    """The stored form of the target (our path, or the external URI) and its kind.

    A local target the caller may not read is answered like a missing one, so that links
    neither reach into other accounts nor tell what exists there."""
    if not target_uri:
        raise BadRequest("a link needs a target (occi.core.target)", code="missing-link-target", where=where)
    path = ctx.urls.local_path(target_uri, where=where)
    if path is None:
        if _UNSAFE.search(target_uri):
            raise BadRequest(f"link target {target_uri!r} is not a URI (spaces, control characters, quotes and "
                             "angle brackets must be percent-encoded)", code="bad-link-target", where=where)
        if kind.target_kinds:
            raise BadRequest(f"a {kind.term} link must target a {kind.target_kinds[0].term} on this server",
                             code="bad-link-target", where=where)
        return target_uri, None
    record = session.get(path)
    target = builder.from_record(record) if record is not None else None
    if target is None or not policy.visible(ctx.principal, target):
        raise BadRequest(f"link target {target_uri} does not exist", code="bad-link-target", where=where)
    if kind.target_kinds and not any(target.kind.is_a(k) for k in kind.target_kinds):
        wanted = " or ".join(k.term for k in kind.target_kinds)
        raise BadRequest(f"a {kind.term} link targets a {wanted}; {target_uri} is a {target.kind.term}",
                         code="bad-link-target", where=where)
    return path, target.kind.type_id


def build_link(doc: LinkDocument, source: Entity, session, builder: EntityBuilder, ctx: RequestContext, *,
               policy: AccessPolicy = OPEN) -> Entity:
    """A link entity from an inline Link (text) or a nested link object (JSON)."""
    where = doc.where or "Link"
    model = builder.model
    kinds = [c for c in (model.get(t) for t in doc.categories) if isinstance(c, Kind)]
    unknown = [t for t in doc.categories if model.get(t) is None]
    if unknown:
        raise BadRequest(f"link category {unknown[0]} is not known here", code="unknown-kind", where=where)
    if len(kinds) > 1:
        raise BadRequest("a link has exactly one kind", code="several-kinds", where=where)
    kind = kinds[0] if kinds else LINK
    if not kind.is_a(LINK):
        raise BadRequest(f"{kind.type_id} is not a link kind", code="not-a-link-kind", where=where)
    mixin_ids = [t for t in doc.categories if t not in {k.type_id for k in kinds}]
    mixins, _ = builder.mixins_for(mixin_ids, kind, where=where)
    builder.confirm_user_mixins(session, mixins)
    check_source(kind, source, source.location, where=where)
    target, target_kind = resolve_target(kind, doc.target, session, builder, ctx, where=where, policy=policy)
    if target_kind is None and doc.rel and doc.rel[0] != RESOURCE.type_id:
        if _UNSAFE.search(doc.rel[0]):
            raise BadRequest(f"rel {doc.rel[0]!r} is not a category type identifier", code="bad-link-rel", where=where)
        target_kind = doc.rel[0]
    attributes = builder.new_attributes(kind, mixins, doc.attributes)
    ident = uuid.uuid4()
    return Entity(location=f"{kind.location}{ident}", kind=kind, id=f"urn:uuid:{ident}", mixins=mixins,
                  attributes=attributes, source=source.location, target=target,
                  source_kind=source.kind.type_id, target_kind=target_kind, owner=ctx.principal.account)
