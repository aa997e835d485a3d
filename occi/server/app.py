"""Assemble a Falcon WSGI app serving one OCCI model."""
from __future__ import annotations

import falcon

from occi.auth import AuthMiddleware, Authenticator
from occi.hooks import Hooks
from occi.model.registry import Model
from occi.server.errors import install_error_handlers
from occi.server.io import Limits
from occi.server.middleware import ProtocolMiddleware
from occi.server.responders import PathDispatcher, QueryInterface
from occi.service.core import OcciService

__all__ = ["create_app", "OcciApp"]


class OcciApp(falcon.App):
    """A Falcon app that also exposes its :class:`OcciService` (for components and tests)."""

    occi_service: OcciService


def create_app(*, model: Model, store, hooks: Hooks | None = None, authenticator: Authenticator | None = None,
               public_url: str | None = None, limits: Limits = Limits(),
               model_refresh_interval: float = 0.5) -> OcciApp:
    """An OCCI server for ``model`` over ``store``.

    ``authenticator=None`` serves everyone as an anonymous admin: only for
    ``--insecure-no-auth`` and tests. ``public_url`` fixes the base of absolute URLs
    (behind a proxy); by default the request's own scheme and Host are used.
    """
    service = OcciService(model=model, store=store, hooks=hooks, model_refresh_interval=model_refresh_interval)
    app = OcciApp(middleware=[ProtocolMiddleware(max_header_bytes=limits.max_header_bytes),
                                 AuthMiddleware(authenticator)])
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
    app.occi_service = service
    return app
