"""Fixtures of the CORDS tests: the example corpus (skipped when absent) and a resource meter."""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from . import EXAMPLES

__all__ = ["examples", "Measured", "measure"]


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"the CORDS example corpus is not at {EXAMPLES}")
    return EXAMPLES


@dataclass
class Measured:
    result: Any
    seconds: float
    peak_bytes: int     # Python allocations only: libxml2's own mallocs are not traced


def _measure(call: Callable[[], Any]) -> Measured:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = call()
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Measured(result, seconds, peak)


@pytest.fixture
def measure() -> Callable[[Callable[[], Any]], Measured]:
    """Run a call, returning its result, duration and peak traced memory."""
    return _measure
