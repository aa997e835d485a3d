"""Provider drivers: one module per cloud behind :class:`~broker.providers.base.ProviderDriver`,
loaded lazily by name (:mod:`broker.providers.registry`)."""
from broker.providers.base import (Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.registry import create_driver, driver_class, names

__all__ = ["Instance", "InstanceNotFound", "NodeSpec", "ProviderDriver", "ProviderError", "ProviderRefused",
           "ProviderUnavailable", "Size", "create_driver", "driver_class", "names"]
