"""``POST /submit`` on the parser component: a CORDS document as raw XML, checked and stored.

    POST /submit?name=any.xml            Content-Type: application/xml       body: the document
    201 Created  Location: <manifest URL>    {"kind", "file", "name", "manifest", "plan",
                                              "created", "reused", "problems", "compiled"}

``?dry_run=1`` checks against what is stored and answers 200 without writing. A document
with errors is a 400 whose body lists every problem with its line and column; a manifest
name already taken is a 409. The plan is created at the broker with the caller's own
Authorization, so that it belongs to the caller's account, like everything stored here.
"""
from __future__ import annotations

import json
import re
import threading

import falcon

from cords.model.manifest import MANIFEST
from cords.model.plan import PLAN
from cords.reader import Limits
from cords.store import ParserStore
from cords.submission import submit
from occi.access import WRITE
from occi.errors import NotFound, OcciError, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from occi.service.builder import EntityBuilder
from occi.urls import Urls

__all__ = ["SubmitResource", "BrokerPlans", "XML_TYPES", "require_xml", "read_body", "document_name"]

XML_TYPES = ("application/xml", "text/xml")
_NAME = re.compile(r"[^A-Za-z0-9._\-]")


def require_xml(req: falcon.Request, what: str = "the CORDS document") -> None:
    media = (req.content_type or "").split(";")[0].strip().lower()
    if media not in XML_TYPES:
        raise UnsupportedMediaType(f"send {what} as {' or '.join(XML_TYPES)}, not {media or 'no Content-Type'}",
                                   code="not-xml", where="Content-Type")


def read_body(req: falcon.Request, *, limit: int, who: str) -> bytes:
    """The request body, refused (413) past ``limit`` bytes before more is read."""
    if req.content_length is not None and req.content_length > limit:
        raise PayloadTooLarge(f"the document has {req.content_length} bytes; {who} takes at most {limit}",
                              code="document-too-large", where="body")
    data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the document is larger than {limit} bytes", code="document-too-large", where="body")
    return data


def document_name(raw: str | None, default: str) -> str:
    """What problems name the document by (``?name=``): a plain file name."""
    return _NAME.sub("_", raw or default)[:128]


class _CallerCredentials:
    """The Authorization of the request being served, passed on (never stored)."""

    def __init__(self):
        self._local = threading.local()

    def set(self, value: str | None) -> None:
        self._local.value = value

    def authorization(self) -> str | None:
        return getattr(self._local, "value", None)

    def invalidate(self) -> bool:
        return False


class BrokerPlans:
    """Creates plans at whichever server the publisher names for the plan kind."""

    def __init__(self, peers):
        self.peers = peers
        self.caller = _CallerCredentials()
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def _client(self):
        from occi.client import OcciClient

        try:
            url = self.peers.url_for(PLAN.type_id)
        except NotFound:
            raise ServiceUnavailable("no broker is published to keep the plan; nothing was stored",
                                     code="broker-unavailable") from None
        with self._lock:
            client = self._clients.get(url)
            if client is None:
                client = self._clients[url] = OcciClient(url, credentials=self.caller, retries=0)
        return client

    def create(self, attributes: dict) -> str:
        try:
            return self._client().create(PLAN.location, attributes=attributes)
        except OcciError as exc:
            if exc.status < 500 and exc.status not in (401, 403):
                raise ServiceUnavailable(f"the broker refused the compiled plan ({exc.status} {exc.code}: "
                                         f"{exc.message}); nothing was stored", code="plan-refused") from None
            raise
        except OSError as exc:      # requests' connection errors
            raise ServiceUnavailable(f"the broker cannot be reached ({exc.__class__.__name__}); nothing was stored",
                                     code="broker-unreachable") from None

    def delete(self, url: str) -> None:
        try:
            self._client().delete(url)
        except (OcciError, OSError):
            pass


class SubmitResource:
    def __init__(self, *, store, model, policy, peers=None, limits: Limits = Limits()):
        self.store = store
        self.builder = EntityBuilder(model)
        self.policy = policy
        self.limits = limits
        self.plans = BrokerPlans(peers) if peers is not None and peers.publisher else None

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = req.context.principal
        self.policy.require(principal, MANIFEST, WRITE)
        require_xml(req)
        data = read_body(req, limit=self.limits.max_bytes, who="the parser")
        name = document_name(req.get_param("name"), "submitted.xml")
        dry_run = req.get_param_as_bool("dry_run", default=False)
        urls = Urls(req.prefix)
        created: list[str] = []            # the plan, once the broker keeps it

        def keep_plan(attributes: dict) -> str:
            created.append(self.plans.create(attributes))
            return created[-1]

        if self.plans is not None:
            self.plans.caller.set(req.get_header("Authorization"))
        try:
            with self.store.session(readonly=dry_run) as session:
                parser_store = ParserStore(session, builder=self.builder, urls=urls,
                                           owner=self.policy.owner_key(principal, MANIFEST))
                result = submit(data, name=name, store=parser_store, dry_run=dry_run,
                                plans=keep_plan if self.plans is not None else None)
        except BaseException:
            for plan in created:              # the manifest was not kept: neither is its plan
                self.plans.delete(plan)
            raise
        finally:
            if self.plans is not None:
                self.plans.caller.set(None)
        body = result.as_dict()
        if dry_run:
            resp.status = falcon.HTTP_200
        else:
            resp.status = falcon.HTTP_201
            if result.manifest is not None:
                resp.location = result.manifest
        resp.content_type = "application/json"
        resp.text = json.dumps(body)
        resp.cache_control = ["no-store"]
