"""What a contract asks of its provider: the node spec the reconciler creates, and the tags every
node carries (the contract's, this installation's, the service's)."""
from __future__ import annotations

from broker.provisioning.records import C
from broker.providers.base import NodeSpec
from cords.units import UnitError, parse_size

__all__ = ["node_spec", "OWNER_TAG", "SERVICE_TAG"]

#: Which installation created a node: the orphan sweep touches nothing else in a shared cloud account.
OWNER_TAG = "accords-owner"
SERVICE_TAG = "accords-service"


def _size(value, unit_bytes: int) -> int | None:
    try:
        return max(1, int(parse_size(value) // unit_bytes)) if value else None
    except (UnitError, ValueError, TypeError):
        return None


def node_spec(record, *, token: str, owner: str, image: str | None) -> NodeSpec:
    a = record.attributes
    node = a.get(C + "node") or {}
    infrastructure = node.get("infrastructure") or {}
    compute = infrastructure.get("compute") or {}
    storage = infrastructure.get("storage") or {}
    system = (node.get("image") or {}).get("system") or {}
    try:
        cores = int(compute.get("cores")) if compute.get("cores") else None
    except ValueError:
        cores = None
    return NodeSpec(name=f"{a.get(C + 'name')}-{record.id.rsplit(':', 1)[-1][:8]}", contract=record.id,
                    cores=cores, memory_mb=_size(compute.get("memory"), 1024 ** 2),
                    disk_gb=_size(storage.get("size"), 1024 ** 3), image=image or system.get("name"),
                    tags={OWNER_TAG: owner, SERVICE_TAG: str(a.get(C + "service") or "")[-200:]},
                    agent_token=token)
