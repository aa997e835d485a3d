"""The ``occi`` provider: a remote OCCI IaaS endpoint (GFD.224), such as another accords
installation's provisioning component (federation).

A node is a compute at the remote, made with ``POST /compute/`` through the project's OCCI
client (:class:`occi.client.OcciClient`, JSON rendering); its id is the compute's absolute
URL. Images and sizes are the remote's os_tpl and resource_tpl mixins, read from its query
interface: ``create`` names the os_tpl whose term (or type id) is the spec's image and the
smallest resource_tpl that has the cores and memory asked for (of the same remote provider as
the os_tpl, when the remote is accords), else sends ``occi.compute.cores`` and
``occi.compute.memory``. Start, stop and reboot are the compute's start, stop and restart
actions, each followed until the compute reaches the state asked for.

Tags travel with the creation request itself, so the node is never untagged: in
``accords.node.tags`` of the remote's ``node`` mixin when it declares one (an accords remote),
else as ``accords-tags {json}`` in ``occi.core.summary``. The remote's node agent answers to
the remote's token, not ours: configure such a provider with ``"agent": false``.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from broker.providers.base import (CONTRACT_TAG, Instance, InstanceNotFound, NodeSpec, ProviderDriver, ProviderError,
                                   ProviderRefused, ProviderUnavailable, Size)
from broker.providers.redaction import REDACTOR, guard_loggers

__all__ = ["OcciDriver"]

_INFRA = "http://schemas.ogf.org/occi/infrastructure#"
COMPUTE = _INFRA + "compute"
OS_TPL, RESOURCE_TPL = _INFRA + "os_tpl", _INFRA + "resource_tpl"
#: The accords IaaS face's node mixin (broker.provisioning.iaas_model), spelled out: a driver
#: knows nothing of the provisioning component's internals.
NODE = "http://accords.example/occi/iaas#node"
N = "accords.node."
_ACCORDS_TEMPLATES = "http://accords.example/occi/templates/"
_SUMMARY_TAGS = "accords-tags "
#: The remote contract's states (accords) and GFD.224 compute states, as driver states.
_NODE_STATES = {"pending": "pending", "creating": "pending", "configuring": "pending", "starting": "pending",
                "running": "running", "stopping": "pending", "stopped": "stopped", "deleting": "terminated",
                "deleted": "terminated", "failed": "error"}
_COMPUTE_STATES = {"active": "running", "inactive": "stopped", "suspended": "stopped", "error": "error"}


class OcciDriver(ProviderDriver):
    name = "occi"
    capabilities = frozenset({"start", "stop", "reboot", "tags"})

    def __init__(self, *, endpoint: str, token: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = 30.0, ready_timeout: float = 300.0,
                 poll_interval: float = 1.0, zone: str | None = None, client=None):
        from occi.client import OcciClient

        if not endpoint or urlsplit(endpoint).scheme not in ("http", "https"):
            raise ProviderRefused(f"occi: endpoint must be an http(s) URL, not {endpoint!r}", provider=self.name)
        if (user is None) != (password is None):
            raise ProviderRefused("occi: give both user and password, or a token", provider=self.name)
        REDACTOR.register(token, password)
        guard_loggers("urllib3", "requests", "occi")
        self.endpoint = endpoint.rstrip("/")
        self.zone = zone or urlsplit(self.endpoint).netloc
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self._found = None                       # the remote's query interface, as last read
        self.client = client or OcciClient(self.endpoint, token=token,
                                           basic=(user, password) if user is not None else None,
                                           timeout=timeout, retries=1)

    def __repr__(self) -> str:           # no credentials, ever
        return f"OcciDriver({self.endpoint!r})"

    def close(self) -> None:
        self.client.close()

    # -- errors -------------------------------------------------------------------------------
    def _call(self, what: str, call, *args, instance: str | None = None, **kwargs):
        """``call`` with the OCCI errors mapped: 404 not found, 429/5xx/unreachable unavailable, other refusals."""
        from occi.errors import OcciError

        try:
            return call(*args, **kwargs)
        except OcciError as exc:
            status = getattr(exc, "status", 500)
            message = REDACTOR.scrub(f"occi {self.endpoint} could not {what}: {status} {exc.code}: {exc.message}")[:400]
            if status == 404 and instance is not None:
                raise InstanceNotFound(message, provider=self.name, instance=instance) from None
            if status == 429 or status >= 500:
                raise ProviderUnavailable(message, provider=self.name, instance=instance) from None
            raise ProviderRefused(message, provider=self.name, instance=instance) from None
        except (OSError, ValueError) as exc:          # requests' own failures are OSErrors; a broken answer
            raise ProviderUnavailable(REDACTOR.scrub(f"occi {self.endpoint} could not {what}: "
                                                     f"{exc.__class__.__name__}"), provider=self.name,
                                      instance=instance) from None

    def _own(self, instance_id: str) -> str:
        if not isinstance(instance_id, str) or not instance_id.startswith(self.endpoint + "/compute/"):
            raise InstanceNotFound(f"{instance_id!r} is not a compute of {self.endpoint}", provider=self.name,
                                   instance=str(instance_id))
        return instance_id

    # -- the remote's model ---------------------------------------------------------------------
    def _discovery(self, *, refresh: bool = False):
        if refresh or self._found is None:
            self._found = self._call("read its query interface", self.client.discover)
        return self._found

    def _templates(self, base: str, *, refresh: bool = False) -> list:
        return [m for m in self._discovery(refresh=refresh).mixins if base in m.depends]

    @staticmethod
    def _names(templates: list) -> dict[str, object]:
        """Each template by the name images()/sizes() give it: its term when unique, else its type id."""
        terms = [m.term for m in templates]
        return {(m.term if terms.count(m.term) == 1 else m.type_id): m for m in templates}

    def _os_template(self, image: str):
        for refresh in (False, True):            # the remote refreshes its templates: look again once
            templates = self._templates(OS_TPL, refresh=refresh)
            named = self._names(templates)
            found = named.get(image) or next((m for m in templates if m.type_id == image), None)
            if found is not None:
                return found
        raise ProviderRefused(f"occi {self.endpoint} offers no os_tpl {image!r} (offered: "
                              f"{', '.join(sorted(self._names(self._templates(OS_TPL)))) or 'none'})",
                              provider=self.name)

    @staticmethod
    def _size_of(template) -> tuple[int, int] | None:
        cores = (template.attributes.get("occi.compute.cores") or {}).get("default")
        memory = (template.attributes.get("occi.compute.memory") or {}).get("default")
        if not isinstance(cores, (int, float)) or not isinstance(memory, (int, float)) or cores < 1 or memory <= 0:
            return None
        return int(cores), int(round(memory * 1024))

    def _resource_template(self, spec: NodeSpec, os_template):
        if spec.cores is None and spec.memory_mb is None:
            return None
        family = os_template.scheme.rsplit("/", 2)[0] if os_template is not None and \
            os_template.scheme.startswith(_ACCORDS_TEMPLATES) else None
        fitting = []
        for template in self._templates(RESOURCE_TPL):
            size = self._size_of(template)
            if size is None or size[0] < (spec.cores or 0) or size[1] < (spec.memory_mb or 0):
                continue
            # accords places a compute on the provider of its templates: both of one provider.
            if family is not None and template.scheme.startswith(_ACCORDS_TEMPLATES) \
                    and template.scheme.rsplit("/", 2)[0] != family:
                continue
            fitting.append((size[1], size[0], template.type_id, template))
        return min(fitting)[3] if fitting else None

    # -- reading computes -------------------------------------------------------------------------
    @staticmethod
    def _tags(entity) -> dict[str, str]:
        tags = entity.attributes.get(N + "tags")
        if isinstance(tags, dict):
            return {str(k): str(v) for k, v in tags.items()}
        summary = entity.summary or entity.attributes.get("occi.core.summary") or ""
        if summary.startswith(_SUMMARY_TAGS):
            try:
                found = json.loads(summary[len(_SUMMARY_TAGS):])
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        return {}

    def _instance(self, entity) -> Instance:
        a = entity.attributes
        node_state = a.get(N + "state")
        state = _NODE_STATES.get(node_state) if node_state else _COMPUTE_STATES.get(a.get("occi.compute.state"))
        addresses = list(a.get(N + "addresses") or ([a["occi.compute.hostname"]] if a.get("occi.compute.hostname")
                                                    else []))
        return Instance(id=entity.location, name=entity.title or a.get("occi.core.title") or "", state=state or "error",
                        addresses=addresses if state == "running" else [], tags=self._tags(entity),
                        reason=a.get("occi.compute.state.message") if state in ("error", None) else None,
                        extra={"endpoint": self.endpoint, "compute_state": a.get("occi.compute.state"),
                               "remote_state": node_state, "remote_provider": a.get(N + "provider")})

    def get(self, instance_id: str) -> Instance:
        location = self._own(instance_id)
        instance = self._instance(self._call("read a compute", self.client.get, location, instance=instance_id))
        if instance.state == "terminated":
            raise InstanceNotFound(f"compute {instance_id} is being deleted at {self.endpoint}", provider=self.name,
                                   instance=instance_id)
        return instance

    def list(self, *, tags: dict[str, str] | None = None) -> list[Instance]:
        found = []
        for entity in self._call("list its computes", self.client.list_entities, "/compute/"):
            instance = self._instance(entity)
            if CONTRACT_TAG in instance.tags and instance.state != "terminated" \
                    and all(instance.tags.get(k) == v for k, v in (tags or {}).items()):
                found.append(instance)
        return found

    # -- changing them ----------------------------------------------------------------------------
    def create(self, spec: NodeSpec) -> Instance:
        os_template = self._os_template(spec.image) if spec.image else None
        resource = self._resource_template(spec, os_template)
        mixins = [m.type_id for m in (os_template, resource) if m is not None]
        attributes: dict = {"occi.core.title": spec.name}
        if resource is None:
            if spec.cores is not None:
                attributes["occi.compute.cores"] = spec.cores
            if spec.memory_mb is not None:
                attributes["occi.compute.memory"] = round(spec.memory_mb / 1024, 3)
        node = self._discovery().get(NODE)
        if node is not None and N + "tags" in node.attributes:
            mixins.append(NODE)
            attributes[N + "tags"] = spec.all_tags()
        else:
            attributes["occi.core.summary"] = _SUMMARY_TAGS + json.dumps(spec.all_tags(), sort_keys=True)
        location = self._call(f"create {spec.name}", self.client.create, COMPUTE, attributes=attributes, mixins=mixins)
        try:
            return self._wait(location, "running", what=f"create {spec.name}")
        except BaseException:
            self._forget(location)               # nothing left behind
            raise

    def _forget(self, location: str) -> None:
        try:
            self.delete(location)
        except ProviderError:
            pass                                 # the contract tag lets the reconciler find it

    def _wait(self, location: str, wanted: str, *, what: str, leave: str | None = None) -> Instance:
        """Poll the compute until it is ``wanted`` (after leaving ``leave`` first, when it is given)."""
        deadline = time.monotonic() + self.ready_timeout
        left = leave is None
        leave_deadline = time.monotonic() + min(10.0, self.ready_timeout)
        while True:
            instance = self._instance(self._call(what, self.client.get, location, instance=location))
            if not left and (instance.state != leave or time.monotonic() > leave_deadline):
                left = True
            if left and instance.state == wanted:
                return instance
            if instance.state in ("error", "terminated"):
                raise ProviderRefused(f"occi {self.endpoint} could not {what}: the compute is {instance.state}"
                                      f"{': ' + instance.reason if instance.reason else ''}", provider=self.name,
                                      instance=location)
            if time.monotonic() > deadline:
                raise ProviderUnavailable(f"occi {self.endpoint} could not {what} within {self.ready_timeout:.0f} s "
                                          f"(the compute is {instance.state})", provider=self.name, instance=location)
            time.sleep(self.poll_interval)

    def delete(self, instance_id: str) -> bool:
        try:
            location = self._own(instance_id)
            self._call("delete a compute", self.client.delete, location, instance=instance_id)
        except InstanceNotFound:
            return False
        return True

    def _act(self, instance_id: str, term: str, wanted: str, *, leave: str | None = None) -> Instance:
        current = self.get(instance_id)
        if current.state == wanted and leave is None:
            return current
        self._call(f"{term} a compute", self.client.action, instance_id, term,
                   scheme="http://schemas.ogf.org/occi/infrastructure/compute/action#", instance=instance_id)
        return self._wait(instance_id, wanted, what=f"{term} compute {instance_id}", leave=leave)

    def start(self, instance_id: str) -> Instance:
        return self._act(instance_id, "start", "running")

    def stop(self, instance_id: str) -> Instance:
        return self._act(instance_id, "stop", "stopped")

    def reboot(self, instance_id: str) -> Instance:
        if self.get(instance_id).state != "running":
            return self.start(instance_id)
        return self._act(instance_id, "restart", "running", leave="running")

    # -- what can be asked for --------------------------------------------------------------------
    def sizes(self) -> list[Size]:
        found = []
        for name, template in self._names(self._templates(RESOURCE_TPL, refresh=True)).items():
            size = self._size_of(template)
            if size is not None:
                found.append(Size(name=name, cores=size[0], memory_mb=size[1], disk_gb=0))
        return found

    def images(self) -> list[str]:
        return list(self._names(self._templates(OS_TPL, refresh=True)))

    def zones(self) -> list[str]:
        return [self.zone]
