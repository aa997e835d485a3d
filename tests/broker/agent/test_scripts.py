"""Scripts and metadata, on an agent in this process behind a real loopback HTTP server."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from occi.errors import OcciError
from tests.broker.agent.conftest import METADATA, SCRIPT, TOKEN, attributes_when, wait_for


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                    # a zombie (dead, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_system_scripts_run_in_order_with_their_effects_on_disk(local):
    node = local()
    first = node.script("echo one > order.txt")
    second = node.script("echo two >> order.txt; mkdir -p made/here")
    third = node.script("cat order.txt > copy.txt")
    work = node.home / "work"
    assert (work / "order.txt").read_text() == "one\ntwo\n"
    assert (work / "copy.txt").read_text() == "one\ntwo\n"
    assert (work / "made" / "here").is_dir()
    for script in (first, second, third):
        assert script["occi.script.state"] == "done"
        assert script["occi.script.exit"] == 0
        assert script["occi.script.result"] == "exit 0"
        assert script["occi.script.nature"] == "system"
        assert script["occi.script.started"] <= script["occi.script.finished"]
    assert node.client.list("/script/") == [first["location"], second["location"], third["location"]]


def test_a_non_zero_exit_is_stored_as_failed_with_the_output_tail(local):
    node = local()
    syntax = "echo out; echo err >&2; printf 'a\\033b\\n'; exit 3"
    response = requests.post(f"{node.url}/script/", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/occi+json"},
        json={"kind": SCRIPT, "attributes": {"occi.script.syntax": syntax, "occi.script.name": "broken"}}, timeout=30)
    assert response.status_code == 201, response.text          # the script ran: the request succeeded
    script = node.client.get(response.headers["Location"]).attributes
    assert script["occi.script.state"] == "failed"
    assert script["occi.script.exit"] == 3
    assert script["occi.script.result"] == "exit 3"
    assert script["occi.script.output"] == ["out", "err", "a\\x1bb"]
    assert script["occi.script.truncated"] is False
    assert open(script["occi.script.log"], "rb").read() == b"out\nerr\na\x1bb\n"
    # Every rendering can show it (strings in text renderings refuse control characters).
    text = requests.get(response.headers["Location"], headers={"Authorization": f"Bearer {TOKEN}",
                                                              "Accept": "text/plain"}, timeout=10)
    assert text.status_code == 200 and 'occi.script.output="[\\"out\\",\\"err\\",' in text.text


def test_the_output_kept_is_a_bounded_tail(local):
    node = local()
    script = node.script("i=0; while [ $i -lt 4000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    assert script["occi.script.truncated"] is True
    assert script["occi.script.output"][-1] == "line-3999-xxxxxxxxxxxxxxxxxxxxxxxx"
    assert script["occi.script.output"][0].startswith("line-")             # no partial first line
    assert sum(len(line) + 1 for line in script["occi.script.output"]) <= 16 * 1024
    assert os.path.getsize(script["occi.script.log"]) > 100_000           # the whole output is in the log


def test_a_timeout_kills_the_whole_process_group(local):
    node = local()
    started = time.monotonic()
    script = node.script("sleep 60 & echo $! > background.pid; sleep 60", timeout=1)
    assert time.monotonic() - started < 10
    assert script["occi.script.state"] == "timed-out"
    assert script["occi.script.result"] == "timed out after 1 s"
    assert script["occi.script.exit"] == -signal.SIGTERM
    background = int((node.home / "work" / "background.pid").read_text())
    wait_for(lambda: not alive(background), timeout=5, what="the background sleep to be gone")


def test_a_group_that_ignores_term_is_killed_after_the_grace_period(local):
    from broker.agent.processes import GRACE

    node = local()
    started = time.monotonic()
    script = node.script("trap '' TERM; while :; do sleep 0.1; done", timeout=1)
    elapsed = time.monotonic() - started
    assert 1 + GRACE - 0.5 < elapsed < 1 + GRACE + 5
    assert (script["occi.script.state"], script["occi.script.exit"]) == ("timed-out", -signal.SIGKILL)


def test_timeouts_are_bounded(local):
    node = local()
    with pytest.raises(OcciError) as refused:
        node.script("true", timeout=100000)
    assert refused.value.status == 400


def test_metadata_reach_scripts_as_environment_variables(local):
    node = local()
    node.client.create(METADATA, attributes={"occi.metadata.name": "db_hostname", "occi.metadata.value": "10.0.0.5"})
    node.script("echo \"$db_hostname\" > host.txt; env > env.txt")
    assert (node.home / "work" / "host.txt").read_text() == "10.0.0.5\n"
    env = dict(line.split("=", 1) for line in (node.home / "work" / "env.txt").read_text().splitlines() if "=" in line)
    assert env["db_hostname"] == "10.0.0.5"
    assert env["ACCORDS_AGENT_DIR"] == str(node.home.resolve())
    assert not {name for name in env if name.startswith("PYTEST") or name == "VIRTUAL_ENV"}   # a clean environment
    # Changing the value changes what the next script sees; deleting removes it.
    location = node.client.list("/metadata/")[0]
    node.client.update(location, attributes={"occi.metadata.value": "10.0.0.6"})
    node.script("echo \"$db_hostname\" > host.txt")
    assert (node.home / "work" / "host.txt").read_text() == "10.0.0.6\n"
    node.client.delete(location)
    node.script("echo \"${db_hostname-unset}\" > host.txt")
    assert (node.home / "work" / "host.txt").read_text() == "unset\n"


def test_metadata_env_file_is_quoted_private_and_never_executes_values(local):
    node = local()
    nasty = "a'b\"c $(touch pwned1) `touch pwned2`; touch pwned3 \\ $HOME\ttab"
    node.client.create(METADATA, attributes={"occi.metadata.name": "nasty", "occi.metadata.value": nasty})
    path = node.home / "metadata.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    node.script("printf '%s' \"$nasty\" > from-env.txt")
    node.script("unset nasty; set -a; . \"$ACCORDS_METADATA\"; set +a; printf '%s' \"$nasty\" > from-file.txt")
    work = node.home / "work"
    assert (work / "from-env.txt").read_text() == nasty
    assert (work / "from-file.txt").read_text() == nasty
    assert not [p for p in work.iterdir() if p.name.startswith("pwned")]
    # The file is the agent's source of record for humans too: it parses back to the values.
    check = subprocess.run(["/bin/sh", "-c", f". {path}; printf '%s' \"$nasty\""], capture_output=True, text=True,
                           cwd=node.home / "work", check=True)
    assert check.stdout == nasty


RESERVED = "reserved-metadata-name"


@pytest.mark.parametrize(("name", "code"), [("1abc", "invalid-attribute"), ("a-b", "invalid-attribute"),
                                            ("PATH", RESERVED), ("LD_PRELOAD", RESERVED), ("ACCORDS_TOKEN", RESERVED)])
def test_metadata_names_are_identifiers_the_agent_does_not_need(local, name, code):
    node = local()
    with pytest.raises(OcciError) as refused:
        node.client.create(METADATA, attributes={"occi.metadata.name": name, "occi.metadata.value": "x"})
    assert (refused.value.status, refused.value.code) == (400, code)
    assert node.client.list("/metadata/") == []


def test_a_metadata_name_is_unique_and_put_at_a_name_is_idempotent(local):
    node = local()
    node.client.create(METADATA, attributes={"occi.metadata.name": "zone", "occi.metadata.value": "a"})
    with pytest.raises(OcciError) as refused:
        node.client.create(METADATA, attributes={"occi.metadata.name": "zone", "occi.metadata.value": "b"})
    assert (refused.value.status, refused.value.code) == (409, "duplicate-name")
    for value in ("1", "2"):
        node.client.replace(f"{node.url}/metadata/region", kind=METADATA,
                            attributes={"occi.metadata.name": "region", "occi.metadata.value": value})
    assert "region=2" in (node.home / "metadata.env").read_text().splitlines()
    assert [e.attributes["occi.metadata.value"] for e in node.client.list_entities("/metadata/")] == ["a", "2"]


def test_configure_stores_metadata(local):
    node = local()
    script = node.script("db_hostname=10.0.0.5", nature="configure")
    assert (script["occi.script.state"], script["occi.script.result"]) == ("done", "metadata db_hostname set")
    [stored] = node.client.list_entities("/metadata/")
    assert (stored.attributes["occi.metadata.name"], stored.attributes["occi.metadata.value"]) == \
        ("db_hostname", "10.0.0.5")
    node.script("db_hostname=10.0.0.9", nature="configure")             # configure again: the value changes
    [stored] = node.client.list_entities("/metadata/")
    assert stored.attributes["occi.metadata.value"] == "10.0.0.9"
    node.script("echo $db_hostname > host.txt", nature="command")       # command is system
    assert (node.home / "work" / "host.txt").read_text() == "10.0.0.9\n"
    for bad in ("no equals sign", "bad name=1", "PATH=/tmp"):
        with pytest.raises(OcciError) as refused:
            node.script(bad, nature="configure")
        assert refused.value.status == 400
    assert len(node.client.list("/script/")) == 3


def test_fork_then_kill_stops_only_the_agents_forks(local, tmp_path):
    node = local()
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)      # the same program, not ours
    try:
        forked = node.script("sleep 300", nature="fork", name="sleeper")
        assert forked["occi.script.state"] == "running"
        pid = forked["occi.script.pid"]
        assert forked["occi.script.result"] == f"pid {pid}" and alive(pid)
        other = node.script("sleep 301", nature="process")                     # process is fork
        assert other["occi.script.nature"] == "fork"
        killed = node.script("sleeper", nature="kill")
        assert (killed["occi.script.state"], killed["occi.script.exit"], killed["occi.script.result"]) == \
            ("done", 0, "stopped 1 fork")
        assert not alive(pid) and alive(other["occi.script.pid"])
        assert node.client.get(forked["location"]).attributes["occi.script.state"] == "killed"
        by_program = node.script("sleep", nature="kill")                       # killall-style: the program
        assert by_program["occi.script.result"] == "stopped 1 fork"
        assert not alive(other["occi.script.pid"])
        assert bystander.poll() is None                                        # never anything else
        nothing = node.script("sleep", nature="kill")
        assert (nothing["occi.script.state"], nothing["occi.script.exit"]) == ("failed", 1)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_fork_that_ends_is_recorded_with_its_status(local):
    node = local()
    forked = node.script("echo bye; exit 4", nature="fork")
    ended = attributes_when(node.client, forked["location"], lambda a: a["occi.script.state"] != "running",
                            what="the fork's end")
    assert (ended["occi.script.state"], ended["occi.script.exit"]) == ("failed", 4)
    assert ended["occi.script.output"] == ["bye"]
    assert not (node.home / "run" / f"{forked['location'].rsplit('/', 1)[1]}.pid").exists()


def test_deleting_a_running_fork_stops_it(local):
    node = local()
    forked = node.script("sleep 300", nature="fork")
    node.client.delete(forked["location"])
    wait_for(lambda: not alive(forked["occi.script.pid"]), timeout=10, what="the fork to stop")


def test_the_agent_stop_stops_forks_and_records_it(local, tmp_path):
    from broker.agent.agent import Agent

    node = local()
    forked = node.script("sleep 300", nature="fork")
    node.agent.stop()
    assert not alive(forked["occi.script.pid"])
    again = Agent(node.home, token=None)
    try:
        with again.store.session(readonly=True) as session:
            record = session.get(forked["location"].split(node.url, 1)[1])
        assert (record.attributes["occi.script.state"], record.attributes["occi.script.result"]) == \
            ("killed", "stopped with the agent")
    finally:
        again.stop()


def test_a_script_put_at_a_chosen_name_runs_once_however_often_it_is_sent(local):
    node = local()
    attributes = {"occi.script.syntax": "echo ran >> runs.txt", "occi.script.nature": "system"}
    for _ in range(3):                                      # a client retrying after a lost answer
        script = node.client.replace(f"{node.url}/script/step-1", kind=SCRIPT, attributes=attributes).attributes
        assert script["occi.script.state"] == "done"
    assert (node.home / "work" / "runs.txt").read_text() == "ran\n"
    assert node.client.list("/script/") == [f"{node.url}/script/step-1"]
