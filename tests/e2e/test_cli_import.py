"""`accords import` against real security, publisher, placement and monitors processes: the
records land on the component that serves their kind, a second import changes nothing, a
changed document updates, and a broken one sends nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker import settings
from occi.client import OcciClient
from occi.publisher.client import PublisherClient
from tests.cords import EXAMPLES

pytestmark = pytest.mark.e2e

COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
_PLATFORM_ENV = ("ACCORDS_TOKEN", "ACCORDS_SECURITY", "ACCORDS_PUBLISHER", "ACCORDS_DATA")

PROVIDER_DOCUMENT = """<provider name="osprocci" operator="osprocci" zone="europe" category="openstack"
          xmlns="http://www.compatibleone.fr/schemes/provision.xsd">
  <quota name=":cpu" property="occi.compute.cores" units="U" offered="30">
    <price name=":cpu:price" operator="osprocci" rate="0.04" currency="euro" period="hour"/>
  </quota>
  <quota name=":ram"  property="occi.compute.memory"   units="G" offered="30"/>
  <quota name=":disk" property="occi.storage.size"     units="G" offered="1000"/>
  <quota name=":vm"   property="accords.vm.count"      units="U" offered="30">
    <price name=":vm:price" operator="osprocci" rate="1.00" currency="euro" fixed="true"/>
  </quota>
  <quota name=":adr"  property="accords.address.count" units="U" offered="30"/>
</provider>
"""

OFFERS = """<import name="offers" xmlns="http://www.compatibleone.fr/schemes/cords.xsd">
  <price name=":small" operator="accords" currency="euro" fixed="yes" rate="3" period="1"/>
  <geolocation category="openstack" operator="osprocci" name=":europe" zone="europe" location="RegionOne"/>
  <metric name=":cpu:idle" period="60" samples="1" expression="top -b -n1 | grep Cpu | cut -f 4 -d , "/>
  <account name="hospital-a" legal="Hospital A"><user name="alice" role="admin" password="not-read"/></account>
</import>
"""


def accords(*args: str, data: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
    clean["ACCORDS_DATA"] = str(data)
    return subprocess.run([sys.executable, "-m", "broker", *args], capture_output=True, text=True, timeout=timeout,
                          env=clean)


def imported(*files, data: Path, extra: tuple[str, ...] = ()) -> dict:
    result = accords("import", *map(str, files), "--json", *extra, data=data)
    assert result.returncode == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["ok"] is True
    return report


def outcomes(report: dict) -> dict[tuple[str, str], str]:
    return {(row["kind"], row["name"]): row["outcome"] for file in report["files"] for row in file["records"]}


@pytest.fixture
def offers_platform(platform, serve):
    """security + publisher + placement + monitors, with platform.json written as `accords up` does;
    returns (platform, placement client, monitors client) as the first admin."""
    for component in ("placement", "monitors"):
        serve(component, "--publisher", platform.publisher.url, data=platform.data, workers=1)
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    publisher = PublisherClient(platform.publisher.url, token=platform.admin_token, cache_ttl=0)
    deadline = time.monotonic() + 30
    while not (publisher.resolve(COMPATIBLE + "price") and publisher.resolve(COMPATIBLE + "metric")):
        assert time.monotonic() < deadline, "placement and monitors never published their kinds"
        time.sleep(0.2)
    placement = OcciClient(publisher.url_for(COMPATIBLE + "price"), token=platform.admin_token)
    monitors = OcciClient(publisher.url_for(COMPATIBLE + "metric"), token=platform.admin_token)
    return platform, placement, monitors


def named(client: OcciClient, kind: str, name: str):
    found = client.list_entities(f"/{kind}/", filters={f"occi.{kind}.name": name})
    assert len(found) == 1, (kind, name, found)
    return found[0]


def test_import_creates_records_where_they_belong_and_a_second_import_changes_nothing(offers_platform, tmp_path):
    platform, placement, monitors = offers_platform
    offers, provider = tmp_path / "offers.xml", tmp_path / "osprocci.xml"
    offers.write_text(OFFERS)
    provider.write_text(PROVIDER_DOCUMENT)

    first = imported(offers, provider, data=platform.data)
    assert outcomes(first) == {
        ("price", "offers:small"): "created", ("geolocation", "offers:europe"): "created",
        ("metric", "offers:cpu:idle"): "created", ("account", "hospital-a"): "created", ("user", "alice"): "skipped",
        ("price", "osprocci:cpu:price"): "created", ("price", "osprocci:vm:price"): "created",
        ("provider", "osprocci"): "created",
        **{("quota", f"osprocci:{q}"): "created" for q in ("cpu", "ram", "disk", "vm", "adr")}}
    alice = next(r for r in first["files"][0]["records"] if r["name"] == "alice")
    assert "accords users add alice --account hospital-a --role ROLE" in alice["message"]
    assert "not-read" not in json.dumps(first)

    # Each kind on its component, typed as declared, ':' names scoped by the document.
    price = named(placement, "price", "offers:small")
    assert price.attributes["occi.price.rate"] == 3 and price.attributes["occi.price.fixed"] == "yes"
    assert named(placement, "geolocation", "offers:europe").attributes["occi.geolocation.location"] == "RegionOne"
    metric = named(monitors, "metric", "offers:cpu:idle")
    assert metric.attributes["occi.metric.samples"] == 1
    assert metric.attributes["occi.metric.expression"] == "top -b -n1 | grep Cpu | cut -f 4 -d , "
    security = OcciClient(platform.security.url, token=platform.admin_token)
    assert security.get("/account/hospital-a").attributes["occi.account.legal"] == "Hospital A"
    assert security.list("/user/", filters={"occi.user.name": "alice"}) == []     # users are never created

    # The provider, its quotas (provision and price are URLs) and the links that count them.
    osprocci = named(placement, "provider", "osprocci")
    assert osprocci.attributes["occi.provider.quotas"] == 5
    cpu = named(placement, "quota", "osprocci:cpu")
    assert cpu.attributes["occi.quota.provision"] == osprocci.location
    assert cpu.attributes["occi.quota.price"] == named(placement, "price", "osprocci:cpu:price").location
    assert (cpu.attributes["occi.quota.offered"], cpu.attributes["occi.quota.reserved"]) == (30, 0)
    assert "occi.quota.price" not in named(placement, "quota", "osprocci:ram").attributes
    linked = {link.target for link in placement.get(osprocci.location).links}
    assert cpu.location in linked and len(linked) == 5

    # Again: everything is found by name and nothing changes (the user is still to be created).
    second = imported(offers, provider, data=platform.data)
    assert {outcome for key, outcome in outcomes(second).items() if key != ("user", "alice")} == {"unchanged"}
    assert outcomes(second)[("user", "alice")] == "skipped"
    assert named(placement, "provider", "osprocci").attributes["occi.provider.quotas"] == 5
    assert len(placement.list("/quota/")) == 5 and len(placement.list("/price/")) == 3

    # A changed document updates what changed, and only that; --dry-run only says it would.
    provider.write_text(PROVIDER_DOCUMENT.replace('offered="1000"', 'offered="2000"'))
    preview = imported(provider, data=platform.data, extra=("--dry-run",))
    assert outcomes(preview)[("quota", "osprocci:disk")] == "would-update"
    assert named(placement, "quota", "osprocci:disk").attributes["occi.quota.offered"] == 1000
    third = imported(provider, data=platform.data)
    changed = {key: outcome for key, outcome in outcomes(third).items() if outcome != "unchanged"}
    assert changed == {("quota", "osprocci:disk"): "updated"}
    assert named(placement, "quota", "osprocci:disk").attributes["occi.quota.offered"] == 2000


def test_the_example_imports_load_and_reload_unchanged(offers_platform):
    if not EXAMPLES.is_dir():
        pytest.skip(f"the CORDS example corpus is not at {EXAMPLES}")
    platform, placement, monitors = offers_platform
    files = [EXAMPLES / "imports" / name for name in ("prices.xml", "metrics.xml", "geolocations-amazonEc2.xml")]
    first = imported(*files, data=platform.data)
    assert set(outcomes(first).values()) == {"created"}
    assert len(monitors.list("/metric/")) == 49 and len(placement.list("/geolocation/")) == 21
    # The persisted store of the same prices (read as an import, with a warning) is the same records.
    store = accords("import", str(EXAMPLES / "imports" / "cords_price.xml"), "--json", data=platform.data)
    assert store.returncode == 0, store.stderr
    assert "cords-store-document warning" in store.stderr
    assert set(outcomes(json.loads(store.stdout)).values()) == {"unchanged"}
    assert set(outcomes(imported(*files, data=platform.data)).values()) == {"unchanged"}
    assert len(placement.list("/price/")) == 9


def test_a_broken_document_sends_nothing_and_a_manifest_is_refused(offers_platform, tmp_path):
    platform, placement, monitors = offers_platform
    good, broken = tmp_path / "good.xml", tmp_path / "broken.xml"
    good.write_text(OFFERS)
    broken.write_text(OFFERS.replace('rate="3"', 'rate="three"').replace('<metric name=":cpu:idle"', '<metric'))
    result = accords("import", str(good), str(broken), data=platform.data)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{broken}:2:") and "cords-bad-number" in line for line in lines), result.stderr
    assert any(line.startswith(f"{broken}:4:") and "cords-missing-attribute" in line for line in lines), result.stderr
    assert "nothing was imported" in result.stderr and "Traceback" not in result.stderr
    # Not even the good file's records: every document is checked before anything is sent.
    assert placement.list("/price/") == [] and monitors.list("/metric/") == []

    manifest = tmp_path / "any.xml"
    manifest.write_text('<manifest name="any" xmlns="http://www.compatibleone.fr/schemes/manifest.xsd">'
                        '<node name=":web"/></manifest>')
    refused = accords("import", str(manifest), data=platform.data)
    assert refused.returncode == 1 and f"accords submit {manifest}" in refused.stderr
    assert "Traceback" not in refused.stderr
