"""Liveness (``GET /healthz``) and readiness (``GET /readyz``) for load balancers and orchestrators.

Both answer without credentials (occi.auth lets these two paths through): a probe from a
load balancer or kubelet carries none, and the answers reveal nothing but "up" and, when
the store does not answer, the type of the error (its message goes to the log only).
They are explicit routes, so they are never read as OCCI entities, and they are not
categories, so discovery (``/-/``) does not list them.
"""
from __future__ import annotations

import json
import logging

import falcon

__all__ = ["Liveness", "Readiness"]

log = logging.getLogger("occi.server.health")

_OK = json.dumps({"status": "ok"}).encode()


def _answer(resp: falcon.Response, status: int, body: bytes) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = falcon.MEDIA_JSON
    resp.cache_control = ["no-store"]
    resp.data = body


class Liveness:
    """200 whenever the process serves requests: restart it only when this fails."""

    def on_get(self, req, resp):
        _answer(resp, 200, _OK)

    on_head = on_get


class Readiness:
    """200 when the store answers a trivial query, else 503 with the reason: send no traffic."""

    def __init__(self, store):
        self.store = store

    def on_get(self, req, resp):
        try:
            self.store.ping()
        except Exception as exc:  # noqa: BLE001 - whatever the store raises, we are not ready
            log.warning("not ready: the store does not answer (%s: %s)", type(exc).__name__, exc,
                        extra={"request_id": req.context.request_id, "method": req.method, "path": req.path,
                               "status": 503})
            reason = f"the store does not answer ({type(exc).__name__})"
            _answer(resp, 503, json.dumps({"status": "unavailable", "reason": reason}).encode())
            return
        _answer(resp, 200, _OK)

    on_head = on_get
