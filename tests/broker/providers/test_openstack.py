"""The openstack provider over real HTTP: against mimic's Nova, authenticated by mimic's Keystone v2 and by
the real Keystone v3 (tests/emulators_openstack.py), with mimic's failure injection for the errors, and
against small local servers for what no emulator does (silence, refused connections, 503s)."""
from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v2 as ks_v2

from broker.providers import InstanceNotFound, NodeSpec, ProviderRefused, ProviderUnavailable
from broker.providers.base import CONTRACT_TAG
from broker.providers.openstack import CREATE_KEY, TOKEN_PATH, OpenStackDriver
from tests.broker.providers.contract import DriverContract
from tests.emulators import free_port
from tests.emulators_openstack import (PASSWORD, TEST_IMAGE, WINDOWS_IMAGE, ZONES, Cloud,  # noqa: F401 - fixtures
                                       keystone_server, mimic_server)

AGENT_TOKEN = "agent-token-Very-Secret-9931"
# openstacksdk warns about its own internals and about Nova's image API (a proxy to Glance: the
# one mimic's Nova offers, and still served by every Nova without a microversion).
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]


@pytest.fixture(params=["v2", "v3"])
def cloud(request, mimic_server) -> Cloud:
    """A fresh tenant, reached through Keystone v2 (mimic's) or v3 (the real Keystone)."""
    if request.param == "v2":
        return Cloud.v2(mimic_server)
    return Cloud.v3(mimic_server, request.getfixturevalue("keystone_server"))


@pytest.fixture
def driver(cloud):
    openstack = OpenStackDriver(**cloud.driver_config())
    yield openstack
    openstack.close()


def _raw(cloud: Cloud, server_id: str) -> dict:
    return next(s for s in cloud.servers() if s["id"] == server_id)


@pytest.mark.emulator
class TestOpenStackDriver(DriverContract):
    pass


@pytest.fixture
def v2(mimic_server) -> Cloud:
    """A fresh tenant through Keystone v2, for what does not depend on the identity version."""
    return Cloud.v2(mimic_server)


@pytest.fixture
def v2_driver(v2):
    openstack = OpenStackDriver(**v2.driver_config())
    yield openstack
    openstack.close()


@pytest.mark.emulator
def test_the_server_in_mimic_has_every_tag_the_smallest_flavor_and_the_image(cloud, driver):
    spec = NodeSpec(name="db", contract="contract-db", cores=2, memory_mb=4096, disk_gb=100, zone="az-2",
                    tags={"accords-service": "shop"})
    node = driver.create(spec)
    raw = _raw(cloud, node.id)
    assert raw["name"] == "db" and raw["status"] == "ACTIVE" and raw["image"]["id"] == cloud.image_id()
    assert raw["flavor"]["id"] == "5" == node.extra["flavor"]                  # 4GB Standard: 2 cores, 160 GB
    assert raw["metadata"] == {CONTRACT_TAG: "contract-db", "accords-service": "shop",
                               CREATE_KEY: node.extra["create_id"]}
    assert node.tags == {CONTRACT_TAG: "contract-db", "accords-service": "shop"}
    public, private = raw["addresses"]["public"], raw["addresses"]["private"]
    assert node.addresses == [public[0]["addr"], private[0]["addr"], public[1]["addr"]]     # IPv6 last
    assert driver.delete(node.id) is True and cloud.servers() == []


@pytest.mark.emulator
def test_configured_metadata_reaches_every_server_and_the_tags_win(v2):
    labelled = OpenStackDriver(**v2.driver_config(metadata={"cost-center": "radiology", CONTRACT_TAG: "forged"}))
    node = labelled.create(NodeSpec(name="db", contract="contract-db"))
    assert _raw(v2, node.id)["metadata"] == {"cost-center": "radiology", CONTRACT_TAG: "contract-db",
                                             CREATE_KEY: node.extra["create_id"]}
    assert labelled.list(tags={CONTRACT_TAG: "contract-db"})[0].id == node.id
    # mimic's failure switches travel the same way: every server of this driver goes to ERROR.
    failing = OpenStackDriver(**v2.driver_config(metadata={"server_error": "1"}))
    with pytest.raises(ProviderRefused, match=r"went to ERROR instead of ACTIVE"):
        failing.create(NodeSpec(name="web", contract="contract-web"))
    assert [s["id"] for s in v2.servers()] == [node.id]
    labelled.close()
    failing.close()


@pytest.mark.emulator
def test_flavors_are_chosen_smallest_first_within_the_patterns(v2, v2_driver):
    choose = v2_driver.choose_size
    assert choose(None, None).name == "512MB Standard Instance"
    assert choose(1, 512, 1).name == "512MB Standard Instance"
    assert choose(2, 3840).name == "3.75 GB Compute v1"                 # a 0 GB disk fits no disk asked for ...
    assert choose(2, 3840, 10).name == "4GB Standard Instance"         # ... so it is skipped here
    assert choose(4, 4096).name == "4 GB Performance"                  # ties on memory and cores: least disk
    assert choose(4, 4096, 60).name == "4 GB General Purpose v1"
    with pytest.raises(ProviderRefused, match=r"no openstack flavor has 64 vCPUs, 0 MiB and 0 GB; the largest is"):
        choose(64, None)
    general = OpenStackDriver(**v2.driver_config(flavors=["general1-*"]))
    assert [s.name for s in general.sizes()] == ["1 GB General Purpose v1", "2 GB General Purpose v1",
                                                 "4 GB General Purpose v1", "8 GB General Purpose v1"]
    assert general.choose_size(2, None).name == "2 GB General Purpose v1"
    with pytest.raises(ProviderRefused, match=r"no openstack flavor among general1-\* has 16 vCPUs"):
        general.create(NodeSpec(name="big", contract="c-big", cores=16))
    assert v2.servers() == []


@pytest.mark.emulator
def test_images_by_id_or_name_their_minimums_count_and_unknown_ones_are_refused(v2, v2_driver):
    image_id = v2.image_id()
    by_id = v2_driver.create(NodeSpec(name="u", contract="c-u", image=image_id))
    assert _raw(v2, by_id.id)["image"]["id"] == image_id
    # The Windows image wants 2048 MiB and 40 GB: a 1-core, 512 MiB node gets a flavor with both.
    windows = v2_driver.create(NodeSpec(name="w", contract="c-w", image=WINDOWS_IMAGE, cores=1, memory_mb=512))
    assert _raw(v2, windows.id)["flavor"]["id"] == "general1-2"
    for image in ("no-such-image", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(ProviderRefused, match=f"openstack has no image '{image}'") as refused:
            v2_driver.create(NodeSpec(name="x", contract="c-x", image=image))
        assert not refused.value.transient
    assert {s["id"] for s in v2.servers()} == {by_id.id, windows.id}
    images = v2_driver.images()
    assert images[0] == image_id and len(images) == 38


@pytest.mark.emulator
@pytest.mark.parametrize("code, expected", [
    (500, ProviderUnavailable), (503, ProviderUnavailable), (429, ProviderUnavailable),
    (400, ProviderRefused), (403, ProviderRefused), (413, ProviderRefused), (409, ProviderRefused)])
def test_nova_errors_are_transient_or_refusals_with_novas_words(v2, v2_driver, code, expected):
    failure = json.dumps({"message": f"Nova says no ({code}) to {PASSWORD}", "code": code})
    with pytest.raises(expected) as raised:
        v2_driver.create(NodeSpec(name="n", contract="c-n", tags={"create_server_failure": failure}))
    text = str(raised.value)
    assert f"Nova says no ({code}) to ***" in text and f"could not create n from image {TEST_IMAGE}" in text
    assert PASSWORD not in text and raised.value.code == code and raised.value.provider == "openstack"
    assert v2.servers() == []


@pytest.mark.emulator
def test_a_server_in_error_is_deleted_before_the_refusal(cloud, driver):
    with pytest.raises(ProviderRefused, match=r"went to ERROR instead of ACTIVE: no fault given") as refused:
        driver.create(NodeSpec(name="broken", contract="c-broken", tags={"server_error": "1"}))
    assert refused.value.instance and cloud.servers() == []
    with pytest.raises(InstanceNotFound):
        driver.get(refused.value.instance)


@pytest.mark.emulator
def test_a_server_that_is_not_active_in_time_is_deleted(v2):
    driver = OpenStackDriver(**v2.driver_config(ready_timeout=0.5))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match=r"is not ACTIVE 0.5 s after create \(last seen BUILD\)"):
        driver.create(NodeSpec(name="slow", contract="c-slow", tags={"server_building": "60"}))
    assert time.monotonic() - started < 5 and v2.servers() == []


@pytest.mark.emulator
def test_a_server_nova_stored_before_failing_the_create_is_found_and_deleted(v2, v2_driver):
    # mimic's "false-negative": the server is created, the answer is a 500.
    v2.mimic.add_creation_behavior(v2.tenant, "false-negative", {"code": 500, "message": "answer lost"},
                                   [{"server_name": "^lost$"}])
    with pytest.raises(ProviderUnavailable, match="answer lost"):
        v2_driver.create(NodeSpec(name="lost", contract="c-lost"))
    assert v2.servers() == []


@pytest.mark.emulator
def test_tags_nova_cannot_hold_are_refused_before_any_server_exists(v2, v2_driver):
    with pytest.raises(ProviderRefused, match="does not fit Nova metadata"):
        v2_driver.create(NodeSpec(name="t", contract="c-t", tags={"note": "x" * 256}))
    with pytest.raises(ProviderRefused, match="zone 'az-9' of z is not one of az-1, az-2"):
        v2_driver.create(NodeSpec(name="z", contract="c-z", zone="az-9"))
    assert v2.servers() == []


@pytest.mark.emulator
def test_reboot_waits_for_active_and_start_stop_are_not_offered(v2, v2_driver):
    assert v2_driver.capabilities == {"reboot", "tags"}
    node = v2_driver.create(NodeSpec(name="r", contract="c-r"))
    started = time.monotonic()
    assert v2_driver.reboot(node.id).state == "running"
    assert time.monotonic() - started >= 2.5                  # mimic's soft reboot lasts 3 s
    assert _raw(v2, node.id)["status"] == "ACTIVE"            # so a delete now cannot be undone by it
    for action in (v2_driver.stop, v2_driver.start):
        with pytest.raises(ProviderRefused, match="openstack cannot"):
            action(node.id)
    with pytest.raises(InstanceNotFound):
        v2_driver.reboot("no-such-node")


@pytest.mark.emulator
def test_list_leaves_out_servers_without_the_contract_tag_and_reports_errors(v2, v2_driver):
    nova = v2.mimic.endpoint(v2.tenant) + "/servers"
    body = json.dumps({"server": {"name": "foreign", "imageRef": v2.image_id(), "flavorRef": "2"}}).encode()
    with urllib.request.urlopen(urllib.request.Request(nova, data=body, method="POST",
                                                       headers={"Content-Type": "application/json"}), timeout=10):
        pass
    node = v2_driver.create(NodeSpec(name="mine", contract="c-mine"))
    assert [i.id for i in v2_driver.list()] == [node.id]
    v2.mimic.set_status(v2.tenant, node.id, "ERROR")
    broken = v2_driver.get(node.id)
    assert broken.state == "error" and "ERROR" in broken.reason and v2_driver.list()[0].state == "error"
    assert v2_driver.delete(node.id) is True and v2_driver.list() == []


@pytest.mark.emulator
@pytest.mark.parametrize("wrong", [{"region": "Nowhere"}, {"service_name": "nothing"}, {"interface": "admin"}])
def test_no_compute_endpoint_for_the_region_service_or_interface_is_a_refusal(v2, wrong):
    with pytest.raises(ProviderRefused, match="could not list servers: .*compute service .* not found"):
        OpenStackDriver(**v2.driver_config(**wrong)).list()


@pytest.mark.emulator
def test_zones_are_the_configured_ones_else_an_empty_list_without_novas_zone_api(v2):
    assert OpenStackDriver(**v2.driver_config()).zones() == list(ZONES)
    assert OpenStackDriver(**v2.driver_config(zones=None)).zones() == []        # mimic: os-availability-zone 404


@pytest.mark.emulator
def test_user_data_carries_the_agent_token_and_the_options_reach_nova(v2):
    http = requests.Session()
    sent: list[tuple[str, str, bytes]] = []
    http.hooks["response"].append(lambda answer, *args, **kwargs: sent.append(
        (answer.request.method, answer.request.url, answer.request.body)))
    config = v2.driver_config()
    auth = ks_v2.Password(auth_url=config["auth_url"], username=config["username"], password=PASSWORD,
                          tenant_name=config["project_name"])
    driver = OpenStackDriver(session=ks_session.Session(auth=auth, session=http), region="ORD",
                             service_name="cloudServersOpenStack", image=TEST_IMAGE, zones=ZONES,
                             key_name="accords-key", networks=["net-1"], security_groups=["web"], poll_interval=0.2)
    node = driver.create(NodeSpec(name="agent", contract="c-agent", zone="az-1", agent_token=AGENT_TOKEN))
    driver.create(NodeSpec(name="plain", contract="c-agent"))
    posts = [json.loads(body)["server"] for method, url, body in sent if method == "POST" and url.endswith("/servers")]
    assert [p["name"] for p in posts] == ["agent", "plain"] and "user_data" not in posts[1]
    assert posts[0]["availability_zone"] == "az-1" and posts[0]["key_name"] == "accords-key"
    assert posts[0]["networks"] == [{"uuid": "net-1"}] and posts[0]["security_groups"] == [{"name": "web"}]
    config_text = base64.b64decode(posts[0]["user_data"]).decode()
    assert config_text.startswith("#cloud-config\n") and f"path: {TOKEN_PATH}" in config_text
    assert f"content: {json.dumps(AGENT_TOKEN)}" in config_text and "permissions: '0600'" in config_text
    assert _raw(v2, node.id)["key_name"] == "accords-key"
    assert driver.connection.session.timeout == (5.0, 30.0)      # an injected session without one gets the default


@pytest.mark.emulator
def test_credentials_and_the_agent_token_are_in_no_log_line_repr_or_error(cloud, driver, caplog):
    failure = json.dumps({"message": f"refused for {PASSWORD}", "code": 400})
    with caplog.at_level(logging.DEBUG):
        node = driver.create(NodeSpec(name="quiet", contract="c-quiet", agent_token=AGENT_TOKEN))
        driver.list()
        driver.delete(node.id)
        with pytest.raises(ProviderRefused) as refused:
            driver.create(NodeSpec(name="bad", contract="c-bad", tags={"create_server_failure": failure}))
        wrong = OpenStackDriver(**cloud.driver_config(password=PASSWORD + "-wrong", project_name="not-mine"))
        with pytest.raises(ProviderRefused) as denied:
            wrong.get("any")
    assert any(r.name.startswith("keystoneauth") for r in caplog.records)      # keystoneauth did log, at DEBUG
    user_data = OpenStackDriver.user_data(AGENT_TOKEN)
    for text in (caplog.text, repr(driver), repr(wrong), str(refused.value), str(denied.value)):
        for secret in (PASSWORD, AGENT_TOKEN, user_data):
            assert secret not in text
    assert "401" in str(denied.value) and not denied.value.transient


# -- what no emulator does: silence, refused connections, an identity service in trouble --------
class _Answering(BaseHTTPRequestHandler):
    status, body, content_type = 503, b'{"error": {"message": "busy", "code": 503}}', "application/json"
    headers_out: dict = {}

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        for name, value in self.headers_out.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, *args):
        pass


@pytest.fixture
def identity():
    """A local 'Keystone' answering what the test sets on _Answering."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answering)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


_JSON = "application/json"


@pytest.mark.parametrize("status, body, content_type, headers, expected", [
    (503, b'{"error": {"message": "busy", "code": 503}}', _JSON, {}, ProviderUnavailable),
    (500, b"<html><body>Internal Server Error</body></html>", "text/html", {}, ProviderUnavailable),
    (200, b"<html><body>Welcome to our proxy</body></html>", "text/html", {}, ProviderUnavailable),
    (429, b'{"error": {"message": "slow down", "code": 429}}', _JSON, {}, ProviderUnavailable),
    (413, b'{"overLimit": {"message": "rate limited", "code": 413}}', _JSON, {"Retry-After": "1"},
     ProviderUnavailable),
    (413, b'{"overLimit": {"message": "absolute limit", "code": 413}}', _JSON, {}, ProviderRefused),
    (401, b'{"error": {"message": "The request you have made requires authentication.", "code": 401}}', _JSON, {},
     ProviderRefused)])
@pytest.mark.parametrize("version", ["/v2.0", "/v3"])
def test_an_identity_service_in_trouble(identity, monkeypatch, status, body, content_type, headers, expected,
                                        version):
    monkeypatch.setattr(_Answering, "status", status)
    monkeypatch.setattr(_Answering, "body", body)
    monkeypatch.setattr(_Answering, "content_type", content_type)
    monkeypatch.setattr(_Answering, "headers_out", headers)
    driver = OpenStackDriver(auth_url=identity + version, username="u", password=PASSWORD, project_name="p",
                             retries=0)
    with pytest.raises(expected) as raised:
        driver.get("any")
    assert PASSWORD not in str(raised.value) and "openstack could not" in str(raised.value)


def test_an_endpoint_refusing_connections_or_never_answering_is_unavailable_in_bounded_time():
    refusing = OpenStackDriver(auth_url=f"http://127.0.0.1:{free_port()}/v3", username="u", password=PASSWORD,
                               project_name="p", retries=1)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="Unable to establish connection"):
        refusing.list()
    assert time.monotonic() - started < 5
    with socket.socket() as silent:                        # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        driver = OpenStackDriver(auth_url=f"http://127.0.0.1:{silent.getsockname()[1]}/v3", username="u",
                                 password=PASSWORD, project_name="p", read_timeout=0.5, retries=0)
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="timed out"):
            driver.get("any")
        assert time.monotonic() - started < 5


def test_a_driver_needs_an_identity_endpoint():
    with pytest.raises(ProviderRefused, match="needs auth_url"):
        OpenStackDriver(username="u", password=PASSWORD)
