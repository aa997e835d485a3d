"""Drift: what the provisioning component believes of a service's nodes against what their
providers report now.

For each contract, the driver's ``get(reference)`` (state, addresses, tags) is compared
with the contract's state; for each provider the contracts were placed on, the nodes tagged
with this installation's owner tag and the service's tag that no contract owns are
``extra``. Every provider call runs with a timeout on a small pool of its own: a provider
that fails or does not answer makes an ``unknown`` finding that says why, never an error
of the whole question. Nothing is changed anywhere: fixing drift is the reconciler's job
(or the user's, with start, stop and delete).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from broker.providers.base import CONTRACT_TAG, Instance, InstanceNotFound, ProviderError
from broker.provisioning.records import C
from broker.provisioning.reconciler import OWNER_TAG, SERVICE_TAG

__all__ = ["DriftCheck", "EXPECTED", "inspect"]

#: What the provider should report for a contract resting in a state: a node that runs, one
#: that is stopped, or none at all. Busy states (creating, starting, ...) make no claim: the
#: reconciler is changing the node right now.
EXPECTED = {"running": "running", "configuring": "running", "stopped": "stopped", "deleted": "absent"}
#: States in which a contract may have a node at its provider that it has not recorded yet
#: (created, not yet written) or is removing: its tagged nodes are not extra.
_IN_FLUX = frozenset({"pending", "creating", "deleting"})


@dataclass
class DriftCheck:
    """The answer: one entry per contract, the extra nodes, and every finding in ``drift``."""

    checked: float
    nodes: list[dict] = field(default_factory=list)
    extra: list[dict] = field(default_factory=list)
    unknown: list[dict] = field(default_factory=list)
    drift: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"checked": self.checked, "nodes": self.nodes, "extra": self.extra, "unknown": self.unknown,
                "drift": self.drift}


def _reported(instance: Instance) -> dict:
    out = {"state": instance.state, "addresses": list(instance.addresses), "tags": dict(instance.tags)}
    if instance.reason:
        out["reason"] = instance.reason
    return out


def _because(error: BaseException, *, provider: str, seconds: float) -> str:
    if isinstance(error, FutureTimeout):
        return f"provider {provider} did not answer within {seconds:g} s"
    if isinstance(error, ProviderError):
        return f"provider {provider} answered: {error.message}"
    return f"provider {provider} could not be asked ({error.__class__.__name__})"


def _verdict(believed: dict, found: Instance | None) -> tuple[str, str | None, str]:
    """(verdict, drift kind or None, message) for a contract and what its provider reported."""
    state, reference, hostname = believed["state"], believed["reference"], believed["hostname"]
    expected = EXPECTED.get(state)
    if not reference:
        return "ok", None, "no node exists yet" if state != "deleted" else "deleted"
    if expected is None and state == "failed":
        # A failed contract says why itself; drift is what it left behind, shown as reported.
        return "ok", None, f"failed; the provider reports {found.state if found is not None else 'no node'}"
    if expected is None:
        return "changing", None, f"the node is {state}: no claim until it rests"
    gone = found is None or found.state == "terminated"
    if expected == "absent":
        if gone:
            return "ok", None, "deleted at its provider too"
        return "drift", "leftover", f"the contract is deleted but node {reference} is {found.state} at its provider"
    if gone:
        return "drift", "missing", f"believed {state}, but node {reference} does not exist at its provider"
    if found.state != expected:
        why = f" ({found.reason})" if found.reason else ""
        return "drift", "state", f"believed {state}, the provider reports {found.state}{why}"
    if expected == "running" and hostname and hostname not in found.addresses:
        return "drift", "address", (f"believed at {hostname}, the provider reports "
                                    f"{', '.join(found.addresses) or 'no address'}")
    return "ok", None, f"{found.state} as believed"


def inspect(contracts: list, *, clouds, owner: str, service: str | None, timeout: float = 10.0,
            concurrency: int = 8) -> DriftCheck:
    """Compare ``contracts`` (EntityRecords of one service, or one contract) with their providers.

    ``service``: the service's URL, whose tag finds the extra nodes (None: only those tagged
    with the contracts themselves, for a question about one contract)."""
    check = DriftCheck(checked=time.time())
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="drift")
    try:
        deadline = time.monotonic() + timeout
        gets, lists = {}, {}
        for record in contracts:
            a = record.attributes
            provider, reference = a.get(C + "placed"), a.get(C + "reference")
            if provider and reference and clouds.get(provider) is not None:
                gets[record.location] = pool.submit(_get, clouds, provider, reference)
        involved = sorted({r.attributes.get(C + "placed") for r in contracts if r.attributes.get(C + "placed")})
        for provider in involved:
            if clouds.get(provider) is None:
                continue
            tags = {OWNER_TAG: owner}
            if service is not None:
                tags[SERVICE_TAG] = str(service)[-200:]
            else:
                tags[CONTRACT_TAG] = contracts[0].id
            lists[provider] = pool.submit(_list, clouds, provider, tags)

        def outcome(future):
            # One deadline for the whole question: a slow provider cannot make it last
            # ``timeout`` per call.
            try:
                return future.result(timeout=max(0.0, deadline - time.monotonic())), None
            except InstanceNotFound:
                return None, None
            except (ProviderError, FutureTimeout, OSError, RuntimeError) as exc:
                return None, exc

        known: set[tuple[str, str]] = set()
        owned = {r.id: r.attributes.get(C + "state") for r in contracts}
        for record in sorted(contracts, key=lambda r: r.attributes.get(C + "name") or ""):
            check.nodes.append(_node_entry(record, gets.get(record.location), outcome, clouds, timeout, check))
            a = record.attributes
            if a.get(C + "placed") and a.get(C + "reference"):
                known.add((a[C + "placed"], a[C + "reference"]))
        for provider in involved:
            if provider not in lists:
                _unknown(check, provider=provider, message=f"provider {provider} is no longer configured here")
                continue
            instances, error = outcome(lists[provider])
            if error is not None:
                _unknown(check, provider=provider, message=_because(error, provider=provider, seconds=timeout))
                continue
            for instance in instances or []:
                if (provider, instance.id) in known or instance.state == "terminated":
                    continue
                if owned.get(instance.contract) in _IN_FLUX:
                    continue            # being created or deleted right now: the reconciler owns it
                why = ("its contract is not one of this service's" if instance.contract not in owned
                       else "its contract records another node")
                entry = {"provider": provider, "reference": instance.id, "name": instance.name,
                         "state": instance.state, "contract": instance.contract, "message": why}
                check.extra.append(entry)
                check.drift.append({"kind": "extra", "node": None, "provider": provider, "reference": instance.id,
                                    "message": f"node {instance.id} on {provider} is tagged with this service "
                                               f"but {why}"})
    finally:
        # Threads stuck in a provider call finish (or time out in their driver) on their own.
        pool.shutdown(wait=False, cancel_futures=True)
    return check


def _get(clouds, provider: str, reference: str) -> Instance:
    return clouds.driver(provider).get(reference)


def _list(clouds, provider: str, tags: dict) -> list[Instance]:
    return clouds.driver(provider).list(tags=tags)


def _unknown(check: DriftCheck, **entry) -> None:
    check.unknown.append(entry)


def _node_entry(record, future, outcome, clouds, timeout: float, check: DriftCheck) -> dict:
    a = record.attributes
    believed = {"state": a.get(C + "state"), "reference": a.get(C + "reference"),
                "hostname": a.get(C + "hostname")}
    provider = a.get(C + "placed")
    entry = {"node": a.get(C + "name"), "contract": record.location, "provider": provider, "believed": believed,
             "reported": None}
    if future is None and believed["reference"] and provider and clouds.get(provider) is None:
        entry.update(verdict="unknown", message=f"unknown, because provider {provider} is no longer configured here")
        _unknown(check, node=entry["node"], provider=provider, message=entry["message"])
        return entry
    found, error = outcome(future) if future is not None else (None, None)
    if error is not None:
        entry.update(verdict="unknown", message="unknown, because " + _because(error, provider=provider,
                                                                              seconds=timeout))
        _unknown(check, node=entry["node"], provider=provider, message=entry["message"])
        return entry
    if found is not None:
        entry["reported"] = _reported(found)
    elif future is not None:
        entry["reported"] = {"state": "absent"}
    verdict, kind, message = _verdict(believed, found)
    entry.update(verdict=verdict, message=message)
    if kind is not None:
        check.drift.append({"kind": kind, "node": entry["node"], "provider": provider,
                            "reference": believed["reference"], "message": f"node {entry['node']}: {message}"})
    return entry
