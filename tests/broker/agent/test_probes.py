"""Probes: start gives values, stop stops updates, failures are recorded, measurements reach the sink."""
from __future__ import annotations

import time

import pytest

from broker.agent.probes import parse_number
from tests.broker.agent.conftest import METADATA, PROBE, attributes_when, wait_for


def probe(node, expression: str, **attributes) -> str:
    return node.client.create(PROBE, attributes={"occi.probe.expression": expression, "occi.probe.period": 1,
                                                 **{f"occi.probe.{k}": v for k, v in attributes.items()}})


def test_start_gives_a_value_then_stop_stops_updates(local):
    node = local()
    node.client.create(METADATA, attributes={"occi.metadata.name": "base", "occi.metadata.value": "40"})
    location = probe(node, "echo noise >&2; echo header; echo $((base + 2))", name="answer", metric="test:answer")
    created = node.client.get(location).attributes
    assert created["occi.probe.state"] == "stopped" and "occi.probe.value" not in created
    started = node.client.action(location, "start").attributes
    assert started["occi.probe.state"] == "running"
    first = attributes_when(node.client, location, lambda a: a.get("occi.probe.count"), what="a first sample")
    assert (first["occi.probe.value"], first["occi.probe.number"]) == ("42", 42)
    assert "occi.probe.error" not in first and first["occi.probe.last"]
    wait_for(lambda: node.client.get(location).attributes["occi.probe.count"] >= 2, timeout=10, what="a second sample")
    stopped = node.client.action(location, "stop").attributes
    assert stopped["occi.probe.state"] == "stopped"
    count = node.client.get(location).attributes["occi.probe.count"]
    time.sleep(2.5)                                       # more than two periods
    after = node.client.get(location).attributes
    assert (after["occi.probe.count"], after["occi.probe.state"]) == (count, "stopped")


def test_a_failing_sample_records_the_error_and_keeps_the_value(local):
    node = local()
    location = probe(node, "if [ -f fail ]; then echo broken >&2; exit 2; fi; echo 1.5")
    node.client.action(location, "start")
    wait_for(lambda: node.client.get(location).attributes.get("occi.probe.number") == 1.5, timeout=10,
             what="a value")
    (node.home / "work" / "fail").touch()
    failed = attributes_when(node.client, location, lambda a: a.get("occi.probe.error"), what="a failed sample")
    assert failed["occi.probe.error"] == "exit 2: broken"
    assert failed["occi.probe.value"] == "1.5"
    (node.home / "work" / "fail").unlink()
    wait_for(lambda: "occi.probe.error" not in node.client.get(location).attributes, timeout=10,
             what="the error to clear")
    node.client.action(location, "stop")


def test_measurements_go_to_the_sink_every_samples_samples(local):
    class Sink:
        def __init__(self):
            self.batches = []

        def deliver(self, probe, samples):
            self.batches.append((probe["occi.probe.metric"], [s.value for s in samples]))

    sink = Sink()
    node = local(sink=sink)
    location = probe(node, "echo up", metric="node:up", samples=2)
    node.client.action(location, "start")
    wait_for(lambda: sink.batches, timeout=10, what="a batch")
    node.client.action(location, "stop")
    assert sink.batches[0] == ("node:up", ["up", "up"])


def test_a_running_probe_resumes_when_the_agent_restarts(local):
    node = local()
    location = probe(node, "echo 7")
    node.client.action(location, "start")
    wait_for(lambda: node.client.get(location).attributes.get("occi.probe.count"), timeout=10, what="a sample")
    node.agent.stop()
    again = local(node.home)
    path = location.split(node.url, 1)[1]
    before = again.client.get(again.url + path).attributes["occi.probe.count"]
    wait_for(lambda: again.client.get(again.url + path).attributes["occi.probe.count"] > before, timeout=10,
             what="a sample after the restart")
    again.client.action(again.url + path, "stop")


def test_deleting_a_probe_unschedules_it(local):
    node = local()
    location = probe(node, "echo 1")
    node.client.action(location, "start")
    node.client.delete(location)
    assert not [job for job in node.agent.scheduler.get_jobs() if job.id.startswith("probe:")]


@pytest.mark.parametrize(("text", "number"), [("42", 42), ("-3", -3), ("1.5", 1.5), ("1e3", 1000.0), ("nan", None),
                                              ("inf", None), ("12 MB", None), ("", None)])
def test_numbers_are_parsed_when_possible(text, number):
    assert parse_number(text) == number


def test_reads_and_probes_do_not_wait_for_a_running_script(local):
    import threading

    node = local()
    location = probe(node, "echo 5")
    node.client.action(location, "start")
    wait_for(lambda: node.client.get(location).attributes.get("occi.probe.count"), timeout=10, what="a sample")
    running = threading.Thread(target=node.script, args=("sleep 3",))
    running.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        count = node.client.get(location).attributes["occi.probe.count"]
        assert node.client.list("/script/") == []             # the script is not stored until it ends
        assert time.monotonic() - started < 1
        wait_for(lambda: node.client.get(location).attributes["occi.probe.count"] > count, timeout=2.5,
                 what="a sample recorded while the script runs")
        assert running.is_alive()
    finally:
        running.join(timeout=30)
        node.client.action(location, "stop")
    assert len(node.client.list("/script/")) == 1
