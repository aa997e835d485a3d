"""The ``publisher`` component: publications stamped at each heartbeat, expired ones swept."""
from __future__ import annotations

import logging
import time

from broker.roles import ADMIN, EVERY_ROLE, OPERATOR, SERVICE, roles
from occi.access import AccessPolicy, Rule
from occi.hooks import Hooks
from occi.model import Model
from occi.publisher.model import CATEGORIES, DEFAULT_TTL, HEARTBEAT, PUBLICATION
from occi.store.base import Query

__all__ = ["build", "hooks", "sweep", "POLICY"]

log = logging.getLogger("accords.publisher")

#: Resolution must work for every caller, whatever its role or account: everyone reads every
#: publication. Only the components (service) and the operators who run them publish, beat
#: and withdraw, for any account (a component's publications belong to the platform account).
#: The default rule covers every kind, the root and mixin collections and user mixins (/-/).
POLICY = AccessPolicy(
    default=Rule(read=EVERY_ROLE, write=roles(SERVICE, OPERATOR)),
    see_all=roles(ADMIN, SERVICE, OPERATOR),
    read_all=EVERY_ROLE,
)


def hooks(clock=time.time) -> Hooks:
    registry = Hooks()

    @registry.on_create(PUBLICATION)
    def stamp(entity, ctx):
        entity.attributes["occi.publication.stamp"] = clock()

    @registry.on_action(HEARTBEAT)
    def heartbeat(entity, action, parameters, ctx):
        entity.attributes["occi.publication.stamp"] = clock()

    return registry


def sweep(store, *, clock=time.time) -> int:
    """Delete the publications whose last heartbeat is older than their ttl; how many went."""
    now = clock()
    expired = []
    with store.session(readonly=True) as session:
        for record in session.list(Query(kinds=[PUBLICATION.type_id])):
            ttl = record.attributes.get("occi.publication.ttl", DEFAULT_TTL)
            if now - record.attributes.get("occi.publication.stamp", 0) > ttl:
                expired.append(record.location)
    if expired:
        with store.session() as session:
            for location in expired:
                session.delete(location)
        log.info("expired %d publication(s) without heartbeat", len(expired))
    return len(expired)


def build():
    from broker.components import Component

    return Component(name="publisher", model=Model(CATEGORIES), hooks=hooks(), policy=POLICY,
                     summary="the directory of components: publications, heartbeats, resolution",
                     background=sweep, background_interval=1.0)
