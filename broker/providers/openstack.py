"""The ``openstack`` provider: Nova behind Keystone (v3, or v2 for old clouds), through openstacksdk.

One ``POST /servers`` creates a server with the node's tags in its metadata (where key-value tags
live on every Nova, mimic included) and the id of that create: a server never exists untagged,
and one a failed create made after all (a 5xx or a lost answer) is found by that id and deleted.
``create`` waits (bounded) for ACTIVE; a server in ERROR or late is deleted before the error is
raised. The flavor is the smallest with the cores, memory and disk asked for (and the image's
minimums). An agent token travels as cloud-config user data; the create call is never logged.

Errors are translated once (:func:`translate_error`): timeouts, connection failures, 429 and 5xx
are :class:`ProviderUnavailable`; other 4xx (unknown image, quota, bad credentials) are
:class:`ProviderRefused` with the cloud's words; a 404 on a server is :class:`InstanceNotFound`.
Credentials appear in no message, repr or log line. docs/providers.md has the configuration.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import uuid
from typing import Any, Callable, Iterable, Mapping

import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v2 as ks_v2
from keystoneauth1.identity import v3 as ks_v3
from openstack import connection as os_connection
from openstack import exceptions as os_exc

from broker.providers.base import (CONTRACT_TAG, Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.redaction import REDACTOR, guard_loggers

__all__ = ["OpenStackDriver", "translate_error", "CREATE_KEY", "TOKEN_PATH"]

log = logging.getLogger(__name__)

#: The metadata key holding the id of the create that made a server (reported in ``extra``).
CREATE_KEY = "accords-create"
#: Where the user data puts the agent's token on the node (mode 0600).
TOKEN_PATH = "/etc/accords/agent-token"
_LOGGERS = ("keystoneauth", "keystoneauth1", "openstack", "urllib3", "requests")
#: Nova's statuses; those of a task under way are reported by what the server is meanwhile.
_STATES = {"ACTIVE": "running", "BUILD": "pending", "REBUILD": "pending", "REBOOT": "running",
           "HARD_REBOOT": "running", "PASSWORD": "running", "RESIZE": "running", "VERIFY_RESIZE": "running",
           "REVERT_RESIZE": "running", "MIGRATING": "running", "RESCUE": "running", "SHUTOFF": "stopped",
           "SUSPENDED": "stopped", "PAUSED": "stopped", "SHELVED": "stopped", "SHELVED_OFFLOADED": "stopped",
           "DELETED": "terminated", "SOFT_DELETED": "terminated", "ERROR": "error"}
_GONE = ("DELETED", "SOFT_DELETED")
#: What openstacksdk and keystoneauth raise for a failed call (an unreadable answer included).
_ERRORS = (os_exc.SDKException, ks_exc.ClientException, requests.exceptions.JSONDecodeError)
_CONFIGURATION = (ks_exc.SSLError, ks_exc.EndpointNotFound, ks_exc.EmptyCatalog, ks_exc.AuthPluginException,
                  ks_exc.MissingRequiredOptions)
_NO_ANSWER = (ks_exc.ConnectionError, ks_exc.DiscoveryFailure, ks_exc.InvalidResponse,
              requests.exceptions.JSONDecodeError)
# Nova's create answer holds the root password and its request the user data (the agent's
# token): hidden from any log line or message that would quote them, should one ever do.
REDACTOR.register_pattern(r'("(?:user_data|adminPass)"\s*:\s*")[^"]*')


def translate_error(exc: Exception, doing: str, *, instance: str | None = None) -> ProviderError:
    """The provider error for an openstacksdk or keystoneauth exception; ``doing`` says what was asked."""
    status, transient = 0, False
    if isinstance(exc, (os_exc.HttpException, ks_exc.HttpError)):
        response = exc.response
        status = getattr(exc, "status_code", None) or getattr(exc, "http_status", 0) or 0
        reason = getattr(response, "reason", None) or ""
        detail = f"{status} {reason}: {exc.details or getattr(exc, 'message', '') or exc}".replace(" :", ":")
        retry_after = response is not None and "retry-after" in {k.lower() for k in response.headers}
        # 413 is Nova's over-limit: a rate limit (with Retry-After) passes, an absolute quota does not.
        transient = status >= 500 or status in (408, 429) or (status == 413 and retry_after)
    elif isinstance(exc, _CONFIGURATION):          # certificate, region, service, auth options
        detail = str(exc)
    elif isinstance(exc, _NO_ANSWER):              # refused, timed out, a proxy's page
        detail, transient = str(exc), True
    elif isinstance(exc, _ERRORS):                 # DuplicateResource, InvalidRequest ...
        detail = str(exc)
    else:
        raise TypeError(f"not an openstack error: {exc!r}")
    detail = detail.strip() or type(exc).__name__
    detail = detail if len(detail) <= 400 else detail[:400] + " ..."
    if (status == 404 or isinstance(exc, os_exc.ResourceNotFound)) and instance is not None:
        found: ProviderError = InstanceNotFound(REDACTOR.scrub(f"no openstack server {instance} ({detail})"),
                                                provider="openstack", instance=instance)
    else:
        kind = ProviderUnavailable if transient else ProviderRefused
        found = kind(REDACTOR.scrub(f"openstack could not {doing}: {detail}"), provider="openstack", instance=instance)
    found.code = status or type(exc).__name__      # type: ignore[attr-defined]
    return found


def _password(auth_url: str, version: str | None, *, username, password, project, project_id, user_domain_name,
              project_domain_name):
    """Keystone's password plugin: v2 when asked or when the URL ends in /v2.0, else v3."""
    url = auth_url.rstrip("/")
    version = version or ("2" if url.endswith("/v2.0") else "3")
    if version.startswith("2"):
        return ks_v2.Password(auth_url=url if url.endswith("/v2.0") else url + "/v2.0", username=username,
                              password=password, tenant_name=project, tenant_id=project_id)
    return ks_v3.Password(auth_url=url if url.endswith("/v3") else url + "/v3", username=username, password=password,
                          project_name=project, project_id=project_id, user_domain_name=user_domain_name,
                          project_domain_name=None if project_id else project_domain_name)


class OpenStackDriver(ProviderDriver):
    """Nova in one region of one project. Keyword configuration only; see docs/providers.md."""

    name = "openstack"
    # No start/stop: mimic, the tests' Nova, has no os-start/os-stop, and an untested call is not
    # shipped. No snapshot: mimic's createImage answers no image id.
    capabilities = frozenset({"reboot", "tags"})

    def __init__(self, *, auth_url: str | None = None, username: str | None = None, password: str | None = None,
                 project_name: str | None = None, tenant_name: str | None = None, project_id: str | None = None,
                 user_domain_name: str = "Default", project_domain_name: str = "Default",
                 identity_version: str | None = None, region: str | None = None, interface: str = "public",
                 service_name: str | None = None, image: str | None = None, flavors: Iterable[str] | None = None,
                 zones: Iterable[str] | None = None, key_name: str | None = None, networks: Iterable[str] = (),
                 security_groups: Iterable[str] = (), connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 retries: int = 2, ready_timeout: float = 300.0, poll_interval: float = 5.0,
                 reboot_type: str = "SOFT", metadata: Mapping[str, str] | None = None,
                 session: ks_session.Session | None = None, connection: os_connection.Connection | None = None):
        self.auth_url, self.region, self.image, self.key_name = auth_url, region, image, key_name
        self.flavor_patterns = list(flavors or [])
        self.zone_names = list(zones) if zones is not None else None
        self.networks, self.security_groups = list(networks), list(security_groups)
        #: Nova metadata every server gets besides its tags (which win): an operator's labels.
        self.metadata = dict(metadata or {})
        self.ready_timeout, self.poll_interval, self.reboot_type = ready_timeout, poll_interval, reboot_type
        self._sizes: list[Size] | None = None
        self._flavor_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        REDACTOR.register(password)
        guard_loggers(*_LOGGERS)
        if connection is None:
            if session is None:
                if not auth_url:
                    raise ProviderRefused("openstack needs auth_url (or a session)", provider=self.name)
                auth = _password(auth_url, identity_version, username=username, password=password,
                                 project=project_name or tenant_name, project_id=project_id,
                                 user_domain_name=user_domain_name, project_domain_name=project_domain_name)
                session = ks_session.Session(auth=auth, connect_retries=retries, user_agent="accords")
            if session.timeout is None:
                # keystoneauth hands this to requests as is: a (connect, read) pair bounds every call.
                session.timeout = (connect_timeout, read_timeout)       # type: ignore[assignment]
            connection = os_connection.Connection(session=session, region_name=region, interface=interface,
                                                  compute_service_name=service_name, compute_interface=interface,
                                                  compute_api_version="2")
        self._connection = connection

    def __repr__(self) -> str:
        return f"<OpenStackDriver auth_url={self.auth_url or 'session'} region={self.region}>"

    @property
    def connection(self) -> os_connection.Connection:
        """The openstacksdk connection (for what the interface does not cover; tests)."""
        return self._connection

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, doing: str, call: Callable[[], Any], *, instance: str | None = None) -> Any:
        guard_loggers(*_LOGGERS)
        try:
            return call()
        except _ERRORS as exc:
            raise translate_error(exc, doing, instance=instance) from None

    @property
    def _compute(self):
        return self._call("reach the compute service", lambda: self._connection.compute)

    def _server(self, server_id: str):
        return self._call(f"describe {server_id}", lambda: self._compute.get_server(server_id), instance=server_id)

    def _servers(self) -> list:
        return self._call("list servers", lambda: list(self._compute.servers(details=True)))

    @staticmethod
    def _gone(server) -> bool:
        return (server.status or "").upper() in _GONE or server.task_state == "deleting"

    def _live(self, server_id: str):
        server = self._server(server_id)
        if self._gone(server):
            raise InstanceNotFound(f"openstack server {server_id} is deleted", provider=self.name, instance=server_id)
        return server

    def _instance(self, server) -> Instance:
        tags = {str(k): str(v) for k, v in (server.metadata or {}).items()}
        created_by = tags.pop(CREATE_KEY, None)
        status = (server.status or "UNKNOWN").upper()
        state = "terminated" if self._gone(server) else _STATES.get(status, "error")
        reason = ((server.fault or {}).get("message") or f"nova reports {status} (no fault given)"
                  if state == "error" else None)
        found = [((entry.get("version") != 4, entry.get("OS-EXT-IPS:type") != "floating", network != "public"),
                  entry["addr"]) for network, entries in (server.addresses or {}).items()
                 for entry in entries or [] if entry.get("addr")]    # floating, fixed; IPv4, IPv6; "public" first
        addresses = list(dict.fromkeys(addr for _, addr in sorted(found, key=lambda f: f[0])))
        return Instance(id=server.id, name=server.name or server.id, state=state, addresses=addresses, tags=tags,
                        reason=reason, extra={"nova_status": status, "task_state": server.task_state,
                                              "flavor": getattr(server.flavor, "id", None),
                                              "image": getattr(server.image, "id", None),
                                              "zone": server.availability_zone, "key_name": server.key_name,
                                              "created": server.created_at, "create_id": created_by})

    def _wait_active(self, server_id: str, timeout: float, *, doing: str):
        """Poll until ACTIVE with no task under way; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        delay = 0.2
        while True:
            try:
                server = self._server(server_id)
            except InstanceNotFound:
                if doing != "create":
                    raise
                raise ProviderRefused(f"openstack server {server_id} disappeared before it was ACTIVE",
                                      provider=self.name, instance=server_id) from None
            status = (server.status or "UNKNOWN").upper()
            if status == "ACTIVE" and not server.task_state:
                return server
            if status == "ERROR" or self._gone(server):
                fault = server.fault or {}
                text = (f"openstack server {server_id} went to {status} instead of ACTIVE: "
                        f"{fault.get('message') or 'no fault given'}")
                # Nova's build failures (No valid host ...) have fault code 500: another try, or
                # another provider, may succeed. Without a fault, nothing says it would.
                kind = ProviderUnavailable if int(fault.get("code") or 0) >= 500 else ProviderRefused
                raise kind(REDACTOR.scrub(text), provider=self.name, instance=server_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderUnavailable(f"openstack server {server_id} is not ACTIVE {timeout:g} s after {doing} "
                                          f"(last seen {status})", provider=self.name, instance=server_id)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_interval)

    # -- choosing what to run -----------------------------------------------------------------
    def sizes(self) -> list[Size]:
        """The enabled flavors (those matching ``flavors`` when given), smallest first (cached)."""
        with self._lock:
            if self._sizes is None:
                flavors = self._call("list flavors", lambda: list(self._compute.flavors(details=True)))
                kept = [f for f in flavors if not getattr(f, "is_disabled", False) and (
                    not self.flavor_patterns or any(fnmatch.fnmatchcase(n, p) for p in self.flavor_patterns
                                                    for n in (f.name, f.id) if n))]
                self._flavor_ids = {f.name or f.id: f.id for f in kept}
                self._sizes = sorted((Size(name=f.name or f.id, cores=int(f.vcpus or 0), memory_mb=int(f.ram or 0),
                                           disk_gb=int(f.disk or 0)) for f in kept),
                                     key=lambda s: (s.memory_mb, s.cores, s.disk_gb, s.name))
            return list(self._sizes)

    def choose_size(self, cores: int | None, memory_mb: int | None, disk_gb: int | None = None) -> Size:
        """The smallest flavor (memory, then cores, then disk) with at least what is asked for. A
        flavor with a 0 GB disk (its root disk sized from the image) never fits a disk asked for."""
        sizes = self.sizes()
        for size in sizes:
            if size.cores >= (cores or 0) and size.memory_mb >= (memory_mb or 0) and size.disk_gb >= (disk_gb or 0):
                return size
        largest = f"; the largest is {sizes[-1].name}" if sizes else ""
        among = f" among {', '.join(self.flavor_patterns)}" if self.flavor_patterns else ""
        raise ProviderRefused(f"no openstack flavor{among} has {cores or 0} vCPUs, {memory_mb or 0} MiB and "
                              f"{disk_gb or 0} GB{largest}", provider=self.name)

    def _find_image(self, spec: NodeSpec):
        ref = spec.image or self.image
        if not ref:
            raise ProviderRefused(f"no image for {spec.name}: give the node an image or the driver a default "
                                  "(image=name or id)", provider=self.name)

        def find():        # Nova takes any imageRef at first (mimic never checks): look it up, by id then name
            try:
                found = self._compute.find_image(ref, ignore_missing=False)
            except os_exc.ResourceNotFound:
                return None
            # Found by name, it comes from the brief list: read its minimums (disk, memory) too.
            return found if found.min_disk is not None else self._compute.get_image(found.id)
        image = self._call(f"find image {ref!r}", find)
        if image is None:
            raise ProviderRefused(f"openstack has no image {ref!r} (by id or name) for {spec.name}",
                                  provider=self.name)
        if (image.status or "ACTIVE").upper() != "ACTIVE":
            raise ProviderRefused(f"openstack image {ref!r} is {image.status}, not ACTIVE", provider=self.name)
        return image

    @staticmethod
    def user_data(token: str) -> str:
        """The cloud-config that leaves the agent's token in TOKEN_PATH (0600), base64 as Nova wants."""
        config = "\n".join(["#cloud-config", "write_files:", f"  - path: {TOKEN_PATH}", "    owner: root:root",
                            "    permissions: '0600'", f"    content: {json.dumps(token)}", ""])
        return base64.b64encode(config.encode()).decode("ascii")

    # -- the interface ------------------------------------------------------------------------
    def create(self, spec: NodeSpec) -> Instance:
        image = self._find_image(spec)
        size = self.choose_size(spec.cores, max(spec.memory_mb or 0, int(image.min_ram or 0)) or None,
                                max(spec.disk_gb or 0, int(image.min_disk or 0)) or None)
        if spec.zone and self.zone_names is not None and spec.zone not in self.zone_names:
            raise ProviderRefused(f"openstack zone {spec.zone!r} of {spec.name} is not one of "
                                  f"{', '.join(self.zone_names) or 'none'}", provider=self.name)
        create_id = uuid.uuid4().hex
        metadata = {**self.metadata, **spec.all_tags(), CREATE_KEY: create_id}
        for key, value in metadata.items():         # Nova's limits, told before asking
            if not isinstance(value, str) or not 0 < len(key) <= 255 or len(value) > 255:
                raise ProviderRefused(f"tag {key!r} of {spec.name} does not fit Nova metadata (strings, keys of 1 "
                                      "to 255 characters, values up to 255)", provider=self.name)
        options = {"availability_zone": spec.zone, "key_name": self.key_name,
                   "networks": [{"uuid": n} for n in self.networks],
                   "security_groups": [{"name": g} for g in self.security_groups],
                   "user_data": self.user_data(spec.agent_token) if spec.agent_token else None}
        server = {"name": spec.name, "imageRef": image.id, "flavorRef": self._flavor_ids[size.name],
                  "metadata": metadata, "min_count": 1, "max_count": 1, **{k: v for k, v in options.items() if v}}
        doing = f"create {spec.name} from image {image.name or image.id} as {size.name}"

        def post() -> str:
            # Not logged (the body holds the user data, the answer the root password), and not
            # retried by keystoneauth: a POST that timed out may have created a server already.
            answer = self._compute.post("/servers", json={"server": server}, log=False, connect_retries=0)
            os_exc.raise_from_response(answer)
            return answer.json()["server"]["id"]
        try:
            server_id = self._call(doing, post)
        except ProviderError as error:
            for secret in filter(None, (spec.agent_token, server.get("user_data"))):
                error.message = error.message.replace(secret, "***")
            error.args = (error.message,)
            if error.transient:       # Nova may have stored the server before failing: find it by its create id
                self._sweep(create_id)
            raise
        except (KeyError, TypeError) as exc:
            self._sweep(create_id)
            raise ProviderUnavailable(f"openstack could not {doing}: an answer without a server id ({exc!r})",
                                      provider=self.name) from None
        log.info("openstack: created %s (%s, %s) for contract %s", server_id, size.name, image.id, spec.contract)
        try:
            return self._instance(self._wait_active(server_id, self.ready_timeout, doing="create"))
        except BaseException:
            self._abandon(server_id)                  # nothing left behind
            raise

    def _abandon(self, server_id: str) -> None:
        try:
            self._call(f"delete {server_id}", lambda: self._compute.delete_server(server_id, ignore_missing=True))
        except ProviderError as exc:    # the original error matters more; the contract tag finds the server later
            log.warning("openstack: could not delete %s after a failed create (%s)", server_id, type(exc).__name__)

    def _sweep(self, create_id: str) -> None:
        """Delete the servers a failed create made after all (Nova stored one, then the answer was lost)."""
        try:
            servers = self._servers()
        except ProviderError as exc:
            log.warning("openstack: could not look for servers of a failed create (%s)", type(exc).__name__)
            return
        for server in servers:
            if (server.metadata or {}).get(CREATE_KEY) == create_id and not self._gone(server):
                log.info("openstack: deleting %s, made by a create that failed", server.id)
                self._abandon(server.id)

    def get(self, instance_id: str) -> Instance:
        return self._instance(self._live(instance_id))

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        wanted = dict(tags or {})
        # Nova cannot filter on metadata: every server of the project is read (all pages).
        found = [self._instance(s) for s in self._servers() if CONTRACT_TAG in (s.metadata or {}) and not self._gone(s)]
        return [i for i in found if all(i.tags.get(k) == v for k, v in wanted.items())]

    def delete(self, instance_id: str) -> bool:
        try:
            self._live(instance_id)
            self._call(f"delete {instance_id}", lambda: self._compute.delete_server(instance_id, ignore_missing=False),
                       instance=instance_id)
        except InstanceNotFound:
            return False
        log.info("openstack: deleted %s", instance_id)
        return True

    def reboot(self, instance_id: str) -> Instance:
        """Nova's reboot (``reboot_type``, SOFT by default), then a bounded wait for ACTIVE."""
        server = self._live(instance_id)
        self._call(f"reboot {instance_id}", lambda: self._compute.reboot_server(server, self.reboot_type),
                   instance=instance_id)
        return self._instance(self._wait_active(instance_id, self.ready_timeout, doing="reboot"))

    def images(self) -> list[str]:
        """The ids of the ACTIVE images (the configured default's first, when it is one)."""
        found = self._call("list images", lambda: list(self._compute.images(details=True)))
        ids = [i.id for i in found if (i.status or "ACTIVE").upper() == "ACTIVE"]
        return list(dict.fromkeys([i.id for i in found if self.image in (i.id, i.name)][:1] + ids))

    def zones(self) -> list[str]:
        """The configured zones, else Nova's available ones; [] when the cloud has no zone API."""
        if self.zone_names is not None:
            return list(self.zone_names)
        try:
            found = self._call("list zones", lambda: list(self._compute.availability_zones()))
        except ProviderRefused as exc:
            if getattr(exc, "code", None) == 404:
                return []
            raise
        return [z.name for z in found if (z.state or {}).get("available", True)]

    def close(self) -> None:
        self._call("close the connection", self._connection.close)
