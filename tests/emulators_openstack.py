"""OpenStack emulators for tests: mimic (Keystone v2 and a subset of Nova) and the real Keystone (v3)
with mimic's Nova in its catalog, each from its own virtual environment under ``.emu/``
(``scripts/emulators.sh mimic keystone``), as subprocesses on 127.0.0.1 and free ports.

Built on tests/emulators.py: bounded readiness waits, processes stopped by their own pid, a skip
naming what to install when an emulator is missing (a failure under ACCORDS_REQUIRE_EMULATORS=1).
Keystone runs on a copy of the template scripts/emulators.sh prepared (migrated sqlite database,
bootstrap admin, fernet keys): the tests never write into ``.emu/``.

mimic keeps its state per tenant: each test gets a tenant of its own (Keystone v2: a new tenant
name, and a new user name, since mimic binds a user to the first tenant it used; Keystone v3: a
new Keystone project, whose id becomes mimic's tenant) instead of a restart.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from tests.emulators import EMU, emulator, free_port, require_emulator

__all__ = ["MIMIC_VERSION", "KEYSTONE_VERSION", "PASSWORD", "TEST_IMAGE", "WINDOWS_IMAGE", "ZONES",
           "Mimic", "Keystone", "Cloud", "start_mimic", "start_keystone", "mimic_server", "keystone_server"]

MIMIC_VERSION = "2.2.0"
KEYSTONE_VERSION = "30.0.0"
#: The password of every test user (long enough for the redactor to take it for a credential).
PASSWORD = "accords-os-Secret-4417"
#: The admin password of scripts/emulators.sh's Keystone template.
KEYSTONE_ADMIN_PASSWORD = "accords-keystone-admin"
#: One of mimic's 38 Nova images (their ids change at every start): 20 GB and 512 MiB at least.
TEST_IMAGE = "Ubuntu 14.04 LTS (Trusty Tahr) (PVHVM)"
#: 40 GB and 2048 MiB at least.
WINDOWS_IMAGE = "Windows Server 2008 R2 SP1 + SQL Server 2008 R2 SP2 Standard"
#: mimic has no availability zone API: the drivers of the tests are configured with these.
ZONES = ("az-1", "az-2")
MIMIC_REGION = "ORD"
KEYSTONE_REGION = "RegionOne"
#: Keystone's public WSGI application on Werkzeug (the PyPI package ships no launcher). The
#: configuration comes from OS_KEYSTONE_CONFIG_DIR/FILES in the environment.
_SERVE_KEYSTONE = """
import sys
from keystone.server import wsgi
from werkzeug.serving import run_simple
port = int(sys.argv[1])
sys.argv = sys.argv[:1]          # keystone reads argv with oslo.config: extra arguments make it exit
run_simple("127.0.0.1", port, wsgi.initialize_public_application(), threaded=True)
"""


def _request(method: str, url: str, body: dict | None = None, *, token: str | None = None,
             timeout: float = 10) -> tuple[dict, dict | None]:
    """One JSON call; (headers, body)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method),
                                timeout=timeout) as answer:
        raw = answer.read()
        return dict(answer.headers), (json.loads(raw) if raw.strip() else None)


def _probe(method: str, url: str, body: dict | None = None):
    def probe() -> bool:
        _request(method, url, body, timeout=2)
        return True
    return probe


def _token_body(tenant: str, username: str | None = None) -> dict:
    return {"auth": {"passwordCredentials": {"username": username or f"user-{tenant}", "password": PASSWORD},
                     "tenantName": tenant}}


@dataclass
class Mimic:
    url: str
    log_path: Path
    region: str = MIMIC_REGION
    _catalogs: dict = field(default_factory=dict)

    @property
    def auth_url(self) -> str:
        return self.url + "/identity/v2.0"

    def endpoint(self, tenant: str, service: str = "cloudServersOpenStack") -> str:
        """``service``'s URL for ``tenant`` in this region (mimic's prefixes change at every start)."""
        if tenant not in self._catalogs:
            _, answer = _request("POST", self.auth_url + "/tokens", _token_body(tenant, f"catalog-{tenant}"))
            self._catalogs[tenant] = {s["name"]: {e["region"]: e["publicURL"] for e in s["endpoints"]}
                                      for s in answer["access"]["serviceCatalog"]}
        return self._catalogs[tenant][service][self.region]

    def nova_template(self) -> str:
        """Nova's URL with Keystone's project id placeholder, for a Keystone catalog."""
        return self.endpoint("catalog").rsplit("/", 1)[0] + "/$(project_id)s"

    def image_id(self, tenant: str, name: str) -> str:
        _, answer = _request("GET", self.endpoint(tenant) + "/images/detail")
        return next(image["id"] for image in answer["images"] if image["name"] == name)

    def servers(self, tenant: str) -> list[dict]:
        """The tenant's servers as mimic's Nova lists them (deleted ones left out), looked at directly."""
        _, answer = _request("GET", self.endpoint(tenant) + "/servers/detail")
        return answer["servers"]

    def add_creation_behavior(self, tenant: str, name: str, parameters: dict, criteria: list[dict]) -> str:
        """Register one of mimic's server creation behaviors (``false-negative``, ``fail`` ...)."""
        url = self.endpoint(tenant, "cloudServersBehavior") + "/behaviors/creation"
        _, answer = _request("POST", url, {"name": name, "parameters": parameters, "criteria": criteria})
        return answer["id"]

    def set_status(self, tenant: str, server_id: str, status: str) -> None:
        _request("POST", self.endpoint(tenant, "cloudServersBehavior") + "/attributes/",
                 {"status": {server_id: status}})


@contextmanager
def start_mimic(workdir: Path, *, timeout: float = 30.0) -> Iterator[Mimic]:
    """mimic from .emu/venv-mimic on 127.0.0.1, its clock following wall time (``--realtime``)."""
    twistd = require_emulator(EMU / "venv-mimic" / "bin" / "twistd", f"mimic=={MIMIC_VERSION}")
    port = free_port()
    mimic = Mimic(url=f"http://127.0.0.1:{port}", log_path=workdir / "mimic.log")
    # -n: foreground, so the pid is the server's; --pidfile=: no twistd.pid; the listen endpoint
    # names the interface (mimic's default binds them all).
    argv = [str(twistd), "-n", "--pidfile=", "--logfile=-", "mimic", "--listen", f"tcp:{port}:interface=127.0.0.1",
            "--realtime"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ACCORDS_"))}
    with emulator(argv, _probe("POST", mimic.auth_url + "/tokens", _token_body("probe")), env=env, cwd=workdir,
                  log_path=mimic.log_path, timeout=timeout):
        yield mimic


@dataclass
class Keystone:
    url: str
    log_path: Path
    user: str = "accords-demo"
    region: str = KEYSTONE_REGION
    _ids: dict = field(default_factory=dict)

    @property
    def auth_url(self) -> str:
        return self.url + "/v3"

    def admin_token(self) -> str:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": KEYSTONE_ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        headers, _ = _request("POST", self.auth_url + "/auth/tokens", body)
        return headers.get("X-Subject-Token") or headers["x-subject-token"]

    def _admin(self) -> str:
        """An admin token, renewed after 30 minutes (Keystone's last an hour; under xdist a worker
        may reach its first v3 test long after its Keystone started)."""
        if time.monotonic() - self._ids.get("since", -3600.0) > 1800:
            self._ids.update(token=self.admin_token(), since=time.monotonic())
        return self._ids["token"]

    def _list(self, token: str, what: str, **query) -> list[dict]:
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return _request("GET", f"{self.auth_url}/{what}{suffix}", token=token)[1][what]

    def setup(self, mimic: Mimic) -> None:
        """Fix the identity URL to this port, point 'compute' at mimic's Nova, create the test user."""
        token = self._admin()
        for endpoint in self._list(token, "endpoints"):
            if endpoint["url"].startswith("http://127.0.0.1:5000/"):           # the template's placeholder
                _request("PATCH", f"{self.auth_url}/endpoints/{endpoint['id']}",
                         {"endpoint": {"url": self.auth_url + "/"}}, token=token)
        service = next(iter(self._list(token, "services", type="compute")), None) or _request(
            "POST", self.auth_url + "/services", {"service": {"type": "compute", "name": "nova"}},
            token=token)[1]["service"]
        for endpoint in self._list(token, "endpoints", service_id=service["id"]):
            _request("DELETE", f"{self.auth_url}/endpoints/{endpoint['id']}", token=token)
        for interface in ("public", "internal"):
            _request("POST", self.auth_url + "/endpoints", {"endpoint": {
                "service_id": service["id"], "interface": interface, "url": mimic.nova_template(),
                "region_id": self.region}}, token=token)
        users = self._list(token, "users", name=self.user)
        user = users[0] if users else _request("POST", self.auth_url + "/users", {"user": {
            "name": self.user, "password": PASSWORD, "domain_id": "default"}}, token=token)[1]["user"]
        self._ids.update(user=user["id"], member=self._list(token, "roles", name="member")[0]["id"])

    def new_project(self, name: str | None = None) -> tuple[str, str]:
        """A new project (name, id) where the test user is a member: a fresh tenant in mimic."""
        token = self._admin()
        name = name or f"p-{uuid.uuid4().hex[:12]}"
        _, answer = _request("POST", self.auth_url + "/projects", {"project": {"name": name, "domain_id": "default"}},
                             token=token)
        project = answer["project"]["id"]
        _request("PUT", f"{self.auth_url}/projects/{project}/users/{self._ids['user']}/roles/{self._ids['member']}",
                 token=token)
        return name, project


@contextmanager
def start_keystone(workdir: Path, mimic: Mimic, *, timeout: float = 60.0) -> Iterator[Keystone]:
    """Keystone from .emu/venv-keystone on 127.0.0.1 (sqlite, a copy of the template), its catalog
    pointing 'compute' at ``mimic``'s Nova."""
    python = require_emulator(EMU / "venv-keystone" / "bin" / "python", f"keystone=={KEYSTONE_VERSION}")
    template = EMU / "keystone-template"
    require_emulator(template / "keystone.db", f"keystone=={KEYSTONE_VERSION}'s template database")
    for part in ("fernet-keys", "fernet-receipts", "credential-keys"):
        shutil.copytree(template / part, workdir / part)                  # modes kept: keystone checks them
    shutil.copy2(template / "keystone.db", workdir / "keystone.db")
    (workdir / "keystone.conf").write_text("\n".join([
        "[DEFAULT]", "use_stderr = true", "[database]", f"connection = sqlite:///{workdir / 'keystone.db'}",
        "[identity]", "password_hash_rounds = 4", "[token]", "provider = fernet",
        "[fernet_tokens]", f"key_repository = {workdir / 'fernet-keys'}",
        "[fernet_receipts]", f"key_repository = {workdir / 'fernet-receipts'}",
        "[credential]", f"key_repository = {workdir / 'credential-keys'}", ""]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ACCORDS_"))}
    env.update(OS_KEYSTONE_CONFIG_DIR=str(workdir), OS_KEYSTONE_CONFIG_FILES="keystone.conf")
    port = free_port()
    keystone = Keystone(url=f"http://127.0.0.1:{port}", log_path=workdir / "keystone.log")
    with emulator([str(python), "-c", _SERVE_KEYSTONE, str(port)], _probe("GET", keystone.auth_url), env=env,
                  cwd=workdir, log_path=keystone.log_path, timeout=timeout):
        keystone.setup(mimic)
        yield keystone


@dataclass
class Cloud:
    """One test's tenant behind one identity version: what the driver is configured with, and
    what mimic holds for it."""

    identity: str                 # "v2" or "v3"
    mimic: Mimic
    tenant: str                   # mimic's tenant id (v3: the Keystone project's id)
    config: dict

    def driver_config(self, **overrides) -> dict:
        return {**self.config, **overrides}

    def servers(self) -> list[dict]:
        return self.mimic.servers(self.tenant)

    def image_id(self, name: str = TEST_IMAGE) -> str:
        return self.mimic.image_id(self.tenant, name)

    @classmethod
    def v2(cls, mimic: Mimic) -> "Cloud":
        tenant = f"t-{uuid.uuid4().hex[:12]}"
        return cls("v2", mimic, tenant, _common(auth_url=mimic.auth_url, username=f"user-{tenant}",
                                                project_name=tenant, region=MIMIC_REGION,
                                                service_name="cloudServersOpenStack"))

    @classmethod
    def v3(cls, mimic: Mimic, keystone: Keystone) -> "Cloud":
        name, project = keystone.new_project()
        return cls("v3", mimic, project, _common(auth_url=keystone.auth_url, username=keystone.user,
                                                 project_name=name, user_domain_name="Default",
                                                 project_domain_name="Default", region=KEYSTONE_REGION))


def _common(**config) -> dict:
    return {"password": PASSWORD, "image": TEST_IMAGE, "zones": ZONES, "ready_timeout": 20, "poll_interval": 0.2,
            "connect_timeout": 5, "read_timeout": 15, **config}


# Fixtures for the test modules that import them (tests/broker/providers/test_openstack.py,
# tests/e2e/): pytest keeps one instance per importing module in each test process.
@pytest.fixture(scope="session")
def mimic_server(tmp_path_factory):
    """One mimic per test process; each test has a tenant of its own."""
    with start_mimic(tmp_path_factory.mktemp("mimic")) as mimic:
        yield mimic


@pytest.fixture(scope="session")
def keystone_server(mimic_server, tmp_path_factory):
    """One Keystone per test process, its catalog pointing at mimic's Nova."""
    with start_keystone(tmp_path_factory.mktemp("keystone"), mimic_server) as keystone:
        yield keystone
