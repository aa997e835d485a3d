"""The node's variables: ``metadata`` entities, ``DIR/metadata.env``, and what scripts receive.

Every ``metadata`` entity is a variable: scripts, forks and probes receive it in their
environment, and ``DIR/metadata.env`` holds them all as shell-quoted ``NAME=VALUE`` lines
(mode 0600, replaced atomically), so that a script can also ``. "$ACCORDS_METADATA"``.
Values are quoted with :func:`shlex.quote`: reading the file never runs anything a value
holds. Names are shell identifiers and unique; the few that would change how a shell or
the dynamic linker behaves (``PATH``, ``IFS``, ``LD_*``, ...) are refused, as are the
``ACCORDS_*`` names the agent sets itself.
"""
from __future__ import annotations

import os
import re
import shlex
import tempfile
from pathlib import Path
from typing import Mapping

from broker.agent.model import METADATA, NAME_PATTERN
from occi.errors import BadRequest
from occi.store.base import Query

__all__ = ["RESERVED", "check_name", "variables", "render", "write_file", "NAME", "VALUE"]

NAME, VALUE = "occi.metadata.name", "occi.metadata.value"
RESERVED = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "IFS", "PWD", "OLDPWD", "ENV", "BASH_ENV",
                      "CDPATH", "PS4", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "PYTHONSTARTUP"})
_RESERVED_PREFIXES = ("LD_", "ACCORDS_")
_IDENTIFIER = re.compile(NAME_PATTERN)


def check_name(name: str, *, where: str = NAME) -> str:
    """``name`` when it may be a variable of the node; else BadRequest saying why."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise BadRequest(f"metadata name {name!r} is not a shell identifier (letters, digits and _, not "
                         "starting with a digit)", code="bad-metadata-name", where=where)
    if name in RESERVED or name.startswith(_RESERVED_PREFIXES):
        raise BadRequest(f"metadata name {name!r} is reserved: scripts need it as the agent sets it "
                         f"(reserved: {', '.join(sorted(RESERVED))}, LD_*, ACCORDS_*)",
                         code="reserved-metadata-name", where=where)
    return name


def variables(session, *, changed: Mapping[str, str] | None = None, removed: str | None = None) -> dict[str, str]:
    """Every variable stored in ``session``, with ``changed`` applied and ``removed`` left out
    (what a hook sees before its own write)."""
    found: dict[str, str] = {}
    for record in session.list(Query(kinds=[METADATA.type_id])):
        name = record.attributes.get(NAME)
        if name:
            found[name] = str(record.attributes.get(VALUE) or "")
    if removed is not None:
        found.pop(removed, None)
    found.update(changed or {})
    return found


def render(values: Mapping[str, str]) -> str:
    lines = ["# The node's metadata, written by the accords agent; every value is shell-quoted.",
             "# Export them all with: set -a; . ./metadata.env; set +a"]
    lines += [f"{name}={shlex.quote(value)}" for name, value in sorted(values.items())]
    return "\n".join(lines) + "\n"


def write_file(path: Path, values: Mapping[str, str]) -> None:
    """Replace ``path`` with ``values`` atomically (a reader sees the old file or the new one), mode 0600."""
    descriptor, temporary = tempfile.mkstemp(prefix=".metadata-", dir=path.parent)   # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(render(values))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
