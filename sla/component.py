"""The ``sla`` component: the OCCI SLA model (GFD.228) with its agreement state machine, the
CORDS agreement categories beside it (:mod:`sla.cords_model` says how both agreements coexist),
and ``POST /submit``, which takes a raw CORDS agreement and stores it in both forms
(:mod:`sla.submit`, docs/sla.md)."""
from __future__ import annotations

from datetime import datetime, timezone

from broker.roles import ADMIN, AUDITOR, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from occi.access import AccessPolicy, Rule
from occi.hooks import Hooks
from occi.model import Model
from occi.model import sla as sla_model
from sla import cords_model
from sla.store import term_scheme

__all__ = ["build", "routes", "POLICY"]

#: Providers and the CCMP negotiate their own account's agreements; components (service) act
#: for every account; auditors and operators check every account's agreements but change
#: none. Node agents have no business here. One rule for every kind: the default also covers
#: the root and mixin collections and user mixins (POST /-/ needs write).
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, AUDITOR, OPERATOR, SERVICE), write=roles(PROVIDER, CCMP, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(AUDITOR, OPERATOR),
)


def build():
    from broker.components import Component

    hooks = Hooks()

    @hooks.on_action(sla_model.AGREEMENT_ACTIONS[0])       # accept
    def accept(entity, action, parameters, ctx):
        entity.attributes["occi.agreement.state"] = "Accepted"
        entity.attributes["occi.agreement.agreedAt"] = datetime.now(timezone.utc).isoformat(timespec="seconds")

    @hooks.on_delete(sla_model.AGREEMENT)
    def forget_terms(entity, ctx):
        # The term mixins a submission declared for this agreement (sla.store) are its alone.
        scheme = term_scheme(entity.location.rpartition("/")[2])
        for mixin in entity.mixins:
            if mixin.user_defined and mixin.scheme == scheme:
                ctx.session.remove_user_mixin(mixin.type_id)

    return Component(name="sla", model=Model([*sla_model.CATEGORIES, *cords_model.CATEGORIES]), hooks=hooks,
                     policy=POLICY, routes=routes,
                     summary="Service level agreements: OCCI SLA (GFD.228) and CORDS agreements")


def routes(app, store, peers=None) -> None:
    """``POST /submit``: a raw CORDS agreement, stored in both forms (sla.submit, docs/sla.md)."""
    from sla.submit import routes as submit_routes

    submit_routes(app, store, peers)
