"""HTTP for the OCCI client: credentials, retries and the mapping of errors to occi.errors.

Kept apart from the OCCI semantics so that the retry policy is one small, testable
piece: only idempotent methods are retried (a POST may have created something even
when its response was lost), and the token lives in one private header value that is
never logged, repr'd or put into an exception message.

Every request carries ``X-Request-Id`` when there is one: the client's own
(``request_id=``), else the id of the request this process is serving
(:data:`occi.client.request_id`, set by the server around each request), so that a
component calling another one passes the id on without doing anything.
"""
from __future__ import annotations

import base64
import json
import re
import time
from typing import Any, Callable, Protocol

import requests

from occi import errors
from occi.logs import REQUEST_ID_HEADER
from occi.logs import request_id as current_request_id

__all__ = ["Transport", "Credentials", "error_from_response", "IDEMPOTENT", "RETRY_STATUSES"]

IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
_BY_STATUS: dict[int, type[errors.OcciError]] = {
    cls.status: cls for cls in (getattr(errors, name) for name in errors.__all__) if cls is not errors.OcciError}
_TEXT_ERROR = re.compile(r"(\d{3})\s+([^\s:]+):\s?(.*)")


def _error_parts(response: requests.Response) -> tuple[str, str | None, str | None]:
    """(message, code, where) from a JSON ``{"error": ...}`` or a text ``STATUS code: message`` body."""
    text = response.content.decode("utf-8", "replace").strip()
    if "json" in response.headers.get("Content-Type", ""):
        try:
            body = json.loads(text).get("error") or {}
            return str(body.get("message") or response.reason or "error"), body.get("code"), body.get("where")
        except (ValueError, AttributeError):
            pass
    lines = text.splitlines()
    match = _TEXT_ERROR.fullmatch(lines[0].strip()) if lines else None
    if match is None:
        return text or f"{response.status_code} {response.reason or 'error'}", None, None
    where = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("where:")), None)
    return match.group(3), match.group(2), where


def error_from_response(response: requests.Response) -> errors.OcciError:
    """The occi.errors exception for a non-2xx response, with the server's message, code and where."""
    message, code, where = _error_parts(response)
    status = response.status_code
    cls = _BY_STATUS.get(status, errors.OcciError)
    if cls is errors.MethodNotAllowed:
        allowed = tuple(m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip())
        error: errors.OcciError = cls(message, allowed=allowed, code=code, where=where)
    elif cls is errors.TooManyRequests:
        try:
            retry_after = float(response.headers.get("Retry-After", "1"))
        except ValueError:          # an HTTP date: wait a second and ask again
            retry_after = 1.0
        error = cls(message, retry_after=retry_after, code=code, where=where)
    else:
        error = cls(message, code=code, where=where)
    error.status = status
    error.url = response.url
    #: The whole response, for callers that read more than the message (a list of problems).
    error.response = response
    return error


class Credentials(Protocol):
    """Credentials that change over time (a token obtained from the security component and
    renewed before it expires): the Authorization value to send now, and a way to say the
    server refused it (the transport then asks again once)."""

    def authorization(self) -> str: ...
    def invalidate(self) -> bool:
        """Forget the refused credential; True when asking again may give a better one."""


class Transport:
    """One base URL, one credential, one retry policy; relative locations resolve against the base."""

    def __init__(self, base_url: str, *, token: str | None = None, basic: tuple[str, str] | None = None,
                 credentials: Credentials | None = None,
                 timeout: float = 10.0, retries: int = 3, backoff: float = 0.2,
                 session: requests.Session | None = None, user_agent: str = "accords-client/0.1 OCCI/1.2",
                 sleep: Callable[[float], None] = time.sleep, request_id: str | None = None):
        if sum(x is not None for x in (token, basic, credentials)) > 1:
            raise ValueError("give one of a token, Basic credentials or a credentials provider")
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, max(0, retries), backoff
        self.user_agent = user_agent
        #: Sent as X-Request-Id; None: the id of the request being served, if any (occi.client.request_id).
        self.request_id = request_id
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._authorization: str | None = None
        if token is not None:
            self._authorization = f"Bearer {token}"
        elif basic is not None:
            pair = f"{basic[0]}:{basic[1]}".encode("utf-8")
            self._authorization = "Basic " + base64.b64encode(pair).decode("ascii")

    def __repr__(self) -> str:   # no credentials, ever
        auth = self._authorization.split(" ", 1)[0] if self._authorization else \
            ("provider" if self.credentials is not None else "none")
        return f"Transport({self.base_url!r}, auth={auth})"

    def url(self, location: str) -> str:
        """Absolute URLs are used as is; paths are under the base URL (the server's root)."""
        if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://", location):
            return location
        return self.base_url + "/" + location.lstrip("/")

    def path(self, location: str) -> str:
        """The path of a location under our base URL (what discovery's ``location=`` values are)."""
        url = self.url(location)
        if url.lower().startswith(self.base_url.lower()):
            return url[len(self.base_url):] or "/"
        return url

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def request(self, method: str, location: str, *, headers: dict[str, Any] | None = None,
                body: bytes | None = None, params: dict[str, Any] | None = None) -> requests.Response:
        """Send one request (retrying idempotent ones); raise the matching OcciError unless 2xx."""
        method = method.upper()
        url = self.url(location)
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        rid = self.request_id or current_request_id.get()
        if rid is not None and not any(name.lower() == "x-request-id" for name in sent):
            sent[REQUEST_ID_HEADER] = rid
        if self._authorization is not None:
            sent["Authorization"] = self._authorization
        response = self._send(method, url, sent, body, params)
        if response.status_code == 401 and self.credentials is not None:
            # Our token was revoked or expired early: nothing ran, so any method may go again
            # once, with a new one (fixed credentials say there is no point).
            if self.credentials.invalidate():
                response.close()
                response = self._send(method, url, sent, body, params)
        if 200 <= response.status_code < 300:
            return response
        raise error_from_response(response)

    def _send(self, method: str, url: str, sent: dict, body, params) -> requests.Response:
        if self.credentials is not None:
            sent = {**sent, "Authorization": self.credentials.authorization()}
        attempts = 1 + (self.retries if method in IDEMPOTENT else 0)
        response = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                response = self.session.request(method, url, headers=sent, data=body, params=params,
                                                timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 < attempts:
                    continue
                raise errors.ServiceUnavailable(
                    f"cannot reach {url} ({method}, {attempts} attempt{'s' if attempts > 1 else ''}): "
                    f"{type(exc).__name__}", code="unreachable", where=url) from exc
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                response.close()
                continue
            break
        assert response is not None
        return response
