"""Fill a store fast, straight through the store API (no HTTP): many inserts per session."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from occi.model.infrastructure import COMPUTE
from occi.store import EntityRecord, open_store

__all__ = ["fill", "MATCH", "OWNER"]

MATCH = "match"
#: What ``--insecure-no-auth`` records as the owner of what it creates.
OWNER = "anonymous"


def fill(db_path: Path, total: int, matching: int, *, batch: int = 5000) -> dict:
    """``total`` compute resources, ``matching`` of them (spread evenly) with hostname "match".

    Returns the seconds taken and one matching location (for the single-entity GET).
    """
    if not 0 < matching <= total:
        raise ValueError("need 0 < matching <= total")
    every = total / matching
    targets = {int(i * every) for i in range(matching)}
    kind = COMPUTE.type_id
    started = time.perf_counter()
    store = open_store(db_path)
    sample = None
    try:
        for start in range(0, total, batch):
            with store.session() as session:
                for i in range(start, min(start + batch, total)):
                    ident = uuid.UUID(int=(0xBE7C << 112) | i, version=4)
                    hostname = MATCH if i in targets else f"host-{i}"
                    record = EntityRecord(location=f"/compute/{ident}", id=f"urn:uuid:{ident}", kind=kind,
                                          attributes={"occi.compute.hostname": hostname,
                                                      "occi.compute.state": "inactive"},
                                          owner=OWNER)
                    session.insert(record)
                    if sample is None and hostname == MATCH:
                        sample = record.location
    finally:
        store.close()
    return {"seconds": time.perf_counter() - started, "total": total, "matching": matching, "sample": sample}
