"""The local provider against this machine: real agent processes in sandbox directories."""
from __future__ import annotations

import json
import os
import signal

import pytest
import requests

from broker.providers import NodeSpec, create_driver
from tests.broker.providers.contract import DriverContract


@pytest.fixture
def driver(tmp_path):
    local = create_driver("local", root=tmp_path / "nodes", ready_timeout=30)
    yield local
    for instance in local.list():
        local.delete(instance.id)


class TestLocalDriver(DriverContract):
    pass


def test_the_agent_answers_with_the_node_token_only(driver):
    node = driver.create(NodeSpec(name="web", contract="c-1", agent_token="node-secret"))
    assert node.agent_url.startswith("http://127.0.0.1:")
    ok = requests.get(f"{node.agent_url}/-/", headers={"Authorization": "Bearer node-secret"}, timeout=5)
    assert ok.status_code == 200
    assert requests.get(f"{node.agent_url}/-/", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    token = driver.root / node.id / "token"
    assert token.stat().st_mode & 0o077 == 0


def test_a_dead_agent_is_an_error_and_a_new_driver_finds_every_node(driver, tmp_path):
    node = driver.create(NodeSpec(name="db", contract="c-2"))
    other = driver.create(NodeSpec(name="web", contract="c-3"))
    pid = json.loads((driver.root / node.id / "instance.json").read_text())["pid"]
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    again = create_driver("local", root=driver.root)          # as after a restart
    states = {i.name: (i.state, i.reason) for i in again.list()}
    assert states["web"] == ("running", None)
    assert states["db"][0] == "error" and "not running" in states["db"][1]
    assert again.start(node.id).state == "running"
    assert again.delete(other.id) and again.delete(node.id)
    assert again.list() == []


def test_an_agent_that_cannot_start_leaves_nothing(tmp_path):
    broken = create_driver("local", root=tmp_path / "nodes", python="/bin/false", ready_timeout=5)
    with pytest.raises(Exception) as failure:
        broken.create(NodeSpec(name="x", contract="c-4"))
    assert "exited" in str(failure.value)
    assert list((tmp_path / "nodes").iterdir()) == []
