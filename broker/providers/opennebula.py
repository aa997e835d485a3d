"""The ``opennebula`` provider: an OpenNebula cloud over its XML-RPC API (``oned``), through pyone.

A node is one VM allocated (``one.vm.allocate``) from a template built here: CPU, VCPU, MEMORY, the
image's DISK (grown to ``disk_gb``), a NIC if configured, a cluster as SCHED_REQUIREMENTS, CONTEXT (the
agent's token and port), and the tags in the same call, as ``ACCORDS_TAGS`` (JSON, the authority) and
``ACCORDS_CONTRACT``, which oned keeps in USER_TEMPLATE: a VM never exists untagged. ``list`` reads
``vmpool.infoextended`` (``vmpool.info``'s short bodies omit user attributes) and filters here. DONE
VMs, and VMs on their way there, are gone. ``stop`` powers off (ACPI, then hard), as EC2 stops;
``snapshot`` saves the first disk as an image. oned's error codes map to the error tree in
:meth:`OpenNebulaDriver._translate`; the session ``user:password`` travels in the XML body only and
appears in no message, repr or log line. docs/providers.md has the configuration and the choices.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import time
import xml.etree.ElementTree as ET
from typing import Any, Callable, Mapping

import pyone
import requests
from lxml.etree import LxmlError
from pyone.bindings.supbind import GDSParseError

from broker.providers.base import (CONTRACT_TAG, Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.opennebula_rpc import ACTION, INTERNAL, LOCKED, NO_EXISTS, OneServer, RpcFailed
from broker.providers.redaction import REDACTOR, guard_loggers

__all__ = ["OpenNebulaDriver", "TAGS_ATTRIBUTE", "CONTRACT_ATTRIBUTE", "node_state"]

log = logging.getLogger(__name__)

TAGS_ATTRIBUTE, CONTRACT_ATTRIBUTE = "ACCORDS_TAGS", "ACCORDS_CONTRACT"
AGENT_PORT = 8286                                  # broker.agent.main.DEFAULT_PORT, without importing the agent
_MINE = -3                                         # pool filter: the VMs of the driver's user
_V, _L = pyone.VM_STATE, pyone.LCM_STATE
_STOPPED = {_V.STOPPED, _V.SUSPENDED, _V.POWEROFF, _V.UNDEPLOYED}
_PENDING = {_V.INIT, _V.PENDING, _V.HOLD, _V.CLONING}
#: LCM states of an ACTIVE VM: on its way to DONE (gone), being stopped, or (re)starting.
_GOING = {_L.SHUTDOWN, _L.CANCEL, _L.EPILOG, _L.CLEANUP_DELETE}
_STOPPING = {_L.SHUTDOWN_POWEROFF, _L.SAVE_STOP, _L.SAVE_SUSPEND, _L.EPILOG_STOP, _L.SHUTDOWN_UNDEPLOY,
             _L.EPILOG_UNDEPLOY, _L.HOTPLUG_SAVEAS_POWEROFF, _L.HOTPLUG_SAVEAS_SUSPENDED}
_BOOTING = {_L.LCM_INIT, _L.PROLOG, _L.BOOT, _L.PROLOG_RESUME, _L.BOOT_UNKNOWN, _L.BOOT_POWEROFF, _L.BOOT_SUSPENDED,
            _L.BOOT_STOPPED, _L.CLEANUP_RESUBMIT, _L.PROLOG_UNDEPLOY, _L.BOOT_UNDEPLOY}
_OWN_ATTRIBUTES = frozenset({"NAME", "CPU", "VCPU", "MEMORY", "DISK", "CONTEXT", "SCHED_REQUIREMENTS",
                             TAGS_ATTRIBUTE, CONTRACT_ATTRIBUTE})


def node_state(state: int, lcm: int) -> str:
    """The provider-neutral state of a VM in OpenNebula's (STATE, LCM_STATE)."""
    if state == _V.ACTIVE:
        if lcm in _GOING:
            return "terminated"
        if lcm == _L.UNKNOWN or _lcm_name(lcm).endswith("FAILURE"):
            return "error"
        return "stopped" if lcm in _STOPPING else "pending" if lcm in _BOOTING else "running"
    if state == _V.DONE:
        return "terminated"
    return "stopped" if state in _STOPPED else "pending" if state in _PENDING else "error"


class OpenNebulaDriver(ProviderDriver):
    """One OpenNebula zone. Keyword configuration only; see docs/providers.md."""

    name = "opennebula"
    capabilities = frozenset({"start", "stop", "reboot", "snapshot", "tags"})

    def __init__(self, *, endpoint: str, username: str, password: str, image: str | int | None = None,
                 images: Mapping[str, str | int] | None = None, network: str | int | None = None,
                 network_owner: str | None = None, template: Mapping[str, Any] | None = None,
                 sizes: Mapping[str, tuple[int, int]] | None = None, cpu_per_core: float = 1.0,
                 memory_mb: int = 1024, agent_port: int = AGENT_PORT, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, ready_timeout: float = 300.0, soft_stop_timeout: float = 60.0,
                 poll_interval: float = 5.0, verify_tls: bool = True):
        if not endpoint.startswith(("http://", "https://")):
            raise ProviderRefused(f"opennebula endpoint {endpoint!r} is not an http(s) URL (…:2633/RPC2)",
                                  provider=self.name)
        clash = _OWN_ATTRIBUTES & {str(k).upper() for k in (template or {})}
        if clash:
            raise ProviderRefused(f"opennebula template attributes {sorted(clash)} are the driver's own",
                                  provider=self.name)
        self.endpoint, self.username = endpoint, username
        self.image, self.image_map = image, dict(images or {})
        self.network, self.network_owner = network, network_owner
        self.template = dict(template or {})
        self.size_map = dict(sizes or {})
        self.cpu_per_core, self.memory_mb, self.agent_port = cpu_per_core, memory_mb, agent_port
        self.ready_timeout, self.soft_stop_timeout, self.poll_interval = ready_timeout, soft_stop_timeout, poll_interval
        REDACTOR.register(password, f"{username}:{password}")
        self._http = requests.Session()
        self._http.verify = verify_tls
        self._server = OneServer(endpoint, f"{username}:{password}", http=self._http,
                                 timeout=(connect_timeout, read_timeout))
        guard_loggers("urllib3", "requests", "pyone")

    def __repr__(self) -> str:
        return f"<OpenNebulaDriver endpoint={self.endpoint} user={self.username}>"

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, method: str, *params, doing: str, instance: str | None = None, secret: str | None = None):
        """``one.<method>(*params)``; every failure becomes the provider error it means."""
        try:
            return functools.reduce(getattr, method.split("."), self._server)(*params)
        except RpcFailed as failed:
            raise self._translate(failed, method, doing, instance, secret) from None
        except (pyone.OneException, LxmlError, GDSParseError, ValueError) as exc:
            # pyone binds the XML of a reply to objects: a malformed body fails here, as does any
            # exception of pyone's own (it raises OneException for what it cannot map)
            text = self._scrub(f"opennebula could not {doing}: unreadable answer ({type(exc).__name__}: "
                               f"{str(exc)[:200]})", secret)
            raise ProviderUnavailable(text, provider=self.name, instance=instance) from None

    def _translate(self, failed: RpcFailed, method: str, doing: str, instance: str | None,
                   secret: str | None) -> ProviderError:
        text = self._scrub(f"opennebula could not {doing}: {failed.message}", secret)
        code = failed.code
        if failed.kind == "unavailable":
            error: ProviderError = ProviderUnavailable(f"{text} ({self.endpoint})", provider=self.name,
                                                       instance=instance)
        elif failed.kind == "refused":
            error = ProviderRefused(f"{text} ({self.endpoint})", provider=self.name, instance=instance)
        elif code == NO_EXISTS and instance is not None:
            error = InstanceNotFound(self._scrub(f"no opennebula VM {instance} ({failed.message})", secret),
                                     provider=self.name, instance=instance)
        elif code == LOCKED or (code == INTERNAL and method not in ("vm.allocate", "vm.update")):
            # oned answers INTERNAL to template errors in allocate and update, and to its own trouble elsewhere
            error = ProviderUnavailable(text, provider=self.name, instance=instance)
        else:
            error = ProviderRefused(text, provider=self.name, instance=instance)
        error.code = code                            # type: ignore[attr-defined]
        return error

    @staticmethod
    def _scrub(text: str, secret: str | None) -> str:
        text = REDACTOR.scrub(text)
        return text.replace(secret, "***") if secret else text

    @staticmethod
    def _vm_id(instance_id: str) -> int:
        if not str(instance_id).isdigit():           # OpenNebula ids are integers
            raise InstanceNotFound(f"no opennebula VM {instance_id!r}", provider="opennebula", instance=instance_id)
        return int(instance_id)

    def _info(self, instance_id: str):
        return self._call("vm.info", self._vm_id(instance_id), doing=f"describe VM {instance_id}",
                          instance=instance_id)

    def _live(self, instance_id: str):
        vm = self._info(instance_id)
        if node_state(vm.STATE, vm.LCM_STATE) == "terminated":
            raise InstanceNotFound(f"opennebula VM {instance_id} is {_describe(vm)}", provider=self.name,
                                   instance=instance_id)
        return vm

    def _wait(self, instance_id: str, done: Callable[[Any], bool], wanted: str, timeout: float):
        """Poll ``vm.info`` until ``done(vm)``; a VM gone or failed on the way is refused (bounded)."""
        deadline, delay = time.monotonic() + timeout, 0.1
        while True:
            vm = self._info(instance_id)
            if done(vm):
                return vm
            state = node_state(vm.STATE, vm.LCM_STATE)
            failed = state == "terminated" or (state == "error" and vm.LCM_STATE != _L.UNKNOWN)   # UNKNOWN may resume
            if failed and wanted not in ("terminated", state):
                reason = _user_attr(vm, "ERROR") or "no reason given"
                raise ProviderRefused(f"opennebula VM {instance_id} is {_describe(vm)} instead of {wanted}: {reason}",
                                      provider=self.name, instance=instance_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                why = _user_attr(vm, "SCHED_MESSAGE")
                raise ProviderUnavailable(f"opennebula VM {instance_id} is not {wanted} after {timeout:g} s (last seen "
                                          f"{_describe(vm)}){': ' + why if why else ''}", provider=self.name,
                                          instance=instance_id)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_interval)

    def _instance(self, vm) -> Instance:
        template, user = vm.TEMPLATE or {}, vm.USER_TEMPLATE or {}
        try:
            tags = json.loads(user.get(TAGS_ATTRIBUTE) or "{}")
        except ValueError:
            tags = {}
        tags = {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}
        addresses = [nic.get(key) for nic in _vectors(template.get("NIC")) for key in ("IP", "IP6_GLOBAL", "IP6")
                     if nic.get(key)]
        state = node_state(vm.STATE, vm.LCM_STATE)
        context = (_vectors(template.get("CONTEXT")) or [{}])[0]
        agent_url = None
        if state == "running" and addresses and context.get("ACCORDS_AGENT_PORT"):
            host = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
            agent_url = f"http://{host}:{context['ACCORDS_AGENT_PORT']}"
        reason = (_user_attr(vm, "ERROR") or f"OpenNebula reports {_describe(vm)}") if state == "error" else None
        disks = _vectors(template.get("DISK"))
        return Instance(id=str(vm.ID), name=vm.NAME, state=state, addresses=addresses, tags=tags,
                        agent_url=agent_url, reason=reason,
                        extra={"one_state": _describe(vm), "cpu": template.get("CPU"), "vcpu": template.get("VCPU"),
                               "memory_mb": template.get("MEMORY"), "owner": vm.UNAME,
                               "image": disks[0].get("IMAGE") if disks else None,
                               "image_id": disks[0].get("IMAGE_ID") if disks else None, "started": vm.STIME})

    # -- what can be asked for --------------------------------------------------------------------
    def _images(self) -> list:
        return [i for i in self._call("imagepool.info", -2, -1, -1, doing="list images").IMAGE or []
                if i.TYPE == 0 and i.STATE not in (3, 5, 7)]      # OS images, not DISABLED, ERROR or DELETE

    def image_for(self, spec: NodeSpec) -> tuple[int, int]:
        """(image id, size in MiB) for the node's image, its mapping, or the default image."""
        wanted = spec.image if spec.image is not None else self.image
        if wanted is None:
            raise ProviderRefused(f"no image for {spec.name}: give the node an image or the driver a default",
                                  provider=self.name)
        wanted = str(self.image_map.get(str(wanted), wanted))
        images = self._images()
        found = [i for i in images if str(i.ID) == wanted] if wanted.isdigit() else \
            [i for i in images if i.NAME == wanted]
        if len(found) > 1:
            found = [i for i in found if i.UNAME == self.username] or found
        if len(found) != 1:
            known = ", ".join(sorted({i.NAME for i in images})) or "none"
            why = "is ambiguous (ids " + ", ".join(str(i.ID) for i in found) + ")" if found else "does not exist"
            raise ProviderRefused(f"opennebula image {wanted!r} of {spec.name} {why}; usable images: {known}",
                                  provider=self.name)
        return int(found[0].ID), int(found[0].SIZE or 0)

    def cluster_for(self, zone: str) -> int:
        clusters = self._call("clusterpool.info", doing="list clusters").CLUSTER or []
        found = [c for c in clusters if c.NAME == zone or str(c.ID) == zone]
        if not found:
            raise ProviderRefused(f"opennebula has no cluster {zone!r}; clusters: "
                                  f"{', '.join(c.NAME for c in clusters) or 'none'}", provider=self.name)
        return int(found[0].ID)

    def sizes(self) -> list[Size]:
        """The configured sizes, else the shapes of the VM templates the user may use."""
        if self.size_map:
            found = [Size(name=n, cores=int(c), memory_mb=int(m), disk_gb=0) for n, (c, m) in self.size_map.items()]
        else:
            found = []
            for item in self._call("templatepool.info", -2, -1, -1, doing="list VM templates").VMTEMPLATE or []:
                template = item.TEMPLATE or {}
                try:
                    cores = int(template.get("VCPU") or math.ceil(float(template.get("CPU") or 0)))
                    memory = int(template.get("MEMORY") or 0)
                except ValueError:
                    continue
                if cores > 0 and memory > 0:
                    found.append(Size(name=item.NAME, cores=cores, memory_mb=memory, disk_gb=0))
        return sorted(found, key=lambda s: (s.memory_mb, s.cores, s.name))

    def images(self) -> list[str]:
        configured = [str(i) for i in (self.image, *self.image_map) if i is not None]
        return list(dict.fromkeys(configured + [i.NAME for i in self._images()]))

    def zones(self) -> list[str]:
        return [c.NAME for c in self._call("clusterpool.info", doing="list clusters").CLUSTER or []]

    # -- the interface ------------------------------------------------------------------------
    def build_template(self, spec: NodeSpec, image_id: int, image_mb: int, cluster: int | None) -> str:
        """The VM template of ``spec`` as OpenNebula XML (values escaped, any character allowed)."""
        root = ET.Element("TEMPLATE")

        def put(parent, name: str, value) -> None:
            if isinstance(value, (list, tuple)):         # an attribute given more than once (NICs ...)
                for item in value:
                    put(parent, name, item)
            elif isinstance(value, Mapping):
                vector = ET.SubElement(parent, name)
                for key, item in value.items():
                    put(vector, str(key).upper(), item)
            else:
                ET.SubElement(parent, name).text = str(value)
        cores = spec.cores or 1
        disk = {"IMAGE_ID": image_id}
        if spec.disk_gb and spec.disk_gb * 1024 > image_mb:
            disk["SIZE"] = spec.disk_gb * 1024
        context = {"NETWORK": "YES", "ACCORDS_NODE": spec.name, "ACCORDS_CONTRACT": spec.contract}
        if spec.agent_token:
            context.update(ACCORDS_AGENT_TOKEN=spec.agent_token, ACCORDS_AGENT_PORT=self.agent_port)
        for name, value in {"NAME": spec.name, "CPU": round(cores * self.cpu_per_core, 2), "VCPU": cores,
                            "MEMORY": spec.memory_mb or self.memory_mb, "DISK": disk, "CONTEXT": context,
                            **{str(k).upper(): v for k, v in self.template.items()}}.items():
            put(root, name, value)
        if self.network is not None:
            nic = {"NETWORK_ID": self.network} if str(self.network).isdigit() else {"NETWORK": self.network}
            put(root, "NIC", {**nic, **({"NETWORK_UNAME": self.network_owner} if self.network_owner else {})})
        if cluster is not None:
            put(root, "SCHED_REQUIREMENTS", f"CLUSTER_ID = {cluster}")
        put(root, CONTRACT_ATTRIBUTE, spec.contract)
        put(root, TAGS_ATTRIBUTE, json.dumps(spec.all_tags(), sort_keys=True))
        return ET.tostring(root, encoding="unicode")

    def create(self, spec: NodeSpec) -> Instance:
        try:
            return self._create(spec)
        except ProviderError as error:               # the agent token is no platform secret, but stays out too
            if spec.agent_token and spec.agent_token in error.message:
                error.message = error.message.replace(spec.agent_token, "***")
                error.args = (error.message,)
            raise

    def _create(self, spec: NodeSpec) -> Instance:
        image_id, image_mb = self.image_for(spec)
        cluster = self.cluster_for(spec.zone) if spec.zone else None
        template = self.build_template(spec, image_id, image_mb, cluster)
        doing = f"create {spec.name} from image {image_id}"
        vm_id = self._call("vm.allocate", template, False, doing=doing, secret=spec.agent_token)
        log.info("opennebula: allocated VM %s (image %s) for contract %s", vm_id, image_id, spec.contract)
        try:
            vm = self._wait(str(vm_id), _running, "running", self.ready_timeout)
        except BaseException:
            self._abandon(str(vm_id))                 # nothing left behind
            raise
        return self._instance(vm)

    def _abandon(self, instance_id: str) -> None:
        try:
            self._terminate(instance_id)
        except Exception as exc:  # noqa: BLE001 - the original error matters more; the tags find it later
            log.warning("opennebula: could not terminate VM %s after a failed create (%s); reconciliation will "
                        "find it by its contract tag", instance_id, type(exc).__name__)

    def _terminate(self, instance_id: str) -> bool:
        """terminate-hard, then wait (bounded) until oned shows the VM on its way out."""
        vm = self._info(instance_id)
        if node_state(vm.STATE, vm.LCM_STATE) == "terminated":
            return False
        doing = f"delete VM {instance_id}"
        try:
            self._call("vm.action", "terminate-hard", int(instance_id), doing=doing, instance=instance_id)
        except ProviderRefused as refused:
            if getattr(refused, "code", None) != ACTION:
                raise
            # A VM in PROLOG, BOOT or a save cannot be terminated: recover --delete (an admin
            # operation by default), else wait until it reaches a state terminate accepts.
            try:
                self._call("vm.recover", int(instance_id), 3, doing=doing, instance=instance_id)
            except ProviderRefused:
                self._wait(instance_id, _terminable, "terminable", self.ready_timeout)
                self._call("vm.action", "terminate-hard", int(instance_id), doing=doing, instance=instance_id)
        # oned queues the action: wait until the VM is seen leaving, so that get() agrees at once
        self._wait(instance_id, lambda v: node_state(v.STATE, v.LCM_STATE) == "terminated", "terminated",
                   self.ready_timeout)
        return True

    def get(self, instance_id: str) -> Instance:
        return self._instance(self._live(instance_id))

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        wanted = dict(tags or {})
        pool = self._call("vmpool.infoextended", _MINE, -1, -1, -1, doing="list VMs")
        found = [self._instance(vm) for vm in pool.VM or []
                 if TAGS_ATTRIBUTE in (vm.USER_TEMPLATE or {}) and node_state(vm.STATE, vm.LCM_STATE) != "terminated"]
        return [i for i in found if CONTRACT_TAG in i.tags and all(i.tags.get(k) == v for k, v in wanted.items())]

    def delete(self, instance_id: str) -> bool:
        try:
            deleted = self._terminate(instance_id)
        except InstanceNotFound:
            return False
        if deleted:
            log.info("opennebula: terminated VM %s", instance_id)
        return deleted

    def stop(self, instance_id: str) -> Instance:
        vm = self._live(instance_id)
        if vm.STATE in _STOPPED:
            return self._instance(vm)
        doing = f"stop VM {instance_id}"
        if vm.LCM_STATE not in _STOPPING:
            self._call("vm.action", "poweroff", int(instance_id), doing=doing, instance=instance_id)
        try:
            vm = self._wait(instance_id, _stopped, "stopped", self.soft_stop_timeout)
        except ProviderUnavailable:                    # the guest ignored ACPI: pull the plug
            log.info("opennebula: VM %s did not power off in %g s; poweroff-hard", instance_id,
                     self.soft_stop_timeout)
            self._call("vm.action", "poweroff-hard", int(instance_id), doing=doing, instance=instance_id)
            vm = self._wait(instance_id, _stopped, "stopped", self.ready_timeout)
        return self._instance(vm)

    def start(self, instance_id: str) -> Instance:
        vm = self._live(instance_id)
        if vm.LCM_STATE in _STOPPING:
            vm = self._wait(instance_id, _stopped, "stopped", self.ready_timeout)
        if vm.STATE in _STOPPED or (vm.STATE == _V.ACTIVE and vm.LCM_STATE == _L.UNKNOWN):
            self._call("vm.action", "resume", int(instance_id), doing=f"start VM {instance_id}", instance=instance_id)
        return self._instance(self._wait(instance_id, _running, "running", self.ready_timeout))

    def reboot(self, instance_id: str) -> Instance:
        """oned's ``reboot`` (ACPI, asynchronous: the VM stays RUNNING while the guest restarts)."""
        self._live(instance_id)
        self._call("vm.action", "reboot", int(instance_id), doing=f"reboot VM {instance_id}", instance=instance_id)
        return self.get(instance_id)

    def snapshot(self, instance_id: str, *, name: str) -> str:
        """The first disk saved as a new image (``one.vm.disksaveas``); returns the image id."""
        vm = self._live(instance_id)
        disks = _vectors((vm.TEMPLATE or {}).get("DISK"))
        if not disks:
            raise ProviderRefused(f"opennebula VM {instance_id} has no disk to save", provider=self.name,
                                  instance=instance_id)
        image_id = self._call("vm.disksaveas", int(instance_id), int(disks[0].get("DISK_ID") or 0), name, "", -1,
                              doing=f"snapshot VM {instance_id} as {name}", instance=instance_id)
        return str(image_id)

    def close(self) -> None:
        self._http.close()


def _vectors(value) -> list:
    """A template attribute that may appear once (a dict) or more (a list) as a list of dicts."""
    items = value if isinstance(value, list) else [value] if value else []
    return [item for item in items if isinstance(item, Mapping)]


def _user_attr(vm, name: str) -> str | None:
    value = (vm.USER_TEMPLATE or {}).get(name)
    return str(value) if value else None


def _lcm_name(lcm: int) -> str:
    return _L(lcm).name if lcm in _L._value2member_map_ else f"LCM_STATE_{lcm}"


def _describe(vm) -> str:
    state = _V(vm.STATE).name if vm.STATE in _V._value2member_map_ else f"STATE_{vm.STATE}"
    return f"{state}/{_lcm_name(vm.LCM_STATE)}" if vm.STATE == _V.ACTIVE else state


def _running(vm) -> bool:
    return vm.STATE == _V.ACTIVE and vm.LCM_STATE == _L.RUNNING


def _stopped(vm) -> bool:
    return vm.STATE in _STOPPED


def _terminable(vm) -> bool:
    """What DispatchManager::terminate accepts: any state but ACTIVE, else RUNNING, UNKNOWN or a failure."""
    return vm.STATE != _V.ACTIVE or vm.LCM_STATE in (_L.RUNNING, _L.UNKNOWN) \
        or _lcm_name(vm.LCM_STATE).endswith("FAILURE")
