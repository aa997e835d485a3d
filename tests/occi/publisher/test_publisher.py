"""The publisher: publications stamped by heartbeats, expiry, and resolution through a real HTTP server."""
from __future__ import annotations

import time

import pytest
from falcon import testing

from occi.errors import NotFound
from occi.model import infrastructure, sla
from occi.model.registry import Model
from occi.publisher import PUBLICATION
from occi.publisher.client import PublicationKeeper, PublisherClient, client_for
from occi.publisher.component import hooks, sweep
from occi.server import create_app
from occi.store import open_store
from tests.livehttp import serve_wsgi


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def publisher(tmp_path):
    """A publisher app on a real socket, with a clock the test moves."""
    clock = Clock()
    store = open_store(tmp_path / "publisher.db")
    url, stop = serve_wsgi(create_app(model=Model([PUBLICATION]), store=store, hooks=hooks(clock=clock)))
    yield url, store, clock
    stop()
    store.close()


def test_publish_resolve_by_type_id_or_term_with_criteria(publisher):
    url, _, _ = publisher
    client = PublisherClient(url, cache_ttl=0)
    client.publish(identity="provisioning", base_url="http://10.0.0.1:8086", kinds=[infrastructure.COMPUTE],
                   zone="hospital-a", operator="acme")
    client.publish(identity="provisioning", base_url="http://10.0.0.2:8086", kinds=[infrastructure.COMPUTE],
                   zone="hospital-b", operator="acme")
    client.publish(identity="sla", base_url="http://10.0.0.3:8087", kinds=[sla.AGREEMENT])
    assert {p.url for p in client.resolve(infrastructure.COMPUTE.type_id)} == {"http://10.0.0.1:8086",
                                                                              "http://10.0.0.2:8086"}
    assert client.url_for("compute", zone="hospital-b") == "http://10.0.0.2:8086"
    assert client.url_for("agreement") == "http://10.0.0.3:8087"
    assert client.resolve("compute", operator="other") == []
    with pytest.raises(NotFound, match="no server publishes storage"):
        client.url_for("storage")


def test_resolution_is_cached_for_its_ttl(publisher):
    url, _, _ = publisher
    ticks = Clock()
    client = PublisherClient(url, cache_ttl=10, clock=ticks)
    assert client.resolve("compute") == []           # nobody yet: not cached...
    client.publish(identity="p", base_url="http://10.0.0.1:8086", kinds=[infrastructure.COMPUTE])
    assert [p.url for p in client.resolve("compute")] == ["http://10.0.0.1:8086"]     # ...found at once
    client.publish(identity="q", base_url="http://10.0.0.2:8086", kinds=[infrastructure.COMPUTE])
    assert [p.url for p in client.resolve("compute")] == ["http://10.0.0.1:8086"]     # the cached answer
    ticks.now += 11
    assert {p.url for p in client.resolve("compute")} == {"http://10.0.0.1:8086", "http://10.0.0.2:8086"}


def test_heartbeats_keep_publications_and_silence_expires_them(publisher):
    url, store, clock = publisher
    client = PublisherClient(url, cache_ttl=0)
    alive, silent = client.publish(identity="p", base_url="http://10.0.0.1:8086",
                                   kinds=[infrastructure.COMPUTE, infrastructure.STORAGE], ttl=30)
    clock.now += 20
    assert client.heartbeat(alive)
    clock.now += 20                                   # 40 s after publishing, 20 s after the heartbeat
    assert sweep(store, clock=clock) == 1
    assert [p.location for p in client.resolve("compute")] == [alive]
    assert client.resolve("storage") == []
    assert not client.heartbeat(silent)               # gone: the keeper will publish again


def test_the_publisher_refuses_bad_publications(publisher):
    url, _, _ = publisher
    client = testing.TestClient(create_app(model=Model([PUBLICATION]), store=open_store(":memory:"),
                                           hooks=hooks()))
    missing_url = client.simulate_post("/publication/", json={
        "kind": PUBLICATION.type_id, "attributes": {"occi.publication.what": "compute"}},
        headers={"Content-Type": "application/occi+json"})
    assert missing_url.status_code == 400 and "occi.publication.why" in missing_url.text
    not_a_url = client.simulate_post("/publication/", json={
        "kind": PUBLICATION.type_id, "attributes": {"occi.publication.what": "compute",
                                                    "occi.publication.why": "somewhere"}},
        headers={"Content-Type": "application/occi+json"})
    assert not_a_url.status_code == 400 and "does not match" in not_a_url.text
    forged_stamp = client.simulate_post("/publication/", json={
        "kind": PUBLICATION.type_id, "attributes": {"occi.publication.what": "compute",
                                                    "occi.publication.why": "http://x:1",
                                                    "occi.publication.stamp": 9e12}},
        headers={"Content-Type": "application/occi+json"})
    assert forged_stamp.status_code == 400 and "maintained by the server" in forged_stamp.text


def test_keeper_publishes_republishes_and_withdraws(publisher):
    url, store, clock = publisher
    client = PublisherClient(url, cache_ttl=0)
    keeper = PublicationKeeper(client, identity="sla", base_url="http://10.0.0.3:8087", kinds=[sla.AGREEMENT],
                               ttl=30)
    keeper.interval = 3600                             # the test drives the rounds itself
    keeper.start()
    try:
        deadline = time.monotonic() + 10                # it publishes from its own thread
        while sla.AGREEMENT.type_id not in keeper.locations and time.monotonic() < deadline:
            time.sleep(0.02)
        first = keeper.locations[sla.AGREEMENT.type_id]
        clock.now += 100
        sweep(store, clock=clock)                      # the publisher lost it (expired)
        keeper.beat()                                  # its heartbeat fails: it publishes again
        assert keeper.locations[sla.AGREEMENT.type_id] != first
        assert client.url_for("agreement") == "http://10.0.0.3:8087"
    finally:
        keeper.stop()
    assert client.resolve("agreement") == []


def test_client_for_names_a_category_not_a_url(publisher, tmp_path):
    url, _, _ = publisher
    store = open_store(tmp_path / "sla.db")
    sla_url, stop = serve_wsgi(create_app(model=Model(sla.CATEGORIES), store=store))
    try:
        PublisherClient(url).publish(identity="sla", base_url=sla_url, kinds=[sla.AGREEMENT])
        occi = client_for(sla.AGREEMENT.type_id, publisher=url)
        location = occi.create(sla.AGREEMENT.type_id)
        assert location.startswith(sla_url + "/agreement/")
    finally:
        stop()
        store.close()
