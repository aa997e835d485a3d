"""Bytes to text for the CORDS reader: the declared encoding, and the Latin-1 legacy repair.

The XML declaration's label is honoured (UTF-8, ASCII, ISO-8859-1/15, Windows-1252; UTF-16
with a byte order mark). The non-standard label ``UTF8`` that most real CORDS files carry is
accepted **silently**, as the original libxml2-based tools did. A document that is UTF-8 by
declaration or default but whose bytes are not is an error (``xml-invalid-utf8`` at the
first bad byte), unless every such byte reads as Latin-1 text: then the document is read as
Windows-1252 with a ``legacy-latin1`` warning (the original tools wrote whatever bytes the
shell gave them).
"""
from __future__ import annotations

import codecs
import re

from . import legacy
from .diagnostics import Diagnostics, Location, register

__all__ = ["decode", "INVALID_UTF8", "ENCODING"]

INVALID_UTF8 = register("xml-invalid-utf8",
                        "the document is UTF-8 by declaration or default but has bytes that are not")
ENCODING = register("xml-encoding", "the declared character encoding is not supported, or the bytes do not match it")

# Declaration, possibly after the legacy blank lines; the label is read from the raw bytes.
_DECLARATION = re.compile(rb"[ \t\r\n]*<\?xml\s+version\s*=\s*[\"'][^\"']*[\"']"
                          rb"(?:\s+encoding\s*=\s*[\"']([^\"']*)[\"'])?")
_LABELS = {"utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8",
           "iso-8859-1": "latin-1", "iso8859-1": "latin-1", "latin1": "latin-1", "latin-1": "latin-1",
           "iso-8859-15": "iso8859-15", "windows-1252": "cp1252", "cp1252": "cp1252"}
# A valid multi-byte UTF-8 sequence: a file that has some is UTF-8 gone wrong, not Latin-1.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode(data: bytes, name: str, diagnostics: Diagnostics) -> tuple[str, bool] | None:
    """The text and whether the Latin-1 repair was used; None (and an error) when undecodable."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), False
        except UnicodeDecodeError as exc:
            diagnostics.error(ENCODING, f"the document starts as UTF-16 but byte {exc.start} is not: "
                              f"{exc.reason}", Location(name))
            return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    declaration = _DECLARATION.match(data)
    label = (declaration.group(1) or b"").decode("ascii", "replace") if declaration else ""
    codec = _LABELS.get(label.strip().lower() or "utf-8")
    if codec is None:
        diagnostics.error(ENCODING, f"unsupported encoding {label!r} (use UTF-8)",
                          _byte_location(data, declaration.start(1), name, "latin-1"))
        return None
    try:
        return data.decode(codec), False
    except UnicodeDecodeError as exc:
        where = _byte_location(data, exc.start, name, codec)
        byte = data[exc.start]
        if codec == "utf-8" and (text := _as_latin1(data)) is not None:
            diagnostics.warning(legacy.LATIN1, f"byte 0x{byte:02X} is not UTF-8; the document was read as "
                                "Windows-1252 (Latin-1)", where)
            return text, True
        if codec == "utf-8":
            diagnostics.error(INVALID_UTF8, f"byte 0x{byte:02X} is not valid UTF-8 here ({exc.reason})", where)
        else:
            diagnostics.error(ENCODING, f"byte 0x{byte:02X} is not valid {codec} ({exc.reason})", where)
        return None


def _as_latin1(data: bytes) -> str | None:
    """``data`` read as Windows-1252 when it plausibly is Latin-1 text, else None."""
    if _UTF8_SEQUENCE.search(data):
        return None
    try:
        text = data.decode("cp1252")    # fails on its five undefined bytes
    except UnicodeDecodeError:
        return None
    if any(not c.isprintable() and c not in "\xa0\xad" for c in set(text) if ord(c) > 0x7F):
        return None
    return text


def _byte_location(data: bytes, offset: int, name: str, codec: str) -> Location:
    """The line:column (in characters, as in the decoded text) of byte ``offset``."""
    before = data[:offset].decode(codec, "replace")     # valid up to offset, by construction
    before = before.replace("\r\n", "\n").replace("\r", "\n")
    return Location(name, before.count("\n") + 1, len(before) - before.rfind("\n"))
