"""Who is asking, and how they see our URLs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from occi.urls import Urls

__all__ = ["Principal", "RequestContext", "ANONYMOUS"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the account that owns what it creates, its name and roles."""

    account: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    #: When the credential that authenticated the caller stops being valid (epoch seconds), if known.
    expires: float | None = None


ANONYMOUS = Principal(account="anonymous", name="anonymous", roles=frozenset({"admin"}))


@dataclass
class RequestContext:
    principal: Principal
    urls: Urls
    #: Version the client last saw (If-Match); a write against another version is a 409.
    if_match: int | None = None
    #: The request's id (``X-Request-Id``), for logs and for the requests a hook sends on.
    request_id: str | None = None
    #: The peer's address (for throttling and audit logs).
    remote_addr: str | None = None
    #: Headers to add to a successful response (a hook's output that is not an attribute,
    #: e.g. a token shown once); never sent when the request fails.
    response_headers: dict[str, str] = field(default_factory=dict)
    #: The store session of the operation, set while hooks run: they read (and may write)
    #: in the request's transaction, so a refusal rolls everything back.
    session: Any = None
    #: The caller's Authorization header, for a hook that acts at another component on the
    #: caller's behalf (what it creates there belongs to the caller). Never stored or logged.
    authorization: str | None = field(default=None, repr=False)
    #: What a hook keeps across the attempts of one request (an action is run again when the
    #: entity changed under it): e.g. the answers of the remote calls it made, so that a
    #: retry does not send them again.
    retained: dict = field(default_factory=dict, repr=False)
