"""What the provisioning component's reporter sends, against a real broker over HTTP: one request
per service, and which reports count as delivered when the broker says no."""
from __future__ import annotations

import pytest
import requests

from broker.components import Peers
from broker.platform import StaticToken
from broker.provisioning.component import Engine
from broker.provisioning.model import CONTRACT
from broker.provisioning.records import C
from occi.store.base import EntityRecord
from tests.broker.test_reports import platform, stored_service  # noqa: F401 - platform is a fixture

S = "occi.service."


@pytest.fixture
def engine(platform) -> Engine:
    made = Engine()
    made.services.attach(Peers(publisher=platform.publisher, credentials=StaticToken("service-token")))
    return made


def _contract(service: str, node: str, *, state: str = "running", sequence: int = 2, desired: str = "running",
              users: list | None = None) -> EntityRecord:
    ident = f"{service.rsplit('/', 1)[1]}-{node}"
    attributes = {C + "name": node, C + "service": service, C + "state": state, C + "desired": desired,
                  C + "sequence": sequence, C + "placed": "local", C + "hostname": "127.0.0.1"}
    if users is not None:
        attributes[C + "users"] = users
    return EntityRecord(location=f"/contract/{ident}", id=f"urn:uuid:{ident}", kind=CONTRACT.type_id,
                        owner="clinic", attributes=attributes)


def _nodes(url: str) -> dict:
    answer = requests.get(url, headers={"Authorization": "Bearer alice-token", "Accept": "application/json"},
                          timeout=10)
    return answer.json()["attributes"][S + "nodes"]


def test_each_service_hears_its_contracts_in_one_request(platform, engine):
    first, second = stored_service(platform, "s1", ("web", "db")), stored_service(platform, "s2", ("web",))
    records = [_contract(first, "web"), _contract(first, "db", sequence=5), _contract(second, "web", state="failed")]
    assert engine.send_reports(records) == {r.location for r in records}
    assert {n: (v["state"], v["sequence"]) for n, v in _nodes(first).items()} == {
        "web": ("running", 2), "db": ("running", 5)}
    assert _nodes(second)["web"]["state"] == "failed"


def test_a_report_to_a_service_not_stored_yet_is_kept_unless_the_contract_is_being_deleted(platform, engine):
    missing = f"{platform.broker}/service/not-yet"
    live, going = _contract(missing, "web"), _contract(missing, "db", desired="deleted", state="deleting")
    # The broker stores a service once all its contracts exist: a 404 for a live contract is
    # "not yet", and dropping its report would lose it. A contract being deleted has nobody left.
    assert engine.send_reports([live, going]) == {going.location}


def test_a_report_the_broker_refuses_does_not_hold_up_the_others(platform, engine):
    url = stored_service(platform, "s3", ("web", "db"))
    stranger = _contract(url, "cache")             # not a node of that service: refused (400)
    web = _contract(url, "web")
    assert engine.send_reports([stranger, web]) == {stranger.location, web.location}
    assert _nodes(url)["web"]["state"] == "running"


def test_a_shared_contract_is_delivered_once_every_user_heard_it(platform, engine):
    first = stored_service(platform, "s4", ("cache",))
    users = [{"service": first, "group": first}, {"service": f"{platform.broker}/service/gone", "group": "g"}]
    shared = _contract(first, "cache", users=users)
    shared.attributes[C + "name"] = "cache"
    assert engine.send_reports([shared]) == set()          # the second user's service is not there
    assert _nodes(first)["cache"]["state"] == "running"    # the first one heard it all the same
