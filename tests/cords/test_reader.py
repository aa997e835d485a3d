"""cords.reader: the real CORDS corpus, precise locations, encodings and the legacy repairs."""
from __future__ import annotations

import codecs
from collections import Counter

import pytest
from lxml import etree

from cords import legacy, reader
from cords.diagnostics import CODES, ERROR, WARNING, Diagnostics, Location
from cords.reader import Document, Limits, read_document, read_file

from . import example_files

# docs/CORDS.md §2: the files marked ✗, and the repairs each needs.
MALFORMED = {
    "manifests/platform.xml": {legacy.STRAY_TEXT},
    "manifests/manifest-testaz.xml": {legacy.LEADING_BLANK},
    "manifests/manifest-testos.xml": {legacy.LEADING_BLANK},
    "manifests/manifest-testpa.xml": {legacy.LEADING_BLANK},
    "manifests/pademo_poc4.xml": {legacy.UNESCAPED_AMPERSAND},
    "manifests/pademo_poc4_tremulous.xml": {legacy.UNESCAPED_AMPERSAND},
    "manifests/pademo_win_http.xml": {legacy.UNESCAPED_AMPERSAND},
    "agreements/slamtest.xml": {legacy.LEADING_BLANK, legacy.DUPLICATE_ATTRIBUTE},
}
ALL_EXAMPLES = example_files() or ["(corpus absent)"]


def read(text: str | bytes, name: str = "t.xml", **kw) -> tuple[Document | None, Diagnostics]:
    diagnostics = Diagnostics()
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_document(data, name=name, diagnostics=diagnostics, **kw), diagnostics


def at(line: int, column: int, name: str = "t.xml") -> Location:
    return Location(name, line, column)


def codes(diagnostics: Diagnostics) -> list[str]:
    return [d.code for d in diagnostics.sorted()]


# --- the corpus --------------------------------------------------------------------------

@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_every_example_is_read(examples, example):
    diagnostics = Diagnostics()
    document = read_file(examples / example, diagnostics=diagnostics)
    assert document is not None, [str(d) for d in diagnostics]
    assert not diagnostics.errors
    if example in MALFORMED:
        assert document.legacy
        assert {d.code for d in diagnostics.warnings} == MALFORMED[example]
    else:
        assert not document.legacy
        assert not diagnostics.items, [str(d) for d in diagnostics]
    assert document.name == str(examples / example)


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_every_element_and_attribute_of_the_examples_is_located(examples, example):
    document = read_file(examples / example, diagnostics=Diagnostics())
    lines = document.source.split("\n")
    for element in document.root.iter():
        where = document.location(element)
        assert lines[where.line - 1][where.column - 1:].startswith("<" + element.tag), (element.tag, where)
        for name, value in element.attrib.items():
            where = document.attribute_location(element, name)
            line = lines[where.line - 1]
            assert line[where.column - 2] in "\"'" and line[:where.column - 2].rstrip(" =").endswith(name)
            if value and "&" not in value:      # the last character of the value, exactly
                last = document.value_location(element, name, len(value) - 1)
                assert lines[last.line - 1][last.column - 1] == value[-1]


def test_the_malformed_examples_are_exactly_those_a_plain_parser_rejects(examples):
    rejected = set()
    for example in example_files():
        try:
            etree.fromstring((examples / example).read_bytes(), etree.XMLParser(resolve_entities=False,
                                                                                 no_network=True))
        except etree.XMLSyntaxError:
            rejected.add(example)
    assert rejected == set(MALFORMED)


def test_legacy_examples_keep_their_content_and_point_at_the_defects(examples):
    diagnostics = Diagnostics()
    platform = read_file(examples / "manifests/platform.xml", diagnostics=diagnostics)
    networks = platform.root.findall(".//network")
    assert networks and all(n.get("vlan") in ("100M", "10M", "1M") and len(n) == 0 for n in networks)
    assert len(diagnostics.warnings) == len(networks) == 15
    first = diagnostics.sorted()[0]
    assert (first.location.line, first.location.column) == (10, 55)
    assert platform.source.split("\n")[9][54] == "1"
    assert platform.location(networks[0]) == Location(platform.name, 10, 4)
    assert platform.namespace == "http://www.compatibleone.fr/schemes/cords.xsd"

    diagnostics = Diagnostics()
    sla = read_file(examples / "agreements/slamtest.xml", diagnostics=diagnostics)
    assert sla.root.tag == "agreement" and sla.root.get("template") == "none"
    assert [(d.code, d.location.line, d.location.column) for d in diagnostics.sorted()] == [
        (legacy.LEADING_BLANK, 1, 1), (legacy.DUPLICATE_ATTRIBUTE, 12, 2)]
    assert sla.location(sla.root) == Location(sla.name, 3, 1)      # lines of the original file

    diagnostics = Diagnostics()
    poc = read_file(examples / "manifests/pademo_poc4.xml", diagnostics=diagnostics)
    action = poc.root.find(".//action")
    expression = action.get("expression")
    assert "TheCube && start" in expression
    (warning,) = diagnostics.warnings
    assert poc.source.split("\n")[warning.location.line - 1][warning.location.column - 1:].startswith("&& start")
    # An offset after the repaired '&&' still lands on the right source character.
    offset = expression.index("start C:")
    where = poc.value_location(action, "expression", offset)
    assert poc.source.split("\n")[where.line - 1][where.column - 1:].startswith("start C:")


def test_the_namespaces_of_the_corpus_are_stripped_and_kept(examples):
    seen = set()
    for example in example_files():
        document = read_file(examples / example, diagnostics=Diagnostics())
        seen.add(document.namespace)
        assert all("{" not in element.tag for element in document.root.iter())
    assert {"http://www.compatibleone.fr/schemes/manifest.xsd", "http://www.compatibleone.fr/schemes/cords.xsd",
            "http://www.compatibleone.fr/schemes/slam.xsd", "file:///tmp/manifest.xsd", None} <= seen


# --- locations ---------------------------------------------------------------------------

def test_several_elements_on_one_line():
    document, diagnostics = read('<a><b x="1"/><b x="22"/>  <c><b/></c></a>')
    assert not diagnostics.items
    a = document.root
    first, second, c = a
    assert [document.location(e).column for e in (a, first, second, c, c[0])] == [1, 4, 14, 27, 30]
    assert document.attribute_location(second, "x") == at(1, 20)
    assert document.value_location(second, "x", 1) == at(1, 21)


def test_nested_elements_of_the_same_name_and_markup_that_looks_like_tags():
    document, _ = read('<a><a><a/></a><!-- <a> --><![CDATA[ <a x="1"> ]]><?pi <a>?><a/></a>')
    elements = list(document.root.iter())
    assert [document.location(e).column for e in elements] == [1, 4, 7, 60]


def test_multi_line_start_tags_and_values():
    text = ('<?xml version="1.0" encoding="UTF8"?>\n'
            '<manifest name="m">\n'
            '\t<node\n'
            '\t   name="web"\n'
            '\t   provider = \'openstack\'/>\n'
            '\t<action expression="a.configure(b);\n'
            '\t\tc.system(\'start\');\n'
            '\t\td.fork( x );"/>\n'
            '</manifest>\n')
    document, diagnostics = read(text)
    assert not diagnostics.items
    node, action = document.root
    assert document.location(node) == at(3, 2)
    assert document.attribute_location(node, "name") == at(4, 11)
    assert document.attribute_location(node, "provider") == at(5, 17)
    expression = action.get("expression")
    assert document.attribute_location(action, "expression") == at(6, 22)
    assert document.value_location(action, "expression", 0) == at(6, 22)
    assert document.value_location(action, "expression", expression.index("system")) == at(7, 5)
    assert document.value_location(action, "expression", expression.index("x")) == at(8, 11)
    # Past the end: the closing quote, so "unexpected end" errors have a place too.
    assert document.value_location(action, "expression", len(expression) + 5) == at(8, 15)


def test_values_with_references_count_parsed_characters():
    document, _ = read('<a x="p &amp;&amp; q &#x41;&lt;r"/>')
    value = document.root.get("x")
    assert value == "p && q A<r"
    assert document.value_location(document.root, "x", value.index("q")) == at(1, 20)
    assert document.value_location(document.root, "x", value.index("A")) == at(1, 22)
    assert document.value_location(document.root, "x", value.index("r")) == at(1, 32)


def test_columns_count_characters_not_bytes_and_tabs_as_one():
    document, _ = read('<a>\n\t<b x="é😀y"/>\n</a>')
    b = document.root[0]
    assert document.location(b) == at(2, 2)
    assert document.value_location(b, "x", 2) == at(2, 10)


def test_crlf_and_lone_cr_line_ends():
    for newline in ("\r\n", "\r"):
        document, _ = read(newline.join(['<a>', '  <b x="1"', '     y="2"/>', '</a>']))
        b = document.root[0]
        assert document.location(b) == at(2, 3)
        assert document.attribute_location(b, "y") == at(3, 9)


def test_missing_attributes_and_new_elements_fall_back():
    document, _ = read('<a>\n  <b x="1"/>\n</a>')
    b = document.root[0]
    assert document.attribute_location(b, "nothing") == document.location(b) == at(2, 3)
    assert document.value_location(b, "nothing", 3) == at(2, 3)
    added = etree.SubElement(document.root, "c")
    assert document.location(added) == Location("t.xml", 0, 0)
    bare = Document(root=document.root, name="bare.xml", namespace=None, legacy=False)
    assert bare.location(b).file == "bare.xml" and bare.attribute_location(b, "x").column == 0


def test_namespaces_are_stripped_from_tags_and_kept_on_the_document():
    document, _ = read('<manifest xmlns="http://www.compatibleone.fr/schemes/manifest.xsd" name="m">'
                       '<node name="n"/></manifest>')
    assert document.namespace == "http://www.compatibleone.fr/schemes/manifest.xsd"
    assert [e.tag for e in document.root.iter()] == ["manifest", "node"]
    assert etree.tostring(document.root) == b'<manifest name="m"><node name="n"/></manifest>'
    assert document.attribute_location(document.root[0], "name") == at(1, 89)

    document, _ = read('<c:import xmlns:c="urn:c" xmlns:x="urn:x" x:note="n"><c:metric name="m"/></c:import>')
    assert document.namespace == "urn:c"
    assert [e.tag for e in document.root.iter()] == ["import", "metric"]
    assert document.root.get("{urn:x}note") == "n"
    assert document.attribute_location(document.root, "{urn:x}note") == at(1, 51)
    assert document.location(document.root[0]) == at(1, 54)


# --- encodings ---------------------------------------------------------------------------

def test_the_utf8_label_is_accepted_silently():
    document, diagnostics = read('<?xml version="1.0" encoding="UTF8"?>\n<a x="é"/>')
    assert document.root.get("x") == "é" and not diagnostics.items and not document.legacy


@pytest.mark.parametrize("label", ["ISO-8859-1", "latin1", "windows-1252"])
def test_declared_single_byte_encodings(label):
    document, diagnostics = read(f'<?xml version="1.0" encoding="{label}"?>\n<a x="caf\xe9"/>'.encode("latin-1"))
    assert document.root.get("x") == "café" and not diagnostics.items and not document.legacy


def test_byte_order_marks():
    document, _ = read(codecs.BOM_UTF8 + '<a x="é"/>'.encode())
    assert document.root.get("x") == "é" and document.location(document.root) == at(1, 1)
    document, _ = read('\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<a x="é"/>'.encode("utf-16-le"))
    assert document.root.get("x") == "é" and document.location(document.root) == at(2, 1)


def test_latin1_bytes_in_a_utf8_document_are_a_legacy_repair():
    document, diagnostics = read(b'<?xml version="1.0" encoding="UTF8"?>\n<a>\n  <b x="caf\xe9 cr\xe8me"/>\n</a>')
    assert document.legacy and document.root[0].get("x") == "café crème"
    (warning,) = diagnostics.items
    assert (warning.code, warning.severity, warning.location) == (legacy.LATIN1, WARNING, at(3, 12))
    assert "0xE9" in warning.message
    assert document.value_location(document.root[0], "x", 3) == at(3, 12)


def test_unsupported_encoding_labels_are_errors():
    document, diagnostics = read('<?xml version="1.0" encoding="EBCDIC-US"?><a/>')
    assert document is None
    assert [(d.code, d.location) for d in diagnostics] == [(reader.ENCODING, at(1, 31))]


# --- processing instructions, malformed documents ---------------------------------------

def test_processing_instructions_are_ignored_with_a_warning():
    document, diagnostics = read('<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<a><?php echo 1 ?><b/></a>')
    assert [(d.code, d.location) for d in diagnostics] == [
        (reader.PROCESSING_INSTRUCTION, at(2, 1)), (reader.PROCESSING_INSTRUCTION, at(3, 4))]
    assert [e.tag for e in document.root.iter()] == ["a", "b"] and len(document.root) == 1
    assert document.location(document.root[0]) == at(3, 19)


@pytest.mark.parametrize("text, where", [
    ("<a>\n  <b></c>\n</a>", (2, 8)),
    ("<a>\n  <b>\n</a>", (3, 5)),
    ("", (1, 1)),
    ("<a/><b/>", (1, 5)),
    ("<a>\n</a>\ntrailing", (3, 1)),
])
def test_malformed_documents_are_located_errors(text, where):
    document, diagnostics = read(text)
    assert document is None
    errors = diagnostics.errors
    assert errors and errors[0].code == reader.MALFORMED
    line, column = where
    assert errors[0].location.line == line and abs(errors[0].location.column - column) <= 2


def test_what_remains_after_the_repairs_is_reported_too():
    document, diagnostics = read('<a x="1 && 2">\n  <b></c>\n</a>')
    assert document is None
    assert [(d.code, d.severity, d.location.line) for d in diagnostics.sorted()] == [
        (legacy.UNESCAPED_AMPERSAND, WARNING, 1), (reader.MALFORMED, ERROR, 1), (reader.MALFORMED, ERROR, 2)]


# --- the legacy repairs, one by one ------------------------------------------------------

@pytest.mark.parametrize("text, code, where, check", [
    ('\n\n<?xml version="1.0" encoding="UTF8"?>\n<a x="1"/>', legacy.LEADING_BLANK, (1, 1),
     lambda d: d.location(d.root) == at(4, 1)),
    ('<a x="cd c:\\x && start">fish & chips</a>', legacy.UNESCAPED_AMPERSAND, (1, 15),
     lambda d: d.root.get("x") == "cd c:\\x && start" and d.root.text == "fish & chips"),
    ('<a>\n  <network name="large" vlan="100M"/1>\n</a>', legacy.STRAY_TEXT, (2, 37),
     lambda d: d.root[0].get("vlan") == "100M" and d.location(d.root[0]) == at(2, 3)),
    ('<a template="none"\n   template="other"><b/></a>', legacy.DUPLICATE_ATTRIBUTE, (2, 4),
     lambda d: d.root.get("template") == "none" and d.location(d.root[0]) == at(2, 21)),
    ('<a>\n<node name=foo access=public/><b/></a>', legacy.UNQUOTED_ATTRIBUTE, (2, 12),
     lambda d: dict(d.root[0].attrib) == {"name": "foo", "access": "public"}
     and d.attribute_location(d.root[0], "access") == at(2, 23) and d.location(d.root[1]) == at(2, 31)),
    ('<a x="1 < 2"/>', legacy.UNESCAPED_LT, (1, 9), lambda d: d.root.get("x") == "1 < 2"),
    ('<a>1 < 2</a>', legacy.UNESCAPED_LT, (1, 6), lambda d: d.root.text == "1 < 2"),
    ('<a x="1" public/>', legacy.STRAY_TEXT, (1, 10), lambda d: dict(d.root.attrib) == {"x": "1"}),
])
def test_each_legacy_repair(text, code, where, check):
    document, diagnostics = read(text)
    assert document is not None and document.legacy, [str(d) for d in diagnostics]
    assert {d.code for d in diagnostics} == {code} and not diagnostics.errors
    first = diagnostics.sorted()[0]
    assert (first.location.line, first.location.column) == where
    assert check(document)


def test_locations_in_a_repaired_document_refer_to_the_original_text():
    text = '\n<?xml version="1.0"?>\n<a x="1 && 2 && 3" y=foo>\n  <b z="&&&"/>\n</a>'
    document, diagnostics = read(text)
    a, b = document.root, document.root[0]
    assert codes(diagnostics) == [legacy.LEADING_BLANK, legacy.UNESCAPED_AMPERSAND,
                                  legacy.UNESCAPED_AMPERSAND, legacy.UNQUOTED_ATTRIBUTE,
                                  legacy.UNESCAPED_AMPERSAND]
    assert document.location(a) == at(3, 1) and document.location(b) == at(4, 3)
    assert document.value_location(a, "x", a.get("x").index("3")) == at(3, 17)
    assert document.value_location(a, "x", a.get("x").index("2")) == at(3, 12)
    assert document.attribute_location(a, "y") == at(3, 22)
    assert document.value_location(b, "z", 2) == at(4, 11)


def test_offset_map_round_trip():
    text = "ab&cd e=f gh"
    repairs = [legacy.Repair(2, 3, "&amp;"), legacy.Repair(8, 8, '"'), legacy.Repair(9, 9, '"'),
               legacy.Repair(9, 10, "")]
    repaired, offsets = legacy.apply_repairs(text, repairs)
    assert repaired == 'ab&amp;cd e="f"gh'
    original = [offsets.to_original(i) for i in range(len(repaired))]
    assert original == [0, 1, 2, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]
    with pytest.raises(ValueError):
        legacy.apply_repairs(text, [legacy.Repair(2, 5, ""), legacy.Repair(4, 6, "")])


# --- files and codes ---------------------------------------------------------------------

def test_read_file(tmp_path):
    path = tmp_path / "m.xml"
    path.write_bytes(b'<manifest name="m"/>')
    diagnostics = Diagnostics()
    document = read_file(path, diagnostics=diagnostics)
    assert document.name == str(path) and document.location(document.root) == Location(str(path), 1, 1)
    missing = tmp_path / "missing.xml"
    assert read_file(missing, diagnostics=diagnostics) is None
    assert [(d.code, d.location) for d in diagnostics] == [(reader.UNREADABLE, Location(str(missing)))]


def test_codes_are_registered_with_descriptions():
    ours = [reader.TOO_LARGE, reader.TOO_DEEP, reader.TOO_MANY_ELEMENTS, reader.ATTRIBUTE_TOO_LONG, reader.DOCTYPE,
            reader.INVALID_UTF8, reader.ENCODING, reader.INVALID_CHARACTER, reader.MALFORMED,
            reader.PROCESSING_INSTRUCTION, reader.UNREADABLE, legacy.LEADING_BLANK, legacy.UNESCAPED_AMPERSAND,
            legacy.UNESCAPED_LT, legacy.STRAY_TEXT, legacy.DUPLICATE_ATTRIBUTE, legacy.UNQUOTED_ATTRIBUTE,
            legacy.LATIN1]
    assert len(set(ours)) == len(ours) and all(CODES.get(code) for code in ours)
    assert CODES["xml-doctype"] == ("DOCTYPE declarations are not accepted "
                                    "(entities and external DTDs are a security risk)")
    assert Limits() == Limits(10 * 1024 * 1024, 64, 200_000, 64 * 1024)


def test_diagnostics_come_in_document_order():
    _, diagnostics = read('<a y=2 x="&&">\n<b c=3/></a>')
    assert Counter(codes(diagnostics)) == {legacy.UNQUOTED_ATTRIBUTE: 2, legacy.UNESCAPED_AMPERSAND: 1}
    assert [d.location.line for d in diagnostics] == [1, 1, 2]
