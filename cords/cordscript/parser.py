"""A recursive-descent parser for the Cordscript of manifests and agreements.

Grammar (CORDS reference manual, "Cordscript"; CORDS.md §8)::

    expression := { statement | ';' }
    statement  := path '=' value ';'                       # affectation
                | path '(' [ value { ',' value } ] ')' ';'  # method call
    path       := NAME { '.' NAME }
    value      := STRING | NUMBER | path

Nothing is evaluated: the result is a list of :class:`~cords.cordscript.ast.Statement`.
Anything outside this grammar (operators, variables, blocks, nested calls, Python or
Javascript) is a located error; after an error the parser resumes after the next ';' so
that every error of an expression is reported in one pass.

Decisions:

* a missing ';' after the **last** statement is accepted with a warning
  (``cordscript-missing-semicolon``): the original platform accepted it and
  small-accords.xml has ``ap.kill('osocciprocci')``. Between statements it is an error;
* an empty statement (``;;``) and an empty expression are warnings;
* expressions over 64 KiB (UTF-8) or with more than 10,000 statements (empty ones
  included) are refused with an error and yield no statement;
* the ``cordscript:`` prefix of business expressions and schema defaults is removed by
  :func:`strip_prefix`, or by ``parse(..., allow_prefix=True)``; offsets stay those of the
  original text. It is not accepted by default, since ``cordscript:web`` could be a node.
"""
from __future__ import annotations

from typing import Callable

from cords.diagnostics import Diagnostics, Location, register

from .ast import Assignment, Call, NumberValue, Path, PathValue, Statement, StringValue, Value
from .lexer import CHAR, COMMA, DOT, EOF, EQUALS, INVALID, LPAREN, NAME, NUMBER, RPAREN, SEMI, STRING, Token, \
    tokenize

__all__ = ["parse", "strip_prefix", "PREFIX", "MAX_TEXT_BYTES", "MAX_STATEMENTS", "SYNTAX", "EMPTY_STATEMENT",
           "EMPTY_EXPRESSION", "MISSING_SEMICOLON", "TOO_LARGE"]

SYNTAX = register("cordscript-syntax",
                  "a Cordscript expression does not follow the grammar: statements are Node.method(args); or "
                  "Node.property = value; with constants or node properties as values (no operators, "
                  "variables, blocks or nested calls)")
EMPTY_STATEMENT = register("cordscript-empty-statement", "an empty Cordscript statement (a ';' with nothing before it)")
EMPTY_EXPRESSION = register("cordscript-empty-expression", "a Cordscript expression holds no statement")
MISSING_SEMICOLON = register("cordscript-missing-semicolon",
                             "the last statement of a Cordscript expression is not terminated by ';' (accepted)")
TOO_LARGE = register("cordscript-too-large",
                     "a Cordscript expression is over 64 KiB or has more than 10,000 statements, and is refused")

PREFIX = "cordscript:"
MAX_TEXT_BYTES = 64 * 1024
MAX_STATEMENTS = 10_000
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")


def strip_prefix(text: str) -> tuple[str, int]:
    """``("alert.new();", 11)`` for ``"cordscript:alert.new();"``: the text after an optional,
    case-insensitive ``cordscript:`` prefix (leading whitespace allowed, as in the manual's
    ``Cordscript: application.new(...)``), and the offset where it starts in ``text``."""
    start = len(text) - len(text.lstrip(" \t\n\r\f"))
    if text[start:start + len(PREFIX)].lower() == PREFIX:
        offset = start + len(PREFIX)
        return text[offset:], offset
    return text, 0


def parse(text: str, *, locate: Callable[[int], Location], diagnostics: Diagnostics,
          allow_prefix: bool = False) -> list[Statement]:
    """The statements of ``text``; errors and warnings go to ``diagnostics``, located through
    ``locate(offset)`` (an offset in ``text``). Statements with errors are left out."""
    last = max(len(text) - 1, 0)

    def at(offset: int) -> Location:
        # Point at a real character: the end of the text is reported on its last character.
        return locate(min(max(offset, 0), last))

    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_TEXT_BYTES:
        first_over = len(encoded[:MAX_TEXT_BYTES].decode("utf-8", "ignore"))
        diagnostics.error(TOO_LARGE, f"Cordscript expression of {len(encoded)} bytes refused (at most "
                                     f"{MAX_TEXT_BYTES})", at(first_over))
        return []
    if allow_prefix:
        _, start = strip_prefix(text)
        text = " " * start + text[start:]       # blank the prefix out: offsets keep their meaning
    tokens = tokenize(text, at=at, diagnostics=diagnostics)
    return _Parser(tokens, at, diagnostics).expression()


class _Parser:
    def __init__(self, tokens: list[Token], at: Callable[[int], Location], diagnostics: Diagnostics):
        self.tokens = tokens
        self.pos = 0
        self.at = at
        self.diagnostics = diagnostics

    # -- tokens -----------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def fail(self, token: Token, message: str) -> None:
        """Report (unless the lexer already did, for an INVALID token) and resume after the next ';'."""
        if token.kind != INVALID:
            self.diagnostics.error(SYNTAX, message, self.at(token.offset))
        while self.token.kind not in (SEMI, EOF):
            self.advance()
        self.advance()
        return None

    @staticmethod
    def found(token: Token) -> str:
        hint = ""
        if token.kind == CHAR and token.text != "`":
            hint = " (Cordscript statements have no operators, variables or blocks)"
        return f"found {token.describe()}{hint}"

    # -- grammar ----------------------------------------------------------------------------
    def expression(self) -> list[Statement]:
        statements: list[Statement] = []
        count = 0
        while self.token.kind != EOF:
            count += 1
            if count > MAX_STATEMENTS:
                self.diagnostics.error(TOO_LARGE, f"Cordscript expression with more than {MAX_STATEMENTS} "
                                                  "statements refused", self.at(self.token.offset))
                return []
            if self.token.kind == SEMI:
                self.diagnostics.warning(EMPTY_STATEMENT, "empty statement: ';' with nothing before it",
                                         self.at(self.advance().offset))
                continue
            statement = self.statement()
            if statement is not None:
                statements.append(statement)
        if count == 0:
            # (Only when nothing at all was written: an INVALID-only text counted as a statement.)
            self.diagnostics.warning(EMPTY_EXPRESSION, "the Cordscript expression is empty", self.at(0))
        return statements

    def statement(self) -> Statement | None:
        first = self.token
        if first.kind != NAME:
            return self.fail(first, "expected a statement (Node.method(...); or Node.property = value;), "
                             + self.found(first))
        path = self.path()
        if path is None:
            return None
        if self.token.kind == EQUALS:
            if len(path.parts) < 2:
                return self.fail(first, f"an affectation sets a property of a node: write {path}.property = value;")
            if not self.plain(self.tokens[self.pos - 1], "property", path):
                return None
            self.advance()
            value = self.value()
            if value is None:
                return None
            statement: Statement = Assignment(path, value, offset=first.offset, location=self.at(first.offset))
        elif self.token.kind == LPAREN:
            if len(path.parts) < 2:
                return self.fail(first, f"'{path}(' calls nothing: a call needs a node (or attribute) before "
                                        "the method, as in Node.method(...); or alert.new();")
            method_token = self.tokens[self.pos - 1]
            if not self.plain(method_token, "method", path):
                return None
            arguments = self.arguments()
            if arguments is None:
                return None
            target = Path(path.parts[:-1], offset=path.offset, location=path.location)
            statement = Call(target, path.parts[-1].lower(), arguments, offset=first.offset,
                             location=self.at(first.offset), method_offset=method_token.offset,
                             method_location=self.at(method_token.offset))
        elif len(path.parts) == 1:
            return self.fail(self.token, f"expected '.' after the node name {path.parts[0]!r}, "
                                         + self.found(self.token))
        else:
            return self.fail(self.token, f"expected '(' (a method call) or '=' (an affectation) after "
                                         f"'{path}', " + self.found(self.token))
        return self.terminator(statement)

    def terminator(self, statement: Statement) -> Statement | None:
        if self.token.kind == SEMI:
            self.advance()
            return statement
        if self.token.kind == EOF:
            last = self.tokens[self.pos - 1]
            self.diagnostics.warning(MISSING_SEMICOLON, "the last statement is not terminated by ';'",
                                     self.at(last.end - 1))
            return statement
        return self.fail(self.token, "expected ';' after the statement, " + self.found(self.token))

    def path(self) -> Path | None:
        first = self.advance()      # a NAME: the caller checked
        parts = [first.text]
        while self.token.kind == DOT:
            self.advance()
            if self.token.kind != NAME:
                return self.fail(self.token, f"expected a name after '{'.'.join(parts)}.', " + self.found(self.token))
            parts.append(self.advance().text)
        return Path(tuple(parts), offset=first.offset, location=self.at(first.offset))

    def plain(self, token: Token, what: str, path: Path) -> bool:
        """Methods and properties are plain identifiers: ':' and '-' belong to node names only."""
        if all(c in _NAME_CHARS for c in token.text):
            return True
        self.fail(token, f"{what} name {token.text!r} in '{path}' may only hold letters, digits and '_'")
        return False

    def arguments(self) -> tuple[Value, ...] | None:
        self.advance()      # '('
        values: list[Value] = []
        if self.token.kind == RPAREN:
            self.advance()
            return ()
        while True:
            value = self.value()
            if value is None:
                return None
            values.append(value)
            if self.token.kind == COMMA:
                self.advance()
            elif self.token.kind == RPAREN:
                self.advance()
                return tuple(values)
            else:
                return self.fail(self.token, "expected ',' or ')' after an argument, " + self.found(self.token))

    def value(self) -> Value | None:
        token = self.token
        if token.kind == STRING:
            self.advance()
            return StringValue(token.value, offset=token.offset, location=self.at(token.offset))
        if token.kind == NUMBER:
            self.advance()
            if isinstance(token.value, str):      # '1.2.3': the manual's multi-dot numeral, kept as text
                return StringValue(token.value, offset=token.offset, location=self.at(token.offset))
            return NumberValue(token.value, offset=token.offset, location=self.at(token.offset))
        if token.kind == NAME:
            path = self.path()
            if path is None:
                return None
            if self.token.kind == LPAREN:
                return self.fail(self.token, f"'{path}(' is a call: values are constants or node properties, "
                                             "calls do not nest")
            return PathValue(path, offset=path.offset, location=path.location)
        return self.fail(token, "expected a value (a quoted string, a number or a node property), "
                         + self.found(token))
