"""Two read-only questions the provisioning component answers besides OCCI, as JSON:

    GET  /drift?service=URL   (or ?contract=URL)   what the providers report against what the contracts say
                                                  (each provider given 5 s at most, all at once)
    POST /preview             {"nodes": [...], "provider": NAME}   where each node would go, and why

They are not OCCI categories: they store nothing, and an OCCI action would (an action saves
its entity). Like the parser's ``/submit`` they are literal routes, so they are never read as
entity paths. Both need the role that reads contracts (:data:`component.POLICY`); drift shows
only the caller's own account's contracts unless the caller sees every account (operators,
components, admins): another account's service is a 404 as if it did not exist.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import falcon

from broker.provisioning.drift import inspect
from broker.provisioning.model import CONTRACT
from broker.provisioning.preview import PreviewInputError, preview_nodes
from broker.provisioning.records import C
from occi.access import READ
from occi.errors import BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from occi.store.base import Query

__all__ = ["DriftResource", "PreviewResource", "add_routes", "PREVIEW_MAX_BYTES"]

#: A compiled plan of a few hundred nodes fits; more is not a plan a person previews.
PREVIEW_MAX_BYTES = 2 * 1024 * 1024


def _reconciler(engine):
    if engine.reconciler is None:
        raise ServiceUnavailable("this server runs no reconciler, so it knows no providers to ask",
                                 code="no-reconciler")
    return engine.reconciler


class DriftResource:
    def __init__(self, *, store, policy, engine, timeout: float = 5.0):
        self.store = store
        self.policy = policy
        self.engine = engine
        self.timeout = timeout

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = req.context.principal
        self.policy.require(principal, CONTRACT, READ)
        service, contract = req.get_param("service"), req.get_param("contract")
        if (service is None) == (contract is None):
            raise BadRequest("ask about one service (?service=URL, as the broker gives it) or one contract "
                             "(?contract=URL)", code="missing-parameter", where="?service")
        with self.store.session(readonly=True) as session:
            if contract is not None:
                path = urlsplit(contract).path
                record = session.get(path)
                if record is None or record.kind != CONTRACT.type_id:
                    raise NotFound(f"no contract at {contract}", code="no-such-entity", where="?contract")
                self.policy.require_owner(principal, record.owner, record.location, READ, CONTRACT)
                records = [record]
            else:
                records = session.list(Query(kinds=[CONTRACT.type_id], attributes={C + "service": service},
                                             owner=self.policy.owner_filter(principal, READ, CONTRACT)))
                if not records:
                    raise NotFound(f"no contract of service {service} here (the service's URL, as the broker "
                                   "gives it)", code="no-such-service", where="?service")
        reconciler = _reconciler(self.engine)
        check = inspect(records, clouds=reconciler.clouds, owner=reconciler.owner,
                        service=service if contract is None else None, timeout=self.timeout)
        resp.media = {"service": service or records[0].attributes.get(C + "service"),
                      "contract": contract, **check.as_dict()}
        resp.cache_control = ["no-store"]


class PreviewResource:
    def __init__(self, *, policy, engine):
        self.policy = policy
        self.engine = engine

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = req.context.principal
        self.policy.require(principal, CONTRACT, READ)
        body = _json_body(req)
        provider = body.get("provider")
        if provider is not None and not isinstance(provider, str):
            raise BadRequest("\"provider\" must be a provider's name", code="invalid-attribute", where="provider")
        reconciler = _reconciler(self.engine)
        try:
            answer = preview_nodes(body.get("nodes"), placement=reconciler.placement, clouds=reconciler.clouds,
                                   provider=provider or None)
        except PreviewInputError as exc:
            raise BadRequest(str(exc), code="invalid-attribute", where=exc.where) from None
        resp.media = answer
        resp.cache_control = ["no-store"]


def _json_body(req: falcon.Request) -> dict:
    media = (req.content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType(f"send the nodes as application/json, not {media or 'no Content-Type'}",
                                   code="not-json", where="Content-Type")
    if req.content_length is not None and req.content_length > PREVIEW_MAX_BYTES:
        raise PayloadTooLarge(f"the request has {req.content_length} bytes; at most {PREVIEW_MAX_BYTES}",
                              code="document-too-large", where="body")
    data = req.bounded_stream.read(PREVIEW_MAX_BYTES + 1)
    if len(data) > PREVIEW_MAX_BYTES:
        raise PayloadTooLarge(f"the request is larger than {PREVIEW_MAX_BYTES} bytes", code="document-too-large",
                              where="body")
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}", code="malformed-json", where="body") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be an object: {\"nodes\": [...], \"provider\": NAME}", code="malformed-json",
                         where="body")
    return body


def add_routes(app, store, *, policy, engine) -> None:
    app.add_route("/drift", DriftResource(store=store, policy=policy, engine=engine))
    app.add_route("/preview", PreviewResource(policy=policy, engine=engine))
