"""Keeping provider credentials out of log lines and error messages.

Drivers register the secrets they were configured with (:meth:`Redactor.register`) and pass
every message they build from a provider's answer through :meth:`Redactor.scrub`. A secret
that travels encoded (user data in a query string, base64 then URL-quoted) cannot be matched
literally: :meth:`Redactor.register_pattern` hides the parameter that carries it. Client
libraries log on their own (botocore writes request headers, with the access key id, at
DEBUG): :func:`guard_loggers` attaches the redactor to their loggers, each one, because a
logger's filters apply to the records logged on it only, not on its children.
"""
from __future__ import annotations

import logging
import re
import threading

__all__ = ["Redactor", "REDACTOR", "guard_loggers", "register_credentials"]


class Redactor(logging.Filter):
    """Replaces every registered secret with ``***`` in messages and log records.

    Strings shorter than 8 characters are not taken as credentials (AWS keys have 20 and 40
    characters, OpenStack passwords are rarely that short): hiding them would only garble
    messages (``testing``, the usual emulator key, stays readable)."""

    MINIMUM = 8

    def __init__(self):
        super().__init__("accords-redactor")
        self._secrets: tuple[str, ...] = ()
        self._patterns: tuple[re.Pattern, ...] = ()
        self._lock = threading.Lock()

    def register(self, *secrets: str | None) -> None:
        with self._lock:
            found = set(self._secrets) | {s for s in secrets if s and len(s) >= self.MINIMUM}
            self._secrets = tuple(sorted(found, key=len, reverse=True))     # the longest first

    def register_pattern(self, pattern: str) -> None:
        """Hide what ``pattern`` matches; its first group, when it has one, is kept (the name of
        the parameter: ``(UserData=)[^&\\s]+`` leaves ``UserData=***``)."""
        compiled = re.compile(pattern)
        with self._lock:
            if compiled not in self._patterns:
                self._patterns = (*self._patterns, compiled)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        for pattern in self._patterns:
            text = pattern.sub(lambda m: ((m.group(1) or "") if m.re.groups else "") + "***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets or self._patterns:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
                return True
            scrubbed = self.scrub(message)
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


REDACTOR = Redactor()


def register_credentials(credentials) -> None:
    """Register every string inside ``credentials`` (a provider's secret options, nested or not)
    with :data:`REDACTOR`, before a driver is made with them."""
    if isinstance(credentials, dict):
        for value in credentials.values():
            register_credentials(value)
    elif isinstance(credentials, (list, tuple)):
        for value in credentials:
            register_credentials(value)
    elif isinstance(credentials, str):
        REDACTOR.register(credentials)


_counted: dict[tuple[str, ...], int] = {}


def guard_loggers(*roots: str) -> None:
    """Attach :data:`REDACTOR` to the loggers named ``roots`` and to every logger under them;
    cheap to call before each request (it does the work again only when loggers appeared)."""
    known = logging.Logger.manager.loggerDict
    if _counted.get(roots) == len(known):
        return
    names = [n for n in list(known) if n.split(".")[0] in roots]
    for name in [*roots, *names]:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)
    _counted[roots] = len(known)
