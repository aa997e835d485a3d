"""Authenticators for :class:`occi.auth.AuthMiddleware`, backed by the security component.

* :class:`LocalAuthenticator`: inside the security component, straight from its store.
* :class:`RemoteAuthenticator`: in every other component; asks the security component's
  ``/introspect`` with the component's own service credentials.

Both cache good answers for ``ttl`` seconds (default 10): an argon2 check costs ~0.1 s and a
round trip to the security component more than serving most requests, while a revoked
token or a disabled user stops working everywhere within that time. The cache keys are an
HMAC of the credentials under a per-process random key, so that memory never holds a
password or a token in the clear. Failures are never cached: each one reaches the
security component, which counts and throttles them.

:class:`ServiceCredentials` is how a component authenticates its own calls: it logs in
with its service user and password, keeps the token and renews it before it expires.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from typing import Callable

from occi import errors
from occi.client.transport import Transport
from occi.errors import ServiceUnavailable, TooManyRequests
from occi.security.passwords import TOKEN_PREFIX
from occi.service.context import Principal

__all__ = ["CredentialCache", "LocalAuthenticator", "RemoteAuthenticator", "SecurityClient", "ServiceCredentials",
           "BasicCredentials", "MAX_CREDENTIAL_LENGTH"]

#: Longer tokens or passwords are refused before any work (argon2 on megabytes is a DoS).
MAX_CREDENTIAL_LENGTH = 512


class CredentialCache:
    def __init__(self, *, ttl: float = 10.0, capacity: int = 10_000, clock=time.monotonic):
        self.ttl, self.capacity = ttl, capacity
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, *parts: str) -> bytes:
        return hmac.new(self._key, "\0".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def get(self, key: bytes) -> Principal | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock() or (found[1].expires is not None and found[1].expires <= time.time()):
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: bytes, principal: Principal) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _too_long(*values: str | None) -> bool:
    return any(v is not None and len(v) > MAX_CREDENTIAL_LENGTH for v in values)


class _Cached:
    """The cache and the token-as-Basic-password rule shared by both authenticators."""

    #: Whether good answers are cached (the remote one: a round trip, and argon2, per check).
    cache_answers = True

    def __init__(self, cache: CredentialCache):
        self.cache = cache

    def authenticate(self, *, token=None, user=None, password=None, address=None) -> Principal | None:
        if _too_long(token, user, password):
            return None
        if token is None and password is not None and password.startswith(TOKEN_PREFIX):
            token = password      # curl -u anything:TOKEN, as some tools can only send Basic
        if not self.cache_answers:
            return self._check(token, user, password, address)
        key = self.cache.key("t", token) if token is not None else self.cache.key("p", user or "", password or "")
        found = self.cache.get(key)
        if found is not None:
            return found
        found = self._check(token, user, password, address)
        if found is not None:
            self.cache.put(key, found)
        return found

    def _check(self, token, user, password, address) -> Principal | None:
        if token is not None:
            return self._token(token)
        if user is not None and password is not None:
            return self._password(user, password, address)
        return None

    def _token(self, token: str) -> Principal | None:
        raise NotImplementedError

    def _password(self, user: str, password: str, address: str | None) -> Principal | None:
        raise NotImplementedError


class LocalAuthenticator(_Cached):
    # Nothing is cached here: a revoked token, a disabled user or a changed password must
    # stop working at once where tokens are issued. A token is one indexed lookup; a
    # password an argon2 check, which is what logging in costs anyway.
    cache_answers = False

    def __init__(self, verifier, cache: CredentialCache | None = None):
        super().__init__(cache or CredentialCache())
        self.verifier = verifier

    def _token(self, token):
        return self.verifier.by_token(token)

    def _password(self, user, password, address):
        return self.verifier.by_password(user, password, address=address)


class BasicCredentials:
    """Fixed HTTP Basic credentials (a component's service user before it has a token)."""

    def __init__(self, user: str, password: str):
        import base64
        self._value = "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")

    def authorization(self) -> str:
        return self._value

    def invalidate(self) -> bool:
        return False            # the same password would be refused again (and counted twice)

    def __repr__(self) -> str:
        return "BasicCredentials(***)"


class SecurityClient:
    """The security component's non-OCCI routes, and logging in (creating an authorization)."""

    def __init__(self, url: str | Callable[[], str], *, credentials=None, timeout: float = 5.0, retries: int = 2):
        self._url = url
        self.credentials = credentials
        self.timeout, self.retries = timeout, retries
        self._local = threading.local()         # one keep-alive connection pool per thread

    @property
    def url(self) -> str:
        return (self._url() if callable(self._url) else self._url).rstrip("/")

    def _transport(self, credentials=None) -> Transport:
        return Transport(self.url, credentials=credentials or self.credentials, timeout=self.timeout,
                         retries=self.retries, backoff=0.1)

    def _shared(self) -> Transport:
        url = self.url
        transport = getattr(self._local, "transport", None)
        if transport is None or transport.base_url != url:
            if transport is not None:
                transport.close()
            transport = self._local.transport = self._transport()
        return transport

    def introspect(self, **fields: str) -> dict:
        response = self._shared().request("POST", "/introspect", headers={
            "Content-Type": "application/json", "Accept": "application/json"}, body=json.dumps(fields).encode("utf-8"))
        return response.json()

    def whoami(self) -> dict:
        return self._shared().request("GET", "/whoami", headers={"Accept": "application/json"}).json()

    def login(self, user: str, password: str, *, ttl: int | None = None, description: str | None = None) -> dict:
        """A new token for ``user``: ``{"token", "expires", "location"}``."""
        attributes: dict = {}
        if ttl is not None:
            attributes["occi.authorization.ttl"] = ttl
        if description is not None:
            attributes["occi.authorization.description"] = description
        body = {"kind": "http://scheme.compatibleone.fr/scheme/compatible#authorization", "attributes": attributes}
        # Fixed Basic credentials, not a provider: the Transport resends a request refused with
        # a 401 to a provider, and a wrong password would count as two failed logins.
        transport = Transport(self.url, basic=(user, password), timeout=self.timeout, retries=self.retries,
                              backoff=0.1)
        try:
            response = transport.request("POST", "/authorization/", headers={
                "Content-Type": "application/occi+json", "Accept": "application/occi+json"},
                body=json.dumps(body).encode("utf-8"))
            token = response.headers.get("X-OCCI-Authorize")
            if not token:
                raise errors.OcciError(f"{self.url} issued no token (no X-OCCI-Authorize header)", code="no-token")
            created = response.json().get("attributes", {})
            return {"token": token, "expires": created.get("occi.authorization.expires"),
                    "location": response.headers.get("Location")}
        finally:
            transport.close()


class RemoteAuthenticator(_Cached):
    def __init__(self, security: SecurityClient, cache: CredentialCache | None = None):
        super().__init__(cache or CredentialCache())
        self.security = security

    def _ask(self, **fields) -> Principal | None:
        try:
            answer = self.security.introspect(**fields)
        except TooManyRequests:
            raise
        except ServiceUnavailable as exc:
            if exc.code in ("security-unreachable", "security-unavailable"):
                # Said already, by the publisher we asked where the security component is.
                exc.headers.setdefault("Retry-After", "5")
                raise
            raise ServiceUnavailable(f"cannot check credentials: the security component is unreachable ({exc.message})",
                                     code="security-unreachable", headers={"Retry-After": "5"}) from None
        except errors.OcciError as exc:
            raise ServiceUnavailable(f"cannot check credentials: the security component answered {exc.status} "
                                     f"{exc.message}", code="security-unavailable",
                                     headers={"Retry-After": "5"}) from None
        if not answer.get("active"):
            return None
        return Principal(account=answer["account"], name=answer["username"], roles=frozenset(answer.get("roles", ())),
                         expires=answer.get("exp"))

    def _token(self, token):
        return self._ask(token=token)

    def _password(self, user, password, address):
        fields = {"username": user, "password": password}
        if address:
            fields["address"] = address
        return self._ask(**fields)


class ServiceCredentials:
    """A component's own credentials: a token obtained with its service user, renewed when a
    third of its life is left or when a server refused it (Transport calls ``invalidate``)."""

    def __init__(self, security: SecurityClient, user: str, password: str, *, ttl: int = 3600, clock=time.time):
        self.security = security
        self.user = user
        self._password = password
        self.ttl = ttl
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServiceCredentials(user={self.user!r})"

    def basic(self) -> BasicCredentials:
        return BasicCredentials(self.user, self._password)

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._renew_at:
                grant = self.security.login(self.user, self._password, ttl=self.ttl,
                                            description="service credentials")
                self._token = grant["token"]
                expires = grant.get("expires") or now + self.ttl
                self._renew_at = now + (expires - now) * 2 / 3
            return self._token

    def authorization(self) -> str:
        return f"Bearer {self.token()}"

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True
