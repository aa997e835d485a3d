"""How attribute values are stored: compact JSON, and typed text for the filter index."""
from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["index_value", "canonical", "dump", "load", "MAX_INDEXED_CHARS"]

#: Longer strings are not indexed: they are rare filter values and would bloat the index.
MAX_INDEXED_CHARS = 256


def index_value(value: Any) -> str | None:
    """The indexed text of a scalar attribute value, or None when it is not indexed.

    The type is part of the text so that the string "2" never matches the number 2,
    while 2 and 2.0 (the same number) share ``n:2``; booleans are ``b:true``/``b:false``.
    """
    text = _scalar_text(value)
    return text if text is not None and len(text) <= MAX_INDEXED_CHARS + 2 else None


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return "n:" + str(value)
    if isinstance(value, float):
        integral = math.isfinite(value) and value.is_integer()
        return "n:" + (str(int(value)) if integral else repr(value))
    if isinstance(value, str):
        return "s:" + value
    return None


def canonical(value: Any) -> Any:
    """A comparable form with the equality of :func:`index_value`, for any JSON value."""
    if isinstance(value, (list, tuple)):
        return ("l", tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    text = _scalar_text(value)
    return text if text is not None else ("z", repr(value))


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_scan = json.JSONDecoder().scan_once


def load(text: str) -> Any:
    """``json.loads`` for the compact JSON we write: the C scanner alone, as the wrapper
    layers cost more than parsing a small object (this is the hot loop of listings)."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)     # raises the proper error
    return value if end == len(text) else json.loads(text)


