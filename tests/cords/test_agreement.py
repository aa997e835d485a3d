"""Agreement semantics beyond the corpus: objectives with units, scopes, operator aliases."""
from __future__ import annotations

import pytest

from cords.agreement import OPERATORS, Scope, normalise_objective
from cords.check import check

AGREEMENT = """<agreement name="a" initiator="x" responder="accords" serviceprovider="responder">
  <terms name=":g" type="guarantees"><term name=":t">
    <guarantee name=":latency" obligated="provider" scope="=web,!db">
      <variable name=":v" property="http:p95" condition="notgreater" value="{value}"/>
      <business name=":p" nature="penalty" expression="cordscript:alert.new();"/>
    </guarantee>
  </term></terms>
</agreement>"""


@pytest.mark.parametrize("text, expected", [
    ("99.5", 99.5), ("99.5%", 99.5), ("100ms", 0.1), ("2s", 2.0), ("512M", 512 * 2 ** 20), ("1G", 2 ** 30), ("5m", 300.0),
    ("fast", None), (None, None)])
def test_objectives_with_units_normalise_to_base_units(text, expected):
    assert normalise_objective(text) == expected


def test_a_guarantee_carries_its_normalised_target_and_canonical_operator():
    result = check(AGREEMENT.format(value="250ms").encode(), name="a.xml", nodes=["web", "db"])
    assert result.ok, [str(d) for d in result.diagnostics]
    [guarantee] = result.agreement.guarantees
    assert (guarantee.metric, guarantee.operator, guarantee.target) == ("http:p95", "le", 0.25)
    assert guarantee.scope.nodes(["web", "db", "cache"]) == ["web"]
    assert guarantee.as_dict()["target"] == 0.25


def test_scopes_and_operator_aliases():
    assert Scope.parse("default").every and Scope.parse("").every and Scope.parse("ALL").every
    scope = Scope.parse("=one,!two;!three =four")
    assert (scope.include, scope.exclude) == (("one", "four"), ("two", "three"))
    assert Scope.parse("!two").nodes(["one", "two"]) == ["one"]
    assert {OPERATORS[a] for a in ("notless", "ge")} == {"ge"} and OPERATORS["gr"] == "gt"
