"""A test double of OpenNebula's XML-RPC API (``oned``), for the opennebula provider driver.

No OpenNebula emulator exists (CLOUD-EMULATORS.md §3), so this server speaks the protocol itself:
XML-RPC over HTTP POST to ``/RPC2`` on 127.0.0.1 (stdlib ``xmlrpc.server`` in a thread). What it
honours, after oned's sources (``Request.h``, ``DispatchManagerActions.cc``, ``VirtualMachine.cc``,
``VirtualMachinePoolAPI.cc``) and pyone 7.3.80:

* the session ``"user:password"`` as first parameter of every call; a wrong one answers 0x0100;
  another user's VM answers 0x0200, an unknown id 0x0400, a wrong state 0x0800;
* every reply is ``[success, result or message, error code]``; unknown methods and parameters of
  the wrong type are XML-RPC faults (-506, -501), as from xmlrpc-c;
* templates in OpenNebula's text form (``NAME="x"``, ``DISK=[IMAGE_ID="0"]``) or as XML; names
  upper-cased; CPU and MEMORY required; unknown attributes stay in ``USER_TEMPLATE``;
* states over time: PENDING, then ACTIVE/PROLOG, BOOT, RUNNING (``step`` seconds each); actions
  (terminate[-hard], poweroff[-hard], suspend, stop, undeploy, resume, reboot, hold, release) follow
  ``DispatchManager``'s state rules; LCM actions take effect after ``lag`` seconds, as they are
  queued in oned; DONE VMs stay readable by id, as in oned;
* ``vmpool.info`` answers the short body (a reduced ``USER_TEMPLATE``), ``infoextended`` the full;
* failure injection: ``fail_next``, ``boot_failure``, ``no_capacity``, ``stuck_in``, ``acpi``,
  ``missing``, ``http_errors``, ``delay``.

It does not do: hosts, networks, datastores or quotas of its own, pagination, ACLs beyond "users see
their own VMs", ``template.instantiate``, gRPC, HTTPS. The formats (templates, XML bodies, codes and
states) are in tests/doubles/opennebula_xml.py.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Iterator
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from tests.doubles.opennebula_xml import (ACTION, ALLOCATE, AUTHENTICATION, AUTHORIZATION, INTERNAL, LCM_STATES,
                                          LOCKED, NO_EXISTS, RPC_API, TEMPLATE_ATTRS, VM_STATES, L, OneError, S, Vm,
                                          cluster_xml, image_xml, parse_template, vectors, vm_xml, vmtemplate_xml)

__all__ = ["OpenNebulaDouble", "start_opennebula", "AUTHENTICATION", "AUTHORIZATION", "NO_EXISTS", "ACTION",
           "RPC_API", "INTERNAL", "ALLOCATE", "LOCKED", "VM_STATES", "LCM_STATES", "S", "L", "IMAGES", "TEMPLATES",
           "CLUSTERS"]

#: What the double offers: (id, name, size in MiB), (id, name, cpu, vcpu, memory), (id, name).
IMAGES = ((0, "debian-12", 2048), (1, "ubuntu-24.04", 3584))
TEMPLATES = ((0, "small", 1, 1, 1024), (1, "medium", 2, 2, 4096), (2, "large", 4, 4, 8192))
CLUSTERS = ((0, "default"), (100, "edge"))
_FAILURES = frozenset(n for n, name in enumerate(LCM_STATES) if name.endswith("FAILURE"))
_SIGNATURES = {  # after the session: i int, s string, b boolean; optional ones after "|"
    "one.system.version": "", "one.vm.allocate": "s|b", "one.vm.info": "i|b", "one.vm.action": "si",
    "one.vm.update": "isi", "one.vm.recover": "ii", "one.vm.disksaveas": "iissi",
    "one.vmpool.info": "iiii|s", "one.vmpool.infoextended": "iiii|s", "one.imagepool.info": "iii",
    "one.templatepool.info": "iii", "one.clusterpool.info": ""}


class OpenNebulaDouble:
    """The state of one fake oned: users, VMs, images; ``endpoint`` once started."""

    def __init__(self, *, step: float = 0.05, lag: float = 0.02, users: dict[str, str] | None = None):
        self.step, self.lag = step, lag
        #: name -> (password, uid, gid, group name); oneadmin is uid 0 as in oned.
        self.users = {"oneadmin": ("oneadmin-double-pass", 0, 0, "oneadmin")}
        for n, (name, password) in enumerate((users or {}).items(), start=2):
            self.users[name] = (password, n, 1, "users")
        self.vms: dict[int, Vm] = {}
        self.images = [{"ID": i, "UID": 0, "UNAME": "oneadmin", "NAME": n, "TYPE": 0, "STATE": 1, "SIZE": s,
                        "ready_at": 0.0} for i, n, s in IMAGES]
        self.calls: list[tuple[str, tuple]] = []            # (method, params without the session)
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.boot_failures: list[tuple[str, str]] = []       # (lcm state name, error)
        self.no_capacity = False      # new VMs stay PENDING with a SCHED_MESSAGE
        self.stuck_in: str | None = None   # new VMs stop in this LCM state (PROLOG, BOOT): a hung deploy
        self.missing: set[str] = set()     # methods this oned does not have (an older version)
        self.acpi = True              # False: soft poweroff/terminate are ignored by the guest
        self.http_errors: list[int] = []
        self.delay = 0.0
        self.endpoint = ""
        self._ids = itertools.count()
        self._lock = threading.RLock()

    # -- failure injection ---------------------------------------------------------------------
    def fail_next(self, method: str, code: int, message: str) -> None:
        """The next call of ``method`` (``one.vm.allocate`` ...) answers [False, message, code]."""
        self.failures.setdefault(method, []).append((code, message))

    def boot_failure(self, lcm: str = "BOOT_FAILURE", error: str = "Error executing deploy action") -> None:
        """The next VM allocated fails in ``lcm`` (``BOOT_FAILURE``, ``PROLOG_FAILURE``) instead of RUNNING."""
        self.boot_failures.append((lcm, error))

    # -- the state machine ---------------------------------------------------------------------
    def _set(self, vm: Vm, state: int, lcm: int) -> None:
        if (state, lcm) != (vm.state, vm.lcm):
            vm.prev, vm.state, vm.lcm = (vm.state, vm.lcm), state, lcm
        if state == S["DONE"] and not vm.etime:
            vm.etime = int(time.time())

    def _advance(self, vm: Vm) -> Vm:
        now = time.monotonic()
        while vm.plan and vm.plan[0][0] <= now:
            _, state, lcm, error = vm.plan.pop(0)
            self._set(vm, state, lcm)
            if error:
                vm.user_template["ERROR"] = error
        return vm

    def _schedule(self, vm: Vm, *steps: tuple[str, str], lag: bool = True, error: str | None = None) -> None:
        """Replace what is to come with ``steps`` ((VM state, LCM state) names), ``step`` apart."""
        start = time.monotonic() + (self.lag if lag else self.step)     # queued in oned, or scheduled
        vm.plan = [(start + n * self.step, S[s], L[lcm], error if n == len(steps) - 1 else None)
                   for n, (s, lcm) in enumerate(steps)]

    def _boot(self, vm: Vm) -> None:
        requirements = vm.user_template.get("SCHED_REQUIREMENTS", "")
        wanted = re.findall(r'CLUSTER_ID\s*=\s*"?(\d+)', requirements)
        if self.no_capacity or any(int(c) not in dict(CLUSTERS) for c in wanted):
            vm.user_template["SCHED_MESSAGE"] = (f"{time.strftime('%c')} : Cannot dispatch VM to any Host. Possible "
                                                 "causes: Not enough capacity in Host or System DS")
            return
        if self.stuck_in:
            return self._schedule(vm, ("ACTIVE", "PROLOG"), ("ACTIVE", self.stuck_in), lag=False)
        if self.boot_failures:
            lcm, error = self.boot_failures.pop(0)
            booted = (("ACTIVE", "BOOT"),) if lcm.startswith("BOOT") else ()
            return self._schedule(vm, ("ACTIVE", "PROLOG"), *booted, ("ACTIVE", lcm), lag=False, error=error)
        self._schedule(vm, ("ACTIVE", "PROLOG"), ("ACTIVE", "BOOT"), ("ACTIVE", "RUNNING"), lag=False)

    # -- the calls -----------------------------------------------------------------------------
    def dispatch(self, method: str, params: tuple) -> list:
        signature = _SIGNATURES.get(method)
        if signature is None or method in self.missing:
            raise Fault(-506, f"Method '{method}' not defined")
        required, _, optional = signature.partition("|")
        kinds = {"i": int, "s": str, "b": bool}
        if not (1 + len(required) <= len(params) <= 1 + len(required) + len(optional)) or \
                any(type(p) is not kinds[k] for p, k in zip(params, "s" + required + optional)):
            raise Fault(-501, f"Type mismatch: {method} takes session, {signature or 'nothing'}")
        with self._lock:
            self.calls.append((method, params[1:]))
            try:
                user = self._authenticate(method, params[0])
                if self.failures.get(method):
                    raise OneError(*self.failures[method].pop(0))
                handler = getattr(self, "_" + method[4:].replace(".", "_"))
                return [True, handler(user, *params[1:]), 0]
            except OneError as exc:
                return [False, f"[{method}] {exc.message}", exc.code]

    def _authenticate(self, method: str, session: str) -> tuple[str, int, int, str]:
        name, _, password = session.partition(":")
        known = self.users.get(name)
        if known is None or known[0] != password:
            raise OneError(AUTHENTICATION, "User couldn't be authenticated, aborting call.")
        return name, known[1], known[2], known[3]

    def _vm(self, user, vm_id: int, operation: str = "USE") -> Vm:
        vm = self.vms.get(vm_id)
        if vm is None:
            raise OneError(NO_EXISTS, f"Error getting virtual machine [{vm_id}].")
        if user[1] != 0 and user[2] != 0 and vm.uid != user[1]:
            raise OneError(AUTHORIZATION, f"User [{user[1]}] : Not authorized to perform {operation} VM [{vm_id}].")
        return self._advance(vm)

    def _system_version(self, user) -> str:
        return "6.10.0"

    def _vm_allocate(self, user, text: str, hold: bool = False) -> int:
        attrs = parse_template(text)
        for name, kind in (("MEMORY", int), ("CPU", float), ("VCPU", int)):
            try:
                if (name in attrs or name != "VCPU") and not kind(attrs.get(name, "")) > 0:
                    raise ValueError
            except (TypeError, ValueError):
                article = "a positive integer" if kind is int else "a positive float or integer"
                raise OneError(ALLOCATE, f"Error allocating a new virtual machine template. {name} attribute must "
                                         f"be {article} value.") from None
        template = {k: v for k, v in attrs.items() if k in TEMPLATE_ATTRS}
        user_template = {k: v for k, v in attrs.items() if k not in TEMPLATE_ATTRS and k != "NAME"}
        for n, disk in enumerate(vectors(template, "DISK")):
            image = next((i for i in self.images if str(i["ID"]) == disk.get("IMAGE_ID")), None)
            if image is None:
                raise OneError(ALLOCATE, "Error allocating a new virtual machine template. Error getting image "
                                         f"[{disk.get('IMAGE_ID', disk.get('IMAGE'))}].")
            disk.update(DISK_ID=str(n), IMAGE=image["NAME"], IMAGE_UNAME=image["UNAME"],
                        SIZE=disk.get("SIZE") or str(image["SIZE"]), TARGET=f"vd{chr(97 + n)}", DATASTORE="default",
                        DATASTORE_ID="1", TYPE="FILE")
        vm_id = next(self._ids)
        for n, nic in enumerate(vectors(template, "NIC")):
            nic.update(NIC_ID=str(n), IP=f"192.0.2.{vm_id % 250 + 2}", MAC=f"02:00:c0:00:02:{vm_id % 250 + 2:02x}")
        if isinstance(template.get("CONTEXT"), dict):
            template["CONTEXT"].update(DISK_ID=str(len(vectors(template, "DISK"))), TARGET="hda")
        template.update(VMID=str(vm_id), AUTOMATIC_REQUIREMENTS="!(PUBLIC_CLOUD = YES)")
        vm = Vm(id=vm_id, uid=user[1], uname=user[0], gid=user[2], gname=user[3],
                name=attrs.get("NAME") or f"one-{vm_id}", template=template, user_template=user_template)
        self.vms[vm_id] = vm
        if hold:
            self._set(vm, S["HOLD"], 0)
        else:
            self._boot(vm)
        return vm_id

    def _vm_info(self, user, vm_id: int, decrypt: bool = False) -> str:
        return vm_xml(self._vm(user, vm_id))

    def _vm_update(self, user, vm_id: int, text: str, kind: int) -> int:
        vm = self._vm(user, vm_id, "MANAGE")
        if kind not in (0, 1):
            raise OneError(RPC_API, "Wrong update type")
        try:
            attrs = parse_template(text)
        except OneError as exc:
            raise OneError(ACTION, exc.message) from None
        vm.user_template = attrs if kind == 0 else {**vm.user_template, **attrs}
        return vm_id

    def _vm_action(self, user, action: str, vm_id: int) -> int:
        vm = self._vm(user, vm_id, "MANAGE")
        state, lcm, hard = VM_STATES[vm.state], LCM_STATES[vm.lcm], action.endswith("-hard")
        running = state == "ACTIVE" and lcm in ("RUNNING", "UNKNOWN")
        shown = lcm if state == "ACTIVE" else state
        refuse = OneError(ACTION, f"Error performing action \"{action}\": This action is not available for state "
                                  f"{shown}")
        soft_ignored = not hard and not self.acpi
        if action in ("terminate", "terminate-hard"):
            if state in ("SUSPENDED", "POWEROFF", "STOPPED", "UNDEPLOYED"):
                self._schedule(vm, ("ACTIVE", "EPILOG"), ("DONE", "LCM_INIT"))
            elif state in ("INIT", "PENDING", "HOLD", "CLONING", "CLONING_FAILURE"):
                vm.plan = []
                self._set(vm, S["DONE"], 0)                   # freed at once, in the request
            elif state == "DONE":
                pass
            elif running or (lcm == "SHUTDOWN" and hard):
                self._schedule(vm, ("ACTIVE", "SHUTDOWN"), *((("ACTIVE", "RUNNING"),) if soft_ignored else
                                                             (("ACTIVE", "EPILOG"), ("DONE", "LCM_INIT"))))
            elif vm.lcm in _FAILURES:
                self._schedule(vm, ("ACTIVE", "CLEANUP_DELETE"), ("DONE", "LCM_INIT"))
            else:
                raise OneError(ACTION, f"Could not terminate VM {vm_id}, wrong state {shown}.")
        elif action in ("poweroff", "poweroff-hard") and (running or (hard and lcm == "SHUTDOWN_POWEROFF")):
            self._schedule(vm, ("ACTIVE", "SHUTDOWN_POWEROFF"), ("ACTIVE", "RUNNING") if soft_ignored
                           else ("POWEROFF", "LCM_INIT"))
        elif action in ("undeploy", "undeploy-hard") and (running or state == "POWEROFF"):
            self._schedule(vm, ("ACTIVE", "SHUTDOWN_UNDEPLOY"), ("ACTIVE", "EPILOG_UNDEPLOY"),
                           ("UNDEPLOYED", "LCM_INIT"))
        elif action == "suspend" and state == "ACTIVE" and lcm == "RUNNING":
            self._schedule(vm, ("ACTIVE", "SAVE_SUSPEND"), ("SUSPENDED", "LCM_INIT"))
        elif action == "stop" and (state == "SUSPENDED" or (state == "ACTIVE" and lcm == "RUNNING")):
            self._schedule(vm, ("ACTIVE", "SAVE_STOP"), ("ACTIVE", "EPILOG_STOP"), ("STOPPED", "LCM_INIT"))
        elif action == "resume" and state in ("STOPPED", "UNDEPLOYED"):
            kind = "STOPPED" if state == "STOPPED" else "UNDEPLOY"
            self._set(vm, S["PENDING"], 0)
            self._schedule(vm, ("ACTIVE", "PROLOG_RESUME" if kind == "STOPPED" else "PROLOG_UNDEPLOY"),
                           ("ACTIVE", "BOOT_" + kind), ("ACTIVE", "RUNNING"), lag=False)
        elif action == "resume" and (state in ("SUSPENDED", "POWEROFF") or lcm == "UNKNOWN" and state == "ACTIVE"):
            self._schedule(vm, ("ACTIVE", "BOOT_SUSPENDED" if state == "SUSPENDED" else "BOOT_POWEROFF"),
                           ("ACTIVE", "RUNNING"))
        elif action in ("reboot", "reboot-hard") and state == "ACTIVE" and lcm == "RUNNING":
            pass                                             # the hypervisor reboots the guest; no state change
        elif action == "hold" and state == "PENDING":
            vm.plan = []
            self._set(vm, S["HOLD"], 0)
        elif action == "release" and state == "HOLD":
            self._set(vm, S["PENDING"], 0)
            self._boot(vm)
        elif action not in ("terminate", "terminate-hard", "poweroff", "poweroff-hard", "undeploy", "undeploy-hard",
                            "suspend", "stop", "resume", "reboot", "reboot-hard", "hold", "release"):
            raise OneError(ACTION, f"Virtual machine action \"{action}\" is not supported")
        else:
            raise refuse
        return vm_id

    def _vm_recover(self, user, vm_id: int, operation: int) -> int:
        vm = self._vm(user, vm_id, "ADMIN")
        if user[1] != 0 and user[2] != 0:           # recover is an admin operation by default (oned.conf)
            raise OneError(AUTHORIZATION, f"User [{user[1]}] : Not authorized to perform ADMIN VM [{vm_id}].")
        if vm.state != S["ACTIVE"]:
            raise OneError(ACTION, f"Could not perform a recover operation on VM {vm_id}, wrong state "
                                   f"{VM_STATES[vm.state]}.")
        if operation != 3:
            raise OneError(RPC_API, f"the double implements recover operation 3 (delete) only, not {operation}")
        self._schedule(vm, ("ACTIVE", "CLEANUP_DELETE"), ("DONE", "LCM_INIT"))
        return vm_id

    def _vm_disksaveas(self, user, vm_id: int, disk_id: int, name: str, kind: str, snap_id: int) -> int:
        vm = self._vm(user, vm_id, "MANAGE")
        state, lcm = VM_STATES[vm.state], LCM_STATES[vm.lcm]
        if not ((state == "ACTIVE" and lcm == "RUNNING") or state in ("POWEROFF", "SUSPENDED")):
            raise OneError(ACTION, f"Could not save disk: wrong state {lcm if state == 'ACTIVE' else state}")
        disk = next((d for d in vectors(vm.template, "DISK") if d.get("DISK_ID") == str(disk_id)), None)
        if disk is None:
            raise OneError(ACTION, f"VM disk does not exist: {disk_id}")
        taken = next((i for i in self.images if i["NAME"] == name and i["UID"] == user[1]), None)
        if taken is not None:
            raise OneError(ALLOCATE, f"Error allocating a new image. NAME is already taken by IMAGE {taken['ID']}.")
        image_id = max(i["ID"] for i in self.images) + 1
        self.images.append({"ID": image_id, "UID": user[1], "UNAME": user[0], "NAME": name, "TYPE": 0, "STATE": 4,
                            "SIZE": int(disk["SIZE"]), "ready_at": time.monotonic() + self.step})
        return image_id

    def _vmpool_info(self, user, flag: int, start: int, end: int, state: int, query: str = "",
                     extended: bool = False) -> str:
        if flag < -4:
            raise OneError(RPC_API, "Incorrect filter_flag")
        if state < -2 or state > S["CLONING_FAILURE"]:
            raise OneError(RPC_API, f"Incorrect state filter {state}")
        if start < -1 or query:
            raise OneError(RPC_API, "the double implements no pagination and no query")
        admin = user[1] == 0 or user[2] == 0
        # -3 mine, -4 my primary group, -1 mine and my groups, -2 all I may see, >= 0 that user's
        found = [self._advance(vm) for vm in self.vms.values()
                 if {-3: vm.uid == user[1], -4: vm.gid == user[2], -1: vm.uid == user[1] or vm.gid == user[2],
                     -2: admin or vm.uid == user[1]}.get(flag, vm.uid == flag and (admin or flag == user[1]))
                 and (start < 0 or vm.id >= start) and (end < 0 or vm.id <= end)]
        found = [vm for vm in found if state == -2 or (state == -1 and vm.state != S["DONE"]) or vm.state == state]
        return "<VM_POOL>" + "".join(vm_xml(vm, short=not extended) for vm in found) + "</VM_POOL>"

    def _vmpool_infoextended(self, user, flag: int, start: int, end: int, state: int, query: str = "") -> str:
        return self._vmpool_info(user, flag, start, end, state, query, extended=True)

    def _imagepool_info(self, user, flag: int, start: int, end: int) -> str:
        now = time.monotonic()
        out = []
        for image in self.images:
            if image["STATE"] == 4 and image["ready_at"] <= now:
                image["STATE"] = 1
            if flag in (-3, -1) and image["UID"] != user[1] or flag >= 0 and image["UID"] != flag:
                continue
            out.append(image_xml(image))
        return "<IMAGE_POOL>" + "".join(out) + "</IMAGE_POOL>"

    def _templatepool_info(self, user, flag: int, start: int, end: int) -> str:
        return "<VMTEMPLATE_POOL>" + "".join(
            vmtemplate_xml(i, n, {"CPU": c, "VCPU": v, "MEMORY": m, "DISK": {"IMAGE_ID": "0"}})
            for i, n, c, v, m in TEMPLATES) + "</VMTEMPLATE_POOL>"

    def _clusterpool_info(self, user) -> str:
        return "<CLUSTER_POOL>" + "".join(cluster_xml(i, n) for i, n in CLUSTERS) + "</CLUSTER_POOL>"


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def do_POST(self) -> None:
        double: OpenNebulaDouble = self.server.double          # type: ignore[attr-defined]
        if double.delay:
            time.sleep(double.delay)
        if double.http_errors:
            status = double.http_errors.pop(0)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = f"<html><body><h1>{status} from a proxy</h1></body></html>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_POST()

    def log_message(self, *args) -> None:      # quiet: the tests read the double's state instead
        pass


class _Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass                                  # a client that timed out and left is expected here


@contextmanager
def start_opennebula(**options) -> Iterator[OpenNebulaDouble]:
    """A double on 127.0.0.1 and a free port until the block ends (server and thread stopped)."""
    double = OpenNebulaDouble(**options)
    server = _Server(("127.0.0.1", 0), requestHandler=_Handler, logRequests=False, allow_none=False)
    server.double = double                    # type: ignore[attr-defined]
    server.register_instance(_Dispatcher(double))
    double.endpoint = f"http://127.0.0.1:{server.server_address[1]}/RPC2"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="opennebula-double", daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Dispatcher:
    def __init__(self, double: OpenNebulaDouble):
        self.double = double

    def _dispatch(self, method: str, params: tuple):
        return self.double.dispatch(method, params)
