"""The opennebula provider against the XML-RPC test double (tests/doubles/opennebula.py): real
HTTP and XML-RPC on 127.0.0.1, pyone on the client side. Every test starts its own double and
stops it; every wait is bounded by the driver's timeouts, set small here."""
from __future__ import annotations

import json
import logging
import socket
import time
import xmlrpc.client

import pyone
import pytest

from broker.providers import InstanceNotFound, NodeSpec, ProviderRefused, ProviderUnavailable
from broker.providers.base import CONTRACT_TAG
from broker.providers.opennebula import OpenNebulaDriver, node_state
from tests.broker.providers.contract import DriverContract
from tests.doubles.opennebula import (ACTION, ALLOCATE, AUTHENTICATION, AUTHORIZATION, INTERNAL, LOCKED, NO_EXISTS,
                                      RPC_API, S, start_opennebula)

USER, PASSWORD = "accords", "accords-one-password-7"
SESSION = f"{USER}:{PASSWORD}"
TOKEN = "node-agent-token-0123456789"


@pytest.fixture
def one():
    with start_opennebula(users={USER: PASSWORD, "someone": "someone-else-password"}, step=0.02, lag=0.01) as double:
        yield double


@pytest.fixture
def make_driver(one):
    """Drivers on the double with small timeouts; closed at the end of the test."""
    made = []

    def make(one, **overrides) -> OpenNebulaDriver:
        config = {"endpoint": one.endpoint, "username": USER, "password": PASSWORD, "image": "debian-12",
                  "ready_timeout": 5, "soft_stop_timeout": 2, "poll_interval": 0.05, "connect_timeout": 2,
                  "read_timeout": 5, **overrides}
        made.append(OpenNebulaDriver(**config))
        return made[-1]
    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def driver(one, make_driver):
    driver = make_driver(one)
    yield driver
    one.missing.clear()
    one.delay = 0
    for instance in driver.list():
        driver.delete(instance.id)


def vm_calls(one, method: str) -> list[tuple]:
    return [params for name, params in one.calls if name == method]


class TestOpenNebulaDriver(DriverContract):
    pass


# -- what the driver asks of OpenNebula ------------------------------------------------------------
def test_one_allocate_carries_the_shape_image_cluster_context_and_every_tag(one, make_driver):
    driver = make_driver(one, network="public", template={"GRAPHICS": {"TYPE": "VNC", "LISTEN": "0.0.0.0"}})
    spec = NodeSpec(name="db <primary> & co", contract="c-42", cores=2, memory_mb=4096, disk_gb=10,
                    image="ubuntu-24.04", zone="edge", tags={"accords-role": "db", "odd key": 'quote " and ]]>'},
                    agent_token=TOKEN)
    node = driver.create(spec)
    vm = one.vms[int(node.id)]
    assert (vm.template["CPU"], vm.template["VCPU"], vm.template["MEMORY"]) == ("2.0", "2", "4096")
    assert vm.template["DISK"]["IMAGE_ID"] == "1" and vm.template["DISK"]["SIZE"] == "10240"
    context = vm.template["CONTEXT"]
    assert context["ACCORDS_AGENT_TOKEN"] == TOKEN and context["ACCORDS_AGENT_PORT"] == "8286"
    assert vm.template["GRAPHICS"] == {"TYPE": "VNC", "LISTEN": "0.0.0.0"} and vm.template["NIC"]["NETWORK"] == "public"
    assert vm.user_template["SCHED_REQUIREMENTS"] == "CLUSTER_ID = 100"
    assert json.loads(vm.user_template["ACCORDS_TAGS"]) == spec.all_tags()
    assert vm.user_template["ACCORDS_CONTRACT"] == "c-42" and vm.name == spec.name
    # tagged from the first instant: in the allocate call itself, never by a later update
    assert '"odd key"' in vm_calls(one, "one.vm.allocate")[0][0] and not vm_calls(one, "one.vm.update")
    assert len(vm_calls(one, "one.vm.info")) >= 2                 # polled until RUNNING (PENDING, PROLOG, BOOT)
    assert node.state == "running" and node.name == spec.name and node.tags == spec.all_tags()
    assert node.addresses == [vm.template["NIC"]["IP"]] and node.agent_url == f"http://{node.addresses[0]}:8286"
    assert node.extra["one_state"] == "ACTIVE/RUNNING" and TOKEN not in repr(node)
    assert driver.delete(node.id) is True and one.vms[int(node.id)].state in (S["ACTIVE"], S["DONE"])


def test_list_reads_infoextended_because_the_short_pool_body_has_no_user_attributes(driver, one):
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    raw = xmlrpc.client.ServerProxy(one.endpoint)
    short = raw.one.vmpool.info(SESSION, -3, -1, -1, -1)[1]
    assert "ACCORDS_TAGS" not in short and f"<ID>{node.id}</ID>" in short
    assert [i.id for i in driver.list(tags={CONTRACT_TAG: "c-1"})] == [node.id]
    assert vm_calls(one, "one.vmpool.infoextended")[-1] == (-3, -1, -1, -1)


def test_untagged_and_other_users_vms_are_not_listed(driver, one):
    raw = xmlrpc.client.ServerProxy(one.endpoint)
    assert raw.one.vm.allocate(SESSION, 'NAME="by-hand"\nCPU="1"\nMEMORY="128"', False)[0] is True
    theirs = raw.one.vm.allocate("someone:someone-else-password", 'CPU=1\nMEMORY=128\nACCORDS_TAGS="{}"', False)
    assert theirs[0] is True and driver.list() == []
    with pytest.raises(ProviderRefused) as refused:                 # 0x0200: not ours to look at
        driver.get(str(theirs[1]))
    assert refused.value.code == AUTHORIZATION and "Not authorized" in str(refused.value)


def test_stop_powers_off_and_start_resumes(driver, one):
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    assert driver.stop(node.id).state == "stopped" and one.vms[int(node.id)].state == S["POWEROFF"]
    assert driver.stop(node.id).state == "stopped"                  # stopping a stopped node: a no-op
    assert driver.start(node.id).extra["one_state"] == "ACTIVE/RUNNING"
    actions = [params[0] for params in vm_calls(one, "one.vm.action")]
    assert actions == ["poweroff", "resume"]


def test_a_guest_that_ignores_acpi_is_powered_off_hard(one, make_driver):
    driver = make_driver(one, soft_stop_timeout=0.3)
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    one.acpi = False
    assert driver.stop(node.id).state == "stopped"
    assert [p[0] for p in vm_calls(one, "one.vm.action")] == ["poweroff", "poweroff-hard"]
    driver.delete(node.id)


def test_snapshot_saves_the_disk_as_an_image_the_driver_can_boot(driver, one):
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    image_id = driver.snapshot(node.id, name="web-backup")
    assert vm_calls(one, "one.vm.disksaveas") == [(int(node.id), 0, "web-backup", "", -1)]
    assert "web-backup" in driver.images()
    again = driver.create(NodeSpec(name="web-2", contract="c-1", image=image_id))
    assert again.extra["image_id"] == image_id
    with pytest.raises(ProviderRefused) as taken:                   # names are unique per owner
        driver.snapshot(node.id, name="web-backup")
    assert taken.value.code == ALLOCATE


def test_sizes_images_and_zones_come_from_templates_images_and_clusters(driver, one, make_driver):
    assert [(s.name, s.cores, s.memory_mb) for s in driver.sizes()] == [("small", 1, 1024), ("medium", 2, 4096),
                                                                      ("large", 4, 8192)]
    assert driver.images() == ["debian-12", "ubuntu-24.04"] and driver.zones() == ["default", "edge"]
    fixed = make_driver(one, sizes={"tiny": (1, 256)})
    assert [s.name for s in fixed.sizes()] == ["tiny"]


# -- failures: nothing left behind, the right error ---------------------------------------------
@pytest.mark.parametrize("lcm", ["BOOT_FAILURE", "PROLOG_FAILURE"])
def test_a_vm_that_fails_to_boot_is_terminated_before_the_error(driver, one, lcm):
    one.boot_failure(lcm=lcm, error="Error executing deploy action: no space left on device")
    with pytest.raises(ProviderRefused) as refused:
        driver.create(NodeSpec(name="web", contract="c-1", agent_token=TOKEN))
    assert lcm in str(refused.value) and "no space left" in str(refused.value)
    assert driver.list() == []
    (vm,) = one.vms.values()
    deadline = time.monotonic() + 5
    while one.vms[vm.id].state != S["DONE"] and time.monotonic() < deadline:
        raw = xmlrpc.client.ServerProxy(one.endpoint)
        raw.one.vm.info(SESSION, vm.id)
        time.sleep(0.02)
    assert one.vms[vm.id].state == S["DONE"]


def test_no_capacity_is_unavailable_with_the_scheduler_message_and_the_vm_is_gone(one, make_driver):
    driver = make_driver(one, ready_timeout=0.3)
    one.no_capacity = True
    with pytest.raises(ProviderUnavailable) as unavailable:
        driver.create(NodeSpec(name="web", contract="c-1"))
    assert "Cannot dispatch VM" in str(unavailable.value) and "PENDING" in str(unavailable.value)
    assert [vm.state for vm in one.vms.values()] == [S["DONE"]]     # terminated in PENDING: freed at once


def test_an_unknown_cluster_or_image_is_refused_before_anything_is_allocated(driver, one):
    for spec, words in ((NodeSpec(name="a", contract="c", zone="moon"), "no cluster 'moon'; clusters: default, edge"),
                        (NodeSpec(name="a", contract="c", image="windows"), "image 'windows' of a does not exist")):
        with pytest.raises(ProviderRefused, match=words):
            driver.create(spec)
    assert vm_calls(one, "one.vm.allocate") == [] and one.vms == {}


def test_a_deploy_stuck_in_boot_is_deleted_with_recover_when_the_user_may(one, make_driver):
    one.users[USER] = (PASSWORD, 5, 0, "oneadmin")                   # a member of oneadmin: recover allowed
    one.stuck_in = "BOOT"
    driver = make_driver(one, ready_timeout=0.4)
    with pytest.raises(ProviderUnavailable, match="not running after 0.4 s"):
        driver.create(NodeSpec(name="web", contract="c-1"))
    assert vm_calls(one, "one.vm.recover") == [(0, 3)] and driver.list() == []


def test_a_stuck_deploy_the_user_may_not_recover_is_left_tagged_and_logged(one, caplog, make_driver):
    one.stuck_in = "BOOT"
    driver = make_driver(one, ready_timeout=0.3)
    with caplog.at_level(logging.WARNING), pytest.raises(ProviderUnavailable):
        driver.create(NodeSpec(name="web", contract="c-1"))
    assert "reconciliation will find it" in caplog.text
    assert [i.state for i in driver.list(tags={CONTRACT_TAG: "c-1"})] == ["pending"]


def test_deleting_a_booting_vm_waits_until_oned_accepts_terminate(driver, one):
    one.step = 0.1
    rpc = xmlrpc.client.ServerProxy(one.endpoint).one
    vm_id = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="64"\nACCORDS_TAGS="{\\"accords-contract\\": \\"c-9\\"}"', False)[1]
    deadline = time.monotonic() + 5
    while one.vms[vm_id].lcm == 0 and time.monotonic() < deadline:      # wait for PROLOG (via info: lazy clock)
        rpc.vm.info(SESSION, vm_id)
        time.sleep(0.01)
    assert [i.state for i in driver.list(tags={CONTRACT_TAG: "c-9"})] == ["pending"]
    assert driver.delete(str(vm_id)) is True
    actions = [p[0] for p in vm_calls(one, "one.vm.action")]
    assert actions == ["terminate-hard", "terminate-hard"] and vm_calls(one, "one.vm.recover") == [(vm_id, 3)]
    assert driver.list() == []


@pytest.mark.parametrize("code, words, error", [
    (AUTHORIZATION, "User [2] : user [2] limit of 0 reached for VMS quota in VM.", ProviderRefused),
    (ALLOCATE, "Error allocating a new virtual machine template. MEMORY attribute must be ...", ProviderRefused),
    (INTERNAL, "Parse error: syntax error, unexpected $end", ProviderRefused),
    (LOCKED, "VM is locked", ProviderUnavailable)])
def test_a_refused_allocate_leaves_nothing_and_keeps_opennebula_words(driver, one, code, words, error):
    one.fail_next("one.vm.allocate", code, words)
    with pytest.raises(error) as failed:
        driver.create(NodeSpec(name="web", contract="c-1", agent_token=TOKEN))
    assert failed.value.code == code and words in str(failed.value) and "could not create web" in str(failed.value)
    assert one.vms == {} and driver.list() == []


@pytest.mark.parametrize("code, error", [(NO_EXISTS, InstanceNotFound), (LOCKED, ProviderUnavailable),
                                         (INTERNAL, ProviderUnavailable), (ACTION, ProviderRefused),
                                         (RPC_API, ProviderRefused), (AUTHENTICATION, ProviderRefused)])
def test_codes_on_a_vm_call_map_to_the_error_tree(driver, one, code, error):
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    one.fail_next("one.vm.info", code, "what oned said")
    with pytest.raises(error) as failed:
        driver.get(node.id)
    assert failed.value.instance == node.id and failed.value.provider == "opennebula"
    assert "what oned said" in str(failed.value) and PASSWORD not in str(failed.value)


def test_wrong_credentials_are_refused_without_showing_them(one, caplog, make_driver):
    driver = make_driver(one, password="not-the-password-123")
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as refused:
        driver.list()
    assert refused.value.code == AUTHENTICATION and "couldn't be authenticated" in str(refused.value)
    for text in (str(refused.value), repr(refused.value), repr(driver), caplog.text):
        assert "not-the-password-123" not in text


def test_unknown_ids_and_deleted_vms_are_not_found(driver, one):
    for bad in ("no-such-node", "-1", "12345"):
        with pytest.raises(InstanceNotFound):
            driver.get(bad)
        assert driver.delete(bad) is False
    node = driver.create(NodeSpec(name="web", contract="c-1"))
    assert driver.delete(node.id) is True
    for action in (driver.get, driver.stop, driver.start, driver.reboot):
        with pytest.raises(InstanceNotFound):
            action(node.id)


def test_an_endpoint_that_refuses_connections_is_unavailable(one, make_driver):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                 # bound, not listening: connections are refused
        driver = make_driver(one, endpoint=f"http://127.0.0.1:{port}/RPC2")
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="cannot reach it"):
            driver.list()
    assert time.monotonic() - started < 5


def test_an_endpoint_that_answers_too_late_is_unavailable_within_the_read_timeout(one, make_driver):
    driver = make_driver(one, read_timeout=0.3)
    one.delay = 1.0
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="no answer in time"):
        driver.zones()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("status, error", [(503, ProviderUnavailable), (502, ProviderUnavailable),
                                           (403, ProviderRefused)])
def test_a_proxy_page_instead_of_xml_rpc(driver, one, status, error):
    one.http_errors.append(status)
    with pytest.raises(error, match=f"HTTP {status}"):
        driver.zones()


def test_an_oned_without_a_method_is_refused_with_the_fault(driver, one):
    one.missing.add("one.vmpool.infoextended")
    with pytest.raises(ProviderRefused, match="XML-RPC fault -506: Method 'one.vmpool.infoextended' not defined"):
        driver.list()


def test_the_agent_token_and_password_are_in_no_log_line_or_message(one, caplog, make_driver):
    driver = make_driver(one)
    one.fail_next("one.vm.allocate", INTERNAL, f'Parse error near ACCORDS_AGENT_TOKEN="{TOKEN}"')
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ProviderRefused) as refused:
            driver.create(NodeSpec(name="web", contract="c-1", agent_token=TOKEN))
        node = driver.create(NodeSpec(name="web", contract="c-1", agent_token=TOKEN))
        driver.delete(node.id)
    assert TOKEN not in str(refused.value) and "***" in str(refused.value)
    assert TOKEN not in caplog.text and PASSWORD not in caplog.text


def test_node_states_follow_opennebula_states():
    V, L = pyone.VM_STATE, pyone.LCM_STATE
    cases = {(V.PENDING, 0): "pending", (V.ACTIVE, L.PROLOG): "pending", (V.ACTIVE, L.RUNNING): "running",
             (V.ACTIVE, L.SHUTDOWN_POWEROFF): "stopped", (V.POWEROFF, 0): "stopped", (V.SUSPENDED, 0): "stopped",
             (V.ACTIVE, L.EPILOG): "terminated", (V.DONE, 0): "terminated", (V.ACTIVE, L.BOOT_FAILURE): "error",
             (V.ACTIVE, L.UNKNOWN): "error", (V.ACTIVE, L.HOTPLUG_SAVEAS): "running", (V.FAILED, 0): "error"}
    assert {key: node_state(*key) for key in cases} == cases


# -- the double's own faithfulness to oned (CLOUD-EMULATORS.md §3) -------------------------------------
@pytest.fixture
def rpc(one):
    """oned's methods without pyone: the raw [success, result, code] arrays."""
    proxy = xmlrpc.client.ServerProxy(one.endpoint)
    yield proxy.one
    proxy("close")()


def states_seen(rpc, vm_id: int, until: tuple[int, int], timeout: float = 5.0) -> list[tuple[int, int]]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = rpc.vm.info(SESSION, vm_id)[1]
        state = (int(body.split("<STATE>")[1].split("<")[0]), int(body.split("<LCM_STATE>")[1].split("<")[0]))
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == until:
            break
        time.sleep(0.005)
    return seen


def test_double_replies_are_success_result_code_arrays(rpc):
    assert rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="128"', False) == [True, 0, 0]
    assert rpc.vm.info(SESSION, 7) == [False, "[one.vm.info] Error getting virtual machine [7].", NO_EXISTS]
    assert rpc.vm.info(f"{USER}:wrong", 0) == [False, "[one.vm.info] User couldn't be authenticated, aborting call.",
                                               AUTHENTICATION]
    assert rpc.vm.info("someone:someone-else-password", 0)[2] == AUTHORIZATION
    assert rpc.vm.info(SESSION, 0)[1].startswith("<VM><ID>0</ID><UID>2</UID>")
    with pytest.raises(xmlrpc.client.Fault, match="-506"):
        rpc.vm.nothing(SESSION)
    with pytest.raises(xmlrpc.client.Fault, match="-501"):        # xmlrpc-c checks types: ids are ints
        rpc.vm.info(SESSION, "0")


def test_double_vms_go_pending_prolog_boot_running_and_terminate_through_shutdown_epilog(rpc, one):
    one.step, one.lag = 0.1, 0.05                   # wide enough for a poll every 5 ms to see each state
    vm_id = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="128"', False)[1]
    assert states_seen(rpc, vm_id, (3, 3)) == [(1, 0), (3, 1), (3, 2), (3, 3)]
    assert rpc.vm.action(SESSION, "reboot", vm_id) == [True, vm_id, 0]
    assert rpc.vm.action(SESSION, "terminate-hard", vm_id) == [True, vm_id, 0]
    assert states_seen(rpc, vm_id, (6, 0)) == [(3, 3), (3, 12), (3, 11), (6, 0)]   # queued, SHUTDOWN, EPILOG, DONE
    assert rpc.vm.action(SESSION, "terminate-hard", vm_id) == [True, vm_id, 0]     # DONE: nothing to do
    assert rpc.vm.info(SESSION, vm_id)[0] is True                                  # DONE VMs stay readable


def test_double_actions_follow_oned_state_rules(rpc, one):
    one.step = 0.1
    vm_id = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="128"', True)[1]            # on hold
    assert rpc.vm.action(SESSION, "poweroff", vm_id) == [
        False, '[one.vm.action] Error performing action "poweroff": This action is not available for state HOLD',
        ACTION]
    assert rpc.vm.action(SESSION, "fly", vm_id)[2] == ACTION
    one.stuck_in = "BOOT"                                                         # a deploy that hangs
    assert rpc.vm.action(SESSION, "release", vm_id)[0] is True
    assert states_seen(rpc, vm_id, (3, 2))[-1] == (3, 2)
    refused = rpc.vm.action(SESSION, "terminate-hard", vm_id)
    assert refused[0] is False and refused[2] == ACTION and "Could not terminate VM" in refused[1]
    one.stuck_in = None
    vm_id = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="128"', False)[1]
    states_seen(rpc, vm_id, (3, 3))
    rpc.vm.action(SESSION, "poweroff", vm_id)
    assert states_seen(rpc, vm_id, (8, 0))[-2:] == [(3, 18), (8, 0)]              # SHUTDOWN_POWEROFF, POWEROFF
    rpc.vm.action(SESSION, "resume", vm_id)
    assert states_seen(rpc, vm_id, (3, 3))[-2:] == [(3, 20), (3, 3)]              # BOOT_POWEROFF, RUNNING
    pending = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="128"', False)[1]
    rpc.vm.action(SESSION, "terminate", pending)
    assert one.vms[pending].state == S["DONE"]                                    # freed in the request itself


def test_double_takes_text_and_xml_templates_and_keeps_unknown_attributes_for_the_user(one):
    client = pyone.OneServer(one.endpoint, session=SESSION)
    text = ('# a comment\nname = "text vm"\ncpu = 0.5\nMemory=256\ndisk=[ image_id = "0", size="4096" ]\n'
            'label="a \\"b\\""\n')
    vm = client.vm.info(client.vm.allocate(text, False))
    assert (vm.NAME, vm.TEMPLATE["CPU"], vm.TEMPLATE["MEMORY"]) == ("text vm", "0.5", "256")
    assert vm.TEMPLATE["DISK"]["IMAGE"] == "debian-12" and vm.TEMPLATE["DISK"]["SIZE"] == "4096"
    assert dict(vm.USER_TEMPLATE) == {"LABEL": 'a "b"'}
    # pyone's cast2one sends a dict as XML with CDATA values (it breaks on "]]>": the driver escapes instead)
    vm = client.vm.info(client.vm.allocate({"TEMPLATE": {"NAME": "xml", "CPU": "1", "MEMORY": "64", "Foo": "<b>&"}},
                                           False))
    assert vm.NAME == "xml" and dict(vm.USER_TEMPLATE) == {"FOO": "<b>&"}
    for template, code, words in (('CPU="1"', ALLOCATE, "MEMORY attribute must be a positive integer value."),
                                  ('CPU="0"\nMEMORY="1"', ALLOCATE, "CPU attribute must be a positive float"),
                                  ('CPU="1"\nMEMORY="1"\nVCPU="two"', ALLOCATE, "VCPU attribute must be"),
                                  ('CPU=[1', INTERNAL, "Parse error"),
                                  ('CPU="1"\nMEMORY="1"\nDISK=[IMAGE_ID="9"]', ALLOCATE, "Error getting image [9]")):
        reply = xmlrpc.client.ServerProxy(one.endpoint).one.vm.allocate(SESSION, template, False)
        assert reply[0] is False and reply[2] == code and words in reply[1], reply


def test_double_pool_filters_states_ranges_and_owners(rpc, one):
    ids = [rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="64"', False)[1] for _ in range(3)]
    rpc.vm.action(SESSION, "terminate", ids[0])                                   # DONE at once (PENDING)
    rpc.vm.allocate("someone:someone-else-password", 'CPU="1"\nMEMORY="64"', False)

    def listed(*args, session=SESSION) -> list[int]:
        body = rpc.vmpool.infoextended(session, *args)[1]
        return [int(part.split("</ID>")[0]) for part in body.split("<VM><ID>")[1:]]
    assert listed(-3, -1, -1, -1) == ids[1:] and listed(-3, -1, -1, -2) == ids
    assert listed(-3, -1, -1, 6) == ids[:1] and listed(-3, 2, 2, -2) == [2]
    assert listed(-2, -1, -1, -1, session="oneadmin:oneadmin-double-pass") == ids[1:] + [3]
    assert rpc.vmpool.info(SESSION, -3, -1, -1, 42) == [False, "[one.vmpool.info] Incorrect state filter 42", RPC_API]


def test_double_update_replaces_or_merges_the_user_template(rpc, one):
    vm_id = rpc.vm.allocate(SESSION, 'CPU="1"\nMEMORY="64"\nA="1"\nB="2"', False)[1]
    assert rpc.vm.update(SESSION, vm_id, 'B="3"\nC="4"', 1) == [True, vm_id, 0]
    assert one.vms[vm_id].user_template == {"A": "1", "B": "3", "C": "4"}
    rpc.vm.update(SESSION, vm_id, 'D="5"', 0)
    assert one.vms[vm_id].user_template == {"D": "5"}
    assert rpc.vm.update(SESSION, vm_id, 'D="6"', 2) == [False, "[one.vm.update] Wrong update type", RPC_API]
