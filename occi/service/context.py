"""Who is asking, and how they see our URLs."""
from __future__ import annotations

from dataclasses import dataclass, field

from occi.urls import Urls

__all__ = ["Principal", "RequestContext", "ANONYMOUS"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the account that owns what it creates, its name and roles."""

    account: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)


ANONYMOUS = Principal(account="anonymous", name="anonymous", roles=frozenset({"admin"}))


@dataclass
class RequestContext:
    principal: Principal
    urls: Urls
    #: Version the client last saw (If-Match); a write against another version is a 409.
    if_match: int | None = None
    #: The request's id (``X-Request-Id``), for logs and for the requests a hook sends on.
    request_id: str | None = None
