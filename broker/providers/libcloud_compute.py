"""The ``libcloud`` provider: any apache-libcloud compute provider by name (``ec2``, ``openstack``,
``gce`` ...), credentials and libcloud's options (the module's name does not shadow ``libcloud``).

:attr:`LibcloudDriver.capabilities` come from the libcloud driver class (``start`` when it implements
``start_node`` ...). Tags travel as node metadata (``ex_metadata``: EC2 tags, OpenStack server
metadata) in the create call itself; a provider without it is refused at ``create``, as an untagged
node would be lost to reconciliation. The agent token goes in user data (``ex_userdata``) where the
provider takes it. Errors are translated once (:func:`translate_error`); credentials and user data
appear in no message, repr or log line. docs/providers.md has the configuration and what was tested.
"""
from __future__ import annotations

import fnmatch
import inspect
import logging
import re
import shlex
import ssl
import threading
import time
from typing import Any, Iterable, Mapping

import libcloud.pricing
import requests
from libcloud.common.exceptions import BaseHTTPError, RateLimitReachedError
from libcloud.common.types import InvalidCredsError, LibcloudError, MalformedResponseError, ServiceUnavailableError
from libcloud.compute.base import Node, NodeDriver, NodeImage, NodeSize
from libcloud.compute.drivers.ec2 import NAMESPACE as EC2_NAMESPACE, BaseEC2NodeDriver
from libcloud.compute.providers import DRIVERS, get_driver
from libcloud.utils.xml import findall, findtext

from broker.providers.base import (CONTRACT_TAG, Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.redaction import REDACTOR, guard_loggers

__all__ = ["LibcloudDriver", "translate_error", "agent_user_data", "DEFAULT_USER_DATA"]

log = logging.getLogger(__name__)
_LOGGERS = ("libcloud", "urllib3", "requests")
# libcloud re-reads its pricing file for every OpenStack flavor, looking for prices it does not
# have (2 s for 35 flavors, CLOUD-EMULATORS.md 2.2): an empty table, unless someone set one.
if "openstack" not in libcloud.pricing.PRICING_DATA.get("compute", {}):
    libcloud.pricing.set_pricing("compute", "openstack", {})
# EC2 sends user data base64-encoded in the query string, which urllib3 logs at DEBUG: the
# token inside cannot be matched literally, so the parameter is hidden whole.
REDACTOR.register_pattern(r"((?:UserData|user_data)(?:\.Value)?=)[^&\s\"']+")

#: Provider error codes (EC2's "Code: message") worth retrying later.
_TRANSIENT = frozenset({
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled", "TooManyRequestsException",
    "SlowDown", "RequestTimeout", "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable",
    "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientAddressCapacity"})
_NOT_FOUND = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "itemNotFound"})
#: libcloud's node states -> ours (a rebooting node is pending until it runs again).
_STATES = {"running": "running", "normal": "running", "pending": "pending", "starting": "pending",
           "rebooting": "pending", "reconfiguring": "pending", "migrating": "pending", "updating": "pending",
           "stopping": "stopped", "stopped": "stopped", "suspended": "stopped", "paused": "stopped",
           "terminated": "terminated", "error": "error", "unknown": "error"}
_EC2_GONE = ("shutting-down", "terminated")       # libcloud maps shutting-down to "unknown"
_EC2_LIVE = ["pending", "running", "stopping", "stopped"]
_SECRET_OPTION = re.compile(r"secret|password|token|credential|passphrase", re.I)
_CORE_KEYS = ("vcpus", "vcpu", "cpus", "cpu", "cores", "guestCpus")
_MAX_PAGES = 1000
#: What libcloud raises for a failed call: HTTP errors, its own, the network's, bad arguments.
_CAUGHT = (LibcloudError, BaseHTTPError, requests.RequestException, OSError, NotImplementedError, ValueError,
           AttributeError)

#: The default user data: a shell script (cloud-init runs it) that writes the agent's token
#: (0600, as the agent requires) and starts the agent when the image has it.
DEFAULT_USER_DATA = """#!/bin/sh
umask 077
mkdir -p /var/lib/accords/agent
printf '%s' {token} > /var/lib/accords/agent/token
if command -v accords >/dev/null 2>&1; then
  host=$(hostname -I 2>/dev/null | cut -d' ' -f1)
  nohup accords agent --dir /var/lib/accords/agent --host "${{host:-127.0.0.1}}" --port 8286 \\
    --token-file /var/lib/accords/agent/token >/var/log/accords-agent.log 2>&1 &
fi
"""


def agent_user_data(token: str, template: str = DEFAULT_USER_DATA) -> str:
    """``template`` with ``{token}`` replaced by the shell-quoted token."""
    return template.format(token=shlex.quote(token))


def translate_error(exc: Exception, doing: str, *, provider: str, instance: str | None = None) -> ProviderError:
    """The provider error for an exception raised by libcloud; ``doing`` says what was asked."""
    http = isinstance(exc, BaseHTTPError)
    status = (exc.code if http else getattr(exc, "http_code", 0) if isinstance(exc, LibcloudError) else 0) or 0
    detail = exc.message if http else getattr(exc, "value", None) if isinstance(exc, LibcloudError) else None
    if isinstance(exc, MalformedResponseError):
        detail = f"{exc.value}: {exc.body}"
    detail = " ".join(str(detail if detail is not None else exc).split()) or \
        (f"HTTP {status} with no error message" if status else type(exc).__name__)
    detail = re.sub(r"with url: \S+", "with url: ...", detail)          # requests quotes the query string
    detail = detail if len(detail) <= 300 else detail[:300] + " ..."     # an HTML error page, say
    match = re.match(r"([A-Za-z][\w.]*): ", detail)                       # EC2's "Code: message"
    code = match.group(1) if match else (str(status) if status else type(exc).__name__)
    text = f"libcloud {provider} could not {doing}: {detail}"
    if isinstance(exc, InvalidCredsError):
        kind: type[ProviderError] = ProviderRefused
    elif isinstance(exc, (RateLimitReachedError, ServiceUnavailableError)):
        kind = ProviderUnavailable
    elif instance is not None and (status == 404 or code in _NOT_FOUND):
        kind, text = InstanceNotFound, f"no {provider} node {instance} ({detail})"
    elif code in _TRANSIENT or status == 429 or status >= 500:
        kind = ProviderUnavailable
    elif status:
        kind = ProviderRefused
    elif isinstance(exc, (requests.exceptions.SSLError, ssl.SSLCertVerificationError)) and "timed out" not in detail:
        kind = ProviderRefused                     # a certificate that does not verify will not tomorrow
    elif isinstance(exc, (MalformedResponseError, requests.RequestException, OSError)):
        kind = ProviderUnavailable                 # refused, reset, timed out, an unreadable answer
    else:
        kind = ProviderRefused                     # bad arguments, not implemented, a configuration error
    found = kind(REDACTOR.scrub(text), provider="libcloud", instance=instance)
    found.code = code                              # type: ignore[attr-defined]
    return found


def _overrides(cls: type, method: str) -> bool:
    """Whether the libcloud driver class implements ``method`` (NodeDriver's raise NotImplementedError)."""
    found = getattr(cls, method, None)
    return found is not None and found is not getattr(NodeDriver, method, None)


class LibcloudDriver(ProviderDriver):
    """One libcloud compute provider. Keyword configuration only; see docs/providers.md."""

    name = "libcloud"

    def __init__(self, *, provider: str, key: str | None = None, secret: str | None = None,
                 node_driver: NodeDriver | None = None, image: str | None = None,
                 images: Mapping[str, str] | None = None, sizes: Iterable[str] | None = None,
                 create_options: Mapping[str, Any] | None = None, user_data: str = DEFAULT_USER_DATA,
                 timeout: float = 30.0, ready_timeout: float = 300.0, poll_interval: float = 5.0, **options):
        REDACTOR.register(key, secret, *(str(v) for k, v in options.items() if _SECRET_OPTION.search(k) and v))
        self.provider = str(provider).strip().lower()
        known = sorted(str(getattr(name, "value", name)) for name in DRIVERS)
        if self.provider not in known:
            few = ", ".join(n for n in ("ec2", "openstack", "gce", "azure_arm", "digitalocean", "linode") if n in known)
            raise ProviderRefused(f"libcloud has no compute provider {provider!r}; known: {few} ... "
                                  f"({len(known)} in all)", provider=self.name)
        cls = get_driver(self.provider)
        if self.provider == "gce":            # never libcloud's interactive sign-in (it waits for a browser)
            options.setdefault("auth_type", "SA")
        if node_driver is None:
            # Credentials by name where the class calls them key and secret (azure_arm has two positional
            # arguments before them), else first and second (gce: the account, then its key file).
            accepts = inspect.signature(cls.__init__).parameters
            args, named = [a for a in (key, secret) if a is not None], {}
            if {"key", "secret"} <= set(accepts):
                args, named = [], {"key": key, "secret": secret}
            if "timeout" in accepts or any(p.kind is p.VAR_KEYWORD for p in accepts.values()):
                named["timeout"] = timeout               # else the driver's own (libcloud's Connection: 60 s)
            try:
                node_driver = cls(*args, **named, **options)
            except (*_CAUGHT, TypeError, KeyError) as exc:      # a missing or unknown option, say
                raise ProviderRefused(REDACTOR.scrub(f"libcloud {self.provider} is misconfigured: "
                                                     f"{type(exc).__name__}: {exc}"), provider=self.name) from None
        elif not isinstance(node_driver, cls):
            raise ProviderRefused(f"{type(node_driver).__name__} is not a libcloud {self.provider} driver",
                                  provider=self.name)
        self._nd, self._ec2 = node_driver, isinstance(node_driver, BaseEC2NodeDriver)
        self.image, self.image_map, self.size_patterns = image, dict(images or {}), list(sizes or [])
        self.create_options, self.user_data = dict(create_options or {}), user_data
        self.ready_timeout, self.poll_interval = ready_timeout, poll_interval
        self._lock = threading.RLock()                # libcloud's connections are not thread-safe
        self._sizes: list[tuple[Size, NodeSize]] | None = None
        kind = type(node_driver)
        self._create_args = set(inspect.signature(kind.create_node).parameters)
        start, stop = _overrides(kind, "start_node"), _overrides(kind, "stop_node")
        able = {"start": start, "stop": stop, "snapshot": _overrides(kind, "create_image"),
                "reboot": _overrides(kind, "reboot_node") or (start and stop),
                "tags": "ex_metadata" in self._create_args}
        self.capabilities = frozenset(name for name, yes in able.items() if yes)
        guard_loggers(*_LOGGERS)

    def __repr__(self) -> str:
        return f"<LibcloudDriver provider={self.provider} host={getattr(self._nd.connection, 'host', None)}>"

    @property
    def node_driver(self) -> NodeDriver:
        """The libcloud driver (for what the interface does not cover; tests)."""
        return self._nd

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, doing: str, function, *args, instance: str | None = None, **kwargs):
        guard_loggers(*_LOGGERS)
        try:
            with self._lock:
                return function(*args, **kwargs)
        except _CAUGHT as exc:
            raise translate_error(exc, doing, provider=self.provider, instance=instance) from None

    def _ec2_nodes(self, doing: str, params: dict, *, instance: str | None = None) -> list[Node]:
        """DescribeInstances, every page: libcloud's list_nodes never follows NextToken (EC2 and moto
        page their answers) and makes one more call for elastic IPs that EC2 already reports."""
        nd, params, nodes = self._nd, {"Action": "DescribeInstances", **params}, []
        for _ in range(_MAX_PAGES):
            answer = self._call(doing, lambda p=params: nd.connection.request(nd.path, params=p).object,
                                instance=instance)
            for reservation in findall(element=answer, xpath="reservationSet/item", namespace=EC2_NAMESPACE):
                nodes += nd._to_nodes(reservation, "instancesSet/item")      # noqa: SLF001 - libcloud's parser
            token = findtext(element=answer, xpath="nextToken", namespace=EC2_NAMESPACE)
            if not token:
                return nodes
            params = {**params, "NextToken": token}
        raise ProviderUnavailable(f"libcloud {self.provider} could not {doing}: more than {_MAX_PAGES} pages",
                                  provider=self.name, instance=instance)

    def _find(self, instance_id: str) -> Node:
        """The libcloud node with that id, in any state; InstanceNotFound when the provider has none."""
        doing = f"describe {instance_id}"
        if self._ec2:
            found = self._ec2_nodes(doing, {"InstanceId.1": instance_id}, instance=instance_id)
        elif hasattr(self._nd, "ex_get_node_details"):                  # OpenStack: one GET, None on 404
            found = [self._call(doing, self._nd.ex_get_node_details, instance_id, instance=instance_id)]
        else:
            found = [n for n in self._call(doing, self._nd.list_nodes) if n.id == instance_id]
        if not found or found[0] is None:
            raise InstanceNotFound(f"no {self.provider} node {instance_id}", provider=self.name, instance=instance_id)
        return found[0]

    _state = staticmethod(lambda node: str(getattr(node.state, "value", node.state)).lower())

    def _gone(self, node: Node) -> bool:
        return self._state(node) == "terminated" or (self._ec2 and node.extra.get("status") in _EC2_GONE)

    def _live(self, instance_id: str) -> Node:
        node = self._find(instance_id)
        if self._gone(node):
            raise InstanceNotFound(f"{self.provider} node {instance_id} is gone", provider=self.name,
                                   instance=instance_id)
        return node

    def _wait(self, instance_id: str, wanted: str) -> Node:
        """Poll until libcloud reports the node ``wanted`` (its state names), within ``ready_timeout``.
        Not libcloud's wait_until_running: that one also wants an IP address and lists every node."""
        deadline, delay, state = time.monotonic() + self.ready_timeout, 0.2, "unknown"
        while True:
            try:
                node = self._find(instance_id)
                state = self._state(node)
                if state == wanted:
                    return node
                if self._gone(node) or state == "error":
                    raise ProviderRefused(f"{self.provider} node {instance_id} is {node.extra.get('status') or state}"
                                          f" instead of {wanted}", provider=self.name, instance=instance_id)
            except InstanceNotFound:
                pass                      # eventually consistent APIs: a new id may not be visible yet
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderUnavailable(f"{self.provider} node {instance_id} is not {wanted} after "
                                          f"{self.ready_timeout:g} s (last seen {state})", provider=self.name,
                                          instance=instance_id)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_interval)

    def _instance(self, node: Node) -> Instance:
        state, extra, tags = self._state(node), node.extra or {}, {}
        mapped = "terminated" if self._gone(node) else _STATES.get(state, "error")
        for key in ("tags", "metadata"):                      # EC2's tags, OpenStack's server metadata
            found = extra.get(key)
            if isinstance(found, dict) and found:
                tags = {str(k): str(v) for k, v in found.items() if not (k == "Name" and v == node.name)}
                break
        addresses = list(dict.fromkeys(str(a) for a in [*(node.public_ips or []), *(node.private_ips or [])] if a))
        return Instance(id=node.id, name=node.name or node.id, state=mapped, addresses=addresses, tags=tags,
                        reason=f"libcloud reports {state}" if mapped == "error" else None,
                        extra={"provider": self.provider, "libcloud_state": state,
                               "provider_state": extra.get("status"),
                               "size": extra.get("instance_type") or extra.get("flavorId"),
                               "image": extra.get("image_id") or extra.get("imageId"),
                               "zone": extra.get("availability") or extra.get("availability_zone")})

    # -- choosing what to run -----------------------------------------------------------------
    def _catalogue(self) -> list[tuple[Size, NodeSize]]:
        with self._lock:
            if self._sizes is None:
                found = []
                for raw in self._call("list sizes", self._nd.list_sizes):
                    if self.size_patterns and not any(fnmatch.fnmatchcase(str(n), p) for p in self.size_patterns
                                                      for n in (raw.id, raw.name)):
                        continue
                    cores = getattr(raw, "vcpus", None) or next(
                        (raw.extra[k] for k in _CORE_KEYS if (raw.extra or {}).get(k) not in (None, "", "NA")), 0)
                    try:
                        cores = int(float(cores))
                    except (TypeError, ValueError):
                        cores = 0                  # unknown: the size is not judged on cores
                    price = raw.price if isinstance(raw.price, (int, float)) else None     # USD an hour
                    found.append((Size(name=str(raw.name or raw.id), cores=cores, memory_mb=int(raw.ram or 0),
                                       disk_gb=int(raw.disk or 0), price=price,
                                       currency=None if price is None else "USD"), raw))
                self._sizes = sorted(found, key=lambda f: (
                    f[0].memory_mb, f[0].cores, f[0].disk_gb, f[0].price if f[0].price is not None else 1e9, f[0].name))
            return list(self._sizes)

    def sizes(self) -> list[Size]:
        """The provider's sizes (libcloud's, filtered by ``sizes=`` patterns), smallest first (cached)."""
        return [size for size, _ in self._catalogue()]

    def choose_size(self, cores: int | None, memory_mb: int | None, disk_gb: int | None = None):
        """The smallest (size, libcloud size) with the memory, the cores (when the size tells its vCPUs)
        and the disk (when the size has one of its own: 0 means it comes from the image or a volume)."""
        catalogue = self._catalogue()
        for size, raw in catalogue:
            if (size.memory_mb >= (memory_mb or 0) and (not size.cores or size.cores >= (cores or 0))
                    and (not size.disk_gb or size.disk_gb >= (disk_gb or 0))):
                return size, raw
        largest = f"; the largest is {catalogue[-1][0].name}" if catalogue else ""
        raise ProviderRefused(f"no libcloud {self.provider} size has {cores or 0} vCPUs, {memory_mb or 0} MiB and "
                              f"{disk_gb or 0} GB{largest}", provider=self.name)

    def _image(self, spec: NodeSpec) -> NodeImage:
        wanted = self.image_map.get(spec.image or self.image, spec.image or self.image)
        if wanted is None:
            raise ProviderRefused(f"no image for {spec.name}: give the node an image or the driver a default",
                                  provider=self.name)
        doing = f"find image {wanted} for {spec.name}"
        if self._ec2:                             # never list every public AMI: ask EC2 for this one
            by = {"ex_image_ids": [wanted]} if re.match(r"^[a-z]{1,4}-[0-9a-f]+$", wanted) else \
                {"ex_filters": {"name": wanted}}
            found = self._call(doing, self._nd.list_images, **by)
        else:
            try:
                with self._lock:
                    found = [self._nd.get_image(wanted)]
            except (NotImplementedError, BaseHTTPError, LibcloudError):     # not by id: by name or id in the list
                found = [i for i in self._call(doing, self._nd.list_images) if wanted in (i.id, i.name)]
            except _CAUGHT as exc:
                raise translate_error(exc, doing, provider=self.provider) from None
        if not found or found[0] is None:
            raise ProviderRefused(f"libcloud {self.provider} has no image {wanted} (for {spec.name})",
                                  provider=self.name)
        return found[0]

    def _location(self, zone: str):
        for location in self._call("list zones", self._nd.list_locations):
            if zone in (location.id, location.name, getattr(getattr(location, "availability_zone", None), "name", 0)):
                return location
        raise ProviderRefused(f"libcloud {self.provider} has no zone {zone}", provider=self.name)

    @staticmethod
    def _root_volume(image: NodeImage, disk_gb: int | None) -> list[dict]:
        """EC2: a root volume of ``disk_gb`` when the image's own is smaller. libcloud does not
        report the root device's name: only an image with a single EBS mapping is grown."""
        mappings = [m for m in (image.extra or {}).get("block_device_mapping") or [] if m.get("ebs")]
        if not disk_gb or len(mappings) != 1 or disk_gb <= int(mappings[0]["ebs"].get("volume_size") or 0):
            return []
        return [{"DeviceName": mappings[0]["device_name"],
                 "Ebs": {"VolumeSize": int(disk_gb), "DeleteOnTermination": "true"}}]

    # -- the interface ------------------------------------------------------------------------
    def create(self, spec: NodeSpec) -> Instance:
        if "tags" not in self.capabilities:
            raise ProviderRefused(f"libcloud {self.provider} cannot tag nodes (its create_node takes no ex_metadata): "
                                  f"{spec.name} would be lost to reconciliation after a crash", provider=self.name)
        image = self._image(spec)
        size, raw_size = self.choose_size(spec.cores, spec.memory_mb, spec.disk_gb)
        kwargs: dict[str, Any] = {**self.create_options, "name": spec.name, "size": raw_size, "image": image,
                                  "ex_metadata": spec.all_tags()}
        if spec.zone:
            kwargs["location"] = self._location(spec.zone)
        if self._ec2 and self._root_volume(image, spec.disk_gb):
            kwargs["ex_blockdevicemappings"] = self._root_volume(image, spec.disk_gb)
        if spec.agent_token and "ex_userdata" in self._create_args:
            kwargs["ex_userdata"] = agent_user_data(spec.agent_token, self.user_data)
        elif spec.agent_token:
            log.warning("libcloud %s takes no user data: %s gets no agent token", self.provider, spec.name)
        try:
            node = self._call(f"create {spec.name} from image {image.id} as {size.name}", self._nd.create_node,
                              **kwargs)
        except ProviderError as exc:
            if spec.agent_token:                  # a provider that quotes the request back
                exc.message = exc.message.replace(spec.agent_token, "***")
                exc.args = (exc.message,)
            raise
        node = node[0] if isinstance(node, list) else node
        log.info("libcloud %s: created %s (%s, %s) for contract %s", self.provider, node.id, size.name, image.id,
                 spec.contract)
        try:
            return self._instance(self._wait(node.id, "running"))
        except BaseException:
            try:                                  # nothing left behind
                with self._lock:
                    self._nd.destroy_node(node)
            except Exception as exc:  # noqa: BLE001 - the original error matters more; the tag finds it later
                log.warning("libcloud %s: could not destroy %s after a failed create (%s); reconciliation will "
                            "find it by its contract tag", self.provider, node.id, type(exc).__name__)
            raise

    def get(self, instance_id: str) -> Instance:
        return self._instance(self._live(instance_id))

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        wanted = dict(tags or {})
        if self._ec2:                             # filtered by EC2, every page
            filters: dict[str, Any] = {"tag-key": CONTRACT_TAG, "instance-state-name": _EC2_LIVE}
            filters.update({f"tag:{k}": v for k, v in wanted.items()})
            nodes = self._ec2_nodes("list nodes", {"MaxResults": 1000, **self._nd._build_filters(filters)})  # noqa
        else:
            nodes = self._call("list nodes", self._nd.list_nodes)
        found = [self._instance(n) for n in nodes if not self._gone(n)]
        # EC2 reads * and ? in filter values as wildcards: exact matches only.
        return [i for i in found if CONTRACT_TAG in i.tags and all(i.tags.get(k) == v for k, v in wanted.items())]

    def delete(self, instance_id: str) -> bool:
        try:
            node = self._live(instance_id)
            done = self._call(f"delete {instance_id}", self._nd.destroy_node, node, instance=instance_id)
        except InstanceNotFound:
            return False
        if done is False:                         # some drivers' False means "not deleted": the provider decides
            try:
                kept = not self._gone(self._find(instance_id))
            except InstanceNotFound:
                kept = False
            if kept:
                raise ProviderRefused(f"libcloud {self.provider} did not delete {instance_id}", provider=self.name,
                                      instance=instance_id)
        log.info("libcloud %s: deleted %s", self.provider, instance_id)
        return True

    def _power(self, instance_id: str, action: str, wanted: str) -> Instance:
        """start or stop: libcloud's booleans differ by driver (EC2's says "in transition"): the state decides."""
        if action not in self.capabilities:
            return getattr(super(), action)(instance_id)
        node = self._live(instance_id)
        if self._state(node) != wanted:
            self._call(f"{action} {instance_id}", getattr(self._nd, f"{action}_node"), node, instance=instance_id)
            node = self._wait(instance_id, wanted)
        return self._instance(node)

    def start(self, instance_id: str) -> Instance:
        return self._power(instance_id, "start", "running")

    def stop(self, instance_id: str) -> Instance:
        return self._power(instance_id, "stop", "stopped")

    def reboot(self, instance_id: str) -> Instance:
        if not _overrides(type(self._nd), "reboot_node"):
            return super().reboot(instance_id)    # stop, then start
        node = self._live(instance_id)
        if self._call(f"reboot {instance_id}", self._nd.reboot_node, node, instance=instance_id) is False:
            raise ProviderRefused(f"libcloud {self.provider} did not reboot {instance_id}", provider=self.name,
                                  instance=instance_id)
        return self._instance(self._wait(instance_id, "running"))

    def snapshot(self, instance_id: str, *, name: str) -> str:
        """An image of the node (libcloud's create_image: an AMI on EC2); returns its id."""
        if "snapshot" not in self.capabilities:
            return super().snapshot(instance_id, name=name)
        image = self._call(f"snapshot {instance_id} as {name}", self._nd.create_image, self._live(instance_id), name,
                           instance=instance_id)
        return image.id

    def images(self) -> list[str]:
        """The configured images, then the provider's (EC2: the account's own, not every public AMI)."""
        listed = self._call("list images", self._nd.list_images, **({"ex_owner": "self"} if self._ec2 else {}))
        return list(dict.fromkeys([i for i in (self.image, *self.image_map.values()) if i] + [i.id for i in listed]))

    def zones(self) -> list[str]:
        return [str(loc.name or loc.id) for loc in self._call("list zones", self._nd.list_locations)]

    def close(self) -> None:
        session = getattr(getattr(self._nd.connection, "connection", None), "session", None)
        if session is not None:
            session.close()
