"""The ``broker`` component: plans (and, with provisioning, the services instantiated from them).

A plan is created by the parser when a manifest is submitted, on the submitter's behalf (the
submitter's credentials travel with the request, so the plan belongs to the submitter's
account), with the compiled plan in ``occi.plan.compiled``. Whoever creates a plan, its
compiled form must satisfy :data:`cords.plan_schema.PLAN_SCHEMA`: instantiating a plan never
meets a malformed one. Plans are immutable once compiled; a changed manifest is a new plan.
"""
from __future__ import annotations

import time

from broker.roles import ADMIN, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from cords.model.plan import PLAN, PLAN_INSTANCE
from occi.access import AccessPolicy, Rule
from occi.errors import BadRequest, NotImplementedByServer
from occi.hooks import Hooks
from occi.model import Model

__all__ = ["build", "POLICY", "CATEGORIES"]

CATEGORIES = (PLAN, PLAN_INSTANCE)

#: As the parser's: providers and the CCMP own their account's plans; components (service) act
#: for every account; operators read every account's plans but change none.
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, OPERATOR, SERVICE), write=roles(PROVIDER, CCMP, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(OPERATOR),
)


def hooks() -> Hooks:
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

    @table.on_action(PLAN_INSTANCE)
    def instance(entity, action, parameters, ctx):
        # Refused loudly rather than acknowledged: a 200 here would tell the caller a service
        # exists when none does.
        raise NotImplementedByServer("this broker stores plans but does not instantiate them yet",
                                     code="instance-not-implemented", where=entity.location)

    return table


def build():
    from broker.components import Component

    return Component(name="broker", model=Model(CATEGORIES), hooks=hooks(), policy=POLICY,
                     summary="Plans compiled from CORDS manifests (CORDS scheme)")
