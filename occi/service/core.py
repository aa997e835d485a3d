"""OcciService: the OCCI semantics of GFD.223 over a store, independent of HTTP and renderings."""
from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass, field

from occi.access import OPEN, READ, WRITE, AccessPolicy
from occi.documents import EntityDocument, RequestDocument
from occi.entity import Entity
from occi.errors import BadRequest, Conflict, Forbidden, NotFound, OcciError, PayloadTooLarge
from occi.hooks import Hooks
from occi.model.category import Kind, Mixin
from occi.model.core import LINK
from occi.model.registry import Model
from occi.service.builder import EntityBuilder
from occi.service.context import RequestContext
from occi.service.entities import EntityOperations
from occi.service.models import ModelCache, mixin_from_record
from occi.store.base import MixinRecord, Query, StaleWrite

__all__ = ["OcciService", "Listing"]

#: Error codes that may only mean this process has not seen a new user mixin yet.
_MODEL_MISSES = frozenset({"unknown-mixin", "unknown-kind", "unknown-related", "no-such-collection",
                           "bad-filter", "no-such-category", "stale-model"})


def _fresh_model(operation):
    """Run ``operation``; if it failed on an unknown category and the model has changed since, once more."""
    @functools.wraps(operation)
    def wrapper(self, *args, **kwargs):
        try:
            return operation(self, *args, **kwargs)
        except OcciError as error:
            if error.code in _MODEL_MISSES and self.models.refresh():
                return operation(self, *args, **kwargs)
            raise
    return wrapper

_MAX_OFFSET = 2 ** 62
#: How often an unconditional action is tried when the entity changes under it.
_ACTION_ATTEMPTS = 8


@dataclass
class Listing:
    locations: list[str] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    links: dict[str, list[Entity]] = field(default_factory=dict)
    links_collection: bool = False


class OcciService:
    def __init__(self, *, model: Model, store, hooks: Hooks | None = None, policy: AccessPolicy = OPEN,
                 max_page_size: int = 1000, model_refresh_interval: float = 0.5):
        self.store = store
        self.hooks = hooks or Hooks()
        self.policy = policy
        self.models = ModelCache(model, store, refresh_interval=model_refresh_interval)
        self.max_page_size = max_page_size

    # -- helpers ----------------------------------------------------------------------------
    def model(self) -> Model:
        return self.models.current()

    def _ops(self) -> tuple[Model, EntityOperations]:
        model, generation = self.models.snapshot()
        return model, EntityOperations(EntityBuilder(model, generation=generation), self.hooks, self.policy)

    def collection(self, path: str) -> Kind | Mixin | None:
        found = self.model().by_location(path)
        if found is None and self.models.refresh():
            found = self.model().by_location(path)
        return found

    # -- entities ---------------------------------------------------------------------------
    def get(self, path: str, ctx: RequestContext) -> tuple[Entity, list[Entity]]:
        _, ops = self._ops()
        with self.store.session(readonly=True) as session:
            record, links = session.get_with_links(path)
        if record is None:
            raise NotFound(f"nothing at {path}", code="no-such-entity", where=path)
        entity = ops.builder.from_record(record)
        self.policy.require_entity(ctx.principal, entity, READ)
        return entity, [ops.builder.from_record(link) for link in links]

    def links_of(self, entities: list[Entity]) -> dict[str, list[Entity]]:
        """The outgoing links of ``entities``, by source location."""
        _, ops = self._ops()
        with self.store.session(readonly=True) as session:
            return ops.links_of(session, entities)

    @_fresh_model
    def create(self, kind: Kind, doc: RequestDocument, ctx: RequestContext) -> list[Entity]:
        """POST to a kind collection: one entity, or several from a JSON collection, atomically."""
        if doc.entity is None and not doc.entities and doc.locations:
            raise BadRequest(f"a list of locations does not describe a new {kind.term}; send its Category and "
                             "attributes (text) or an entity object (JSON)", code="not-an-entity", where="body")
        documents = doc.entities or [doc.entity or EntityDocument()]
        _, ops = self._ops()
        with self.store.session() as session:
            return [ops.create(session, kind, item, ctx) for item in documents]

    @_fresh_model
    def put(self, path: str, doc: RequestDocument, ctx: RequestContext) -> tuple[Entity, bool]:
        """PUT on an entity path: full replace if it exists, else create it there (C8)."""
        model, ops = self._ops()
        entity_doc = doc.entity or EntityDocument()
        with self.store.session() as session:
            if session.get(path) is not None:
                return ops.replace(session, path, entity_doc, ctx), False
            parent = path[: path.rstrip("/").rfind("/") + 1]
            kind = model.by_location(parent)
            if not isinstance(kind, Kind):
                raise BadRequest(f"{path} is not inside a kind collection; PUT creates entities only as "
                                 "<kind location><name>", code="bad-location", where=path)
            if entity_doc.links:
                raise BadRequest("a PUT that creates an entity cannot carry links; add them with a POST",
                                 code="link-in-put", where="Link")
            return ops.create(session, kind, entity_doc, ctx, location=path), True

    @_fresh_model
    def update(self, path: str, doc: RequestDocument, ctx: RequestContext) -> Entity:
        _, ops = self._ops()
        with self.store.session() as session:
            return ops.update(session, path, doc.entity or EntityDocument(), ctx)

    def delete(self, path: str, ctx: RequestContext) -> None:
        _, ops = self._ops()
        with self.store.session() as session:
            ops.delete(session, ops.load(session, path), ctx)

    @_fresh_model
    def action(self, path: str, term: str, doc: RequestDocument | None, ctx: RequestContext) -> Entity:
        _, ops = self._ops()
        attempts = 1 if ctx.if_match is not None else _ACTION_ATTEMPTS
        for attempt in range(attempts):
            try:
                with self.store.session() as session:
                    entity = ops.load(session, path)
                    action = ops.resolve_action(entity, term, doc.action if doc else None)
                    return ops.run_action(session, entity, action, doc.action if doc else None, ctx)
            except StaleWrite:
                # An unconditional action applies to the entity as it is: if it changed
                # while the action ran (a component's report, say), run it on the new one.
                if attempt == attempts - 1:
                    raise
                ctx.response_headers.clear()
                time.sleep(random.uniform(0, 0.02) * (attempt + 1))    # let the other writer finish

    # -- collections ----------------------------------------------------------------------------
    def query_for(self, path: str, filters: RequestDocument | None) -> Query:
        model = self.model()
        category = model.by_location(path)
        query = Query()
        if isinstance(category, Kind):
            query.kinds = [k.type_id for k in model.kinds if k.is_a(category)]
        elif isinstance(category, Mixin):
            query.mixin = category.type_id
        elif path != "/":
            under = [c for c in (*model.kinds, *model.mixins) if c.location and c.location.startswith(path)]
            if not under:
                raise NotFound(f"no collection at {path}", code="no-such-collection", where=path)
            query.location_prefix = path
        if filters is not None:
            self._apply_filters(model, query, filters)
        return query

    @staticmethod
    def _apply_filters(model: Model, query: Query, filters: RequestDocument) -> None:
        for category_doc in filters.categories:
            category = model.get(category_doc.type_id)
            if isinstance(category, Kind):
                narrowed = [k.type_id for k in model.kinds if k.is_a(category)]
                query.kinds = [k for k in (query.kinds or narrowed) if k in narrowed]
            elif isinstance(category, Mixin):
                if query.mixin is not None and query.mixin != category.type_id:
                    query.kinds = []          # two different mixins: keep it simple and exact
                query.mixin = category.type_id
            else:
                raise BadRequest(f"filter names unknown category {category_doc.type_id}", code="bad-filter",
                                 where=category_doc.where or "Category")
        for name, value in filters.attributes.items():
            if name in model.secret_attributes:
                raise BadRequest(f"{name} is write-only: it cannot be used in a filter", code="bad-filter",
                                 where=name)
            query.attributes[name] = value

    def paginate(self, query: Query, page: int | None, number: int | None) -> None:
        if page is None and number is None:
            return
        number = number if number is not None else self.max_page_size
        page = page if page is not None else 1
        for name, value in (("page", page), ("number", number)):
            if value < 1:
                raise BadRequest(f"{name}={value}: page and number must be positive integers", code="bad-page",
                                 where=f"?{name}")
        if number > self.max_page_size:
            raise PayloadTooLarge(f"number={number} is more than this server renders in one page "
                                  f"({self.max_page_size})", code="page-too-large", where="?number")
        # Past the end is an empty page (GFD.223 §6); clamp so that the database's integers hold it.
        query.offset, query.limit = min((page - 1) * number, _MAX_OFFSET), number

    @_fresh_model
    def list(self, path: str, filters: RequestDocument | None, ctx: RequestContext, *, full: bool,
             page: int | None = None, number: int | None = None) -> Listing:
        model, ops = self._ops()
        query = self.query_for(path, filters)
        self.paginate(query, page, number)
        category = model.by_location(path)
        kind = category if isinstance(category, Kind) else None
        self.policy.require(ctx.principal, kind, READ)
        query.owner = self.policy.owner_filter(ctx.principal, READ, kind)
        if kind is None:
            # The root and mixin collections span kinds: only those the principal may read.
            readable = self.policy.readable_kinds(ctx.principal, model.kinds)
            query.kinds = [k for k in (query.kinds if query.kinds is not None else readable) if k in readable]
        listing = Listing(links_collection=isinstance(category, Kind) and category.is_a(LINK))
        if query.kinds == []:
            return listing
        with self.store.session(readonly=True) as session:
            if not full:
                listing.locations = session.list_locations(query)
                return listing
            listing.entities = [ops.builder.from_record(r) for r in session.list(query)]
            listing.links = ops.links_of(session, listing.entities)
        return listing

    @_fresh_model
    def delete_collection(self, path: str, filters: RequestDocument | None, ctx: RequestContext) -> int:
        """DELETE on a kind collection deletes its members (F7), on a mixin collection disassociates (F6)."""
        model, ops = self._ops()
        category = model.by_location(path)
        if isinstance(category, Mixin):
            return self.disassociate(category, filters.locations if filters else [], ctx)
        if not isinstance(category, Kind):
            raise NotFound(f"no collection at {path}", where=path)
        self.policy.require(ctx.principal, category, WRITE)
        query = self.query_for(path, filters)
        query.owner = self.policy.owner_filter(ctx.principal, WRITE, category)
        with self.store.session() as session:
            entities = [ops.builder.from_record(r) for r in session.list(query)]
            for entity in entities:
                if session.get(entity.location) is not None:   # may have gone with its source
                    ops.delete(session, entity, ctx)
            return len(entities)

    @_fresh_model
    def collection_action(self, path: str, term: str, doc: RequestDocument | None,
                          ctx: RequestContext) -> list[Entity]:
        """An action on every member (E4); all or nothing. Members already in the target state are left."""
        model, ops = self._ops()
        query = self.query_for(path, None)
        category = model.by_location(path)
        self.policy.require(ctx.principal, category if isinstance(category, Kind) else None, WRITE)
        query.owner = self.policy.owner_filter(ctx.principal, WRITE, category if isinstance(category, Kind) else None)
        done = []
        with self.store.session() as session:
            for record in session.list(query):
                entity = ops.builder.from_record(record)
                action = ops.resolve_action(entity, term, doc.action if doc else None)
                state = entity.state
                if action.target_state is not None and state == action.target_state:
                    continue
                done.append(ops.run_action(session, entity, action, doc.action if doc else None, ctx))
        return done

    # -- mixin membership (F4–F6) -----------------------------------------------------------------
    def _members(self, session, locations: list[str], ctx: RequestContext, ops) -> list[Entity]:
        if not locations:
            raise BadRequest("name the entities with X-OCCI-Location", code="missing-location",
                             where="X-OCCI-Location")
        entities = []
        for uri in locations:
            path = ctx.urls.require_local(uri, where="X-OCCI-Location")
            record = session.get(path)
            if record is None:
                raise BadRequest(f"{uri} does not exist", code="no-such-entity", where="X-OCCI-Location")
            entities.append(ops.builder.from_record(record))
        return entities

    @_fresh_model
    def associate(self, mixin: Mixin, locations: list[str], ctx: RequestContext) -> None:
        _, ops = self._ops()
        with self.store.session() as session:
            for entity in self._members(session, locations, ctx, ops):
                ops.update(session, entity.location, EntityDocument(mixins=[mixin.type_id]), ctx)

    @_fresh_model
    def replace_members(self, mixin: Mixin, locations: list[str], ctx: RequestContext) -> None:
        _, ops = self._ops()
        with self.store.session() as session:
            wanted = {e.location: e for e in self._members(session, locations, ctx, ops)} if locations else {}
            # Only the members the principal may change: other accounts' stay tagged.
            for record in session.list(Query(mixin=mixin.type_id,
                                             owner=self.policy.owner_filter(ctx.principal, WRITE))):
                if record.location not in wanted:
                    self._drop_mixin(session, ops.builder.from_record(record), mixin, ctx, ops)
            for entity in wanted.values():
                if mixin not in entity.mixins:
                    ops.update(session, entity.location, EntityDocument(mixins=[mixin.type_id]), ctx)

    @_fresh_model
    def disassociate(self, mixin: Mixin, locations: list[str], ctx: RequestContext) -> int:
        _, ops = self._ops()
        with self.store.session() as session:
            if locations:
                members = self._members(session, locations, ctx, ops)
            else:
                members = [ops.builder.from_record(r) for r in session.list(
                    Query(mixin=mixin.type_id, owner=self.policy.owner_filter(ctx.principal, WRITE)))]
            for entity in members:
                self._drop_mixin(session, entity, mixin, ctx, ops)
            return len(members)

    @staticmethod
    def _drop_mixin(session, entity: Entity, mixin: Mixin, ctx, ops) -> None:
        if mixin not in entity.mixins:
            return
        ops.policy.require_entity(ctx.principal, entity, WRITE)
        new = Entity(**{**entity.__dict__, "mixins": [m for m in entity.mixins if m != mixin],
                        "attributes": {k: v for k, v in entity.attributes.items()
                                       if k not in mixin.attribute_map or k in entity.kind.attribute_map}})
        ops.builder.require(ops.builder.definitions(new.kind, new.mixins), new.attributes)
        ops._save(session, entity, new, ctx)

    # -- query interface (B11–B15) ----------------------------------------------------------------
    def add_user_mixins(self, doc: RequestDocument, ctx: RequestContext) -> list[Mixin]:
        model = self.model()
        self.policy.require(ctx.principal, None, WRITE)
        created: list[Mixin] = []
        if not doc.categories:
            raise BadRequest("send the mixin as a Category (term, scheme, class=\"mixin\", location)",
                             code="missing-category", where="Category")
        with self.store.session() as session:
            known = {m.type_id: m for m in model.user_mixins}
            for category in doc.categories:
                where = category.where or "Category"
                if category.cls != "mixin":
                    raise BadRequest(f"only mixins can be added; {category.type_id} is a {category.cls}",
                                     code="not-a-mixin", where=where)
                if category.type_id in model:
                    raise Conflict(f"category {category.type_id} already exists", code="duplicate", where=where)
                location = category.location
                if not location or not location.startswith("/") or not location.endswith("/") or location == "/":
                    raise BadRequest(f"mixin {category.type_id} needs a location like \"/my_tag/\"",
                                     code="bad-location", where=where)
                location = ctx.urls.require_local(location, where=where)
                if model.by_location(location) is not None or any(
                        c.location and (c.location.startswith(location) or location.startswith(c.location))
                        for c in (*model.kinds, *model.mixins)):
                    raise Conflict(f"location {location} overlaps an existing collection", code="location-clash",
                                   where=where)
                if category.scheme.startswith("http://schemas.ogf.org/occi/"):
                    raise BadRequest("the http://schemas.ogf.org/occi/ namespace is reserved for OCCI",
                                     code="reserved-scheme", where=where)
                record = MixinRecord(scheme=category.scheme, term=category.term, location=location,
                                     title=category.title or "", depends=list(category.rel),
                                     applies=list(category.applies), owner=ctx.principal.account)
                mixin = mixin_from_record(record, model, known)    # B12: unknown rel → 400
                session.add_user_mixin(record)
                known[mixin.type_id] = mixin
                created.append(mixin)
        self.models.invalidate()
        return created

    @_fresh_model
    def remove_user_mixins(self, doc: RequestDocument, ctx: RequestContext) -> None:
        model = self.model()
        self.policy.require(ctx.principal, None, WRITE)
        if not doc.categories:
            raise BadRequest("name the mixin to remove with a Category", code="missing-category", where="Category")
        with self.store.session() as session:
            for category in doc.categories:
                found = model.get(category.type_id)
                if found is None:
                    raise NotFound(f"no category {category.type_id}", code="no-such-category",
                                   where=category.where or "Category")
                if model.is_provider_category(category.type_id):
                    raise Forbidden(f"{category.type_id} is defined by the provider and cannot be removed",
                                    code="provider-category", where=category.where or "Category")
                self.policy.require_owner(ctx.principal, getattr(found, "owner", None), category.type_id, WRITE)
                session.remove_user_mixin(category.type_id)
        self.models.invalidate()
