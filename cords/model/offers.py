"""Imported records and providers' offers: metrics, prices, geolocations, quotas and providers.

``metric``, ``price`` and ``geolocation`` arrive in import documents (CORDS.md §11);
``provider`` and its ``quota`` records in provider quota documents (§10), loaded before
the provider's server starts. Placement reads quotas and prices to choose a provider.
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_kind

__all__ = ["METRIC", "PRICE", "GEOLOCATION", "QUOTA", "PROVIDER", "QUOTA_PROPERTIES", "CATEGORIES"]

#: What a quota may limit (CORDS.md §10): placement knows how to count exactly these.
QUOTA_PROPERTIES = ("occi.compute.cores", "occi.compute.memory", "occi.storage.size", "accords.vm.count",
                    "accords.address.count")

a = Attributes("metric")
METRIC = cords_kind("metric", "A metric probes can measure on a node", (
    a.name("Name of the metric (e.g. cpu:idle); guarantees name their metric by it."),
    a("units", "Units of the measured value."),
    a("period", "Seconds between two measurements, or every:hour, every:day, every:week."),
    a.integer("samples", "Number of samples per measurement.", minimum=1),
    a("expression", "Shell command whose output is the measured value."),
    a.state(),
))

a = Attributes("price")
PRICE = cords_kind("price", "A price: what a service, contract or provider costs", (
    a.name(),
    a("operator", "Name of the operator the price is for."),
    a("description", "What the price is for."),
    a("currency", "Currency of the rate (e.g. euro)."),
    a("fixed", "Whether the rate is a flat rate (yes/true) rather than per unit."),
    a("rate", "Amount charged per period (and per unit unless fixed).", type="number", minimum=0),
    a("units", "Unit the rate is per (e.g. G)."),
    a("period", "Period the rate is per (e.g. hour, or a number of periods)."),
    a.state(),
))

a = Attributes("geolocation")
GEOLOCATION = cords_kind("geolocation", "Where a zone of a provider category is (e.g. europe is eu-west-1)", (
    a.name(),
    a("category", "Provider category the zone belongs to (e.g. amazonEc2)."),
    a("operator", "Name of the operator."),
    a("zone", "Placement zone (e.g. europe)."),
    a("location", "Provider's name for the zone (e.g. eu-west-1)."),
    a("country", "Country of the location."),
    a("town", "Town of the location."),
    a("gps", "GPS coordinates of the location."),
    a.state(),
))

a = Attributes("quota")
QUOTA = cords_kind("quota", "How much of one resource a provider offers, and how much is reserved and consumed", (
    a.name(),
    a.enum("property", QUOTA_PROPERTIES, "The resource the quota limits."),
    a("description", "What the quota is."),
    a("operator", "Name of the operator offering the resource."),
    a.ref("provision", "provider", "the provider the quota belongs to."),
    a.ref("price", "price"),
    a("zone", "Zone of the offered resource."),
    a("opinion", "Reputation of the offer."),
    a("units", "Unit of the quantities (U: a count; G: gigabytes).", default="U"),
    a.integer("ceiling", "Most that may ever be offered.", minimum=0),
    a.integer("offered", "Quantity offered.", minimum=0),
    # Placement moves these through its reserve/consume/restore/release operations only.
    a.integer("reserved", "Quantity reserved by placements; written by the server.", minimum=0, default=0,
              mutable=False, server_managed=True),
    a.integer("consumed", "Quantity in use; written by the server.", minimum=0, default=0, mutable=False,
              server_managed=True),
    a.integer("granularity", "Smallest quantity reserved at once.", minimum=1, default=1),
    a.state(),
))

a = Attributes("provider")
PROVIDER = cords_kind("provider", "A provider's offer: its zone, operator, price and quotas (links)", (
    a.name("Name of the provider (its server, e.g. osprocci).", required=True),
    a("identity", "Base URL of the provider's server; filled when it starts."),
    a("category", "Provider category (openstack, opennebula, amazonEc2, dummy, ...)."),
    a("profile", "Subscription (profile) the provider provisions with."),
    a("operator", "Name of the operator running the provider."),
    a.ref("price", "price"),
    a("zone", "Zone of the provider (e.g. europe)."),
    a("opinion", "Reputation of the provider."),
    a.ref("security", "security"),
    a.count("quotas", "quotas"),
    a.state(),
))
del a

CATEGORIES = (METRIC, PRICE, GEOLOCATION, QUOTA, PROVIDER)
