"""The providers this provisioning component may place nodes on, and their drivers.

Configured in ``DATA/providers.json`` (mode 0600; ``$ACCORDS_PROVIDERS`` names another
file), one entry per provider, in the order placement prefers them::

    {"local": {"driver": "local"},
     "moto": {"driver": "ec2", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:5000",
              "access_key": "...", "secret_key": "...", "image": "ami-...", "agent": false}}

``driver`` names a registered driver (:mod:`broker.providers.registry`); the other keys are
its options, except ``agent`` (false: the nodes run no agent that this component can
reach, so their instructions are skipped, not waited for) and ``image`` (the image used
when a node names none). Without a file, ``local`` is the only provider. A driver is made
on first use and kept.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from broker.providers import registry
from broker.providers.base import ProviderDriver

__all__ = ["Cloud", "Clouds", "ConfigurationError"]

_OWN_KEYS = ("driver", "agent", "image")


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class Cloud:
    name: str
    driver: str
    options: dict = field(default_factory=dict, repr=False)      # credentials: never shown
    agent: bool = True
    image: str | None = None


class Clouds:
    def __init__(self, clouds: list[Cloud], *, data: Path | None = None):
        if not clouds:
            raise ConfigurationError("no provider is configured")
        self._clouds = {cloud.name: cloud for cloud in clouds}
        self.data = data
        self._drivers: dict[str, ProviderDriver] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: dict, *, data: Path | None = None) -> "Clouds":
        clouds = []
        for name, entry in config.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("driver"), str):
                raise ConfigurationError(f"provider {name!r}: needs a \"driver\" (one of {', '.join(registry.names())})")
            if entry["driver"] not in registry.REGISTRY:
                raise ConfigurationError(f"provider {name!r}: unknown driver {entry['driver']!r} (known: "
                                         f"{', '.join(registry.names())})")
            clouds.append(Cloud(name=name, driver=entry["driver"], agent=entry.get("agent", True) is not False,
                                image=entry.get("image"),
                                options={k: v for k, v in entry.items() if k not in _OWN_KEYS}))
        return cls(clouds, data=data)

    @classmethod
    def from_settings(cls, data: Path | None) -> "Clouds":
        path = os.environ.get("ACCORDS_PROVIDERS") or (str(data / "providers.json") if data is not None else None)
        if path is None or not Path(path).exists():
            return cls([Cloud(name="local", driver="local")], data=data)
        try:
            config = json.loads(Path(path).read_text())
        except ValueError as exc:
            raise ConfigurationError(f"{path}: not JSON ({exc})") from None
        if not isinstance(config, dict):
            raise ConfigurationError(f"{path}: must hold an object of providers by name")
        return cls.from_config(config, data=data)

    def names(self) -> list[str]:
        return list(self._clouds)

    def get(self, name: str) -> Cloud | None:
        return self._clouds.get(name)

    def driver(self, name: str) -> ProviderDriver:
        with self._lock:
            driver = self._drivers.get(name)
            if driver is None:
                cloud = self._clouds[name]
                options = dict(cloud.options)
                if cloud.driver == "local":
                    options.setdefault("root", str((self.data or Path(".")) / "nodes"))
                driver = self._drivers[name] = registry.create_driver(cloud.driver, **options)
            return driver

    def close(self) -> None:
        with self._lock:
            for driver in self._drivers.values():
                driver.close()
            self._drivers.clear()
