"""The ``ec2`` provider: Amazon EC2, or anything that speaks its API (moto in the tests), through boto3.

Every instance is created with its tags in the same ``RunInstances`` call (``TagSpecifications``:
``Name``, ``accords-contract`` and the spec's tags, on the instance and its volumes), so an
instance never exists untagged and a restarted provisioning component finds it by contract.
``list`` only reports instances carrying the contract tag. Terminated (and shutting-down)
instances are gone: ``get`` raises :class:`InstanceNotFound`, ``delete`` answers False. The
agent's token travels in the instance's user data (``UserData``: the ``libcloud`` driver's boot
script, which writes the token and starts the agent when the image has it), in no log line or error.

Sizes come from ``DescribeInstanceTypes`` for the configured families (``t3.*``, ``m6i.*``,
``c6i.*``, ``r6i.*`` by default); ``create`` picks the smallest that has the cores and memory
asked for. Errors are translated once (:func:`translate_error`): throttling, capacity, 5xx,
timeouts and connection failures are :class:`ProviderUnavailable`; any other refusal
(``InvalidAMIID.*``, ``UnauthorizedOperation``, ``InvalidParameterValue`` ...) is
:class:`ProviderRefused` with EC2's code and message. Credentials appear in no message, repr or
log line (botocore's own loggers included). docs/providers.md has the whole configuration.
"""
from __future__ import annotations

import fnmatch
import logging
import threading
import time
from typing import Any, Iterable, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, NoCredentialsError, NoRegionError,
                                 ParamValidationError, PartialCredentialsError)
from botocore.parsers import ResponseParserError

from broker.providers.base import (CONTRACT_TAG, Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.libcloud_compute import DEFAULT_USER_DATA, agent_user_data
from broker.providers.redaction import REDACTOR, guard_loggers

__all__ = ["Ec2Driver", "DEFAULT_INSTANCE_TYPES", "translate_error"]

log = logging.getLogger(__name__)

#: The instance families ``create`` chooses from unless ``instance_types`` says otherwise.
DEFAULT_INSTANCE_TYPES = ("t3.*", "m6i.*", "c6i.*", "r6i.*")
_LIVE = ("pending", "running", "stopping", "stopped")
_GONE = ("shutting-down", "terminated")
_STATES = {"pending": "pending", "running": "running", "stopping": "stopped", "stopped": "stopped",
           "shutting-down": "terminated", "terminated": "terminated"}
#: What boto3 raises for a failed call (an unreadable answer, such as a proxy's HTML page, included).
_BOTO_ERRORS = (ClientError, BotoCoreError, ResponseParserError)
_NOT_FOUND = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})
#: Codes worth retrying later (EC2 documents waiting, or another zone, for the capacity ones).
_TRANSIENT = frozenset({
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "SlowDown", "PriorRequestNotComplete", "RequestTimeout", "RequestTimeoutException",
    "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "InsufficientInstanceCapacity",
    "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientAddressCapacity"})


_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
# botocore logs RunInstances' parameters at DEBUG as a dict (``'UserData': '...'``); the token
# inside is base64 and cannot be matched literally, so the whole value is hidden.
REDACTOR.register_pattern(r"('UserData':\s*')[^']*")


def _guard_loggers() -> None:
    guard_loggers(*_LOGGERS)


def translate_error(exc: Exception, doing: str, *, instance: str | None = None) -> ProviderError:
    """The provider error for a boto3 exception; ``doing`` says what was asked ("create web ...")."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        code = error.get("Code") or "Unknown"
        message = error.get("Message") or "no message"
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
        text = f"ec2 could not {doing}: {code}: {message}"
        if code in _NOT_FOUND and instance is not None:
            found: ProviderError = InstanceNotFound(f"no ec2 instance {instance} ({code}: {message})",
                                                    provider="ec2", instance=instance)
        elif code in _TRANSIENT or status >= 500:
            found = ProviderUnavailable(text, provider="ec2", instance=instance)
        else:
            found = ProviderRefused(text, provider="ec2", instance=instance)
    elif isinstance(exc, _BOTO_ERRORS):
        code, detail = type(exc).__name__, str(exc).strip()
        detail = detail if len(detail) <= 300 else detail[:300] + " ..."     # an HTML error page, say
        text = f"ec2 could not {doing}: {detail}"
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError, NoRegionError, ParamValidationError)):
            found = ProviderRefused(text, provider="ec2", instance=instance)
        else:                                     # connection refused, timeouts, unreadable answers
            found = ProviderUnavailable(text, provider="ec2", instance=instance)
    else:
        raise TypeError(f"not a boto3 error: {exc!r}")
    found.message = REDACTOR.scrub(found.message)
    found.args = (found.message,)
    found.code = code                             # type: ignore[attr-defined]
    return found


class Ec2Driver(ProviderDriver):
    """EC2 in one region. Keyword configuration only; see docs/providers.md."""

    name = "ec2"
    capabilities = frozenset({"start", "stop", "reboot", "snapshot", "tags"})

    def __init__(self, *, region: str = "us-east-1", access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                 image: str | None = None, images: Mapping[str, str] | None = None,
                 instance_types: Iterable[str] | Mapping[str, tuple[int, int]] = DEFAULT_INSTANCE_TYPES,
                 key_name: str | None = None, security_groups: Iterable[str] = (),
                 security_group_ids: Iterable[str] = (), subnet_id: str | None = None,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0, max_attempts: int = 3,
                 ready_timeout: float = 300.0, poll_interval: float = 5.0, snapshot_no_reboot: bool = True,
                 user_data: str = DEFAULT_USER_DATA):
        self.region = region
        self.endpoint_url = endpoint_url
        self.image = image
        self.image_map = dict(images or {})
        self.key_name = key_name
        self.security_groups = list(security_groups)
        self.security_group_ids = list(security_group_ids)
        self.subnet_id = subnet_id
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self.snapshot_no_reboot = snapshot_no_reboot
        #: The boot script given a node with an agent token; ``{token}`` is replaced by it (shell-quoted).
        self.user_data = user_data
        if isinstance(instance_types, Mapping):
            self.instance_types = list(instance_types)
            self._sizes: list[Size] | None = sorted(
                (Size(name=n, cores=int(c), memory_mb=int(m), disk_gb=0) for n, (c, m) in instance_types.items()),
                key=lambda s: (s.memory_mb, s.cores, s.name))
        else:
            self.instance_types = list(instance_types)
            self._sizes = None
        self._lock = threading.Lock()
        self._roots: dict[str, tuple[str, int] | None] = {}
        REDACTOR.register(access_key, secret_key, session_token)
        try:
            config = Config(region_name=region, connect_timeout=connect_timeout, read_timeout=read_timeout,
                            retries={"total_max_attempts": max_attempts, "mode": "standard"},
                            user_agent_extra="accords")
            session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                            aws_session_token=session_token, profile_name=profile)
            self._client = session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=config)
        except (BotoCoreError, ValueError) as exc:
            raise ProviderRefused(REDACTOR.scrub(f"ec2 is misconfigured: {exc}"), provider=self.name) from None
        _guard_loggers()

    def __repr__(self) -> str:
        return f"<Ec2Driver region={self.region} endpoint={self.endpoint_url or 'aws'}>"

    @property
    def client(self):
        """The boto3 EC2 client (for what the interface does not cover; tests, benchmarks)."""
        return self._client

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, operation: str, doing: str, *, instance: str | None = None, **params) -> dict:
        _guard_loggers()
        try:
            return getattr(self._client, operation)(**params)
        except _BOTO_ERRORS as exc:
            raise translate_error(exc, doing, instance=instance) from None

    def _describe(self, instance_id: str) -> dict:
        answer = self._call("describe_instances", f"describe {instance_id}", instance=instance_id,
                            InstanceIds=[instance_id])
        found = [i for r in answer.get("Reservations", []) for i in r.get("Instances", [])]
        if not found:
            raise InstanceNotFound(f"no ec2 instance {instance_id}", provider=self.name, instance=instance_id)
        return found[0]

    def _live(self, instance_id: str) -> dict:
        raw = self._describe(instance_id)
        if raw["State"]["Name"] in _GONE:
            raise InstanceNotFound(f"ec2 instance {instance_id} is {raw['State']['Name']}", provider=self.name,
                                   instance=instance_id)
        return raw

    def _wait(self, instance_id: str, wanted: str, timeout: float) -> dict:
        """Poll until the instance is in ``wanted`` (EC2's state names); bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        delay, state = 0.2, "unknown"
        while True:
            try:
                raw = self._describe(instance_id)
                state = raw["State"]["Name"]
                if state == wanted:
                    return raw
                if state in _GONE:
                    reason = (raw.get("StateReason") or {}).get("Message") or "no reason given"
                    raise ProviderRefused(f"ec2 instance {instance_id} is {state} instead of {wanted}: {reason}",
                                          provider=self.name, instance=instance_id)
            except InstanceNotFound:
                pass                      # EC2 is eventually consistent: a new id may not be visible yet
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderUnavailable(f"ec2 instance {instance_id} is not {wanted} after {timeout:g} s "
                                          f"(last seen {state})", provider=self.name, instance=instance_id)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_interval)

    def _instance(self, raw: dict) -> Instance:
        tags = {t["Key"]: t["Value"] for t in raw.get("Tags") or []}
        name = tags.pop("Name", raw["InstanceId"])
        state = raw["State"]["Name"]
        addresses = [a for a in (raw.get("PublicIpAddress"), raw.get("PrivateIpAddress")) if a]
        addresses += [v6["Ipv6Address"] for nic in raw.get("NetworkInterfaces") or []
                      for v6 in nic.get("Ipv6Addresses") or [] if v6.get("Ipv6Address")]
        launched = raw.get("LaunchTime")
        return Instance(id=raw["InstanceId"], name=name, state=_STATES.get(state, "error"), addresses=addresses,
                        tags=tags, reason=None if state in _STATES else f"unknown ec2 state {state}",
                        extra={"ec2_state": state, "instance_type": raw.get("InstanceType"),
                               "image": raw.get("ImageId"),
                               "zone": (raw.get("Placement") or {}).get("AvailabilityZone"),
                               "launched": launched.isoformat() if hasattr(launched, "isoformat") else launched,
                               "public_dns": raw.get("PublicDnsName") or None,
                               "private_dns": raw.get("PrivateDnsName") or None})

    # -- choosing what to run -----------------------------------------------------------------
    def sizes(self) -> list[Size]:
        """The instance types of the configured families in this region, smallest first (cached)."""
        with self._lock:
            if self._sizes is None:
                found = []
                try:
                    pages = self._client.get_paginator("describe_instance_types").paginate(
                        Filters=[{"Name": "instance-type", "Values": self.instance_types}])
                    for page in pages:
                        for item in page.get("InstanceTypes", []):
                            found.append(Size(name=item["InstanceType"], cores=item["VCpuInfo"]["DefaultVCpus"],
                                              memory_mb=item["MemoryInfo"]["SizeInMiB"],
                                              disk_gb=(item.get("InstanceStorageInfo") or {}).get("TotalSizeInGB", 0)))
                except _BOTO_ERRORS as exc:
                    raise translate_error(exc, "list instance types") from None
                patterns = self.instance_types

                def family(size: Size) -> int:      # ties go to the family listed first
                    return next((n for n, p in enumerate(patterns) if fnmatch.fnmatchcase(size.name, p)),
                                len(patterns))
                self._sizes = sorted(found, key=lambda s: (s.memory_mb, s.cores, family(s), s.name))
            return list(self._sizes)

    def choose_size(self, cores: int | None, memory_mb: int | None) -> Size:
        """The smallest instance type with at least ``cores`` vCPUs and ``memory_mb`` MiB."""
        sizes = self.sizes()
        for size in sizes:
            if size.cores >= (cores or 0) and size.memory_mb >= (memory_mb or 0):
                return size
        largest = f"; the largest is {sizes[-1].name}" if sizes else ""
        raise ProviderRefused(f"no ec2 instance type among {', '.join(self.instance_types)} in {self.region} has "
                              f"{cores or 0} vCPUs and {memory_mb or 0} MiB{largest}", provider=self.name)

    def image_for(self, spec: NodeSpec) -> str:
        if spec.image is None:
            if self.image is None:
                raise ProviderRefused(f"no image for {spec.name}: give the node an image or the driver a default "
                                      "(image=ami-...)", provider=self.name)
            return self.image
        if spec.image in self.image_map:
            return self.image_map[spec.image]
        if spec.image.startswith("ami-"):
            return spec.image
        raise ProviderRefused(f"image {spec.image!r} of {spec.name} is neither an AMI id nor one of the configured "
                              f"images ({', '.join(sorted(self.image_map)) or 'none'})", provider=self.name)

    def _root_volume(self, image: str, disk_gb: int | None) -> list[dict]:
        """A root volume of ``disk_gb`` when the image's own is smaller (the image described once)."""
        if not disk_gb:
            return []
        if image not in self._roots:
            answer = self._call("describe_images", f"describe image {image}", ImageIds=[image])
            found = answer.get("Images") or []
            if not found:
                raise ProviderRefused(f"ec2 has no image {image}", provider=self.name)
            root = found[0].get("RootDeviceName")
            ebs = next((m.get("Ebs") or {} for m in found[0].get("BlockDeviceMappings") or []
                        if m.get("DeviceName") == root), None)
            self._roots[image] = (root, int(ebs.get("VolumeSize") or 0)) if root and ebs is not None else None
        root = self._roots[image]
        if root is None or disk_gb <= root[1]:
            return []
        return [{"DeviceName": root[0], "Ebs": {"VolumeSize": int(disk_gb), "DeleteOnTermination": True}}]

    # -- the interface ------------------------------------------------------------------------
    def create(self, spec: NodeSpec) -> Instance:
        image = self.image_for(spec)
        size = self.choose_size(spec.cores, spec.memory_mb)
        tags = [{"Key": k, "Value": v} for k, v in {**spec.all_tags(), "Name": spec.name}.items()]
        params: dict[str, Any] = {
            "ImageId": image, "InstanceType": size.name, "MinCount": 1, "MaxCount": 1,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags},
                                  {"ResourceType": "volume", "Tags": tags}]}
        mappings = self._root_volume(image, spec.disk_gb)
        if mappings:
            params["BlockDeviceMappings"] = mappings
        if spec.zone:
            params["Placement"] = {"AvailabilityZone": spec.zone}
        if self.key_name:
            params["KeyName"] = self.key_name
        if self.security_groups:
            params["SecurityGroups"] = self.security_groups
        if self.security_group_ids:
            params["SecurityGroupIds"] = self.security_group_ids
        if self.subnet_id:
            params["SubnetId"] = self.subnet_id
        if spec.agent_token:
            params["UserData"] = agent_user_data(spec.agent_token, self.user_data)    # boto3 base64-encodes it
        try:
            answer = self._call("run_instances", f"create {spec.name} from image {image} as {size.name}", **params)
        except ProviderError as exc:
            if spec.agent_token:                  # an endpoint that quotes the request back
                exc.message = exc.message.replace(spec.agent_token, "***")
                exc.args = (exc.message,)
            raise
        instance_id = answer["Instances"][0]["InstanceId"]
        log.info("ec2: created %s (%s, %s) for contract %s", instance_id, size.name, image, spec.contract)
        try:
            return self._instance(self._wait(instance_id, "running", self.ready_timeout))
        except BaseException:
            self._abandon(instance_id)                  # nothing left behind
            raise

    def _abandon(self, instance_id: str) -> None:
        try:
            self._client.terminate_instances(InstanceIds=[instance_id])
        except Exception as exc:  # noqa: BLE001 - the original error matters more; the tag finds it later
            log.warning("ec2: could not terminate %s after a failed create (%s); reconciliation will find it by "
                        "its contract tag", instance_id, type(exc).__name__)

    def get(self, instance_id: str) -> Instance:
        return self._instance(self._live(instance_id))

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        wanted = dict(tags or {})
        filters = [{"Name": "tag-key", "Values": [CONTRACT_TAG]},
                   {"Name": "instance-state-name", "Values": list(_LIVE)}]
        filters += [{"Name": f"tag:{key}", "Values": [value]} for key, value in wanted.items()]
        found = []
        try:
            for page in self._client.get_paginator("describe_instances").paginate(
                    Filters=filters, PaginationConfig={"PageSize": 1000}):
                for reservation in page.get("Reservations", []):
                    found.extend(reservation.get("Instances", []))
        except _BOTO_ERRORS as exc:
            raise translate_error(exc, "list instances") from None
        instances = [self._instance(raw) for raw in found]
        # Filter values are patterns for EC2 (* and ?): keep exact matches only.
        return [i for i in instances if all(i.tags.get(k) == v for k, v in wanted.items())]

    def delete(self, instance_id: str) -> bool:
        try:
            answer = self._call("terminate_instances", f"delete {instance_id}", instance=instance_id,
                                InstanceIds=[instance_id])
        except InstanceNotFound:
            return False
        previous = [i["PreviousState"]["Name"] for i in answer.get("TerminatingInstances", [])]
        deleted = bool(previous) and previous[0] not in _GONE
        if deleted:
            log.info("ec2: terminated %s", instance_id)
        return deleted

    def stop(self, instance_id: str) -> Instance:
        self._live(instance_id)
        self._call("stop_instances", f"stop {instance_id}", instance=instance_id, InstanceIds=[instance_id])
        return self._instance(self._wait(instance_id, "stopped", self.ready_timeout))

    def start(self, instance_id: str) -> Instance:
        raw = self._live(instance_id)
        if raw["State"]["Name"] != "running":
            self._call("start_instances", f"start {instance_id}", instance=instance_id, InstanceIds=[instance_id])
            raw = self._wait(instance_id, "running", self.ready_timeout)
        return self._instance(raw)

    def reboot(self, instance_id: str) -> Instance:
        """EC2's own reboot (asynchronous: the node stays ``running`` while the guest restarts)."""
        self._live(instance_id)
        self._call("reboot_instances", f"reboot {instance_id}", instance=instance_id, InstanceIds=[instance_id])
        return self.get(instance_id)

    def snapshot(self, instance_id: str, *, name: str) -> str:
        """An AMI of the instance (``CreateImage``), tagged like it; returns the AMI id."""
        node = self._instance(self._live(instance_id))
        tags = [{"Key": k, "Value": v} for k, v in {**node.tags, "accords-snapshot-of": instance_id}.items()]
        answer = self._call("create_image", f"snapshot {instance_id} as {name}", instance=instance_id,
                            InstanceId=instance_id, Name=name, NoReboot=self.snapshot_no_reboot,
                            TagSpecifications=[{"ResourceType": "image", "Tags": tags}])
        return answer["ImageId"]

    def images(self) -> list[str]:
        """The configured AMIs, then the account's own (snapshots included)."""
        answer = self._call("describe_images", "list images", Owners=["self"])
        own = [image["ImageId"] for image in answer.get("Images", [])]
        configured = [i for i in (self.image, *self.image_map.values()) if i]
        return list(dict.fromkeys(configured + own))

    def zones(self) -> list[str]:
        answer = self._call("describe_availability_zones", "list zones",
                            Filters=[{"Name": "state", "Values": ["available"]}])
        return [zone["ZoneName"] for zone in answer.get("AvailabilityZones", [])]

    def close(self) -> None:
        self._client.close()
