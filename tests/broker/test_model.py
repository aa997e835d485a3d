"""How a service's state follows from its nodes' reports (broker.model.derive_state)."""
from __future__ import annotations

from broker.model import derive_state


def _nodes(**states):
    return {name: ({"state": state} if isinstance(state, str) else state) for name, state in states.items()}


def test_a_transitional_state_holds_until_every_node_agrees():
    assert derive_state("deploying", _nodes(a="running", b="creating"), failure=None) == ("deploying", None)
    assert derive_state("deploying", _nodes(a="running", b="running"), failure=None) == ("running", None)
    assert derive_state("stopping", _nodes(a="stopped", b="stopped"), failure=None) == ("stopped", None)
    assert derive_state("deleting", _nodes(a="deleted", b="deleted"), failure=None) == ("deleted", None)


def test_one_failed_node_fails_the_service_and_names_it():
    state, message = derive_state("deploying", _nodes(a="running", b={"state": "failed", "message": "exit 3"}),
                                  failure=None)
    assert state == "failed" and message == "node b failed: exit 3"


def test_a_rollback_is_over_when_the_services_own_nodes_are_gone_even_if_a_shared_one_runs_on():
    nodes = _nodes(a="deleted", b="deleted", cache={"state": "running", "shared": True})
    assert derive_state("failed", nodes, failure="node b failed: exit 3") == (
        "failed", "node b failed: exit 3; rolled back: every node was deleted")
    still = _nodes(a="deleting", b="deleted", cache={"state": "running", "shared": True})
    assert derive_state("failed", still, failure="node b failed: exit 3") == (
        "failed", "node b failed: exit 3; rolling back")


def test_a_service_of_shared_nodes_only_is_judged_by_them():
    nodes = _nodes(cache={"state": "deleted", "shared": True})
    assert derive_state("failed", nodes, failure="node cache failed: x") == (
        "failed", "node cache failed: x; rolled back: every node was deleted")
    assert derive_state("deploying", _nodes(cache={"state": "running", "shared": True}), failure=None) == (
        "running", None)
