"""The SQL store, on SQLite and on PostgreSQL (the ``store`` fixture runs each test on both)."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from occi.errors import Conflict
from occi.store import (DuplicateEntity, EntityRecord, MixinRecord, Query, SqlStore, StaleWrite,
                        open_store)

COMPUTE = "http://schemas.ogf.org/occi/infrastructure#compute"
STORAGE = "http://schemas.ogf.org/occi/infrastructure#storage"
LINK = "http://schemas.ogf.org/occi/infrastructure#storagelink"
OS_TPL = "http://example.org/os#ubuntu"
SMALL = "http://example.org/resource#small"


def resource(n, kind=COMPUTE, mixins=(), owner=None, prefix="/compute/", **attributes):
    return EntityRecord(location=f"{prefix}{n}", id=f"urn:uuid:{kind[-4:]}-{n}", kind=kind,
                        mixins=list(mixins), attributes=attributes, owner=owner)


def link(n, source, target):
    return EntityRecord(location=f"/link/{n}", id=f"urn:uuid:link-{n}", kind=LINK, source=source,
                        target=target, source_kind=COMPUTE, target_kind=STORAGE,
                        attributes={"occi.storagelink.deviceid": f"vd{n}"})


def insert_all(store, *records):
    with store.session() as session:
        return [session.insert(record) for record in records]


def locations(store, **query):
    with store.session() as session:
        return session.list_locations(Query(**query))


def test_insert_and_get_round_trip_types(store):
    attributes = {"s": "héllo", "i": 7, "big": 2 ** 62, "f": 2.5, "whole": 2.0, "t": True, "no": False,
                  "zero": 0, "empty": "", "none": None, "list": [1, "a", 2.0, [True]],
                  "obj": {"k": {"n": 1}, "x": [None]}}
    inserted = insert_all(store, resource(1, mixins=[OS_TPL, SMALL], owner="alice", **attributes))[0]
    assert inserted.version == 1
    with store.session() as session:
        got = session.get("/compute/1")
        assert got == inserted
        assert session.get_by_id("urn:uuid:pute-1") == got
        assert session.get("/compute/none") is None and session.get_by_id("urn:uuid:none") is None
    assert got.mixins == [OS_TPL, SMALL] and got.owner == "alice" and got.kind == COMPUTE
    assert got.attributes == attributes
    for name in ("i", "big", "zero"):
        assert type(got.attributes[name]) is int
    for name in ("f", "whole"):
        assert type(got.attributes[name]) is float
    assert got.attributes["t"] is True and got.attributes["no"] is False


def test_get_many_keeps_the_order_asked_and_skips_missing(store):
    insert_all(store, *(resource(n) for n in range(5)))
    with store.session() as session:
        found = session.get_many(["/compute/3", "/missing", "/compute/0", "/compute/3"])
    assert [record.location for record in found] == ["/compute/3", "/compute/0"]


def test_duplicate_location_and_id_are_conflicts_and_leave_the_session_usable(store):
    insert_all(store, resource(1))
    with store.session() as session:
        with pytest.raises(DuplicateEntity, match="/compute/1") as caught:
            session.insert(resource(1))
        assert "already exists at /compute/1" in str(caught.value)
        clone = resource(1)
        clone.location = "/compute/other"
        with pytest.raises(DuplicateEntity, match="id urn:uuid:pute-1"):
            session.insert(clone)
        session.insert(resource(2))          # the transaction survived the clashes
    assert isinstance(caught.value, Conflict) and caught.value.status == 409
    assert locations(store) == ["/compute/1", "/compute/2"]


def test_update_bumps_version_and_reindexes(store):
    record = insert_all(store, resource(1, mixins=[OS_TPL], state="inactive"))[0]
    record.attributes = {"state": "active", "cores": 4}
    record.mixins = [SMALL]
    with store.session() as session:
        updated = session.update(record, expected_version=1)
    assert updated.version == 2
    with store.session() as session:
        assert session.get("/compute/1") == updated
        assert session.list_locations(Query(attributes={"state": "inactive"})) == []
        assert session.list_locations(Query(attributes={"state": "active", "cores": 4})) == ["/compute/1"]
        assert session.list_locations(Query(mixin=OS_TPL)) == []
        assert session.list_locations(Query(mixin=SMALL)) == ["/compute/1"]


def test_lost_update_is_refused(store):
    insert_all(store, resource(1, value=0))
    with pytest.raises(StaleWrite) as caught:
        with store.session() as slow:
            mine = slow.get("/compute/1")
            with store.session() as fast:                # both read version 1...
                theirs = fast.get("/compute/1")
                theirs.attributes["value"] = "theirs"
                fast.update(theirs, expected_version=theirs.version)
            mine.attributes["value"] = "mine"            # ...the second writer loses
            slow.update(mine, expected_version=mine.version)
    message = str(caught.value)
    assert "/compute/1" in message and "version 2" in message and "version 1" in message
    assert caught.value.status == 409
    with store.session() as session:
        current = session.get("/compute/1")
    assert current.version == 2 and current.attributes == {"value": "theirs"}


def test_update_of_a_deleted_entity_is_stale(store):
    record = insert_all(store, resource(1))[0]
    with store.session() as session:
        session.delete("/compute/1")
    with pytest.raises(StaleWrite, match="deleted"), store.session() as session:
        session.update(record, expected_version=1)


def test_delete_cascades_to_outgoing_links_only(store):
    insert_all(store, resource(1, mixins=[OS_TPL], tag="x"), resource(2, kind=STORAGE),
               link(1, "/compute/1", "/storage/2"), link(2, "/compute/2", "/compute/1"))
    with store.session() as session:
        assert [r.location for r in session.links_from(["/compute/1", "/compute/2"])] == ["/link/1", "/link/2"]
        assert [r.location for r in session.links_to("/compute/1")] == ["/link/2"]
        assert session.delete("/compute/1") is True
        assert session.delete("/compute/1") is False
    assert locations(store) == ["/compute/2", "/link/2"]
    assert locations(store, mixin=OS_TPL) == [] and locations(store, attributes={"tag": "x"}) == []
    with store.session() as session:
        assert session.delete("/link/2") is True              # a link goes alone
    assert locations(store) == ["/compute/2"]


def test_links_from_many_sources(store):
    sources = [resource(n) for n in range(700)]
    links = [link(n, f"/compute/{n}", "/storage/x") for n in range(0, 700, 7)]
    insert_all(store, *sources, *links)
    with store.session() as session:
        found = session.links_from([f"/compute/{n}" for n in reversed(range(700))])
    assert [r.location for r in found] == [r.location for r in links]      # insertion order


def test_list_filters_and_pagination(store):
    insert_all(store,
               resource(1, mixins=[OS_TPL], owner="alice", size="s"),
               resource(2, owner="bob", size="m"),
               resource(3, kind=STORAGE, prefix="/storage/", mixins=[OS_TPL], owner="alice", size="s"),
               resource(4, mixins=[SMALL, OS_TPL], owner="alice", size="s"),
               resource(5, owner="alice", size="l"))
    assert locations(store, kinds=[COMPUTE]) == ["/compute/1", "/compute/2", "/compute/4", "/compute/5"]
    assert locations(store, kinds=[COMPUTE, STORAGE])[-1] == "/compute/5"
    assert locations(store, kinds=[]) == []
    assert locations(store, mixin=OS_TPL) == ["/compute/1", "/storage/3", "/compute/4"]
    assert locations(store, location_prefix="/storage/") == ["/storage/3"]
    assert locations(store, owner="alice", attributes={"size": "s"}) == ["/compute/1", "/storage/3", "/compute/4"]
    query = dict(owner="alice", kinds=[COMPUTE])
    assert locations(store, **query, limit=2) == ["/compute/1", "/compute/4"]
    assert locations(store, **query, offset=1, limit=1) == ["/compute/4"]
    assert locations(store, **query, offset=2) == ["/compute/5"]
    assert locations(store, **query, limit=0) == []
    with store.session() as session:
        assert session.count(Query(**query, offset=1, limit=1)) == 3          # the total, for paging
        assert session.count(Query()) == 5
        records = session.list(Query(mixin=SMALL))
    assert [r.mixins for r in records] == [[SMALL, OS_TPL]]


def test_location_prefix_escapes_wildcards(store):
    insert_all(store, resource(1, prefix="/a_b/"), resource(2, prefix="/axb/"),
               resource(3, prefix="/50%/"), resource(4, prefix="/50x/"))
    assert locations(store, location_prefix="/a_b/") == ["/a_b/1"]
    assert locations(store, location_prefix="/50%") == ["/50%/3"]
    assert locations(store, location_prefix="/") == ["/a_b/1", "/axb/2", "/50%/3", "/50x/4"]


def test_attribute_filters_tell_types_apart(store):
    insert_all(store, resource(1, v="2"), resource(2, v=2), resource(3, v=2.0), resource(4, v=2.5),
               resource(5, v=True), resource(6, v=1), resource(7, v="true"), resource(8, v=False),
               resource(9, v=0), resource(10, v=-3))
    assert locations(store, attributes={"v": "2"}) == ["/compute/1"]
    assert locations(store, attributes={"v": 2}) == ["/compute/2", "/compute/3"]
    assert locations(store, attributes={"v": 2.0}) == ["/compute/2", "/compute/3"]
    assert locations(store, attributes={"v": 2.5}) == ["/compute/4"]
    assert locations(store, attributes={"v": True}) == ["/compute/5"]
    assert locations(store, attributes={"v": 1}) == ["/compute/6"]
    assert locations(store, attributes={"v": "true"}) == ["/compute/7"]
    assert locations(store, attributes={"v": False}) == ["/compute/8"]
    assert locations(store, attributes={"v": 0}) == ["/compute/9"]
    assert locations(store, attributes={"v": -3.0}) == ["/compute/10"]
    assert locations(store, attributes={"absent": 2}) == []


def test_filters_on_values_the_index_does_not_hold(store):
    long_text = "x" * 300
    insert_all(store, resource(1, text=long_text, tags=["a", 2]), resource(2, text=long_text + "y"),
               resource(3, text=long_text, tags=["a", 2.0], conf={"k": [1]}), resource(4, tags=["a", "2"]))
    assert locations(store, attributes={"text": long_text}) == ["/compute/1", "/compute/3"]
    assert locations(store, attributes={"tags": ["a", 2]}) == ["/compute/1", "/compute/3"]
    assert locations(store, attributes={"conf": {"k": [1.0]}}) == ["/compute/3"]
    assert locations(store, attributes={"text": long_text}, offset=1, limit=5) == ["/compute/3"]
    with store.session() as session:
        assert session.count(Query(attributes={"text": long_text}, limit=1)) == 2
        assert [r.location for r in session.list(Query(attributes={"tags": ["a", "2"]}))] == ["/compute/4"]


def test_structural_attributes_filter_on_columns(store):
    insert_all(store, resource(1), resource(2), link(1, "/compute/1", "/storage/9"))
    assert locations(store, attributes={"occi.core.id": "urn:uuid:pute-2"}) == ["/compute/2"]
    assert locations(store, attributes={"occi.core.source": "/compute/1"}) == ["/link/1"]
    assert locations(store, attributes={"occi.core.target": "/storage/9"}) == ["/link/1"]


def test_an_exception_rolls_the_session_back(store):
    insert_all(store, resource(1))
    with pytest.raises(RuntimeError), store.session() as session:
        session.insert(resource(2, mixins=[OS_TPL], a=1))
        record = session.get("/compute/1")
        session.update(record, expected_version=1)
        session.delete("/compute/1")
        session.add_user_mixin(MixinRecord("http://example.org/tags#", "red", "/tags/red/"))
        raise RuntimeError("abort")
    with store.session() as session:
        assert session.get("/compute/1").version == 1
        assert session.get("/compute/2") is None
        assert session.list_locations(Query(attributes={"a": 1})) == []
        assert session.user_mixins() == [] and session.model_generation() == 0


def test_user_mixins(store):
    red = MixinRecord("http://example.org/tags#", "red", "/tags/red/", title="Red", depends=[OS_TPL],
                      applies=[COMPUTE], owner="alice")
    assert store.model_generation() == 0
    with store.session() as session:
        session.add_user_mixin(red)
        with pytest.raises(DuplicateEntity, match="http://example.org/tags#red"):
            session.add_user_mixin(MixinRecord("http://example.org/tags#", "red", "/elsewhere/"))
        with pytest.raises(DuplicateEntity, match="/tags/red/"):
            session.add_user_mixin(MixinRecord("http://example.org/other#", "red", "/tags/red/"))
        session.add_user_mixin(MixinRecord("http://example.org/tags#", "blue", "/tags/blue/"))
        assert session.user_mixins() == [MixinRecord("http://example.org/tags#", "blue", "/tags/blue/"), red]
    assert store.model_generation() == 2
    insert_all(store, resource(1, mixins=[OS_TPL, red.type_id, SMALL]), resource(2, mixins=[red.type_id]),
               resource(3))
    with store.session() as session:
        assert session.remove_user_mixin(red.type_id) is True
        assert session.remove_user_mixin(red.type_id) is False
        assert [m.term for m in session.user_mixins()] == ["blue"]
        first, second, third = session.get_many(["/compute/1", "/compute/2", "/compute/3"])
    assert (first.mixins, first.version) == ([OS_TPL, SMALL], 2)
    assert (second.mixins, second.version) == ([], 2) and third.version == 1
    assert locations(store, mixin=red.type_id) == [] and locations(store, mixin=SMALL) == ["/compute/1"]
    assert store.model_generation() == 3


def test_migrate_is_idempotent(store_url_factory):
    url = store_url_factory()
    first = open_store(url)
    try:
        insert_all(first, resource(1))
        first.migrate()
        first.migrate()
        second = SqlStore(url)
        try:
            second.migrate()
            assert locations(second) == ["/compute/1"]
            with second.session() as session:
                inspector = sa.inspect(session.connection)
                assert inspector.has_table("occi_alembic_version")      # ours, not alembic_version
                assert not inspector.has_table("alembic_version")
        finally:
            second.close()
    finally:
        first.close()


def test_stores_of_one_database_are_isolated(store_url_factory):
    """On PostgreSQL, two schemas of one database (one per component)."""
    stores = [open_store(store_url_factory()) for _ in range(2)]
    try:
        insert_all(stores[0], resource(1))
        with stores[1].session() as session:
            session.add_user_mixin(MixinRecord("http://example.org/tags#", "red", "/tags/red/"))
        assert locations(stores[0]) == ["/compute/1"] and locations(stores[1]) == []
        assert [store.model_generation() for store in stores] == [0, 1]
    finally:
        for store in stores:
            store.close()


def test_open_store_takes_a_plain_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = open_store("relative #1.db")
    try:
        insert_all(opened, resource(1))
    finally:
        opened.close()
    assert (tmp_path / "relative #1.db").exists()
    with pytest.raises(ValueError, match="PostgreSQL only"):
        SqlStore(f"sqlite:///{tmp_path / 'x.db'}", schema="elsewhere")


def test_concurrent_writers_lose_no_update(store):
    insert_all(store, resource(1, counter=0))
    per_thread, threads, stale = 25, 2, []
    failures: list[BaseException] = []

    def increment():
        try:
            for _ in range(per_thread):
                while True:
                    try:
                        with store.session() as session:
                            record = session.get("/compute/1")
                            record.attributes["counter"] += 1
                            session.update(record, expected_version=record.version)
                        break
                    except StaleWrite:
                        stale.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    workers = [threading.Thread(target=increment) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures
    with store.session() as session:
        final = session.get("/compute/1")
        assert session.list_locations(Query(attributes={"counter": per_thread * threads})) == ["/compute/1"]
    assert final.attributes["counter"] == per_thread * threads
    assert final.version == 1 + per_thread * threads


def test_filtered_listing_over_thousands_of_rows(store):
    total = 3000
    for start in range(0, total, 1000):
        insert_all(store, *(resource(n, kind=COMPUTE if n % 2 else STORAGE, group=n % 10, name=f"vm{n}")
                            for n in range(start, start + 1000)))
    expected = [f"/compute/{n}" for n in range(total) if n % 10 == 3]
    assert locations(store, attributes={"group": 3}) == expected
    with store.session() as session:
        records = session.list(Query(attributes={"group": 3.0}, kinds=[COMPUTE]))
        assert session.count(Query(attributes={"group": 3})) == total // 10
        assert session.list_locations(Query(attributes={"group": 3}, offset=100, limit=50)) == expected[100:150]
    assert [r.location for r in records] == expected
    assert all(r.attributes["group"] == 3 and r.attributes["name"] == f"vm{r.location.rsplit('/', 1)[1]}"
               for r in records)
