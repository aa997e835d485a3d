"""The reporter: reports leave the reconciler's path, coalesced per contract, retried until
delivered, and recorded on the contract (``reported``) only once delivered."""
from __future__ import annotations

import threading
import time

import pytest

from broker.provisioning.model import CONTRACT
from broker.provisioning.records import C, ContractStore
from broker.provisioning.reporting import Reporter
from occi.store import open_store
from occi.store.base import EntityRecord


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "provisioning.db")
    yield opened
    opened.close()


class Service:
    """What the reports are sent to: records each batch; ``gate`` holds a send until set;
    ``refuse`` makes the next sends fail."""

    def __init__(self):
        self.batches: list[list[tuple[str, int]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.refuse = 0

    def send(self, records) -> set[str]:
        self.gate.wait(10)
        self.batches.append([(r.location, r.attributes[C + "sequence"]) for r in records])
        if self.refuse:
            self.refuse -= 1
            return set()
        return {r.location for r in records}


def _contract(store, name: str, sequence: int) -> EntityRecord:
    record = EntityRecord(location=f"/contract/{name}", id=f"urn:uuid:{name}", kind=CONTRACT.type_id, owner="clinic",
                          attributes={C + "name": name, C + "state": "creating", C + "desired": "running",
                                      C + "sequence": sequence, C + "reported": 0})
    with store.session() as session:
        return session.insert(record)


def _at(record: EntityRecord, sequence: int) -> EntityRecord:
    return EntityRecord(location=record.location, id=record.id, kind=record.kind, owner=record.owner,
                        version=record.version, attributes={**record.attributes, C + "sequence": sequence})


def _reported(store, location: str) -> int:
    with store.session(readonly=True) as session:
        return session.get(location).attributes.get(C + "reported") or 0


def test_only_the_newest_report_of_a_contract_is_sent_and_each_service_gets_one_batch(store):
    service = Service()
    web, db = _contract(store, "web", 1), _contract(store, "db", 1)
    reporter = Reporter(ContractStore(store), service.send).start()
    try:
        service.gate.clear()
        reporter.submit(web)                     # on its way, held at the gate
        assert reporter.idle(timeout=0.2) is False
        for sequence in (2, 3):
            reporter.submit(_at(web, sequence))
        reporter.submit(_at(web, 2))             # older than what waits: ignored
        reporter.submit(db)
        assert reporter.holds(web.location) and reporter.holds(db.location)
        service.gate.set()
        assert reporter.idle(timeout=10)
    finally:
        reporter.stop()
    assert service.batches[0] == [(web.location, 1)]
    assert sorted(service.batches[1]) == sorted([(web.location, 3), (db.location, 1)])
    assert len(service.batches) == 2
    assert _reported(store, web.location) == 3 and _reported(store, db.location) == 1
    assert not reporter.holds(web.location)


def test_an_undelivered_report_is_retried_with_backoff_and_recorded_only_once_delivered(store):
    service = Service()
    service.refuse = 2
    web = _contract(store, "web", 4)
    reporter = Reporter(ContractStore(store), service.send, backoff=0.05).start()
    try:
        reporter.submit(web)
        deadline = time.monotonic() + 10
        while len(service.batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _reported(store, web.location) == 0       # refused twice: not reported yet
        assert reporter.idle(timeout=10)
    finally:
        reporter.stop()
    assert service.batches == [[(web.location, 4)]] * 3
    assert _reported(store, web.location) == 4


def test_a_sender_that_raises_does_not_stop_the_reporter(store):
    calls = []

    def send(records):
        calls.append(len(records))
        if len(calls) == 1:
            raise ConnectionError("broker restarting")
        return {r.location for r in records}

    web = _contract(store, "web", 2)
    reporter = Reporter(ContractStore(store), send, backoff=0.01).start()
    try:
        reporter.submit(web)
        assert reporter.idle(timeout=10)
    finally:
        reporter.stop()
    assert calls == [1, 1] and _reported(store, web.location) == 2


def test_stop_delivers_what_waits(store):
    service = Service()
    reporter = Reporter(ContractStore(store), service.send).start()
    records = [_contract(store, f"n{i}", 1) for i in range(5)]
    for record in records:
        reporter.submit(record)
    reporter.stop(timeout=10)
    assert {location for batch in service.batches for location, _ in batch} == {r.location for r in records}
    assert all(_reported(store, r.location) == 1 for r in records)


def _in(record: EntityRecord, state: str, sequence: int) -> EntityRecord:
    moved = _at(record, sequence)
    moved.attributes[C + "state"] = state
    return moved


def test_a_failure_is_reported_even_when_the_node_moved_on_before_it_was_sent(store):
    service = Service()
    api = _contract(store, "api", 1)
    reporter = Reporter(ContractStore(store), service.send).start()
    try:
        service.gate.clear()
        reporter.submit(api)                                    # held at the gate
        reporter.idle(timeout=0.1)
        for state, sequence in (("configuring", 2), ("failed", 3), ("deleting", 4), ("deleted", 5)):
            reporter.submit(_in(api, state, sequence))         # the rollback deletes it at once
        service.gate.set()
        assert reporter.idle(timeout=10)
    finally:
        reporter.stop()
    # The newest replaces what waits, but a failure stays: it is what the service must hear.
    assert service.batches == [[(api.location, 1)], [(api.location, 3), (api.location, 5)]]
    assert _reported(store, api.location) == 5
