"""How a component's hooks reach another component: the server of a category, found through
the publisher, spoken to as the caller (so that what is created belongs to the caller's
account) or as the component itself (its service credentials)."""
from __future__ import annotations

import threading

from occi.errors import BadGateway, NotFound, OcciError, ServiceUnavailable

__all__ = ["Gateway", "peer_error"]


class _ThreadCaller:
    """The Authorization of the caller this thread acts for (passed on, never stored)."""

    value: str | None = None

    def authorization(self) -> str | None:
        return self.value

    def invalidate(self) -> bool:
        return False


def peer_error(exc: Exception, *, what: str, where: str | None = None) -> OcciError:
    """What to tell our client when a peer failed us: the peer's own 403/404/409 pass through
    (they are about the caller's request), its other refusals are our fault (502), and a peer
    that cannot be reached is a 503."""
    if isinstance(exc, OcciError):
        status = getattr(exc, "status", 500)
        if status in (401, 403, 404, 409, 429, 503):
            return exc
        error = BadGateway(f"{what}: the peer answered {status} {exc.code}: {exc.message}", code="peer-refused",
                           where=where)
        return error
    return ServiceUnavailable(f"{what}: the peer cannot be reached ({exc.__class__.__name__})",
                              code="peer-unreachable", where=where)


class Gateway:
    """The server of ``category`` (a type id) at another component.

    ``attach(peers)`` is called once the component knows its peers (per worker); until then,
    or without a publisher, every use is a 503 that says so.
    """

    def __init__(self, category: str, *, what: str, timeout: float = 10.0):
        self.category = category
        self.what = what
        self.timeout = timeout
        self.peers = None
        self._local = threading.local()
        self._service_clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def attach(self, peers) -> None:
        self.peers = peers

    def base_url(self) -> str:
        if self.peers is None or self.peers.publisher is None:
            raise ServiceUnavailable(f"this component has no publisher, so it cannot reach the {self.what}",
                                     code="no-publisher")
        try:
            return self.peers.url_for(self.category).rstrip("/")
        except NotFound:
            raise ServiceUnavailable(f"no {self.what} is published", code=f"no-{self.what.replace(' ', '-')}") \
                from None

    def as_caller(self, authorization: str | None, *, base_url: str | None = None):
        """A client acting as the caller whose Authorization header this is.

        Clients are kept per thread and per server (their discovery of the server's model is
        reused); the caller's header is the thread's until the next call."""
        from occi.client import OcciClient

        url = base_url or self.base_url()
        clients = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
            self._local.caller = _ThreadCaller()
        client = clients.get(url)
        if client is None:
            client = clients[url] = OcciClient(url, credentials=self._local.caller, timeout=self.timeout,
                                               retries=0)
        self._local.caller.value = authorization
        return client

    def as_service(self, base_url: str | None = None):
        """A client acting as this component (its service credentials)."""
        from occi.client import OcciClient

        url = base_url or self.base_url()
        with self._lock:
            client = self._service_clients.get(url)
            if client is None:
                credentials = self.peers.credentials if self.peers is not None else None
                client = self._service_clients[url] = OcciClient(url, credentials=credentials,
                                                                 timeout=self.timeout, retries=1)
        return client
