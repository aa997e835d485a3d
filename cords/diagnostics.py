"""Errors and warnings about CORDS documents, each with where (file:line:column) and a stable code.

Every stage (reading XML, validating against the rules, Cordscript, manifest semantics,
planning) reports through one :class:`Diagnostics` collector, so that a service provider
sees every problem of a document at once, in document order, as
``file:line:col: CODE message`` (the form compilers use, which editors understand).

Codes are stable: tools and tests match on them; messages may improve. The catalogue of
codes (:data:`CODES`) is the single list docs/manifests.md is checked against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

__all__ = ["Location", "Diagnostic", "Diagnostics", "DocumentError", "ERROR", "WARNING", "CODES", "register"]

ERROR, WARNING = "error", "warning"

#: code -> one-line description, filled by the modules that report them (``register``).
CODES: dict[str, str] = {}


def register(code: str, description: str) -> str:
    """Declare a code once, where it is reported; returns it (``BAD_X = register(...)``)."""
    known = CODES.get(code)
    if known is not None and known != description:
        raise ValueError(f"diagnostic code {code} registered twice with different descriptions")
    CODES[code] = description
    return code


@dataclass(frozen=True, order=True)
class Location:
    """Where in a document: 1-based line and column (0 when unknown, e.g. a whole-file problem)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file

    def shifted(self, *, lines: int = 0, column: int | None = None) -> "Location":
        return Location(self.file, self.line + lines, self.column if column is None else column)


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    code: str
    message: str
    location: Location

    def __str__(self) -> str:
        prefix = "" if self.severity == ERROR else "warning: "
        return f"{self.location}: {self.code} {prefix}{self.message}"

    def as_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "file": self.location.file, "line": self.location.line, "column": self.location.column}


@dataclass
class Diagnostics:
    """What went wrong and what looked odd, collected across the stages of one document."""

    items: list[Diagnostic] = field(default_factory=list)
    #: Past this many errors a stage stops reporting (a broken document must not flood).
    limit: int = 200

    def error(self, code: str, message: str, location: Location) -> None:
        self._add(Diagnostic(ERROR, code, message, location))

    def warning(self, code: str, message: str, location: Location) -> None:
        self._add(Diagnostic(WARNING, code, message, location))

    def _add(self, diagnostic: Diagnostic) -> None:
        if diagnostic.code not in CODES:        # a programming error: every code is documented
            raise ValueError(f"diagnostic code {diagnostic.code} is not registered")
        if len(self.items) < self.limit:
            self.items.append(diagnostic)

    def extend(self, other: "Diagnostics") -> None:
        for item in other.items:
            self._add(item)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        """In document order (file, line, column), errors before warnings at one place."""
        return sorted(self.items, key=lambda d: (d.location, d.severity != ERROR, d.code))

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DocumentError(self)


class DocumentError(Exception):
    """A document with errors; ``diagnostics`` holds them all (and the warnings)."""

    def __init__(self, diagnostics: Diagnostics):
        self.diagnostics = diagnostics
        first = diagnostics.sorted()[0] if diagnostics.items else None
        count = len(diagnostics.errors)
        super().__init__(f"{first}" + (f" (and {count - 1} more error{'s' if count > 2 else ''})" if count > 1 else "")
                         if first else "invalid document")
