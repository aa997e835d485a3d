"""Import and provider quota documents converted to records (cords.imports): every example import
document, a provider quota document (CORDS.md §10), and what is dropped, typed, scoped or refused."""
from __future__ import annotations

import pytest

from cords.check import check
from cords.imports import KINDS, NotImportable, Reference, records_of

from . import EXAMPLES

IMPORTS = sorted(p.name for p in (EXAMPLES / "imports").glob("*.xml")) if EXAMPLES.is_dir() else []

#: file -> (records by kind, parser definitions)
EXPECTED = {
    "accounts.xml": ({"account": 14, "user": 14}, {}),
    "metrics.xml": ({"metric": 49}, {}),
    "prices.xml": ({"price": 9}, {}),
    "cords_price.xml": ({"price": 9}, {}),
    "geolocations-amazonEc2.xml": ({"geolocation": 21}, {}),
    "coips.xml": ({}, {"infrastructure": 7}),
}

PROVIDER = b"""<provider name="osprocci" operator="osprocci" zone="europe" price="openstack" quotas="5"
          xmlns="http://www.compatibleone.fr/schemes/provision.xsd">
  <quota name=":cpu" property="occi.compute.cores" units="U" offered="30" reserved="4">
    <price name=":cpu:price" operator="osprocci" rate="0.04" currency="euro" period="hour"/>
  </quota>
  <quota name=":ram" property="occi.compute.memory" units="G" offered="30" price="http://billing.example/price/1"/>
  <quota property="accords.vm.count" offered="30"><price rate="1.00" currency="euro" fixed="true"/></quota>
</provider>
"""


def converted(data: bytes, name: str = "doc.xml"):
    checked = check(data, name=name)
    assert checked.ok, [str(d) for d in checked.diagnostics]
    return records_of(checked)


def from_example(name: str):
    checked = check((EXAMPLES / "imports" / name).read_bytes(), name=name)
    assert checked.ok, [str(d) for d in checked.diagnostics]
    return records_of(checked)


def by_kind(document) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in document.records:
        counts[record.kind] = counts.get(record.kind, 0) + 1
    return counts


@pytest.mark.parametrize("name", IMPORTS)
def test_every_example_import_converts(examples, name):
    document = from_example(name)
    kinds, definitions = EXPECTED[name]
    assert by_kind(document) == kinds and document.definitions == definitions
    for record in document.records:
        kind = KINDS[record.kind]
        assert record.name, f"{name}:{record.line}: every example record is named"
        for attribute, value in record.attributes.items():
            if record.kind == "user":
                continue
            kind.attribute_map[attribute].check(value)         # what the server will accept
        assert not any(KINDS[record.kind].attribute_map[a].server_managed for a in record.attributes
                       if record.kind != "user")


def test_examples_every_import_document_is_expected(examples):
    assert set(IMPORTS) == set(EXPECTED)


def test_values_are_typed_and_kept_as_written(examples):
    metric = next(r for r in from_example("metrics.xml").records if r.name == "cpu:idle")
    assert metric.attributes["occi.metric.samples"] == 1 and metric.attributes["occi.metric.period"] == "60"
    assert metric.attributes["occi.metric.expression"].endswith("-d , ")        # a shell command's own spaces
    every = {r.attributes["occi.metric.period"] for r in from_example("metrics.xml").records}
    assert {"60", "3600"} <= every
    price = from_example("prices.xml").records[1]
    assert price.attributes["occi.price.rate"] == 20 and price.attributes["occi.price.fixed"] == "yes"
    assert "occi.price.units" not in price.attributes                            # units="" is no value


def test_a_persisted_store_is_the_same_records_as_the_import(examples):
    store, prices = from_example("cords_price.xml"), from_example("prices.xml")
    assert [(r.name, r.attributes) for r in store.records] == [(r.name, r.attributes) for r in prices.records]


def test_names_are_scoped_by_the_document(examples):
    geolocations = from_example("geolocations-amazonEc2.xml")
    first = geolocations.records[0]
    assert first.name == "amazonEc2:geolocations:europe" == first.attributes["occi.geolocation.name"]
    assert first.attributes["occi.geolocation.location"] == "eu-west-1"


def test_accounts_and_their_users_who_are_reported_not_created(examples):
    records = from_example("accounts.xml").records
    assert [(r.kind, r.name) for r in records[:4]] == [("account", "accords"), ("user", "operator"),
                                                      ("account", "osprocci"), ("user", "osprocci")]
    account, user = records[2], records[3]
    assert account.create and account.attributes == {"occi.account.name": "osprocci"}
    assert not user.create and user.attributes == {"occi.user.account": "osprocci"} and user.role == "admin"


def test_a_users_password_is_never_read():
    document = converted(b'<import name="people"><account name="acme" number="42" legal="Acme">'
                         b'<user name="bob" password="s3cret-pass" email="bob@acme.example" role="admin"/>'
                         b'</account><user name="eve" account="acme"/></import>')
    account, bob, eve = document.records
    assert account.attributes == {"occi.account.name": "acme", "occi.account.legal": "Acme"}
    assert any("number" in note for note in account.notes)
    assert bob.attributes == {"occi.user.account": "acme", "occi.user.email": "bob@acme.example"}
    assert "s3cret-pass" not in repr(document) and any("password" in note for note in bob.notes)
    assert (eve.name, eve.attributes, eve.create) == ("eve", {"occi.user.account": "acme"}, False)


def test_definitions_are_the_parsers(examples):
    document = from_example("coips.xml")
    assert document.records == [] and document.definitions == {"infrastructure": 7}


def test_a_provider_quota_document():
    document = converted(PROVIDER, name="osprocci.xml")
    assert document.kind == "provider" and document.name == "osprocci"
    assert [(r.kind, r.name) for r in document.records] == [
        ("price", "osprocci:cpu:price"), ("price", "osprocci:accords.vm.count:price"), ("provider", "osprocci"),
        ("quota", "osprocci:cpu"), ("quota", "osprocci:ram"), ("quota", "osprocci:accords.vm.count")]
    cpu_price, vm_price, provider, cpu, ram, vm = document.records
    assert cpu_price.attributes["occi.price.rate"] == 0.04 and vm_price.attributes["occi.price.rate"] == 1.0
    # The provider's price names a price; its quota count is the server's.
    assert provider.references == {"occi.provider.price": Reference("price", "openstack")}
    assert "occi.provider.quotas" not in provider.attributes and any("quotas" in n for n in provider.notes)
    # Quotas name their provider and price, and hang from the provider by a link.
    assert cpu.references == {"occi.quota.provision": Reference("provider", "osprocci"),
                              "occi.quota.price": Reference("price", "osprocci:cpu:price")}
    assert cpu.linked_from == Reference("provider", "osprocci")
    assert cpu.attributes["occi.quota.offered"] == 30 and "occi.quota.reserved" not in cpu.attributes
    assert any("reserved" in note for note in cpu.notes)
    assert ram.attributes["occi.quota.price"] == "http://billing.example/price/1"      # a URL stays one
    assert vm.references["occi.quota.price"] == Reference("price", "osprocci:accords.vm.count:price")
    assert any("no name" in note for note in vm.notes)


def test_nulls_and_store_attributes_are_left_out():
    document = converted(b'<import name="x"><price name="p" id="1f77" state="0" currency="(null)" rate="2"/>'
                         b'<geolocation name=":g" zone="europe" town=""/></import>')
    price, geolocation = document.records
    assert price.attributes == {"occi.price.name": "p", "occi.price.rate": 2}
    assert geolocation.attributes == {"occi.geolocation.name": "x:g", "occi.geolocation.zone": "europe"}
    assert price.notes == [] and geolocation.notes == []


@pytest.mark.parametrize("data, wanted", [
    (b'<manifest name="any"><node name=":web"/></manifest>', "accords submit any.xml"),
    (b'<agreement name="sla"/>', "accords submit MANIFEST --agreement any.xml"),
])
def test_manifests_and_agreements_are_submitted_not_imported(data, wanted):
    checked = check(data, name="any.xml")
    with pytest.raises(NotImportable) as refused:
        records_of(checked)
    assert wanted in refused.value.message
