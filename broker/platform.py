"""How a component authenticates its callers and itself, decided once at start-up.

Four modes, from the command line:

* ``open`` (``--insecure-no-auth``): every caller is an anonymous admin. Tests only.
* ``standalone`` (no ``--security`` nor ``--publisher``): one component on its own; callers
  send the token of DIR/token (or $ACCORDS_TOKEN). For development and single-component use.
* ``self``: the security component checks credentials against its own store.
* ``remote`` (``--security URL``, or ``--publisher URL`` to find it): callers' credentials are
  checked by the security component's ``/introspect``; the component's own calls carry its
  service credentials (``--credentials FILE``, default DIR/credentials/COMPONENT.json,
  written by the security component when it first starts).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from broker import settings
from occi.auth import StaticCredentials
from occi.publisher.client import PublisherClient
from occi.security.authenticators import (BasicCredentials, CredentialCache, RemoteAuthenticator, SecurityClient,
                                          ServiceCredentials)
from occi.security.model import AUTHORIZATION
from occi.security.files import credentials_dir, read_credentials
from occi.service.context import Principal

__all__ = ["Auth", "PlatformError", "auth_for", "StaticToken"]


class PlatformError(RuntimeError):
    """The component cannot start as asked (missing or unreadable credentials)."""


class StaticToken:
    """A fixed bearer token as a credentials provider."""

    def __init__(self, token: str):
        self._value = f"Bearer {token}"

    def authorization(self) -> str:
        return self._value

    def invalidate(self) -> bool:
        return False


@dataclass
class Auth:
    mode: str
    component: str
    token: str | None = None
    security_url: str | None = None
    publisher_url: str | None = None
    service_user: str | None = None
    service_password: str | None = None
    cache_ttl: float = 10.0

    def describe(self) -> str:
        if self.mode == "open":
            return "none (--insecure-no-auth)"
        if self.mode == "standalone":
            return "standalone token ($ACCORDS_TOKEN or DIR/token)"
        if self.mode == "self":
            return "own user store"
        return f"security at {self.security_url or 'the publisher’s authorization server'} as {self.service_user}"

    def security_client(self, *, own_url: str | None = None) -> SecurityClient:
        if self.mode == "self":
            return SecurityClient(own_url)
        return SecurityClient(_Resolver(self))

    def service_credentials(self, *, own_url: str | None = None):
        """What this component's own requests carry (to the publisher and other components)."""
        if self.mode == "standalone":
            return StaticToken(self.token)
        if self.mode == "open":
            return None
        return ServiceCredentials(self.security_client(own_url=own_url), self.service_user, self.service_password)

    def authenticator(self, component, store):
        if self.mode == "open":
            return None
        if self.mode == "standalone":
            static = StaticCredentials()
            static.add_token(self.token, Principal(account="admin", name="admin", roles=frozenset({"admin"})))
            return static
        if self.mode == "self":
            return component.authenticator(store)
        security = self.security_client()
        security.credentials = self.service_credentials()
        return RemoteAuthenticator(security, CredentialCache(ttl=self.cache_ttl))


class _Resolver:
    """The security component's URL: given, or asked of the publisher (which caches it)."""

    def __init__(self, auth: Auth):
        self.auth = auth
        self._publisher: PublisherClient | None = None

    def __call__(self) -> str:
        if self.auth.security_url:
            return self.auth.security_url
        if self._publisher is None:
            self._publisher = PublisherClient(self.auth.publisher_url, credentials=BasicCredentials(
                self.auth.service_user, self.auth.service_password))
        return self._publisher.url_for(AUTHORIZATION.type_id)


def auth_for(args, component, data: Path) -> Auth:
    """The Auth of ``accords serve`` from its arguments; PlatformError when it cannot work."""
    name = args.component
    if args.insecure_no_auth:
        return Auth("open", name)
    security = getattr(args, "security", None)
    if component.authenticator is None and not security and not args.publisher:
        return Auth("standalone", name, token=settings.local_token(data))
    path = Path(args.credentials) if getattr(args, "credentials", None) else credentials_dir(data) / f"{name}.json"
    mode = "self" if component.authenticator is not None else "remote"
    user = password = None
    if mode == "remote" or path.exists():
        try:
            found = read_credentials(path)
        except FileNotFoundError:
            raise PlatformError(
                f"no service credentials for {name}: expected {path} (the security component writes "
                f"DIR/credentials/{name}.json when it first starts; copy it here or pass --credentials FILE)"
            ) from None
        except (OSError, ValueError) as exc:
            raise PlatformError(f"cannot use the service credentials {path}: {exc}") from None
        user, password = found["user"], found["password"]
    return Auth(mode, name, security_url=security, publisher_url=args.publisher, service_user=user,
                service_password=password,
                cache_ttl=float(os.environ.get("ACCORDS_AUTH_CACHE_TTL", "10")))
