"""The ec2 provider over real HTTP: against moto_server (from .emu/venv-moto, AMI validation on), and
against small local servers for what moto cannot do (throttling, 5xx, silence, refusals)."""
from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote_plus

import pytest

from broker.providers import (InstanceNotFound, NodeSpec, ProviderRefused, ProviderUnavailable, create_driver)
from broker.providers.base import CONTRACT_TAG
from tests.broker.providers.contract import DriverContract
from tests.emulators import OTHER_AMI, TEST_AMI, free_port

SECRET_KEY = "wJalrXUtnFEMI-accords-very-secret"
ACCESS_KEY = "AKIAACCORDSTESTKEY01"
TOKEN = "agent-token-accords-ec2-8c3d51"


@pytest.fixture
def driver(moto):
    ec2 = create_driver("ec2", **moto.driver_config())
    yield ec2
    ec2.close()


def _raw(moto, instance_id: str) -> dict:
    answer = moto.client().describe_instances(InstanceIds=[instance_id])
    return answer["Reservations"][0]["Instances"][0]


@pytest.mark.emulator
class TestEc2Driver(DriverContract):
    pass


@pytest.mark.emulator
def test_the_instance_is_in_moto_tagged_with_the_smallest_type_that_fits(driver, moto):
    spec = NodeSpec(name="db", contract="contract-db", cores=2, memory_mb=4096, disk_gb=30, zone="us-east-1c",
                    tags={"accords-service": "shop"})
    node = driver.create(spec)
    raw = _raw(moto, node.id)
    tags = {t["Key"]: t["Value"] for t in raw["Tags"]}
    assert tags == {"Name": "db", CONTRACT_TAG: "contract-db", "accords-service": "shop"}
    assert raw["InstanceType"] == "t3.medium" and raw["ImageId"] == TEST_AMI
    assert raw["Placement"]["AvailabilityZone"] == "us-east-1c" == node.extra["zone"]
    assert node.addresses == [raw["PublicIpAddress"], raw["PrivateIpAddress"]]
    volumes = moto.client().describe_volumes(Filters=[{"Name": f"tag:{CONTRACT_TAG}", "Values": ["contract-db"]}])
    assert [v["Size"] for v in volumes["Volumes"]] == [30]              # the root volume, grown and tagged


@pytest.mark.emulator
def test_sizes_are_chosen_smallest_first_and_a_node_too_big_is_refused(driver):
    assert driver.choose_size(None, None).name == "t3.nano"
    assert driver.choose_size(1, 512).name == "t3.nano"
    assert driver.choose_size(4, 8192).name == "c6i.xlarge"
    assert driver.choose_size(2, 16384).name == "r6i.large"
    with pytest.raises(ProviderRefused, match=r"no ec2 instance type .* has 4096 vCPUs"):
        driver.create(NodeSpec(name="huge", contract="c-huge", cores=4096))
    fixed = create_driver("ec2", endpoint_url="http://127.0.0.1:9", instance_types={"small": (1, 1024),
                                                                                    "big": (8, 32768)})
    assert [s.name for s in fixed.sizes()] == ["small", "big"] and fixed.choose_size(2, 0).name == "big"


@pytest.mark.emulator
def test_stop_start_and_reboot_are_seen_in_moto(driver, moto):
    node = driver.create(NodeSpec(name="web", contract="c-web"))
    assert driver.stop(node.id).state == "stopped"
    assert _raw(moto, node.id)["State"]["Name"] == "stopped"
    assert driver.start(node.id).state == "running"
    assert _raw(moto, node.id)["State"]["Name"] == "running"
    assert driver.reboot(node.id).state == "running"


@pytest.mark.emulator
def test_an_unknown_image_is_refused_naming_it_and_leaves_nothing(driver, moto):
    for spec in (NodeSpec(name="x", contract="c-x", image="ami-00000000deadbeef0"),
                 NodeSpec(name="y", contract="c-y", image="ami-00000000deadbeef0", disk_gb=50)):
        with pytest.raises(ProviderRefused) as refused:
            driver.create(spec)
        assert "ami-00000000deadbeef0" in str(refused.value) and "InvalidAMIID.NotFound" in str(refused.value)
        assert not refused.value.transient
    assert moto.client().describe_instances()["Reservations"] == []


@pytest.mark.emulator
def test_images_by_name_and_snapshots(moto):
    driver = create_driver("ec2", **moto.driver_config(images={"ubuntu": OTHER_AMI}))
    node = driver.create(NodeSpec(name="u", contract="c-u", image="ubuntu"))
    assert _raw(moto, node.id)["ImageId"] == OTHER_AMI
    with pytest.raises(ProviderRefused, match="'windows' of w is neither an AMI id nor one of the configured"):
        driver.create(NodeSpec(name="w", contract="c-w", image="windows"))
    ami = driver.snapshot(node.id, name="u-before-upgrade")
    assert ami.startswith("ami-") and ami in driver.images() and driver.images()[:2] == [TEST_AMI, OTHER_AMI]
    image = moto.client().describe_images(ImageIds=[ami])["Images"][0]
    assert {t["Key"]: t["Value"] for t in image["Tags"]}[CONTRACT_TAG] == "c-u"
    assert driver.zones()[:2] == ["us-east-1a", "us-east-1b"]


@pytest.mark.emulator
def test_delete_twice_terminated_instances_are_gone(driver, moto):
    node = driver.create(NodeSpec(name="gone", contract="c-gone"))
    assert driver.delete(node.id) is True
    assert _raw(moto, node.id)["State"]["Name"] == "terminated"       # EC2 keeps listing it a while
    assert driver.delete(node.id) is False
    assert driver.delete("i-0123456789abcdef0") is False
    with pytest.raises(InstanceNotFound, match=node.id):
        driver.get(node.id)
    assert driver.list() == []


@pytest.mark.emulator
def test_credentials_are_in_no_log_line_repr_or_error(moto, caplog):
    driver = create_driver("ec2", **moto.driver_config(access_key=ACCESS_KEY, secret_key=SECRET_KEY))
    with caplog.at_level(logging.DEBUG):
        node = driver.create(NodeSpec(name="quiet", contract="c-quiet"))
        driver.delete(node.id)
        with pytest.raises(ProviderRefused) as refused:
            driver.create(NodeSpec(name="bad", contract="c-bad", image="ami-00000000deadbeef0"))
    assert any("botocore" in r.name for r in caplog.records)         # botocore did log, at DEBUG
    for text in (caplog.text, repr(driver), str(refused.value)):
        assert ACCESS_KEY not in text and SECRET_KEY not in text


@pytest.mark.emulator
def test_the_agent_token_travels_in_user_data_and_in_no_log_line_or_error(moto, caplog):
    driver = create_driver("ec2", **moto.driver_config(access_key=ACCESS_KEY, secret_key=SECRET_KEY))
    with caplog.at_level(logging.DEBUG):
        node = driver.create(NodeSpec(name="agent", contract="c-agent", agent_token=TOKEN))
        with pytest.raises(ProviderRefused) as refused:
            driver.create(NodeSpec(name="bad", contract="c-bad", image="ami-00000000deadbeef0", agent_token=TOKEN))
    data = moto.client().describe_instance_attribute(InstanceId=node.id, Attribute="userData")
    script = base64.b64decode(data["UserData"]["Value"]).decode()
    assert script.startswith("#!/bin/sh") and f"printf '%s' {TOKEN} > /var/lib/accords/agent/token" in script
    assert "accords agent --dir /var/lib/accords/agent" in script
    assert "'UserData': '***'" in caplog.text                    # botocore did log the parameters
    encoded = base64.b64encode(script.encode()).decode()
    at = script.index(TOKEN) * 4 // 3 + 4                 # base64 characters that carry the token
    for text in (caplog.text, str(refused.value)):
        for secret in (TOKEN, encoded[at:at + 24], quote_plus(encoded[at:at + 24]), ACCESS_KEY, SECRET_KEY):
            assert secret not in text
    plain = driver.create(NodeSpec(name="plain", contract="c-plain"))      # no token: no user data at all
    assert "Value" not in moto.client().describe_instance_attribute(InstanceId=plain.id,
                                                                   Attribute="userData")["UserData"]


# -- what moto cannot do: small servers speaking EC2's error format ------------------------------
class _Ec2Errors(BaseHTTPRequestHandler):
    status, code, message = 503, "RequestLimitExceeded", "Request limit exceeded."
    #: Answer this page instead of EC2's XML (a proxy in the way).
    page: str | None = None
    #: Requests received.
    seen = 0

    def do_POST(self):  # noqa: N802 - http.server's naming
        type(self).seen += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (self.page or
                f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{self.code}</Code>'
                f'<Message>{self.message}</Message></Error></Errors><RequestID>r-1</RequestID></Response>').encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html" if self.page else "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def ec2_errors():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ec2Errors)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def answering(status, code, message, page=None, **config):
        _Ec2Errors.status, _Ec2Errors.code, _Ec2Errors.message, _Ec2Errors.page = status, code, message, page
        _Ec2Errors.seen = 0
        config = {"max_attempts": 1, **config}
        return create_driver("ec2", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
                             access_key=ACCESS_KEY, secret_key=SECRET_KEY, image=TEST_AMI,
                             instance_types={"t3.micro": (2, 1024)}, **config)
    yield answering
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status, code, expected", [
    (503, "RequestLimitExceeded", ProviderUnavailable), (400, "RequestLimitExceeded", ProviderUnavailable),
    (500, "InternalError", ProviderUnavailable), (502, "SomethingNew", ProviderUnavailable),
    (500, "InsufficientInstanceCapacity", ProviderUnavailable),
    (403, "UnauthorizedOperation", ProviderRefused), (400, "InvalidParameterValue", ProviderRefused),
    (401, "AuthFailure", ProviderRefused), (400, "InstanceLimitExceeded", ProviderRefused)])
def test_errors_are_transient_or_refusals_with_the_providers_message(ec2_errors, status, code, expected):
    driver = ec2_errors(status, code, f"EC2 says no ({code}) to {ACCESS_KEY}")
    with pytest.raises(expected) as failure:
        driver.create(NodeSpec(name="n", contract="c-n"))
    text = str(failure.value)
    assert f"{code}: EC2 says no ({code}) to ***" in text and "create n from image" in text
    assert ACCESS_KEY not in text and failure.value.code == code and failure.value.provider == "ec2"
    with pytest.raises(expected):
        driver.get("i-0123456789abcdef0")


def test_throttling_is_retried_within_max_attempts_then_unavailable(ec2_errors):
    driver = ec2_errors(503, "RequestLimitExceeded", "Request limit exceeded.", max_attempts=2)
    with pytest.raises(ProviderUnavailable, match="RequestLimitExceeded"):
        driver.get("i-0123456789abcdef0")
    assert _Ec2Errors.seen == 2
    refusing = ec2_errors(400, "InvalidParameterValue", "Value (x) for parameter y is invalid", max_attempts=3)
    with pytest.raises(ProviderRefused, match=r"Value \(x\) for parameter y is invalid"):
        refusing.get("i-0123456789abcdef0")
    assert _Ec2Errors.seen == 1                       # a refusal is not retried


def test_a_proxys_error_page_is_unavailable(ec2_errors):
    driver = ec2_errors(502, "", "", page="<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>")
    with pytest.raises(ProviderUnavailable) as failure:
        driver.create(NodeSpec(name="n", contract="c-n"))
    assert "502" in str(failure.value) and len(str(failure.value)) < 500


def test_an_unreachable_endpoint_is_unavailable_quickly():
    driver = create_driver("ec2", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1, connect_timeout=1,
                           access_key=ACCESS_KEY, secret_key=SECRET_KEY, image=TEST_AMI)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="Could not connect") as failure:
        driver.create(NodeSpec(name="n", contract="c-n"))
    with pytest.raises(ProviderUnavailable):
        driver.delete("i-0123456789abcdef0")
    assert time.monotonic() - started < 5 and failure.value.transient


def test_a_silent_endpoint_times_out_as_unavailable():
    with socket.socket() as silent:                   # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        driver = create_driver("ec2", endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}", max_attempts=1,
                               read_timeout=0.5, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="timeout"):
            driver.get("i-0123456789abcdef0")
        assert time.monotonic() - started < 5


def test_no_credentials_is_a_refusal(monkeypatch, tmp_path):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    driver = create_driver("ec2", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1)
    with pytest.raises(ProviderRefused, match="Unable to locate credentials"):
        driver.get("i-0123456789abcdef0")


@pytest.mark.emulator
def test_the_benchmark_measures_both_sides_and_keeps_its_own_section(moto_server, tmp_path):
    from bench import providers_bench

    result = providers_bench.measure(moto_server, count=4, batches=2)
    assert result["count"] == 4 and result["driver_rate"] > 0 and result["raw_rate"] > 0 and result["ratio"] > 0
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nother results\n")
    run = {"date": "today", "machine": {"cpu": "cpu", "cores": 2}, **result}
    providers_bench.write(run, page)
    providers_bench.write(run, page)                  # replaced, not appended twice
    text = page.read_text()
    assert text.count(providers_bench.BEGIN) == 1 and "other results" in text and "raw boto3" in text
