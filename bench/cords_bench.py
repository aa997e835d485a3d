"""``python -m bench.cords_bench``: parse + validate + plan of CORDS documents, in process and over HTTP.

Targets (the CORDS issue): any.xml in at most 2 ms in process and 20 ms through the parser
component over HTTP (submitted: checked, stored, its plan kept by the broker); a generated
manifest of 1,000 nodes with a configuration chain in at most 1 s. Best of several rounds
(the machine is shared); HTTP figures are the median and 95th percentile of sequential
submissions over one keep-alive connection to real ``accords serve`` processes (publisher,
broker, parser) on loopback;
the result goes into its own section of docs/benchmarks.md, which ``python -m bench``
keeps when it rewrites the rest.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.report import machine, replace_section
from cords.check import check

__all__ = ["run", "chain_manifest", "BEGIN", "END"]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
ANY = ROOT.parent / "shared" / "cords-examples" / "manifests" / "any.xml"
BEGIN, END = "<!-- BEGIN CORDS BENCHMARK (python -m bench.cords_bench) -->", "<!-- END CORDS BENCHMARK -->"
#: The same minimal manifest as ../shared/cords-examples/manifests/any.xml (the corpus may be absent).
ANY_TEXT = b"""<?xml version="1.0" encoding="UTF-8"?>
<manifest name="any" xmlns="http://www.compatibleone.fr/schemes/manifest.xsd">
  <node name="any" type="simple" access="public" scope="normal" provider="any">
    <infrastructure name=":any">
      <compute name=":small" architecture="x86_64" cores="1" memory="1G" speed="1G"/>
      <storage name=":small" size="10G"/>
      <network name="compatibleone" label="ethernet" vlan="100M">
        <port name="ssh" protocol="tcp" from="22" to="22"/>
        <port name="cosacs" protocol="tcp" from="8286" to="8286"/>
        <port name="http" protocol="tcp" from="80" to="80"/>
      </network>
    </infrastructure>
    <image name=":ubuntu" agent="none"><system name="ubuntu"/></image>
  </node>
  <configuration/><release/><interface/><account name="test"/><security/>
</manifest>
"""


def chain_manifest(count: int) -> bytes:
    """``count`` nodes sharing one infrastructure and image, each configured from the previous one."""
    parts = ['<manifest name="chain">',
             '<node name="n0"><infrastructure name=":i"><compute name=":c" cores="1" memory="1G" speed="1G"/>'
             '<storage name=":s" size="10G"/><network name=":n"><port name="ssh" protocol="tcp" from="22" to="22"/>'
             '</network></infrastructure><image name=":im"><system name="debian"/></image></node>']
    parts += [f'<node name="n{i}"><infrastructure name=":i"/><image name=":im"/></node>' for i in range(1, count)]
    parts.append("<configuration>")
    parts += [f'<action expression="n{i}.configure(n{i - 1}.hostname); n{i}.system(\'start\');"/>'
              for i in range(1, count)]
    parts.append("</configuration><release/><interface/><account name=\"a\"/><security/></manifest>")
    return "".join(parts).encode()


def _best(data: bytes, name: str, *, rounds: int, per_round: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            result = check(data, name=name)
        best = min(best, (time.perf_counter() - started) / per_round)
    return best, result


def run(*, rounds: int = 5) -> dict:
    source = ANY.read_bytes() if ANY.is_file() else ANY_TEXT
    any_seconds, any_result = _best(source, "any.xml", rounds=rounds, per_round=200)
    chain = chain_manifest(1000)
    chain_seconds, chain_result = _best(chain, "chain.xml", rounds=rounds, per_round=1)
    for result in (any_result, chain_result):
        if not result.ok:
            raise RuntimeError(f"{result.name} did not check cleanly: {[str(d) for d in result.diagnostics.errors]}")
    if chain_result.plan.order != [f"n{i}" for i in range(1000)]:
        raise RuntimeError("the 1,000-node chain was not ordered")
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "any_ms": any_seconds * 1000, "chain_ms": chain_seconds * 1000,
            "any_source": "corpus" if ANY.is_file() else "built-in copy"}


def _submissions(parser_url: str, *, count: int, dry_run: bool, offset: int) -> list[float]:
    import requests

    source = ANY.read_bytes() if ANY.is_file() else ANY_TEXT
    times = []
    with requests.Session() as session:
        for index in range(count):
            data = source.replace(b'name="any"', f'name="any{offset + index}"'.encode(), 1)
            started = time.perf_counter()
            response = session.post(f"{parser_url}/submit", data=data, timeout=30,
                                    params={"name": "any.xml", **({"dry_run": "1"} if dry_run else {})},
                                    headers={"Content-Type": "application/xml", "Accept": "application/json"})
            times.append(time.perf_counter() - started)
            if response.status_code != (200 if dry_run else 201):
                raise RuntimeError(f"submission {index} answered {response.status_code}: {response.text[:300]}")
    return times


def run_http(*, count: int = 200) -> dict:
    """Median and p95 (ms) of submitting any.xml to real parser, broker and publisher processes."""
    import shutil
    import tempfile

    import requests

    from bench import servers
    from bench.load import percentile

    work = Path(tempfile.mkdtemp(prefix="accords-cords-bench-"))
    started = []
    try:
        publisher = servers.start_accords(work / "data", work, component="publisher", workers=1)
        started.append(publisher)
        for component in ("broker", "parser"):
            started.append(servers.start_accords(work / "data", work, component=component, workers=2,
                                                 extra=("--publisher", publisher.url)))
        parser = started[-1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:      # the broker publishes once its workers listen
            listing = requests.get(f"{publisher.url}/publication/", timeout=5,
                                   headers={"Accept": "application/json"}).json()
            if any(r["attributes"]["occi.publication.what"] == "plan" for r in listing.get("resources", [])):
                break
            time.sleep(0.2)
        _submissions(parser.url, count=20, dry_run=False, offset=100_000)        # warm-up
        stored = _submissions(parser.url, count=count, dry_run=False, offset=0)
        checked = _submissions(parser.url, count=count, dry_run=True, offset=200_000)
        return {"submit_p50_ms": percentile(stored, 50) * 1000, "submit_p95_ms": percentile(stored, 95) * 1000,
                "dry_run_p50_ms": percentile(checked, 50) * 1000, "dry_run_p95_ms": percentile(checked, 95) * 1000,
                "submissions": count}
    finally:
        for server in reversed(started):
            servers.stop(server)
        shutil.rmtree(work, ignore_errors=True)


def section(result: dict) -> str:
    m = result["machine"]
    verdict = lambda value, target: "met" if value <= target else "MISSED"  # noqa: E731
    return "\n".join([
        BEGIN, "", "## CORDS documents (parse + validate + plan, in process)", "",
        f"{result['date']}, {m['cpu']}, {m['cores']} cores; best of 5 rounds.", "",
        "| document | time | target | |", "|---|---|---|---|",
        f"| any.xml ({result['any_source']}) | {result['any_ms']:.2f} ms | 2 ms | {verdict(result['any_ms'], 2)} |",
        f"| 1,000 nodes, configure() chain | {result['chain_ms']:.0f} ms | 1,000 ms | "
        f"{verdict(result['chain_ms'], 1000)} |", "",
        *_http_lines(result), "", END])


def _http_lines(result: dict) -> list[str]:
    if "submit_p50_ms" not in result:
        return ["Through the parser component over HTTP (target 20 ms): not measured in this run."]
    verdict = "met" if result["submit_p50_ms"] <= 20 else "MISSED"
    return [
        f"Through the parser component over HTTP ({result['submissions']} sequential submissions of any.xml, "
        "each stored with its plan kept by the broker; 2 workers each, no authentication):", "",
        "| request | median | p95 | target | |", "|---|---|---|---|---|",
        f"| POST /submit (stored) | {result['submit_p50_ms']:.1f} ms | {result['submit_p95_ms']:.1f} ms | 20 ms | "
        f"{verdict} |",
        f"| POST /submit?dry_run=1 (checked only) | {result['dry_run_p50_ms']:.1f} ms | "
        f"{result['dry_run_p95_ms']:.1f} ms | | |"]


def write(result: dict, path: Path = DOC) -> None:
    replace_section(path, begin=BEGIN, end=END, block=section(result))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cords_bench")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="in process only (no servers started)")
    args = parser.parse_args(argv)
    result = run()
    if not args.no_http:
        print("submitting any.xml to parser, broker and publisher processes ...", file=sys.stderr)
        result.update(run_http())
    if args.json:
        print(json.dumps(result))
    else:
        print(f"any.xml {result['any_ms']:.2f} ms; 1,000 nodes {result['chain_ms']:.0f} ms", file=sys.stderr)
        if "submit_p50_ms" in result:
            print(f"over HTTP: submit median {result['submit_p50_ms']:.1f} ms, p95 {result['submit_p95_ms']:.1f} ms; "
                  f"dry run median {result['dry_run_p50_ms']:.1f} ms", file=sys.stderr)
    if not args.no_write:
        write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
