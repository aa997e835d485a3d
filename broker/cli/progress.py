"""A progress line per node while a command waits for a service (``submit --wait``, ``start --wait`` ...).

On a terminal the block of lines is redrawn in place (ANSI: cursor up, erase line), each with
a bar that advances through the states towards the goal::

    db    [##########] running      local
    app   [######----] configuring  local  waiting for db to run
    web   [###-------] creating     local

Anywhere else (a pipe, a log file, CI) it prints a plain line each time a node changes, as
``  NODE on PROVIDER: STATE (MESSAGE)``: nothing a reader has to strip escapes from. It
always writes to stderr (or the stream it is given), never to stdout, so that ``--json``
output stays clean. No dependency: the two escape sequences are all it needs.
"""
from __future__ import annotations

import shutil
import sys

__all__ = ["NodeProgress", "FRACTIONS", "bar"]

#: How far along each state is, for each goal; a state not listed is at the start.
FRACTIONS = {
    "running": {"pending": 0.0, "stopped": 0.0, "stopping": 0.1, "creating": 1 / 3, "starting": 1 / 3,
                "configuring": 2 / 3, "running": 1.0},
    "stopped": {"running": 0.0, "configuring": 0.0, "stopping": 0.5, "stopped": 1.0},
    "deleted": {"deleting": 0.5, "deleted": 1.0},
}
_BAR = 10


def bar(state: str | None, goal: str) -> str:
    """``[####------]``; a failed node's bar says so."""
    if state == "failed":
        return "[" + "FAILED".center(_BAR, "!") + "]"
    done = round(FRACTIONS.get(goal, FRACTIONS["running"]).get(state or "", 0.0) * _BAR)
    return "[" + "#" * done + "-" * (_BAR - done) + "]"


class NodeProgress:
    """Shows ``occi.service.nodes`` (name -> report) each time :meth:`update` is given it."""

    def __init__(self, *, goal: str = "running", stream=None, tty: bool | None = None):
        self.goal = goal
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._lines: dict[str, str] = {}        # what was last shown per node
        self._drawn = 0                         # lines of the block on screen (tty)

    def update(self, nodes: dict[str, dict]) -> None:
        if self.tty:
            self._redraw(nodes)
        else:
            self._changes(nodes)

    def _changes(self, nodes: dict[str, dict]) -> None:
        for name, report in sorted(nodes.items()):
            line = f"{report.get('state')}" + (f" ({report['message']})" if report.get("message") else "")
            if self._lines.get(name) != line:
                where = f" on {report['provider']}" if report.get("provider") else ""
                print(f"  {name}{where}: {line}", file=self.stream, flush=True)
            self._lines[name] = line

    def _redraw(self, nodes: dict[str, dict]) -> None:
        width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        names = sorted(nodes)
        name_width = max((len(n) for n in names), default=4)
        lines = []
        for name in names:
            report = nodes[name]
            state = report.get("state") or "pending"
            line = "  ".join(part for part in (f"{name:<{name_width}}", bar(state, self.goal), f"{state:<11}",
                                               report.get("provider") or "", report.get("message") or "") if part)
            lines.append(line[:width])          # a wrapped line would break the count of lines to go up
        if self._drawn and [self._lines.get(n) for n in names] == lines:
            return
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F")  # to the first column of the block's first line
        # Blank what a longer block drew before, so that no stale line stays under it.
        out += [f"\x1b[2K{line}\n" for line in lines + [""] * max(0, self._drawn - len(lines))]
        self.stream.write("".join(out))
        self.stream.flush()
        self._drawn = max(self._drawn, len(lines))
        self._lines = dict(zip(names, lines))
