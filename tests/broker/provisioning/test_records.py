"""The reconciler's writes that must not be lost to a concurrent writer: a rollback's and a
shared node's release. Another writer (a reconciler claiming the contract for its own step) is
real here: it updates the contract in the same store between our read and our write."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest

from broker.provisioning.model import CONTRACT
from broker.provisioning.records import C, ContractStore
from occi.store import open_store
from occi.store.base import EntityRecord, StaleWrite


class BusyStore:
    """A store in which another writer bumps ``location`` before each of our first ``times`` writes."""

    def __init__(self, store, *, location: str, times: int):
        self.store, self.location, self.times = store, location, times

    @contextmanager
    def session(self, *, readonly: bool = False):
        if not readonly and self.times > 0:
            self.times -= 1
            with self.store.session() as other:
                current = other.get(self.location)
                other.update(replace(current, attributes={**current.attributes, C + "lease": f"other@{self.times}"}),
                             expected_version=current.version)
        with self.store.session(readonly=readonly) as session:
            yield session


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "provisioning.db")
    yield opened
    opened.close()


def _contract(store, name: str, **attributes) -> EntityRecord:
    record = EntityRecord(location=f"/contract/{name}", id=f"urn:uuid:{name}", kind=CONTRACT.type_id, owner="clinic",
                          attributes={C + "name": name, C + "state": "configuring", C + "desired": "running",
                                      **attributes})
    with store.session() as session:
        return session.insert(record)


def _get(store, location: str) -> dict:
    with store.session(readonly=True) as session:
        return session.get(location).attributes


def test_a_release_of_a_shared_node_survives_a_concurrent_writer(store):
    users = [{"service": "/service/a", "group": "/service/a"}, {"service": "/service/b", "group": "/service/b"}]
    _contract(store, "cache", **{C + "scope": "common", C + "users": users, C + "service": "/service/b"})
    contracts = ContractStore(BusyStore(store, location="/contract/cache", times=3))
    assert contracts.release_shared("/service/b", why="node api failed") == 1
    after = _get(store, "/contract/cache")
    assert after[C + "users"] == users[:1] and after[C + "service"] == "/service/a"
    assert after[C + "lease"] == "other@0"        # the other writer's change is kept, not overwritten
    # Released once only: a retried rollback finds nothing more to release.
    assert contracts.release_shared("/service/b", why="again") == 0


def test_the_last_user_released_deletes_the_shared_node(store):
    _contract(store, "cache", **{C + "scope": "common", C + "users": [{"service": "/service/a", "group": "/g"}]})
    contracts = ContractStore(BusyStore(store, location="/contract/cache", times=2))
    assert contracts.release_shared("/g", why="rollback") == 1
    assert _get(store, "/contract/cache")[C + "desired"] == "deleted"


def test_amend_gives_up_loudly_on_endless_contention(store):
    record = _contract(store, "web")
    contracts = ContractStore(BusyStore(store, location="/contract/web", times=10))
    with pytest.raises(StaleWrite, match="still changing after 3 attempts"):
        contracts.amend(record, lambda a: {C + "desired": "deleted"}, attempts=3)
    assert _get(store, "/contract/web")[C + "desired"] == "running"


def test_amend_writes_nothing_when_no_change_is_needed(store):
    record = _contract(store, "web", **{C + "desired": "deleted"})
    contracts = ContractStore(store)
    assert contracts.amend(record, lambda a: None if a[C + "desired"] == "deleted" else {C + "x": 1}) is None
    with store.session(readonly=True) as session:
        assert session.get("/contract/web").version == record.version


def test_a_contract_made_after_its_deployment_rolled_back_is_deleted_not_placed(store):
    from broker.provisioning.reconciler import Reconciler
    from broker.provisioning.tokens import AgentTokens

    class NoPlacement:
        def choose(self, **_):
            raise AssertionError("a rolled back deployment placed a node")

    _contract(store, "api", **{C + "state": "failed", C + "desired": "deleted", C + "group": "/service/root",
                               C + "rollback": True, C + "rolledback": "in.api", C + "path": "in.api"})
    _contract(store, "web", **{C + "state": "pending", C + "group": "/service/root", C + "rollback": True,
                               C + "due": True})
    _contract(store, "other", **{C + "state": "pending", C + "group": "/service/other", C + "rollback": True,
                                 C + "due": True})
    reconciler = Reconciler(store, clouds=None, placement=NoPlacement(), tokens=AgentTokens(b"k" * 32),
                            holder="test")
    try:
        reconciler.advance("/contract/web")
        web = _get(store, "/contract/web")
        assert (web[C + "state"], web[C + "desired"], web[C + "rolledback"]) == ("deleting", "deleted", "in.api")
        assert "node in.api failed" in web[C + "message"]
        with pytest.raises(AssertionError, match="placed a node"):    # another deployment is placed
            reconciler.advance("/contract/other")
    finally:
        reconciler.stop()


def test_a_step_is_not_stale_for_what_the_reporter_recorded(store):
    record = _contract(store, "web", **{C + "sequence": 3, C + "reported": 2})
    contracts = ContractStore(store)
    contracts.write(record, {C + "reported": 3}, transition=False)          # the reporter, meanwhile
    updated = contracts.write(record, {C + "state": "running"})             # the step, from its old read
    assert (updated.attributes[C + "state"], updated.attributes[C + "reported"]) == ("running", 3)
    assert updated.attributes[C + "sequence"] == 4
    contracts.write(updated, {C + "desired": "stopped"})                    # a real change meanwhile
    with pytest.raises(StaleWrite):
        contracts.write(updated, {C + "state": "stopping"})
