"""``POST /submit`` on the sla component: a raw CORDS agreement, checked and stored in both forms.

    POST /submit?name=sla.xml[&dry_run=1][&nodes=web,db][&manifest=URL]   Content-Type: application/xml
    201 Created  Location: <GFD.228 agreement URL>
    {"kind": "agreement", "file", "name", "cords", "agreement", "terms", "conditions", "guarantees", "problems"}

The document is read and checked as ``accords check`` does (:func:`cords.check.check`; with
``?nodes=`` the guarantee scopes are checked against those node names), turned into its dict
form (:mod:`sla.document`) and its GFD.228 form (:func:`sla.cords_model.to_gfd228`), and
stored by :func:`sla.store.store_agreement` in one transaction, as the caller: the policy's
write roles apply and everything belongs to the caller's account. Every error is a JSON
``{"error": {"status", "code", "message"[, "where"][, "problems"]}}`` whatever the Accept
header (the framework's JSON error object; ``problems`` lists located diagnostics).
docs/sla.md is the reference.
"""
from __future__ import annotations

import re
import uuid

import falcon

from cords.check import check
from cords.diagnostics import Diagnostics
from cords.http import XML_TYPES, document_name, read_body, require_xml
from cords.reader import Limits as ReaderLimits
from cords.submission import InvalidDocument
from occi.access import WRITE
from occi.errors import BadRequest, Forbidden, OcciError
from occi.model import sla as gfd228
from occi.rendering.occi_json import dumps
from occi.server.io import Limits
from occi.service.context import RequestContext
from occi.service.core import OcciService
from occi.urls import Urls
from sla import cords_model as cm
from sla.document import Element, agreement_form
from sla.store import ElementError, store_agreement, term_scheme

__all__ = ["Submit", "routes", "XML_TYPES"]

_NODE_SPLIT = re.compile(r"[\s,;]+")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
_URL = re.compile(r"^https?://[^\s<>\"\\]+$", re.IGNORECASE)
#: cords.validate's code (registered there) for a document of another kind than expected.
WRONG_KIND = "cords-wrong-kind"


class Submit:
    def __init__(self, service: OcciService, *, limits: Limits = Limits(), public_url: str | None = None):
        self.service = service
        # The OCCI body limit of the app, never above what the CORDS reader accepts.
        self.max_bytes = min(limits.max_body_bytes, ReaderLimits().max_bytes)
        self.public_url = public_url

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            status, body, location = self._submit(req)
        except OcciError as error:
            req.context.error_code = error.code          # for the metrics, as occi.server.errors does
            status, body, location = error.status, {"error": error.as_dict()}, None
            for header, value in error.headers.items():
                resp.set_header(header, value)
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = "application/json"
        resp.data = dumps(body)
        resp.cache_control = ["no-store"]
        if location is not None:
            resp.location = location

    # -- the steps ------------------------------------------------------------------------------
    def _submit(self, req: falcon.Request) -> tuple[int, dict, str | None]:
        principal = req.context.principal
        if principal is None:
            raise Forbidden("no caller", code="role-forbidden")
        for kind in (cm.AGREEMENT, gfd228.AGREEMENT):          # before the body is even read
            self.service.policy.require(principal, kind, WRITE)
        require_xml(req, "the agreement")
        name = document_name(_param(req, "name"), "agreement.xml")
        dry_run = _flag(req, "dry_run")
        nodes = _nodes(req)
        manifest = _param(req, "manifest")
        data = read_body(req, limit=self.max_bytes, who="the sla component")
        prefix = req.prefix
        urls = Urls(self.public_url, aliases=(prefix,)) if self.public_url else Urls(prefix)
        ctx = RequestContext(principal=principal, urls=urls, request_id=getattr(req.context, "request_id", None),
                             remote_addr=req.env.get("REMOTE_ADDR"))
        if manifest is not None and not _URL.match(manifest):
            raise BadRequest(f"?manifest={manifest[:200]!r} is not the URL of a manifest (http://host/manifest/...)",
                             code="bad-manifest", where="?manifest")

        checked = check(data, name=name, nodes=nodes)
        problems = checked.diagnostics
        if checked.document is None or (checked.kind == "agreement" and not checked.ok):
            raise InvalidDocument(name, problems.sorted())
        root = checked.document.root
        if checked.kind != "agreement":
            what = f"a {checked.kind}" if checked.kind else f"a <{root.tag}>"
            wrong = Diagnostics()
            wrong.error(WRONG_KIND, f"the root element is <{root.tag}>, not <agreement>: the sla component takes "
                                    "agreements; manifests go to the parser", checked.document.location(root))
            raise InvalidDocument(name, wrong.sorted(), code=WRONG_KIND, message=(
                f"{name} is {what} document, not an agreement: manifests go to the parser (POST /submit on the "
                "parser component, or accords submit MANIFEST)"))
        form = agreement_form(root)
        if manifest is not None:
            naming = [t for s in form["terms"] if s["type"] == "services" for t in s["terms"] if t.get("manifest")]
            if len(naming) != 1:
                raise BadRequest(f"?manifest gives one manifest's URL, but {name} has {len(naming)} services terms "
                                 "naming a manifest", code="bad-manifest", where="?manifest")
        ident = str(uuid.uuid4())
        try:
            gfd = cm.to_gfd228(form, scheme=term_scheme(ident))
            stored = store_agreement(self.service, form, gfd, ctx, ident=ident, manifest=manifest, dry_run=dry_run)
        except cm.CordsAgreementError as error:
            _located(problems, checked.document, error.element, error.attribute, error.code, str(error))
            raise InvalidDocument(name, problems.sorted()) from None
        except ElementError as error:
            where = str(_element_location(checked.document, error.element, None))
            tag = getattr(getattr(error.element, "source", None), "tag", "element")
            raise BadRequest(f"{where}: <{tag}>: {error.error.message}", code=error.error.code, where=where) from None

        guarantees = [t for t in gfd["terms"] if t["type"] == "SLO-TERM"]
        body = {"kind": "agreement", "file": name, "name": form["name"],
                "cords": None if dry_run else urls.absolute(stored.cords),
                "agreement": None if dry_run else urls.absolute(stored.agreement),
                "terms": [t["type_id"] for t in gfd["terms"]],
                "conditions": gfd["conditions"],
                "guarantees": [{"name": t["name"], "term": t["type_id"], **t["guarantee"],
                                "cords": None if dry_run else urls.absolute(path)}
                               for t, path in zip(guarantees, stored.guarantees)],
                "problems": [p.as_dict() for p in problems.sorted()]}
        if dry_run:
            return 200, {**body, "dry_run": True}, None
        return 201, body, body["agreement"]


def _param(req: falcon.Request, name: str) -> str | None:
    values = req.get_param_as_list(name)
    if values is not None and len(values) > 1:
        raise BadRequest(f"?{name} is given {len(values)} times; give it once", code="bad-parameter",
                         where=f"?{name}")
    return values[0] if values else None


def _flag(req: falcon.Request, name: str) -> bool:
    value = (_param(req, name) or "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise BadRequest(f"?{name}={value!r} is neither 1 nor 0", code="bad-parameter", where=f"?{name}")
    return value in _TRUE


def _nodes(req: falcon.Request) -> list[str] | None:
    """``?nodes=web,db`` (or repeated): the plan's node names, to check guarantee scopes against."""
    values = req.get_param_as_list("nodes")
    if values is None:
        return None
    return [n for value in values for n in _NODE_SPLIT.split(value) if n]


def _element_location(document, element: Element | None, attribute: str | None):
    source = getattr(element, "source", None)
    if source is None:
        return document.location(document.root)
    if attribute and source.get(attribute) is not None:
        return document.attribute_location(source, attribute)
    return document.location(source)


def _located(problems: Diagnostics, document, element, attribute, code: str, message: str) -> None:
    problems.error(code, message, _element_location(document, element, attribute))


def routes(app, store, peers=None) -> None:
    """The sla component's routes besides OCCI (``Component.routes``)."""
    app.add_route("/submit", Submit(app.occi_service, limits=getattr(app, "limits", Limits()),
                                    public_url=getattr(app, "public_url", None)))

