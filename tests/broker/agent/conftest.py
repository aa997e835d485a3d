"""Agents for the tests: in this process behind a real loopback HTTP server, or as the real
``python -m broker agent`` process (bounded waits, always stopped)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from occi.client import OcciClient
from tests.livehttp import serve_wsgi

SCHEME = "http://scheme.compatibleone.fr/scheme/compatible#"
METADATA, SCRIPT, PROBE = SCHEME + "metadata", SCHEME + "script", SCHEME + "probe"
TOKEN = "agent-test-token"


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """``predicate()``'s first true value, polling until ``timeout``; fails the test after."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def attributes_when(client: OcciClient, location: str, predicate, *, timeout: float = 10.0, what: str) -> dict:
    """The attributes of the entity at ``location`` once ``predicate(attributes)`` holds."""
    def check():
        attributes = client.get(location).attributes
        return attributes if predicate(attributes) else None
    return wait_for(check, timeout=timeout, what=what)


@dataclass
class Local:
    """An Agent in this process, served on loopback."""

    agent: object
    url: str
    home: Path
    client: OcciClient

    def script(self, syntax: str, **attributes) -> dict:
        location = self.client.create(SCRIPT, attributes={"occi.script.syntax": syntax, **{
            f"occi.script.{k}": v for k, v in attributes.items()}})
        return self.client.get(location).attributes | {"location": location}


@pytest.fixture
def local(tmp_path):
    from broker.agent.agent import Agent

    agents = []

    def start(home: Path | None = None, *, sink=None) -> Local:
        home = home or tmp_path / "node"
        agent = Agent(home, token=TOKEN, sink=sink)
        agent.start()
        url, stop_server = serve_wsgi(agent)
        client = OcciClient(url, token=TOKEN, timeout=60, retries=0)
        agents.append((agent, stop_server, client))
        return Local(agent=agent, url=url, home=home, client=client)

    yield start
    for agent, stop_server, client in reversed(agents):
        client.close()
        stop_server()
        agent.stop()


@dataclass
class Process:
    url: str
    pid: int
    home: Path
    process: subprocess.Popen
    token: str

    def client(self, **options) -> OcciClient:
        return OcciClient(self.url, token=self.token, timeout=30, retries=0, **options)


def token_file(path: Path, token: str = TOKEN, mode: int = 0o600) -> Path:
    path.write_text(token + "\n")
    os.chmod(path, mode)
    return path


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def agent_process(tmp_path):
    """Start ``python -m broker agent``; every process started is stopped at teardown."""
    started: list[subprocess.Popen] = []

    def start(*extra: str, home: Path | None = None, token: str = TOKEN, tokens: Path | None = None,
              wait: bool = True, timeout: float = 30.0) -> Process | subprocess.Popen:
        home = home or tmp_path / "node"
        tokens = tokens or token_file(tmp_path / "token", token)
        ready = tmp_path / "ready.json"
        ready.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORDS_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "agent", "--dir", str(home), "--port", "0", "--token-file", str(tokens),
             "--ready-file", str(ready), *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        started.append(process)
        if not wait:
            return process
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if process.poll() is not None:
                pytest.fail(f"agent exited with {process.returncode}: {process.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail(f"agent not ready after {timeout} s")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        return Process(url=info["url"], pid=info["pid"], home=home, process=process, token=token)

    yield start
    for process in reversed(started):
        stop_process(process)
