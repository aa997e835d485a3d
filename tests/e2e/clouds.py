"""Deploying on the cloud emulators through the real CLI and real servers: shared helpers.

A test writes ``DATA/providers.json`` for the clouds it wants (the format
broker/provisioning/clouds.py documents), then starts broker, parser and provisioning
(``cloud_platform``), drives ``accords submit|stop|start|delete``, and reads each emulator's own
inventory through the emulator's API (:class:`Inventory`: moto's DescribeInstances, mimic's Nova,
the OpenNebula double's ``one.vmpool.infoextended``) to compare it with what the CLI reports.

The emulators' nodes boot nothing, so every cloud is configured with ``"agent": false``: the
nodes' statements are skipped, but the dependency order between nodes is still kept, which
:func:`running_order` reads back from the provisioning component's events.
"""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import xmlrpc.client
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from broker import settings
from broker.providers.base import CONTRACT_TAG
from broker.provisioning.reconciler import OWNER_TAG, SERVICE_TAG
from tests.broker.test_services import THREE
from tests.doubles.opennebula import L, S
from tests.e2e.test_cli_security import eventually
from tests.e2e.test_cli_submit import _published

__all__ = ["Node", "Inventory", "moto_inventory", "mimic_inventory", "opennebula_inventory", "cloud_platform",
           "three", "contract_id", "occi_resources", "service_contracts", "service_events", "running_order",
           "slow_answers", "ONE_USER", "ONE_PASSWORD", "UNKNOWN_AMI", "CONTRACT_TAG", "OWNER_TAG", "SERVICE_TAG"]

ONE_USER, ONE_PASSWORD = "accords", "accords-one-password-e2e"
#: An AMI moto does not know: with AMI validation on, RunInstances refuses it as EC2 does.
UNKNOWN_AMI = "ami-00000000deadbeef0"


@dataclass(frozen=True)
class Node:
    """One node as the emulator lists it: its id, ``running``/``stopped``/another state, its tags."""

    id: str
    state: str
    tags: dict = field(default_factory=dict)


@dataclass
class Inventory:
    """What one emulator holds, read through its own API (never through the driver under test)."""

    cloud: str
    #: The live nodes (deleted, terminated or terminating ones left out).
    live: Callable[[], list[Node]]
    #: Whether the driver can stop and start nodes (docs/providers.md, "Limits").
    can_stop: bool = True

    def ours(self, owner: str | None = None) -> list[Node]:
        """The live nodes carrying a contract tag (and ``owner``'s tag when given)."""
        return [n for n in self.live() if CONTRACT_TAG in n.tags and (owner is None or n.tags.get(OWNER_TAG) == owner)]


def moto_inventory(moto) -> Inventory:
    _states = {"running": "running", "stopped": "stopped", "pending": "pending", "stopping": "stopping"}

    def live() -> list[Node]:
        pages = moto.client().get_paginator("describe_instances").paginate()
        return [Node(id=i["InstanceId"], state=_states[i["State"]["Name"]],
                     tags={t["Key"]: t["Value"] for t in i.get("Tags") or []})
                for page in pages for r in page["Reservations"] for i in r["Instances"]
                if i["State"]["Name"] in _states]
    return Inventory(cloud="moto", live=live)


def mimic_inventory(cloud) -> Inventory:
    """``cloud``: a tests.emulators_openstack.Cloud (one tenant of mimic's Nova)."""
    _states = {"ACTIVE": "running", "SHUTOFF": "stopped", "BUILD": "pending", "ERROR": "error"}

    def live() -> list[Node]:
        return [Node(id=s["id"], state=_states.get(s["status"], s["status"]), tags=dict(s.get("metadata") or {}))
                for s in cloud.servers()]
    return Inventory(cloud=f"mimic ({cloud.identity})", live=live, can_stop=False)


def opennebula_inventory(double) -> Inventory:
    """Every VM but DONE ones, as oned's ``one.vmpool.infoextended`` lists them to oneadmin."""
    session = "oneadmin:" + double.users["oneadmin"][0]

    def state(vm) -> str:
        state, lcm = int(vm.findtext("STATE")), int(vm.findtext("LCM_STATE"))
        if (state, lcm) == (S["ACTIVE"], L["RUNNING"]):
            return "running"
        return "stopped" if state == S["POWEROFF"] else f"{state}/{lcm}"

    def live() -> list[Node]:
        proxy = xmlrpc.client.ServerProxy(double.endpoint)
        try:
            ok, body, code = proxy.one.vmpool.infoextended(session, -2, -1, -1, -1)
        finally:
            proxy("close")()
        assert ok, (body, code)
        vms = ET.fromstring(body).findall("VM")
        return [Node(id=vm.findtext("ID"), state=state(vm),
                     tags=json.loads(vm.findtext("USER_TEMPLATE/ACCORDS_TAGS") or "{}")) for vm in vms]
    return Inventory(cloud="opennebula double", live=live)


def three(name: str, log: Path, *, failing_on: str | None = None) -> str:
    """tests/broker/test_services.py's manifest (db, then app reading db, then web reading app).
    ``failing_on``: app names that provider and the others none (they go to the first configured)."""
    xml = THREE.format(name=name, log=log, app_command=f"echo app $db_hostname >> {log}")
    if failing_on is not None:
        xml = xml.replace(' provider="local"', "").replace('<node name="app"', f'<node name="app" '
                                                                                 f'provider="{failing_on}"')
    return xml


def contract_id(node: dict) -> str:
    """The ``accords-contract`` tag of a node of the CLI's report (its contract's occi.core.id)."""
    return "urn:uuid:" + urlsplit(node["contract"]).path.rstrip("/").rsplit("/", 1)[-1]


def occi_resources(url: str, token: str) -> list[dict]:
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                          timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json().get("resources", [])


def service_contracts(platform, service: str) -> list[dict]:
    """The provisioning component's contracts of ``service`` (id and attributes)."""
    return [r for r in occi_resources(platform.servers["provisioning"].url + "/contract/", platform.admin_token)
            if r["attributes"].get("occi.contract.service") == service]


def service_events(platform, service: str) -> list[dict]:
    """The attributes of the provisioning component's events of ``service``, oldest first."""
    events = [r["attributes"] for r in occi_resources(platform.servers["provisioning"].url + "/event/",
                                                       platform.admin_token)]
    return sorted((e for e in events if e.get("occi.event.service") == service), key=lambda e: e["occi.event.at"])


def running_order(platform, service: str) -> list[str]:
    """The service's nodes in the order they first reached running (their ``configure`` events)."""
    reached = {}
    for event in service_events(platform, service):
        if event.get("occi.event.to") == "running":
            reached.setdefault(event["occi.event.node"], event["occi.event.at"])
    return sorted(reached, key=reached.get)


@pytest.fixture
def cloud_platform(platform, serve):
    """``start(providers)``: writes DATA/providers.json (0600) and starts broker, parser and
    provisioning (two workers each) on the platform; returns the platform with ``servers``."""

    def start(providers: dict, *, workers: int = 2):
        path = platform.data / "providers.json"
        path.write_text(json.dumps(providers))
        os.chmod(path, 0o600)
        settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
        platform.servers = {component: serve(component, "--publisher", platform.publisher.url, data=platform.data,
                                             workers=workers)
                            for component in ("broker", "parser", "provisioning")}
        assert eventually(lambda: _published(platform), timeout=20), "broker and parser never published their kinds"
        return platform
    return start


@contextmanager
def slow_answers(upstream: str, *, action: str, delay: float) -> Iterator[str]:
    """A pass-through HTTP endpoint on 127.0.0.1 in front of ``upstream`` (moto) that answers a
    query-API ``action`` (``RunInstances``) ``delay`` seconds after the upstream did: the node
    exists while its creator still waits, as on a slow cloud. Yields the endpoint's URL."""

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length",
                                                                                  "connection")}
            request = urllib.request.Request(upstream + self.path, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, reply, kind = answer.status, answer.read(), answer.headers.get("Content-Type")
            except urllib.error.HTTPError as error:
                status, reply, kind = error.code, error.read(), error.headers.get("Content-Type")
            if f"Action={action}".encode() in body:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind or "text/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass                                # the caller is gone (killed): nothing to answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
