"""The placement component (providers' offers) and the CORDS metric in monitors, served in-process."""
from __future__ import annotations

from urllib.parse import urlsplit

import falcon.testing
import pytest

from broker import components
from cords.model import offers
from occi.auth import StaticCredentials
from occi.model import monitoring
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from placement import component as placement

COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
JSON = "application/occi+json"
LINK = "http://schemas.ogf.org/occi/core#link"
#: token -> principal; "olga" and "oscar" operate two clouds, each with its own account.
PRINCIPALS = {
    "olga": Principal(account="osprocci", name="olga", roles=frozenset({"operator"})),
    "oscar": Principal(account="onprocci", name="oscar", roles=frozenset({"operator"})),
    "alice": Principal(account="clinic", name="alice", roles=frozenset({"provider"})),
    "carl": Principal(account="ccmp", name="carl", roles=frozenset({"ccmp"})),
    "probe": Principal(account="clinic", name="probe", roles=frozenset({"agent"})),
    "svc": Principal(account="accords", name="svc-broker", roles=frozenset({"service"})),
}


class Client:
    def __init__(self, component: str, database):
        credentials = StaticCredentials()
        for token, principal in PRINCIPALS.items():
            credentials.add_token(token, principal)
        built = components.load(component)
        self.store = open_store(database)
        self.app = falcon.testing.TestClient(create_app(
            model=built.model, store=self.store, hooks=built.hooks, policy=built.policy, authenticator=credentials,
            component=component))

    def call(self, method: str, path: str, body=None, *, who: str = "olga"):
        return self.app.simulate_request(method, path, json=body, headers={
            "Authorization": f"Bearer {who}", "Accept": JSON, **({"Content-Type": JSON} if body is not None else {})})

    def create(self, term: str, attributes: dict, *, who: str = "olga", links=()) -> str:
        body = {"kind": COMPATIBLE + term, "attributes": attributes}
        if links:
            body["links"] = [{"kind": LINK, "target": {"location": target}} for target in links]
        result = self.call("POST", f"/{term}/", body, who=who)
        assert result.status_code == 201, result.text
        return urlsplit(result.headers["Location"]).path

    def attributes(self, path: str, *, who: str = "olga") -> dict:
        result = self.call("GET", path, who=who)
        assert result.status_code == 200, result.text
        return result.json["attributes"]

    def link(self, source: str, target: str, *, who: str = "olga") -> str:
        result = self.call("POST", "/link/", {"kind": LINK, "source": {"location": source},
                                              "target": {"location": target}}, who=who)
        assert result.status_code == 201, result.text
        return urlsplit(result.headers["Location"]).path


@pytest.fixture
def served(tmp_path):
    opened = []

    def serve(component: str = "placement") -> Client:
        opened.append(Client(component, tmp_path / f"{component}.db"))
        return opened[-1]

    yield serve
    for client in opened:
        client.store.close()


def test_placement_serves_the_offers_and_monitors_the_metrics():
    served = components.load("placement")
    assert served.name == "placement" and served.policy is placement.POLICY
    kinds = {k.type_id for k in served.model.kinds if k.scheme == COMPATIBLE}
    assert kinds == {COMPATIBLE + term for term in ("price", "geolocation", "quota", "provider")}
    # The CORDS metric is the monitors component's, beside the monitoring draft's metric mixin.
    monitors = components.load("monitors").model
    assert monitors.by_location("/metric/") is offers.METRIC
    assert monitors.by_location("/mixin/metric/") is monitoring.METRIC
    assert COMPATIBLE + "metric" not in served.model
    # One server per kind: a kind two components served would be published twice.
    for kind in offers.CATEGORIES:
        servers = [name for name in components.names() if kind.type_id in components.load(name).model]
        assert servers == ["monitors" if kind is offers.METRIC else "placement"], (kind.term, servers)


def test_names_identify_records(served):
    client = served()
    client.create("price", {"occi.price.name": "openstack", "occi.price.rate": 20})
    again = client.call("POST", "/price/", {"kind": COMPATIBLE + "price",
                                            "attributes": {"occi.price.name": "openstack"}}, who="oscar")
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate-name", again.text
    # Another kind may use the name; records without a name are not matched.
    client.create("geolocation", {"occi.geolocation.name": "openstack"})
    client.create("price", {"occi.price.rate": 1})
    client.create("price", {"occi.price.rate": 1})
    # A name never changes (it is what documents refer to).
    found = client.call("GET", "/price/", who="alice").json["resources"]
    named = next(p for p in found if p["attributes"].get("occi.price.name") == "openstack")
    renamed = client.call("POST", f"/price/{named['id'].removeprefix('urn:uuid:')}",
                          {"kind": COMPATIBLE + "price", "attributes": {"occi.price.name": "other"}})
    assert renamed.status_code in (400, 403), renamed.text


def test_a_providers_quotas_count_its_links_to_quotas(served):
    client = served()
    cpu = client.create("quota", {"occi.quota.name": "os:cpu", "occi.quota.property": "occi.compute.cores",
                                  "occi.quota.offered": 30})
    ram = client.create("quota", {"occi.quota.name": "os:ram", "occi.quota.property": "occi.compute.memory",
                                  "occi.quota.offered": 64, "occi.quota.units": "G"})
    # Inline links at creation count ...
    provider = client.create("provider", {"occi.provider.name": "osprocci"}, links=[cpu])
    assert client.attributes(provider)["occi.provider.quotas"] == 1
    # ... as do links of their own, and deleting either end of one uncounts it.
    link = client.link(provider, ram)
    assert client.attributes(provider)["occi.provider.quotas"] == 2
    assert client.call("DELETE", link).status_code == 200
    assert client.attributes(provider)["occi.provider.quotas"] == 1
    client.link(provider, ram)
    assert client.call("DELETE", cpu).status_code == 200
    assert client.attributes(provider)["occi.provider.quotas"] == 1
    # A link to something else is not a quota.
    price = client.create("price", {"occi.price.name": "os:price"})
    client.link(provider, price)
    assert client.attributes(provider)["occi.provider.quotas"] == 1
    # The count is the server's.
    forced = client.call("POST", provider, {"kind": COMPATIBLE + "provider", "attributes": {"occi.provider.quotas": 9}})
    assert forced.status_code in (400, 403) and client.attributes(provider)["occi.provider.quotas"] == 1


def test_reserved_and_consumed_are_placements_own(served):
    client = served()
    quota = client.create("quota", {"occi.quota.property": "occi.storage.size", "occi.quota.offered": 1000})
    assert (client.attributes(quota)["occi.quota.reserved"], client.attributes(quota)["occi.quota.consumed"]) == (0, 0)
    for attribute in ("occi.quota.reserved", "occi.quota.consumed"):
        refused = client.call("POST", quota, {"kind": COMPATIBLE + "quota", "attributes": {attribute: 5}})
        assert refused.status_code in (400, 403), refused.text
        assert refused.json["error"]["code"] in ("server-managed-attribute", "immutable-attribute")
    created = client.call("POST", "/quota/", {"kind": COMPATIBLE + "quota", "attributes": {
        "occi.quota.property": "occi.storage.size", "occi.quota.reserved": 5}})
    assert created.status_code == 400 and created.json["error"]["code"] == "server-managed-attribute"


def test_operators_manage_their_own_offers_and_everyone_choosing_reads_all(served):
    client = served()
    quota = client.create("quota", {"occi.quota.property": "occi.compute.cores", "occi.quota.offered": 30})
    change = {"kind": COMPATIBLE + "quota", "attributes": {"occi.quota.offered": 40}}
    assert client.call("POST", quota, change).status_code == 200
    # Another cloud's operator reads it, cannot change it.
    assert client.call("GET", quota, who="oscar").status_code == 200
    other = client.call("POST", quota, change, who="oscar")
    assert other.status_code == 403 and other.json["error"]["code"] == "owner-forbidden"
    # Providers and the CCMP read every account's offers and change none; agents see nothing.
    for who in ("alice", "carl"):
        assert client.call("GET", quota, who=who).status_code == 200
        assert len(client.call("GET", "/quota/", who=who).json["resources"]) == 1
        refused = client.call("POST", quota, change, who=who)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "role-forbidden"
    assert client.call("GET", "/quota/", who="probe").status_code == 403
    # Components act for every account.
    assert client.call("POST", quota, change, who="svc").status_code == 200


def test_operators_define_metrics_and_agents_only_read_them(served):
    client = served("monitors")
    client.create("metric", {"occi.metric.name": "cpu:idle", "occi.metric.samples": 1,
                             "occi.metric.expression": "top -b -n1 | grep Cpu"})
    twice = client.call("POST", "/metric/", {"kind": COMPATIBLE + "metric", "attributes": {"occi.metric.name":
                                                                                           "cpu:idle"}}, who="svc")
    assert twice.status_code == 409 and twice.json["error"]["code"] == "duplicate-name"
    agent = client.call("POST", "/metric/", {"kind": COMPATIBLE + "metric", "attributes": {"occi.metric.name": "x"}},
                        who="probe")
    assert agent.status_code == 403 and agent.json["error"]["code"] == "role-forbidden"
    # The draft's kinds keep their rule: agents report measurements.
    sensor = client.call("POST", "/sensor/", {"kind": monitoring.SENSOR.type_id,
                                              "attributes": {"occi.sensor.period": 60}}, who="probe")
    assert sensor.status_code == 201, sensor.text
