"""Publisher, broker and parser as real loopback HTTP servers in this process, with fixed tokens.

The parser reaches the broker through the publisher exactly as ``accords serve`` wires it;
callers' tokens are known to every server (one StaticCredentials), so a request the parser
makes on a caller's behalf is authenticated by the broker as that caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import requests

from broker import components
from broker.components import Peers
from broker.platform import StaticToken
from cords.model.plan import PLAN
from occi.auth import StaticCredentials
from occi.publisher.client import PublisherClient
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi

__all__ = ["LocalPlatform", "start_platform", "PRINCIPALS"]

#: token -> principal
PRINCIPALS = {
    "alice-token": Principal(account="clinic", name="alice", roles=frozenset({"provider"})),
    "bob-token": Principal(account="lab", name="bob", roles=frozenset({"provider"})),
    "olga-token": Principal(account="ops", name="olga", roles=frozenset({"operator"})),
    "agent-token": Principal(account="clinic", name="probe", roles=frozenset({"agent"})),
    "admin-token": Principal(account="accords", name="admin", roles=frozenset({"admin"})),
    "service-token": Principal(account="accords", name="svc", roles=frozenset({"service"})),
}


@dataclass
class LocalPlatform:
    publisher: str
    broker: str
    parser: str
    stores: dict = field(default_factory=dict)
    stops: list = field(default_factory=list)

    def submit(self, data: bytes, *, token: str = "alice-token", name: str = "doc.xml", dry_run: bool = False,
               content_type: str = "application/xml") -> requests.Response:
        params = {"name": name, **({"dry_run": "1"} if dry_run else {})}
        return requests.post(f"{self.parser}/submit", data=data, params=params, timeout=30,
                             headers={"Content-Type": content_type, "Authorization": f"Bearer {token}",
                                      "Accept": "application/json"})

    def get(self, url: str, *, token: str = "alice-token", **params) -> requests.Response:
        return requests.get(url, params=params, timeout=10, headers={"Authorization": f"Bearer {token}",
                                                                     "Accept": "application/json"})

    def stop(self) -> None:
        for stop in reversed(self.stops):
            stop()
        for store in self.stores.values():
            store.close()


def _app(name: str, store, credentials, peers):
    component = components.load(name)
    app = create_app(model=component.model, store=store, hooks=component.hooks, authenticator=credentials,
                     policy=component.policy, component=name)
    if component.routes is not None:
        component.routes(app, store, peers)
    return app


def start_platform(tmp_path, *, broker: bool = True) -> LocalPlatform:
    credentials = StaticCredentials()
    for token, principal in PRINCIPALS.items():
        credentials.add_token(token, principal)
    stores = {name: open_store(tmp_path / f"{name}.db") for name in ("publisher", "broker", "parser")}
    stops = []
    publisher_url, stop = serve_wsgi(_app("publisher", stores["publisher"], credentials, None))
    stops.append(stop)
    peers = Peers(publisher=publisher_url, credentials=StaticToken("service-token"))
    broker_url, stop = serve_wsgi(_app("broker", stores["broker"], credentials, peers))
    stops.append(stop)
    parser_url, stop = serve_wsgi(_app("parser", stores["parser"], credentials, peers))
    stops.append(stop)
    if broker:
        PublisherClient(publisher_url, token="service-token").publish(
            identity="broker", base_url=broker_url, kinds=[PLAN])
    return LocalPlatform(publisher=publisher_url, broker=broker_url, parser=parser_url, stores=stores, stops=stops)
