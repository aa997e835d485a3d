"""Real servers for end-to-end tests: `accords serve` in a subprocess on a free loopback port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import requests


@dataclass
class Server:
    url: str
    token: str
    data: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, token: str, process: subprocess.Popen, timeout: float = 30.0, verify=True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            answer = requests.get(url + "/-/", headers={"Authorization": f"Bearer {token}"}, timeout=1, verify=verify)
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {timeout}s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def serve(tmp_path):
    """Start `accords serve COMPONENT`; every server started is stopped at teardown."""
    started: list[subprocess.Popen] = []

    def start(component: str = "provisioning", *extra: str, workers: int = 2, scheme: str = "http",
              verify=True, data=None) -> Server:
        port = free_port()
        data = data or tmp_path / f"data-{component}-{port}"
        env = {**os.environ, "ACCORDS_DATA": str(data)}
        env.pop("ACCORDS_TOKEN", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "serve", component, "--port", str(port), "--workers", str(workers),
             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        url = f"{scheme}://127.0.0.1:{port}"
        token_path = data / "token"
        deadline = time.monotonic() + 30
        while not token_path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        token = token_path.read_text().strip() if token_path.exists() else ""
        wait_ready(url, token, process, verify=verify)
        return Server(url=url, token=token, data=str(data), process=process)

    yield start
    for process in started:
        stop(process)
