"""Cloud emulators for tests: each runs from its own virtual environment under ``.emu/`` (installed by
``scripts/emulators.sh``; ``make test`` does it) as a subprocess on 127.0.0.1 and a free port.

Every wait is bounded, every process is stopped by its own pid (terminate, then kill), and a
missing emulator skips the test with the reason, or fails it when ``ACCORDS_REQUIRE_EMULATORS=1``
(as in CI: ``.ci/run``), so that a broken install cannot hide a whole provider.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

__all__ = ["EMU", "MOTO_VERSION", "TEST_AMI", "OTHER_AMI", "TEST_AMIS", "free_port", "require_emulator", "emulator",
           "MotoServer", "start_moto"]

ROOT = Path(__file__).resolve().parents[1]
#: Where scripts/emulators.sh installs the emulators (one virtual environment each).
EMU = Path(os.environ.get("ACCORDS_EMULATORS_DIR") or ROOT / ".emu")
MOTO_VERSION = "5.2.5"
#: The only images moto knows in the tests (MOTO_AMIS_PATH), with AMI validation on as on EC2.
TEST_AMI = "ami-0123456789abcdef0"
OTHER_AMI = "ami-0fedcba9876543210"
TEST_AMIS = [
    {"ami_id": ami, "name": name, "description": "accords test image", "owner_id": "123456789012",
     "public": True, "virtualization_type": "hvm", "architecture": "x86_64", "state": "available",
     "platform": None, "root_device_type": "ebs", "root_device_name": "/dev/xvda", "sriov": "simple",
     "creation_date": "2025-01-01T00:00:00.000Z", "hypervisor": "xen"}
    for ami, name in ((TEST_AMI, "debian-12-accords-test"), (OTHER_AMI, "ubuntu-24.04-accords-test"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_emulator(executable: Path, what: str) -> Path:
    """``executable``, or a skip naming what to run (a failure under ACCORDS_REQUIRE_EMULATORS=1)."""
    if not executable.exists():
        reason = f"{what} is not installed ({executable} is missing; run scripts/emulators.sh or make emulators)"
        if os.environ.get("ACCORDS_REQUIRE_EMULATORS") == "1":
            pytest.fail(f"{reason}, and ACCORDS_REQUIRE_EMULATORS=1 requires it", pytrace=False)
        pytest.skip(reason)
    return executable


@contextmanager
def emulator(argv: list[str], probe: Callable[[], bool], *, env: dict | None = None, cwd: Path | None = None,
             log_path: Path, timeout: float = 30.0) -> Iterator[subprocess.Popen]:
    """Run ``argv`` until the block ends; ready once ``probe()`` is true (within ``timeout``)."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {process.returncode}: {_tail(log_path)}")
            try:
                if probe():
                    break
            except OSError:                       # refused, reset, HTTP error: not ready yet
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{argv[0]} not ready after {timeout:g} s: {_tail(log_path)}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()                       # this pid only
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(lines[-5:]) or "no output"


def _http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status < 500
    return probe


@dataclass
class MotoServer:
    url: str
    region: str = "us-east-1"
    log_path: Path | None = None

    def reset(self) -> None:
        """Forget every resource of every service and region (``POST /moto-api/reset``)."""
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def client(self, region: str | None = None):
        """A raw boto3 EC2 client on this server (to look at moto's inventory directly)."""
        import boto3

        return boto3.client("ec2", endpoint_url=self.url, region_name=region or self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def driver_config(self, **overrides) -> dict:
        return {"region": self.region, "endpoint_url": self.url, "access_key": "testing",
                "secret_key": "testing", "image": TEST_AMI, "ready_timeout": 30, "poll_interval": 0.2,
                **overrides}


@contextmanager
def start_moto(workdir: Path, *, timeout: float = 30.0) -> Iterator[MotoServer]:
    """moto_server from .emu/venv-moto on 127.0.0.1, with TEST_AMIS only and AMI validation on, warm."""
    executable = require_emulator(EMU / "venv-moto" / "bin" / "moto_server", f"moto[server]=={MOTO_VERSION}")
    amis = workdir / "amis.json"
    amis.write_text(json.dumps(TEST_AMIS))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ACCORDS_", "MOTO_"))}
    env.update(MOTO_AMIS_PATH=str(amis), MOTO_ENABLE_AMI_VALIDATION="true")
    port = free_port()
    server = MotoServer(url=f"http://127.0.0.1:{port}", log_path=workdir / "moto.log")
    argv = [str(executable), "-H", "127.0.0.1", "-p", str(port)]
    with emulator(argv, _http_ok(server.url + "/moto-api/"), env=env, cwd=workdir, log_path=server.log_path,
                  timeout=timeout):
        server.client().describe_images(ImageIds=[TEST_AMI])     # the first EC2 call loads the backend
        yield server
