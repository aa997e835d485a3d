"""The CORDS categories of the manifest side, declared once (CORDS.md §7, §10–§12).

* :mod:`cords.model.manifest`: the elements of a manifest (manifest, node, infrastructure,
  compute, storage, volume, network, endpoint, port, image, system, package,
  configuration, release, interface, action, security) and the generated firewall;
* :mod:`cords.model.plan`: the plan a manifest compiles to and the instructions of its
  contracts;
* :mod:`cords.model.offers`: imported metrics, prices and geolocations; providers and
  their quotas.

The agreement side (agreement, terms, term, variable, guarantee, business, control,
penalty) is the sla component's: :mod:`sla.cords_model`. Accounts and users are the
security component's (:mod:`occi.security.model`).

Every kind is in the CompatibleOne scheme at ``/<term>/``. CORDS compute, storage and
network share their locations with the OGF infrastructure kinds (GFD.224), so the two
never share one component's model: the parser serves the CORDS ones, provisioning the
OGF ones.
"""
from cords.model import manifest, offers, plan
from cords.model.base import ACTION_SCHEME, SCHEME
from cords.model.manifest import (ACTION, COMPUTE, CONFIGURATION, ENDPOINT, FIREWALL, FIREWALL_BUILD, IMAGE,
                                  INFRASTRUCTURE, INTERFACE, MANIFEST, NETWORK, NODE, PACKAGE, PORT, RELEASE,
                                  SECURITY, STORAGE, SYSTEM, VOLUME)
from cords.model.offers import GEOLOCATION, METRIC, PRICE, PROVIDER, QUOTA
from cords.model.plan import INSTRUCTION, PLAN, PLAN_INSTANCE

__all__ = ["SCHEME", "ACTION_SCHEME", "MANIFEST", "NODE", "INFRASTRUCTURE", "COMPUTE", "STORAGE", "VOLUME",
           "NETWORK", "ENDPOINT", "PORT", "IMAGE", "SYSTEM", "PACKAGE", "CONFIGURATION", "RELEASE", "INTERFACE",
           "ACTION", "SECURITY", "FIREWALL", "FIREWALL_BUILD", "PLAN", "PLAN_INSTANCE", "INSTRUCTION", "METRIC",
           "PRICE", "GEOLOCATION", "QUOTA", "PROVIDER", "CATEGORIES", "manifest", "plan", "offers"]

#: Every manifest-side category (kinds and their actions).
CATEGORIES = (*manifest.CATEGORIES, *plan.CATEGORIES, *offers.CATEGORIES)
