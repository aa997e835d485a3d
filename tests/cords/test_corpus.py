"""The real documents of the original platform (../shared/cords-examples), end to end:
read (strict or legacy), validated, compiled to plans and agreements, checked against what
CORDS.md says the original platform produced. Skipped when ../shared is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from cords.check import check_file, check_together
from tests.cords import EXAMPLES

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is absent (reference corpus)")

MANIFESTS = sorted((EXAMPLES / "manifests").glob("*.xml")) if EXAMPLES.is_dir() else []
AGREEMENTS = sorted((EXAMPLES / "agreements").glob("*.xml")) if EXAMPLES.is_dir() else []
IMPORTS = sorted((EXAMPLES / "imports").glob("*.xml")) if EXAMPLES.is_dir() else []
#: CORDS.md §2 marks them ✗: not well-formed XML, read in legacy mode.
MALFORMED = {"platform.xml", "manifest-testaz.xml", "manifest-testos.xml", "manifest-testpa.xml", "pademo_poc4.xml",
             "pademo_poc4_tremulous.xml", "pademo_win_http.xml", "slamtest.xml"}


@pytest.fixture(scope="module")
def corpus():
    """Every document checked together: manifests reuse each other's definitions by name."""
    results = check_together([*MANIFESTS, *AGREEMENTS, *IMPORTS])
    return {Path(r.name).name: r for r in results}


def test_every_document_is_accepted_but_the_one_with_a_real_mistake(corpus):
    rejected = {name: [str(d) for d in r.diagnostics.errors] for name, r in corpus.items() if not r.ok}
    # example2.xml writes omons.hostname for a node named comons (CORDS.md §2: a good negative test).
    assert set(rejected) == {"example2.xml"}, rejected
    [error] = corpus["example2.xml"].diagnostics.errors
    assert error.code == "cordscript-unknown-node" and "'omons'" in error.message
    assert error.location.line > 0 and error.location.column > 0


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_the_malformed_ones_are_read_in_legacy_mode_with_warnings(corpus, name):
    result = corpus[name]
    assert result.document is not None and result.document.legacy
    assert any(w.code.startswith("legacy-") for w in result.diagnostics.warnings)


def test_the_well_formed_ones_are_read_strictly(corpus):
    strict = [name for name, r in corpus.items() if name not in MALFORMED]
    assert strict and all(not corpus[name].document.legacy for name in strict)


def test_any_xml_the_minimal_manifest(corpus):
    plan = corpus["any.xml"].plan
    [node] = plan.nodes
    assert (node.name, node.complex, node.access, node.scope, node.provider) == ("any", False, "public", "normal", "any")
    infrastructure = node.infrastructure
    assert infrastructure.name == "any:any"                       # ':any' scoped by the manifest's name
    assert infrastructure.parts["compute"].name == "any:small"
    assert infrastructure.parts["compute"].attributes["cores"] == "1"
    assert node.image.name == "any:ubuntu" and node.image.attributes["agent"] == "none"
    assert [(r.name, r.protocol, r.first, r.last) for r in node.firewall] == [
        ("ssh", "tcp", 22, 22), ("cosacs", "tcp", 8286, 8286), ("http", "tcp", 80, 80)]
    assert plan.order == ["any"] and all(not items for items in plan.instructions.values())
    assert corpus["any.xml"].diagnostics.items == []


def test_example1_xwiki_waits_for_its_database(corpus):
    plan = corpus["example1.xml"].plan
    assert [n.name for n in plan.nodes] == ["Sqldatabase", "Xwiki"]
    assert plan.edges == [("Xwiki", "Sqldatabase")] and plan.order == ["Sqldatabase", "Xwiki"]
    [instruction] = plan.instructions["configuration"]
    assert (instruction.node, instruction.method, instruction.arguments) == (
        "Xwiki", "configure", (("ref", "Sqldatabase", "hostname"),))
    assert [p.name for p in plan.node("Sqldatabase").image.packages] == ["MySql", "XwikiData", "XwikiDataPatch"]


def test_example3_complex_node_and_three_level_paths(corpus):
    plan = corpus["example3.xml"].plan
    assert [(n.name, n.complex, n.manifest) for n in plan.nodes] == [
        ("accords", True, "accords"), ("osprocci", False, None), ("onprocci", False, None)]
    assert plan.edges == [("onprocci", "accords"), ("osprocci", "accords")]
    assert plan.order[0] == "accords"
    configure = plan.instructions["configuration"]
    assert len(configure) == 6 and {i.arguments[0][1] for i in configure} == {
        "accords.publisher", "accords.coss", "accords.comons"}


def test_small_accords_the_platform_on_one_node(corpus):
    plan = corpus["small-accords.xml"].plan
    [node] = plan.nodes
    assert len(node.firewall) == 26
    assert [i.method for i in plan.instructions["configuration"]] == ["system"] * 25
    assert [i.method for i in plan.instructions["release"]] == ["kill"] * 24
    codes = {w.code for w in corpus["small-accords.xml"].diagnostics.warnings}
    assert codes == {"cords-unexpected-text", "cordscript-missing-semicolon"}     # the stray ';' and ap.kill(...)


@pytest.mark.parametrize("component", ["broker", "coss", "slam", "parser", "procci"])
def test_component_manifests_share_the_publisher_and_its_infrastructure(corpus, component):
    plan = corpus[f"accords-{component}.xml"].plan
    publisher, node = plan.nodes
    assert (publisher.name, publisher.complex, publisher.manifest, publisher.scope, publisher.access) == (
        "accords:publisher", True, "accords:publisher", "common", "public")
    # <infrastructure name="accords:component"/> is the one accords-publisher.xml defines.
    assert node.infrastructure.name == "accords:component" and node.infrastructure.resolved
    assert node.infrastructure.parts, "the reused infrastructure came without its parts"
    assert plan.edges == [(node.name, "accords:publisher")] and plan.order == ["accords:publisher", node.name]
    assert [i.method for i in plan.instructions["configuration"]] == ["configure", "system", "fork"]


def test_platform_xml_fifteen_nodes_in_legacy_mode(corpus):
    result = corpus["platform.xml"]
    assert len(result.plan.nodes) == 15
    assert sum(w.code == "legacy-stray-text" for w in result.diagnostics.warnings) == 15


def test_node_order_in_the_document_does_not_change_the_plan(corpus):
    one, two = corpus["pademo_manifest_multi.xml"].plan, corpus["pademo_manifest_multi2.xml"].plan
    assert {n.name: n.as_dict() | {"line": 0} for n in one.nodes} == {n.name: n.as_dict() | {"line": 0} for n in two.nodes}
    described = lambda plan: sorted((i.node, i.method, i.arguments) for i in plan.instructions["configuration"])  # noqa: E731
    assert described(one) == described(two)


def test_agreements_conditions_and_guarantees(corpus):
    sla5 = corpus["sla5.xml"].agreement
    assert sla5.manifests == ["accords:platform"]
    assert sla5.placement() == {"occi.placement.algorithm": "zone", "occi.placement.zone": "europe"}
    [guarantee] = sla5.guarantees
    assert guarantee.scope.every and guarantee.metric is None
    draft = corpus["slamtest.xml"]
    assert draft.agreement is not None and draft.ok       # the pre-schema draft, read with warnings
    assert any(w.code == "cords-legacy-value" for w in draft.diagnostics.warnings)


def test_imports(corpus):
    assert corpus["cords_price.xml"].kind == "import"           # a persisted store, read as an import
    models = {d.name for d in corpus["coips.xml"].definitions}
    assert "coips:openstack:model" in models                    # nested ':' names scoped by the import's name


def test_a_document_alone_reports_what_it_needs_from_elsewhere():
    alone = check_file(EXAMPLES / "manifests" / "accords-broker.xml")
    codes = sorted(w.code for w in alone.diagnostics.warnings)
    assert codes == ["cords-unknown-manifest", "cords-unresolved-definition"] and alone.ok
