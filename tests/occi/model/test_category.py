"""Kinds, mixins and the model registry: lineage, applicability, templates and consistency checks."""
from __future__ import annotations

import pytest

from occi.errors import BadRequest, Conflict
from occi.model import Action, Attribute, Kind, Mixin, Model, split_type_id
from occi.model import core, infrastructure as infra, sla

S = "http://example.org/test#"


def test_kind_lineage_ends_at_core_entity_and_inherits_attributes():
    assert [k.term for k in infra.COMPUTE.lineage] == ["compute", "resource", "entity"]
    assert infra.COMPUTE.is_a(core.RESOURCE) and not infra.COMPUTE.is_a(core.LINK)
    assert {"occi.core.id", "occi.core.summary", "occi.compute.cores"} <= set(infra.COMPUTE.attribute_map)


def test_mixin_applies_through_what_it_depends_on():
    template = infra.resource_template("big", scheme=S, cores=8)
    assert template.applies_to(infra.COMPUTE) and not template.applies_to(infra.STORAGE)
    assert template.is_template(infra.RESOURCE_TPL.type_id)
    assert template.attribute_map["occi.compute.cores"].default == 8
    tag = Mixin(S, "tag", location="/tag/")
    assert tag.applies_to(infra.STORAGE)             # an empty applies means anything


def test_type_ids_split_and_refuse_garbage():
    assert split_type_id("http://schemas.ogf.org/occi/core#entity") == ("http://schemas.ogf.org/occi/core#", "entity")
    for bad in ("no-hash", "http://x#", "#term", "http://x#bad term"):
        with pytest.raises(ValueError):
            split_type_id(bad)


@pytest.mark.parametrize("build, fragment", [
    (lambda: Kind("no-hash", "k"), "must end with '#'"),
    (lambda: Kind(S, "bad term"), "invalid category term"),
    (lambda: Kind(S, "k", location="nowhere"), "must start and end with '/'"),
    (lambda: Kind(S, "k", attributes=(Attribute("a"), Attribute("a"))), "duplicate attribute"),
    (lambda: Model([Kind(S, "k", parent=core.RESOURCE)]), "needs a location"),
    (lambda: Model([Kind(S, "k", parent=core.RESOURCE, location="/compute/"), infra.COMPUTE]), "is bound to both"),
    (lambda: Model([Mixin(S, "m", location="/m/", depends=(infra.OS_TPL,))]), "is not in the model"),
    (lambda: Model([Kind(S, "k", parent=core.RESOURCE, location="/k/"),
                    Kind(S, "k", parent=core.RESOURCE, location="/k2/")]), "declared twice"),
])
def test_inconsistent_models_are_refused_when_declared(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


def test_model_lookups_aliases_and_relations():
    model = Model([*infra.CATEGORIES, *sla.CATEGORIES])
    assert model.by_location("/compute/") is infra.COMPUTE
    accept = model.get("http://schemas.ogf.org/occi/sla/agreement/action#accept")
    assert accept is sla.AGREEMENT_ACTIONS[0]                       # the other published scheme
    related = {c.term for c in model.related(infra.COMPUTE)}
    assert {"compute", "resource", "entity", "start", "stop"} <= related and "storage" not in related
    with pytest.raises(BadRequest, match="unknown kind"):
        model.kind(S + "nothing")


def test_actions_resolve_by_term_and_ambiguity_is_a_conflict():
    first = Action("http://example.org/a#", "go")
    second = Action("http://example.org/b#", "go")
    model = Model([])
    assert model.find_action("go", [first]) is first
    with pytest.raises(Conflict, match="ambiguous"):
        model.find_action("go", [first, second])
    with pytest.raises(BadRequest, match="no action 'stop'"):
        model.find_action("stop", [first])


def test_user_mixins_extend_a_model_without_changing_it():
    base = Model(infra.CATEGORIES)
    tag = Mixin(S, "frontend", location="/tags/frontend/", user_defined=True)
    extended = base.extend([tag])
    assert extended.get(tag.type_id) is tag and base.get(tag.type_id) is None
    assert extended.is_provider_category(infra.COMPUTE.type_id)
    assert not extended.is_provider_category(tag.type_id)
