"""Tokenizer and renderer for the OCCI text rendering header values (GFD.229 §4).

Every ``text/plain`` and ``text/occi`` request and response goes through this
module, so it is pure (no Falcon, no model imports), regex-driven and linear in
the length of its input: quoted strings are consumed by one precompiled pattern
per string, never rescanned.

It follows the interop rule of the design notes (OCCI.md §8): *tolerant on
input* (``class`` quoted or not, parameters in any order and any case, unknown
parameters ignored, 1.1-style unquoted ``rel``/``location``, comma-joined header
values) and *exact on output* (GFD.229 parameter order, every value quoted,
only ``{immutable}``/``{required}``). Client mistakes raise
:class:`~occi.errors.BadRequest` with a stable ``code`` and a ``where``.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from occi.errors import BadRequest

__all__ = [
    "split_values",
    "CategoryValue",
    "LinkValue",
    "parse_category",
    "parse_link",
    "parse_attribute",
    "parse_location",
    "quote",
    "format_value",
    "render_category",
    "render_link",
    "render_action_link",
    "render_attribute",
]

_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
# The rest of a quoted string after its opening quote (unrolled loop: linear, no backtracking).
_QUOTED_TAIL = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_QUOTED_FULL = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"\Z', re.S)
_UNESCAPE = re.compile(r"\\(.)", re.S)
_SPECIALS = {sep: re.compile('["<>' + sep + "]") for sep in ",;"}
_BARE = re.compile(r'[^\s"]+\Z')
_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][+-]?\d+)?\Z")
_ATTR_DEF = re.compile(r"\s*([^\s{}]+)(?:\s*\{([^{}]*)\})?")
_URI_BAD = re.compile(r'[\s<>"]')
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CLASSES = frozenset({"kind", "mixin", "action"})
_PROPS = ("immutable", "required")
_LINK_PARAMS = frozenset({"rel", "self", "category"})


@dataclass(frozen=True)
class CategoryValue:
    """One parsed ``category-value``; ``rel`` and ``actions`` are type identifiers."""

    term: str
    scheme: str
    cls: str
    title: str | None = None
    rel: tuple[str, ...] = ()
    location: str | None = None
    attributes: tuple[tuple[str, frozenset[str]], ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkValue:
    """One parsed ``link-value`` (a link or an action link; the caller tells them apart)."""

    target: str
    rel: tuple[str, ...]
    self_: str | None = None
    categories: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- input


def _split(value: str, sep: str, where: str) -> list[str]:
    """Split on ``sep`` outside quoted strings and ``<...>``; strip, drop empties.

    One left-to-right pass: a regex jumps to the next special character and a
    quoted string is consumed whole, so the cost is linear in ``len(value)``.
    """
    special = _SPECIALS[sep]
    items: list[str] = []
    start = pos = 0
    angle = False
    while (m := special.search(value, pos)) is not None:
        c, pos = m.group(), m.end()
        if c == '"':
            q = _QUOTED_TAIL.match(value, pos)
            if q is None:
                raise BadRequest(
                    f"{where}: unterminated quoted string starting at character {m.start() + 1}",
                    code="unterminated-quote", where=where)
            pos = q.end()
        elif c == "<":
            angle = True
        elif c == ">":
            angle = False
        elif not angle:
            items.append(value[start:m.start()])
            start = pos
    items.append(value[start:])
    return [s for s in (i.strip() for i in items) if s]


def split_values(value: str, *, where: str = "header value") -> list[str]:
    """Split a comma-joined header value (RFC 7230 ``#rule``) into its items.

    GFD.229 §7 requires accepting both repeated headers and comma lists, and
    commas inside quoted strings or ``<URI>`` are not separators.
    """
    return _split(value, ",", where)


def _unquote(raw: str, where: str, what: str, code: str) -> str | None:
    """Return the content of a quoted string (unescaped), or None if ``raw`` is bare."""
    if not raw.startswith('"'):
        return None
    m = _QUOTED_FULL.match(raw)
    if m is None:
        if _QUOTED_TAIL.match(raw, 1) is None:
            raise BadRequest(f"{where}: unterminated quoted string in {what}",
                             code="unterminated-quote", where=where)
        raise BadRequest(f"{where}: unexpected text after the quoted string in {what}: {raw!r}",
                         code=code, where=where)
    return _UNESCAPE.sub(r"\1", m.group(1))


def _params(segments: list[str], where: str, code: str) -> list[tuple[str, str, str]]:
    """Split ``name=value`` segments into (original name, lower name, raw value)."""
    out = []
    for seg in segments:
        name, eq, raw = seg.partition("=")
        name = name.strip()
        if not eq or not _TERM.match(name):
            raise BadRequest(f"{where}: expected name=value, got {seg!r}", code=code, where=where)
        out.append((name, name.lower(), raw.strip()))
    return out


def _text_param(raw: str, where: str, name: str, code: str) -> str:
    """A parameter value: quoted string, or (1.1 tolerance) a bare separator-free token."""
    text = _unquote(raw, where, f"{name}=", code)
    if text is not None:
        return text
    if _BARE.match(raw):
        return raw
    raise BadRequest(f'{where}: {name}= value must be a quoted string, got {raw!r}',
                     code=code, where=where)


def _uri(text: str, where: str, what: str, code: str) -> str:
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not text or _URI_BAD.search(text):
        raise BadRequest(f"{where}: {what} {text!r} is not a URI reference", code=code, where=where)
    return text


def _attribute_list(text: str, where: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Parse ``a b{immutable} c{immutable required}``; unknown properties are ignored."""
    out = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _ATTR_DEF.match(text, pos)
        if m is None or not _TERM.match(m.group(1)):
            bad = m.group(1) if m else text[pos:].strip()
            raise BadRequest(f"{where}: invalid attribute definition {bad!r} in attributes=",
                             code="malformed-category", where=where)
        props = frozenset((m.group(2) or "").lower().split()) & frozenset(_PROPS)
        out.append((m.group(1), props))
        pos = m.end()
    return tuple(out)


def _type_ids(text: str, where: str, what: str, code: str) -> tuple[str, ...]:
    ids = tuple(text.split())
    for tid in ids:
        scheme, sep, term = tid.rpartition("#")
        if not sep or not scheme or not _TERM.match(term):
            raise BadRequest(f"{where}: {what} {tid!r} is not a type identifier (scheme#term)",
                             code=code, where=where)
    return ids


def parse_category(value: str, *, where: str) -> CategoryValue:
    """Parse one ``category-value`` (split comma lists with :func:`split_values` first)."""
    segments = _split(value, ";", where)
    if not segments:
        raise BadRequest(f"{where}: empty Category value", code="malformed-category", where=where)
    term = segments[0]
    if not _TERM.match(term):
        raise BadRequest(f"{where}: invalid term {term!r} (letters, digits, '-', '_', '.')",
                         code="invalid-term", where=where)
    seen: dict[str, str] = {}
    for name, key, raw in _params(segments[1:], where, "malformed-category"):
        if key in seen:
            raise BadRequest(f"{where}: duplicate parameter {name}=", code="malformed-category",
                             where=where)
        if key in ("scheme", "class", "rel", "location", "attributes", "actions", "title"):
            seen[key] = _text_param(raw, where, key, "malformed-category")
    scheme = seen.get("scheme")
    if scheme is None:
        raise BadRequest(f'{where}: missing scheme="..."', code="malformed-category", where=where)
    if not scheme.endswith("#") or _URI_BAD.search(scheme):
        raise BadRequest(f"{where}: scheme {scheme!r} must be a URI ending in '#'",
                         code="invalid-scheme", where=where)
    cls = seen.get("class")
    if cls is None:
        raise BadRequest(f'{where}: missing class="kind|mixin|action"', code="malformed-category",
                         where=where)
    cls = cls.strip().lower()
    if cls not in _CLASSES:
        raise BadRequest(f"{where}: class {cls!r} must be kind, mixin or action",
                         code="invalid-class", where=where)
    location = seen.get("location")
    return CategoryValue(
        term=term, scheme=scheme, cls=cls,
        title=seen.get("title"),
        rel=_type_ids(seen.get("rel", ""), where, "rel", "malformed-category"),
        location=None if location is None else _uri(location, where, "location",
                                                    "malformed-category"),
        attributes=_attribute_list(seen.get("attributes", ""), where),
        actions=_type_ids(seen.get("actions", ""), where, "action", "malformed-category"),
    )


def _typed(raw: str, where: str, name: str) -> Any:
    """GFD.229 §4.3 attribute-value: quoted string, int, float or true/false."""
    text = _unquote(raw, where, f"attribute {name}", "malformed-attribute")
    if text is not None:
        return text
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if _INT.match(raw):
            return int(raw)
        if _FLOAT.match(raw):
            return float(raw)
    except ValueError:  # e.g. an int beyond Python's digit limit
        raise BadRequest(f"{where}: attribute {name} has an unusable number {raw[:40]!r}",
                         code="malformed-attribute", where=where) from None
    if not raw:
        raise BadRequest(f"{where}: attribute {name} has an empty value",
                         code="malformed-attribute", where=where)
    raise BadRequest(
        f"{where}: attribute {name} has unquoted value {raw!r}; string values must be quoted, "
        f'e.g. {name}="{raw}"', code="malformed-attribute", where=where)


def parse_attribute(value: str, *, where: str) -> tuple[str, Any]:
    """Parse one ``name=value`` of ``X-OCCI-Attribute`` into ``(name, typed value)``."""
    name, eq, raw = value.partition("=")
    name = name.strip()
    if not eq:
        raise BadRequest(f"{where}: expected name=value, got {value.strip()!r}",
                         code="malformed-attribute", where=where)
    if not _TERM.match(name):
        what = "empty attribute name" if not name else f"invalid attribute name {name!r}"
        raise BadRequest(f"{where}: {what}", code="malformed-attribute", where=where)
    return name, _typed(raw.strip(), where, name)


def parse_link(value: str, *, where: str) -> LinkValue:
    """Parse one ``link-value`` or action link ``<URI>; rel="..."; self=...; name=value``."""
    segments = _split(value, ";", where)
    first = segments[0] if segments else ""
    if not (first.startswith("<") and first.endswith(">")):
        raise BadRequest(f"{where}: a Link value must start with <URI>, got {first!r}",
                         code="malformed-link", where=where)
    target = _uri(first, where, "link target", "malformed-link")
    rel: tuple[str, ...] | None = None
    self_: str | None = None
    categories: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}
    for name, key, raw in _params(segments[1:], where, "malformed-link"):
        if key in _LINK_PARAMS:
            text = _text_param(raw, where, key, "malformed-link")
            if key == "rel":
                rel = _type_ids(text, where, "rel", "malformed-link")
            elif key == "self":
                self_ = _uri(text, where, "self", "malformed-link")
            else:
                categories = _type_ids(text, where, "category", "malformed-link")
        elif name in attributes:
            raise BadRequest(f"{where}: duplicate link attribute {name}",
                             code="malformed-link", where=where)
        else:
            attributes[name] = _typed(raw, where, name)
    if not rel:
        raise BadRequest(f'{where}: missing rel="..."', code="malformed-link", where=where)
    return LinkValue(target=target, rel=rel, self_=self_, categories=categories,
                     attributes=attributes)


def parse_location(value: str, *, where: str) -> str:
    """Parse one ``X-OCCI-Location`` value (``<URI>`` or bare URI, absolute or path)."""
    return _uri(value, where, "location", "malformed-location")


# -------------------------------------------------------------------------- output


def quote(s: str) -> str:
    """RFC 7230 quoted-string; control characters would break the header, so refuse them."""
    if _CTL.search(s):
        raise ValueError(f"cannot render control characters in a header value: {s!r}")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_float(v: float) -> str:
    if not math.isfinite(v):
        raise ValueError(f"{v!r} has no OCCI text rendering")
    text = repr(v)
    if "e" in text or "E" in text:  # 1e+20 -> 100000000000000000000.0 (the grammar has no exponent)
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def format_value(v: Any) -> str:
    """Render an attribute value: strings quoted, numbers bare, true/false, JSON quoted."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _format_float(v)
    if isinstance(v, (list, tuple, dict)):
        return quote(json.dumps(v, separators=(",", ":")))
    raise TypeError(f"cannot render {type(v).__name__} value {v!r} as an OCCI attribute")


def _ids(v: str | Iterable[str]) -> str:
    return v if isinstance(v, str) else " ".join(v)


def render_category(*, term: str, scheme: str, cls: str, title: str | None = None,
                    rel: str | Iterable[str] = (), location: str | None = None,
                    attributes: Iterable[tuple[str, Iterable[str]]] = (),
                    actions: Iterable[str] = ()) -> str:
    """Render one ``category-value`` in GFD.229 order, every value quoted but ``class`` (OCCI.md §8)."""
    if not _TERM.match(term) or not scheme.endswith("#") or cls not in _CLASSES:
        raise ValueError(f"invalid category {scheme!r}{term!r} of class {cls!r}")
    parts = [term, "scheme=" + quote(scheme), "class=" + cls]
    if title:
        parts.append("title=" + quote(title))
    if rel := _ids(rel):
        parts.append("rel=" + quote(rel))
    if location:
        parts.append("location=" + quote(location))
    defs = []
    for name, props in attributes:
        props = set(props)
        known = [p for p in _PROPS if p in props]
        defs.append(name + ("{" + " ".join(known) + "}" if known else ""))
    if defs:
        parts.append("attributes=" + quote(" ".join(defs)))
    if acts := _ids(actions):
        parts.append("actions=" + quote(acts))
    return "; ".join(parts)


def render_attribute(name: str, value: Any) -> str:
    """Render one ``X-OCCI-Attribute`` item ``name=value``."""
    if not _TERM.match(name):
        raise ValueError(f"invalid attribute name {name!r}")
    return name + "=" + format_value(value)


def _angle(uri: str) -> str:
    if not uri or _URI_BAD.search(uri):
        raise ValueError(f"cannot render {uri!r} as <URI>")
    return "<" + uri + ">"


def render_link(*, target: str, rel: str | Iterable[str], self_: str | None = None,
                categories: Iterable[str] = (), attributes: dict[str, Any] | None = None) -> str:
    """Render one ``link-value``: ``<target>; rel="..."; self="..."; category="..."; a=v``."""
    parts = [_angle(target), "rel=" + quote(_ids(rel))]
    if self_:
        parts.append("self=" + quote(self_))
    if cats := _ids(categories):
        parts.append("category=" + quote(cats))
    parts.extend(render_attribute(k, v) for k, v in (attributes or {}).items())
    return "; ".join(parts)


def render_action_link(*, uri: str, rel: str) -> str:
    """Render an action link ``<uri?action=term>; rel="scheme#term"``."""
    return _angle(uri) + "; rel=" + quote(rel)
