"""Engines for the SQL store: SQLite tuned for a server, PostgreSQL on psycopg 3."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

__all__ = ["sqlite_engine", "pg_engine"]


def sqlite_engine(url: URL, echo: bool) -> sa.Engine:
    """(Both engines hide bound values from errors and logs: attributes may hold secrets.)

    A file gets a thread-safe pool (SQLAlchemy's default for files); memory, one shared
    connection.

    WAL lets readers work during a write; synchronous=NORMAL makes a commit cheap (a power
    loss may lose the newest transactions, never corrupt); rarer checkpoints (10,000 pages)
    save fsyncs; the busy timeout queues writers instead of failing them; memory-mapped
    reads make large listings faster.
    """
    in_memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = ({"poolclass": sa.StaticPool, "connect_args": {"check_same_thread": False}}
                               if in_memory else {"pool_size": 8, "max_overflow": 24})
    engine = sa.create_engine(url, echo=echo, hide_parameters=True, **options)

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        for pragma in ("busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "wal_autocheckpoint=10000", "mmap_size=268435456", "cache_size=-32768"):
            cursor.execute("PRAGMA " + pragma)
        cursor.close()

    return engine


def pg_engine(url: URL, schema: str | None, echo: bool) -> sa.Engine:
    """psycopg 3 (a bare ``postgresql://`` would pick psycopg2); the schema is the
    connections' search_path, so that statements stay unqualified."""
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    connect_args = {"options": f"-csearch_path={schema}"} if schema is not None else {}
    return sa.create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)
