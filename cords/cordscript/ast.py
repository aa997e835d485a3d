"""The syntax tree of the Cordscript subset used in manifests and agreements (CORDS.md §8).

Only two statement forms exist (CORDS reference manual, "Configuration Statements"):

* an *affectation* ``Node.prop = "value";`` (:class:`Assignment`), and
* a *method call* ``Node.method(arguments);`` (:class:`Call`), which covers node linkage,
  command invocation, monitoring, node actions, interface invocation and the parse-time
  attribute methods (``X.new(...)``, ``X.resolve(...)``, ``alert.new()``...).

Arguments are constants or node access paths; there are no nested calls, operators,
variables or blocks, so the tree is flat and its depth is bounded by the grammar.

Every node keeps the character ``offset`` where it starts in the parsed text and its
document ``location``. Both are excluded from equality, so that tests and callers can
compare structure (``Path(("a", "b")) == parsed.target``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from cords.diagnostics import Location

__all__ = ["Path", "StringValue", "NumberValue", "PathValue", "Value", "Assignment", "Call", "Statement"]


def _where():
    # offset/location describe where a node was written, not what it means: not compared.
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Path:
    """A node access path: ``accords:publisher.publisher.hostname`` -> parts
    ``("accords:publisher", "publisher", "hostname")``. Node names may contain ':' and '-'."""

    parts: tuple[str, ...]
    offset: int | None = _where()
    location: Location | None = _where()

    @property
    def root(self) -> str:
        return self.parts[0]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class StringValue:
    """A quoted constant. Cordscript has no escape sequences: a string ends at the next quote
    of the kind that opened it, and backslashes are literal (Windows paths in real manifests)."""

    text: str
    offset: int | None = _where()
    location: Location | None = _where()


@dataclass(frozen=True)
class NumberValue:
    number: int | float
    offset: int | None = _where()
    location: Location | None = _where()


@dataclass(frozen=True)
class PathValue:
    """A node property (``Sqldatabase.hostname``), a monitoring metric (``coobas.Transactions``)
    or an attribute reference of a parse-time method (``id.value``)."""

    path: Path
    offset: int | None = _where()
    location: Location | None = _where()


Value = Union[StringValue, NumberValue, PathValue]


@dataclass(frozen=True)
class Assignment:
    """``Node.prop = value;``: ``target.parts == ("Node", "prop")``."""

    target: Path
    value: Value
    offset: int | None = _where()
    location: Location | None = _where()


@dataclass(frozen=True)
class Call:
    """``Node.method(arguments);``: ``target`` is the path before the method, ``method`` is
    lowercased (method names are case-insensitive: ``Configure`` == ``configure``)."""

    target: Path
    method: str
    arguments: tuple[Value, ...] = ()
    offset: int | None = _where()
    location: Location | None = _where()
    #: Where the method name is written (compile errors about the method point there).
    method_offset: int | None = _where()
    method_location: Location | None = _where()


Statement = Union[Assignment, Call]
