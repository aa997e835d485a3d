"""The provisioning component's ``provider`` kind: a cloud account this installation provisions on, declared once.

Not the CORDS ``provider`` offer that the placement component serves (zone, operator, price,
quotas: what placement chooses from); this one is how to reach the cloud (driver, options,
credentials), so it lives in the provisioning component under a scheme of its own and only
operators and admins see it. A provider's name is its location (``/provider/NAME``): two
providers can never share one, whatever the concurrency.

``credentials`` is write-only (``secret=True``): accepted, sealed with the component's key
(:mod:`broker.provisioning.secrets`) before anything is stored, never rendered nor filterable.
``credentialNames`` tells which were given. ``check`` asks the cloud something cheap that
needs the credentials and records ``state``, ``message`` and ``checked``.
"""
from __future__ import annotations

import re

from broker.providers import registry
from occi.model.attribute import Attribute
from occi.model.category import Action, Kind
from occi.model.core import RESOURCE

__all__ = ["PROVIDER_SCHEME", "PROVIDER", "PROVIDER_CHECK", "CATEGORIES", "P", "PROVIDER_STATES", "SOURCES",
           "NAME_PATTERN", "SECRET_OPTION", "CHECK_TIMEOUT", "provider_location"]

PROVIDER_SCHEME = "http://accords.example/occi/provisioning#"
P = "occi.provider."
PROVIDER_STATES = ("unchecked", "ok", "failed")
#: ``api``: created through OCCI (``accords providers add``); ``file``: an entry of providers.json,
#: mirrored here so that it is listed, and read-only; ``default``: ``local``, when there is no file.
SOURCES = ("api", "file", "default")
#: Names are URL path segments, tag values and what manifests and services name.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}"
#: Option names that hold secrets: they belong in ``credentials``, never in ``options``.
SECRET_OPTION = re.compile(r"secret|password|passwd|token|credential|passphrase|(^|_)key$", re.I)
#: How long ``check`` waits for the cloud (the request waits as long; clients wait longer).
CHECK_TIMEOUT = 15.0


def _a(name: str, description: str, **options) -> Attribute:
    return Attribute(P + name, description=description, **options)


PROVIDER_CHECK = Action(PROVIDER_SCHEME.replace("#", "/provider/action#"), "check",
                        title="Ask the cloud something cheap with the credentials; record state, message, checked")

PROVIDER = Kind(PROVIDER_SCHEME, "provider", title="A cloud this installation provisions on: driver, options, "
                                                   "credentials (write-only)",
                parent=RESOURCE, location="/provider/", actions=(PROVIDER_CHECK,), attributes=(
    _a("name", "Name of the provider: its location (/provider/NAME), what services and nodes ask for.",
       required=True, mutable=False, pattern=NAME_PATTERN),
    _a("driver", "The driver that speaks to the cloud.", type="enum", enum=tuple(registry.names()), required=True,
       mutable=False),
    _a("options", "The driver's options that are not secret (region, endpoint_url, auth_url, project_name ...).",
       type="object", default={}),
    _a("credentials", "The driver's secret options (access_key, secret_key, password ...); sealed at rest, "
                      "never shown. Setting them again replaces them all.", type="object", secret=True),
    _a("credentialNames", "Names of the credentials stored (their values are never shown).", type="array",
       mutable=False, server_managed=True),
    _a("agent", "Whether nodes run an agent this component can reach (false: their statements are skipped).",
       type="boolean", default=True),
    _a("image", "Image used when a node names none."),
    _a("source", "Where the provider is configured: api (OCCI, `accords providers`), file (providers.json: "
                 "read-only) or default (local, when there is no providers.json: read-only).", type="enum", enum=SOURCES, default="api", mutable=False, server_managed=True),
    _a("state", "What the last check found.", type="enum", enum=PROVIDER_STATES, default="unchecked",
       mutable=False, server_managed=True),
    _a("message", "What the last check said (the provider's words when it failed).", mutable=False,
       server_managed=True),
    _a("checked", "When the last check ran.", type="datetime", mutable=False, server_managed=True),
))

CATEGORIES = (PROVIDER, PROVIDER_CHECK)


def provider_location(name: str) -> str:
    return f"{PROVIDER.location}{name}"
