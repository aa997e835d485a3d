"""The vocabulary the CORDS rules are written in: attribute types, attribute, child and
element rules, document kinds, and recorded differences from the original XSDs.

The rules themselves (:mod:`cords.rules`) are tables of these dataclasses, one row per
element and attribute, so that one declaration drives validation (:mod:`cords.validate`),
the schema defaults the manifest compiler applies, and the generated documentation.
Only the handful of value *types* below are code; elements are never code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from cords import units
from cords.diagnostics import ERROR, WARNING, register

__all__ = ["Checked", "AttrType", "AttrRule", "ChildRule", "ElementRule", "DocumentKind", "Difference",
           "STRING", "INTEGER", "COUNT", "BOOLEAN", "NUMBER", "SIZE", "SPEED", "BANDWIDTH", "DURATION",
           "FLAG_OR_BANDWIDTH", "integer", "enum", "element", "ID", "STATE", "ERROR", "WARNING",
           "BAD_ENUM", "BAD_INTEGER", "BAD_NUMBER", "BAD_BOOLEAN", "BAD_SIZE", "BAD_SPEED", "BAD_BANDWIDTH",
           "BAD_DURATION", "PREFIXED_VALUE"]

BAD_ENUM = register("cords-bad-enum", "an attribute value is not one of the values allowed for it")
BAD_INTEGER = register("cords-bad-integer", "an attribute that counts or numbers something is not a whole "
                                            "number in its range")
BAD_NUMBER = register("cords-bad-number", "an attribute is not a decimal number (e.g. 0.04)")
BAD_BOOLEAN = register("cords-bad-boolean", "an attribute is not true or false (yes/no and 1/0 also accepted)")
BAD_SIZE = register("cords-bad-size", "a memory or disk size is not a number with K, M, G or T (e.g. 512M)")
BAD_SPEED = register("cords-bad-speed", "a processor speed is not a number with a unit (e.g. 2G or 2.4GHz)")
BAD_BANDWIDTH = register("cords-bad-bandwidth", "a bandwidth is not a number with K, M or G bits per second "
                                                "(e.g. 100M)")
BAD_DURATION = register("cords-bad-duration", "a duration is not seconds or a number with ms, s, m, h, d or w")
PREFIXED_VALUE = register("cords-prefixed-value", "a value carries a document prefix (sla5:services): "
                                                  "accepted without it")


@dataclass(frozen=True)
class Checked:
    """What a type makes of one value: the normalised value, or why it is wrong."""

    value: str
    error: str | None = None
    #: (code, message) for a value accepted with a remark (a dropped prefix).
    warning: tuple[str, str] | None = None


@dataclass(frozen=True)
class AttrType:
    name: str                                   # string, integer, enum, boolean, size, ...
    describe: str                               # for messages and docs: "a size such as 1G"
    code: str | None = None                     # reported when check() returns an error
    check: Callable[[str], Checked] | None = None
    values: tuple[str, ...] = ()                # an enum's canonical values, in order

    def __call__(self, text: str) -> Checked:
        return self.check(text) if self.check else Checked(text)


def _by(parse, code: str, name: str, describe: str) -> AttrType:
    """A type whose values ``parse`` accepts (the value itself is kept as written)."""
    def check(text: str) -> Checked:
        try:
            parse(text)
        except units.UnitError as problem:
            return Checked(text, error=str(problem))
        return Checked(text)
    return AttrType(name, describe, code, check)


STRING = AttrType("string", "text")


def integer(minimum: int | None = 0, maximum: int | None = None) -> AttrType:
    span = (f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more") \
        if minimum is not None else "any whole number"

    def check(text: str) -> Checked:
        raw = text.strip()
        body = raw[1:] if raw[:1] in "+-" else raw
        if not body.isdigit() or not body.isascii():
            return Checked(text, error=f"{text!r} is not a whole number (use {span})")
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return Checked(text, error=f"{value} is out of range (use {span})")
        return Checked(raw)
    return AttrType("integer", f"a whole number {span}", BAD_INTEGER, check)


INTEGER = integer(None)            # xsd:integer as the schemas declare it (state may be negative)
COUNT = integer(0)                 # counts the parser writes back: nodes, actions, users ...

_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def _boolean(text: str) -> Checked:
    word = text.strip().lower()
    if word in _TRUE or word in _FALSE:
        return Checked(text)       # kept as written: "yes" in prices.xml is what the price server stores
    return Checked(text, error=f"{text!r} is not a yes/no value (use true or false)")


BOOLEAN = AttrType("boolean", "true or false (yes/no, 1/0)", BAD_BOOLEAN, _boolean)


def _number(text: str) -> Checked:
    try:
        value = float(text)
    except ValueError:
        return Checked(text, error=f"{text!r} is not a number (e.g. 20 or 0.04)")
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        return Checked(text, error=f"{text!r} is not a number of 0 or more (e.g. 20 or 0.04)")
    return Checked(text)


NUMBER = AttrType("number", "a decimal number of 0 or more (e.g. 0.04)", BAD_NUMBER, _number)

# Memory and disk sizes need their unit (see cords.units: a bare number is ambiguous).
SIZE = _by(lambda t: units.parse_size(t, require_unit=True), BAD_SIZE, "size",
           "a size with K, M, G or T (1G = 1024^3 bytes; 8GB = 8G)")
SPEED = _by(lambda t: units.parse_speed(t, require_unit=True), BAD_SPEED, "speed",
            "a clock speed such as 1G, 1.6G or 3GHz")
BANDWIDTH = _by(lambda t: units.parse_bandwidth(t, require_unit=True), BAD_BANDWIDTH, "bandwidth",
                "a bandwidth in bits per second such as 100M or 1G")
DURATION = _by(units.parse_duration, BAD_DURATION, "duration",
               "seconds, or a number with ms, s, m, h, d or w (e.g. 60 or 5m)")


def _flag_or_bandwidth(text: str) -> Checked:
    if text.strip().lower() in _TRUE + _FALSE:
        return Checked(text)
    try:
        units.parse_bandwidth(text, require_unit=True)
    except units.UnitError:
        return Checked(text, error=f"{text!r} is neither true/false nor a bandwidth such as 100M")
    return Checked(text)


# A network's vlan: the corpus writes both vlan="true" (manual, example1.xml) and vlan="100M".
FLAG_OR_BANDWIDTH = AttrType("vlan", "true/false, or the bandwidth of the VLAN such as 100M", BAD_BANDWIDTH,
                             _flag_or_bandwidth)


LEGACY_VALUE = register("cords-legacy-value", "a value of the original platform's drafts, read as its "
                                              "final-schema equivalent")


def enum(*values: str, aliases: dict[str, str] | None = None, prefixed: bool = False,
         legacy: dict[str, tuple[str, str]] | None = None) -> AttrType:
    """One of ``values``, matched without regard to case (the manual writes TCP, INOUT, EQ where
    the documents write tcp, inout, eq) and normalised to the spelling given here.
    ``prefixed``: a value written with a document prefix (``sla5:services``) is accepted with
    a warning and normalised (CORDS.md §13)."""
    canonical = {v.lower(): v for v in values}
    canonical.update({k.lower(): v for k, v in (aliases or {}).items()})
    drafts = {k.lower(): v for k, v in (legacy or {}).items()}
    listed = ", ".join(values)

    def check(text: str) -> Checked:
        found = canonical.get(text.strip().lower())
        if found is not None:
            return Checked(found)
        draft = drafts.get(text.strip().lower())
        if draft is not None:
            # ``legacy``: value -> (what it is read as, why): accepted from the pre-schema drafts.
            return Checked(draft[0], warning=(LEGACY_VALUE, f"{text!r} is read as {draft[0]!r}: {draft[1]}"))
        if prefixed and ":" in text:
            prefix, _, last = text.strip().rpartition(":")
            found = canonical.get(last.lower())
            if found is not None:
                return Checked(found, warning=(PREFIXED_VALUE, f"{text!r} is read as {found!r}: the prefix "
                                                               f"{prefix + ':'!r} is not part of the value"))
        return Checked(text, error=f"{text!r} is not allowed: use one of {listed}")
    return AttrType("enum", f"one of {listed}", BAD_ENUM, check, tuple(values))


@dataclass(frozen=True)
class AttrRule:
    name: str
    type: AttrType = STRING
    #: The value an absent attribute has (what :func:`cords.rules.defaults` returns).
    default: str | None = None
    #: An XSD default that is Cordscript the original parser *ran* when the attribute was
    #: absent (``plan.new(...)``, ``firewall.build()``): not a value, so never a default here;
    #: the compiler performs the equivalent step explicitly (CORDS.md §13).
    script: str | None = None
    required: bool = False
    #: (value, why) pairs a document may not use (the manifest name "simple").
    reserved: tuple[tuple[str, str], ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class ChildRule:
    tag: str
    min: int = 0
    max: int | None = None              # None: any number
    #: Severity when there are fewer than ``min`` (ERROR, or WARNING where the platform
    #: carries on without the child and the corpus has such documents).
    below_min: str = ERROR
    why: str = ""                       # appended to the "missing child" message

    def cardinality(self) -> str:
        if self.max is None:
            return "any number" if self.min == 0 else f"{self.min} or more"
        if self.min == self.max:
            return f"exactly {self.min}"
        return f"at most {self.max}" if self.min == 0 else f"{self.min} to {self.max}"


@dataclass(frozen=True)
class ElementRule:
    tag: str
    doc: str
    attributes: tuple[AttrRule, ...] = ()
    children: tuple[ChildRule, ...] = ()
    #: Groups of child tags of which at most one tag may be used (network: ports or endpoints).
    exclusive: tuple[tuple[str, ...], ...] = ()
    #: Whether text content is meaningful (only <description>).
    text: bool = False
    #: Whether the element may stand for an earlier definition of the same name (CORDS.md
    #: §7.2, ``<infrastructure name="accords:component"/>``): without child elements its
    #: required children are not asked for.
    reusable: bool = False
    _attrs: dict = field(default=None, init=False, repr=False, compare=False)
    _kids: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_attrs", {a.name: a for a in self.attributes})
        object.__setattr__(self, "_kids", {c.tag: c for c in self.children})

    def attribute(self, name: str) -> AttrRule | None:
        return self._attrs.get(name)

    def child(self, tag: str) -> ChildRule | None:
        return self._kids.get(tag)

    def defaults(self) -> dict[str, str]:
        return {a.name: a.default for a in self.attributes if a.default is not None}


@dataclass(frozen=True)
class DocumentKind:
    name: str                           # manifest, import, agreement, provider
    root: str                           # its root element
    schema: str                         # the original XSD it replaces
    doc: str
    elements: dict[str, ElementRule]    # every element the kind may contain, root first


@dataclass(frozen=True)
class Difference:
    """One deliberate difference from the original XSDs, for the equivalence test and the docs.

    ``item``: ``""`` (the element itself), ``"@name"`` (an attribute) or ``"<tag>"`` (a child);
    ``change``: ``added``, ``dropped``, ``default``, ``type``, ``required`` or ``count``."""

    element: str
    item: str
    change: str
    why: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.element, self.item, self.change)


ID = AttrRule("id", doc="the instance URL (written back by the parser; also refers to an existing instance)")
STATE = AttrRule("state", INTEGER, doc="the instance state (written back by the parser)")


def element(tag: str, doc: str, *attributes: AttrRule, children: tuple[ChildRule, ...] = (),
            common: tuple[AttrRule, ...] = (ID, STATE), **options) -> ElementRule:
    """An element rule; every CORDS element also has ``id`` (first) and ``state`` (last) unless
    ``common`` says otherwise, as in the XSDs."""
    head = tuple(a for a in common if a.name == "id")
    tail = tuple(a for a in common if a.name != "id")
    return ElementRule(tag, doc, head + attributes + tail, children, **options)
