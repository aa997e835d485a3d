"""Talking to the publisher: publishing, keeping publications alive, resolving categories."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Iterable

from occi.client import OcciClient
from occi.errors import NotFound, OcciError, ServiceUnavailable
from occi.model.category import Kind
from occi.publisher.model import DEFAULT_TTL, PUBLICATION

__all__ = ["Publication", "PublisherClient", "PublicationKeeper", "client_for"]

log = logging.getLogger("accords.publisher")


@dataclass(frozen=True)
class Publication:
    location: str
    category: str          # type id when the publisher knows it, else the term
    url: str
    zone: str | None
    operator: str | None
    identity: str | None


class PublisherClient:
    """Resolution is cached for ``cache_ttl`` seconds per (category, zone, operator)."""

    def __init__(self, url: str, *, token: str | None = None, credentials=None, cache_ttl: float = 10.0,
                 client: OcciClient | None = None, clock=time.monotonic):
        self.url = url.rstrip("/")
        self.client = client or OcciClient(self.url, token=token, credentials=credentials, retries=2, backoff=0.1)
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._cache: dict[tuple, tuple[float, list[Publication]]] = {}
        self._lock = threading.Lock()

    # -- publishing ---------------------------------------------------------------------
    def publish(self, *, identity: str, base_url: str, kinds: Iterable[Kind], zone: str | None = None,
                operator: str | None = None, price: str | None = None, ttl: int = DEFAULT_TTL) -> list[str]:
        """One publication per kind served; their locations (for heartbeats and withdrawal)."""
        locations = []
        for kind in kinds:
            attributes = {"occi.publication.what": kind.term, "occi.publication.category": kind.type_id,
                          "occi.publication.why": base_url.rstrip("/"), "occi.publication.identity": identity,
                          "occi.publication.ttl": ttl}
            for name, value in (("zone", zone), ("operator", operator), ("price", price)):
                if value is not None:
                    attributes[f"occi.publication.{name}"] = value
            locations.append(self.client.create(PUBLICATION.type_id, attributes=attributes))
        return locations

    def heartbeat(self, location: str) -> bool:
        """False when the publication is gone (expired, or the publisher lost it)."""
        try:
            self.client.action(location, "heartbeat")
            return True
        except NotFound:
            return False

    def withdraw(self, locations: Iterable[str]) -> None:
        for location in locations:
            try:
                self.client.delete(location)
            except NotFound:
                pass

    # -- resolution ---------------------------------------------------------------------
    def resolve(self, category: str, *, zone: str | None = None, operator: str | None = None) -> list[Publication]:
        """Servers of ``category`` (a type id, or a term), optionally in a zone or from an operator."""
        key = (category, zone, operator)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self.cache_ttl:
                return cached[1]
        filters = {"occi.publication.category" if "#" in category else "occi.publication.what": category}
        if zone is not None:
            filters["occi.publication.zone"] = zone
        if operator is not None:
            filters["occi.publication.operator"] = operator
        found = [Publication(location=e.location, category=e.attributes.get("occi.publication.category") or
                             e.attributes["occi.publication.what"], url=e.attributes["occi.publication.why"],
                             zone=e.attributes.get("occi.publication.zone"),
                             operator=e.attributes.get("occi.publication.operator"),
                             identity=e.attributes.get("occi.publication.identity"))
                 for e in self.client.list_entities(PUBLICATION.location, filters=filters)]
        if found:       # "nobody yet" is not cached: a server that starts is found at once
            with self._lock:
                self._cache[key] = (now, found)
        return found

    def url_for(self, category: str, **criteria) -> str:
        found = self.resolve(category, **criteria)
        if not found:
            wanted = ", ".join(f"{k} {v}" for k, v in criteria.items() if v is not None)
            raise NotFound(f"no server publishes {category}{' in ' + wanted if wanted else ''}",
                           code="not-published", where=self.url)
        return found[0].url

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def client_for(category: str, *, publisher: str, token: str | None = None, credentials=None,
               zone: str | None = None, operator: str | None = None, **options) -> OcciClient:
    """An OcciClient for whichever server publishes ``category``: callers name categories, not URLs."""
    url = PublisherClient(publisher, token=token, credentials=credentials).url_for(category, zone=zone,
                                                                                    operator=operator)
    return OcciClient(url, token=token, credentials=credentials, **options)


class PublicationKeeper:
    """Publishes a component's kinds, heartbeats every ttl/3, re-publishes what vanished, withdraws at stop."""

    def __init__(self, publisher: PublisherClient, *, identity: str, base_url: str, kinds: Iterable[Kind],
                 zone: str | None = None, operator: str | None = None, ttl: int = DEFAULT_TTL):
        self.publisher = publisher
        self.options = dict(identity=identity, base_url=base_url, zone=zone, operator=operator, ttl=ttl)
        self.kinds = list(kinds)
        self.interval = max(ttl / 3, 0.2)
        self.locations: dict[str, str] = {}          # kind type id -> publication location
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Held for each round of requests. The process forks while we run (gunicorn's master
        # forks its workers): a child forked in the middle of a request would inherit locks
        # held by this thread (the TLS and connection-pool ones) and hang on them forever.
        self._round = threading.Lock()
        self._fork_held = False
        self._wait_for = None

    def start(self, *, wait_for=None) -> None:
        """Publish and keep publishing from a thread: the caller (gunicorn's master, before it
        forks its workers) must not wait for the publisher, nor for our own workers. Forks
        wait for the current round to finish; ``wait_for()`` (e.g. "the workers are forked")
        holds the first round back, since a round may call this very server (the security
        component logs in to itself) and would wait for workers that a fork waiting for the
        round could never create."""
        os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork,
                            after_in_child=self._after_fork)
        self._wait_for = wait_for
        self._thread = threading.Thread(target=self._run, name="publication-keeper", daemon=True)
        self._thread.start()

    def _before_fork(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._round.acquire()
            self._fork_held = True

    def _after_fork(self) -> None:
        if self._fork_held:
            self._fork_held = False
            self._round.release()

    def _publish_missing(self) -> None:
        missing = [k for k in self.kinds if k.type_id not in self.locations]
        try:
            for kind, location in zip(missing, self.publisher.publish(kinds=missing, **self.options)):
                self.locations[kind.type_id] = location
        except OcciError as error:
            log.warning("publishing to %s failed: %s; retrying", self.publisher.url, error.message)

    def beat(self) -> None:
        """One round: a heartbeat for each publication, and publish again what vanished."""
        for type_id, location in list(self.locations.items()):
            try:
                if not self.publisher.heartbeat(location):
                    log.warning("publication of %s vanished; publishing again", type_id)
                    del self.locations[type_id]
            except OcciError as error:
                log.warning("heartbeat to %s failed: %s", self.publisher.url, error.message)
        self._publish_missing()

    def _run(self) -> None:
        # While something is unpublished (the publisher not up yet), try again every second at
        # most: the others cannot find us meanwhile.
        retry = 0.25
        deadline = time.monotonic() + 30
        while self._wait_for is not None and not self._wait_for() and time.monotonic() < deadline:
            if self._stop.wait(0.05):
                return
        with self._round:
            self._publish_missing()
        while True:
            complete = len(self.locations) == len(self.kinds)
            if self._stop.wait(self.interval if complete else min(retry, self.interval)):
                return
            with self._round:
                self.beat()
            retry = 0.25 if complete else min(retry * 2, 1.0)

    def stop(self) -> None:
        """Withdraw every publication (a clean stop)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.publisher.withdraw(self.locations.values())
        except ServiceUnavailable as error:
            # The publisher (or the security service it asks) stopped first: the publications
            # expire on their own after their ttl.
            log.info("could not withdraw from %s (%s); the publications expire by themselves",
                     self.publisher.url, error.message)
        except OcciError as error:
            log.warning("withdrawing from %s failed: %s", self.publisher.url, error.message)
        self.locations.clear()
