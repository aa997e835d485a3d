"""Falcon responders for the query interface, collections and entities (GFD.223 §8 verb table)."""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

import falcon

from occi.errors import BadRequest, MethodNotAllowed, NotFound
from occi.model.category import Kind, Mixin
from occi.model.core import LINK
from occi.rendering import negotiation as media
from occi.server import io
from occi.service.context import RequestContext
from occi.service.core import OcciService
from occi.urls import Urls

__all__ = ["QueryInterface", "PathDispatcher"]

_TERM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class _Base:
    def __init__(self, service: OcciService, limits: io.Limits, public_url: str | None):
        self.service = service
        self.limits = limits
        self.public_url = public_url

    def context(self, req: falcon.Request) -> RequestContext:
        prefix = req.prefix
        urls = Urls(self.public_url, aliases=(prefix,)) if self.public_url else Urls(prefix)
        ctx = RequestContext(principal=req.context.principal, urls=urls, if_match=_if_match(req),
                             request_id=getattr(req.context, "request_id", None),
                             remote_addr=req.env.get("REMOTE_ADDR"),
                             authorization=req.get_header("Authorization"))
        req.context.occi = ctx
        return ctx

    @staticmethod
    def media_type(req: falcon.Request, *, listing: bool) -> str:
        return media.choose_media_type(req.get_header("Accept"), listing)

    def document(self, req: falcon.Request):
        return io.read_document(req, self.limits)

    @staticmethod
    def send(resp: falcon.Response, out: io.Output, status: int = 200) -> None:
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = out.media_type
        for name, value in out.headers:
            resp.append_header(name, value)
        resp.data = out.body


def _if_match(req: falcon.Request) -> int | None:
    value = req.get_header("If-Match")
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise BadRequest(f"If-Match {value!r} is not an entity tag of this server", code="bad-etag", where="If-Match")
    return int(tag)


def _single_param(req: falcon.Request, name: str, code: str) -> str | None:
    values = req.get_param_as_list(name)
    if values is not None and len(values) > 1:
        raise BadRequest(f"?{name} is given {len(values)} times; give it once", code=code, where=f"?{name}")
    return req.get_param(name)


def _int_param(req: falcon.Request, name: str) -> int | None:
    raw = _single_param(req, name, "bad-page")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"?{name}={raw!r} is not an integer", code="bad-page", where=f"?{name}") from None


def _action_term(req: falcon.Request) -> str | None:
    term = _single_param(req, "action", "bad-action")
    if term is not None and not _TERM.match(term):
        raise BadRequest(f"?action={term!r} is not an action term", code="bad-action", where="?action")
    return term


class QueryInterface(_Base):
    """``/-/`` and ``/.well-known/org/ogf/occi/-/``: discovery and user mixins (GFD.223 §9)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cache: OrderedDict = OrderedDict()

    def on_get(self, req, resp):
        media_type = self.media_type(req, listing=False)
        filters = self.document(req)
        model = self.service.model()
        if any(model.get(c.type_id) is None for c in filters.categories) and self.service.models.refresh():
            model = self.service.model()        # a mixin another worker has just added
        key = (id(model), media_type, tuple(c.type_id for c in filters.categories))
        cached = self._cache.get(key)
        if cached is None:
            if filters.categories:
                categories: dict = {}
                for category_doc in filters.categories:
                    category = model.get(category_doc.type_id)
                    if category is None:
                        raise NotFound(f"no category {category_doc.type_id}", code="no-such-category",
                                       where=category_doc.where or "Category")
                    for related in model.related(category):
                        categories.setdefault(related.type_id, related)
                chosen = list(categories.values())
            else:
                chosen = model.categories
            out = io.render_categories(chosen, media_type)
            etag = '"' + hashlib.sha256(out.body + repr(out.headers).encode()).hexdigest()[:32] + '"'
            cached = (out, etag)
            self._cache[key] = cached
            if len(self._cache) > 64:
                self._cache.popitem(last=False)
        out, etag = cached
        resp.set_header("ETag", etag)
        resp.cache_control = ["no-cache"]
        if req.get_header("If-None-Match") == etag:
            resp.status = falcon.HTTP_304
            return
        self.send(resp, out)

    def on_post(self, req, resp):
        if req.get_param("action") is not None:
            raise MethodNotAllowed("actions are not defined on the query interface", allowed=("GET", "POST", "DELETE"))
        media_type = self.media_type(req, listing=False)
        created = self.service.add_user_mixins(self.document(req), self.context(req))
        self.send(resp, io.render_category_objects(created, media_type))

    def on_head(self, req, resp):
        self.on_get(req, resp)

    def on_delete(self, req, resp):
        media_type = self.media_type(req, listing=False)
        self.service.remove_user_mixins(self.document(req), self.context(req))
        self.send(resp, io.render_ok(media_type))


class PathDispatcher(_Base):
    """Every other path: a collection when it ends with '/', an entity otherwise."""

    # -- GET --------------------------------------------------------------------------------
    def on_get(self, req, resp, **_):
        path = req.path
        ctx = self.context(req)
        if path.endswith("/"):
            self._send_listing(resp, path, ctx, self.media_type(req, listing=True), filters=self.document(req),
                               page=_int_param(req, "page"), number=_int_param(req, "number"))
            return
        media_type = self.media_type(req, listing=False)
        entity, links = self.service.get(path, ctx)
        resp.set_header("ETag", f'"{entity.version}"')
        self.send(resp, io.render_entity(entity, links, ctx.urls, media_type))

    def on_head(self, req, resp, **params):
        self.on_get(req, resp, **params)      # Falcon sends the headers and drops the body

    # -- POST -------------------------------------------------------------------------------
    def on_post(self, req, resp, **_):
        path = req.path
        ctx = self.context(req)
        term = _action_term(req)
        if path.endswith("/"):
            self._post_collection(req, resp, path, term, ctx)
            return
        media_type = self.media_type(req, listing=False)
        doc = self.document(req)
        if term is not None:
            entity = self.service.action(path, term, doc, ctx)
        else:
            entity = self.service.update(path, doc, ctx)
        _, links = self.service.get(path, ctx)
        resp.set_header("ETag", f'"{entity.version}"')
        self.send(resp, io.render_entity(entity, links, ctx.urls, media_type))

    def _post_collection(self, req, resp, path, term, ctx):
        category = self.service.collection(path)
        media_type = self.media_type(req, listing=True)
        doc = self.document(req)
        if term is not None:
            if category is None and path != "/":
                raise NotFound(f"no collection at {path}", where=path)
            done = self.service.collection_action(path, term, doc, ctx)
            if media_type in (media.OCCI_JSON, media.JSON):
                links = self.service.links_of(done)
                out = io.render_entities(done, links, ctx.urls, media_type,
                                         links_collection=isinstance(category, Kind) and category.is_a(LINK))
            else:
                out = io.render_locations([e.location for e in done], ctx.urls, media_type)
            self.send(resp, out)
            return
        if isinstance(category, Kind):
            created = self.service.create(category, doc, ctx)
            resp.location = ctx.urls.absolute(created[0].location)
            if media_type in (media.OCCI_JSON, media.JSON):
                links = self.service.links_of(created)
                if len(created) == 1:
                    out = io.render_entity(created[0], links.get(created[0].location, []), ctx.urls, media_type)
                else:
                    out = io.render_entities(created, links, ctx.urls, media_type,
                                             links_collection=category.is_a(LINK))
            else:
                out = io.render_locations([e.location for e in created], ctx.urls, media_type)
            self.send(resp, out, 201)
            return
        if isinstance(category, Mixin):
            self.service.associate(category, doc.locations, ctx)
            self._send_listing(resp, path, ctx, media_type)
            return
        raise MethodNotAllowed(f"POST is not defined for {path}", allowed=("GET",))

    def _send_listing(self, resp, path, ctx, media_type, *, filters=None, page=None, number=None):
        """A collection: locations in the text renderings, whole entities in JSON."""
        full = media_type in (media.OCCI_JSON, media.JSON)
        listing = self.service.list(path, filters, ctx, full=full, page=page, number=number)
        if full:
            out = io.render_entities(listing.entities, listing.links, ctx.urls, media_type,
                                     links_collection=listing.links_collection)
        else:
            out = io.render_locations(listing.locations, ctx.urls, media_type)
        self.send(resp, out)

    # -- PUT --------------------------------------------------------------------------------
    def on_put(self, req, resp, **_):
        path = req.path
        ctx = self.context(req)
        if path.endswith("/"):
            category = self.service.collection(path)
            if isinstance(category, Mixin):
                media_type = self.media_type(req, listing=True)
                self.service.replace_members(category, self.document(req).locations, ctx)
                self._send_listing(resp, path, ctx, media_type)
                return
            allowed = ("GET", "POST", "DELETE") if isinstance(category, Kind) else ("GET",)
            raise MethodNotAllowed(f"PUT is not defined for the collection {path}", allowed=allowed)
        media_type = self.media_type(req, listing=False)
        entity, created = self.service.put(path, self.document(req), ctx)
        resp.set_header("ETag", f'"{entity.version}"')
        if created:
            resp.location = ctx.urls.absolute(entity.location)
            self.send(resp, io.render_entity(entity, [], ctx.urls, media_type), 201)
            return
        _, links = self.service.get(path, ctx)
        self.send(resp, io.render_entity(entity, links, ctx.urls, media_type))

    # -- DELETE -----------------------------------------------------------------------------
    def on_delete(self, req, resp, **_):
        path = req.path
        ctx = self.context(req)
        if path.endswith("/"):
            media_type = self.media_type(req, listing=True)
            category = self.service.collection(path)
            if category is None:
                raise MethodNotAllowed(f"DELETE is not defined for {path}", allowed=("GET",))
            self.service.delete_collection(path, self.document(req), ctx)
            self.send(resp, io.render_ok(media_type))
            return
        media_type = self.media_type(req, listing=False)
        self.service.delete(path, ctx)
        self.send(resp, io.render_ok(media_type))
