"""Attribute declarations: what each type accepts, what it refuses and how it describes itself."""
from __future__ import annotations

import pytest

from occi.model import Attribute, AttributeValueError


@pytest.mark.parametrize("declaration, value, expected", [
    (Attribute("a", type="string"), "x", "x"),
    (Attribute("a", type="number"), 2, 2),
    (Attribute("a", type="number"), 2.5, 2.5),
    (Attribute("a", type="integer"), 2.0, 2),
    (Attribute("a", type="boolean"), False, False),
    (Attribute("a", type="enum", enum=("x", "y")), "y", "y"),
    (Attribute("a", type="datetime"), "2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z"),
    (Attribute("a", type="array"), [1, "two"], [1, "two"]),
    (Attribute("a", type="array"), "[1, 2]", [1, 2]),          # text renderings carry JSON in a string
    (Attribute("a", type="object"), '{"k": 1}', {"k": 1}),
    (Attribute("a", type="integer", minimum=0, maximum=4095), 4095, 4095),
    (Attribute("a", pattern=r"[a-z]+"), "abc", "abc"),
])
def test_values_of_the_declared_type_are_accepted(declaration, value, expected):
    assert declaration.check(value) == expected


@pytest.mark.parametrize("declaration, value, fragment", [
    (Attribute("occi.compute.cores", type="integer"), "2", "must be an unquoted number"),
    (Attribute("a", type="integer"), 2.5, "a whole number"),
    (Attribute("a", type="number"), True, "unquoted number"),
    (Attribute("a", type="number"), float("nan"), "finite"),
    (Attribute("a", type="string"), 3, "quoted string"),
    (Attribute("a", type="string"), "two\nlines", "control characters"),
    (Attribute("a", type="boolean"), "true", "true or false"),
    (Attribute("a", type="enum", enum=("x", "y")), "z", "not one of x, y"),
    (Attribute("a", type="datetime"), "P1D", "absolute ISO 8601"),
    (Attribute("a", type="array"), "[1,", "not valid JSON"),
    (Attribute("a", type="object"), [1], "an object"),
    (Attribute("a", type="integer", maximum=4095), 4096, "above the maximum 4095"),
    (Attribute("a", type="integer", minimum=1), 0, "below the minimum 1"),
    (Attribute("a", pattern=r"[a-z]+"), "ABC", "does not match"),
])
def test_values_of_another_type_are_refused_with_the_reason(declaration, value, fragment):
    with pytest.raises(AttributeValueError) as caught:
        declaration.check(value, where="X-OCCI-Attribute")
    assert fragment in caught.value.message
    assert caught.value.status == 400 and caught.value.where == "X-OCCI-Attribute"


@pytest.mark.parametrize("kwargs, fragment", [
    ({"name": "bad name"}, "invalid attribute name"),
    ({"name": "a", "type": "float"}, "unknown type"),
    ({"name": "a", "type": "enum"}, "needs its values"),
    ({"name": "a", "type": "integer", "default": "1"}, "unquoted number"),
])
def test_bad_declarations_fail_at_import_time(kwargs, fragment):
    with pytest.raises((ValueError, AttributeValueError), match=fragment):
        Attribute(**kwargs)


def test_descriptions_follow_gfd226_and_the_text_grammar():
    vlan = Attribute("occi.network.vlan", type="integer", minimum=0, maximum=4095, description="VLAN")
    assert vlan.describe() == {"mutable": True, "required": False, "type": "number", "description": "VLAN",
                               "pattern": {"type": "integer", "minimum": 0, "maximum": 4095}}
    state = Attribute("s", type="enum", enum=("on", "off"), mutable=False, required=True, default="off")
    assert state.describe()["default"] == "off" and state.describe()["pattern"] == {"enum": ["on", "off"]}
    assert state.text_definition() == "s{immutable required}"
    assert Attribute("plain").text_definition() == "plain"
