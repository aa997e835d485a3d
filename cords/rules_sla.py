"""Rules of agreements (slam.xsd 2.12, slamtypes.xsd 2.15) and provider quota documents
(provision.xsd, quotatypes.xsd 2.12): the SLA side of :mod:`cords.rules`, split out only to
keep each table readable. An agreement's ``<manifest>`` uses the manifest rules.
"""
from __future__ import annotations

from cords.rules_types import (COUNT, NUMBER, BOOLEAN, WARNING, Difference, element, enum, integer)
from cords.rules_types import AttrRule as A, ChildRule as C

__all__ = ["SLA_ELEMENTS", "SLA_DIFFERENCES", "SLA_ATTRIBUTE_NOTES", "CONDITIONS", "QUOTA_PROPERTIES"]

#: The comparisons of a variable, short and long (manual, CORDS.md §5); gt and lt, which
#: people write by habit, are read as the manual's gr and ls.
CONDITIONS = ("eq", "ne", "gr", "ls", "ge", "le", "equal", "notequal", "greater", "less", "notless", "notgreater")
#: What a quota may count (CORDS.md §6: the needs the quota placement algorithm computes).
QUOTA_PROPERTIES = ("occi.compute.cores", "occi.compute.memory", "occi.storage.size", "accords.vm.count",
                    "accords.address.count")

SLA_ELEMENTS = (
    element("agreement", "a service level agreement between an initiator and a responder (the root of an "
                         "agreement document)",
            A("name", required=True), A("description"),
            A("initiator", doc="the account name of the customer"), A("responder", doc="the provider's account"),
            A("serviceprovider", enum("initiator", "responder"), doc="which party provides the service"),
            A("initiation", doc="e.g. now"), A("expiration", doc="e.g. never"), A("template"), A("templatename"),
            A("termss", COUNT),
            A("cordscript", script="account.resolve(account.name,initiator.value); "
                                   "account.resolve(account.name,responder.value);"),
            children=(C("terms"),)),
    element("terms", "a section of the agreement: its services, its conditions or its guarantees",
            A("name"),
            A("type", enum("services", "conditions", "guarantees", prefixed=True,
                           legacy={"all": ("all", "a pre-schema section holding every kind of term; each "
                                                  "term is read by what it contains")}), required=True,
              doc="a prefixed value (sla5:services) is accepted with a warning"),
            A("description"), A("terms", COUNT), children=(C("term"),)),
    element("term", "one item of a terms section",
            A("name"), A("description"), A("type"), A("identity"), A("manifest"), A("federation"), A("provider"),
            A("variables", COUNT), A("guarantees", COUNT),
            children=(C("manifest", 0, 1), C("provider", 0, 1), C("guarantee"), C("variable")),
            exclusive=(("manifest", "provider", "guarantee", "variable"),)),
    element("variable", "a placement condition (occi.placement.*) or, in a guarantee, a metric and its objective",
            A("name"), A("property", required=True, doc="occi.placement.<criterion>, or a metric name"),
            A("condition", enum(*CONDITIONS, aliases={"gt": "gr", "lt": "ls"})), A("value"), A("description"),
            A("metric"), A("location", doc="restricts a condition to one node"),
            children=(C("metric", 0, 1),)),
    element("guarantee", "a monitored objective with its rewards and penalties",
            A("name"), A("description"), A("obligated", enum("provider", "initiator", "responder", legacy={
                "agreementresponder": ("responder", "the pre-schema name of the responder"),
                "agreementinitiator": ("initiator", "the pre-schema name of the initiator")})),
            A("importance", doc="e.g. normal"), A("scope", doc="default, all, or nodes: =one,!two"),
            A("variable"), A("values", COUNT),
            # Warnings, not errors: sla5.xml has an empty guarantee and the broker simply
            # monitors nothing for it; the compiler says so too.
            children=(C("variable", 1, 1, below_min=WARNING, why="nothing will be monitored"),
                      C("business", 1, None, below_min=WARNING, why="a violation will cost nothing"))),
    element("business", "a reward or penalty: Cordscript run when the objective is met or missed",
            A("name"), A("description"), A("nature", enum("reward", "penalty", "BOTH")),
            A("type", enum("cordscript")), A("expression", doc="e.g. cordscript:alert.new();")),
    element("provider", "a provider's quotas (the root of a provider quota document; in a provider SLA's "
                        "services term, the provider covered)",
            A("name", required=True), A("identity"), A("category"), A("profile"), A("operator"), A("price"),
            A("zone"), A("opinion"), A("security"), A("quotas", COUNT), children=(C("quota"),)),
    element("quota", "how much of one resource a provider offers",
            A("name"), A("property", enum(*QUOTA_PROPERTIES), required=True), A("description"), A("operator"),
            A("price"), A("zone"), A("opinion"), A("ceiling", COUNT), A("offered", COUNT), A("reserved", COUNT),
            A("consumed", COUNT), A("granularity", integer(1), default="1"),
            A("units", enum("U", "K", "M", "G", "T"), default="U", doc="U counts; K, M, G, T scale sizes"),
            children=(C("price", 0, 1),)),
    element("price", "a price: rate per period in a currency, or fixed",
            A("name"), A("operator"), A("description"), A("currency"), A("fixed", BOOLEAN), A("rate", NUMBER),
            A("units"), A("period")),
)

SLA_DIFFERENCES = (
    *(Difference(tag, f"@{name}", "type", why) for tag, name, why in (
        ("agreement", "serviceprovider", "initiator or responder (manual)"),
        ("terms", "type", "services, conditions or guarantees: the broker knows no other section"),
        ("variable", "condition", "the comparisons the manual lists"),
        ("guarantee", "obligated", "the parties (manual; provider in the generated provider SLAs)"),
        ("business", "nature", "reward, penalty or BOTH (manual, CORDS.md §5)"),
        ("business", "type", "only Cordscript business values exist (manual)"),
        ("quota", "property", "the needs the quota placement algorithm computes (CORDS.md §6)"),
        ("quota", "units", "U or a size unit, as placement converts needs (CORDS.md §6)"),
        ("price", "fixed", "a yes/no flag"),
        ("price", "rate", "an amount"),
    )),
    *(Difference(tag, f"@{name}", "required", why) for tag, name, why in (
        ("agreement", "name", "services and controls refer to the agreement by name"),
        ("terms", "type", "the broker walks terms by type; an untyped section would be ignored"),
        ("variable", "property", "a condition or guarantee must say what it is about"),
        ("provider", "name", "placement and provider SLAs refer to the provider by name"),
        ("quota", "property", "a quota must say what it counts"),
    )),
    # slamtypes.xsd declares term's <provider> twice (cordsProvider, and cordsFederation from
    # saas.xsd), which no XSD processor accepts; CORDS.md §9.1 and every provider SLA use the
    # provider quota type, and federation documents are out of scope.
    Difference("term", "<provider>", "dropped", "the second declaration (type cordsFederation) of a duplicated "
                                                 "child; the first (cordsProvider) is kept"),
)

SLA_ATTRIBUTE_NOTES = {
    ("agreement", "provider"): "a pre-schema draft attribute (slamtest.xml); slam.xsd 2.12 and slamtypes.xsd "
                               "2.15 have initiator, responder and serviceprovider instead",
    ("agreement", "templateid"): "the agreement category calls it templateid; documents write template",
    **{("guarantee", name): "a pre-schema draft attribute (slamtest.xml); slamtypes.xsd 2.15 dropped it: the "
                            "guarantee's <variable> holds the property, condition and objective (value)"
       for name in ("service", "condition", "objective")},
}
