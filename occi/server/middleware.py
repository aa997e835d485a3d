"""Protocol rules every response follows (GFD.223 §5): Server, Accept, versions, header limits;
and what every request leaves behind: its request id, its metrics, its access log line."""
from __future__ import annotations

import logging
import re
from time import perf_counter

import falcon

from occi.errors import HeadersTooLarge, NotImplementedByServer
from occi.logs import ACCESS_LOGGER, REQUEST_ID_HEADER, REQUEST_ID_PATTERN, new_request_id, request_id
from occi.rendering.negotiation import ACCEPT_HEADER

__all__ = ["ProtocolMiddleware", "RequestMiddleware", "SERVER_HEADER", "OCCI_VERSION"]

OCCI_VERSION = (1, 2)
SERVER_HEADER = "accords/0.1 OCCI/1.2"
_VERSION = re.compile(r"OCCI/(\d+)\.(\d+)", re.IGNORECASE)


class ProtocolMiddleware:
    def __init__(self, *, max_header_bytes: int):
        self.max_header_bytes = max_header_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        size = sum(len(k) + len(v) for k, v in req.env.items() if k.startswith("HTTP_") and isinstance(v, str))
        if size > self.max_header_bytes:
            raise HeadersTooLarge(f"the request headers total {size} bytes; at most {self.max_header_bytes} are "
                                  "accepted (send large structures in a text/plain or JSON body)", where="headers")
        agent = req.user_agent
        if agent:
            for major, minor in _VERSION.findall(agent):
                if (int(major), int(minor)) > OCCI_VERSION:
                    raise NotImplementedByServer(
                        f"this server speaks OCCI/1.2; the client asked for OCCI/{major}.{minor}",
                        code="occi-version", where="User-Agent")

    def process_response(self, req, resp, resource, req_succeeded: bool) -> None:
        resp.set_header("Server", SERVER_HEADER)
        resp.set_header("Accept", ACCEPT_HEADER)
        # Headers a hook asked for (e.g. a new token), only once the request's writes committed.
        occi_context = getattr(req.context, "occi", None)
        if occi_context is not None and occi_context.response_headers and req_succeeded and resp.status_code < 300:
            for name, value in occi_context.response_headers.items():
                resp.set_header(name, value)


def _printable(text: str) -> str:
    """A path as it may appear in a text log line (a decoded path may hold line breaks)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class RequestMiddleware:
    """The first middleware in, the last out: it sees every request, whatever fails after it.

    In: the request id (the caller's ``X-Request-Id`` when sane, else a new uuid4 hex) into
    ``req.context.request_id`` and :data:`occi.logs.request_id` (which log records and
    ``occi.client`` read), and the start time. Out: ``X-Request-Id`` on the response, one
    count and one latency in ``metrics`` (route, status, the OCCI error code that
    ``occi.server.errors`` left in ``req.context.error_code``), and an access log line when
    the ``occi.access`` logger is enabled for INFO. It never logs headers or bodies.

    It is on the path of every request, hence written for speed (see the measurements in
    docs/architecture.md, "Operating a component").
    """

    def __init__(self, *, metrics=None):
        self.metrics = metrics
        self.access = logging.getLogger(ACCESS_LOGGER)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        context = req.context
        given = req.env.get("HTTP_X_REQUEST_ID")
        if given is None or not REQUEST_ID_PATTERN.fullmatch(given):      # occi.logs.sane_request_id, inlined
            given = new_request_id()
        context.request_id = given
        context.error_code = None
        context.request_id_token = request_id.set(given)
        context.started = perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded: bool) -> None:
        context = req.context
        seconds = perf_counter() - context.started
        rid = context.request_id
        resp.set_header(REQUEST_ID_HEADER, rid)
        try:
            request_id.reset(context.request_id_token)
        except ValueError:          # set in another context (cannot happen under WSGI threads)
            request_id.set(None)
        status = resp.status_code
        if self.metrics is not None:
            self.metrics.observe(req.method, req.path, status, seconds, context.error_code)
        if self.access.isEnabledFor(logging.INFO):
            remote = req.env.get("REMOTE_ADDR") or "-"
            milliseconds = round(seconds * 1000, 3)
            self.access.info('%s "%s %s" %d %.1fms', remote, req.method, _printable(req.path), status, milliseconds,
                             extra={"request_id": rid, "method": req.method, "path": req.path, "status": status,
                                    "duration_ms": milliseconds, "remote": remote})
