"""What every CLI command shares: its errors, JSON or text output, tables, secrets from the terminal.

Commands raise :class:`CliError` (or let an :class:`occi.errors.OcciError` through);
``broker.cli.main`` prints either as ``accords COMMAND: message`` on stderr and exits 1,
so that no command formats its own failures differently.
"""
from __future__ import annotations

import getpass
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

__all__ = ["CliError", "emit", "table", "entity_row", "when", "read_secret", "read_stdin_lines", "new_secret"]


class CliError(Exception):
    """A failure to report on stderr with the command's name; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


def emit(args, data: Any, text: Callable[[Any], str | None]) -> None:
    """Print ``data`` as JSON with ``--json``, else what ``text(data)`` makes of it for people."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=None, sort_keys=False))
        return
    rendered = text(data)
    if rendered:
        print(rendered)


def entity_row(attributes: dict, *, prefix: str, fields: Sequence[str], hidden: str) -> dict:
    """An entity as the CLI shows it: its ``prefix`` attributes without the prefix, ``fields`` first
    (None when missing), the others sorted; never ``hidden`` (write-only on the server anyway)."""
    rest = {k[len(prefix):]: v for k, v in attributes.items() if k.startswith(prefix)}
    rest.pop(hidden, None)
    row = {field: rest.pop(field, None) for field in fields}
    row.update(sorted(rest.items()))
    return row


def table(rows: Iterable[dict], columns: Sequence[tuple[str, str]]) -> str:
    """A plain left-aligned table; ``columns`` are (key, heading); lists are joined with commas."""
    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value)) or "-"
        return str(value)

    cells = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def when(epoch: float | None) -> str:
    """An epoch time for people: ISO 8601 in UTC and how far away it is."""
    if epoch is None:
        return "-"
    text = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
    left = epoch - time.time()
    if left < 0:
        return f"{text} (expired)"
    return f"{text} (in {_duration(left)})"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


_stdin_lines: list[str] | None = None


def read_stdin_lines(count: int, what: str) -> list[str]:
    """The first ``count`` lines of stdin (read once, without their line ends): --password-stdin."""
    global _stdin_lines
    if _stdin_lines is None:
        _stdin_lines = [line.rstrip("\r\n") for line in sys.stdin.read().splitlines()]
    if len(_stdin_lines) < count or not all(_stdin_lines[:count]):
        raise CliError(f"--password-stdin: expected {what} on stdin ({count} non-empty line{'s' * (count > 1)})")
    return _stdin_lines[:count]


def read_secret(prompt: str) -> str:
    """A secret typed at the terminal (not echoed); the prompt goes to the terminal, not stdout."""
    try:
        value = getpass.getpass(prompt)
    except EOFError:
        raise CliError("no terminal to read a password from: use --password-stdin") from None
    if not value:
        raise CliError("an empty password was given")
    return value


def new_secret(prompt: str) -> str:
    """A new password typed twice, so that a typo does not lock anyone out."""
    first = read_secret(prompt)
    if read_secret("again: ") != first:
        raise CliError("the two passwords differ; nothing was changed")
    return first
