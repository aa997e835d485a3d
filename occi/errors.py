"""The one exception tree of the OCCI framework.

Every error a client can cause is an :class:`OcciError` subclass carrying its HTTP
status, a stable machine-readable ``code`` and, where it helps, ``where`` (the header,
attribute or body position at fault). The server maps the tree to HTTP in exactly one
place (:mod:`occi.server.errors`).
"""
from __future__ import annotations

__all__ = [
    "OcciError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "Conflict",
    "Gone",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "HeadersTooLarge",
    "TooManyRequests",
    "NotImplementedByServer",
    "ServiceUnavailable",
    "BadGateway",
]


class OcciError(Exception):
    """Base of every OCCI error; ``status`` is the HTTP status it maps to."""

    status = 500
    default_code = "internal"

    def __init__(self, message: str, *, code: str | None = None, where: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.where = where
        self.headers = dict(headers or {})

    def as_dict(self) -> dict:
        body = {"status": self.status, "code": self.code, "message": self.message}
        if self.where is not None:
            body["where"] = self.where
        return body


class BadRequest(OcciError):
    status = 400
    default_code = "bad-request"


class Unauthorized(OcciError):
    status = 401
    default_code = "unauthorized"


class Forbidden(OcciError):
    status = 403
    default_code = "forbidden"


class NotFound(OcciError):
    status = 404
    default_code = "not-found"


class MethodNotAllowed(OcciError):
    status = 405
    default_code = "method-not-allowed"

    def __init__(self, message: str, *, allowed: tuple[str, ...], **kwargs):
        super().__init__(message, **kwargs)
        self.allowed = allowed
        self.headers["Allow"] = ", ".join(allowed)


class NotAcceptable(OcciError):
    status = 406
    default_code = "not-acceptable"


class Conflict(OcciError):
    status = 409
    default_code = "conflict"


class Gone(OcciError):
    status = 410
    default_code = "gone"


class PayloadTooLarge(OcciError):
    status = 413
    default_code = "too-large"


class UnsupportedMediaType(OcciError):
    status = 415
    default_code = "unsupported-media-type"


class HeadersTooLarge(OcciError):
    status = 431
    default_code = "headers-too-large"


class NotImplementedByServer(OcciError):
    status = 501
    default_code = "not-implemented"


class TooManyRequests(OcciError):
    """Throttled (e.g. failed logins); ``Retry-After`` says when to try again."""

    status = 429
    default_code = "too-many-requests"

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after + 0.999))
        self.headers.setdefault("Retry-After", str(self.retry_after))


class ServiceUnavailable(OcciError):
    status = 503
    default_code = "unavailable"


class BadGateway(OcciError):
    """Another server this one relies on answered with nonsense or a refusal that is not the client's."""

    status = 502
    default_code = "bad-gateway"
