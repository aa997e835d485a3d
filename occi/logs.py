"""Request ids and structured logs (stdlib only).

A request id names one request across components: the server takes the caller's
``X-Request-Id`` when it is a sane token, else makes one, and holds it in
:data:`request_id` (a context variable) while it handles the request, so that

* every log record written meanwhile carries it (:class:`JsonFormatter`), and
* :mod:`occi.client` sends it on to the next component (``occi.client.request_id`` is this
  same variable).

:class:`JsonFormatter` writes one JSON object per line. It writes what a record carries,
never request headers or bodies: callers pass the request's method, path, status and
duration with ``extra=``, never credentials.
"""
from __future__ import annotations

import json
import logging
import os
import random
import re
import sys
from contextvars import ContextVar
from datetime import datetime, timezone

__all__ = ["request_id", "sane_request_id", "new_request_id", "JsonFormatter", "TextFormatter", "formatter",
           "configure", "REQUEST_ID_HEADER", "REQUEST_ID_PATTERN", "ACCESS_LOGGER"]

REQUEST_ID_HEADER = "X-Request-Id"
#: The logger of the access log (one line per request, written by the server's middleware).
ACCESS_LOGGER = "occi.access"

#: The id of the request being handled (None outside a request). The server sets it; the
#: client sends it as ``X-Request-Id``. A thread or executor started during a request does
#: not inherit it: run the work in ``contextvars.copy_context()`` or pass the id explicitly.
request_id: ContextVar[str | None] = ContextVar("occi_request_id", default=None)

#: What a request id may be: 1 to 64 of ``A-Z a-z 0-9 . _ -``.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def sane_request_id(value: str | None) -> str | None:
    """``value`` if it may serve as a request id (:data:`REQUEST_ID_PATTERN`), else None.

    Anything else (longer, empty, spaces, quotes, control characters) is replaced rather
    than cleaned: an id that travels into logs and other components' headers must be inert.
    """
    if value is not None and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


#: Request ids need uniqueness, not secrecy: a Mersenne Twister seeded from the OS (again in
#: every forked process) makes them without the system call per request of uuid.uuid4().
_random = random.Random()
os.register_at_fork(after_in_child=_random.seed)
_UUID4_KEEP = ~((0xF << 76) | (0x3 << 62))          # clear the version and variant bits...
_UUID4_SET = (0x4 << 76) | (0x2 << 62)              # ...and set version 4, variant RFC 4122


def new_request_id() -> str:
    """A random version-4 UUID as 32 hex digits, like ``uuid.uuid4().hex`` at a fifth of its cost
    (it runs for every request that comes without an id)."""
    return "%032x" % (_random.getrandbits(128) & _UUID4_KEEP | _UUID4_SET)


# -- formatters ----------------------------------------------------------------------------
#: Record attributes written when present (pass them with ``extra=``), in this order.
FIELDS = ("component", "request_id", "method", "path", "status", "duration_ms", "remote")


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (ISO-8601 UTC), ``level``, ``logger``, ``message``,
    ``pid`` (workers' lines interleave), then ``component``, ``request_id``, ``method``,
    ``path``, ``status``, ``duration_ms`` and ``remote`` where known, and ``traceback`` for an
    exception.

    ``component`` defaults to the formatter's; ``request_id`` to the current request's. The
    output is ASCII (non-ASCII characters escaped), so that no character inside a value can
    read as a line break to a log shipper.
    """

    def __init__(self, *, component: str | None = None):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": _timestamp(record.created), "level": record.levelname, "logger": record.name,
               "message": record.getMessage(), "pid": record.process}
        known = record.__dict__
        for name in FIELDS:
            value = known.get(name)
            if value is None:
                if name == "component":
                    value = self.component
                elif name == "request_id":
                    value = request_id.get()
                if value is None:
                    continue
            out[name] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["traceback"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """For humans, gunicorn's layout: ``[time] [pid] [LEVEL] logger: message [request id]``."""

    def __init__(self):
        super().__init__("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s", "[%Y-%m-%d %H:%M:%S %z]")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = record.__dict__.get("request_id") or request_id.get()
        return f"{text} [request {rid}]" if rid else text


def formatter(log_format: str, component: str | None = None) -> logging.Formatter:
    """The formatter of ``--log-format``: ``json`` or ``text``."""
    if log_format == "json":
        return JsonFormatter(component=component)
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"log format must be 'text' or 'json', not {log_format!r}")


_OURS = "_occi_logs"


def configure(*, log_format: str = "text", component: str | None = None, level: int = logging.WARNING,
              access_log: bool = False) -> logging.Formatter:
    """Route the process's logs: records of ``level`` and above to stderr, the access log
    (``occi.access``, INFO) to stdout when ``access_log``; both in ``log_format``. Calling it
    again replaces what an earlier call set up. Returns the formatter (for other handlers)."""
    chosen = formatter(log_format, component)
    root = logging.getLogger()
    access = logging.getLogger(ACCESS_LOGGER)
    for logger in (root, access):
        for handler in [h for h in logger.handlers if getattr(h, _OURS, False)]:
            logger.removeHandler(handler)
    errors = logging.StreamHandler(sys.stderr)
    errors.setFormatter(chosen)
    setattr(errors, _OURS, True)
    root.addHandler(errors)
    root.setLevel(level)
    if access_log:
        lines = logging.StreamHandler(sys.stdout)
        lines.setFormatter(chosen)
        setattr(lines, _OURS, True)
        access.addHandler(lines)
        access.setLevel(logging.INFO)
        access.propagate = False
    else:
        access.setLevel(logging.WARNING)
        access.propagate = True
    return chosen
