"""What the security component adds to a plain OCCI server: its own authenticator, the
``/introspect`` and ``/whoami`` routes, and the first-run bootstrap.

``/introspect`` follows RFC 7662 (token introspection): ``POST`` with ``token=...`` (form
or JSON) answers ``{"active": true, "username", "account", "roles", "exp"}`` or
``{"active": false}``. As an extension it also checks a password (``username`` and
``password``, with the client's ``address`` for throttling), so that components accept
HTTP Basic without ever seeing a hash. Only the ``service`` and ``admin`` roles may call it.
"""
from __future__ import annotations

import json
import logging
import time
import weakref
from pathlib import Path
from urllib.parse import parse_qs

import falcon

from occi.errors import BadRequest, Forbidden, PayloadTooLarge
from occi.security.authenticators import CredentialCache, LocalAuthenticator
from occi.security.files import credentials_dir, read_credentials, write_credentials
from occi.security.model import ACCOUNT, PLATFORM_ACCOUNT, USER, user_location
from occi.security.passwords import default_passwords, new_password
from occi.security.verifier import AddressThrottle, Verifier
from occi.service.context import Principal, RequestContext
from occi.store.base import Query
from occi.urls import Urls

__all__ = ["authenticator", "routes", "bootstrap", "Introspection", "WhoAmI", "SERVICE_PREFIX", "service_user",
           # re-exported: where they used to live
           "credentials_dir", "write_credentials", "read_credentials"]

log = logging.getLogger("accords.security")

SERVICE_PREFIX = "svc-"
_MAX_BODY = 8192
_INTROSPECTORS = frozenset({"service", "admin"})


def service_user(component: str) -> str:
    return SERVICE_PREFIX + component


#: One address throttle per store (in each process), so that the failed logins through
#: /introspect and those straight to us count together.
_THROTTLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _verifier(store) -> Verifier:
    throttle = _THROTTLES.get(store)
    if throttle is None:
        throttle = _THROTTLES[store] = AddressThrottle()
    return Verifier(store, default_passwords(), throttle=throttle)


def authenticator(store):
    """The security component checks credentials against its own store (no network)."""
    return LocalAuthenticator(_verifier(store), CredentialCache())


def _principal_json(principal: Principal, kind: str) -> dict:
    out = {"active": True, "username": principal.name, "account": principal.account,
           "roles": sorted(principal.roles), "token_type": kind}
    if principal.expires is not None:
        out["exp"] = int(principal.expires)
    return out


def _read_body(req: falcon.Request) -> dict:
    length = req.content_length or 0
    if length > _MAX_BODY:
        raise PayloadTooLarge(f"an introspection request has at most {_MAX_BODY} bytes", where="body")
    raw = req.bounded_stream.read(_MAX_BODY + 1)
    if len(raw) > _MAX_BODY:
        raise PayloadTooLarge(f"an introspection request has at most {_MAX_BODY} bytes", where="body")
    text = raw.decode("utf-8", "replace")
    if (req.content_type or "").startswith("application/json"):
        try:
            body = json.loads(text or "{}")
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                             code="bad-json", where="body") from None
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            raise BadRequest("send a JSON object of strings", code="bad-json", where="body")
        return body
    try:
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=10)
    except ValueError:          # more fields than that: not an introspection request
        raise BadRequest("send at most 10 form fields", code="bad-form", where="body") from None
    return {k: v[0] for k, v in fields.items()}


class Introspection:
    def __init__(self, verifier: Verifier):
        self.verifier = verifier

    def on_post(self, req, resp):
        caller = req.context.principal
        if caller is None or not (_INTROSPECTORS & caller.roles):
            raise Forbidden("only components (role service) and admins may introspect credentials",
                            code="role-forbidden", where="/introspect")
        body = _read_body(req)
        token = body.get("token")
        if token is not None:
            found = self.verifier.by_token(token)
            result = _principal_json(found, "access_token") if found else {"active": False}
        elif "username" in body and "password" in body:
            found = self.verifier.by_password(body["username"], body["password"], address=body.get("address"))
            result = _principal_json(found, "password") if found else {"active": False}
        else:
            raise BadRequest("send token=..., or username=... and password=...", code="bad-introspection",
                             where="body")
        resp.media = result
        resp.cache_control = ["no-store"]


class WhoAmI:
    def on_get(self, req, resp):
        principal = req.context.principal
        if principal is None:
            raise Forbidden("no principal", code="role-forbidden")
        resp.media = _principal_json(principal, "whoami")
        resp.cache_control = ["no-store"]


def routes(app, store, peers=None) -> None:
    app.add_route("/introspect", Introspection(_verifier(store)))
    app.add_route("/whoami", WhoAmI())


# -- first run -------------------------------------------------------------------------------
def bootstrap(store, *, data: Path, services: list[str], url: str | None = None) -> list[str]:
    """On an empty store: the platform account and an ``admin`` user whose credentials go to
    DIR/credentials/admin.json. Always: a ``service`` user for each component in
    ``services`` whose credentials file is missing (DIR/credentials/COMPONENT.json), with a
    new password (a user left from an earlier file gets the new one). Returns what it created.
    """
    from occi.documents import ActionDocument, EntityDocument, RequestDocument
    from occi.model import Model
    from occi.security.component import POLICY, hooks
    from occi.security.model import CATEGORIES
    from occi.service.core import OcciService

    service = OcciService(model=Model(CATEGORIES), store=store, hooks=hooks(), policy=POLICY)
    ctx = RequestContext(principal=Principal(account=PLATFORM_ACCOUNT, name="bootstrap", roles=frozenset({"admin"})),
                         urls=Urls(url or "http://127.0.0.1"))
    folder = credentials_dir(data)
    created = []

    def create(kind, attributes):
        service.create(kind, RequestDocument(entity=EntityDocument(kind=kind.type_id, attributes=attributes)), ctx)

    with store.session(readonly=True) as session:
        empty = session.count(Query(kinds=[USER.type_id])) == 0
        has_platform = session.get(f"{ACCOUNT.location}{PLATFORM_ACCOUNT}") is not None
    if not has_platform:
        create(ACCOUNT, {"occi.account.name": PLATFORM_ACCOUNT, "occi.account.legal": "the accords platform"})
        created.append(f"account {PLATFORM_ACCOUNT}")
    if empty:
        password = new_password()
        create(USER, {"occi.user.name": "admin", "occi.user.password": password, "occi.user.account": PLATFORM_ACCOUNT,
                      "occi.user.roles": ["admin"]})
        write_credentials(folder / "admin.json", {"user": "admin", "password": password, "created": time.time()})
        created.append("user admin")
        log.warning("first run: created the admin user; its credentials are in %s", folder / "admin.json")
    for component in services:
        path = folder / f"{component}.json"
        if path.exists():
            continue
        name, password = service_user(component), new_password()
        location = user_location(name)
        with store.session(readonly=True) as session:
            exists = session.get(location) is not None
        if exists:
            service.action(location, "password",
                           RequestDocument(action=ActionDocument(attributes={"password": password})), ctx)
        else:
            create(USER, {"occi.user.name": name, "occi.user.password": password,
                          "occi.user.account": PLATFORM_ACCOUNT, "occi.user.roles": ["service"]})
        write_credentials(path, {"user": name, "password": password, "component": component})
        created.append(f"user {name}")
    return created
