"""The ``sla`` component: serves the OCCI SLA model (GFD.228) with its agreement state machine."""
from __future__ import annotations

from datetime import datetime, timezone

from occi.hooks import Hooks
from occi.model import Model
from occi.model import sla as sla_model

__all__ = ["build"]


def build():
    from broker.components import Component

    hooks = Hooks()

    @hooks.on_action(sla_model.AGREEMENT_ACTIONS[0])       # accept
    def accept(entity, action, parameters, ctx):
        entity.attributes["occi.agreement.state"] = "Accepted"
        entity.attributes["occi.agreement.agreedAt"] = datetime.now(timezone.utc).isoformat(timespec="seconds")

    return Component(name="sla", model=Model(sla_model.CATEGORIES), hooks=hooks,
                     summary="OCCI service level agreements (GFD.228)")
