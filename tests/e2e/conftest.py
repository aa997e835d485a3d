"""Real servers for end-to-end tests: `accords serve` in a subprocess on a free loopback port."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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


def free_port_range(count: int, *, attempts: int = 200) -> int:
    """A base port whose next ``count`` ports are all free now, below Linux's ephemeral range
    (32768+), where the kernel does not hand out client ports behind our back."""
    import random
    for _ in range(attempts):
        base = random.randrange(20000, 32000 - count)
        try:
            sockets = []
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def wait_ready(url: str, token: str | None, process: subprocess.Popen, timeout: float = 30.0, verify=True) -> None:
    """Until the server answers: ``GET /-/`` with the token (standalone servers), else ``/readyz``."""
    deadline = time.monotonic() + timeout
    path, headers = ("/-/", {"Authorization": f"Bearer {token}"}) if token else ("/readyz", {})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            answer = requests.get(url + path, headers=headers, timeout=1, verify=verify)
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
              verify=True, data=None, port: int | None = None, env: dict | None = None) -> Server:
        port = port or free_port()
        data = data or tmp_path / f"data-{component}-{port}"
        env = {**os.environ, "ACCORDS_DATA": str(data), **(env or {})}
        env.pop("ACCORDS_TOKEN", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "serve", component, "--port", str(port), "--workers", str(workers),
             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        url = f"{scheme}://127.0.0.1:{port}"
        standalone = component != "security" and not {"--publisher", "--security", "--insecure-no-auth"} & set(extra)
        token = ""
        if standalone:
            token_path = data / "token"
            deadline = time.monotonic() + 30
            while not token_path.exists() and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            token = token_path.read_text().strip() if token_path.exists() else ""
        wait_ready(url, token, process, verify=verify)
        return Server(url=url, token=token, data=str(data), process=process)

    yield start
    for process in reversed(started):
        stop(process)


@dataclass
class Platform:
    """security + publisher processes sharing one data directory, and an admin token."""

    security: Server
    publisher: Server
    data: Path
    admin_token: str

    def credentials(self, name: str) -> dict:
        return json.loads((self.data / "credentials" / f"{name}.json").read_text())


@pytest.fixture
def platform(serve, tmp_path):
    from occi.security.authenticators import SecurityClient   # noqa: PLC0415

    data = tmp_path / "platform"
    publisher_port = free_port()
    security = serve("security", "--publisher", f"http://127.0.0.1:{publisher_port}", data=data)
    publisher = serve("publisher", "--security", security.url, data=data, port=publisher_port)
    admin = json.loads((data / "credentials" / "admin.json").read_text())
    token = SecurityClient(security.url).login(admin["user"], admin["password"])["token"]
    return Platform(security=security, publisher=publisher, data=data, admin_token=token)
