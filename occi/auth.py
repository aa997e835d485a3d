"""Authentication for OCCI servers: pluggable, Bearer and Basic, with the X-OCCI-Authorize carrier.

The security component (a later issue) plugs in its own :class:`Authenticator`; this module
supplies the middleware and a static-credentials authenticator used by ``accords serve``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from typing import Protocol

import falcon

from occi.errors import Unauthorized
from occi.service.context import ANONYMOUS, Principal

__all__ = ["Authenticator", "StaticCredentials", "AuthMiddleware", "CHALLENGE", "new_token", "is_loopback"]

CHALLENGE = 'Basic realm="accords", Bearer realm="accords"'


def new_token() -> str:
    return secrets.token_urlsafe(32)


#: Longer Authorization (or X-OCCI-Authorize) values are refused before any work.
MAX_CREDENTIALS_HEADER = 4096


class Authenticator(Protocol):
    def authenticate(self, *, token: str | None, user: str | None, password: str | None,
                     address: str | None = None) -> Principal | None:
        """The principal, or None for credentials that are not good; ``address`` is the
        client's (for throttling). May raise OcciError (429 throttled, 503 cannot check)."""


class StaticCredentials:
    """Tokens and user passwords known up front; only their SHA-256 digests are kept in memory."""

    def __init__(self):
        self._tokens: dict[bytes, Principal] = {}
        self._users: dict[str, tuple[bytes, Principal]] = {}

    @staticmethod
    def _digest(secret: str) -> bytes:
        return hashlib.sha256(secret.encode("utf-8")).digest()

    def add_token(self, token: str, principal: Principal) -> None:
        self._tokens[self._digest(token)] = principal

    def add_user(self, user: str, password: str, principal: Principal) -> None:
        self._users[user] = (self._digest(password), principal)

    def authenticate(self, *, token=None, user=None, password=None, address=None) -> Principal | None:
        if token is not None:
            return self._tokens.get(self._digest(token))
        if user is not None and password is not None:
            known = self._users.get(user)
            if known is not None and hmac.compare_digest(known[0], self._digest(password)):
                return known[1]
            # HTTP Basic with any user name and a token as the password: how curl users pass tokens.
            return self._tokens.get(self._digest(password))
        return None


def _credentials(req: falcon.Request) -> tuple[str | None, str | None, str | None]:
    header = req.get_header("Authorization")
    carried = req.get_header("X-OCCI-Authorize")
    for name, value in (("Authorization", header), ("X-OCCI-Authorize", carried)):
        if value is not None and len(value) > MAX_CREDENTIALS_HEADER:
            raise Unauthorized(f"the {name} header is longer than {MAX_CREDENTIALS_HEADER} characters",
                               code="bad-credentials", where=name, headers={"WWW-Authenticate": CHALLENGE})
    if header:
        scheme, _, value = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value.strip():
            return value.strip(), None, None
        if scheme == "basic":
            try:
                user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise Unauthorized("the Basic credentials are not valid base64 'user:password'",
                                   code="bad-credentials", where="Authorization",
                                   headers={"WWW-Authenticate": CHALLENGE}) from None
            if sep:
                return None, user, password
        raise Unauthorized(f"unsupported Authorization scheme {scheme!r}; use Bearer or Basic",
                           code="bad-credentials", where="Authorization", headers={"WWW-Authenticate": CHALLENGE})
    if carried:
        return carried.strip(), None, None
    return None, None, None


def is_loopback(address: str | None) -> bool:
    """Whether a peer address (WSGI ``REMOTE_ADDR``) is a loopback one (127.0.0.0/8, ::1, or
    127.x mapped into IPv6)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


class AuthMiddleware:
    """Sets ``req.context.principal``; without an authenticator every caller is an anonymous admin.

    Two exceptions, both paths of the operations routes (``occi.server.health``,
    ``occi.server.metrics``), never of OCCI entities:

    * ``open_paths`` (``/healthz``, ``/readyz``) answer everyone: load balancers and
      orchestrators probe without credentials, and the answers reveal nothing;
    * ``loopback_paths`` (``/metrics``) answer callers on a loopback address without
      credentials (a Prometheus or agent on the same host), and need them from elsewhere.

    There the principal is None: those routes act for nobody.
    """

    def __init__(self, authenticator: Authenticator | None, *, open_paths: frozenset[str] = frozenset(),
                 loopback_paths: frozenset[str] = frozenset()):
        self.authenticator = authenticator
        self.open_paths = frozenset(open_paths)
        self.loopback_paths = frozenset(loopback_paths)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.authenticator is None:
            req.context.principal = ANONYMOUS
            return
        path = req.path
        if path in self.open_paths or (path in self.loopback_paths and is_loopback(req.env.get("REMOTE_ADDR"))):
            req.context.principal = None
            return
        token, user, password = _credentials(req)
        if token is None and user is None:
            raise Unauthorized("authentication required: send a Bearer token or HTTP Basic credentials",
                               code="no-credentials", where="Authorization", headers={"WWW-Authenticate": CHALLENGE})
        principal = self.authenticator.authenticate(token=token, user=user, password=password,
                                                    address=req.env.get("REMOTE_ADDR"))
        if principal is None:
            raise Unauthorized("the credentials were not accepted", code="bad-credentials", where="Authorization",
                               headers={"WWW-Authenticate": CHALLENGE})
        req.context.principal = principal
