"""The platform on one PostgreSQL server: security, publisher, sla and provisioning run as
separate ``accords serve`` processes, each in its own schema of the same database.

Killing a component with SIGKILL (its master and its workers: a crash, no clean stop) and
starting it again on the same port with the same schema loses nothing: tokens issued before
the crash still work everywhere, categories still resolve through the publisher, and the
entities are all there. While the security component is down, the others answer 503 (a
credential check that cannot be done), never 401 (which would tell clients to drop good
tokens) nor 500.

Linux only (the workers of a gunicorn master are found in /proc). Needs the PostgreSQL
server of tests/conftest.py: skipped without one, failed under ACCORDS_REQUIRE_POSTGRES=1.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from occi.errors import Forbidden
from occi.model import infrastructure as infra
from occi.model import sla as sla_model
from occi.publisher.client import PublisherClient, client_for
from occi.security.authenticators import SecurityClient
from occi.security.model import ACCOUNT, USER
from tests.conftest import _engine, require_postgres
from tests.e2e.conftest import Server, free_port, stop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds gunicorn workers in /proc")]

COMPONENTS = ("security", "publisher", "sla", "provisioning")
WORKERS = 2
AGREEMENT = sla_model.AGREEMENT.type_id
COMPUTE = infra.COMPUTE.type_id


# -- bounded waits and processes ------------------------------------------------------------
def wait_until(what: str, predicate, timeout: float = 20.0, interval: float = 0.1):
    """``predicate()``'s first truthy value, polled until ``timeout``; else an AssertionError
    naming ``what`` and the last exception the predicate raised."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = predicate()
        except Exception as exc:  # noqa: BLE001 - polled again until the deadline
            result, last_error = None, exc
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: still not the case after {timeout:.0f} s"
                                 + (f" (last error: {last_error!r})" if last_error else ""))
        time.sleep(interval)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                found.add(int(entry))
    return found


def refuses_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return False
    except OSError:
        return True


def _drain(stream, into: deque) -> None:
    """Read a child's pipe to its end (a full pipe would block the server) and keep the tail."""
    try:
        for line in stream:
            into.append(line.rstrip("\n"))
    except (OSError, ValueError):
        pass


# -- the platform ---------------------------------------------------------------------------
@dataclass
class PgPlatform:
    """Four components on one PostgreSQL database, one schema each, one shared data directory."""

    serve: object
    data: object
    postgres: str
    run: str
    ports: dict[str, int]
    schemas: dict[str, str]
    servers: dict[str, Server] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)           # every master and worker seen
    output: dict[int, deque] = field(default_factory=dict)  # master pid -> tail of its output
    timings: dict[str, float] = field(default_factory=dict)

    def url(self, component: str) -> str:
        return f"http://127.0.0.1:{self.ports[component]}"

    def db(self, component: str) -> str:
        url = sa.make_url(self.postgres).update_query_dict({"schema": self.schemas[component]})
        return url.render_as_string(hide_password=False)

    def start(self, component: str) -> Server:
        """Start (or start again) a component on its port, with its schema."""
        links = {"security": ("--publisher", self.url("publisher")),
                 "publisher": ("--security", self.url("security"))}.get(component,
                                                                     ("--publisher", self.url("publisher")))
        began = time.monotonic()
        server = self.serve(component, *links, "--db", self.db(component), workers=WORKERS, data=self.data,
                            port=self.ports[component])
        self.timings[f"start {component}" + (" again" if component in self.servers else "")] = \
            time.monotonic() - began
        master = server.process.pid
        self.servers[component] = server
        self.pids.add(master)
        tail = self.output.setdefault(master, deque(maxlen=200))
        for name, stream in (("stdout", server.process.stdout), ("stderr", server.process.stderr)):
            threading.Thread(target=_drain, args=(stream, tail), daemon=True, name=f"{component}-{name}").start()
        wait_until(f"{component} has its {WORKERS} workers", lambda: len(self.workers(component)) >= WORKERS,
                   timeout=10)
        return server

    def workers(self, component: str) -> set[int]:
        master = self.servers[component].process.pid
        found = children(master)
        self.pids |= found
        return found

    def kill(self, component: str) -> None:
        """SIGKILL the master and every worker of a component: a crash, nothing withdrawn."""
        server = self.servers[component]
        victims = {server.process.pid, *self.workers(component)}
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.process.wait(timeout=10)
        wait_until(f"every process of {component} ({sorted(victims)}) is gone",
                   lambda: not any(alive(p) for p in victims), timeout=10)
        wait_until(f"{component}'s port is closed", lambda: refuses_connections(server.url), timeout=10)

    def tails(self) -> str:
        return "\n".join(f"--- pid {pid} ---\n" + "\n".join(lines) for pid, lines in self.output.items() if lines)


@pytest.fixture
def pg_platform(serve, tmp_path, monkeypatch):
    """A PgPlatform (nothing started yet); at teardown, even after a failure: every process
    stopped and checked gone, ports closed, schemas dropped and checked gone."""
    postgres = require_postgres()
    # Every credential check reaches the security component: nothing is answered from a cache.
    monkeypatch.setenv("ACCORDS_AUTH_CACHE_TTL", "0")
    monkeypatch.delenv("ACCORDS_TOKEN", raising=False)
    run = uuid.uuid4().hex[:12]
    ports: dict[str, int] = {}
    while len(ports) < len(COMPONENTS):
        port = free_port()
        if port not in ports.values():
            ports[COMPONENTS[len(ports)]] = port
    platform = PgPlatform(serve=serve, data=tmp_path / "platform", postgres=postgres, run=run, ports=ports,
                          schemas={c: f"accords_{run}_{c}" for c in COMPONENTS})
    try:
        yield platform
    finally:
        try:
            for component in platform.servers:
                if platform.servers[component].process.poll() is None:
                    platform.workers(component)      # record the workers before the master goes
            # In the reverse order of COMPONENTS: sla and provisioning withdraw from the publisher
            # while it (and the security component it asks) still run.
            for component in sorted(platform.servers, key=COMPONENTS.index, reverse=True):
                stop(platform.servers[component].process)
            running = lambda: sorted(p for p in platform.pids if alive(p))  # noqa: E731
            try:
                wait_until("every process started (masters and workers) is gone", lambda: not running(),
                           timeout=10)
            except AssertionError:
                leaked = running()
                for pid in leaked:
                    os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"processes left running after the stop (now killed): {leaked}") from None
            still_open = [c for c in platform.servers if not refuses_connections(platform.url(c))]
            assert not still_open, f"something still listens on the ports of {still_open}"
        finally:
            if platform.tails():
                print(platform.tails())   # shown by pytest when the test failed
            engine = _engine(postgres)
            try:
                with engine.begin() as connection:
                    quote = connection.dialect.identifier_preparer.quote
                    for schema in platform.schemas.values():
                        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
                with engine.connect() as connection:
                    left = connection.execute(sa.text("SELECT schema_name FROM information_schema.schemata "
                                                      "WHERE schema_name LIKE :prefix"),
                                              {"prefix": f"accords\\_{run}\\_%"}).scalars().all()
            finally:
                engine.dispose()
            assert not left, f"schemas left behind: {left}"


def _rows(platform: PgPlatform, component: str, collection: str) -> int:
    """How many entities of a collection a component's schema holds (read straight from PostgreSQL)."""
    engine = _engine(platform.postgres)
    try:
        with engine.connect() as connection:
            table = f"{connection.dialect.identifier_preparer.quote(platform.schemas[component])}.occi_entity"
            return connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE location LIKE :pattern"),
                                      {"pattern": f"%{collection}%"}).scalar_one()
    finally:
        engine.dispose()


def _unavailable(url: str, path: str, **auth) -> tuple[int, dict, str | None]:
    """(status, error body, Retry-After) of an authenticated GET."""
    headers = {"Accept": "application/json"}
    if "token" in auth:
        headers["Authorization"] = f"Bearer {auth['token']}"
    answer = requests.get(url + path, headers=headers, auth=auth.get("basic"), timeout=15)
    try:
        body = answer.json().get("error", {})
    except ValueError:
        body = {"text": answer.text[:300]}
    return answer.status_code, body, answer.headers.get("Retry-After")


@dataclass
class Started:
    admin_token: str
    directory: PublisherClient        # the admin's, uncached
    security_url: str
    provider_account: str
    provider: str
    provider_password: str
    provider_token: str
    account_url: str
    user_url: str


def start_platform(platform: PgPlatform, components=COMPONENTS) -> Started:
    """Start the components, log in as admin, wait for the publications, and make a provider
    (a new account and a user of role provider in it, created over OCCI) with a token."""
    began = time.monotonic()
    for component in components:
        platform.start(component)
    engine = _engine(platform.postgres)
    try:
        with engine.connect() as connection:
            schemas = set(connection.execute(sa.text("SELECT schema_name FROM information_schema.schemata "
                                                     "WHERE schema_name LIKE :prefix"),
                                             {"prefix": f"accords\\_{platform.run}\\_%"}).scalars())
    finally:
        engine.dispose()
    assert schemas == {platform.schemas[c] for c in components}, "each component has a schema of its own"

    admin = json.loads((platform.data / "credentials" / "admin.json").read_text())
    admin_token = SecurityClient(platform.url("security")).login(admin["user"], admin["password"])["token"]
    directory = PublisherClient(platform.url("publisher"), token=admin_token, cache_ttl=0)
    published = {"sla": "agreement", "provisioning": COMPUTE}
    wait_until(f"{', '.join(c for c in components if c in published)} published",
               lambda: all(directory.resolve(published[c]) for c in components if c in published))
    security_url = directory.url_for("authorization")      # the security component publishes itself
    assert security_url == platform.url("security")
    platform.timings["platform up"] = time.monotonic() - began

    account, provider, password = f"tenant-{platform.run}", f"provider-{platform.run}", f"pw-{uuid.uuid4().hex}"
    with client_for("user", publisher=platform.url("publisher"), token=admin_token) as security:
        account_url = security.create(ACCOUNT.type_id, attributes={"occi.account.name": account})
        user_url = security.create(USER.type_id, attributes={
            "occi.user.name": provider, "occi.user.password": password, "occi.user.account": account,
            "occi.user.roles": ["provider"]})
    provider_token = SecurityClient(security_url).login(provider, password)["token"]
    return Started(admin_token=admin_token, directory=directory, security_url=security_url,
                   provider_account=account, provider=provider, provider_password=password,
                   provider_token=provider_token, account_url=account_url, user_url=user_url)


def test_components_on_one_postgres_survive_a_crash_and_a_restart(pg_platform):
    platform = pg_platform
    began = time.monotonic()

    # -- 1. security (publishes itself), publisher, sla, provisioning; an admin and a provider --
    up = start_platform(platform)
    publisher, admin_token, provider_token = platform.url("publisher"), up.admin_token, up.provider_token
    directory, security_url = up.directory, up.security_url

    # -- 2. data, through the publisher: callers resolve categories, never name a URL --------
    with client_for("agreement", publisher=publisher, token=provider_token) as agreements:
        sla_url = agreements.transport.base_url
        provider_agreement = agreements.create(AGREEMENT, title=f"provider agreement {platform.run}")
        agreements.action(provider_agreement, "accept")
    with client_for(AGREEMENT, publisher=publisher, token=admin_token) as agreements:
        admin_agreement = agreements.create(AGREEMENT, title=f"admin agreement {platform.run}")
    with client_for(COMPUTE, publisher=publisher, token=admin_token) as computes:
        compute = computes.create(COMPUTE, attributes={"occi.compute.cores": 2}, title=f"vm {platform.run}")
    assert sla_url == platform.url("sla") and provider_agreement.startswith(sla_url + "/agreement/")
    assert compute.startswith(platform.url("provisioning") + "/compute/")
    # The tokens are rows of the security component's schema, not memory of its processes.
    assert _rows(platform, "security", "/authorization/") >= 2
    assert _rows(platform, "sla", "/agreement/") == 2

    # -- 3. the security component crashes --------------------------------------------------
    mark = time.monotonic()
    platform.kill("security")
    probes = {
        "publisher, admin token": (publisher, "/publication/", {"token": admin_token}),
        "sla, admin token": (platform.url("sla"), "/agreement/", {"token": admin_token}),
        "sla, provider token": (platform.url("sla"), "/agreement/", {"token": provider_token}),
        "provisioning, provider password": (platform.url("provisioning"), "/compute/",
                                            {"basic": (up.provider, up.provider_password)}),
    }
    answers = {name: _unavailable(url, path, **auth) for name, (url, path, auth) in probes.items()}
    print("while the security component is down:", json.dumps(answers, indent=1))
    assert {name: status for name, (status, _, _) in answers.items()} == {name: 503 for name in probes}, answers
    for name, (_, body, retry_after) in answers.items():
        assert "security component" in body.get("message", ""), (name, body)
        assert body.get("code", "").startswith("security-"), (name, body)
        assert retry_after is not None, name
    platform.timings["security down, 503 checked"] = time.monotonic() - mark

    # -- 4. ... and comes back on the same port, with the same schema ------------------------
    mark = time.monotonic()
    platform.start("security")
    for token, account in ((admin_token, "accords"), (provider_token, up.provider_account)):   # issued before
        who = requests.get(security_url + "/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert who.status_code == 200, who.text
        assert who.json()["account"] == account
    # The other components check the old tokens with the restarted security component.
    assert {p.url for p in directory.resolve("authorization")} == {platform.url("security")}
    assert {p.url for p in directory.resolve("agreement")} == {platform.url("sla")}
    assert {p.url for p in directory.resolve(COMPUTE)} == {platform.url("provisioning")}
    with client_for("user", publisher=publisher, token=admin_token) as security:
        assert security.get(up.user_url).attributes["occi.user.account"] == up.provider_account
        assert security.get(up.account_url).attributes["occi.account.name"] == up.provider_account
    with client_for("agreement", publisher=publisher, token=admin_token) as agreements:
        assert {e.location for e in agreements.list_entities("/agreement/")} == {provider_agreement, admin_agreement}
    provider_view = PublisherClient(publisher, token=provider_token, cache_ttl=0)
    assert {p.url for p in provider_view.resolve("agreement")} == {platform.url("sla")}
    with client_for("agreement", publisher=publisher, token=provider_token) as agreements:
        assert agreements.get(provider_agreement).attributes["occi.agreement.state"] == "Accepted"
        assert [e.location for e in agreements.list_entities("/agreement/")] == [provider_agreement]
    with client_for("compute", publisher=publisher, token=admin_token) as computes:
        assert computes.get(compute).attributes["occi.compute.cores"] == 2
    with client_for("compute", publisher=publisher, token=provider_token) as computes:
        assert computes.list_entities("/compute/") == []          # authenticated; the compute is not theirs
    # Logging in works too (a new token; the old ones were not replaced).
    assert SecurityClient(security_url).login(up.provider, up.provider_password)["token"] != provider_token
    platform.timings["security back, everything checked"] = time.monotonic() - mark

    # -- 5. the sla component crashes and comes back -----------------------------------------
    mark = time.monotonic()
    before = {p.location for p in directory.resolve("agreement")}
    platform.kill("sla")
    platform.start("sla")
    republished = wait_until("the restarted sla component publishes again",
                             lambda: [p for p in directory.resolve("agreement") if p.location not in before],
                             timeout=20)
    assert {p.url for p in republished} == {platform.url("sla")}       # the GFD.228 and CORDS agreements
    platform.timings["sla restarted and published again"] = time.monotonic() - mark
    with client_for("agreement", publisher=publisher, token=admin_token) as agreements:
        assert agreements.transport.base_url == platform.url("sla")
        assert agreements.get(admin_agreement).title == f"admin agreement {platform.run}"
    with client_for("agreement", publisher=publisher, token=provider_token) as agreements:
        assert agreements.transport.base_url == platform.url("sla")
        found = agreements.get(provider_agreement)
        assert found.title == f"provider agreement {platform.run}"
        assert found.attributes["occi.agreement.state"] == "Accepted"
        agreements.action(provider_agreement, "suspend")          # and it still takes changes
        assert agreements.get(provider_agreement).attributes["occi.agreement.state"] == "Suspended"
        with pytest.raises(Forbidden):                  # authenticated (not 401), but not theirs
            agreements.get(admin_agreement)
    platform.timings["total"] = time.monotonic() - began
    print("timings (s):", {name: round(seconds, 2) for name, seconds in platform.timings.items()})

