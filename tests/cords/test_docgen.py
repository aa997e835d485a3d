"""docs/manifests.md's reference is generated from the rules and the registered codes."""
from __future__ import annotations

from pathlib import Path

from cords import docgen

DOC = Path(__file__).resolve().parents[2] / "docs" / "manifests.md"


def test_the_reference_in_docs_manifests_md_is_current():
    assert docgen.update_file(DOC, check=True), "run: python -m cords.docgen docs/manifests.md"


def test_every_problem_code_is_documented_with_its_meaning():
    text = DOC.read_text()
    codes = docgen.all_codes()
    assert len(codes) > 50
    for code, meaning in codes.items():
        assert f"| `{code}` |" in text and meaning.strip()
    for stage in ("xml-", "legacy-", "cords-", "cordscript-"):
        assert any(code.startswith(stage) for code in codes), stage
