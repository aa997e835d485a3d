"""The ``provisioning`` component.

Until the broker issue gives it real provisioning, it serves the OGF infrastructure
model (GFD.224) with stored entities and state-only actions, plus a few provider
templates, so that any OCCI client can exercise the framework end to end.
"""
from __future__ import annotations

from broker.roles import ADMIN, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from occi.access import AccessPolicy, Rule
from occi.model import Model
from occi.model import infrastructure as infra

__all__ = ["build", "TEMPLATE_SCHEME", "TEMPLATES", "POLICY"]

TEMPLATE_SCHEME = "http://accords.example/occi/templates#"

TEMPLATES = (
    infra.os_template("debian12", scheme=TEMPLATE_SCHEME, title="Debian 12 (bookworm)"),
    infra.os_template("ubuntu2404", scheme=TEMPLATE_SCHEME, title="Ubuntu 24.04 LTS"),
    infra.resource_template("small", scheme=TEMPLATE_SCHEME, title="1 core, 2 GiB", cores=1, memory=2.0),
    infra.resource_template("medium", scheme=TEMPLATE_SCHEME, title="2 cores, 4 GiB", cores=2, memory=4.0),
    infra.resource_template("large", scheme=TEMPLATE_SCHEME, title="4 cores, 16 GiB", cores=4, memory=16.0),
)

#: Providers and the CCMP order workloads for their own account; components (service) act for
#: every account; operators watch every account's infrastructure but change none of it.
#: Auditors and node agents have no business here. One rule for every kind: the default also
#: covers the root and mixin collections and user mixins (POST /-/ needs write).
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, OPERATOR, SERVICE), write=roles(PROVIDER, CCMP, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
)


def build():
    from broker.components import Component

    return Component(name="provisioning", model=Model([*infra.CATEGORIES, *TEMPLATES]), policy=POLICY,
                     summary="OGF infrastructure (compute, storage, network, links, templates)")
