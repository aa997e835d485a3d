"""What the provisioning component does with ``provider`` records (:mod:`broker.provisioning.provider_model`).

* create and update: the name decides the location (``/provider/NAME``); options are checked
  against the driver's keyword arguments (a typo is a 400 naming it, not a failed deployment
  later) and may hold no secret; credentials are sealed with the component's key before
  anything is stored, and their names kept in ``credentialNames``. New credentials replace
  the old ones whole (rotation); a POST without them keeps them.
* entries of providers.json (and the default ``local``) are mirrored as read-only records
  (:func:`mirror_file_providers`) so that they are listed; changing or deleting them is a 409.
* delete: refused (409) while a contract that is not deleted is placed on, or asks for, the
  provider: its nodes would be unreachable.
* ``check``: the cloud is asked something cheap that needs the credentials (a bounded wait,
  see :meth:`broker.provisioning.clouds.Clouds.probe`); state, message and checked record it.
"""
from __future__ import annotations

import inspect
import logging
import re
import uuid
from dataclasses import replace
from datetime import datetime, timezone

from broker.providers import registry
from broker.provisioning.model import CONTRACT
from broker.provisioning.provider_model import (CHECK_TIMEOUT, NAME_PATTERN, P, PROVIDER, PROVIDER_CHECK,
                                                SECRET_OPTION, provider_location)
from broker.provisioning.records import C
from broker.provisioning.secrets import SecretsError, is_sealed
from occi.errors import BadRequest, Conflict, ServiceUnavailable
from occi.hooks import Hooks
from occi.security.model import PLATFORM_ACCOUNT
from occi.store.base import DuplicateEntity, EntityRecord, Query, StaleWrite

__all__ = ["provider_hooks", "mirror_file_providers"]

log = logging.getLogger("accords.provisioning")

#: Attributes a client sets: what a read-only (file) provider may not have changed.
_CONFIGURED = ("driver", "options", "credentials", "agent", "image")
_OWN_KEYS = ("driver", "agent", "image")


def provider_hooks(table: Hooks, engine) -> None:
    """Register the provider hooks; ``engine`` holds the worker's ``clouds`` and ``secrets`` once attached."""

    @table.on_create(PROVIDER)
    def create(entity, ctx):
        a = entity.attributes
        _place(entity, a[P + "name"])
        if ctx.session.get(entity.location) is not None:
            raise Conflict(f"there is a provider named {a[P + 'name']!r} already ({entity.location}); change that "
                           "one (POST to its location) or choose another name", code="duplicate-name",
                           where=P + "name")
        a[P + "source"], a[P + "state"] = "api", "unchecked"
        _configure(a, engine, old_sealed=None)

    @table.on_update(PROVIDER)
    def update(old, new, ctx):
        if old.attributes.get(P + "source") != "api":
            if any(old.attributes.get(P + name) != new.attributes.get(P + name) for name in _CONFIGURED):
                raise Conflict(f"provider {old.attributes.get(P + 'name')} comes from providers.json: change it there "
                               "(and restart the provisioning component)", code="provider-read-only",
                               where=old.location)
            return
        _configure(new.attributes, engine, old_sealed=old.attributes.get(P + "credentials"))

    @table.on_delete(PROVIDER)
    def delete(entity, ctx):
        name = entity.attributes.get(P + "name")
        if entity.attributes.get(P + "source") != "api":
            raise Conflict(f"provider {name} comes from providers.json: remove it there (and restart the "
                           "provisioning component)", code="provider-read-only", where=entity.location)
        using = [record.location for attribute in ("placed", "provider")
                 for record in ctx.session.list(Query(kinds=[CONTRACT.type_id], attributes={C + attribute: name}))
                 if record.attributes.get(C + "state") != "deleted"]
        if using:
            using = sorted(set(using))
            raise Conflict(f"provider {name} still has {len(using)} contract(s) that are not deleted "
                           f"({', '.join(using[:3])}{' ...' if len(using) > 3 else ''}): delete their services first",
                           code="provider-in-use", where=entity.location)

    @table.on_action(PROVIDER_CHECK)
    def check(entity, action, parameters, ctx):
        a = entity.attributes
        clouds = engine.clouds
        if clouds is None:
            ok, message = False, "this worker has not started its providers yet; try again in a moment"
        else:
            from broker.provisioning.clouds import cloud_from_attributes

            if a.get(P + "source") == "api":
                cloud = cloud_from_attributes(a, version=entity.version)
            else:
                cloud = next((c for c in clouds.file_clouds() if c.name == a.get(P + "name")), None)
            if cloud is None:
                ok, message = False, "providers.json no longer holds this provider (restart to forget it)"
            else:
                ok, message = clouds.probe(cloud, timeout=CHECK_TIMEOUT)
        a[P + "state"] = "ok" if ok else "failed"
        a[P + "message"] = message
        a[P + "checked"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        log.info("provider %s checked: %s", a.get(P + "name"), a[P + "state"])


def _place(entity, name: str) -> None:
    """Put the entity at /provider/NAME with the id a PUT there would give it."""
    wanted = provider_location(name)
    generated = entity.id == f"urn:uuid:{entity.location[len(PROVIDER.location):]}"
    if entity.location != wanted and not generated:
        raise BadRequest(f"{entity.location} must be {wanted}: a provider's name decides its location",
                         code="bad-location", where=P + "name")
    entity.location = wanted
    entity.id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, wanted)}"


def _configure(a: dict, engine, *, old_sealed) -> None:
    """Check options and credentials; seal credentials that are new (in ``a``, in place)."""
    options = a.get(P + "options") or {}
    credentials = a.get(P + "credentials")
    fresh = credentials is not None and not (is_sealed(credentials) and credentials == old_sealed)
    names = sorted(credentials) if fresh else list(a.get(P + "credentialNames") or []) if credentials else []
    for key, value in options.items():
        if key in _OWN_KEYS:
            raise BadRequest(f"option {key!r} has an attribute of its own: set occi.provider.{key}",
                             code="bad-option", where=P + "options")
        if SECRET_OPTION.search(key):
            raise BadRequest(f"option {key!r} looks like a secret: give it in occi.provider.credentials (sealed at "
                             "rest, never shown) instead of the options, which everyone who reads providers sees",
                             code="secret-in-options", where=P + "options")
    if fresh:
        bad = [key for key, value in credentials.items() if not isinstance(value, (str, int, float, bool))]
        if bad:
            raise BadRequest(f"credential(s) {', '.join(map(repr, bad))} must be strings", code="bad-credentials",
                             where=P + "credentials")
        both = sorted(set(credentials) & set(options))
        if both:
            raise BadRequest(f"{', '.join(both)} given both as an option and as a credential: give each once",
                             code="bad-option", where=P + "credentials")
    _known_options(a[P + "driver"], [*options, *(credentials if fresh else names)])
    if fresh:
        if engine.secrets is None:
            raise ServiceUnavailable("the provisioning component has not opened its secrets key yet; try again in a "
                                     "moment", code="not-ready", where=P + "credentials")
        try:
            a[P + "credentials"] = engine.secrets.seal(credentials)
        except SecretsError as exc:
            raise BadRequest(str(exc), code="bad-credentials", where=P + "credentials") from None
    a[P + "credentialNames"] = names


def _known_options(driver: str, given: list[str]) -> None:
    """A 400 naming any option the driver does not take (drivers take keyword arguments only)."""
    parameters = inspect.signature(registry.driver_class(driver).__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return                                       # e.g. libcloud: options go to the cloud's own driver
    known = [name for name, p in parameters.items() if name != "self" and p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise BadRequest(f"the {driver} driver takes no option {', '.join(unknown)} (it takes: {', '.join(known)})",
                         code="unknown-option", where=P + "options")


# -- providers.json, mirrored -------------------------------------------------------------------
def mirror_file_providers(store, clouds, *, attempts: int = 3) -> None:
    """Make the records of providers.json's entries (or of the default ``local``) match the file:
    what every worker does at start. Their secret options are not copied (only their names);
    a failure is logged, never raised: the worker boots whatever the store holds."""
    pattern = re.compile(NAME_PATTERN)
    wanted = {}
    for cloud in clouds.file_clouds():
        if not pattern.fullmatch(cloud.name):
            log.warning("provider %r of providers.json is not listed: its name is not a valid provider name",
                        cloud.name)
            continue
        secret = sorted(key for key in cloud.options if SECRET_OPTION.search(key))
        wanted[cloud.name] = {P + "name": cloud.name, P + "driver": cloud.driver, P + "agent": cloud.agent,
                              P + "options": {k: v for k, v in cloud.options.items() if k not in secret},
                              P + "credentialNames": secret, P + "source": cloud.source,
                              **({P + "image": cloud.image} if cloud.image else {})}
    for attempt in range(attempts):
        try:
            with store.session() as session:
                _mirror(session, wanted)
            return
        except (StaleWrite, DuplicateEntity):
            continue                                  # another worker mirrored at the same moment: look again
        except Exception as exc:                      # noqa: BLE001 - listing them is not worth a failed boot
            log.warning("mirroring providers.json into the store failed: %s", exc.__class__.__name__)
            return


def _mirror(session, wanted: dict) -> None:
    existing = {r.attributes.get(P + "name"): r for r in session.list(Query(kinds=[PROVIDER.type_id]))}
    for name, record in existing.items():
        if record.attributes.get(P + "source") != "api" and name not in wanted:
            session.delete(record.location)
    for name, attributes in wanted.items():
        record = existing.get(name)
        if record is None:
            location = provider_location(name)
            session.insert(EntityRecord(location=location, id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, location)}",
                                        kind=PROVIDER.type_id, owner=PLATFORM_ACCOUNT,
                                        attributes={**attributes, P + "state": "unchecked"}))
        elif record.attributes.get(P + "source") == "api":
            log.warning("provider %s is both in providers.json and a record: the file's entry is used", name)
        elif any(record.attributes.get(key) != value for key, value in attributes.items()):
            kept = {k: v for k, v in record.attributes.items() if k.startswith(P) and k[len(P):] in
                    ("state", "message", "checked")}
            session.update(replace(record, attributes={**attributes, **kept}), expected_version=record.version)
