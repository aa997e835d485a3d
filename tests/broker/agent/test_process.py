"""The real ``python -m broker agent`` process on loopback: the command line and ready-file
contract, tokens, ordering under concurrent requests, clean stop, recovery after a crash."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import requests

from tests.broker.agent.conftest import METADATA, SCRIPT, TOKEN, token_file, wait_for
from tests.broker.agent.test_scripts import alive


def test_ready_file_health_and_tokens(agent_process, tmp_path):
    agent = agent_process("--json")
    assert agent.pid == agent.process.pid
    assert agent.url.startswith("http://127.0.0.1:") and int(agent.url.rsplit(":", 1)[1]) > 0
    assert json.loads((tmp_path / "ready.json").read_text()) == {"url": agent.url, "pid": agent.pid}
    line = json.loads(agent.process.stdout.readline())
    assert (line["url"], line["pid"], line["dir"]) == (agent.url, agent.pid, str(agent.home))
    assert requests.get(f"{agent.url}/healthz", timeout=5).json() == {"status": "ok"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"}):
        answer = requests.get(f"{agent.url}/script/", headers=headers, timeout=5)
        assert answer.status_code == 401, headers
        assert "Bearer" in answer.headers["WWW-Authenticate"]
    good = requests.get(f"{agent.url}/script/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert good.status_code == 200
    with agent.client() as client:
        kinds = {kind.type_id for kind in client.discover().kinds}
    assert {METADATA, SCRIPT, "http://scheme.compatibleone.fr/scheme/compatible#probe"} <= kinds


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_token_file_others_can_read_refuses_to_start(agent_process, tmp_path, mode):
    tokens = token_file(tmp_path / "loose-token", mode=mode)
    process = agent_process(tokens=tokens, wait=False)
    assert process.wait(timeout=30) == 2
    assert "chmod 600" in process.stderr.read()
    assert not (tmp_path / "ready.json").exists()


def test_a_missing_or_empty_token_file_refuses_to_start(agent_process, tmp_path):
    missing = agent_process(tokens=tmp_path / "nothing-here", wait=False)
    assert missing.wait(timeout=30) == 2
    empty = agent_process(tokens=token_file(tmp_path / "empty", token=""), wait=False)
    assert empty.wait(timeout=30) == 2
    assert "holds no token" in empty.stderr.read()


def test_concurrent_scripts_run_one_at_a_time_in_the_order_they_are_stored(agent_process):
    agent = agent_process()
    errors: list[str] = []

    def post(index: int) -> None:
        answer = requests.post(f"{agent.url}/script/", timeout=60, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/occi+json"}, json={
            "kind": SCRIPT, "attributes": {"occi.script.name": f"s{index}", "occi.script.syntax":
                                           f"echo start {index} >> log.txt; sleep 0.1; echo end {index} >> log.txt"}})
        if answer.status_code != 201:
            errors.append(answer.text)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    lines = (agent.home / "work" / "log.txt").read_text().splitlines()
    ran = [line.split()[1] for line in lines[::2]]
    assert lines == [f"{what} {index}" for index in ran for what in ("start", "end")]      # never interleaved
    with agent.client() as client:
        stored = [entity.attributes["occi.script.name"] for entity in client.list_entities("/script/")]
    assert stored == [f"s{index}" for index in ran]                                        # stored in run order


def test_sigterm_stops_the_agent_and_its_forks(agent_process, tmp_path):
    agent = agent_process()
    with agent.client() as client:
        fork = client.get(client.create(SCRIPT, attributes={"occi.script.syntax": "sleep 300",
                                                            "occi.script.nature": "fork"})).attributes
    assert alive(fork["occi.script.pid"])
    agent.process.send_signal(signal.SIGTERM)
    assert agent.process.wait(timeout=20) == 0
    assert not alive(fork["occi.script.pid"])
    assert not (tmp_path / "ready.json").exists()


def group_members(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def test_after_a_crash_the_agent_follows_its_forks_again(agent_process, tmp_path):
    agent = agent_process()
    with agent.client() as client:
        keep = client.get(client.create(SCRIPT, attributes={"occi.script.syntax": "sleep 300",
                                                            "occi.script.nature": "fork",
                                                            "occi.script.name": "keeper"})).attributes
        orphans = client.create(SCRIPT, attributes={"occi.script.syntax": "sleep 301; true",
                                                    "occi.script.nature": "fork", "occi.script.name": "orphans"})
        orphans_pid = client.get(orphans).attributes["occi.script.pid"]
        gone = client.create(SCRIPT, attributes={"occi.script.syntax": "sleep 302", "occi.script.nature": "fork"})
        gone_pid = client.get(gone).attributes["occi.script.pid"]
    wait_for(lambda: len(group_members(orphans_pid)) == 2, timeout=5, what="the shell and its sleep")
    os.kill(agent.pid, signal.SIGKILL)
    agent.process.wait(timeout=10)
    os.killpg(gone_pid, signal.SIGKILL)             # ends while no agent watches
    os.kill(orphans_pid, signal.SIGKILL)            # its first process ends, its sleep runs on
    wait_for(lambda: not group_members(gone_pid), timeout=5, what="the third fork to end")
    [leftover] = wait_for(lambda: [p for p in group_members(orphans_pid) if p != orphans_pid], timeout=5,
                          what="the orphaned sleep")
    assert alive(keep["occi.script.pid"])           # forks run in sessions of their own
    again = agent_process(home=agent.home)
    with again.client() as client:
        def state(url):
            return client.get(again.url + url.split(agent.url, 1)[1]).attributes
        assert state(gone)["occi.script.result"] == "no longer running when the agent restarted"
        assert state(gone)["occi.script.state"] == "lost"
        assert state(orphans)["occi.script.state"] == "lost"
        assert "are followed" in state(orphans)["occi.script.result"]
        for name in ("keeper", "orphans"):
            killed = client.get(client.create(SCRIPT, attributes={"occi.script.syntax": name,
                                                                  "occi.script.nature": "kill"})).attributes
            assert killed["occi.script.result"] == "stopped 1 fork", name
    wait_for(lambda: not alive(keep["occi.script.pid"]) and not alive(leftover), timeout=10,
             what="the adopted forks to stop")


def test_port_in_use_is_a_clear_error(agent_process, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        tokens = token_file(tmp_path / "token")
        process = subprocess.run(
            [sys.executable, "-m", "broker", "agent", "--dir", str(tmp_path / "node"), "--port", str(port),
             "--token-file", str(tokens)], capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("ACCORDS_")})
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in process.stderr


def test_without_a_token_file_the_agent_makes_one_in_its_directory(tmp_path):
    from tests.broker.agent.conftest import stop_process

    home, ready = tmp_path / "node", tmp_path / "ready.json"
    process = subprocess.Popen([sys.executable, "-m", "broker", "agent", "--dir", str(home), "--port", "0",
                                "--ready-file", str(ready)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={k: v for k, v in os.environ.items() if not k.startswith("ACCORDS_")})
    try:
        wait_for(lambda: ready.exists() or process.poll() is not None, timeout=30, what="the ready file")
        assert process.poll() is None, process.stderr.read()
        url = json.loads(ready.read_text())["url"]
        assert (home / "token").stat().st_mode & 0o777 == 0o600
        token = (home / "token").read_text().strip()
        assert len(token) >= 32
        answer = requests.get(f"{url}/metadata/", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 200
        assert process.stdout.readline().startswith(f"accords agent: {url}")
    finally:
        stop_process(process)
    assert process.returncode == 0
