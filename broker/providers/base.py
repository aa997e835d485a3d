"""The one small interface every provider driver implements, and what it exchanges.

A driver knows one cloud (or this machine) and nothing of contracts, plans or OCCI: the
provisioning component asks it to create a node from a :class:`NodeSpec`, and later to find,
start, stop or delete it by id. Every node a driver creates carries the tags of its spec
(``accords-contract`` at least), so that after a crash the provisioning component can list
what exists and reconcile it with what it believes (orphans deleted, interrupted creations
finished or undone).

Errors form one tree: :class:`ProviderUnavailable` is transient (timeouts, 5xx, throttling:
retry with backoff), :class:`ProviderRefused` is permanent for that request (bad image,
quota exceeded, bad credentials: report, do not retry), :class:`InstanceNotFound` names a
node that does not exist (any more).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NodeSpec", "Instance", "Size", "ProviderDriver", "ProviderError", "ProviderUnavailable",
           "ProviderRefused", "InstanceNotFound", "CONTRACT_TAG", "STATES"]

#: The tag naming the contract a node was created for (every node a driver creates has it).
CONTRACT_TAG = "accords-contract"
#: What a node can be: being created, running, stopped, gone, or broken (``reason`` says why).
STATES = ("pending", "running", "stopped", "terminated", "error")


class ProviderError(Exception):
    """A provider failed a request; ``provider`` and ``instance`` say where when known."""

    transient = False

    def __init__(self, message: str, *, provider: str | None = None, instance: str | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.instance = instance


class ProviderUnavailable(ProviderError):
    """Worth retrying later: the provider did not answer, or answered that it is busy."""

    transient = True


class ProviderRefused(ProviderError):
    """The provider will not do this as asked (image, size, quota, credentials)."""


class InstanceNotFound(ProviderError):
    """No node with that id (any more)."""


@dataclass(frozen=True)
class NodeSpec:
    """What to create: sizes in the provider-neutral units the plan normalises to."""

    name: str
    contract: str
    cores: int | None = None
    memory_mb: int | None = None
    disk_gb: int | None = None
    image: str | None = None
    zone: str | None = None
    #: Extra tags; CONTRACT_TAG is always added from ``contract``.
    tags: dict[str, str] = field(default_factory=dict)
    #: The token the node agent accepts (given to the agent at boot: user data, or a file).
    agent_token: str | None = None

    def all_tags(self) -> dict[str, str]:
        return {**self.tags, CONTRACT_TAG: self.contract}


@dataclass
class Instance:
    id: str
    name: str
    state: str
    addresses: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    #: Where the node agent answers, once known.
    agent_url: str | None = None
    #: Why the node is in the error state.
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def contract(self) -> str | None:
        return self.tags.get(CONTRACT_TAG)

    def as_dict(self) -> dict:
        out = {"id": self.id, "name": self.name, "state": self.state, "addresses": list(self.addresses),
               "tags": dict(self.tags), "agent_url": self.agent_url}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Size:
    name: str
    cores: int
    memory_mb: int
    disk_gb: int
    #: Price per hour in ``currency``, when the provider says.
    price: float | None = None
    currency: str | None = None


class ProviderDriver(abc.ABC):
    """One cloud. Implementations live in one module each and are registered by name."""

    #: The registry name (``local``, ``ec2``, ``openstack`` ...).
    name: str = ""
    #: What the driver can do beyond create/get/list/delete: start, stop, reboot, snapshot, tags.
    capabilities: frozenset[str] = frozenset()

    @abc.abstractmethod
    def create(self, spec: NodeSpec) -> Instance:
        """Create and boot a node; returns once it runs (or raises, leaving nothing behind)."""

    @abc.abstractmethod
    def get(self, instance_id: str) -> Instance:
        """The node as the provider reports it now; InstanceNotFound when it does not exist."""

    @abc.abstractmethod
    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        """The nodes this driver created (carrying every tag of ``tags``)."""

    @abc.abstractmethod
    def delete(self, instance_id: str) -> bool:
        """Delete a node and what belongs to it; False when there was nothing to delete."""

    def start(self, instance_id: str) -> Instance:
        raise ProviderRefused(f"{self.name} cannot start nodes", provider=self.name, instance=instance_id)

    def stop(self, instance_id: str) -> Instance:
        raise ProviderRefused(f"{self.name} cannot stop nodes", provider=self.name, instance=instance_id)

    def reboot(self, instance_id: str) -> Instance:
        self.stop(instance_id)
        return self.start(instance_id)

    def snapshot(self, instance_id: str, *, name: str) -> str:
        raise ProviderRefused(f"{self.name} cannot snapshot nodes", provider=self.name, instance=instance_id)

    def sizes(self) -> list[Size]:
        return []

    def images(self) -> list[str]:
        return []

    def zones(self) -> list[str]:
        return []

    def close(self) -> None:
        """Release connections; the driver is not used afterwards."""
