"""Attribute declarations: the typed, documented properties of a Category.

An :class:`Attribute` is declared once and drives validation, the text and JSON
renderings of the model (``{immutable}``/``{required}``, GFD.226 attribute
descriptions), the storage filter index and the generated documentation.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from occi.errors import BadRequest

__all__ = ["Attribute", "TYPES", "AttributeValueError"]

#: The attribute types a declaration may use. ``integer``, ``enum`` and ``datetime``
#: refine the GFD.226 JSON types ``number`` and ``string``; the refinement travels in
#: the attribute description's ``pattern`` (a JSON Schema, as GFD.226 §3.5.1 allows).
TYPES = ("string", "number", "integer", "boolean", "array", "object", "enum", "datetime")

_JSON_TYPE = {
    "string": "string", "number": "number", "integer": "number", "boolean": "boolean",
    "array": "array", "object": "object", "enum": "string", "datetime": "string",
}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class AttributeValueError(BadRequest):
    default_code = "invalid-attribute"


@dataclass(frozen=True)
class Attribute:
    """One attribute of a Kind, Mixin or Action (action parameters are attributes too)."""

    name: str
    type: str = "string"
    mutable: bool = True
    required: bool = False
    default: Any = None
    description: str = ""
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: Attributes the server maintains (ids, states) are never taken from a client,
    #: even at creation; ``mutable=False`` alone still lets a client set them once.
    server_managed: bool = False
    #: Write-only: accepted and stored, never rendered nor usable in a filter (password hashes,
    #: token digests). A hook usually replaces what the client sent (a password) by a hash.
    secret: bool = False
    _regex: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"invalid attribute name {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"attribute {self.name}: unknown type {self.type!r}")
        if self.type == "enum" and not self.enum:
            raise ValueError(f"attribute {self.name}: an enum needs its values")
        if self.pattern is not None:
            object.__setattr__(self, "_regex", re.compile(self.pattern))
        if self.default is not None:
            self.check(self.default)

    # -- validation ---------------------------------------------------------------
    def check(self, value: Any, *, where: str | None = None) -> Any:
        """Return ``value`` in its canonical Python form or raise AttributeValueError."""
        where = where or self.name
        kind = self.type
        if kind in ("string", "enum", "datetime"):
            if not isinstance(value, str):
                raise self._error(value, "a quoted string", where)
            if _CONTROL.search(value):
                raise AttributeValueError(
                    f"attribute {self.name}: control characters (newlines included) cannot travel in "
                    "OCCI text renderings; encode the value (e.g. base64)", where=where)
            if kind == "enum" and value not in self.enum:
                raise AttributeValueError(
                    f"attribute {self.name}: {value!r} is not one of {', '.join(self.enum)}",
                    where=where)
            if kind == "datetime":
                _parse_datetime(self, value, where)
            if self._regex is not None and not self._regex.fullmatch(value):
                raise AttributeValueError(
                    f"attribute {self.name}: {value!r} does not match the pattern {self.pattern}",
                    where=where)
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self._error(value, "true or false", where)
            return value
        if kind in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._error(value, "an unquoted number", where)
            if isinstance(value, float) and not math.isfinite(value):
                raise self._error(value, "a finite number", where)
            if kind == "integer":
                if isinstance(value, float):
                    if not value.is_integer():
                        raise self._error(value, "a whole number", where)
                    value = int(value)
            if self.minimum is not None and value < self.minimum:
                raise AttributeValueError(
                    f"attribute {self.name}: {value} is below the minimum {self.minimum:g}", where=where)
            if self.maximum is not None and value > self.maximum:
                raise AttributeValueError(
                    f"attribute {self.name}: {value} is above the maximum {self.maximum:g}", where=where)
            return value
        if kind == "array":
            if isinstance(value, str):  # text renderings carry arrays as quoted JSON
                value = _json_text(self, value, where)
            if not isinstance(value, list):
                raise self._error(value, "an array", where)
            return value
        if kind == "object":
            if isinstance(value, str):
                value = _json_text(self, value, where)
            if not isinstance(value, dict):
                raise self._error(value, "an object", where)
            return value
        raise AssertionError(kind)  # pragma: no cover - guarded by __post_init__

    def _error(self, value: Any, expected: str, where: str) -> AttributeValueError:
        return AttributeValueError(
            f"attribute {self.name} must be {expected} ({self.type}); got {_describe(value)}",
            where=where)

    # -- descriptions --------------------------------------------------------------
    @property
    def json_type(self) -> str:
        return _JSON_TYPE[self.type]

    def json_pattern(self) -> dict | None:
        """The JSON Schema refinement rendered as GFD.226 ``pattern``."""
        schema: dict[str, Any] = {}
        if self.type == "integer":
            schema["type"] = "integer"
        if self.type == "enum":
            schema["enum"] = list(self.enum)
        if self.type == "datetime":
            schema["format"] = "date-time"
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema or None

    def describe(self) -> dict:
        """GFD.226 §3.5.1 attribute description."""
        out: dict[str, Any] = {"mutable": self.mutable, "required": self.required,
                               "type": self.json_type}
        pattern = self.json_pattern()
        if pattern:
            out["pattern"] = pattern
        if self.default is not None and isinstance(self.default, (str, int, float, bool)):
            out["default"] = self.default
        if self.description or self.secret:
            out["description"] = (self.description + " (write-only)").strip() if self.secret else self.description
        return out

    def text_definition(self) -> str:
        """GFD.229 attribute-def: ``name`` with ``{immutable required}`` properties."""
        props = [p for p, on in (("immutable", not self.mutable), ("required", self.required)) if on]
        return f"{self.name}{{{' '.join(props)}}}" if props else self.name


def _json_text(attribute: Attribute, value: str, where: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise AttributeValueError(
            f"attribute {attribute.name}: {value!r} is not valid JSON ({exc.msg})", where=where) from None


def _parse_datetime(attribute: Attribute, value: str, where: str) -> None:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AttributeValueError(
            f"attribute {attribute.name}: {value!r} is not an absolute ISO 8601 date-time",
            where=where) from None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"a JSON {type(value).__name__}"
