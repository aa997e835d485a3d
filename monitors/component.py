"""The ``monitors`` component: serves the OCCI Monitoring draft (sensors and collectors) and the
CORDS ``metric`` records (what probes can measure; imported with ``accords import``).

The two "metric" categories do not clash: the draft's is a mixin at ``/mixin/metric/`` in the
OGF monitoring scheme, the CORDS one a kind at ``/metric/`` in the CompatibleOne scheme, and
only kinds are published (clients resolve ``metric`` by its type id).
"""
from __future__ import annotations

from broker.roles import ADMIN, AGENT, AUDITOR, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from cords.model.offers import METRIC
from cords.records import unique_names
from occi.access import AccessPolicy, Rule
from occi.hooks import Hooks
from occi.model import Model
from occi.model import monitoring

__all__ = ["build", "POLICY"]

#: Node agents report their own account's measurements and components (service) every
#: account's; providers and the CCMP read their own account's, auditors and operators every
#: account's. One rule for every kind: the default also covers the root and mixin
#: collections and user mixins (POST /-/ needs write).
#:
#: Metric definitions are the platform's, not measurements: operators define them (for
#: their own account; they read everybody's) and components (service) for every account;
#: agents and everybody else only read them. Visibility is the component's: providers and the
#: CCMP see their own account's metrics only.
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, AUDITOR, OPERATOR, AGENT, SERVICE), write=roles(AGENT, SERVICE)),
    kinds={METRIC.type_id: Rule(read=roles(PROVIDER, CCMP, AUDITOR, OPERATOR, AGENT, SERVICE),
                                write=roles(OPERATOR, SERVICE))},
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(AUDITOR, OPERATOR),
)


def build():
    from broker.components import Component

    hooks = Hooks()
    unique_names(hooks, (METRIC,))      # guarantees and probes name their metric
    return Component(name="monitors", model=Model([*monitoring.CATEGORIES, METRIC]), hooks=hooks, policy=POLICY,
                     summary="OCCI monitoring: sensors, collectors, metric/aggregator/publisher mixins; "
                             "CORDS metrics")
