"""OpenNebula's formats for the XML-RPC double (tests/doubles/opennebula.py): error codes and states
(``include/Request.h``, pyone's ``VM_STATE`` and ``LCM_STATE``), templates in the text form or as XML
(``template_parser.l``: names upper-cased), and the XML bodies oned answers (``VirtualMachine::to_xml_extended``
and ``to_xml_short``, values in CDATA) that pyone binds to objects."""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

__all__ = ["AUTHENTICATION", "AUTHORIZATION", "NO_EXISTS", "ACTION", "RPC_API", "INTERNAL", "ALLOCATE", "LOCKED",
           "VM_STATES", "LCM_STATES", "S", "L", "TEMPLATE_ATTRS", "OneError", "Vm", "parse_template", "cdata",
           "attrs_xml", "vectors", "vm_xml", "image_xml", "vmtemplate_xml", "cluster_xml"]

AUTHENTICATION, AUTHORIZATION, NO_EXISTS, ACTION = 0x0100, 0x0200, 0x0400, 0x0800
RPC_API, INTERNAL, ALLOCATE, LOCKED = 0x1000, 0x2000, 0x4000, 0x8000
VM_STATES = ("INIT PENDING HOLD ACTIVE STOPPED SUSPENDED DONE FAILED POWEROFF UNDEPLOYED CLONING "
             "CLONING_FAILURE").split()
#: pyone.LCM_STATE's order (0..40 are enough here).
LCM_STATES = ("LCM_INIT PROLOG BOOT RUNNING MIGRATE SAVE_STOP SAVE_SUSPEND SAVE_MIGRATE PROLOG_MIGRATE "
              "PROLOG_RESUME EPILOG_STOP EPILOG SHUTDOWN CANCEL FAILURE CLEANUP_RESUBMIT UNKNOWN HOTPLUG "
              "SHUTDOWN_POWEROFF BOOT_UNKNOWN BOOT_POWEROFF BOOT_SUSPENDED BOOT_STOPPED CLEANUP_DELETE "
              "HOTPLUG_SNAPSHOT HOTPLUG_NIC HOTPLUG_SAVEAS HOTPLUG_SAVEAS_POWEROFF HOTPLUG_SAVEAS_SUSPENDED "
              "SHUTDOWN_UNDEPLOY EPILOG_UNDEPLOY PROLOG_UNDEPLOY BOOT_UNDEPLOY HOTPLUG_PROLOG_POWEROFF "
              "HOTPLUG_EPILOG_POWEROFF BOOT_MIGRATE BOOT_FAILURE BOOT_MIGRATE_FAILURE PROLOG_MIGRATE_FAILURE "
              "PROLOG_FAILURE EPILOG_FAILURE").split()
S = {name: n for n, name in enumerate(VM_STATES)}
L = {name: n for n, name in enumerate(LCM_STATES)}
#: Attributes oned moves from the user's template to TEMPLATE (VirtualMachine::insert); the rest stay.
TEMPLATE_ATTRS = frozenset("CPU VCPU MEMORY MEMORY_MAX VCPU_MAX CPU_COST MEMORY_COST DISK_COST DISK NIC NIC_ALIAS "
                           "CONTEXT OS GRAPHICS FEATURES INPUT RAW CPU_MODEL TOPOLOGY NUMA_NODE PCI VMGROUP "
                           "EMULATOR SPICE_OPTIONS NIC_DEFAULT".split())
#: What VirtualMachineTemplate::to_xml_short keeps of USER_TEMPLATE (vmpool.info).
SHORT_USER = ("LABELS", "ERROR", "SCHED_MESSAGE", "SCHED_RANK", "SCHED_DS_RANK", "SCHED_REQUIREMENTS",
              "SCHED_DS_REQUIREMENTS", "USER_PRIORITY", "PUBLIC_CLOUD")


class OneError(Exception):
    """What oned answers [False, message, code] with."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Vm:
    id: int
    uid: int
    uname: str
    gid: int
    gname: str
    name: str
    template: dict
    user_template: dict
    state: int = S["PENDING"]
    lcm: int = 0
    prev: tuple[int, int] = (0, 0)
    stime: int = field(default_factory=lambda: int(time.time()))
    etime: int = 0
    #: Transitions still to come: (due on the monotonic clock, state, lcm state, error message).
    plan: list = field(default_factory=list)


def parse_template(text: str) -> dict:
    """An OpenNebula template, in the text form or as XML, as {NAME: value | {KEY: value} | [...]}."""
    attrs: dict = {}

    def add(name: str, value) -> None:
        name = name.upper() if name[:1].isalpha() else "ONE_" + name.upper()
        if name in attrs:
            old = attrs[name]
            attrs[name] = (old if isinstance(old, list) else [old]) + [value]
        else:
            attrs[name] = value
    if text.lstrip().startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise OneError(INTERNAL, f"Parse error: {exc}") from None
        for child in root:
            add(child.tag, {c.tag.upper(): c.text or "" for c in child} if len(child) else child.text or "")
        return attrs
    text = re.sub(r"(?m)^[ \t]*#.*$", "", text)           # comment lines, as template_parser.l
    token = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(=|\[|\]|,)|([^=#\s,\[\]]+))', re.S)
    pos, tokens, end = 0, [], len(text.rstrip())
    while pos < end:
        match = token.match(text, pos)
        if not match or match.end() == pos:
            raise OneError(INTERNAL, f"Parse error: syntax error at offset {pos}")
        quoted, punct, bare = match.groups()
        tokens.append(("p", punct) if punct else ("v", bare) if bare is not None else ("q", quoted.replace('\\"', '"')))
        pos = match.end()
    items = iter(tokens + [("p", "$end")])

    def expect(*kinds: str, value: str | None = None) -> str:
        got = next(items)
        if got[0] not in kinds or (value is not None and got[1] != value) or \
                (kinds == ("v",) and not re.fullmatch(r"\w+", got[1])):
            raise OneError(INTERNAL, f"Parse error: syntax error, unexpected {got[1]!r}")
        return got[1]
    for got in items:
        if got == ("p", "$end"):
            break
        if got[0] != "v" or not re.fullmatch(r"\w+", got[1]):
            raise OneError(INTERNAL, f"Parse error: syntax error, unexpected {got[1]!r}")
        expect("p", value="=")
        value = next(items)
        if value == ("p", "["):
            vector, sep = {}, ","
            while sep == ",":
                key = expect("v")
                expect("p", value="=")
                vector[key.upper()] = expect("v", "q")
                sep = next(items)[1]
            if sep != "]":
                raise OneError(INTERNAL, "Parse error: syntax error, unterminated vector attribute")
            add(got[1], vector)
        elif value[0] in ("v", "q"):
            add(got[1], value[1])
        else:
            raise OneError(INTERNAL, f"Parse error: syntax error, unexpected {value[1]!r}")
    return attrs


def cdata(value) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def attrs_xml(attrs: dict, root: str) -> str:
    """A template as oned writes it: one element per attribute, values in CDATA."""
    out = []
    for name, value in attrs.items():
        for item in value if isinstance(value, list) else [value]:
            inner = "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in item.items()) if isinstance(item, dict) \
                else cdata(item)
            out.append(f"<{name}>{inner}</{name}>")
    return f"<{root}>{''.join(out)}</{root}>" if out else f"<{root}/>"


def vectors(attrs: dict, name: str) -> list[dict]:
    value = attrs.get(name) or []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]


def vm_xml(vm: Vm, *, short: bool = False) -> str:
    """A VM as oned's to_xml_extended (``one.vm.info``) or to_xml_short (``one.vmpool.info``)."""
    head = (f"<VM><ID>{vm.id}</ID><UID>{vm.uid}</UID><GID>{vm.gid}</GID><UNAME>{vm.uname}</UNAME>"
            f"<GNAME>{vm.gname}</GNAME><NAME>{escape(vm.name)}</NAME>")
    states = f"<STATE>{vm.state}</STATE><LCM_STATE>{vm.lcm}</LCM_STATE>"
    times = (f"<RESCHED>0</RESCHED><STIME>{vm.stime}</STIME><ETIME>{vm.etime}</ETIME><DEPLOY_ID>"
             f"{'one-%d' % vm.id if vm.state == S['ACTIVE'] else ''}</DEPLOY_ID>")
    if short:
        template = {k: vm.template[k] for k in ("CPU", "MEMORY", "DISK", "NIC", "GRAPHICS") if k in vm.template}
        user = {k: vm.user_template[k] for k in SHORT_USER if k in vm.user_template}
        return (head + "<LAST_POLL>0</LAST_POLL>" + states + times + attrs_xml(template, "TEMPLATE")
                + "<MONITORING/>" + attrs_xml(user, "USER_TEMPLATE") + "<HISTORY_RECORDS/></VM>")
    return (head + _PERMISSIONS + "<LAST_POLL>0</LAST_POLL>" + states
            + f"<PREV_STATE>{vm.prev[0]}</PREV_STATE><PREV_LCM_STATE>{vm.prev[1]}</PREV_LCM_STATE>" + times
            + "<MONITORING/>" + attrs_xml(vm.template, "TEMPLATE")
            + attrs_xml(vm.user_template, "USER_TEMPLATE") + "<HISTORY_RECORDS/></VM>")


def image_xml(image: dict) -> str:
    return (f"<IMAGE><ID>{image['ID']}</ID><UID>{image['UID']}</UID><GID>0</GID><UNAME>{image['UNAME']}</UNAME>"
            f"<GNAME>oneadmin</GNAME><NAME>{escape(image['NAME'])}</NAME>{_PERMISSIONS}<TYPE>{image['TYPE']}</TYPE>"
            f"<DISK_TYPE>0</DISK_TYPE><PERSISTENT>0</PERSISTENT><REGTIME>0</REGTIME><SOURCE/><PATH/><FS/>"
            f"<SIZE>{image['SIZE']}</SIZE><STATE>{image['STATE']}</STATE><PREV_STATE>0</PREV_STATE>"
            f"<RUNNING_VMS>0</RUNNING_VMS><DATASTORE_ID>1</DATASTORE_ID><DATASTORE>default</DATASTORE><VMS/><CLONES/>"
            f"<APP_CLONES/><TEMPLATE><DEV_PREFIX>{cdata('vd')}</DEV_PREFIX></TEMPLATE><SNAPSHOTS/></IMAGE>")


def vmtemplate_xml(template_id: int, name: str, attrs: dict) -> str:
    return (f"<VMTEMPLATE><ID>{template_id}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>"
            f"<NAME>{escape(name)}</NAME>{_PERMISSIONS}<REGTIME>0</REGTIME>" + attrs_xml(attrs, "TEMPLATE")
            + "</VMTEMPLATE>")


def cluster_xml(cluster_id: int, name: str) -> str:
    return (f"<CLUSTER><ID>{cluster_id}</ID><NAME>{escape(name)}</NAME><HOSTS><ID>{cluster_id}</ID></HOSTS>"
            "<DATASTORES><ID>0</ID><ID>1</ID></DATASTORES><VNETS/><TEMPLATE/></CLUSTER>")


_PERMISSIONS = ("<PERMISSIONS><OWNER_U>1</OWNER_U><OWNER_M>1</OWNER_M><OWNER_A>0</OWNER_A><GROUP_U>0</GROUP_U>"
                "<GROUP_M>0</GROUP_M><GROUP_A>0</GROUP_A><OTHER_U>0</OTHER_U><OTHER_M>0</OTHER_M>"
                "<OTHER_A>0</OTHER_A></PERMISSIONS>")
