"""The one place where exceptions become HTTP responses."""
from __future__ import annotations

import logging
import uuid

import falcon

from occi.errors import MethodNotAllowed, NotAcceptable, NotFound, OcciError
from occi.rendering import negotiation as media
from occi.server.io import render_error

__all__ = ["install_error_handlers"]

log = logging.getLogger("occi.server")


def _fields(req: falcon.Request, status: int) -> dict:
    """What a log record of this request carries (occi.logs.JsonFormatter writes them)."""
    return {"request_id": getattr(req.context, "request_id", None), "method": req.method, "path": req.path,
            "status": status}


def _media_type(req: falcon.Request) -> str:
    try:
        return media.choose_media_type(req.get_header("Accept"), True)
    except NotAcceptable:
        return media.TEXT_PLAIN


def _write(req, resp, error: OcciError) -> None:
    req.context.error_code = error.code          # for the metrics (occi.server.middleware)
    out = render_error(error, _media_type(req))
    resp.status = falcon.code_to_http_status(error.status)
    resp.content_type = out.media_type
    for name, value in error.headers.items():
        resp.set_header(name, value)
    resp.data = out.body


def _occi_error(req, resp, error: OcciError, params) -> None:
    if error.status >= 500:
        log.error("%s %s: %s", req.method, req.path, error.message,
                  extra=_fields(req, error.status))
    _write(req, resp, error)


def _falcon_error(req, resp, error: falcon.HTTPError, params) -> None:
    if error.status_code == 405:
        allowed = tuple(h.strip() for h in (error.headers or {}).get("Allow", "").split(",") if h.strip())
        _write(req, resp, MethodNotAllowed(f"{req.method} is not defined for {req.path}", allowed=allowed or ("GET",)))
        return
    if error.status_code == 404:
        _write(req, resp, NotFound(f"nothing at {req.path}", where=req.path))
        return
    wrapped = OcciError(error.description or error.title or "request error", code="http")
    wrapped.status = error.status_code
    _write(req, resp, wrapped)


def _unexpected(req, resp, error: Exception, params) -> None:
    reference = uuid.uuid4().hex[:12]
    log.exception("internal error %s on %s %s", reference, req.method, req.path,
                  extra=_fields(req, 500))
    _write(req, resp, OcciError(f"internal error (reference {reference}); the request changed nothing",
                                code="internal"))


def install_error_handlers(app: falcon.App) -> None:
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _falcon_error)
    app.add_error_handler(OcciError, _occi_error)
