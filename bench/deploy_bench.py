"""``python -m bench.deploy_bench [--quick] [--json] [--no-write]``: what deploying costs the broker.

Targets (the broker issue):

1. Broker overhead for a 1-node plan on the local provider, excluding the provider's own time:
   at most 30 ms (the original platform took 0.32 s on its dummy provider). Timed from
   ``POST plan?action=instance`` to the service reported running, on real ``accords serve``
   processes (:mod:`bench.deploy_platform`); the provider's own time comes from a timing
   wrapper around the local driver (:mod:`bench.deploy_timing`), chosen in providers.json.
2. 100 nodes on moto: at least 80% of the create rate raw boto3 reaches against the same
   moto_server in the same run, with the reconciler's concurrency.

The results go into their own section of docs/benchmarks.md (:mod:`bench.deploy_report`),
which ``python -m bench`` keeps when it rewrites the rest. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import signal
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench.cpu import CpuWatch, loadavg, wait_quiet
from bench.deploy_platform import start_platform
from bench.deploy_report import OVERHEAD_TARGET_MS, RATE_TARGET, write
from bench.deploy_timing import DRIVER, provider_seconds, read_ledger
from bench.load import percentile
from bench.report import machine

__all__ = ["manifest", "overhead", "moto_rates", "run", "main"]

#: How often the client asks whether the service runs; the wait until the answer counts in the total.
POLL_SECONDS = 0.005
#: A round during which other processes took more of the CPU than this is flagged as noisy.
NOISY = 0.25


def log(message: str) -> None:
    print(f"[deploy-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def manifest(name: str, nodes: int) -> str:
    """``nodes`` independent nodes with no configuration: only the broker and the provider work."""
    first = ('<node name="n1"><infrastructure name=":small"><compute name=":cpu" cores="1" memory="512M"/>'
             '<network name=":net"/><storage name=":disk" size="1G"/></infrastructure>'
             '<image name=":debian"><system name="debian"/></image></node>')
    others = "".join(f'<node name="n{i}" infrastructure=":small" image=":debian"/>' for i in range(2, nodes + 1))
    return f'<manifest name="{name}">{first}{others}</manifest>'


def reconciler_concurrency() -> int:
    """The size of each reconciler's pool, as ``accords serve`` builds it (the default)."""
    from broker.provisioning.reconciler import Reconciler

    return inspect.signature(Reconciler.__init__).parameters["concurrency"].default


def reconciler_interval() -> float:
    from broker.provisioning.reconciler import Reconciler

    return inspect.signature(Reconciler.__init__).parameters["interval"].default


def _ms(seconds: float) -> float:
    return seconds * 1000


def _agent_start_seconds(nodes: Path, instance_id: str | None) -> float | None:
    """From the local node's files: spawn (instance.json ``created``) to the agent's ready.json."""
    if instance_id is None:
        return None
    try:
        created = json.loads((nodes / instance_id / "instance.json").read_text())["created"]
        return (nodes / instance_id / "ready.json").stat().st_mtime - created
    except (OSError, ValueError, KeyError):
        return None


def _phases(events: list[dict], calls: list[dict], *, started: float, seen: float) -> dict:
    """Where one round's time went (seconds), from the contract's events and the ledger."""
    at = {}
    for event in events:
        at.setdefault(event["occi.event.what"], event["occi.event.at"])
    first_call = min(call["end"] - call["seconds"] for call in calls)
    last_call = max(call["end"] for call in calls)
    return {
        "contract_stored": at["created"] - started,
        "pickup": at["place"] - at["created"],
        "until_provider": first_call - at["place"],
        "after_provider": at["configure"] - last_call,
        "until_seen_running": seen - at["configure"],
    }


def _our_pids(platform) -> list[int]:
    return [os.getpid(), *(pid for server in platform.servers.values()
                           for pid in (server.process.pid, *server.worker_pids()))]


def overhead(work: Path, *, rounds: int, quiet_wait: float, workers: int = 2) -> dict:
    """Scenario 1: a 1-node plan on the (timed) local provider, ``rounds`` times after a warm-up."""
    ledger = work / "ledger-local.jsonl"
    nodes = work / "data" / "nodes"
    providers = {"local": {"driver": DRIVER, "inner": "local", "ledger": str(ledger), "root": str(nodes)}}
    platform = start_platform(work, providers=providers, workers=workers)
    samples = []
    try:
        plan = platform.submit(manifest("deploy-one", 1), name="deploy-one.xml")
        for round_number in range(-1, rounds):                 # round -1 warms every cache, untimed
            wait_quiet(_our_pids(platform), max_wait=quiet_wait)
            with CpuWatch(_our_pids(platform)) as watch:
                started = time.time()
                service_url = platform.instance(plan)
                answered = time.time()
                service, seen = platform.wait(service_url, "running", "failed", timeout=120, every=POLL_SECONDS)
            if service["occi.service.state"] != "running":
                raise RuntimeError(f"the service failed: {service.get('occi.service.message')}")
            calls = read_ledger(ledger, since=started, until=seen)
            report = service["occi.service.nodes"]["n1"]
            created = [call for call in calls if call["call"] == "create"]
            agent = _agent_start_seconds(nodes, created[0]["instance"] if created else None)
            phases = _phases(platform.events(report["contract"]), calls, started=started, seen=seen)
            platform.delete_service(service_url, timeout=120)
            if round_number < 0:
                continue
            total, provider = seen - started, provider_seconds(calls)
            samples.append({"total": total, "provider": provider["total"], "overhead": total - provider["total"],
                            "agent_start": agent, "instance_request": answered - started,
                            "foreign_cpu": watch.foreign, "calls": {k: v for k, v in provider.items() if k != "total"},
                            "phases": phases})
            log(f"  round {round_number + 1}/{rounds}: total {_ms(total):.0f} ms, provider "
                f"{_ms(provider['total']):.0f} ms, overhead {_ms(total - provider['total']):.1f} ms "
                f"(pickup {_ms(phases['pickup']):.0f} ms)")
    finally:
        platform.stop()

    def stats(values: list[float]) -> dict:
        values = [_ms(v) for v in values if v is not None]
        return {"median": statistics.median(values), "p95": percentile(values, 95), "min": min(values),
                "max": max(values)} if values else {}

    noise = [s["foreign_cpu"] for s in samples if s["foreign_cpu"] is not None]
    return {"rounds": rounds, "workers": workers, "poll_ms": _ms(POLL_SECONDS),
            "foreign_cpu": {"mean": statistics.mean(noise), "max": max(noise)} if noise else None,
            "noisy_rounds": sum(1 for share in noise if share > NOISY),
            "interval_ms": _ms(reconciler_interval()),
            "total": stats([s["total"] for s in samples]), "provider": stats([s["provider"] for s in samples]),
            "overhead": stats([s["overhead"] for s in samples]),
            "agent_start": stats([s["agent_start"] for s in samples]),
            "instance_request": stats([s["instance_request"] for s in samples]),
            "phases": {name: stats([s["phases"][name] for s in samples]) for name in samples[0]["phases"]},
            "samples": samples}


def _moto_count(client, tag: str) -> dict[str, int]:
    """Instances carrying ``tag`` in moto, by state."""
    states: dict[str, int] = {}
    for page in client.get_paginator("describe_instances").paginate(Filters=[{"Name": "tag-key", "Values": [tag]}]):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                states[instance["State"]["Name"]] = states.get(instance["State"]["Name"], 0) + 1
    return states


def _raw_round(server, *, count: int, threads: int, instance_type: str) -> dict:
    """``count`` RunInstances (one instance each) and a wait until each runs, on ``threads`` threads."""
    from broker.providers.base import CONTRACT_TAG
    from tests.emulators import TEST_AMI

    client = server.client()
    waiter = client.get_waiter("instance_running")

    durations: list[float] = []

    def create(n: int) -> str:
        began = time.perf_counter()
        tags = [{"Key": CONTRACT_TAG, "Value": f"raw-{n}"}, {"Key": "Name", "Value": f"raw-{n}"}]
        answer = client.run_instances(ImageId=TEST_AMI, InstanceType=instance_type, MinCount=1, MaxCount=1,
                                      TagSpecifications=[{"ResourceType": "instance", "Tags": tags},
                                                         {"ResourceType": "volume", "Tags": tags}])
        instance_id = answer["Instances"][0]["InstanceId"]
        waiter.wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        durations.append(time.perf_counter() - began)
        return instance_id

    client.describe_instances()                                 # the client's endpoint and signer, ready
    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = time.perf_counter()
        made = list(pool.map(create, range(count)))
        seconds = time.perf_counter() - started
    created = _moto_count(client, CONTRACT_TAG)
    client.terminate_instances(InstanceIds=made)
    left = _moto_count(client, CONTRACT_TAG)
    return {"seconds": seconds, "rate": count / seconds, "in_flight": sum(durations) / seconds,
            "create_ms": _ms(statistics.mean(durations)), "created": sum(created.values()),
            "running": created.get("running", 0), "deleted": left.get("terminated", 0)}


def _broker_round(platform, server, plan: str, *, count: int, ledger: Path) -> dict:
    from broker.providers.base import CONTRACT_TAG

    client = server.client()
    started = time.time()
    service_url = platform.instance(plan)
    answered = time.time()
    service, seen = platform.wait(service_url, "running", "failed", timeout=600, every=0.05)
    if service["occi.service.state"] != "running":
        raise RuntimeError(f"the service failed: {service.get('occi.service.message')}")
    calls = read_ledger(ledger, since=started, until=seen)
    created = _moto_count(client, CONTRACT_TAG)
    deleting = time.time()
    platform.delete_service(service_url, timeout=600)
    deleted_in = time.time() - deleting
    left = _moto_count(client, CONTRACT_TAG)
    by_call: dict[str, list[float]] = {}
    for call in calls:
        by_call.setdefault(call["call"], []).append(call["seconds"])
    return {"seconds": seen - started, "rate": count / (seen - started), "instance_request": answered - started,
            # provider calls in flight on average: how much of the reconcilers' concurrency the provider saw
            "in_flight": sum(call["seconds"] for call in calls) / (seen - started),
            "created": sum(created.values()), "running": created.get("running", 0),
            "deleted": left.get("terminated", 0), "delete_seconds": deleted_in,
            "calls": {name: {"count": len(times), "mean_ms": _ms(statistics.mean(times))}
                      for name, times in by_call.items()}}


def moto_rates(work: Path, *, count: int, rounds: int, quiet_wait: float, workers: int = 2) -> dict:
    """Scenario 2: ``count`` nodes through raw boto3 and through the broker, alternately."""
    from tests.emulators import EMU, start_moto

    if not (EMU / "venv-moto" / "bin" / "moto_server").exists():
        raise SystemExit(f"moto is not installed in {EMU / 'venv-moto'}: run make emulators")
    threads = reconciler_concurrency() * workers
    ledger = work / "ledger-moto.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    with start_moto(work) as server:
        config = server.driver_config()
        providers = {"moto": {"driver": DRIVER, "inner": "ec2", "ledger": str(ledger), "agent": False, **config}}
        from broker.providers import create_driver

        probe = create_driver("ec2", **config)
        instance_type = probe.choose_size(1, 512).name           # what the driver picks for these nodes
        probe.close()
        platform = start_platform(work, providers=providers, workers=workers)
        try:
            plan = platform.submit(manifest("deploy-many", count), name="deploy-many.xml")
            warm = platform.submit(manifest("deploy-warm", 2 * workers), name="deploy-warm.xml")
            _broker_round(platform, server, warm, count=2 * workers, ledger=ledger)   # drivers made, sizes read
            server.reset()
            results: dict[str, list[dict]] = {"raw": [], "broker": []}
            for round_number in range(rounds):
                order = ("raw", "broker") if round_number % 2 == 0 else ("broker", "raw")
                for side in order:
                    server.client().describe_images(ImageIds=[config["image"]])      # moto reloads after a reset
                    wait_quiet(_our_pids(platform), max_wait=quiet_wait)
                    with CpuWatch(_our_pids(platform)) as watch:
                        if side == "raw":
                            result = _raw_round(server, count=count, threads=threads, instance_type=instance_type)
                        else:
                            result = _broker_round(platform, server, plan, count=count, ledger=ledger)
                    result["foreign_cpu"] = watch.foreign
                    server.reset()                                  # nothing of this round stays in moto
                    results[side].append(result)
                    log(f"  {side:6s} round {round_number + 1}: {result['rate']:.1f} nodes/s ({result['created']} "
                        f"created, {result['running']} running, {result['deleted']} deleted)")
        finally:
            platform.stop()
    best = {side: max(rows, key=lambda r: r["rate"]) for side, rows in results.items()}
    consistent = all(r["created"] == count and r["running"] == count and r["deleted"] == count
                     for rows in results.values() for r in rows)
    return {"count": count, "rounds": rounds, "threads": threads, "workers": workers,
            "per_reconciler": reconciler_concurrency(), "instance_type": instance_type,
            "raw_rate": best["raw"]["rate"], "broker_rate": best["broker"]["rate"],
            "ratio": best["broker"]["rate"] / best["raw"]["rate"], "consistent": consistent,
            "best_broker": best["broker"], "runs": results}


def run(*, rounds: int, nodes: int, moto_rounds: int, quiet_wait: float, moto: bool = True) -> dict:
    work = Path(tempfile.mkdtemp(prefix="accords-deploy-bench-"))
    try:
        log(f"scenario 1: a 1-node plan on the local provider, {rounds} rounds")
        result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                  "load_before": loadavg(), "overhead": overhead(work / "local", rounds=rounds, quiet_wait=quiet_wait)}
        if moto:
            log(f"scenario 2: {nodes} nodes on moto, raw boto3 and the broker, {moto_rounds} rounds each")
            result["moto"] = moto_rates(work / "moto", count=nodes, rounds=moto_rounds, quiet_wait=quiet_wait)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_after"] = loadavg()
    result["targets"] = {"overhead_ms": OVERHEAD_TARGET_MS, "ratio": RATE_TARGET}
    return result


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)       # so that every finally block stops its processes and nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deploy_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 5 nodes on moto (a smoke test)")
    parser.add_argument("--rounds", type=int, help="1-node rounds (default 20; 1 with --quick)")
    parser.add_argument("--nodes", type=int, help="nodes on moto (default 100; 5 with --quick)")
    parser.add_argument("--moto-rounds", type=int, help="rounds on moto, each way (default 2; 1 with --quick)")
    parser.add_argument("--no-moto", action="store_true", help="scenario 1 only")
    parser.add_argument("--quiet-wait", type=float, help="seconds to wait at most, before each round, for other "
                                                         "processes to leave the CPU (default 30; 2 with --quick)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md's section")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (2.0 if args.quick else 30.0)
    result = run(quiet_wait=quiet_wait, rounds=args.rounds or (1 if args.quick else 20), nodes=args.nodes or (5 if args.quick else 100),
                 moto_rounds=args.moto_rounds or (1 if args.quick else 2), moto=not args.no_moto)
    result["quick"] = args.quick
    o = result["overhead"]["overhead"]
    log(f"overhead median {o['median']:.1f} ms, p95 {o['p95']:.1f} ms (target ≤ {OVERHEAD_TARGET_MS:g} ms)")
    if "moto" in result:
        m = result["moto"]
        log(f"moto: broker {m['broker_rate']:.1f}/s, raw {m['raw_rate']:.1f}/s: {m['ratio']:.0%} "
            f"(target ≥ {RATE_TARGET:.0%}); counts {'consistent' if m['consistent'] else 'INCONSISTENT'}")
    if args.json:
        print(json.dumps(result, indent=2))
    if not args.no_write:
        write(result)
        log("wrote the deployment section of docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
