"""Tests of the CORDS document layer (reader, legacy repairs, and what builds on them).

``EXAMPLES`` is the corpus of real CORDS documents (docs/CORDS.md §2). It lives outside the
repository; tests that need it are skipped when it is absent (set ``ACCORDS_CORDS_EXAMPLES``
to point elsewhere). The product itself never reads it.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EXAMPLES", "EXAMPLE_FOLDERS", "example_files"]

EXAMPLES = Path(os.environ.get("ACCORDS_CORDS_EXAMPLES")
                or Path(__file__).resolve().parents[3] / "shared" / "cords-examples")
EXAMPLE_FOLDERS = ("manifests", "agreements", "imports", "stores")


def example_files() -> list[str]:
    """Every example document as 'folder/file.xml' (empty when the corpus is absent)."""
    if not EXAMPLES.is_dir():
        return []
    return sorted(f"{folder}/{path.name}" for folder in EXAMPLE_FOLDERS
                  for path in (EXAMPLES / folder).glob("*.xml"))
