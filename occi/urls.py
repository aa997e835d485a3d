"""Absolute URLs on output, absolute URLs or paths on input (docs/OCCI.md §8)."""
from __future__ import annotations

from urllib.parse import urlsplit

from occi.errors import BadRequest

__all__ = ["Urls"]


class Urls:
    """Maps between our paths and the absolute URLs clients see.

    ``base`` is the public URL of this server (scheme://host[:port]); ``aliases`` are other
    bases that also mean "us" (the request's Host when it differs, a load balancer's name).
    """

    __slots__ = ("base", "_local")

    def __init__(self, base: str, *, aliases: tuple[str, ...] = ()):
        self.base = base.rstrip("/")
        self._local = tuple({b.rstrip("/").lower() for b in (self.base, *aliases)})

    def absolute(self, path: str) -> str:
        return self.base + path

    def local_path(self, uri: str, *, where: str) -> str | None:
        """The path of ``uri`` if it names something on this server, else None (external)."""
        if not uri:
            raise BadRequest("an empty location was given", code="bad-location", where=where)
        if uri.startswith("/"):
            path = uri
        else:
            lowered = uri.lower()
            for base in self._local:
                if lowered.startswith(base) and (len(uri) == len(base) or uri[len(base)] in "/?"):
                    path = uri[len(base):] or "/"
                    break
            else:
                try:
                    parts = urlsplit(uri)
                except ValueError as exc:       # e.g. an unbalanced '[' (IPv6 literal)
                    raise BadRequest(f"{uri!r} is not a valid URL ({exc})", code="bad-location",
                                     where=where) from None
                if not parts.scheme:
                    raise BadRequest(f"{uri!r} is neither an absolute path nor an absolute URL",
                                     code="bad-location", where=where)
                return None
        path = path.split("?", 1)[0].split("#", 1)[0]
        if "//" in path or "/../" in path or path.endswith("/.."):
            raise BadRequest(f"{uri!r} is not a canonical path", code="bad-location", where=where)
        return path

    def require_local(self, uri: str, *, where: str) -> str:
        path = self.local_path(uri, where=where)
        if path is None:
            raise BadRequest(f"{uri} is not a location on this server ({self.base})",
                             code="not-local", where=where)
        return path
