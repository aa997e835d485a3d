"""The per-node progress of `--wait`: redrawn in place on a terminal, a plain line per change elsewhere."""
from __future__ import annotations

import io
import re

from broker.cli.progress import NodeProgress, bar

ESCAPES = re.compile(r"\x1b\[[0-9]*[A-Za-z]")


def nodes(**states: str) -> dict:
    return {name: {"state": state, "provider": "local"} for name, state in states.items()}


def test_on_a_terminal_the_block_is_redrawn_in_place_with_a_bar_per_node():
    out = io.StringIO()
    progress = NodeProgress(goal="running", stream=out, tty=True)
    progress.update(nodes(db="pending", app="pending"))
    first = out.getvalue()
    assert "\x1b[2K" in first and "\x1b[2F" not in first          # nothing to go back over yet
    progress.update(nodes(db="configuring", app="creating"))
    progress.update(nodes(db="configuring", app="creating"))     # unchanged: nothing written
    progress.update(nodes(db="running", app="failed"))
    written = out.getvalue()
    assert written.count("\x1b[2F") == 2                           # back to the block's first line, twice
    last = ESCAPES.sub("", written[written.rindex("\x1b[2F"):]).splitlines()
    assert [line.split()[0] for line in last] == ["app", "db"]
    assert last[1].split()[1:3] == ["[##########]", "running"] and "FAILED" in last[0]


def test_elsewhere_a_line_per_change_and_no_escapes():
    out = io.StringIO()
    progress = NodeProgress(goal="stopped", stream=out, tty=False)
    progress.update({"db": {"state": "running", "provider": "local"}})
    progress.update({"db": {"state": "running", "provider": "local"}})
    progress.update({"db": {"state": "stopping", "provider": "local", "message": "stopping the node"}})
    assert out.getvalue().splitlines() == ["  db on local: running", "  db on local: stopping (stopping the node)"]
    assert "\x1b" not in out.getvalue()


def test_the_bar_advances_towards_each_goal():
    assert [bar(s, "running") for s in ("pending", "creating", "configuring", "running")] == [
        "[----------]", "[###-------]", "[#######---]", "[##########]"]
    assert bar("stopping", "stopped") == "[#####-----]" and bar("deleted", "deleted") == "[##########]"


def test_a_stream_that_is_not_a_terminal_is_detected():
    assert NodeProgress(stream=io.StringIO()).tty is False
