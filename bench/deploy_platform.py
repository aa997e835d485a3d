"""A whole platform of real ``accords serve`` processes for the deployment benchmark.

security, publisher, broker, parser and provisioning on loopback, authenticated as in
production (the e2e tests' wiring: tests/e2e/conftest.py), sharing one data directory. The
provisioning component runs through ``python -m bench.deploy_timing`` so that its
providers.json may name the ``timed`` driver; it is otherwise ``accords serve provisioning``.
Every process started here is stopped by :meth:`DeployPlatform.stop` (arbiter and workers),
and every local node left is deleted.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.servers import HOST, ROOT, Server, free_port, stop

__all__ = ["DeployPlatform", "start_platform", "PlatformError", "INSTANCE", "SERVICE_ACTIONS"]

INSTANCE = "http://scheme.compatibleone.fr/scheme/compatible/plan/action#instance"
SERVICE_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/service/action#"
#: What must be published before a deployment can go through (parser, broker, provisioning).
_KINDS = {"manifest", "plan", "contract"}
_PLATFORM_ENV = ("ACCORDS_TOKEN", "ACCORDS_SECURITY", "ACCORDS_PUBLISHER", "ACCORDS_DATA", "ACCORDS_PROVIDERS")


class PlatformError(RuntimeError):
    """A component did not start, or answered what a deployment cannot go on from."""


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies, even by SIGKILL (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class DeployPlatform:
    data: Path
    servers: dict[str, Server] = field(default_factory=dict)
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def url(self, component: str) -> str:
        return self.servers[component].url

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    # -- processes ----------------------------------------------------------------------------
    def _serve(self, component: str, *extra: str, port: int | None = None, workers: int = 1,
               module: str = "broker", env: dict | None = None, timeout: float = 60) -> Server:
        port = port or free_port()
        clean = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
        argv = [sys.executable, "-m", module, "serve", component, "--host", HOST, "--port", str(port),
                "--workers", str(workers), "--data", str(self.data), *extra]
        log = self.data.parent / f"{component}.log"
        with open(log, "wb") as handle:
            process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=ROOT, env={**clean, **(env or {})}, preexec_fn=_die_with_parent)
        server = self.servers[component] = Server(component, port, process, log, {"workers": workers})
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise PlatformError(f"{component} exited with {process.returncode}: "
                                    f"{log.read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(f"{server.url}/readyz", timeout=2).status_code == 200 \
                        and len(server.worker_pids()) >= workers:
                    return server
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise PlatformError(f"{component} on port {port} not ready after {timeout:g} s")
            time.sleep(0.1)

    def stop(self) -> None:
        for server in reversed(list(self.servers.values())):
            stop(server)
        self.session.close()
        nodes = self.data / "nodes"
        if nodes.exists():                          # agents are processes of their own
            from broker.providers.local import LocalDriver

            driver = LocalDriver(root=nodes)
            for instance in driver.list():
                driver.delete(instance.id)

    # -- requests -----------------------------------------------------------------------------
    def _check(self, answer: requests.Response, expected: int, doing: str) -> requests.Response:
        if answer.status_code != expected:
            raise PlatformError(f"{doing}: {answer.status_code} {answer.text[:500]}")
        return answer

    def submit(self, xml: str, *, name: str) -> str:
        """The plan's URL."""
        answer = self.session.post(f"{self.url('parser')}/submit", data=xml.encode(), params={"name": name},
                                   headers={**self.headers, "Content-Type": "application/xml"}, timeout=60)
        return self._check(answer, 201, f"submitting {name}").json()["plan"]

    def instance(self, plan: str) -> str:
        """``POST plan?action=instance``: the service's URL."""
        answer = self.session.post(plan, params={"action": "instance"}, json={"action": INSTANCE},
                                   headers={**self.headers, "Content-Type": "application/json"}, timeout=120)
        return self._check(answer, 200, f"instance of {plan}").headers["Location"]

    def service(self, url: str) -> dict:
        return self._check(self.session.get(url, headers=self.headers, timeout=30), 200, f"GET {url}").json()[
            "attributes"]

    def wait(self, url: str, *states: str, timeout: float, every: float) -> tuple[dict, float]:
        """The service once its state is one of ``states``, and the wall-clock time that answer came."""
        deadline = time.monotonic() + timeout
        while True:
            service = self.service(url)
            if service["occi.service.state"] in states:
                return service, time.time()
            if time.monotonic() > deadline:
                raise PlatformError(f"{url} still {service['occi.service.state']} after {timeout:g} s: "
                                    f"{service.get('occi.service.message')}")
            time.sleep(every)

    def delete_service(self, url: str, *, timeout: float) -> dict:
        """Delete every node (``?action=delete``), wait until deleted, forget the service."""
        answer = self.session.post(url, params={"action": "delete"}, json={"action": SERVICE_ACTIONS + "delete"},
                                   headers={**self.headers, "Content-Type": "application/json"}, timeout=120)
        self._check(answer, 200, f"deleting {url}")
        service, _ = self.wait(url, "deleted", timeout=timeout, every=0.1)
        self._check(self.session.delete(url, headers=self.headers, timeout=30), 200, f"DELETE {url}")
        return service

    def events(self, contract: str) -> list[dict]:
        """The contract's events, oldest first."""
        path = "/contract/" + contract.rsplit("/contract/", 1)[1]
        answer = self.session.get(f"{self.url('provisioning')}/event/", timeout=30, headers={
            **self.headers, "X-OCCI-Attribute": f'occi.event.contract="{path}"'})
        resources = self._check(answer, 200, f"events of {contract}").json().get("resources", [])
        return sorted((r["attributes"] for r in resources), key=lambda e: e["occi.event.at"])


def start_platform(work: Path, *, providers: dict, workers: int = 2) -> DeployPlatform:
    """Every component, provisioning with ``providers`` (written to a 0600 providers.json)."""
    from broker import settings
    from occi.security.authenticators import SecurityClient

    data = work / "data"
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = work / "providers.json"
    config.touch(mode=0o600)
    config.write_text(json.dumps(providers))
    platform = DeployPlatform(data=data)
    try:
        publisher_port = free_port()
        security = platform._serve("security", "--publisher", f"http://{HOST}:{publisher_port}")
        publisher = platform._serve("publisher", "--security", security.url, port=publisher_port)
        settings.write_platform(data, publisher=publisher.url, security=security.url)
        for component in ("broker", "parser"):
            platform._serve(component, "--publisher", publisher.url, workers=workers)
        platform._serve("provisioning", "--publisher", publisher.url, workers=workers, module="bench.deploy_timing",
                        env={"ACCORDS_PROVIDERS": str(config)})
        admin = json.loads((data / "credentials" / "admin.json").read_text())
        platform.token = SecurityClient(security.url).login(admin["user"], admin["password"])["token"]
        deadline = time.monotonic() + 30
        while True:
            listing = platform.session.get(f"{publisher.url}/publication/", headers=platform.headers, timeout=10)
            published = {r["attributes"]["occi.publication.what"] for r in listing.json().get("resources", [])}
            if _KINDS <= published:
                return platform
            if time.monotonic() > deadline:
                raise PlatformError(f"never published: {', '.join(sorted(_KINDS - published))}")
            time.sleep(0.1)
    except BaseException:
        platform.stop()
        raise
