"""The ``parser`` component: serves the categories of a manifest's elements.

It serves :data:`cords.model.manifest.CATEGORIES` (manifest, node, infrastructure,
compute, storage, volume, network, endpoint, port, image, system, package,
configuration, release, interface, action, security, and the generated firewall): what
the parser creates and whose counts and states it writes, and ``POST /submit`` (raw
CORDS documents, :mod:`cords.http`). The other manifest-side declarations of
:mod:`cords.model` are served by the components that run their operations: plan by the
broker (it instantiates plans), instruction by provisioning, provider, quota, price and
geolocation by placement (its reservations move quotas), metric by monitors; serving them
here too would publish one category from two servers.
"""
from __future__ import annotations

from broker.roles import ADMIN, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from cords.model import manifest
from occi.access import AccessPolicy, Rule
from occi.model import Model

__all__ = ["build", "routes", "POLICY", "CATEGORIES"]

CATEGORIES = manifest.CATEGORIES

#: As provisioning's: providers and the CCMP submit manifests for their own account;
#: components (service) act for every account; operators read every account's manifests
#: but change none. Auditors and node agents have no business here. One rule for every kind:
#: the default also covers the root and mixin collections and user mixins (POST /-/ needs write).
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, OPERATOR, SERVICE), write=roles(PROVIDER, CCMP, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
)


def build():
    from broker.components import Component

    from cords.hooks import hooks

    model = Model(CATEGORIES)
    return Component(name="parser", model=model, hooks=hooks(model), policy=POLICY, routes=routes,
                     summary="CORDS manifests: nodes, infrastructures, images, actions (CORDS scheme)")


def routes(app, store, peers=None) -> None:
    from cords.http import SubmitResource

    app.add_route("/submit", SubmitResource(store=store, model=Model(CATEGORIES), policy=POLICY, peers=peers))
