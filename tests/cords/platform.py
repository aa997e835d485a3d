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
from broker.model import SERVICE
from broker.provisioning.model import CONTRACT
from cords.model.plan import PLAN
from occi.auth import StaticCredentials
from occi.publisher.client import PublisherClient
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi

__all__ = ["LocalPlatform", "start_platform", "delete_local_nodes", "PRINCIPALS"]

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
    provisioning: str | None = None
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


def _app(name: str, store, credentials, peers, *, stops: list | None = None, data=None, **options):
    component = components.load(name)
    app = create_app(model=component.model, store=store, hooks=component.hooks, authenticator=credentials,
                     policy=component.policy, component=name)
    if component.routes is not None:
        component.routes(app, store, peers)
    if component.attach is not None and peers is not None:
        stop = component.attach(store, peers, data=data, **options)
        if stop is not None and stops is not None:
            stops.append(stop)
    return app


def delete_local_nodes(root) -> None:
    """Delete every local node under ``root`` (each one's agent is a process of its own)."""
    from broker.providers.local import LocalDriver

    if root.exists():
        driver = LocalDriver(root=root)
        for instance in driver.list():
            driver.delete(instance.id)


def start_platform(tmp_path, *, broker: bool = True, provisioning: bool = False,
                   reconciler: dict | None = None) -> LocalPlatform:
    """``provisioning``: also the provisioning component, its reconciler configured by
    ``reconciler`` (Reconciler options) and its providers by $ACCORDS_PROVIDERS, else local
    nodes under ``tmp_path/provisioning``."""
    credentials = StaticCredentials()
    for token, principal in PRINCIPALS.items():
        credentials.add_token(token, principal)
    names = ("publisher", "broker", "parser", *(("provisioning",) if provisioning else ()))
    stores = {name: open_store(tmp_path / f"{name}.db") for name in names}
    stops = []
    publisher_url, stop = serve_wsgi(_app("publisher", stores["publisher"], credentials, None))
    stops.append(stop)
    peers = Peers(publisher=publisher_url, credentials=StaticToken("service-token"))
    broker_url, stop = serve_wsgi(_app("broker", stores["broker"], credentials, peers))
    stops.append(stop)
    parser_url, stop = serve_wsgi(_app("parser", stores["parser"], credentials, peers))
    stops.append(stop)
    provisioning_url = None
    if provisioning:
        data = tmp_path / "provisioning"
        data.mkdir(exist_ok=True)
        provisioning_url, stop = serve_wsgi(_app("provisioning", stores["provisioning"], credentials, peers,
                                                 stops=stops, data=data, **(reconciler or {})))
        stops.insert(0, stop)          # the server stops after its reconciler (stops run reversed)
        # Stops run last first: the reconciler (appended by attach) stops, then every local
        # node left (its agent is a process of its own) is deleted.
        stops.insert(len(stops) - 1, lambda: delete_local_nodes(data / "nodes"))
        PublisherClient(publisher_url, token="service-token").publish(
            identity="provisioning", base_url=provisioning_url, kinds=[CONTRACT])
    if broker:
        PublisherClient(publisher_url, token="service-token").publish(
            identity="broker", base_url=broker_url, kinds=[PLAN, SERVICE])
    return LocalPlatform(publisher=publisher_url, broker=broker_url, parser=parser_url, provisioning=provisioning_url,
                         stores=stores, stops=stops)
