"""Drivers by name, imported only when asked for (``accords serve provisioning`` with the
local provider never imports boto3 or openstacksdk)."""
from __future__ import annotations

import importlib

from broker.providers.base import ProviderDriver

__all__ = ["REGISTRY", "names", "driver_class", "create_driver", "UnknownProvider"]

#: name -> "module:Class"
REGISTRY: dict[str, str] = {
    "local": "broker.providers.local:LocalDriver",
    "ec2": "broker.providers.ec2:Ec2Driver",
    "openstack": "broker.providers.openstack:OpenStackDriver",
    "opennebula": "broker.providers.opennebula:OpenNebulaDriver",
    "libcloud": "broker.providers.libcloud_compute:LibcloudDriver",
    "occi": "broker.providers.occi:OcciDriver",
}


class UnknownProvider(LookupError):
    pass


def names() -> list[str]:
    return sorted(REGISTRY)


def driver_class(name: str) -> type[ProviderDriver]:
    target = REGISTRY.get(name)
    if target is None:
        raise UnknownProvider(f"unknown provider driver {name!r}; known: {', '.join(names())}")
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def create_driver(name: str, **config) -> ProviderDriver:
    """A driver instance configured with ``config`` (credentials, endpoint, region ...)."""
    return driver_class(name)(**config)
