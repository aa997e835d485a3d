"""Cordscript: parsing (never evaluating), compilation to instructions, start order.

The real expressions come from ../shared/cords-examples (skipped when absent)."""
from __future__ import annotations

import builtins
import pathlib
from dataclasses import dataclass, field

import pytest

from cords import cordscript
from cords.cordscript import (Assignment, Call, Instruction, NumberValue, Path, PathValue, StringValue,
                              compile_statements, dependency_order, parse, strip_prefix)
from cords.diagnostics import CODES, ERROR, WARNING, Diagnostics, Location

EXAMPLES = pathlib.Path("/work/shared/cords-examples")
MANIFESTS = sorted((EXAMPLES / "manifests").glob("*.xml")) if EXAMPLES.is_dir() else []
needs_examples = pytest.mark.skipif(not MANIFESTS, reason="/work/shared/cords-examples is not available")


# -- helpers ---------------------------------------------------------------------------------
def locator(text: str, file: str = "t.xml", line: int = 1, column: int = 1):
    """A fake ``locate``: the attribute value starts at line:column and may span lines."""
    def locate(offset: int) -> Location:
        assert 0 <= offset <= len(text), offset
        before = text[:offset]
        newlines = before.count("\n")
        col = offset - before.rfind("\n") if newlines else column + offset
        return Location(file, line + newlines, col)
    return locate


def run(text: str, **kwargs):
    diagnostics = Diagnostics()
    statements = parse(text, locate=locator(text), diagnostics=diagnostics, **kwargs)
    return statements, diagnostics


def codes(diagnostics: Diagnostics, severity: str | None = None) -> list[str]:
    return [d.code for d in diagnostics.items if severity is None or d.severity == severity]


@dataclass
class Node:
    name: str
    complex: bool = False
    interface_actions: set = field(default_factory=set)


def make_nodes(*specs) -> dict[str, Node]:
    out = {}
    for spec in specs:
        node = Node(spec) if isinstance(spec, str) else spec
        out[node.name] = node
    return out


def compile_text(text: str, nodes, nature: str = "configuration"):
    statements, diagnostics = run(text)
    instructions = compile_statements(statements, nature=nature, nodes=nodes, diagnostics=diagnostics)
    return instructions, diagnostics


# -- the real manifests -----------------------------------------------------------------------
def read_manifest(path: pathlib.Path):
    from lxml import etree
    root = etree.parse(str(path), etree.XMLParser(recover=True)).getroot()   # a few examples are not well formed
    nodes = make_nodes(*(Node(n.get("name"), (n.get("type") or "simple") != "simple") for n in root.iter("{*}node")))
    actions = [(section, action) for section in ("configuration", "release", "interface")
               for element in root.iter("{*}" + section) for action in element.iter("{*}action")
               if action.get("expression") is not None]
    return nodes, actions


def compile_manifest(path: pathlib.Path):
    nodes, actions = read_manifest(path)
    diagnostics = Diagnostics()
    instructions = []
    for nature, action in actions:
        text = action.get("expression")
        statements = parse(text, locate=locator(text, path.name, action.sourceline), diagnostics=diagnostics)
        assert statements, (path.name, text)
        instructions += compile_statements(statements, nature=nature, nodes=nodes, diagnostics=diagnostics)
    order = dependency_order([i for i in instructions if i.nature == "configuration"], nodes,
                             diagnostics=diagnostics, location_of=lambda n: Location(path.name))
    return nodes, instructions, order, diagnostics


@needs_examples
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_example_expression_parses(path):
    nodes, actions = read_manifest(path)
    for _, action in actions:
        text = action.get("expression")
        statements, diagnostics = run(text)
        assert not diagnostics.errors, (text, [str(d) for d in diagnostics])
        assert statements and all(isinstance(s, (Call, Assignment)) for s in statements)
        if path.name == "small-accords.xml" and text == "ap.kill('osocciprocci')":
            # The known defect: accepted, with a warning on its last character.
            assert codes(diagnostics) == ["cordscript-missing-semicolon"]
            assert diagnostics.warnings[0].location.column == len(text)
        else:
            assert not diagnostics.items, (text, [str(d) for d in diagnostics])


@needs_examples
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_example_compiles_against_its_nodes(path):
    nodes, instructions, order, diagnostics = compile_manifest(path)
    assert sorted(order) == sorted(nodes)
    if path.name == "example2.xml":
        [error] = diagnostics.errors
        assert error.code == "cordscript-unknown-node"
        assert "node 'omons' referenced by configure() is not declared in this manifest" in error.message
        assert "did you mean 'comons'" in error.message
        text = "broker.configure(publisher.hostname);broker.configure(coss.hostname);broker.configure(omons.hostname);"
        assert error.location.column == 1 + text.index("omons")
    else:
        assert not diagnostics.errors, [str(d) for d in diagnostics]


@needs_examples
def test_example1_xwiki_depends_on_sqldatabase():
    nodes, instructions, order, diagnostics = compile_manifest(EXAMPLES / "manifests" / "example1.xml")
    [instruction] = instructions
    assert instruction == Instruction(node="Xwiki", path=("Xwiki",), nature="configuration", method="configure",
                                      arguments=(("ref", "Sqldatabase", "hostname"),),
                                      depends_on=frozenset({"Sqldatabase"}), location=instruction.location)
    assert order == ["Sqldatabase", "Xwiki"]


COMPONENTS = [p for p in MANIFESTS if p.name.startswith("accords-") and p.name != "accords-publisher.xml"]


@needs_examples
@pytest.mark.parametrize("path", COMPONENTS, ids=lambda p: p.name)
def test_accords_components_wait_for_the_publisher(path):
    nodes, instructions, order, diagnostics = compile_manifest(path)
    component = path.stem.removeprefix("accords-")
    assert nodes["accords:publisher"].complex
    configure = [i for i in instructions if i.method == "configure"]
    assert [(i.node, i.arguments, i.depends_on) for i in configure] == [
        (component, (("ref", "accords:publisher.publisher", "hostname"),), frozenset({"accords:publisher"}))]
    assert [i.method for i in instructions] == ["configure", "system", "fork"]
    assert order == ["accords:publisher", component]


@needs_examples
def test_example2_and_example3_chains():
    nodes, instructions, order, diagnostics = compile_manifest(EXAMPLES / "manifests" / "example2.xml")
    needs = {}
    for i in instructions:
        needs.setdefault(i.node, set()).update(i.depends_on)
    assert needs["coss"] == {"publisher"}
    assert needs["comons"] == {"publisher", "coss"}
    assert needs["broker"] == {"publisher", "coss"}       # omons is an error, not an edge
    assert order.index("publisher") < order.index("coss") < order.index("comons") < order.index("parser")
    _, instructions, order, _ = compile_manifest(EXAMPLES / "manifests" / "example3.xml")
    assert order == ["accords", "osprocci", "onprocci"]
    assert {i.arguments[0][1] for i in instructions} == {"accords.publisher", "accords.coss", "accords.comons"}


@needs_examples
def test_schema_default_cordscript_parses():
    texts = set()
    for schema in (EXAMPLES / "schemas").glob("*.xsd"):
        from lxml import etree
        for element in etree.parse(str(schema)).getroot().iter("{*}attribute"):
            default = element.get("default") or ""
            if default.lower().startswith("cordscript:") or ".resolve(" in default:
                texts.add(default)
    assert len(texts) >= 4
    for text in texts:
        statements, diagnostics = run(text, allow_prefix=True)
        assert statements and not diagnostics.items, (text, [str(d) for d in diagnostics])
        assert {s.method for s in statements} <= {"new", "build", "resolve"}


# -- grammar ------------------------------------------------------------------------------------
def test_statement_forms():
    statements, diagnostics = run("Node.category = \"test category\"; Node.timeout = 200;"
                                  "Parser.Configure( Publisher.HostName );"
                                  "accords:publisher.publisher.system('x');"
                                  "http:load-balancer.fork('bash run-cool {port}');"
                                  "X.resolve(a.b, c.d); alert.new(); three.useOne(1, 'two', x.y)")
    assert codes(diagnostics) == ["cordscript-missing-semicolon"]
    assert statements == [
        Assignment(Path(("Node", "category")), StringValue("test category")),
        Assignment(Path(("Node", "timeout")), NumberValue(200)),
        Call(Path(("Parser",)), "configure", (PathValue(Path(("Publisher", "HostName"))),)),
        Call(Path(("accords:publisher", "publisher")), "system", (StringValue("x"),)),
        Call(Path(("http:load-balancer",)), "fork", (StringValue("bash run-cool {port}"),)),
        Call(Path(("X",)), "resolve", (PathValue(Path(("a", "b"))), PathValue(Path(("c", "d"))))),
        Call(Path(("alert",)), "new", ()),
        Call(Path(("three",)), "useone", (NumberValue(1), StringValue("two"), PathValue(Path(("x", "y"))))),
    ]
    assert [s.offset for s in statements[:3]] == [0, 33, 52]


def test_strings_numbers_and_comments():
    statements, diagnostics = run("""n.a = '<e name="v"/>'; n.b = "<e name='v'/>"; n.c = '';"""
                                  r"""n.d = 'cd C:\Eureva\tremulous && echo $cosacs';"""
                                  " n.e = -27; n.f = +123; n.g = 45.67; n.h = 0xABCD; n.i = 1.2.3;"
                                  " // a comment ; n.x = 1;\n /* and ; another */ n.j = 'été';")
    assert not diagnostics.items
    values = [s.value for s in statements]
    assert [v.text for v in values[:4]] == ['<e name="v"/>', "<e name='v'/>", "",
                                            r"cd C:\Eureva\tremulous && echo $cosacs"]
    assert [v.number for v in values[4:8]] == [-27, 123, 45.67, 0xABCD]
    assert values[8] == StringValue("1.2.3")          # the manual's multi-dot numeral, kept as text
    assert values[9] == StringValue("été") and len(statements) == 10


@pytest.mark.parametrize("text, code, column", [
    ("x.system('a'); import os", "cordscript-syntax", 23),
    ("__import__('os').system('x');", "cordscript-syntax", 1),
    ("x.system('a') + y;", "cordscript-syntax", 15),
    ("x.system(`id`);", "cordscript-syntax", 10),
    ("x.system('a'); `rm -rf /`;", "cordscript-syntax", 16),
    ("x.system('abc);", "cordscript-unterminated-string", 10),
    ('x.system("abc);', "cordscript-unterminated-string", 10),
    ("nœud.system('x');", "cordscript-invalid-character", 2),
    ("x.system('a')\u00a0;", "cordscript-invalid-character", 14),
    ("x.sуstem('a');", "cordscript-invalid-character", 4),      # a Cyrillic 'у'
    ("Parser.System(“co-start”);", "cordscript-invalid-character", 15),
    ("x.system('a\0b');", "cordscript-invalid-character", 12),
    ("var x = 1;", "cordscript-syntax", 5),
    ("$v = 1;", "cordscript-syntax", 1),
    ("import os; os.system('x');", "cordscript-syntax", 8),
    ("x.system('a') or y.fork('b');", "cordscript-syntax", 15),
    ("lambda: 0;", "cordscript-syntax", 7),
    ("if (x) { y.system('a'); }", "cordscript-syntax", 1),
    ("x.system(y.system('a'));", "cordscript-syntax", 18),
    ("x.system('a') y.fork('b');", "cordscript-syntax", 15),
    ("x.y += 1;", "cordscript-syntax", 5),
    ("x.y = 10G;", "cordscript-invalid-number", 7),
    ("x.y = 1.;", "cordscript-invalid-number", 7),
    ("x.y(1,);", "cordscript-syntax", 7),
    ("x.a-b();", "cordscript-syntax", 3),
    ("x.a:b = 1;", "cordscript-syntax", 3),
    ("x.;", "cordscript-syntax", 3),
    ("x.y();/* open", "cordscript-unterminated-comment", 7),
    ("alert();", "cordscript-syntax", 1),
    ("new alert();", "cordscript-syntax", 5),
])
def test_refused_input_is_located(text, code, column, monkeypatch):
    # Nothing may ever be evaluated, whatever the input.
    def forbidden(*args, **kwargs):
        raise AssertionError("Cordscript must never be evaluated")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    import ast
    monkeypatch.setattr(ast, "literal_eval", forbidden)
    statements, diagnostics = run(text)
    errors = diagnostics.errors
    assert errors, text
    assert errors[0].code == code, [str(d) for d in diagnostics]
    assert (errors[0].location.line, errors[0].location.column) == (1, column), [str(d) for d in diagnostics]
    # What was refused is not among the statements; what parses (os.system) does not compile.
    assert len(statements) <= 1
    instructions = compile_statements(statements, nature="configuration", nodes=make_nodes("x", "y"),
                                      diagnostics=diagnostics)
    assert all(i.node in ("x", "y") for i in instructions)


def test_no_eval_in_the_sources():
    sources = pathlib.Path(cordscript.__file__).parent.glob("*.py")
    for source in sources:
        text = source.read_text()
        for word in ("eval(", "exec(", "literal_eval", "compile(", "__import__", "import re\n"):
            assert word not in text, (source.name, word)


def test_empty_statements_and_missing_semicolons():
    statements, diagnostics = run("x.system('a');; ;")
    assert len(statements) == 1
    assert codes(diagnostics, WARNING) == ["cordscript-empty-statement"] * 2 and not diagnostics.errors
    assert [d.location.column for d in diagnostics.items] == [15, 17]
    _, diagnostics = run("  \n ")
    assert codes(diagnostics) == ["cordscript-empty-expression"]
    statements, diagnostics = run("a.start(); b.stop()  ")
    assert len(statements) == 2 and codes(diagnostics) == ["cordscript-missing-semicolon"]
    assert diagnostics.items[0].location.column == 19


def test_recovery_reports_every_error_of_an_expression():
    text = "a.b(; c.system('ok'); d.e = ; f.g(h.i()); j.k('fine');"
    statements, diagnostics = run(text)
    assert [s.target.root for s in statements] == ["c", "j"]
    assert [d.location.column for d in diagnostics.errors] == [1 + text.index(";"), 1 + text.index("; f"),
                                                                1 + text.index("()); j")]


def test_locations_across_lines():
    text = "web.configure(db.hostname);\n\tweb.system('a' 'b');\n  omons.configure(db.hostname);"
    diagnostics = Diagnostics()
    statements = parse(text, locate=locator(text, "m.xml", line=10, column=30), diagnostics=diagnostics)
    assert statements[0].location == Location("m.xml", 10, 30)
    assert statements[0].arguments[0].location == Location("m.xml", 10, 44)
    [error] = diagnostics.errors
    assert error.location == Location("m.xml", 11, 17)           # the second string
    assert statements[1].location == Location("m.xml", 12, 3)
    assert statements[1].method_location == Location("m.xml", 12, 9)
    compile_statements(statements, nature="configuration", nodes=make_nodes("web", "db"), diagnostics=diagnostics)
    assert diagnostics.errors[-1].code == "cordscript-unknown-node"
    assert diagnostics.errors[-1].location == Location("m.xml", 12, 3)


def test_size_limits():
    _, diagnostics = run("a.b();" * 10_000)
    assert not diagnostics.items
    statements, diagnostics = run("a.b();" * 10_001)
    assert statements == [] and codes(diagnostics) == ["cordscript-too-large"]
    assert diagnostics.errors[0].location.column == 1 + 6 * 10_000
    text = "a.system('" + "x" * (64 * 1024) + "');"
    statements, diagnostics = run(text)
    assert statements == [] and codes(diagnostics) == ["cordscript-too-large"]
    assert diagnostics.errors[0].location.column == 64 * 1024 + 1
    _, diagnostics = run("a.y = " + "9" * 41 + ";")
    assert codes(diagnostics) == ["cordscript-invalid-number"]


def test_business_expressions_and_prefix():
    assert strip_prefix("cordscript:alert.new();") == ("alert.new();", 11)
    assert strip_prefix("  Cordscript: application.build();") == (" application.build();", 13)
    assert strip_prefix("alert.new();") == ("alert.new();", 0)
    for text, method in [("cordscript:alert.new();", "new"), ("cordscript:packet.consume();", "consume")]:
        statements, diagnostics = run(text, allow_prefix=True)
        assert not diagnostics.items
        assert statements[0].method == method and statements[0].offset == 11
    _, diagnostics = run("cordscript:alert.new(;", allow_prefix=True)
    assert diagnostics.errors[0].location.column == 22
    # Without allow_prefix, a scoped name is just a node name.
    statements, _ = run("cordscript:alert.new();")
    assert statements[0].target == Path(("cordscript:alert",))


# -- compilation ------------------------------------------------------------------------------------
NODES = make_nodes("web", "db", Node("three", True, {"useOne"}), Node("four", True), Node("accords", True))


def test_compiled_methods_and_normalisation():
    instructions, diagnostics = compile_text(
        "web.Configure(db.HostName); web.configure('key=value'); web.Command('ls'); web.process('srv');"
        "web.kill('srv'); web.system('sleep 2'); web.monitor(slam.cpu); web.monitor(coobas.Transactions, 'http://c/1');"
        "web.monitor(db.load); web.start(); web.STOP(); web.save(); web.snapshot(); web.port = 8080;"
        "three.useone(db.contract, 'x', 2); four.whatever(); accords.publisher.system('x');"
        "web.configure(accords.publisher.password);", NODES, nature="release")
    assert not diagnostics.items, [str(d) for d in diagnostics]
    got = [(i.node, i.path, i.method, i.arguments, set(i.depends_on)) for i in instructions]
    assert got == [
        ("web", ("web",), "configure", (("ref", "db", "hostname"),), {"db"}),
        ("web", ("web",), "configure", ("key=value",), set()),
        ("web", ("web",), "system", ("ls",), set()),
        ("web", ("web",), "fork", ("srv",), set()),
        ("web", ("web",), "kill", ("srv",), set()),
        ("web", ("web",), "system", ("sleep 2",), set()),
        ("web", ("web",), "monitor", (("consumer", "slam", "cpu"),), set()),
        ("web", ("web",), "monitor", (("consumer", "coobas", "Transactions"), "http://c/1"), set()),
        ("web", ("web",), "monitor", (("ref", "db", "load"),), {"db"}),
        ("web", ("web",), "start", (), set()),
        ("web", ("web",), "stop", (), set()),
        ("web", ("web",), "save", (), set()),
        ("web", ("web",), "snapshot", (), set()),
        ("web", ("web",), "set", ("port", 8080), set()),
        ("three", ("three",), "useOne", (("ref", "db", "contract"), "x", 2), {"db"}),
        ("four", ("four",), "whatever", (), set()),
        ("accords", ("accords", "publisher"), "system", ("x",), set()),
        ("web", ("web",), "configure", (("ref", "accords.publisher", "password"),), {"accords"}),
    ]
    assert {i.nature for i in instructions} == {"release"}
    assert [i.is_interface_call for i in instructions[-4:]] == [True, True, False, False]


@pytest.mark.parametrize("text, code, column", [
    ("omons.configure(db.hostname);", "cordscript-unknown-node", 1),
    ("web.configure(omons.hostname);", "cordscript-unknown-node", 15),
    ("web.configure(db.cpu);", "cordscript-unknown-property", 15),
    ("web.configure(db);", "cordscript-bad-arguments", 15),
    ("web.configure(1);", "cordscript-bad-arguments", 15),
    ("web.configure(db.hostname, db.contract);", "cordscript-bad-arguments", 5),
    ("web.configure();", "cordscript-bad-arguments", 5),
    ("web.system();", "cordscript-bad-arguments", 5),
    ("web.system('a', 'b');", "cordscript-bad-arguments", 5),
    ("web.fork(db.hostname);", "cordscript-bad-arguments", 10),
    ("web.kill(15);", "cordscript-bad-arguments", 10),
    ("web.monitor('slam');", "cordscript-bad-arguments", 13),
    ("web.monitor(slam.cpu, 3);", "cordscript-bad-arguments", 23),
    ("web.monitor(slam.cpu, 'a', 'b');", "cordscript-bad-arguments", 13),
    ("web.monitor(x.y.cpu);", "cordscript-unknown-node", 13),
    ("web.start(1);", "cordscript-bad-arguments", 11),
    ("web.x = db.hostname;", "cordscript-bad-arguments", 9),
    ("web.useone();", "cordscript-unknown-method", 5),
    ("web.new();", "cordscript-unknown-method", 5),
    ("db.resolve(a.b, c.d);", "cordscript-unknown-method", 4),
    ("three.usetwo();", "cordscript-unknown-interface-action", 7),
    ("web.inner.system('x');", "cordscript-path-through-simple-node", 1),
    ("web.configure(db.inner.hostname);", "cordscript-path-through-simple-node", 15),
    ("cordscript:web.start();", "cordscript-unknown-node", 1),
])
def test_compile_errors_are_located(text, code, column):
    instructions, diagnostics = compile_text(text, NODES)
    assert instructions == []
    assert codes(diagnostics, ERROR)[:1] == [code], [str(d) for d in diagnostics]
    assert diagnostics.errors[0].location.column == column


def test_compile_reports_every_error_and_keeps_good_statements():
    instructions, diagnostics = compile_text("a.configure(b.hostname); web.start(); web.kill(1); db.x = 'y';", NODES)
    assert [i.method for i in instructions] == ["start", "set"]
    assert codes(diagnostics) == ["cordscript-unknown-node", "cordscript-unknown-node", "cordscript-bad-arguments"]


def test_self_reference_is_a_warning_not_a_dependency():
    instructions, diagnostics = compile_text("web.configure(web.hostname);", NODES)
    assert codes(diagnostics) == ["cordscript-self-reference"] and instructions[0].depends_on == frozenset()


def test_unknown_nature_is_a_programming_error():
    with pytest.raises(ValueError):
        compile_statements([], nature="business", nodes={}, diagnostics=Diagnostics())


# -- start order --------------------------------------------------------------------------------------
def order_of(text: str, names, diagnostics=None):
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    nodes = make_nodes(*names)
    statements = parse(text, locate=locator(text), diagnostics=diagnostics)
    instructions = compile_statements(statements, nature="configuration", nodes=nodes, diagnostics=diagnostics)
    return dependency_order(instructions, list(nodes), diagnostics=diagnostics,
                            location_of=lambda n: Location("t.xml")), diagnostics


def test_order_is_stable_and_honours_dependencies():
    assert order_of("", ["a", "b", "c"])[0] == ["a", "b", "c"]
    assert order_of("a.configure(c.hostname);", ["a", "b", "c"])[0] == ["b", "c", "a"]
    text = "a.configure(c.hostname); c.configure(b.contract);"
    assert order_of(text, ["a", "b", "c", "d"])[0] == ["b", "c", "a", "d"]
    # system/monitor to a service are not dependencies.
    assert order_of("a.system('x'); a.monitor(slam.cpu);", ["a", "slam2"])[0] == ["a", "slam2"]


def test_cycle_is_an_error_naming_its_nodes_in_order():
    text = "web.configure(db.hostname);\ndb.configure(web.hostname);"
    order, diagnostics = order_of(text, ["web", "db"])
    [error] = diagnostics.errors
    assert error.code == "cordscript-dependency-cycle"
    assert error.message == "configure() dependencies form a cycle: web -> db -> web"
    assert (error.location.line, error.location.column) == (2, 1)        # the instruction that closes it
    assert sorted(order) == ["db", "web"]


def test_longer_and_independent_cycles():
    text = ("a.configure(b.hostname); x.configure(y.hostname); b.configure(c.hostname);"
            " y.configure(x.contract); c.configure(a.hostname); z.start();")
    order, diagnostics = order_of(text, ["z", "a", "b", "c", "x", "y"])
    messages = [d.message for d in diagnostics.errors]
    assert messages == ["configure() dependencies form a cycle: a -> b -> c -> a",
                        "configure() dependencies form a cycle: x -> y -> x"]
    assert [d.location.column for d in diagnostics.errors] == [text.index("c.configure") + 1,
                                                                text.index("y.configure") + 1]
    assert sorted(order) == sorted(["z", "a", "b", "c", "x", "y"]) and order[0] == "z"


# -- codes --------------------------------------------------------------------------------------------
def test_codes_are_registered_and_described():
    ours = {code: text for code, text in CODES.items() if code.startswith("cordscript-")}
    assert set(ours) == {
        "cordscript-unterminated-string", "cordscript-invalid-character", "cordscript-invalid-number",
        "cordscript-unterminated-comment", "cordscript-syntax", "cordscript-empty-statement",
        "cordscript-empty-expression", "cordscript-missing-semicolon", "cordscript-too-large",
        "cordscript-unknown-node", "cordscript-unknown-method", "cordscript-unknown-interface-action",
        "cordscript-bad-arguments", "cordscript-unknown-property", "cordscript-path-through-simple-node",
        "cordscript-self-reference", "cordscript-dependency-cycle"}
    assert all(len(text) > 20 for text in ours.values())
