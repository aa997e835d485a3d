"""Reading CORDS XML documents safely, with a precise place for every element and attribute.

:func:`read_document` turns the bytes of a manifest, agreement, import or store into a
:class:`Document`: an lxml tree whose tags carry no namespace, plus the means to say where
anything came from (line and column, 1-based, in characters), so that every later stage can
report ``file:line:col``. It never raises on bad input: problems go to the
:class:`~cords.diagnostics.Diagnostics` collector and the result is None when nothing usable
could be read.

Safety (documents come from service providers, i.e. from anyone):

* the size is checked before anything else (:class:`Limits`);
* any DOCTYPE is refused outright (``xml-doctype``), so entity expansion (billion laughs)
  and external entities or DTDs (file:///etc/passwd, network fetches) cannot happen; the
  lxml parser is also configured not to resolve entities, load DTDs or use the network;
* nesting depth, element count and attribute length are checked by a linear pre-scan of
  the text before lxml builds a tree, so a hostile document costs no more than its size;
* characters XML forbids (NUL, control characters) are a located error;
* processing instructions other than the XML declaration are **ignored with a warning**
  (``xml-processing-instruction``): they mean nothing to CORDS.

Encodings (:mod:`cords.decoding`): the declared encoding is honoured; the non-standard
label ``UTF8`` that most real CORDS files carry is accepted **silently**; Latin-1 bytes in a
UTF-8 document are a legacy repair (``legacy-latin1`` warning), other bad bytes an error.

Legacy mode: when the strict parse fails, :mod:`cords.legacy` repairs the known defects of
the original files (each repair is a warning at its place) and the result is parsed
strictly again; lxml's ``recover`` mode is never used (it drops content silently).

Namespaces: CORDS files use several (manifest.xsd, cords.xsd, slam.xsd, local ``file:``
URLs) for the same vocabulary, so element tags are stripped to their local names and the
root's namespace is kept in :attr:`Document.namespace`. Namespaced *attributes* (none in
the corpus) keep lxml's ``{uri}name`` form, so that they cannot collide with CORDS ones.
"""
from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

from . import legacy
from .decoding import ENCODING, INVALID_UTF8, decode
from .diagnostics import Diagnostics, Location, register

__all__ = [
    "Limits", "Document", "read_document", "read_file",
    "TOO_LARGE", "TOO_DEEP", "TOO_MANY_ELEMENTS", "ATTRIBUTE_TOO_LONG", "DOCTYPE", "INVALID_UTF8",
    "ENCODING", "INVALID_CHARACTER", "MALFORMED", "PROCESSING_INSTRUCTION", "UNREADABLE",
]

TOO_LARGE = register("xml-too-large", "the document is larger than the reader accepts")
TOO_DEEP = register("xml-too-deep", "elements are nested deeper than the reader accepts")
TOO_MANY_ELEMENTS = register("xml-too-many-elements", "the document has more elements than the reader accepts")
ATTRIBUTE_TOO_LONG = register("xml-attribute-too-long", "an attribute value is longer than the reader accepts")
DOCTYPE = register("xml-doctype",
                   "DOCTYPE declarations are not accepted (entities and external DTDs are a security risk)")
INVALID_CHARACTER = register("xml-invalid-character", "a character that XML does not allow (NUL, a control character)")
MALFORMED = register("xml-malformed", "the document is not well-formed XML, even after the legacy repairs")
PROCESSING_INSTRUCTION = register("xml-processing-instruction", "a processing instruction was ignored")
UNREADABLE = register("xml-unreadable", "the file cannot be read")


@dataclass(frozen=True)
class Limits:
    """What the reader accepts; the defaults are far above any real CORDS document."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    max_elements: int = 200_000
    max_attribute_length: int = 64 * 1024


class _Lines:
    """Offsets of line starts, to turn a character offset into (line, column)."""

    def __init__(self, text: str):
        starts, find, pos = [0], text.find, text.find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self.starts = starts
        self.length = len(text)

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        line = min(max(line, 1), len(self.starts))
        return min(self.starts[line - 1] + max(column, 1) - 1, self.length)


# A start tag: name, then attributes where quoted values may hold anything but their quote
# ('<' and '>' too, in legacy documents). Unrolled and possessive, so matching is linear and
# keeps no backtracking state per character (a hostile 10 MB tag must not cost 1 GB).
_TAG = re.compile(r"<([^\s/>!?<\"'=]++)([^<>\"']*+(?:(?:\"[^\"]*+\"|'[^']*+')[^<>\"']*+)*+)>")
_STRAY_AFTER_SLASH = re.compile(r"[^\s=]*")
_PI_TARGET = re.compile(r"[^\s?]*")
# An attribute starts after white space: finditer then never rescans inside a long word.
_ATTR = re.compile(r"(?<=\s)([^\s=/>\"']++)\s*+=\s*+(?:\"([^\"]*+)\"|'([^']*+)')")
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(eq=False)
class Document:
    """A parsed CORDS document: the tree, where it came from, and positions in its source."""

    root: etree._Element
    name: str
    namespace: str | None
    legacy: bool
    #: The decoded source text (line ends normalised to "\n"), which locations refer to.
    source: str = field(default="", repr=False)
    _starts: dict = field(default_factory=dict, repr=False)     # element -> offset of its '<'
    _parsed: str = field(default="", repr=False)                # the text lxml parsed (repaired)
    _map: legacy.OffsetMap | None = field(default=None, repr=False)
    _lines: _Lines | None = field(default=None, repr=False)

    def location(self, element: etree._Element) -> Location:
        """Where the element's start tag '<' is (line only for an element added later)."""
        offset = self._starts.get(element)
        if offset is None or self._lines is None:
            return Location(self.name, getattr(element, "sourceline", None) or 0)
        return self._at(offset)

    def attribute_location(self, element: etree._Element, attribute: str) -> Location:
        """Where the attribute's value starts (after its quote); the element's place if absent."""
        span = self._value_span(element, attribute)
        return self.location(element) if span is None else self._at(span[0])

    def value_location(self, element: etree._Element, attribute: str, offset: int) -> Location:
        """Where character ``offset`` of the attribute's value is, in the source.

        ``offset`` counts characters of the value as parsed (``&amp;`` is one), so an
        error at ``value[offset]`` points at the exact character, across lines. An offset
        past the end points at the closing quote.
        """
        span = self._value_span(element, attribute)
        if span is None:
            return self.location(element)
        start, end = span
        text = self._parsed
        if text.find("&", start, end) < 0:    # no references: one source character each
            return self._at(min(start + max(offset, 0), end))
        pos, count = start, 0
        while count < offset and pos < end:
            if text[pos] == "&":
                semi = text.find(";", pos, end)
                pos = pos + 1 if semi < 0 else semi + 1
            else:
                pos += 1
            count += 1
        return self._at(pos)

    def _at(self, parsed_offset: int) -> Location:
        offset = parsed_offset if self._map is None else self._map.to_original(parsed_offset)
        line, column = self._lines.position(offset)
        return Location(self.name, line, column)

    def _value_span(self, element, attribute: str) -> tuple[int, int] | None:
        offset = self._starts.get(element)
        tag = None if offset is None else _TAG.match(self._parsed, offset)
        if tag is None:
            return None
        for m in _ATTR.finditer(self._parsed, tag.start(2), tag.end(2)):
            if _same_attribute(m.group(1), attribute):
                group = 2 if m.group(2) is not None else 3
                return m.start(group), m.end(group)
        return None


def _same_attribute(written: str, wanted: str) -> bool:
    if wanted.startswith("{"):          # '{uri}local' matches 'prefix:local' (prefix unchecked)
        prefix, _, local = written.partition(":")
        return bool(local) and local == wanted.partition("}")[2]
    return written == wanted


def read_file(path, *, diagnostics: Diagnostics, limits: Limits = Limits()) -> Document | None:
    """Read the file at ``path`` (named in locations as given); None when it cannot be read."""
    name = os.fsdecode(path)
    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > limits.max_bytes:         # refused without reading it
                diagnostics.error(TOO_LARGE, f"the file is {size} bytes long, more than the limit of "
                                  f"{limits.max_bytes}", Location(name))
                return None
            data = stream.read(limits.max_bytes + 1)    # bounded even if it grows (or is a device)
    except OSError as exc:
        diagnostics.error(UNREADABLE, f"cannot read the file: {exc.strerror or exc}", Location(name))
        return None
    return read_document(data, name=name, diagnostics=diagnostics, limits=limits)


def read_document(data: bytes, *, name: str, diagnostics: Diagnostics,
                  limits: Limits = Limits()) -> Document | None:
    """Parse ``data``; None (with errors in ``diagnostics``) when it cannot be read at all."""
    if len(data) > limits.max_bytes:
        diagnostics.error(TOO_LARGE, f"the document is {len(data)} bytes long, more than the limit of "
                          f"{limits.max_bytes}", Location(name))
        return None
    decoded = decode(data, name, diagnostics)
    if decoded is None:
        return None
    text, legacy_encoding = decoded
    if "\r" in text:                    # as XML itself does; keeps lxml's lines and ours equal
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _Lines(text)

    def at(offset: int) -> Location:
        return Location(name, *lines.position(offset))

    bad = _INVALID_CHARS.search(text)
    if bad:
        diagnostics.error(INVALID_CHARACTER, f"character U+{ord(bad.group()):04X} is not allowed in XML",
                          at(bad.start()))
        return None
    scan = _scan(text, limits)
    if scan.error:
        code, message, offset = scan.error
        diagnostics.error(code, message, at(offset))
        return None
    for offset, target in scan.instructions:
        diagnostics.warning(PROCESSING_INSTRUCTION, f"processing instruction <?{target}?> ignored", at(offset))

    root, problem = _parse(text)
    parsed, offsets, starts = text, None, scan.starts
    if root is None:
        repaired = _repair(text, problem, lines, limits, at, diagnostics)
        if repaired is None:
            return None
        root, parsed, offsets, starts = repaired
    if root.getroottree().docinfo.doctype:     # unreachable after the scan; belt and braces
        diagnostics.error(DOCTYPE, "DOCTYPE declarations are not accepted", at(0))
        return None

    elements = list(root.iter(etree.Element))
    namespace = etree.QName(root).namespace
    for element in elements:
        if element.tag[0] == "{":
            element.tag = element.tag.partition("}")[2]
    etree.cleanup_namespaces(root)
    # Start tags and elements are both in document order; the list keeps the proxies alive,
    # which keeps them usable as keys (lxml creates proxies on demand otherwise).
    located = dict(zip(elements, starts)) if len(elements) == len(starts) else {}
    return Document(root, name, namespace, legacy=legacy_encoding or offsets is not None, source=text,
                    _starts=located, _parsed=parsed, _map=offsets, _lines=lines)


def _repair(text: str, problem: tuple[int, int, str], lines: _Lines, limits: Limits, at,
            diagnostics: Diagnostics) -> tuple[etree._Element, str, legacy.OffsetMap, list[int]] | None:
    """Legacy mode, after the strict parse of ``text`` failed with ``problem``.

    Returns the root, the repaired text, the map back to ``text`` and the start tags; or
    None, having reported the strict error (and what still fails after the repairs).
    """
    line, column, message = problem
    first = at(lines.offset(line, column))
    repairs = legacy.find_repairs(text)
    if len(repairs) > legacy.MAX_REPAIRS:       # garbage, not a legacy file: do not flood
        diagnostics.error(MALFORMED, f"{message} (and too many other defects to attempt a repair)", first)
        return None
    for repair in repairs:
        if repair.code:
            diagnostics.warning(repair.code, repair.message, at(repair.where))
    if not repairs:
        diagnostics.error(MALFORMED, message, first)
        return None
    parsed, offsets = legacy.apply_repairs(text, repairs)
    root, second = _parse(parsed)
    if root is None:
        diagnostics.error(MALFORMED, message, first)
        line, column, message = second         # what is still wrong once the known defects are repaired
        again = at(offsets.to_original(_Lines(parsed).offset(line, column)))
        if again != first:
            diagnostics.error(MALFORMED, f"{message} (after the legacy repairs)", again)
        return None
    rescan = _scan(parsed, limits)              # escaping may lengthen a value past its limit
    if rescan.error:
        code, message, offset = rescan.error
        diagnostics.error(code, message, at(offsets.to_original(offset)))
        return None
    return root, parsed, offsets, rescan.starts


class _Scan(NamedTuple):
    starts: list[int]                       # offsets of start tags, in document order
    instructions: list[tuple[int, str]]     # processing instructions other than <?xml?>
    error: tuple[str, str, int] | None      # (code, message, offset) of the first violation


def _scan(text: str, limits: Limits) -> _Scan:
    """One linear pass over the markup: start tags, depth, count, attribute lengths, DOCTYPE.

    Runs before lxml so that a hostile document is refused before a tree is built, at the
    exact place of the violation. '<' cannot occur in text or (well-formed) attribute
    values, so every '<' starts markup.
    """
    starts: list[int] = []
    instructions: list[tuple[int, str]] = []
    depth, pos, n, find, startswith = 0, 0, len(text), text.find, text.startswith
    while (lt := find("<", pos)) >= 0:
        kind = text[lt + 1:lt + 2]
        if kind == "!":
            if startswith("<!--", lt):
                end = find("-->", lt + 4)
                pos = n if end < 0 else end + 3
            elif startswith("<![CDATA[", lt):
                end = find("]]>", lt + 9)
                pos = n if end < 0 else end + 3
            elif text[lt + 2:lt + 9].upper() == "DOCTYPE":
                return _Scan(starts, instructions, (DOCTYPE, "DOCTYPE declarations are not accepted (entities "
                                                    "and external DTDs are a security risk)", lt))
            else:
                pos = lt + 2
        elif kind == "?":
            end = find("?>", lt + 2)
            pos = n if end < 0 else end + 2
            target = _PI_TARGET.match(text, lt + 2, min(lt + 66, n)).group()
            if target.lower() != "xml":     # a misplaced <?xml?> is the parser's (or legacy's) business
                instructions.append((lt, target))
        elif kind == "/":
            depth = max(depth - 1, 0)
            pos = lt + 2
        elif (tag := _TAG.match(text, lt)) is None:
            pos = lt + 1                    # not a tag (legacy text); the parser will judge
        else:
            starts.append(lt)
            if len(starts) > limits.max_elements:
                return _Scan(starts, instructions, (TOO_MANY_ELEMENTS, f"more than {limits.max_elements} "
                                                    "elements", lt))
            if tag.end() - lt > limits.max_attribute_length and (long := _long_value(tag, limits)):
                return _Scan(starts, instructions, long)
            if not _empty(tag.group(2)):
                depth += 1
                if depth > limits.max_depth:
                    return _Scan(starts, instructions, (TOO_DEEP, f"<{_short(tag.group(1))}> is nested more than "
                                                        f"{limits.max_depth} elements deep", lt))
            pos = tag.end()
    return _Scan(starts, instructions, None)


def _empty(attributes: str) -> bool:
    """Whether a start tag closes itself: ends with '/', or with legacy '/1' after the values."""
    if not attributes or attributes[-1] == "/":
        return bool(attributes)
    slash = attributes.rfind("/")
    if slash < 0 or slash < max(attributes.rfind('"'), attributes.rfind("'")):
        return False
    tail = attributes.rstrip()
    return _STRAY_AFTER_SLASH.match(tail, slash + 1).end() == len(tail)


def _long_value(tag: re.Match, limits: Limits) -> tuple[str, str, int] | None:
    for m in _ATTR.finditer(tag.string, tag.start(2), tag.end(2)):
        group = 2 if m.group(2) is not None else 3
        length = m.end(group) - m.start(group)
        if length > limits.max_attribute_length:
            return (ATTRIBUTE_TOO_LONG, f"attribute {_short(m.group(1))!r} of <{_short(tag.group(1))}> is "
                    f"{length} characters long, more than the limit of {limits.max_attribute_length}", m.start(group))
    return None


def _parser() -> etree.XMLParser:
    # A fresh parser per document: its error log is then this document's alone. encoding=
    # overrides the declaration, because we hand lxml the text re-encoded as UTF-8.
    # Do not add collect_ids=False: with it, libxml2 2.14 loads external DTD subsets from
    # local files despite load_dtd=False (tests/cords/test_hostile.py checks this).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, encoding="utf-8")


def _parse(text: str) -> tuple[etree._Element | None, tuple[int, int, str] | None]:
    """The root, or None and the first error as (line, column, message) in ``text``."""
    parser = _parser()
    try:
        return etree.fromstring(text.encode("utf-8"), parser), None
    except etree.XMLSyntaxError as exc:
        entry = next(iter(parser.error_log), None)
        if entry is not None:
            return None, (entry.line, entry.column, _cut(entry.message.strip()))
        line, column = exc.position
        return None, (line, column, _cut(str(exc.msg)))


def _short(name: str) -> str:
    return _cut(name, 40)


def _cut(message: str, limit: int = 200) -> str:
    """libxml2 quotes names and values in its messages; a hostile one must not make them huge."""
    return message if len(message) <= limit else message[:limit] + "..."
