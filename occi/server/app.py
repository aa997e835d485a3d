"""Assemble a Falcon WSGI app serving one OCCI model."""
from __future__ import annotations

import falcon

from occi.access import OPEN, AccessPolicy
from occi.auth import AuthMiddleware, Authenticator
from occi.hooks import Hooks
from occi.model.registry import Model
from occi.server.errors import install_error_handlers
from occi.server.health import Liveness, Readiness
from occi.server.io import Limits
from occi.server.metrics import Metrics, MetricsResource, RouteLabels
from occi.server.middleware import ProtocolMiddleware, RequestMiddleware
from occi.server.responders import PathDispatcher, QueryInterface
from occi.service.core import OcciService

__all__ = ["create_app", "OcciApp"]


class OcciApp(falcon.App):
    """A Falcon app that also exposes its :class:`OcciService` (for components and tests)."""

    occi_service: OcciService
    metrics: Metrics
    #: What create_app was given, for routes a component adds (occi.server.io.Limits, the public base URL).
    limits: Limits
    public_url: str | None


#: Answered without credentials (probes); /metrics without them from loopback only (occi.auth).
_OPEN_PATHS = ("/healthz", "/readyz")
_LOOPBACK_PATHS = ("/metrics",)


def create_app(*, model: Model, store, hooks: Hooks | None = None, authenticator: Authenticator | None = None,
               public_url: str | None = None, limits: Limits = Limits(), policy: AccessPolicy = OPEN,
               model_refresh_interval: float = 0.5, component: str = "occi") -> OcciApp:
    """An OCCI server for ``model`` over ``store``.

    ``authenticator=None`` serves everyone as an anonymous admin: only for
    ``--insecure-no-auth`` and tests. ``policy`` says which roles may read and write
    which kinds; accounts see only their own entities unless a role sees all. ``public_url`` fixes the base of absolute URLs
    (behind a proxy); by default the request's own scheme and Host are used.

    Besides OCCI, the app answers ``/healthz`` and ``/readyz`` (without credentials) and
    ``/metrics`` (Prometheus, labelled ``component``; without credentials from loopback):
    see "Operating a component" in docs/architecture.md.
    """
    service = OcciService(model=model, store=store, hooks=hooks, policy=policy,
                          model_refresh_interval=model_refresh_interval)
    metrics = Metrics(component, RouteLabels(service))
    app = OcciApp(middleware=[RequestMiddleware(metrics=metrics),
                              ProtocolMiddleware(max_header_bytes=limits.max_header_bytes),
                              AuthMiddleware(authenticator, open_paths=frozenset(_OPEN_PATHS),
                                             loopback_paths=frozenset(_LOOPBACK_PATHS))])
    app.req_options.strip_url_path_trailing_slash = False
    app.req_options.auto_parse_qs_csv = False
    app.resp_options.secure_cookies_by_default = True
    install_error_handlers(app)
    query = QueryInterface(service, limits, public_url)
    app.add_route("/-/", query)
    app.add_route("/.well-known/org/ogf/occi/-/", query)
    dispatcher = PathDispatcher(service, limits, public_url)
    app.add_route("/", dispatcher)
    app.add_route("/{path:path}", dispatcher)
    # Literal routes win over the catch-all: these are never read as entity paths.
    app.add_route("/healthz", Liveness())
    app.add_route("/readyz", Readiness(store))
    app.add_route("/metrics", MetricsResource(metrics))
    app.occi_service = service
    app.metrics = metrics
    app.limits = limits
    app.public_url = public_url
    return app
