"""Storage of OCCI entities: the interface (:mod:`occi.store.base`) and its SQL implementation."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL

from occi.store.base import DuplicateEntity, EntityRecord, MixinRecord, Query, StaleWrite, StoreClosed
from occi.store.sql import SqlStore

__all__ = ["EntityRecord", "MixinRecord", "Query", "StaleWrite", "DuplicateEntity", "StoreClosed", "SqlStore",
           "open_store"]


def open_store(url_or_path: str | os.PathLike) -> SqlStore:
    """A migrated store from a SQLAlchemy URL, or from a file path (an SQLite database).

    A path needs no URL quoting (it may contain ``?`` or ``#``), and a relative one is
    resolved now, so that the store does not depend on a later change of directory.
    """
    text = os.fspath(url_or_path)
    if "://" in text:
        store = SqlStore(text)
    elif text == ":memory:":
        store = SqlStore("sqlite://")
    else:
        store = SqlStore(URL.create("sqlite", database=str(Path(text).expanduser().resolve())))
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
