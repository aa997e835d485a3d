"""Cordscript tokens, read by hand one character at a time (no regular expression decides
what a statement is, and nothing is ever evaluated).

Lexical rules (CORDS reference manual, "Cordscript syntactical elements"), and our decisions
where the manual is silent or the real documents disagree with it:

* whitespace is SPACE, TAB, LF, CR and FF only;
* names are ASCII letters, digits and '_' and start with a letter or '_'. Node names also
  contain ':' (scoped names, ``accords:publisher``) and '-' (``http:load-balancer``), so a
  name continues through a ':' or '-' that is followed by a name character; whether a part
  may hold them (node) or not (method, property) is the parser's business;
* **non-ASCII characters outside strings are refused**: the manual's token-legal set is
  ASCII, and look-alike letters (Cyrillic 'а', non-breaking space) would otherwise make two
  names that read the same differ. Inside strings any character but NUL is kept;
* strings are quoted with ' or " and end at the same quote; there is **no escape
  sequence** (the manual defines none; a quote of the other kind can be written inside),
  so a backslash is literal — real manifests hold ``'cd C:\\Eureva\\Deploy\\Tremulous'``;
* numbers: optional sign, digits, and '.' separators each between digits (``12``, ``-27``,
  ``45.67``), or ``0x`` hexadecimal; a multi-dot numeral such as ``1.2.3`` is allowed by the
  manual and kept as its text (it is not a number);
* comments ``/* ... */`` and ``// ...`` (the Cordscript reference) are skipped;
* any other character becomes a ``CHAR`` token, so that the parser can say what it
  expected in its place (``+``, ``$``, a backtick, ``{``...).

Lexical errors are reported here once, and leave an ``INVALID`` token that the parser skips
without reporting again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cords.diagnostics import Diagnostics, Location, register

__all__ = ["Token", "tokenize", "UNTERMINATED_STRING", "INVALID_CHARACTER", "INVALID_NUMBER",
           "UNTERMINATED_COMMENT", "NAME", "STRING", "NUMBER", "DOT", "LPAREN", "RPAREN", "COMMA", "SEMI",
           "EQUALS", "CHAR", "INVALID", "EOF"]

UNTERMINATED_STRING = register("cordscript-unterminated-string",
                               "a Cordscript string has no closing quote of the kind that opened it")
INVALID_CHARACTER = register("cordscript-invalid-character",
                             "a character Cordscript does not allow: non-ASCII outside a string, a control "
                             "character, a typographic quote, or NUL inside a string")
INVALID_NUMBER = register("cordscript-invalid-number",
                          "a Cordscript numeric constant is malformed (e.g. '1.', '0x', '10G') or too long")
UNTERMINATED_COMMENT = register("cordscript-unterminated-comment", "a Cordscript '/*' comment has no closing '*/'")

NAME, STRING, NUMBER = "name", "string", "number"
DOT, LPAREN, RPAREN, COMMA, SEMI, EQUALS = ".", "(", ")", ",", ";", "="
CHAR, INVALID, EOF = "char", "invalid", "end"

_PUNCTUATION = {".": DOT, "(": LPAREN, ")": RPAREN, ",": COMMA, ";": SEMI, "=": EQUALS}
_WHITESPACE = frozenset(" \t\n\r\f")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NAME_CHARS = _LETTERS | _DIGITS
_QUOTES = frozenset("'\"")
# Word processors turn quotes into these (the manual itself is full of them).
_TYPOGRAPHIC_QUOTES = frozenset("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb")
#: Longer numerals are refused: no real value needs them, and int() of huge digit strings is slow.
MAX_NUMBER_LENGTH = 40


@dataclass(frozen=True)
class Token:
    kind: str
    text: str           # as written
    offset: int         # first character in the parsed text
    end: int            # one past the last character
    value: object = None    # STRING: the content; NUMBER: int, float, or str for '1.2.3'

    def describe(self) -> str:
        """How a message names this token."""
        if self.kind == EOF:
            return "the end of the expression"
        if self.kind == STRING:
            return "a string"
        if self.kind == CHAR and self.text == "`":
            return "a backtick (command substitution is not Cordscript)"
        return repr(self.text)


def tokenize(text: str, *, at: Callable[[int], Location], diagnostics: Diagnostics) -> list[Token]:
    """All tokens of ``text``, ending with an ``EOF`` token; lexical errors are reported."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
        elif c == "/" and text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif c == "/" and text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                diagnostics.error(UNTERMINATED_COMMENT, "comment '/*' is never closed by '*/'", at(i))
                tokens.append(Token(INVALID, text[i:], i, n))
                i = n
            else:
                i = close + 2
        elif c in _LETTERS:
            i = _name(text, i, tokens)
        elif c in _DIGITS or (c in "+-" and i + 1 < n and text[i + 1] in _DIGITS):
            i = _number(text, i, tokens, at, diagnostics)
        elif c in _QUOTES:
            i = _string(text, i, tokens, at, diagnostics)
        elif c in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[c], c, i, i + 1))
            i += 1
        elif c in _TYPOGRAPHIC_QUOTES:
            i = _typographic_string(text, i, tokens, at, diagnostics)
        elif not c.isascii() or not c.isprintable():
            # One error for a run of such characters (a pasted word), not one per character.
            j = i + 1
            while j < n and (not text[j].isascii() or not text[j].isprintable()) and text[j] not in _WHITESPACE:
                j += 1
            kind = "non-ASCII" if not c.isascii() else "control"
            diagnostics.error(INVALID_CHARACTER, f"{kind} character {_codepoint(c)} outside a string: Cordscript "
                                                 "names are ASCII letters, digits and '_'", at(i))
            tokens.append(Token(INVALID, text[i:j], i, j))
            i = j
        else:
            tokens.append(Token(CHAR, c, i, i + 1))
            i += 1
    tokens.append(Token(EOF, "", n, n))
    return tokens


def _codepoint(c: str) -> str:
    return f"U+{ord(c):04X}" + (f" {c!r}" if c.isprintable() else "")


def _name(text: str, i: int, tokens: list[Token]) -> int:
    start, n = i, len(text)
    i += 1
    while i < n:
        if text[i] in _NAME_CHARS:
            i += 1
        elif text[i] in ":-" and i + 1 < n and text[i + 1] in _NAME_CHARS:
            i += 2      # a scoped or hyphenated node name goes on
        else:
            break
    tokens.append(Token(NAME, text[start:i], start, i))
    return i


def _number(text: str, i: int, tokens: list[Token], at, diagnostics: Diagnostics) -> int:
    start, n = i, len(text)
    if text[i] in "+-":
        i += 1
    if text.startswith(("0x", "0X"), i):
        i += 2
        digits_start = i
        while i < n and text[i] in _HEX:
            i += 1
        ok = i > digits_start
    else:
        while i < n and text[i] in _DIGITS:
            i += 1
        ok = True
        while i < n and text[i] == ".":
            if i + 1 < n and text[i + 1] in _DIGITS:
                i += 1
                while i < n and text[i] in _DIGITS:
                    i += 1
            else:
                ok = False      # '1.' : the separator must be followed by a digit
                i += 1
                break
    # '10G', '1x': the numeral runs into a name; take the whole word as one bad token.
    # No statement has a number followed by one of these, so '1-2' is not arithmetic either.
    while i < n and (text[i] in _NAME_CHARS or text[i] in ".:-"):
        ok = False
        i += 1
    raw = text[start:i]
    if ok and len(raw) > MAX_NUMBER_LENGTH:
        diagnostics.error(INVALID_NUMBER, f"numeric constant of {len(raw)} characters (at most "
                                          f"{MAX_NUMBER_LENGTH})", at(start))
        tokens.append(Token(INVALID, raw, start, i))
        return i
    if not ok:
        diagnostics.error(INVALID_NUMBER, f"{raw!r} is not a numeric constant (digits with '.' separators "
                                          "between digits, or 0x hexadecimal); quote it if it is text", at(start))
        tokens.append(Token(INVALID, raw, start, i))
        return i
    body = raw.lstrip("+-")
    sign = -1 if raw.startswith("-") else 1
    if body[:2].lower() == "0x":
        value: object = sign * int(body[2:], 16)
    elif body.count(".") > 1:
        value = raw         # '1.2.3' (a version, an address): the manual allows it; not a number
    elif "." in body:
        value = sign * float(body)
    else:
        value = sign * int(body)
    tokens.append(Token(NUMBER, raw, start, i, value))
    return i


def _string(text: str, i: int, tokens: list[Token], at, diagnostics: Diagnostics) -> int:
    quote, start = text[i], i
    close = text.find(quote, i + 1)
    if close < 0:
        diagnostics.error(UNTERMINATED_STRING, f"string opened here with {quote} is never closed (Cordscript "
                                               "has no escapes: it ends at the next " + quote + ")", at(start))
        tokens.append(Token(INVALID, text[start:], start, len(text)))
        return len(text)
    content = text[start + 1:close]
    nul = content.find("\0")
    if nul >= 0:
        diagnostics.error(INVALID_CHARACTER, "NUL character inside a string", at(start + 1 + nul))
        tokens.append(Token(INVALID, text[start:close + 1], start, close + 1))
    else:
        tokens.append(Token(STRING, text[start:close + 1], start, close + 1, content))
    return close + 1


def _typographic_string(text: str, i: int, tokens: list[Token], at, diagnostics: Diagnostics) -> int:
    # “co-start” copied from the manual: one error for the pair, not one per quote.
    diagnostics.error(INVALID_CHARACTER, f"typographic quote {_codepoint(text[i])}: Cordscript strings are "
                                         "quoted with ' or \"", at(i))
    end = i + 1
    while end < len(text) and text[end] not in _TYPOGRAPHIC_QUOTES and text[end] not in ";\n":
        end += 1
    if end < len(text) and text[end] in _TYPOGRAPHIC_QUOTES:
        end += 1
    tokens.append(Token(INVALID, text[i:end], i, end))
    return end
