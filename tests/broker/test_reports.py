"""``service?action=report`` at a real broker: one contract's fields, or several contracts'
reports in one request (what the provisioning component's reporter sends), checked entry by
entry; older reports than the one kept change nothing."""
from __future__ import annotations

import pytest
import requests

from broker.model import SERVICE
from occi.store.base import EntityRecord
from tests.cords.platform import start_platform

S = "occi.service."
REPORT = "http://scheme.compatibleone.fr/scheme/compatible/service/action#report"
AS_PROVISIONING = {"Authorization": "Bearer service-token", "Accept": "application/json",
                   "Content-Type": "application/json"}


@pytest.fixture
def platform(tmp_path):
    started = start_platform(tmp_path)
    yield started
    started.stop()


def stored_service(platform, ident: str, nodes: tuple[str, ...]) -> str:
    """A deploying service stored at the broker as it is made, its contracts at ``/contract/IDENT-NODE``."""
    contracts = {name: f"http://127.0.0.1:1/contract/{ident}-{name}" for name in nodes}
    record = EntityRecord(location=f"/service/{ident}", id=f"urn:uuid:{ident}", kind=SERVICE.type_id, owner="clinic",
                          attributes={S + "name": ident, S + "state": "deploying", S + "contracts": contracts,
                                      S + "nodes": {n: {"contract": u, "state": "pending", "sequence": 0}
                                                    for n, u in contracts.items()}})
    with platform.stores["broker"].session() as session:
        session.insert(record)
    return f"{platform.broker}/service/{ident}"


@pytest.fixture
def service(platform) -> str:
    return stored_service(platform, "s1", ("web", "db"))


def _report(url: str, **attributes) -> requests.Response:
    return requests.post(url, params={"action": "report"}, json={"action": REPORT, "attributes": attributes},
                         headers=AS_PROVISIONING, timeout=10)


def _entry(node: str, state: str, sequence: int, **more) -> dict:
    return {"node": node, "contract": f"http://127.0.0.1:1/contract/s1-{node}", "state": state, "sequence": sequence,
            "hostname": "127.0.0.1", **more}


def _nodes(platform, url: str) -> dict:
    return platform.get(url).json()["attributes"][S + "nodes"]


def test_several_contracts_report_in_one_request(platform, service):
    answer = _report(service, reports=[_entry("web", "running", 3), _entry("db", "running", 2)])
    assert answer.status_code == 200, answer.text
    attributes = platform.get(service).json()["attributes"]
    assert attributes[S + "state"] == "running"
    assert {name: (n["state"], n["sequence"]) for name, n in attributes[S + "nodes"].items()} == {
        "web": ("running", 3), "db": ("running", 2)}
    # An older report of one and a newer of the other: only the newer counts.
    assert _report(service, reports=[_entry("web", "creating", 1), _entry("db", "failed", 5, message="disk")]) \
        .status_code == 200
    nodes = _nodes(platform, service)
    assert (nodes["web"]["state"], nodes["db"]["state"]) == ("running", "failed")


def test_one_contracts_fields_still_report(platform, service):
    assert _report(service, **_entry("web", "configuring", 2)).status_code == 200
    assert _nodes(platform, service)["web"]["state"] == "configuring"


@pytest.mark.parametrize("reports, where", [
    ([_entry("web", "running", 3), {"node": "db", "state": "running", "sequence": 1}], "reports[1].contract"),
    ([_entry("web", "running", "3")], "reports[0].sequence"),
    ([_entry("web", "running", 3, message=7)], "reports[0].message"),
    (["web"], "reports[0]"),
])
def test_a_bad_entry_is_a_400_that_names_it_and_changes_nothing(platform, service, reports, where):
    answer = _report(service, reports=reports)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad-report" and error["where"] == where, error
    assert _nodes(platform, service)["web"]["state"] == "pending"


def test_a_report_of_another_services_contract_is_refused(platform, service):
    answer = _report(service, reports=[_entry("web", "running", 3, contract="http://127.0.0.1:1/contract/x")])
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "not-this-service"
    both = _report(service, reports=[_entry("web", "running", 3)], node="web")
    assert both.status_code == 400 and both.json()["error"]["code"] == "report-mixed"
