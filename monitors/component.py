"""The ``monitors`` component: serves the OCCI Monitoring draft (sensors and collectors)."""
from __future__ import annotations

from occi.model import Model
from occi.model import monitoring

__all__ = ["build"]


def build():
    from broker.components import Component

    return Component(name="monitors", model=Model(monitoring.CATEGORIES),
                     summary="OCCI monitoring: sensors, collectors, metric/aggregator/publisher mixins")
