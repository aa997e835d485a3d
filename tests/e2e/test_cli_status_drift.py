"""`accords status` with drift, on real processes (security, publisher, parser, broker, provisioning
with its reconcilers) and the local provider: nodes changed behind the platform's back show up as
drift (exit 2), --no-check skips the providers."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from broker.providers.base import NodeSpec
from broker.providers.local import LocalDriver
from broker.provisioning.reconciler import OWNER_TAG, SERVICE_TAG
from broker.provisioning.tokens import AgentTokens
from tests.broker.provisioning.test_drift import TWO
from tests.e2e.test_cli_security import accords, as_json
from tests.e2e.test_cli_services import deploying  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def _status(data, *extra):
    return accords("status", "two", *extra, data=data, timeout=60)


def test_status_shows_believed_against_reported_and_exits_2_on_drift(deploying, tmp_path):  # noqa: F811
    data = deploying.data
    manifest = tmp_path / "two.xml"
    manifest.write_text(TWO.format(name="two"))
    deployed = as_json(accords("submit", str(manifest), "--wait", "--json", data=data, timeout=180))
    assert deployed["state"] == "running"

    clean = as_json(_status(data, "--json"))
    assert clean["drift"] == [] and clean["extra"] == []
    assert {(n["name"], n["verdict"], n["reported"]["state"]) for n in clean["nodes"]} == {
        ("db", "ok", "running"), ("app", "ok", "running")}
    text = _status(data)
    assert text.returncode == 0 and "drift: none" in text.stdout and "reported" in text.stdout

    # Behind the platform's back: db's agent is killed, app's node is deleted, and a node tagged
    # with this installation and this service appears that no contract owns.
    driver = LocalDriver(root=data / "nodes")
    references = {n["name"]: n["reference"] for n in clean["nodes"]}
    assert {driver.get(ref).state for ref in references.values()} == {"running"}
    pid = json.loads((data / "nodes" / references["db"] / "instance.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while driver.get(references["db"]).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    driver.delete(references["app"])
    owner = AgentTokens.from_settings(data).token_for("installation")[:16]
    stray = driver.create(NodeSpec(name="stray", contract="urn:uuid:00000000-0000-4000-8000-0000000000aa",
                                   tags={OWNER_TAG: owner, SERVICE_TAG: deployed["service"][-200:]}))

    drifted = _status(data, "--json")
    assert drifted.returncode == 2, drifted.stderr
    report = json.loads(drifted.stdout)
    assert report["state"] == "running"                       # what the broker believes
    assert sorted(d["kind"] for d in report["drift"]) == ["extra", "missing", "state"]
    nodes = {n["name"]: n for n in report["nodes"]}
    assert nodes["db"]["verdict"] == "drift" and nodes["db"]["reported"]["state"] == "error"
    assert nodes["app"]["reported"] == {"state": "absent"}
    assert [e["reference"] for e in report["extra"]] == [stray.id]

    text = _status(data)
    assert text.returncode == 2
    assert "drift: 3 findings" in text.stdout and f"node {stray.id} on local" in text.stdout
    assert "believed running, the provider reports error" in text.stdout

    unchecked = _status(data, "--no-check", "--json")
    assert unchecked.returncode == 0 and json.loads(unchecked.stdout)["drift"] is None
    assert "reported" not in _status(data, "--no-check").stdout

