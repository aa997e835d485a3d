"""``python -m bench.providers_bench``: node creations through the ``ec2`` driver against raw boto3.

Target (the broker issue): 100 nodes on moto at no less than 80% of the create rate that raw
boto3 achieves against the same server in the same run. Both sides do the same work per node:
``RunInstances`` with the same type, image and tags, then ``DescribeInstances`` until the
instance runs (boto3's ``instance_running`` waiter for the raw side; moto makes instances
running at once, so each side polls once). Batches alternate between the two sides, moto is
reset before each batch (both see the same inventory) and warmed after the reset; raw
``RunInstances`` alone, without the wait, is shown for reference. moto_server comes from
``.emu/venv-moto`` (``make emulators``). The result goes into its own section of
docs/benchmarks.md, which ``python -m bench`` keeps when it rewrites the rest.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.report import machine, replace_section
from broker.providers import NodeSpec, create_driver
from broker.providers.base import CONTRACT_TAG

__all__ = ["run", "measure", "section", "write", "BEGIN", "END", "TARGET"]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = ("<!-- BEGIN PROVIDERS BENCHMARK (python -m bench.providers_bench) -->",
              "<!-- END PROVIDERS BENCHMARK -->")
#: The driver's create rate over raw boto3's, at least.
TARGET = 0.8


def _spec(n: int) -> NodeSpec:
    return NodeSpec(name=f"bench-{n}", contract=f"bench-contract-{n}", cores=1, memory_mb=512,
                    tags={"accords-bench": "yes"})


def measure(server, *, count: int = 100, batches: int = 10) -> dict:
    """Creates ``count`` nodes each way on ``server`` (a tests.emulators.MotoServer)."""
    from tests.emulators import TEST_AMI

    driver = create_driver("ec2", **server.driver_config(ready_timeout=30, poll_interval=0.2))
    raw = server.client()
    waiter = raw.get_waiter("instance_running")
    instance_type = driver.choose_size(1, 512).name           # what the driver picks (sizes now cached)

    def through_driver(n: int) -> None:
        driver.create(_spec(n))

    def run_only(n: int) -> str:
        spec = _spec(n)
        tags = [{"Key": k, "Value": v} for k, v in {**spec.all_tags(), "Name": spec.name}.items()]
        answer = raw.run_instances(ImageId=TEST_AMI, InstanceType=instance_type, MinCount=1, MaxCount=1,
                                   TagSpecifications=[{"ResourceType": "instance", "Tags": tags},
                                                      {"ResourceType": "volume", "Tags": tags}])
        return answer["Instances"][0]["InstanceId"]

    def raw_boto3(n: int) -> None:
        waiter.wait(InstanceIds=[run_only(n)], WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    sides = {"driver": through_driver, "raw": raw_boto3, "run_only": run_only}
    seconds = dict.fromkeys(sides, 0.0)
    made = dict.fromkeys(sides, 0)
    per_batch = max(1, count // batches)
    for batch in range(batches):
        order = list(sides) if batch % 2 == 0 else ["raw", "driver", "run_only"]
        for side in order:
            server.reset()
            raw.describe_images(ImageIds=[TEST_AMI])               # the backend reloads after a reset
            sides[side](-1)                                         # and one warm call each way
            started = time.perf_counter()
            for n in range(per_batch):
                sides[side](n)
            seconds[side] += time.perf_counter() - started
            made[side] += per_batch
            found = raw.describe_instances(Filters=[{"Name": "tag-key", "Values": [CONTRACT_TAG]}])
            assert sum(len(r["Instances"]) for r in found["Reservations"]) == per_batch + 1, side
    driver.close()
    rates = {side: made[side] / seconds[side] for side in sides}
    return {"count": made["driver"], "batches": batches, "instance_type": instance_type,
            "driver_rate": rates["driver"], "raw_rate": rates["raw"], "run_only_rate": rates["run_only"],
            "driver_ms": 1000 / rates["driver"], "raw_ms": 1000 / rates["raw"], "run_only_ms": 1000 / rates["run_only"],
            "ratio": rates["driver"] / rates["raw"]}


def run(*, count: int = 100, batches: int = 10) -> dict:
    from tests.emulators import EMU, start_moto

    if not (EMU / "venv-moto" / "bin" / "moto_server").exists():
        raise SystemExit(f"moto is not installed in {EMU / 'venv-moto'}: run make emulators")
    with tempfile.TemporaryDirectory(prefix="accords-bench-moto-") as work:
        with start_moto(Path(work)) as server:
            result = measure(server, count=count, batches=batches)
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), **result}


def section(result: dict) -> str:
    m = result["machine"]
    verdict = "met" if result["ratio"] >= TARGET else "MISSED"
    return "\n".join([
        BEGIN, "", "## Provider drivers: ec2 against raw boto3 on moto_server", "",
        f"{result['date']}, {m['cpu']}, {m['cores']} cores; {result['count']} serial creates each way "
        f"({result['instance_type']}, tagged), in {result['batches']} alternating batches, moto reset before each.",
        "", "| creates | per node | rate | |", "|---|---|---|---|",
        f"| through the driver (run, wait until running) | {result['driver_ms']:.1f} ms | "
        f"{result['driver_rate']:.1f}/s | {result['ratio']:.0%} of raw: {verdict} (target {TARGET:.0%}) |",
        f"| raw boto3 (run, `instance_running` waiter) | {result['raw_ms']:.1f} ms | {result['raw_rate']:.1f}/s | |",
        f"| raw boto3 RunInstances alone (no wait) | {result['run_only_ms']:.1f} ms | "
        f"{result['run_only_rate']:.1f}/s | reference |", "", END])


def write(result: dict, path: Path = DOC) -> None:
    replace_section(path, begin=BEGIN, end=END, block=section(result))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.providers_bench")
    parser.add_argument("--count", type=int, default=100, help="creates each way (default 100)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    print(f"creating {args.count} nodes through the ec2 driver and raw boto3 on moto_server ...", file=sys.stderr)
    result = run(count=args.count)
    print(f"driver {result['driver_rate']:.1f}/s, raw boto3 {result['raw_rate']:.1f}/s: {result['ratio']:.0%} "
          f"(target {TARGET:.0%})", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    if not args.no_write:
        write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
