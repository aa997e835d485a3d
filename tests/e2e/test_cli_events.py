"""`accords events` on real processes: every step of a service's nodes (who, what, when, outcome),
oldest first, followed until the service settles; and `--wait`'s progress per node on a terminal."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from tests.broker.provisioning.test_drift import TWO
from tests.e2e.test_cli_security import _PLATFORM_ENV, accords, as_json
from tests.e2e.test_cli_services import deploying  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def test_events_follow_a_deployment_until_it_settles_then_list_in_time_order(deploying, tmp_path):  # noqa: F811
    data = deploying.data
    manifest = tmp_path / "two.xml"
    manifest.write_text(TWO.format(name="two"))
    submitted = as_json(accords("submit", str(manifest), "--json", data=data, timeout=60))   # no --wait
    assert submitted["state"] == "deploying"

    followed = accords("events", "two", "--follow", "--interval", "0.2", "--json", data=data, timeout=180)
    assert followed.returncode == 0, followed.stderr
    events = [json.loads(line) for line in followed.stdout.splitlines()]
    for event in events:                        # who, what, when, outcome: always there
        assert event["who"] and event["what"] and event["at"] and event["when"] and event["outcome"]
    assert len({e["event"] for e in events}) == len(events)             # each printed once
    for node in ("db", "app"):
        steps = [e["what"] for e in events if e["node"] == node]
        assert steps[:1] == ["created"] and {"place", "create", "configure"} <= set(steps), steps
        assert [e["to"] for e in events if e["node"] == node and e["what"] == "configure"] == ["running"]
    created = next(e for e in events if e["what"] == "created")
    assert created["who"] != "reconciler"                               # a user's request: its user
    assert {e["who"] for e in events if e["what"] == "place"} == {"reconciler"}

    listed = as_json(accords("events", "two", "--json", data=data))
    assert [e["at"] for e in listed] == sorted(e["at"] for e in listed)
    assert {e["event"] for e in listed} == {e["event"] for e in events}
    text = accords("events", "two", data=data)
    assert text.returncode == 0 and text.stdout.split("\n")[0].split() == [
        "when", "node", "who", "what", "outcome", "state", "message"]
    assert "pending -> creating" in text.stdout

    # A user's stop is an event of that user, then the reconciler's steps; --follow stops when stopped.
    assert accords("stop", "two", data=data).returncode == 0
    stopped = accords("events", "two", "--follow", "--interval", "0.2", "--json", data=data, timeout=120)
    assert stopped.returncode == 0
    later = [json.loads(line) for line in stopped.stdout.splitlines()]
    asked = [e for e in later if e["what"] == "stop" and e["who"] != "reconciler"]
    assert asked and all(e["node"] in ("db", "app") for e in asked)
    assert {(e["node"], e["to"]) for e in later if e["what"] == "stop" and e["to"] == "stopped"} == {
        ("db", "stopped"), ("app", "stopped")}

    bad = accords("events", "two", "--follow", "--interval", "0", data=data)
    assert bad.returncode == 2 and "--interval" in bad.stderr


def test_wait_on_a_terminal_redraws_a_progress_bar_per_node_and_keeps_stdout_clean(deploying, tmp_path):  # noqa: F811
    data = deploying.data
    manifest = tmp_path / "two.xml"
    manifest.write_text(TWO.format(name="two"))
    # stderr on a pseudo-terminal, stdout on a pipe: --json must stay clean.
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
    env.update(ACCORDS_DATA=str(data), COLUMNS="120")
    process = subprocess.Popen([sys.executable, "-m", "broker", "submit", str(manifest), "--wait", "--json"],
                               stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    screen = b""
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:                     # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            screen += chunk
        stdout, _ = process.communicate(timeout=180)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0
    report = json.loads(stdout)                 # nothing but the JSON document
    assert report["state"] == "running"
    text = screen.decode()
    assert "\x1b[2F" in text and "\x1b[2K" in text            # redrawn in place
    assert "[##########]" in text and "[-" in text              # the bars advanced from empty to full
    assert b"\x1b" not in stdout
