"""The ``placement`` component: providers' offers (CORDS.md §6, §10, §11).

It serves what placement chooses a provider from: ``provider`` records and the ``quota``
records linked from them (``occi.provider.quotas`` counts the links provider -> quota in
``/link/``; ``occi.quota.provision`` is the provider's URL), ``price`` and ``geolocation``.
They arrive mostly through ``accords import`` (import documents and provider quota
documents). Imported ``metric`` records are the monitors component's.

A quota's ``reserved`` and ``consumed`` quantities are server-managed: only placement's own
reservation operations (choose/consume/restore/release, a later issue) will move them.

Names identify records (documents refer to them by name, re-imports match them by name):
creating a second record of a kind under a taken name is a 409 ``duplicate-name``.
"""
from __future__ import annotations

from broker.roles import ADMIN, AUDITOR, CCMP, OPERATOR, PROVIDER, SERVICE, roles
from cords.model import offers
from cords.records import count_links, unique_names
from occi.access import AccessPolicy, Rule
from occi.hooks import Hooks
from occi.model import Model

__all__ = ["build", "POLICY", "CATEGORIES"]

#: Every offer kind but ``metric`` (served by monitors).
CATEGORIES = (offers.PRICE, offers.GEOLOCATION, offers.QUOTA, offers.PROVIDER)

#: Offers are the platform's public information for choosing a provider: providers, the CCMP
#: and auditors read every account's (prices, zones, quotas) and change none. Operators run
#: providers: they create and change their own account's offers (an operator of one cloud
#: cannot touch another's quotas or prices) and read everybody's. Components (service) act
#: for every account. Node agents have no business here. One rule for every kind: the default
#: also covers the root and mixin collections and user mixins (POST /-/ needs write).
POLICY = AccessPolicy(
    default=Rule(read=roles(PROVIDER, CCMP, AUDITOR, OPERATOR, SERVICE), write=roles(OPERATOR, SERVICE)),
    see_all=roles(ADMIN, SERVICE),
    read_all=roles(PROVIDER, CCMP, AUDITOR, OPERATOR),
)


def build():
    from broker.components import Component

    hooks = Hooks()
    unique_names(hooks, CATEGORIES)
    count_links(hooks, source=offers.PROVIDER, target=offers.QUOTA, attribute="occi.provider.quotas")
    return Component(name="placement", model=Model(CATEGORIES), hooks=hooks, policy=POLICY,
                     summary="Providers' offers: providers, quotas, prices, geolocations (CORDS scheme)")
