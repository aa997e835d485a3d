"""Checklist J: completeness of the extension models (docs/OCCI.md §9 J1–J4, §3–§5)."""
from __future__ import annotations

import pytest

from checklist_support import (CORE, HOST, INFRA, attributes, by_type_id, categories, collection_paths, create, get,
                               json_body, path_of, post_plain)

SLA = "http://schemas.ogf.org/occi/sla#"
MON = "http://schemas.ogf.org/occi/monitoring#"


@pytest.fixture
def discovery(client):
    text = by_type_id(categories(get(client, "/-/")))
    document = json_body(get(client, "/-/", "application/occi+json"), "model")
    objects = {c["scheme"] + c["term"]: c for group in document.values() for c in group}
    return text, objects


def _own(attribute_names, prefix):
    return {name for name in attribute_names if name.startswith(prefix)}


# -- J1 ---------------------------------------------------------------------------------------------
J1_KINDS = {
    "compute": ({"occi.compute.architecture", "occi.compute.cores", "occi.compute.hostname", "occi.compute.share",
                 "occi.compute.memory", "occi.compute.state", "occi.compute.state.message"},
                {"start", "stop", "restart", "suspend", "save"}, CORE + "resource"),
    "storage": ({"occi.storage.size", "occi.storage.state", "occi.storage.state.message"},
                {"online", "offline"}, CORE + "resource"),
    "network": ({"occi.network.vlan", "occi.network.label", "occi.network.state", "occi.network.state.message"},
                {"up", "down"}, CORE + "resource"),
    "networkinterface": ({"occi.networkinterface.interface", "occi.networkinterface.mac",
                          "occi.networkinterface.state", "occi.networkinterface.state.message"},
                         {"up", "down"}, CORE + "link"),
    "storagelink": ({"occi.storagelink.deviceid", "occi.storagelink.mountpoint", "occi.storagelink.state",
                     "occi.storagelink.state.message"}, set(), CORE + "link"),
}


@pytest.mark.parametrize("term", sorted(J1_KINDS))
def test_J1_infrastructure_kinds_have_exactly_the_spec_attributes_and_actions(discovery, term):
    text, objects = discovery
    names, actions, parent = J1_KINDS[term]
    kind = text[INFRA + term]
    assert kind.cls == "kind" and kind.rel == (parent,)
    rendered = dict(kind.attributes)
    inherited = {"occi.core.id", "occi.core.title", "occi.core.summary", "occi.core.source", "occi.core.target",
                 "occi.core.source.kind", "occi.core.target.kind"}
    assert set(rendered) - inherited == names
    assert _own(objects[INFRA + term]["attributes"], f"occi.{term}.") == names
    assert {a.rpartition("#")[2] for a in kind.actions} == actions
    assert all(a.startswith(f"http://schemas.ogf.org/occi/infrastructure/{term}/action#") for a in kind.actions)
    assert rendered[f"occi.{term}.state"] == {"immutable", "required"}
    assert rendered[f"occi.{term}.state.message"] == {"immutable"}


def test_J1_compute_action_parameters_and_enums(discovery):
    _, objects = discovery
    action = lambda term: objects[f"http://schemas.ogf.org/occi/infrastructure/compute/action#{term}"]
    assert action("start").get("attributes", {}) == {}
    assert action("stop")["attributes"]["method"]["pattern"]["enum"] == ["graceful", "acpioff", "poweroff"]
    assert action("restart")["attributes"]["method"]["pattern"]["enum"] == ["graceful", "warm", "cold"]
    assert action("suspend")["attributes"]["method"]["pattern"]["enum"] == ["hibernate", "suspend"]
    assert set(action("save")["attributes"]) == {"method", "name"}
    assert action("save")["attributes"]["method"]["pattern"]["enum"] == ["hot", "deferred"]
    compute = objects[INFRA + "compute"]["attributes"]
    assert compute["occi.compute.architecture"]["pattern"]["enum"] == ["x86", "x64"]
    assert compute["occi.compute.state"]["pattern"]["enum"] == ["active", "inactive", "suspended", "error"]
    storage = objects[INFRA + "storage"]["attributes"]
    assert storage["occi.storage.state"]["pattern"]["enum"] == ["online", "offline", "error"]
    assert objects[INFRA + "network"]["attributes"]["occi.network.vlan"]["pattern"] == \
        {"type": "integer", "minimum": 0, "maximum": 4095}


def test_J1_network_vlan_range_is_enforced(client):
    assert create(client, "network", {"occi.network.vlan": 4095})
    result = post_plain(client, "/network/", f'Category: network; scheme="{INFRA}"; class="kind"',
                        "X-OCCI-Attribute: occi.network.vlan=4096")
    assert result.status_code == 400 and "where: occi.network.vlan" in result.text


# -- J2 ---------------------------------------------------------------------------------------------
def test_J2_ip_mixins_exist_with_the_right_applies(discovery):
    text, objects = discovery
    ipnetwork = objects["http://schemas.ogf.org/occi/infrastructure/network#ipnetwork"]
    assert ipnetwork["applies"] == [INFRA + "network"]
    assert set(ipnetwork["attributes"]) == {"occi.network.address", "occi.network.gateway", "occi.network.allocation"}
    assert ipnetwork["attributes"]["occi.network.allocation"]["pattern"]["enum"] == ["dynamic", "static"]
    ipni = objects["http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface"]
    assert ipni["applies"] == [INFRA + "networkinterface"]
    assert set(ipni["attributes"]) == {"occi.networkinterface.address", "occi.networkinterface.gateway",
                                       "occi.networkinterface.allocation"}
    assert ipni["attributes"]["occi.networkinterface.address"]["required"] is True
    assert text["http://schemas.ogf.org/occi/infrastructure/network#ipnetwork"].rel == (INFRA + "network",)


def test_J2_ipnetwork_applies_to_networks_only(client):
    line = 'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; class="mixin"'
    net = create(client, "network", {"occi.network.address": "10.0.0.0/24"}, extra=[line])
    assert attributes(get(client, net))["occi.network.address"] == "10.0.0.0/24"
    result = post_plain(client, "/compute/", f'Category: compute; scheme="{INFRA}"; class="kind"', line)
    assert result.status_code == 400


# -- J3 ---------------------------------------------------------------------------------------------
def test_J3_sla_categories(discovery):
    text, objects = discovery
    agreement = text[SLA + "agreement"]
    assert agreement.cls == "kind" and agreement.title == "A Service Level Agreement"
    assert agreement.rel == (CORE + "resource",)
    link = text[SLA + "agreement_link"]
    assert link.cls == "kind" and link.title == "Link between a SLA and its associated resources"
    assert link.rel == (CORE + "link",)
    assert text[SLA + "agreement_tpl"].cls == "mixin"
    assert text[SLA + "agreement_tpl"].title == "Mixin defining a SLA template collection"
    assert text[SLA + "agreement_term"].cls == "mixin"
    assert text[SLA + "agreement_term"].title == "Mixin defining a Term collection for an agreement"
    assert set(agreement.actions) == {SLA + t for t in ("accept", "reject", "suspend", "resume", "terminate")}
    for term in ("accept", "reject", "suspend", "resume", "terminate"):
        assert text[SLA + term].cls == "action"
        assert not objects[SLA + term].get("attributes")
    rendered = dict(agreement.attributes)
    assert rendered["occi.agreement.state"] == {"immutable", "required"}
    assert rendered["occi.agreement.agreedAt"] == {"immutable"}
    assert rendered["occi.agreement.effectiveFrom"] == rendered["occi.agreement.effectiveUntil"] == frozenset()
    state = objects[SLA + "agreement"]["attributes"]["occi.agreement.state"]
    assert state["pattern"]["enum"] == ["Pending", "Accepted", "Rejected", "Suspended", "Terminated"]


def test_J3_agreement_lifecycle(client):
    agreement = create(client, "agreement", {"occi.agreement.effectiveFrom": "2030-01-01T00:00:00Z"}, scheme=SLA)
    state = lambda: attributes(get(client, agreement))["occi.agreement.state"]
    assert state() == "Pending"
    assert post_plain(client, agreement, f'Category: suspend; scheme="{SLA}"; class="action"',
                      query="action=suspend").status_code == 400
    assert post_plain(client, agreement, f'Category: accept; scheme="{SLA}"; class="action"',
                      query="action=accept").status_code == 200
    assert state() == "Accepted"
    assert post_plain(client, agreement, query="action=suspend").status_code == 200
    assert state() == "Suspended"
    # Published models use …/sla/agreement/action#; accepted on input.
    alias = 'Category: resume; scheme="http://schemas.ogf.org/occi/sla/agreement/action#"; class="action"'
    assert post_plain(client, agreement, alias, query="action=resume").status_code == 200
    assert state() == "Accepted"
    assert post_plain(client, agreement, query="action=terminate").status_code == 200
    assert state() == "Terminated"
    assert post_plain(client, agreement, query="action=accept").status_code == 400


@pytest.mark.parametrize("value", ["P1D", "tomorrow", "2030-01-01/2030-02-01"])
def test_J3_agreement_datetimes_must_be_absolute(client, value):
    result = post_plain(client, "/agreement/", f'Category: agreement; scheme="{SLA}"; class="kind"',
                        f'X-OCCI-Attribute: occi.agreement.effectiveFrom="{value}"')
    assert result.status_code == 400
    assert "where: occi.agreement.effectiveFrom" in result.text


def test_J3_agreement_state_is_not_for_clients(client):
    result = post_plain(client, "/agreement/", f'Category: agreement; scheme="{SLA}"; class="kind"',
                        'X-OCCI-Attribute: occi.agreement.state="Accepted"')
    assert result.status_code in (400, 403)
    agreement = create(client, "agreement", scheme=SLA)
    result = post_plain(client, agreement, 'X-OCCI-Attribute: occi.agreement.state="Accepted"')
    assert result.status_code == 403


def test_J3_agreement_link(client):
    agreement = create(client, "agreement", scheme=SLA)
    vm = create(client)
    result = post_plain(client, "/link/agreement_link/", f'Category: agreement_link; scheme="{SLA}"; class="kind"',
                        f'X-OCCI-Attribute: occi.core.source="{agreement}"', f'X-OCCI-Attribute: occi.core.target="{vm}"')
    assert result.status_code == 201
    assert attributes(get(client, path_of(result.headers["Location"])))["occi.core.target.kind"] == INFRA + "compute"


# -- J4 ---------------------------------------------------------------------------------------------
def test_J4_monitoring_categories(discovery):
    text, objects = discovery
    sensor, collector = text[MON + "sensor"], text[MON + "collector"]
    assert sensor.cls == collector.cls == "kind"
    assert sensor.title == "Sensor Resource" and sensor.rel == (CORE + "resource",)
    assert collector.title == "Collector Link" and collector.rel == (CORE + "link",)
    assert sensor.actions == collector.actions == ()
    assert _own(dict(sensor.attributes), "occi.sensor.") == {
        "occi.sensor.timebase", "occi.sensor.timestart", "occi.sensor.timestop", "occi.sensor.period",
        "occi.sensor.granularity", "occi.sensor.accuracy"}
    assert dict(sensor.attributes)["occi.sensor.period"] == {"required"}
    assert _own(dict(collector.attributes), "occi.collector.") == {
        "occi.collector.period", "occi.collector.granularity", "occi.collector.accuracy"}
    assert not _own(dict(collector.attributes), "occi.sensor.")
    assert dict(collector.attributes)["occi.collector.period"] == {"required"}
    assert objects[MON + "metric"]["applies"] == [MON + "collector"]
    assert objects[MON + "aggregator"]["applies"] == [MON + "sensor"]
    assert objects[MON + "publisher"]["applies"] == [MON + "sensor"]
    for term, title in (("metric", "Metric Mixin"), ("aggregator", "Aggregator Mixin"), ("publisher", "Publisher Mixin")):
        assert text[MON + term].cls == "mixin" and text[MON + term].title == title


def _collector(client, source, target):
    return post_plain(client, "/link/collector/", f'Category: collector; scheme="{MON}"; class="kind"',
                      f'X-OCCI-Attribute: occi.core.source="{source}"', f'X-OCCI-Attribute: occi.core.target="{target}"',
                      "X-OCCI-Attribute: occi.collector.period=60")


def test_J4_collector_source_must_be_a_sensor(client):
    vm = create(client)
    sensor = create(client, "sensor", {"occi.sensor.period": 30}, scheme=MON)
    rejected = _collector(client, vm, sensor)
    assert rejected.status_code == 400
    assert "sensor" in rejected.text and "where: occi.core.source" in rejected.text
    accepted = _collector(client, HOST + sensor, HOST + vm)
    assert accepted.status_code == 201
    collector = path_of(accepted.headers["Location"])
    assert attributes(get(client, collector))["occi.core.source.kind"] == MON + "sensor"
    # Removing a sensor removes the collectors in its scope.
    assert client.simulate_delete(sensor).status_code in (200, 204)
    assert collection_paths(client, "/link/collector/") == []


def test_J4_sensor_needs_a_period(client):
    result = post_plain(client, "/sensor/", f'Category: sensor; scheme="{MON}"; class="kind"')
    assert result.status_code == 400 and "occi.sensor.period" in result.text
