"""The providers this provisioning component may place nodes on, and their drivers.

Two sources, in the order placement prefers them:

1. ``DATA/providers.json`` (mode 0600; ``$ACCORDS_PROVIDERS`` names another file), read once at
   start, one entry per provider::

       {"local": {"driver": "local"},
        "moto": {"driver": "ec2", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:5000",
                 "access_key": "...", "secret_key": "...", "image": "ami-...", "agent": false}}

   ``driver`` names a registered driver (:mod:`broker.providers.registry`); the other keys are
   its options, except ``agent`` (false: the nodes run no agent that this component can reach,
   so their instructions are skipped, not waited for) and ``image`` (the image used when a
   node names none).
2. The ``provider`` records of the component's store (:mod:`broker.provisioning.provider_model`,
   ``accords providers add``), by name; their credentials are sealed
   (:mod:`broker.provisioning.secrets`) and opened only to make a driver. A name the file
   holds is the file's.

Without either, ``local`` is the only provider (and it stays, last, while no file exists,
so that nodes already placed on it can still be reached). Records are read again when a
name is asked for that is not known and whenever the names are listed (placement), and
otherwise at most every ``refresh_interval`` seconds: a provider added, changed or removed through any worker is seen by every worker's
reconciler without a restart. A driver is made on first use and kept while its record's
version stays the same. A record that cannot make a driver (credentials sealed under
another key, options the driver refuses) does not stop anything: its driver is a stand-in
whose every call is refused with the reason, so the contracts placed there fail saying why.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from broker.providers import registry
from broker.providers.base import ProviderDriver, ProviderError, ProviderRefused
from broker.providers.redaction import REDACTOR, guard_loggers, register_credentials
from broker.provisioning.provider_model import P, PROVIDER
from broker.provisioning.secrets import SecretBox, SecretsError
from occi.store.base import Query

__all__ = ["Cloud", "Clouds", "ConfigurationError", "UnusableDriver", "cloud_from_attributes", "DEFAULT_CLOUD"]

log = logging.getLogger("accords.provisioning")

_OWN_KEYS = ("driver", "agent", "image")


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class Cloud:
    name: str
    driver: str
    options: dict = field(default_factory=dict, repr=False)      # a file's credentials: never shown
    agent: bool = True
    image: str | None = None
    #: ``file`` (providers.json), ``api`` (a record), ``default`` (local, when nothing is configured).
    source: str = "file"
    #: A record's credentials, sealed; opened only to make a driver.
    sealed: dict | None = field(default=None, repr=False)
    #: The record's version: a new one makes a new driver.
    version: int = 0


DEFAULT_CLOUD = Cloud(name="local", driver="local", source="default")


def cloud_from_attributes(attributes: dict, *, version: int = 0) -> Cloud:
    """The cloud a ``provider`` record describes (its credentials still sealed)."""
    options = attributes.get(P + "options")
    return Cloud(name=attributes[P + "name"], driver=str(attributes.get(P + "driver")),
                 options=dict(options) if isinstance(options, dict) else {}, agent=attributes.get(P + "agent") is not False,
                 image=attributes.get(P + "image") or None, source="api", sealed=attributes.get(P + "credentials"),
                 version=version)


class UnusableDriver(ProviderDriver):
    """What a provider that cannot make its driver answers: every call refused, with the reason."""

    def __init__(self, provider: str, reason: str):
        self.name = provider
        self.reason = REDACTOR.scrub(reason)

    def _refuse(self, *_args, **_kwargs):
        raise ProviderRefused(f"provider {self.name} is unusable: {self.reason}", provider=self.name)

    create = get = list = delete = start = stop = reboot = snapshot = sizes = images = zones = _refuse


class Clouds:
    def __init__(self, clouds: list[Cloud], *, data: Path | None = None, store=None, secrets: SecretBox | None = None,
                 default: bool = False, refresh_interval: float = 0.5, clock=time.monotonic):
        if not clouds and not default and store is None:
            raise ConfigurationError("no provider is configured")
        self._static = {cloud.name: cloud for cloud in clouds}
        #: Whether ``local`` is there when nothing else is configured (no providers.json).
        self._default = default
        self.data = data
        self.store = store
        self.secrets = secrets
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._records: dict[str, Cloud] = {}
        self._refreshed: float | None = None
        self._drivers: dict[str, tuple[Cloud, ProviderDriver]] = {}
        self._lock = threading.Lock()
        self._reading = threading.Lock()

    @classmethod
    def from_config(cls, config: dict, *, data: Path | None = None, **options) -> "Clouds":
        return cls(_file_clouds(config), data=data, **options)

    @classmethod
    def from_settings(cls, data: Path | None, *, store=None, secrets: SecretBox | None = None,
                      **options) -> "Clouds":
        path = os.environ.get("ACCORDS_PROVIDERS") or (str(data / "providers.json") if data is not None else None)
        if path is None or not Path(path).exists():
            return cls([], data=data, store=store, secrets=secrets, default=True, **options)
        try:
            config = json.loads(Path(path).read_text())
        except ValueError as exc:
            raise ConfigurationError(f"{path}: not JSON ({exc})") from None
        if not isinstance(config, dict):
            raise ConfigurationError(f"{path}: must hold an object of providers by name")
        return cls.from_config(config, data=data, store=store, secrets=secrets, **options)

    # -- which providers ----------------------------------------------------------------------
    def file_clouds(self) -> list[Cloud]:
        """providers.json's entries, or the default ``local`` when there is no file."""
        if self._static:
            return list(self._static.values())
        return [DEFAULT_CLOUD] if self._default else []

    def _all(self) -> dict[str, Cloud]:
        found = dict(self._static)
        for name, cloud in self._records.items():
            found.setdefault(name, cloud)                 # a name the file holds is the file's
        if self._default and not self._static:
            found.setdefault(DEFAULT_CLOUD.name, DEFAULT_CLOUD)
        return found

    def names(self) -> list[str]:
        # Placement asks once per node: read the records now, so a provider added a moment
        # ago (through any worker) can be chosen at once.
        self.refresh(force=True)
        return list(self._all())

    def get(self, name: str) -> Cloud | None:
        self.refresh()
        cloud = self._all().get(name)
        if cloud is None and self.store is not None:
            self.refresh(force=True)                      # added a moment ago, through another worker
            cloud = self._all().get(name)
        return cloud

    def refresh(self, *, force: bool = False) -> None:
        """Read the provider records again (every ``refresh_interval`` seconds at most, unless forced)."""
        if self.store is None:
            return
        now = self._clock()
        if not force and self._refreshed is not None and now - self._refreshed < self.refresh_interval:
            return
        with self._reading:
            if not force and self._refreshed is not None and self._clock() - self._refreshed < self.refresh_interval:
                return                                    # another thread has just read them
            try:
                with self.store.session(readonly=True) as session:
                    records = session.list(Query(kinds=[PROVIDER.type_id], attributes={P + "source": "api"}))
            except Exception as exc:                      # noqa: BLE001 - keep what we knew; the store may be restarting
                log.warning("reading the provider records: %s", exc.__class__.__name__)
                return
            fresh = {}
            for record in records:
                name = record.attributes.get(P + "name")
                if isinstance(name, str) and name:
                    fresh[name] = cloud_from_attributes(record.attributes, version=record.version)
            self._records = dict(sorted(fresh.items()))     # by name: the order placement prefers them
            self._refreshed = self._clock()
        self._forget_stale()

    def _forget_stale(self) -> None:
        current = self._all()
        with self._lock:
            stale = [name for name, (cloud, _) in self._drivers.items() if current.get(name) != cloud]
            dropped = [self._drivers.pop(name)[1] for name in stale]
        for driver in dropped:
            _close(driver)

    # -- drivers ------------------------------------------------------------------------------
    def driver(self, name: str) -> ProviderDriver:
        cloud = self.get(name)
        if cloud is None:
            raise KeyError(name)
        with self._lock:
            kept = self._drivers.get(name)
            if kept is not None and kept[0] == cloud:
                return kept[1]
        made, usable = self.make_driver(cloud)
        if not usable:
            return made                                   # not kept: the next use tries again
        with self._lock:
            kept = self._drivers.get(name)
            if kept is not None and kept[0] == cloud:     # another thread made it meanwhile
                _close(made)
                return kept[1]
            old = self._drivers.get(name)
            self._drivers[name] = (cloud, made)
        if old is not None:
            _close(old[1])
        return made

    def make_driver(self, cloud: Cloud) -> tuple[ProviderDriver, bool]:
        """A new driver for ``cloud`` and True, or an :class:`UnusableDriver` saying why and False."""
        if cloud.driver not in registry.REGISTRY:
            return UnusableDriver(cloud.name, f"unknown driver {cloud.driver!r} (known: "
                                              f"{', '.join(registry.names())})"), False
        options = dict(cloud.options)
        if cloud.sealed is not None:
            if self.secrets is None:
                return UnusableDriver(cloud.name, "this worker has no secrets key to open its credentials"), False
            try:
                credentials = self.secrets.open(cloud.sealed)
            except SecretsError as exc:
                return UnusableDriver(cloud.name, str(exc)), False
            register_credentials(credentials)
            guard_loggers("accords")                      # our own log lines are scrubbed too
            options.update(credentials)
        if cloud.driver == "local":
            options.setdefault("root", str((self.data or Path(".")) / "nodes"))
        try:
            return registry.create_driver(cloud.driver, **options), True
        except ProviderError as exc:
            return UnusableDriver(cloud.name, str(exc)), False
        except TypeError as exc:                          # an option the driver does not take (names only)
            return UnusableDriver(cloud.name, f"the {cloud.driver} driver refuses its options: {exc}"), False

    def probe(self, cloud: Cloud, *, timeout: float) -> tuple[bool, str]:
        """Make ``cloud``'s driver afresh and list its nodes (cheap, and it needs the credentials):
        (True, what it answered) or (False, why not), within ``timeout`` seconds."""
        outcome: dict[str, tuple[bool, str]] = {}

        def run() -> None:
            driver, usable = self.make_driver(cloud)
            try:
                found = driver.list()
                outcome["done"] = (True, f"{cloud.driver} answered: {len(found)} node(s) of accords there")
            except ProviderError as exc:
                outcome["done"] = (False, str(exc))
            except Exception as exc:                      # noqa: BLE001 - a library's own failure: say which
                outcome["done"] = (False, f"{cloud.driver} failed: {exc.__class__.__name__}: {exc}")
            finally:
                if usable:
                    _close(driver)

        # A thread of its own: a cloud that does not answer cannot hold the caller past the timeout.
        worker = threading.Thread(target=run, name=f"check-{cloud.name}", daemon=True)
        worker.start()
        worker.join(timeout)
        ok, message = outcome.get("done", (False, f"{cloud.name} did not answer within {timeout:g} s"))
        return ok, REDACTOR.scrub(message)[:2000]

    def close(self) -> None:
        with self._lock:
            drivers = [driver for _, driver in self._drivers.values()]
            self._drivers.clear()
        for driver in drivers:
            _close(driver)


def _file_clouds(config: dict) -> list[Cloud]:
    clouds = []
    for name, entry in config.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("driver"), str):
            raise ConfigurationError(f"provider {name!r}: needs a \"driver\" (one of {', '.join(registry.names())})")
        if entry["driver"] not in registry.REGISTRY:
            raise ConfigurationError(f"provider {name!r}: unknown driver {entry['driver']!r} (known: "
                                     f"{', '.join(registry.names())})")
        clouds.append(Cloud(name=name, driver=entry["driver"], agent=entry.get("agent", True) is not False,
                            image=entry.get("image"), source="file",
                            options={k: v for k, v in entry.items() if k not in _OWN_KEYS}))
    return clouds


def _close(driver: ProviderDriver) -> None:
    try:
        driver.close()
    except Exception:                                     # noqa: BLE001 - closing must not fail a step
        log.warning("closing the %s driver failed", getattr(driver, "name", "?"))
