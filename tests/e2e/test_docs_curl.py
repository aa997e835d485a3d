"""The curl examples of docs/occi.md run against a real `accords serve provisioning`."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "occi.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)

pytestmark = pytest.mark.e2e


def examples() -> list[tuple[str, str]]:
    found = []
    for block in BLOCK.findall(DOC.read_text()):
        first, _, body = block.partition("\n")
        match = re.match(r"# expect: (\d{3})$", first.strip())
        assert match, f"every sh example in docs/occi.md starts with '# expect: NNN'; got {first!r}"
        found.append((match.group(1), body))
    return found


def test_docs_have_curl_examples():
    assert len(examples()) >= 10


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (.ci/run installs it)")
def test_curl_examples_work_against_accords_serve(serve, tmp_path):
    server = serve("provisioning")
    script = ["set -u", f"OCCI={server.url}", f"TOKEN={server.token}"]
    for index, (status, body) in enumerate(examples()):
        out = tmp_path / f"example-{index}.txt"
        script.append(f"{{\n{body}\n}} > {out} 2>&1")
        script.append(f"grep -q '^HTTP/1.1 {status} ' {out} || {{ echo 'example {index} expected {status}:'; "
                      f"cat {out}; exit 1; }}")
    result = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # The tour's last word: the compute is gone, its storage remains.
    listing = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {server.token}", f"{server.url}/storage/"],
                             capture_output=True, text=True, timeout=10).stdout
    assert listing.count("X-OCCI-Location:") == 1
