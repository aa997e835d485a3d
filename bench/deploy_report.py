"""The deployment benchmark's section of docs/benchmarks.md (between :data:`BEGIN` and :data:`END`)."""
from __future__ import annotations

from pathlib import Path

from bench.report import replace_section

__all__ = ["section", "write", "BEGIN", "END", "DOC", "OVERHEAD_TARGET_MS", "RATE_TARGET", "PHASES"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN, END = ("<!-- BEGIN DEPLOY BENCHMARK (python -m bench.deploy_bench) -->", "<!-- END DEPLOY BENCHMARK -->")
#: Broker overhead of a 1-node plan on the local provider, at most (median).
OVERHEAD_TARGET_MS = 30.0
#: The broker's create rate over raw boto3's on moto, at least.
RATE_TARGET = 0.8

#: Where one round's time goes, in order, and what each phase is.
PHASES = {
    "contract_stored": "`POST plan?action=instance` sent → contract stored (its `created` event): the broker "
                       "makes the service and creates the contract at provisioning",
    "pickup": "contract stored → placed (`place` event): the reconciler, woken once the request committed, lists "
              "what is due, claims the contract, places it",
    "until_provider": "placed → first provider call: `creating` written (its report is handed to the reporter "
                      "thread), the create starts in the same lease",
    "after_provider": "last provider call → `configure` event: `configuring` written, configured in the same lease "
                      "(no statements), `running` written",
    "until_seen_running": "`configure` event → the client sees the service running: the reporter sends `running` "
                          "to the broker, the service is updated, the client's next poll",
}


def _ms(stats: dict, key: str = "median") -> str:
    return f"{stats[key]:.1f} ms" if stats else "—"


def _overhead_lines(o: dict) -> list[str]:
    met = o["overhead"]["median"] <= OVERHEAD_TARGET_MS
    verdict = "**met**" if met else "**missed**"
    lines = [
        "### 1. Broker overhead, 1-node plan, local provider", "",
        f"{o['rounds']} rounds after an untimed warm-up; broker, parser and provisioning with {o['workers']} "
        "workers each.", "",
        "| per round | median | p95 | min | max |", "|---|---:|---:|---:|---:|",
        *(f"| {label} | {_ms(o[key])} | {_ms(o[key], 'p95')} | {_ms(o[key], 'min')} | {_ms(o[key], 'max')} |"
          for label, key in (("total: instance → service seen running", "total"),
                             ("provider's own time (every driver call)", "provider"),
                             ("of which the node agent's start", "agent_start"),
                             (f"**broker overhead** = total − provider (target ≤ {OVERHEAD_TARGET_MS:g} ms: "
                              f"{verdict})", "overhead"))),
        "", "Where the broker's time goes (medians of each phase; they add up to the overhead, the provider "
        "call aside):", "", "| phase | median | p95 |", "|---|---:|---:|",
        *(f"| {PHASES[name]} | {_ms(o['phases'][name])} | {_ms(o['phases'][name], 'p95')} |" for name in PHASES), ""]
    phases = {name: o["phases"][name]["median"] for name in PHASES if o["phases"].get(name)}
    largest = max(phases, key=phases.get)
    if o.get("foreign_cpu"):
        lines += [f"Other processes used {o['foreign_cpu']['mean']:.0%} of the machine's CPU on average during the "
                  f"rounds (at most {o['foreign_cpu']['max']:.0%}; the node agent counts as other); "
                  f"{o['noisy_rounds']} round(s) above 25% (NOISY).", ""]
    lines += [
        f"The largest phase is **{largest}** ({phases[largest]:.1f} ms median). On the pickup: the contract's "
        "create hook wakes the reconciler of the worker that served it once the transaction has committed; "
        "the other worker's reconciler polls every "
        f"{o['interval_ms']:.0f} ms (`accords serve provisioning --reconcile-interval`). A pickup near the "
        "interval is a missed wake-up, picked up by a poll: the p95 and max of the pickup show how often it "
        "happens.", ""]
    return lines


def _moto_lines(m: dict) -> list[str]:
    met = m["ratio"] >= RATE_TARGET
    best = m["best_broker"]
    calls = ", ".join(f"{name} ×{c['count']} ({c['mean_ms']:.1f} ms mean)" for name, c in sorted(best["calls"].items()))
    rounds = "; ".join(f"{side} " + ", ".join(f"{r['rate']:.1f}/s" for r in rows) for side, rows in m["runs"].items())
    checks = [f"{side} round {i + 1}: {r['created']} created, {r['running']} running, {r['deleted']} deleted"
              for side, rows in m["runs"].items() for i, r in enumerate(rows)]
    noise = [f"{side} round {i + 1} {r['foreign_cpu']:.0%}" for side, rows in m["runs"].items()
             for i, r in enumerate(rows) if r.get("foreign_cpu") is not None]
    raw = max(m["runs"]["raw"], key=lambda r: r["rate"])
    return [
        f"### 2. {m['count']} nodes on moto: the broker against raw boto3", "",
        "| creates | nodes/s | |", "|---|---:|---|",
        f"| raw boto3: `RunInstances` (1 instance per call) + `instance_running` waiter, {m['threads']} threads "
        f"| {m['raw_rate']:.1f} | |",
        f"| the broker: `plan?action=instance` → service running, `ec2` provider (`agent: false`) | "
        f"{m['broker_rate']:.1f} | {m['ratio']:.0%} of raw: {'**met**' if met else '**missed**'} "
        f"(target ≥ {RATE_TARGET:.0%}) |", "",
        f"Best of {m['rounds']} round(s) each way, alternating which goes first (all rounds: {rounds}). "
        f"{m['threads']} threads = {m['workers']} provisioning workers × {m['per_reconciler']} (each worker's "
        f"reconciler pool). Instance type {m['instance_type']}. In the broker's best round the `instance` request "
        f"itself took {best['instance_request'] * 1000:.0f} ms (the broker making {m['count']} contracts) and the "
        f"provider calls were: {calls}; deleting the service took {best['delete_seconds']:.1f} s.", "",
        f"Provider calls in flight on average (the sum of the calls' durations over the elapsed time): "
        f"{best['in_flight']:.1f} through the broker, {raw['in_flight']:.1f} for raw boto3 (whose create + wait "
        f"took {raw['create_ms']:.0f} ms on average). Other processes' share of the CPU per round: "
        f"{', '.join(noise) or 'not measured'}.", "",
        f"Consistency ({'**consistent**' if m['consistent'] else '**INCONSISTENT**'}; moto is reset after each "
        "round, so each count is that round's): " + "; ".join(checks) + ".", ""]


def section(result: dict) -> str:
    m = result["machine"]
    lines = [
        BEGIN, "", "## Deploying: broker overhead and create rate", "",
        f"{result['date']}, {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); "
        "`python -m bench.deploy_bench`" + (" `--quick`" if result.get("quick") else "") + f"; load average "
        f"{result.get('load_before', '?')} before, {result.get('load_after', '?')} after. Each round starts once "
        "other processes use less than 15% of the CPU (waiting at most `--quiet-wait` seconds).", "",
        "Method: real `accords serve` processes (security, publisher, broker, parser, provisioning) on "
        "loopback, authenticated as in production, SQLite stores. The provisioning component's providers.json "
        "names the `timed` driver (`bench/deploy_timing.py`), which delegates to the real driver (`local`, "
        "`ec2`) and appends how long each call took to a ledger: the provider's own time is what its calls "
        "took, whatever the broker does around them. For the local provider that includes starting the node "
        "agent (a Python process; its start is read from the node's files). Times across processes are "
        "wall-clock (one machine); the client polls the service every "
        f"{result['overhead']['poll_ms']:.0f} ms in scenario 1, which counts in the total. Absolute times on "
        "a shared machine are noisy: compare the ratio, and the phases, within one run.", "",
        *_overhead_lines(result["overhead"]),
    ]
    if "moto" in result:
        lines += _moto_lines(result["moto"])
    else:
        lines += ["### 2. Nodes on moto: not measured in this run (`--no-moto`).", ""]
    return "\n".join([*lines, END])


def write(result: dict, path: Path = DOC) -> None:
    replace_section(path, begin=BEGIN, end=END, block=section(result))
