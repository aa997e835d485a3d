"""Checking credentials against the security component's own store.

The one place that decides whether a token or a password is good: the security
component's authenticator and its ``/introspect`` route (which every other component
calls) both come here.

Failed logins slow down, per user (kept in the store, so every worker and every host
agrees, and a restart forgets nothing) and per client address (in memory, per process):

* a user's first ``FREE_FAILURES`` failures cost nothing; then each one makes the next
  attempt wait twice as long, up to ``MAX_DELAY`` seconds; a success resets the count;
* one address may fail ``ADDRESS_LIMIT`` times within ``ADDRESS_WINDOW`` seconds.

While throttled, the password is not even checked (429 with Retry-After). Every failure
is logged with the user name and address, never the password.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from datetime import datetime, timezone

from occi.errors import TooManyRequests
from occi.security.model import AUTHORIZATION, MAX_PASSWORD_LENGTH, USER, account_location, user_location
from occi.security.passwords import Passwords, token_digest
from occi.service.context import Principal
from occi.store.base import Query, StaleWrite

__all__ = ["Verifier", "AddressThrottle", "FREE_FAILURES", "MAX_DELAY", "ADDRESS_LIMIT", "ADDRESS_WINDOW",
           "MAX_TOKEN_LENGTH", "user_location", "account_location"]

log = logging.getLogger("accords.security")

FREE_FAILURES = 3
MAX_DELAY = 900.0
ADDRESS_LIMIT = 20
ADDRESS_WINDOW = 60.0
MAX_TOKEN_LENGTH = 256
_MAX_NAME_LENGTH = 64


def _epoch(text: str | None) -> float:
    if not text:
        return 0.0
    return datetime.fromisoformat(text).timestamp()


class AddressThrottle:
    """Failures per client address in a sliding window (bounded memory: the oldest addresses go)."""

    def __init__(self, *, limit: int = ADDRESS_LIMIT, window: float = ADDRESS_WINDOW, capacity: int = 10_000,
                 clock=time.monotonic):
        self.limit, self.window, self.capacity = limit, window, capacity
        self._clock = clock
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque | None:
        failures = self._failures.get(address)
        if failures is not None:
            while failures and now - failures[0] > self.window:
                failures.popleft()
        return failures

    def check(self, address: str | None) -> None:
        if not address:
            return
        with self._lock:
            now = self._clock()
            failures = self._recent(address, now)
            if failures is not None and len(failures) >= self.limit:
                raise TooManyRequests(f"too many failed logins from {address}; wait before trying again",
                                      retry_after=self.window - (now - failures[0]), code="login-throttled")

    def failed(self, address: str | None) -> None:
        if not address:
            return
        with self._lock:
            now = self._clock()
            failures = self._recent(address, now)
            if failures is None:
                failures = self._failures[address] = deque(maxlen=self.limit)
                while len(self._failures) > self.capacity:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(address)
            failures.append(now)


class Verifier:
    def __init__(self, store, passwords: Passwords, *, throttle: AddressThrottle | None = None, clock=time.time):
        self.store = store
        self.passwords = passwords
        self.throttle = throttle or AddressThrottle()
        self._clock = clock

    # -- tokens ---------------------------------------------------------------------------
    def by_token(self, token: str) -> Principal | None:
        """The principal a token acts for, or None (unknown, revoked, expired, user or account disabled)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = self._clock()
        query = Query(kinds=[AUTHORIZATION.type_id], attributes={"occi.authorization.digest": token_digest(token)},
                      limit=1)
        with self.store.session(readonly=True) as session:
            found = session.list(query)
            if not found:
                return None
            grant = found[0].attributes
            if grant.get("occi.authorization.state") != "active" or grant.get("occi.authorization.expires", 0) <= now:
                return None
            user = session.get(user_location(grant.get("occi.authorization.user", "")))
            if user is None or not self._usable(session, user.attributes):
                return None
            # A token issued before the last password change is no longer good: changing a
            # password logs every session out.
            if _epoch(user.attributes.get("occi.user.passwordChanged")) > _epoch(grant.get("occi.authorization.from")):
                return None
            return self._principal(user.attributes, grant["occi.authorization.expires"])

    @staticmethod
    def _usable(session, user: dict) -> bool:
        if user.get("occi.user.state") != "active":
            return False
        account = session.get(account_location(user.get("occi.user.account", "")))
        return account is not None and account.attributes.get("occi.account.state") == "active"

    @staticmethod
    def _principal(user: dict, expires: float | None) -> Principal:
        return Principal(account=user["occi.user.account"], name=user["occi.user.name"],
                         roles=frozenset(user.get("occi.user.roles") or ()), expires=expires)

    # -- passwords -----------------------------------------------------------------------------
    def by_password(self, name: str, password: str, *, address: str | None = None) -> Principal | None:
        """The user's principal if the password is right; None otherwise; TooManyRequests when throttled."""
        self.throttle.check(address)
        if not name or len(name) > _MAX_NAME_LENGTH or "/" in name or len(password) > MAX_PASSWORD_LENGTH:
            self._failed(None, name, address, "malformed credentials")
            return None
        location = user_location(name)
        with self.store.session(readonly=True) as session:
            record = session.get(location)
            user = record.attributes if record is not None and record.kind == USER.type_id else None
            usable = user is not None and self._usable(session, user)
        now = self._clock()
        if user is not None and user.get("occi.user.retryAfter", 0) > now:
            wait = user["occi.user.retryAfter"] - now
            log.warning("login refused for user %r from %s: throttled for %.0f s more", name, address or "-", wait)
            raise TooManyRequests(f"too many failed logins for {name!r}; try again later", retry_after=wait,
                                  code="login-throttled")
        good = self.passwords.verify(user.get("occi.user.password") if user is not None else None, password)
        if not good or not usable:
            self._failed(location if user is not None else None, name, address,
                         "wrong password" if not good else "user or account disabled")
            return None
        self._succeeded(location, password)
        return self._principal(user, None)

    def _failed(self, location: str | None, name: str, address: str | None, why: str) -> None:
        self.throttle.failed(address)
        failures = self._record(location, failed=True) if location is not None else None
        log.warning("login failed for user %r from %s: %s%s", name[:_MAX_NAME_LENGTH], address or "-", why,
                    f" ({failures} in a row)" if failures else "",
                    extra={"event": "login-failed", "user": name[:_MAX_NAME_LENGTH], "remote": address})

    def _succeeded(self, location: str, password: str) -> None:
        self._record(location, failed=False, password=password)

    def _record(self, location: str, *, failed: bool, password: str | None = None) -> int | None:
        """Count a failure (and set the next allowed time) or reset after a success; concurrent
        logins of one user are retried on the optimistic-concurrency conflict."""
        for _ in range(5):
            with self.store.session() as session:
                record = session.get(location)
                if record is None:
                    return None
                attributes = record.attributes
                if failed:
                    failures = attributes.get("occi.user.failures", 0) + 1
                    attributes["occi.user.failures"] = failures
                    if failures >= FREE_FAILURES:
                        attributes["occi.user.retryAfter"] = self._clock() + min(
                            2.0 ** (failures - FREE_FAILURES), MAX_DELAY)
                else:
                    failures = 0
                    if not attributes.get("occi.user.failures") and password is not None and \
                            not self.passwords.needs_rehash(attributes.get("occi.user.password", "")) and \
                            _recent(attributes.get("occi.user.lastLogin"), self._clock()):
                        return 0          # nothing worth a write on every login
                    attributes["occi.user.failures"] = 0
                    attributes.pop("occi.user.retryAfter", None)
                    attributes["occi.user.lastLogin"] = _now_text(self._clock())
                    if password is not None and self.passwords.needs_rehash(attributes.get("occi.user.password", "")):
                        attributes["occi.user.password"] = self.passwords.hash(password)
                try:
                    session.update(record, expected_version=record.version)
                    return failures
                except StaleWrite:
                    continue
        return None


def _now_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def _recent(text: str | None, now: float) -> bool:
    """Whether lastLogin is within a minute: Basic credentials log in on every request, and
    rewriting the user each time would serialise them on one row."""
    return bool(text) and now - _epoch(text) < 60
