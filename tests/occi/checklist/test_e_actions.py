"""Checklist E: actions (docs/OCCI.md §9 E1–E5)."""
from __future__ import annotations

import json

import pytest

from checklist_support import (BOOSTER, COMPUTE_ACTION, INFRA, TEST_ACTION, attributes, create,
                               get, json_body, locations, path_of, post_plain, validate)
from occi.model.infrastructure import COMPUTE_ACTIONS

START = f'Category: start; scheme="{COMPUTE_ACTION}"; class="action"'
STOP = f'Category: stop; scheme="{COMPUTE_ACTION}"; class="action"'


def _state(client, path):
    return attributes(get(client, path))["occi.compute.state"]


# -- E1 ---------------------------------------------------------------------------------------------
def test_E1_action_invocation_returns_200_and_follows_the_state_diagram(client):
    vm = create(client)
    assert _state(client, vm) == "inactive"
    result = post_plain(client, vm, START, query="action=start")
    assert result.status_code == 200
    assert attributes(result)["occi.compute.state"] == "active"
    assert _state(client, vm) == "active"
    for term, expected in (("suspend", "suspended"), ("start", "active"), ("restart", "active"), ("stop", "inactive")):
        result = post_plain(client, vm, f'Category: {term}; scheme="{COMPUTE_ACTION}"; class="action"',
                            query=f"action={term}")
        assert result.status_code == 200, (term, result.text)
        assert _state(client, vm) == expected, term


def test_E1_action_with_text_occi_headers_and_without_category(client):
    vm = create(client)
    result = client.simulate_post(vm, query_string="action=start", headers={
        "Content-Type": "text/occi", "Accept": "text/occi", "Category": START.removeprefix("Category: ")})
    assert result.status_code == 200 and result.text == "OK"
    assert _state(client, vm) == "active"
    result = client.simulate_post(vm, query_string="action=stop")   # the query alone names the action
    assert result.status_code == 200
    assert _state(client, vm) == "inactive"


def test_E1_storage_and_network_actions(client):
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    assert attributes(get(client, disk))["occi.storage.state"] == "offline"
    assert post_plain(client, disk, query="action=online").status_code == 200
    assert attributes(get(client, disk))["occi.storage.state"] == "online"
    net = create(client, "network")
    assert post_plain(client, net, query="action=up").status_code == 200
    assert attributes(get(client, net))["occi.network.state"] == "active"


# -- E2 ---------------------------------------------------------------------------------------------
def test_E2_action_parameters_come_from_x_occi_attribute(client, hooks):
    seen = []

    @hooks.on_action(COMPUTE_ACTIONS[1])     # stop
    def stop(entity, action, parameters, ctx):
        seen.append(dict(parameters))
        entity.attributes["occi.compute.state"] = "inactive"

    vm = create(client)
    post_plain(client, vm, START, query="action=start")
    result = post_plain(client, vm, STOP, 'X-OCCI-Attribute: method="poweroff"', query="action=stop")
    assert result.status_code == 200
    assert seen == [{"method": "poweroff"}]
    assert _state(client, vm) == "inactive"
    post_plain(client, vm, START, query="action=start")
    result = client.simulate_post(vm, query_string="action=stop", headers={
        "Content-Type": "text/occi", "Category": STOP.removeprefix("Category: "), "X-OCCI-Attribute": 'method="graceful"'})
    assert result.status_code == 200
    assert seen[-1] == {"method": "graceful"}


@pytest.mark.parametrize("parameter", ['method="yank"', "method=3", 'speed="fast"'])
def test_E2_bad_action_parameters_are_400_and_change_nothing(client, parameter):
    vm = create(client)
    post_plain(client, vm, query="action=start")
    result = post_plain(client, vm, STOP, f"X-OCCI-Attribute: {parameter}", query="action=stop")
    assert result.status_code == 400
    assert f"where: {parameter.split('=')[0]}" in result.text
    assert _state(client, vm) == "active"


# -- E3 ---------------------------------------------------------------------------------------------
def test_E3_unknown_action_is_400(client):
    vm = create(client)
    for query, lines in (("action=fly", ()), ("action=up", ()),
                         ("action=start", (f'Category: start; scheme="{INFRA}network/action#"; class="action"',))):
        result = post_plain(client, vm, *lines, query=query)
        assert result.status_code == 400, (query, result.text)
    result = post_plain(client, vm, STOP, query="action=start")      # category and query disagree
    assert result.status_code == 400
    assert _state(client, vm) == "inactive"


def test_E3_inapplicable_action_is_400(client):
    vm = create(client)
    result = post_plain(client, vm, STOP, query="action=stop")
    assert result.status_code == 400
    assert "not applicable" in result.text and "inactive" in result.text
    assert _state(client, vm) == "inactive"


def test_E3_ambiguous_action_is_409_and_a_category_resolves_it(client, hooks):
    boosted = []

    @hooks.on_action(BOOSTER.actions[0])
    def boost(entity, action, parameters, ctx):
        boosted.append(entity.location)

    vm = create(client, mixins=(BOOSTER,))
    result = post_plain(client, vm, query="action=start")
    assert result.status_code == 409
    assert COMPUTE_ACTION + "start" in result.text and TEST_ACTION + "start" in result.text
    assert _state(client, vm) == "inactive"
    assert post_plain(client, vm, START, query="action=start").status_code == 200
    assert _state(client, vm) == "active" and boosted == []
    booster = f'Category: start; scheme="{TEST_ACTION}"; class="action"'
    assert post_plain(client, vm, booster, query="action=start").status_code == 200
    assert boosted == [vm]


# -- E4 ---------------------------------------------------------------------------------------------
def test_E4_action_on_a_collection_applies_to_every_member(client):
    vms = [create(client) for _ in range(3)]
    result = post_plain(client, "/compute/", START, query="action=start")
    assert result.status_code == 200
    assert {path_of(u) for u in locations(result)} == set(vms)
    assert {_state(client, vm) for vm in vms} == {"active"}
    result = post_plain(client, "/compute/", STOP, 'X-OCCI-Attribute: method="acpioff"', query="action=stop")
    assert result.status_code == 200
    assert {_state(client, vm) for vm in vms} == {"inactive"}


def test_E4_collection_action_is_all_or_nothing(client):
    vms = [create(client) for _ in range(2)]
    disk = create(client, "storage", {"occi.storage.size": 1.0})
    post_plain(client, vms[0], query="action=start")
    result = post_plain(client, "/resource/", query="action=start")   # storage has no start
    assert result.status_code == 400
    assert _state(client, vms[1]) == "inactive"
    assert attributes(get(client, disk))["occi.storage.state"] == "offline"


def test_E4_collection_action_as_json(client):
    vms = [create(client) for _ in range(2)]
    result = client.simulate_post("/compute/", query_string="action=start", headers={
        "Content-Type": "application/occi+json", "Accept": "application/occi+json"},
        body=json.dumps({"action": COMPUTE_ACTION + "start"}))
    assert result.status_code == 200
    document = json_body(result, "resource_collection")
    assert {r["attributes"]["occi.compute.state"] for r in document["resources"]} == {"active"}
    assert len(document["resources"]) == len(vms)


# -- E5 ---------------------------------------------------------------------------------------------
def test_E5_json_action_invocation_is_accepted(client, hooks):
    seen = []

    @hooks.on_action(COMPUTE_ACTIONS[1])
    def stop(entity, action, parameters, ctx):
        seen.append(dict(parameters))
        entity.attributes["occi.compute.state"] = "inactive"

    vm = create(client)
    start = validate({"action": COMPUTE_ACTION + "start"}, "action_invocation")
    result = client.simulate_post(vm, query_string="action=start", headers={
        "Content-Type": "application/occi+json", "Accept": "application/occi+json"}, body=json.dumps(start))
    assert result.status_code == 200
    assert json_body(result, "resource")["attributes"]["occi.compute.state"] == "active"
    stop_doc = validate({"action": COMPUTE_ACTION + "stop", "attributes": {"method": "graceful"}}, "action_invocation")
    result = client.simulate_post(vm, query_string="action=stop", headers={"Content-Type": "application/occi+json"},
                                  body=json.dumps(stop_doc))
    assert result.status_code == 200
    assert seen == [{"method": "graceful"}]
    assert _state(client, vm) == "inactive"


def test_E5_json_invocation_with_bad_parameters_is_400(client):
    vm = create(client)
    post_plain(client, vm, query="action=start")
    result = client.simulate_post(vm, query_string="action=stop", headers={"Content-Type": "application/occi+json"},
                                  body=json.dumps({"action": COMPUTE_ACTION + "stop", "attributes": {"method": 1}}))
    assert result.status_code == 400
    assert _state(client, vm) == "active"
