"""The legacy repair pass: turn the not-quite-XML of the original CORDS files into XML.

The original ACCORDS tools wrote and accepted documents that a conforming XML parser
rejects (see docs/CORDS.md §2). :func:`find_repairs` finds those defects in the decoded
text of a document and proposes the smallest textual edit for each; the reader applies
them (:func:`apply_repairs`), parses the result strictly again, and reports every repair
as a warning at its place *in the original text* (:class:`OffsetMap` maps positions in the
repaired text back), so a producer can fix the file.

Repaired defects (each with its warning code):

* blank lines before the XML declaration (manifest-testaz/os/pa.xml, slamtest.xml);
* ``&`` that starts no valid reference, e.g. Windows ``&&`` in an expression
  (pademo_poc4*.xml, pademo_win_http.xml): escaped as ``&amp;``;
* ``<`` in text or in an attribute value: escaped as ``&lt;``;
* stray characters inside a start tag, e.g. ``vlan="100M"/1>`` (platform.xml): removed;
* a repeated attribute (slamtest.xml's ``template``): the first is kept;
* an unquoted attribute value ``<node name=foo>``: quoted;
* (in :mod:`cords.decoding`, before parsing) Latin-1 bytes in a UTF-8 document.

The pass is a tolerant tokenizer over markup, not a parser: it never reorders or invents
elements (mismatched or unclosed tags are not guessed at; the strict parse reports them).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .diagnostics import register

__all__ = [
    "Repair", "OffsetMap", "find_repairs", "apply_repairs", "MAX_REPAIRS",
    "LEADING_BLANK", "UNESCAPED_AMPERSAND", "UNESCAPED_LT", "STRAY_TEXT",
    "DUPLICATE_ATTRIBUTE", "UNQUOTED_ATTRIBUTE", "LATIN1",
]

LEADING_BLANK = register(
    "legacy-leading-blank", "blank text before the XML declaration was removed (legacy repair)")
UNESCAPED_AMPERSAND = register(
    "legacy-unescaped-ampersand",
    "an '&' that starts no character or entity reference was escaped as &amp; (legacy repair)")
UNESCAPED_LT = register(
    "legacy-unescaped-lt", "a '<' in text or in an attribute value was escaped as &lt; (legacy repair)")
STRAY_TEXT = register(
    "legacy-stray-text", "stray characters inside a start tag were removed (legacy repair)")
DUPLICATE_ATTRIBUTE = register(
    "legacy-duplicate-attribute", "a repeated attribute was dropped, the first occurrence kept (legacy repair)")
UNQUOTED_ATTRIBUTE = register(
    "legacy-unquoted-attribute", "an unquoted attribute value was quoted (legacy repair)")
LATIN1 = register(
    "legacy-latin1", "a document declared UTF-8 contains Latin-1 bytes and was read as Windows-1252 (legacy repair)")


@dataclass(frozen=True)
class Repair:
    """Replace ``text[start:end]`` (offsets in the original text) by ``replacement``.

    ``code`` is None for an edit that is part of another repair's warning (the closing
    quote of an unquoted value), so that one defect gives one warning.
    """

    start: int
    end: int
    replacement: str
    code: str | None = None
    message: str = ""
    #: Where to report it, when not at ``start`` (a dropped attribute: at its name).
    at: int | None = None

    @property
    def where(self) -> int:
        return self.start if self.at is None else self.at


# XML names, loosely (the strict parse judges them); a name may not contain '=' or quotes.
_NAME = re.compile(r"[A-Za-z_:\u00c0-\uffff][^\s<>/=\"'&;]*")
_WS = re.compile(r"\s*")
_LEADING = re.compile(r"[ \t\r\n]+(?=<\?xml[\s?])")
# An '&' is fine only when it starts a predefined entity or a character reference: the
# reader refuses DTDs, so no other entity can be defined.
_BAD_AMPERSANDS = re.compile(r"(?:&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);))++")
# An unquoted value runs to white space or the end of the tag; "foo/>" keeps its "/>".
# Patterns are "unrolled" and possessive: a per-character alternation would make Python's
# regex engine keep backtracking state for each character (hundreds of MB on a hostile tag).
_UNQUOTED = re.compile(r"[^\s>/\"'<=`]*+(?:/(?!>)[^\s>/\"'<=`]*+)*+")
_STRAY = re.compile(r"[^\s<>/]*+(?:/(?!>)[^\s<>/]*+)*+")
#: A document needing more repairs than this is not a legacy CORDS file but garbage; the
#: reader then reports the strict error alone (and the pass stays cheap).
MAX_REPAIRS = 1000
_SKIPS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"), ("</", ">"))


def find_repairs(text: str) -> list[Repair]:
    """The edits that make ``text`` well-formed where a known legacy defect is found, in order.

    Stops soon after :data:`MAX_REPAIRS` edits (the caller then gives up on the document).
    """
    repairs: list[Repair] = []
    m = _LEADING.match(text)
    pos = 0
    if m:
        repairs.append(Repair(0, m.end(), "", LEADING_BLANK,
                              "blank text before the XML declaration removed (it must come first)"))
        pos = m.end()
    n = len(text)
    while pos < n and len(repairs) <= MAX_REPAIRS:
        lt = text.find("<", pos)
        _escape_text(text, pos, n if lt < 0 else lt, repairs)
        if lt < 0:
            break
        pos = _markup(text, lt, repairs)
        if pos < 0:                    # an unterminated construct: nothing safe left to repair
            break
    return repairs


def _markup(text: str, lt: int, repairs: list[Repair]) -> int:
    """Handle the markup at ``text[lt] == '<'``; returns where scanning resumes (-1: stop)."""
    for opener, closer in _SKIPS:
        if text.startswith(opener, lt):
            end = text.find(closer, lt + len(opener))
            return -1 if end < 0 else end + len(closer)
    name = _NAME.match(text, lt + 1)
    if not name:                       # '<' followed by blank, digit...: text, not a tag
        repairs.append(Repair(lt, lt + 1, "&lt;", UNESCAPED_LT, "'<' in text escaped as &lt;"))
        return lt + 1
    return _start_tag(text, name.group(), name.end(), repairs)


def _start_tag(text: str, tag: str, pos: int, repairs: list[Repair]) -> int:
    """Tokenize a start tag's attributes from ``pos`` tolerantly; returns the offset after '>'."""
    n, seen = len(text), set()
    while len(repairs) <= MAX_REPAIRS:
        blank = pos
        pos = _WS.match(text, pos).end()
        if pos >= n:
            return -1
        if text[pos] == ">":
            return pos + 1
        if text.startswith("/>", pos):
            return pos + 2
        if text[pos] == "/":           # '/1>' (platform.xml): the '/' meant an empty element
            lt = text.find("<", pos)    # the '>' must come before the next tag (and the search
            gt = text.find(">", pos, n if lt < 0 else lt)   # stays short on hostile input)
            if gt < 0:                  # not a stray '/x>' but something broken: leave it
                return pos + 1
            repairs.append(Repair(pos + 1, gt, "", STRAY_TEXT,
                                  f"stray text {_show(text[pos + 1:gt])} after '/' in <{_short(tag)}> removed"))
            return gt + 1
        if text[pos] == "<":           # an unclosed tag: not guessed at, the parser reports it
            return pos
        name = _NAME.match(text, pos)
        if not name:                   # a quote, '=' or a digit where an attribute should start
            end = max(_STRAY.match(text, pos).end(), pos + 1)
            repairs.append(Repair(pos, end, "", STRAY_TEXT,
                                  f"stray text {_show(text[pos:end])} in <{_short(tag)}> removed"))
            pos = end
            continue
        attribute = name.group()
        eq = _WS.match(text, name.end()).end()
        if eq >= n or text[eq] != "=":  # a bare word (HTML-style boolean attribute)
            repairs.append(Repair(pos, name.end(), "", STRAY_TEXT, f"stray text {_show(attribute)} (an attribute "
                                  f"without a value) in <{_short(tag)}> removed"))
            pos = name.end()
            continue
        quote = _WS.match(text, eq + 1).end()
        if quote < n and text[quote] in "\"'":
            close = text.find(text[quote], quote + 1)
            if close < 0:
                return -1
            value_start, value_end, end, quoted = quote + 1, close, close + 1, True
        else:
            unquoted = _UNQUOTED.match(text, quote)
            if unquoted.end() == quote:
                return -1
            value_start, value_end, end, quoted = quote, unquoted.end(), unquoted.end(), False
        if attribute in seen:          # libxml2 refuses it; the first one was the one meant
            repairs.append(Repair(blank, end, "", DUPLICATE_ATTRIBUTE, f"repeated attribute {_show(attribute)} of "
                                  f"<{_short(tag)}> dropped (the first is kept)", pos))
        else:
            seen.add(attribute)
            if not quoted:
                value = text[value_start:value_end]
                repairs.append(Repair(value_start, value_start, '"', UNQUOTED_ATTRIBUTE,
                                      f"unquoted value {_show(value)} of attribute {_show(attribute)} quoted"))
            _escape_value(text, value_start, value_end, attribute, repairs)
            if not quoted:
                repairs.append(Repair(value_end, value_end, '"'))
        pos = end
    return -1


def _escape_text(text: str, start: int, end: int, repairs: list[Repair]) -> None:
    _escape_ampersands(text, start, end, "in text", repairs)


def _escape_value(text: str, start: int, end: int, attribute: str, repairs: list[Repair]) -> None:
    where = f"in attribute {_show(attribute)}"
    lt = text.find("<", start, end)
    if lt < 0:
        _escape_ampersands(text, start, end, where, repairs)
        return
    # '<' and '&' repairs must stay in offset order: walk the value in pieces.
    while lt >= 0 and len(repairs) <= MAX_REPAIRS:
        _escape_ampersands(text, start, lt, where, repairs)
        repairs.append(Repair(lt, lt + 1, "&lt;", UNESCAPED_LT, f"'<' {where} escaped as &lt;"))
        start = lt + 1
        lt = text.find("<", start, end)
    _escape_ampersands(text, start, end, where, repairs)


def _escape_ampersands(text: str, start: int, end: int, where: str, repairs: list[Repair]) -> None:
    """Escape each run of bad '&' (one warning for '&&', the usual Windows defect)."""
    if text.find("&", start, end) < 0:     # the common case, without a regex pass
        return
    for m in _BAD_AMPERSANDS.finditer(text, start, end):
        if len(repairs) > MAX_REPAIRS:
            return
        repairs.append(_ampersands(text, m.start(), m.end(), where))
        # One edit per '&' (silent after the first), so each maps back to its own column.
        repairs.extend(Repair(k, k + 1, "&amp;") for k in range(m.start() + 1, min(m.end(), m.start() + MAX_REPAIRS)))


def _ampersands(text: str, start: int, end: int, where: str) -> Repair:
    return Repair(start, start + 1, "&amp;", UNESCAPED_AMPERSAND,
                  f"unescaped {_show(text[start:end])} {where} escaped as {_show('&amp;' * (end - start))}")


def _show(text: str, limit: int = 40) -> str:
    """Quote a piece of the document for a message, cut short (a hostile one can be huge)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[:limit] + "..."


class OffsetMap:
    """Maps an offset in the repaired text back to the original text.

    Positions inside a replacement map to the start of what it replaced (an ``&amp;`` to
    its ``&``); positions after it shift by the length difference.
    """

    def __init__(self, repairs: list[Repair]):
        self._repairs = repairs
        self._starts: list[int] = []       # where each replacement starts in the repaired text
        delta = 0
        for repair in repairs:
            self._starts.append(repair.start + delta)
            delta += len(repair.replacement) - (repair.end - repair.start)

    def to_original(self, offset: int) -> int:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return offset
        repair, start = self._repairs[index], self._starts[index]
        end = start + len(repair.replacement)
        if offset < end:
            return repair.start
        return repair.end + (offset - end)


def apply_repairs(text: str, repairs: list[Repair]) -> tuple[str, OffsetMap]:
    """The repaired text and the map back; ``repairs`` must be in order and not overlap."""
    pieces, pos = [], 0
    for repair in repairs:
        if repair.start < pos:
            raise ValueError(f"overlapping repairs at offset {repair.start}")
        pieces.append(text[pos:repair.start])
        pieces.append(repair.replacement)
        pos = repair.end
    pieces.append(text[pos:])
    return "".join(pieces), OffsetMap(repairs)
