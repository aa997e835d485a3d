"""The ``broker`` component: plans, and the services instantiated from them (:mod:`broker.services`).

A plan is created by the parser when a manifest is submitted, on the submitter's behalf (the
submitter's credentials travel with the request, so the plan belongs to the submitter's
account), with the compiled plan in ``occi.plan.compiled``. Whoever creates a plan, its
compiled form must satisfy :data:`cords.plan_schema.PLAN_SCHEMA`: instantiating a plan never
meets a malformed one. Plans are immutable once compiled; a changed manifest is a new plan.
"""
from __future__ import annotations

import time

from broker.model import (SERVICE as SERVICE_KIND, SERVICE_ACTIONS, SERVICE_REPORT, SERVICE_SAVE, SERVICE_SCALEDOWN,
                          SERVICE_SCALEUP, SERVICE_SNAPSHOT)
from broker.roles import ADMIN, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from broker.services import Services
from cords.model.plan import PLAN, PLAN_INSTANCE
from occi.access import AccessPolicy, Rule
from occi.errors import BadRequest
from occi.hooks import Hooks
from occi.model import Model

__all__ = ["build", "POLICY", "CATEGORIES"]

CATEGORIES = (PLAN, PLAN_INSTANCE, SERVICE_KIND, *SERVICE_ACTIONS)

#: As the parser's: providers and the CCMP own their account's plans; components (service) act
#: for every account; operators read every account's plans but change none.
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, OPERATOR, SERVICE), write=roles(PROVIDER, CCMP, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
    #: Only the provisioning component reports what its contracts became.
    actions={SERVICE_REPORT.type_id: Rule(write=roles(SERVICE))},
)


def hooks(services: Services) -> Hooks:
    table = Hooks()

    @table.on_create(PLAN)
    def check_compiled(entity, ctx):
        from cords.plan_schema import plan_errors

        compiled = entity.attributes.get("occi.plan.compiled")
        problems = plan_errors(compiled)
        if problems:
            raise BadRequest("occi.plan.compiled is not a compiled plan: " + "; ".join(problems),
                             code="bad-plan", where="occi.plan.compiled")
        name = entity.attributes.get("occi.plan.name")
        if name != compiled["manifest"]:
            raise BadRequest(f"occi.plan.name {name!r} is not the name of the compiled manifest "
                             f"{compiled['manifest']!r}", code="bad-plan", where="occi.plan.name")
        entity.attributes["occi.plan.created"] = int(time.time())

    table.on_action(PLAN_INSTANCE)(services.instance)
    table.on_create(SERVICE_KIND)(services.create)
    table.on_delete(SERVICE_KIND)(services.delete)
    special = {SERVICE_REPORT: services.report, SERVICE_SCALEUP: services.scale_up,
               SERVICE_SCALEDOWN: services.scale_down, SERVICE_SNAPSHOT: services.take_images,
               SERVICE_SAVE: services.take_images}
    for action, handler in special.items():
        table.on_action(action)(handler)
    for action in SERVICE_ACTIONS:
        if action not in special:
            table.on_action(action)(services.act)
    return table


def build():
    from broker.components import Component

    services = Services()

    def attach(store, peers, **_):
        services.provisioning.attach(peers)

    return Component(name="broker", model=Model(CATEGORIES), hooks=hooks(services), policy=POLICY, attach=attach,
                     summary="Plans compiled from CORDS manifests, and the services instantiated from them "
                             "(CORDS scheme)")
