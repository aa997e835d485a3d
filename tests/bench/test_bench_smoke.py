"""`python -m bench --quick` runs end to end and reports every scenario (bounded to 90 s)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {"get_query_interface", "get_entity", "list_filtered_uri_list", "list_filtered_json_page",
             "create_persisted"}


def test_quick_benchmark_reports_every_scenario():
    # Its own session, so that a timeout can stop the benchmark and every server it started.
    process = subprocess.Popen([sys.executable, "-m", "bench", "--quick", "--no-write", "--json"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"the quick benchmark took more than 90 s:\n{stderr[-3000:]}")
    assert process.returncode == 0, stderr[-3000:]
    run = json.loads(stdout)
    results = {r["id"]: r for r in run["results"]}
    assert set(results) == SCENARIOS
    for result in results.values():
        assert result["accords"] > 0 and result["raw"] > 0, result
    assert results["create_persisted"]["verified"], run["checks"]
    assert run["machine"]["cores"] >= 1 and run["date"].endswith("UTC")


def test_the_cords_benchmark_checks_what_it_times(tmp_path):
    from bench import cords_bench

    result = cords_bench.run(rounds=1)
    assert result["any_ms"] > 0 and result["chain_ms"] > result["any_ms"]
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nother results\n")
    cords_bench.write(result, page)
    cords_bench.write(result, page)                  # replaced, not appended twice
    text = page.read_text()
    assert text.count(cords_bench.BEGIN) == 1 and "other results" in text and "1,000 nodes" in text
