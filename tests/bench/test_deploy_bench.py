"""The deployment benchmark: its timing driver records every provider call, and
``python -m bench.deploy_bench --quick`` runs both scenarios end to end with numbers that add up
(a smoke test: no timing target is asserted)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import deploy_report
from bench.deploy_timing import DRIVER, provider_seconds, read_ledger, register
from broker.providers.base import CONTRACT_TAG, NodeSpec
from broker.provisioning.clouds import Clouds
from tests.emulators import EMU, require_emulator

ROOT = Path(__file__).resolve().parents[2]
QUICK_TIMEOUT = 300


def test_the_timing_driver_is_chosen_by_configuration_and_ledgers_every_call(tmp_path):
    register()
    ledger = tmp_path / "ledger.jsonl"
    clouds = Clouds.from_config({"here": {"driver": DRIVER, "inner": "local", "ledger": str(ledger),
                                          "root": str(tmp_path / "nodes")}}, data=tmp_path)
    driver = clouds.driver("here")
    try:
        instance = driver.create(NodeSpec(name="timed", contract="contract-1"))
        assert instance.state == "running" and driver.name == "local"
        assert [i.id for i in driver.list(tags={CONTRACT_TAG: "contract-1"})] == [instance.id]
        assert driver.delete(instance.id) is True
    finally:
        clouds.close()
    calls = read_ledger(ledger)
    assert [call["call"] for call in calls] == ["create", "list", "delete"]
    assert calls[0]["instance"] == instance.id and all(call["ok"] for call in calls)
    # Starting an agent process takes far longer than listing a directory.
    assert calls[0]["seconds"] > calls[1]["seconds"] > 0
    totals = provider_seconds(calls)
    assert totals["total"] == pytest.approx(sum(call["seconds"] for call in calls))
    assert read_ledger(ledger, since=calls[1]["end"]) == calls[1:]


@pytest.mark.e2e
@pytest.mark.emulator
def test_quick_deploy_benchmark_reports_consistent_numbers(tmp_path):
    require_emulator(EMU / "venv-moto" / "bin" / "moto_server", "moto[server]")
    # Its own session, so that a timeout stops the benchmark and every process it started.
    process = subprocess.Popen([sys.executable, "-m", "bench.deploy_bench", "--quick", "--no-write", "--json"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=QUICK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"the quick deploy benchmark took more than {QUICK_TIMEOUT} s:\n{stderr[-3000:]}")
    assert process.returncode == 0, stderr[-3000:]
    result = json.loads(stdout)

    overhead = result["overhead"]
    (sample,) = overhead["samples"]
    assert sample["total"] > sample["provider"] > 0
    assert sample["overhead"] == pytest.approx(sample["total"] - sample["provider"])
    assert 0 < sample["agent_start"] <= sample["calls"]["create"]      # the agent starts inside create
    assert set(sample["phases"]) == set(deploy_report.PHASES)
    assert all(seconds >= 0 for seconds in sample["phases"].values()), sample["phases"]
    # The phases and the provider's time account for the whole round (up to the gaps between calls).
    assert sum(sample["phases"].values()) + sample["provider"] <= sample["total"] + 0.001
    assert 0 < sample["instance_request"] < sample["total"]

    moto = result["moto"]
    assert moto["consistent"], moto["runs"]
    for side in ("raw", "broker"):
        (row,) = moto["runs"][side]
        assert row["created"] == row["running"] == row["deleted"] == moto["count"] == 5
    assert moto["ratio"] == pytest.approx(moto["broker_rate"] / moto["raw_rate"])
    assert moto["runs"]["broker"][0]["calls"]["create"]["count"] == 5

    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nother results\n")
    deploy_report.write(result, page)
    deploy_report.write(result, page)                 # replaced, not appended twice
    text = page.read_text()
    assert text.count(deploy_report.BEGIN) == 1 and text.count(deploy_report.END) == 1
    assert "other results" in text and f"{moto['broker_rate']:.1f}" in text
