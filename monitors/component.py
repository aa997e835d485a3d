"""The ``monitors`` component: serves the OCCI Monitoring draft (sensors and collectors)."""
from __future__ import annotations

from broker.roles import ADMIN, AGENT, AUDITOR, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from occi.access import AccessPolicy, Rule
from occi.model import Model
from occi.model import monitoring

__all__ = ["build", "POLICY"]

#: Node agents report their own account's measurements and components (service) every
#: account's; providers and the CCMP read their own account's, auditors and operators every
#: account's. One rule for every kind: the default also covers the root and mixin
#: collections and user mixins (POST /-/ needs write).
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, AUDITOR, OPERATOR, AGENT, SERVICE), write=roles(AGENT, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(AUDITOR, OPERATOR),
)


def build():
    from broker.components import Component

    return Component(name="monitors", model=Model(monitoring.CATEGORIES), policy=POLICY,
                     summary="OCCI monitoring: sensors, collectors, metric/aggregator/publisher mixins")
