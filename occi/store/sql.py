"""The SQL store: OCCI entities in SQLite or PostgreSQL, on SQLAlchemy Core.

Why Core and not the ORM: a request costs a few single-row statements or one listing of
thousands of rows, and an identity map and unit of work would cost more than the
database does. Statements are built once, so the compiled cache serves every call.

Layout (the DDL is in the Alembic migrations, ``occi/store/migrations``):

* ``occi_entity``: a row per resource or link. ``seq`` (autoincrement) is the stable
  insertion order; ``attributes`` is JSON text (values round-trip exactly, ints stay
  ints) and ``mixins`` the space-separated type ids, so that a listing is one query
  without joins.
* ``occi_entity_mixin``: the mixin associations again, a row each, to filter on.
* ``occi_attribute_index``: a row per scalar attribute, its value encoded with its type
  (:func:`index_value`), so that exact-match filters use an index.
* ``occi_user_mixin``, and ``occi_meta`` for the model generation.

Writes are optimistic: a row carries a ``version``, and an update applies only to the
version its writer read, otherwise :class:`StaleWrite`.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url

from occi.store.base import DuplicateEntity, EntityRecord, MixinRecord, Query, StaleWrite, StoreClosed
from occi.store.engines import pg_engine, sqlite_engine
from occi.store.values import canonical as _canonical
from occi.store.values import dump as _dump
from occi.store.values import index_value
from occi.store.values import load as _load

__all__ = ["SqlStore", "SqlSession", "index_value", "MIGRATIONS_DIR", "VERSION_TABLE"]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Our own Alembic version table, so that other packages can migrate the same database.
VERSION_TABLE = "occi_alembic_version"
GENERATION_KEY = "model_generation"
_CHUNK = 500    # bound parameters per IN list, well under every driver's limit
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")   # SQLite: the rowid itself
_meta = sa.MetaData()
entity = sa.Table("occi_entity", _meta, sa.Column("seq", _SEQ, primary_key=True),
                  *(sa.Column(name, sa.Text) for name in (
                      "location", "id", "kind", "owner", "source", "target", "source_kind",
                      "target_kind", "mixins", "attributes")),
                  sa.Column("version", sa.Integer), sa.Column("updated_at", sa.DateTime(timezone=True)))
entity_mixin = sa.Table("occi_entity_mixin", _meta, sa.Column("entity_seq", _SEQ),
                        sa.Column("mixin", sa.Text), sa.Column("position", sa.Integer))
attribute_index = sa.Table("occi_attribute_index", _meta, sa.Column("entity_seq", _SEQ),
                           sa.Column("name", sa.Text), sa.Column("value", sa.Text))
user_mixin = sa.Table("occi_user_mixin", _meta, *(sa.Column(name, sa.Text) for name in (
    "type_id", "scheme", "term", "location", "title", "depends", "applies", "owner")))
meta = sa.Table("occi_meta", _meta, sa.Column("key", sa.Text), sa.Column("value", sa.Text))

_E, _M, _A, _U = entity.c, entity_mixin.c, attribute_index.c, user_mixin.c
_RECORD_COLUMNS = (_E.seq, _E.location, _E.id, _E.kind, _E.mixins, _E.attributes, _E.source,
                   _E.target, _E.source_kind, _E.target_kind, _E.owner, _E.version)
_SELECT_RECORDS = sa.select(*_RECORD_COLUMNS)
_GET = _SELECT_RECORDS.where(_E.location == sa.bindparam("location"))
_GET_BY_ID = _SELECT_RECORDS.where(_E.id == sa.bindparam("id"))
_VERSION = sa.select(_E.version).where(_E.location == sa.bindparam("location"))
_CLASH = sa.select(_E.location, _E.id).where(
    sa.or_(_E.location == sa.bindparam("location"), _E.id == sa.bindparam("id")))
_DELETE = entity.delete().where(_E.location == sa.bindparam("location")).returning(_E.source)
_DELETE_LINKS_FROM = entity.delete().where(_E.source == sa.bindparam("location"))
_GENERATION = sa.select(meta.c.value).where(meta.c.key == GENERATION_KEY)
_BUMP_GENERATION = (meta.update().where(meta.c.key == GENERATION_KEY)
                    .values(value=sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.Text)))
_WRITABLE = ("kind", "owner", "source", "target", "source_kind", "target_kind", "mixins", "attributes")
#: Query "attributes" that are columns of a record rather than attributes.
_STRUCTURAL = {"occi.core.id": _E.id, "occi.core.source": _E.source, "occi.core.target": _E.target}


def _join_mixins(mixins: list[str]) -> str:
    """Type ids are URIs with a term: no whitespace, hence space-separated (cheap to split)."""
    joined = " ".join(mixins)
    if len(joined.split()) != len(mixins):
        raise ValueError(f"mixin type ids may not be empty or contain whitespace: {mixins!r}")
    return joined


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _record(row: Sequence[Any]) -> EntityRecord:
    """A record from a row of ``_RECORD_COLUMNS`` (the hot loop of every listing)."""
    return EntityRecord(row[1], row[2], row[3], row[4].split(), _load(row[5]),
                        row[6], row[7], row[8], row[9], row[10], row[11])


def _criteria(query: Query) -> tuple[list[Any], dict[str, Any]]:
    """SQL conditions for ``query``, and the attribute criteria the index cannot answer."""
    where: list[Any] = []
    if query.kinds is not None:
        where.append(_E.kind.in_(list(query.kinds)))
    if query.mixin is not None:
        where.append(_E.seq.in_(sa.select(_M.entity_seq).where(_M.mixin == query.mixin)))
    if query.location_prefix:
        where.append(_E.location.startswith(query.location_prefix, autoescape=True))
    if query.owner is not None:
        where.append(_E.owner == query.owner)
    leftovers: dict[str, Any] = {}
    for name, value in (query.attributes or {}).items():
        column, encoded = _STRUCTURAL.get(name), index_value(value)
        if column is not None:
            where.append(column == value if isinstance(value, str) else sa.false())
        elif encoded is None:
            leftovers[name] = value
        else:
            where.append(_E.seq.in_(sa.select(_A.entity_seq).where(_A.name == name, _A.value == encoded)))
    return where, leftovers


class _Raw:
    """A statement compiled once for one dialect and run on the DBAPI cursor.

    The hot statements (writes, single-entity reads) skip SQLAlchemy's per-execution
    bookkeeping this way, most of their cost (they do not show in ``echo`` output);
    everything else goes through Core.
    """

    def __init__(self, statement, dialect: sa.Dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup) if compiled.positiontup else None

    def params(self, values: dict[str, Any]):
        return values if self.names is None else tuple(values[name] for name in self.names)


def _compile_writes(dialect: sa.Dialect) -> dict[str, _Raw]:
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    binds = lambda *names: {name: sa.bindparam(name) for name in names}   # noqa: E731
    statements = {
        # ON CONFLICT DO NOTHING: a duplicate is reported, it does not abort the transaction.
        "insert": insert(entity).on_conflict_do_nothing().values(
            binds("location", "id", "version", *_WRITABLE)).returning(_E.seq),
        "update": entity.update().where(_E.location == sa.bindparam("b_location"),
                                        _E.version == sa.bindparam("b_expected"))
        .values({**binds(*_WRITABLE), "version": _E.version + sa.literal_column("1"),
                 "updated_at": sa.func.now()}).returning(_E.seq),
        "insert_mixins": entity_mixin.insert().values(binds("entity_seq", "mixin", "position")),
        "insert_index": attribute_index.insert().values(binds("entity_seq", "name", "value")),
        "delete_mixins": entity_mixin.delete().where(_M.entity_seq == sa.bindparam("seq")),
        "delete_index": attribute_index.delete().where(_A.entity_seq == sa.bindparam("seq")),
        "insert_user_mixin": insert(user_mixin).on_conflict_do_nothing().values(
            binds("type_id", "scheme", "term", "location", "title", "depends", "applies", "owner")),
        # The hot reads: one entity, and the links of one resource (every entity GET).
        "get": _GET,
        "get_by_id": _GET_BY_ID,
        "links_from_one": _SELECT_RECORDS.where(_E.source == sa.bindparam("source")).order_by(_E.seq),
        "with_links": _SELECT_RECORDS.where(sa.or_(_E.location == sa.bindparam("location"),
                                                   _E.source == sa.bindparam("source"))).order_by(_E.seq),
    }
    return {key: _Raw(statement, dialect) for key, statement in statements.items()}


class SqlSession:
    """One database transaction; see :class:`occi.store.base.StoreSession`."""

    def __init__(self, connection: Connection, writes: dict[str, _Raw]):
        self.connection = connection
        self._writes = writes
        self._cursor = None
        self.committed: list = []

    def after_commit(self, callback) -> None:
        """Call ``callback()`` once this transaction has committed (never if it rolls back): a
        worker woken by it then finds what the transaction wrote."""
        self.committed.append(callback)

    def _run(self, key: str, values: dict[str, Any] | list[dict[str, Any]]):
        """Run a precompiled statement (``executemany`` for a list of rows); returns the cursor."""
        if self._cursor is None:
            self._cursor = self.connection.connection.cursor()
        statement = self._writes[key]
        dbapi_error = self.connection.dialect.loaded_dbapi.Error
        try:
            if isinstance(values, list):
                self._cursor.executemany(statement.sql, [statement.params(row) for row in values])
            else:
                self._cursor.execute(statement.sql, statement.params(values))
        except dbapi_error as exc:      # the exception Core would raise, values hidden
            raise sa.exc.DBAPIError.instance(statement.sql, None, exc, dbapi_error,
                                             hide_parameters=True) from exc
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()

    # -- reading ---------------------------------------------------------------------
    def get(self, location: str) -> EntityRecord | None:
        row = self._run("get", {"location": location}).fetchone()
        return _record(row) if row is not None else None

    def get_with_links(self, location: str) -> tuple[EntityRecord | None, list[EntityRecord]]:
        """An entity and the links it is the source of, in one query (every entity GET)."""
        found, links = None, []
        for row in self._run("with_links", {"location": location, "source": location}).fetchall():
            record = _record(row)
            if record.location == location:
                found = record
            else:
                links.append(record)
        return found, (links if found is not None else [])

    def get_by_id(self, entity_id: str) -> EntityRecord | None:
        row = self._run("get_by_id", {"id": entity_id}).fetchone()
        return _record(row) if row is not None else None

    def get_many(self, locations: Sequence[str]) -> list[EntityRecord]:
        """The records found, in the order asked (each once); missing ones are left out."""
        wanted = _unique(locations)
        found = {record.location: record for record in self._records_where(_E.location, wanted)}
        return [found[location] for location in wanted if location in found]

    def list(self, query: Query) -> list[EntityRecord]:
        return [_record(row) for row in self._matching(query, _RECORD_COLUMNS)]

    def list_locations(self, query: Query) -> list[str]:
        return [row[0] for row in self._matching(query, (_E.location,))]

    def count(self, query: Query) -> int:
        """How many entities match, ignoring ``offset`` and ``limit`` (the total for paging)."""
        where, leftovers = _criteria(query)
        if leftovers:
            return len(self._matching(replace(query, offset=0, limit=None), (_E.seq,)))
        return self.connection.execute(sa.select(sa.func.count()).select_from(entity).where(*where)).scalar_one()

    def links_from(self, sources: Sequence[str]) -> list[EntityRecord]:
        if len(sources) == 1:
            return [_record(row) for row in self._run("links_from_one", {"source": sources[0]}).fetchall()]
        return self._records_where(_E.source, _unique(sources))

    def links_to(self, target: str) -> list[EntityRecord]:
        return self._records_where(_E.target, [target])

    def _records_where(self, column, values: list[str]) -> list[EntityRecord]:
        rows = []
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            rows.extend(self.connection.execute(_SELECT_RECORDS.where(column.in_(chunk)).order_by(_E.seq)))
        if len(values) > _CHUNK:
            rows.sort(key=lambda row: row[0])
        return [_record(row) for row in rows]

    def _matching(self, query: Query, columns: Sequence[Any]) -> list[Any]:
        """Rows for ``query`` in insertion order; the criteria the index cannot answer
        (lists, objects, long strings) are checked here, on the decoded attributes."""
        where, leftovers = _criteria(query)
        statement = sa.select(*columns).where(*where).order_by(_E.seq)
        offset = max(query.offset or 0, 0)
        if not leftovers:
            if offset:
                statement = statement.offset(offset)
            if query.limit is not None:
                statement = statement.limit(max(query.limit, 0))
            return self.connection.execute(statement).all()
        wanted = {name: _canonical(value) for name, value in leftovers.items()}
        rows = []
        for row in self.connection.execute(statement.add_columns(_E.attributes)):
            attributes = _load(row[-1])
            if all(name in attributes and _canonical(attributes[name]) == value
                   for name, value in wanted.items()):
                rows.append(row)
        return rows[offset:None if query.limit is None else offset + max(query.limit, 0)]

    # -- writing ---------------------------------------------------------------------
    def insert(self, record: EntityRecord) -> EntityRecord:
        """Store a new entity at version 1; DuplicateEntity if its location or id is taken."""
        mixins = _unique(record.mixins)
        values = {**self._columns(record, mixins), "location": record.location, "id": record.id, "version": 1}
        row = self._run("insert", values).fetchone()
        if row is None:
            self._raise_duplicate(record)
        self._write_children(row[0], mixins, record.attributes, replacing=False)
        return replace(record, mixins=mixins, attributes=dict(record.attributes), version=1)

    def update(self, record: EntityRecord, *, expected_version: int) -> EntityRecord:
        """Overwrite the entity if it is still at ``expected_version``, else StaleWrite.

        Location and id are the identity of a record: they never change.
        """
        mixins = _unique(record.mixins)
        values = {**self._columns(record, mixins), "b_location": record.location, "b_expected": expected_version}
        row = self._run("update", values).fetchone()
        if row is None:
            current = self.connection.execute(_VERSION, {"location": record.location}).scalar()
            if current is None:
                raise StaleWrite(f"{record.location} was deleted after version {expected_version} was read")
            raise StaleWrite(f"{record.location} is at version {current}, not at version {expected_version} "
                             "as read: it changed meanwhile; read it again and retry")
        self._write_children(row[0], mixins, record.attributes, replacing=True)
        return replace(record, mixins=mixins, attributes=dict(record.attributes), version=expected_version + 1)

    def delete(self, location: str) -> bool:
        """Delete the entity and, for a resource, the links of which it is the source."""
        row = self.connection.execute(_DELETE, {"location": location}).first()
        if row is None:
            return False
        if row[0] is None:          # no source: a resource
            self.connection.execute(_DELETE_LINKS_FROM, {"location": location})
        return True

    @staticmethod
    def _columns(record: EntityRecord, mixins: list[str]) -> dict[str, Any]:
        return {"kind": record.kind, "owner": record.owner, "source": record.source,
                "target": record.target, "source_kind": record.source_kind,
                "target_kind": record.target_kind, "mixins": _join_mixins(mixins),
                "attributes": _dump(record.attributes)}

    def _write_children(self, seq: int, mixins: list[str], attributes: dict[str, Any], *, replacing: bool):
        if replacing:
            self._run("delete_mixins", {"seq": seq})
            self._run("delete_index", {"seq": seq})
        if mixins:
            self._run("insert_mixins", [{"entity_seq": seq, "mixin": mixin, "position": position}
                                        for position, mixin in enumerate(mixins)])
        index = [{"entity_seq": seq, "name": name, "value": encoded}
                 for name, value in attributes.items() if (encoded := index_value(value)) is not None]
        if index:
            self._run("insert_index", index)

    def _raise_duplicate(self, record: EntityRecord):
        clash = self.connection.execute(_CLASH, {"location": record.location, "id": record.id}).first()
        if clash is not None and clash.location == record.location:
            raise DuplicateEntity(f"an entity already exists at {record.location}")
        if clash is not None:
            raise DuplicateEntity(f"an entity with id {record.id} already exists (at {clash.location})")
        raise DuplicateEntity(f"{record.location} ({record.id}) clashes with an entity written meanwhile")

    # -- user mixins and the model generation -------------------------------------------
    def user_mixins(self) -> list[MixinRecord]:
        return [MixinRecord(scheme=r.scheme, term=r.term, location=r.location, title=r.title or "",
                            depends=json.loads(r.depends), applies=json.loads(r.applies), owner=r.owner)
                for r in self.connection.execute(sa.select(user_mixin).order_by(_U.type_id))]

    def add_user_mixin(self, mixin: MixinRecord) -> None:
        """Record a user mixin; DuplicateEntity if its type id or its location is taken."""
        for clash in self.connection.execute(sa.select(_U.type_id, _U.location).where(
                sa.or_(_U.type_id == mixin.type_id, _U.location == mixin.location))):
            if clash.type_id == mixin.type_id:
                raise DuplicateEntity(f"the mixin {mixin.type_id} already exists")
            raise DuplicateEntity(f"the location {mixin.location} is already that of the mixin {clash.type_id}")
        inserted = self._run("insert_user_mixin", {
            "type_id": mixin.type_id, "scheme": mixin.scheme, "term": mixin.term,
            "location": mixin.location, "title": mixin.title, "depends": _dump(list(mixin.depends)),
            "applies": _dump(list(mixin.applies)), "owner": mixin.owner})
        if inserted.rowcount == 0:
            raise DuplicateEntity(f"the mixin {mixin.type_id} or the location {mixin.location} was taken meanwhile")
        self._bump_generation()

    def remove_user_mixin(self, type_id: str) -> bool:
        """Delete a user mixin and its every association (a write to each entity concerned)."""
        if self.connection.execute(user_mixin.delete().where(_U.type_id == type_id)).rowcount == 0:
            return False
        tagged = sa.select(_M.entity_seq).where(_M.mixin == type_id)
        changes = [{"b_seq": seq, "mixins": " ".join(m for m in mixins.split() if m != type_id)}
                   for seq, mixins in self.connection.execute(sa.select(_E.seq, _E.mixins).where(_E.seq.in_(tagged)))]
        if changes:
            self.connection.execute(entity.update().where(_E.seq == sa.bindparam("b_seq")).values(
                mixins=sa.bindparam("mixins"), version=_E.version + 1, updated_at=sa.func.now()), changes)
        self.connection.execute(entity_mixin.delete().where(_M.mixin == type_id))
        self._bump_generation()
        return True

    def model_generation(self) -> int:
        value = self.connection.execute(_GENERATION).scalar()
        return int(value) if value is not None else 0

    def _bump_generation(self):
        # One atomic UPDATE: concurrent bumps queue on the row instead of losing one.
        if self.connection.execute(_BUMP_GENERATION).rowcount == 0:
            self.connection.execute(meta.insert(), {"key": GENERATION_KEY, "value": "1"})


@lru_cache(maxsize=1)
def _script_heads() -> frozenset[str]:
    """The head revisions of our migrations (reading the scripts is Alembic's slow part)."""
    from alembic.script import ScriptDirectory
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


class SqlStore:
    """A :class:`occi.store.base.Store` on SQLite (``sqlite:///file.db``) or PostgreSQL
    (``postgresql+psycopg://...``). ``schema`` (PostgreSQL only; also accepted as the URL
    query parameter ``?schema=``) puts the tables in a schema of their own, so that several
    components can share one database."""

    def __init__(self, url: str | URL, *, schema: str | None = None, echo: bool = False):
        parsed = make_url(url)
        if "schema" in parsed.query:
            url_schema = str(parsed.query["schema"])
            if schema is not None and schema != url_schema:
                raise ValueError(f"schema {schema!r} contradicts the URL's schema {url_schema!r}")
            schema, parsed = url_schema, parsed.difference_update_query(["schema"])
        self.backend = parsed.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self.backend!r}: use sqlite or postgresql")
        if schema is not None and (self.backend != "postgresql" or not _SCHEMA_NAME.match(schema)):
            raise ValueError(f"schema {schema!r}: must be a lower-case SQL name, on PostgreSQL only")
        self.schema, self.url = schema, parsed
        self._engine = sqlite_engine(parsed, echo) if self.backend == "sqlite" else pg_engine(parsed, schema, echo)
        self._writes = _compile_writes(self._engine.dialect)
        self._local = threading.local()
        self._closed = False

    def __repr__(self):
        schema = f" schema={self.schema}" if self.schema else ""
        return f"<SqlStore {self.url.render_as_string(hide_password=True)}{schema}>"

    def migrate(self) -> None:
        """Bring the tables to the newest revision (one SELECT when they are there already).

        Concurrent callers (worker processes starting together) queue on a lock: SQLite's
        write lock, or a PostgreSQL advisory lock held until the migration commits.
        """
        from alembic import command
        from alembic.config import Config

        heads = _script_heads()
        with self._engine.connect() as conn:
            current = self._current_heads(conn)
            conn.rollback()
            if current == heads:
                return
            if self.backend == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": f"occi-store-migrate:{self.schema or ''}"})
            if self._current_heads(conn) != heads:
                log.info("migrating %r to %s", self, ", ".join(sorted(heads)))
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
                config.attributes.update(connection=conn, schema=self.schema, version_table=VERSION_TABLE)
                command.upgrade(config, "head")
            conn.commit()

    def _current_heads(self, conn: Connection) -> frozenset[str]:
        from alembic.runtime.migration import MigrationContext
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "version_table_schema": self.schema})
        return frozenset(context.get_current_heads())

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[SqlSession]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Each thread keeps its connection between sessions: checking one out of the pool
        and back costs more than a small transaction does. ``readonly`` promises no writes:
        on SQLite the reads then run without transaction bookkeeping (each sees the newest
        committed state), which is most of the cost of a single-entity GET.
        """
        conn = getattr(self._local, "connection", None)
        temporary = False
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.connection = self._engine.connect()
        elif conn.in_transaction():          # a session inside a session: a transaction of its own
            conn, temporary = self._engine.connect(), True
        session = SqlSession(conn, self._writes)
        try:
            if readonly and self.backend == "sqlite" and not temporary:
                try:
                    yield session
                finally:
                    if conn.in_transaction():        # a Core read autobegins: end it
                        conn.rollback()
            else:
                with conn.begin():
                    yield session
        finally:
            session.close()
            if temporary:
                conn.close()
        for callback in session.committed:      # reached only when the block committed
            try:
                callback()
            except Exception:                    # noqa: BLE001 - the commit stands whatever a callback does
                log.exception("after-commit callback %r failed", callback)

    def model_generation(self) -> int:
        with self.session(readonly=True) as session:
            return session.model_generation()

    def ping(self) -> None:
        """Read the model generation (one row of ``occi_meta``): the database answers and holds
        our tables. Raises :class:`StoreClosed` after :meth:`close`, else the driver's error."""
        if self._closed:
            raise StoreClosed(f"{self!r} is closed")
        with self.session(readonly=True) as session:
            session.model_generation()

    def close(self) -> None:
        self._closed = True
        conn = getattr(self._local, "connection", None)
        if conn is not None:
            conn.close()
        self._engine.dispose()
