"""The registry of components: each is an OCCI server for a few categories.

Components are registered by name and imported only when asked for, like libcloud's
drivers, so that ``accords serve sla`` never imports the provisioning code.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from occi.access import OPEN, AccessPolicy
from occi.hooks import Hooks
from occi.model import Model

__all__ = ["Component", "Peers", "REGISTRY", "names", "load", "UnknownComponent"]


@dataclass
class Component:
    name: str
    model: Model
    hooks: Hooks = field(default_factory=Hooks)
    summary: str = ""
    #: Which roles may read and write which kinds (accounts always see only their own entities).
    policy: AccessPolicy = OPEN
    #: Periodic housekeeping on the component's store (e.g. the publisher's expiry sweep).
    background: Callable | None = None
    background_interval: float = 5.0
    #: ``(store) -> Authenticator``: a component that checks credentials itself (security);
    #: every other one asks the security component.
    authenticator: Callable | None = None
    #: ``(app, store, peers) -> None``: routes besides OCCI (e.g. security's /introspect, the
    #: parser's /submit); ``peers`` (:class:`Peers`) reaches the other components.
    routes: Callable | None = None
    #: ``(store, *, data, services, url) -> list[str]``: first-run set-up, once per start,
    #: before the workers fork; returns what it created.
    bootstrap: Callable | None = None
    #: ``(store, peers, *, data) -> stop | None``: once per worker, when the component's store is open and its
    #: peers known: hooks that act at other components get their peers, per-worker engines
    #: (the provisioning reconciler) start. Returns a callable that stops them, or None.
    attach: Callable | None = None


@dataclass(frozen=True)
class Peers:
    """How a component reaches the others: through the publisher, as itself.

    ``credentials`` are the component's service credentials (None in open mode); a request
    made on a caller's behalf passes the caller's own Authorization instead, so that what it
    creates belongs to the caller's account.
    """

    publisher: str | None = None
    credentials: object | None = None

    def url_for(self, category: str) -> str:
        """Base URL of the server of ``category`` (a type id or a term); NotFound when none."""
        from occi.errors import ServiceUnavailable
        from occi.publisher.client import PublisherClient

        if self.publisher is None:
            raise ServiceUnavailable(f"no publisher configured: this component cannot reach the server of "
                                     f"{category} (start it with --publisher URL)", code="no-publisher")
        client = _PUBLISHERS.get(self.publisher)
        if client is None:
            client = _PUBLISHERS.setdefault(self.publisher, PublisherClient(self.publisher,
                                                                            credentials=self.credentials))
        return client.url_for(category)


_PUBLISHERS: dict[str, object] = {}


#: name -> "module:factory"; the factory returns a Component.
REGISTRY: dict[str, str] = {
    "publisher": "occi.publisher.component:build",
    "security": "occi.security.component:build",
    "broker": "broker.component:build",
    "placement": "placement.component:build",
    "provisioning": "broker.provisioning.component:build",
    "parser": "cords.component:build",
    "sla": "sla.component:build",
    "monitors": "monitors.component:build",
}


class UnknownComponent(LookupError):
    pass


def names() -> list[str]:
    return sorted(REGISTRY)


def load(name: str) -> Component:
    target = REGISTRY.get(name)
    if target is None:
        raise UnknownComponent(f"unknown component {name!r}; known: {', '.join(names())}")
    module_name, _, factory = target.partition(":")
    return getattr(importlib.import_module(module_name), factory)()
