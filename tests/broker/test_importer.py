"""What `accords import` does with records (broker.cli.importer), against publisher, placement and
monitors as real loopback HTTP servers in this process: matching by name, references, links,
dry runs, refusals and unreachable kinds."""
from __future__ import annotations

import pytest

from broker import components
from broker.cli.importer import Importer, Targets
from cords.check import check
from cords.imports import records_of
from cords.model import offers
from occi.auth import StaticCredentials
from occi.client import OcciClient
from occi.publisher.client import PublisherClient
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi

TOKENS = {
    "olga": Principal(account="osprocci", name="olga", roles=frozenset({"operator"})),
    "oscar": Principal(account="onprocci", name="oscar", roles=frozenset({"operator"})),
    "svc": Principal(account="accords", name="svc", roles=frozenset({"service"})),
}

PROVIDER = """<provider name="osprocci" operator="osprocci" zone="europe" price="flat">
  <quota name=":cpu" property="occi.compute.cores" offered="30">
    <price name=":cpu:price" rate="0.04" currency="euro" period="hour"/>
  </quota>
  <quota name=":vm" property="accords.vm.count" offered="{vms}"/>
</provider>
"""
PRICES = '<import name="prices"><price name="flat" rate="20" fixed="yes"/></import>'
METRICS = '<import name="metrics"><metric name=":cpu" period="60" samples="2"/></import>'


@pytest.fixture
def platform(tmp_path):
    """publisher, placement and monitors on loopback; their kinds published, but for geolocation."""
    credentials = StaticCredentials()
    for token, principal in TOKENS.items():
        credentials.add_token(token, principal)
    stores, stops, urls = [], [], {}
    for name in ("publisher", "placement", "monitors"):
        component = components.load(name)
        store = open_store(tmp_path / f"{name}.db")
        stores.append(store)
        urls[name], stop = serve_wsgi(create_app(model=component.model, store=store, hooks=component.hooks,
                                                 policy=component.policy, authenticator=credentials, component=name))
        stops.append(stop)
    publisher = PublisherClient(urls["publisher"], token="svc")
    publisher.publish(identity="placement", base_url=urls["placement"],
                      kinds=[offers.PRICE, offers.QUOTA, offers.PROVIDER])
    publisher.publish(identity="monitors", base_url=urls["monitors"], kinds=[offers.METRIC])
    yield urls
    for stop in stops:
        stop()
    for store in stores:
        store.close()


def importer(urls, *, token: str = "olga", dry_run: bool = False, publish: bool = True) -> Importer:
    targets = Targets(publisher=urls["publisher"] if publish else None, security=None,
                      client_factory=lambda url: OcciClient(url, token=token, retries=0))
    return Importer(targets, dry_run=dry_run)


def document(text: str, name: str = "doc.xml"):
    checked = check(text.encode(), name=name)
    assert checked.ok, [str(d) for d in checked.diagnostics]
    return records_of(checked)


def outcomes(rows) -> dict[str, str]:
    return {f"{row.kind} {row.name}": row.outcome for row in rows}


def placement(urls, token: str = "olga") -> OcciClient:
    return OcciClient(urls["placement"], token=token)


def test_records_are_created_then_unchanged_then_updated(platform):
    first = importer(platform)
    assert outcomes(first.run(document(PRICES))) == {"price flat": "created"}
    rows = first.run(document(PROVIDER.format(vms=30)))
    assert outcomes(rows) == {"price osprocci:cpu:price": "created", "provider osprocci": "created",
                              "quota osprocci:cpu": "created", "quota osprocci:vm": "created"}
    client = placement(platform)
    provider = client.get(rows[1].location)
    # The provider's price was found by name on the platform (another document's).
    assert provider.attributes["occi.provider.price"] == client.list_entities(
        "/price/", filters={"occi.price.name": "flat"})[0].location
    assert provider.attributes["occi.provider.quotas"] == 2
    assert client.get(rows[2].location).attributes["occi.quota.provision"] == rows[1].location

    # A new run (a new CLI process) finds everything by name.
    again = importer(platform).run(document(PROVIDER.format(vms=30)))
    assert set(outcomes(again).values()) == {"unchanged"}
    changed = importer(platform).run(document(PROVIDER.format(vms=40)))
    assert outcomes(changed)["quota osprocci:vm"] == "updated" and changed[3].message == "changed: offered"
    assert client.get(rows[3].location).attributes["occi.quota.offered"] == 40
    assert client.get(rows[1].location).attributes["occi.provider.quotas"] == 2


def test_a_missing_link_is_put_back(platform):
    importer(platform).run(document(PRICES))
    rows = importer(platform).run(document(PROVIDER.format(vms=30)))
    client = placement(platform)
    link = next(link for link in client.get(rows[1].location).links if link.target == rows[3].location)
    client.delete(link.location)
    assert client.get(rows[1].location).attributes["occi.provider.quotas"] == 1
    again = importer(platform).run(document(PROVIDER.format(vms=30)))
    assert outcomes(again)["quota osprocci:vm"] == "updated" and "linked from provider osprocci" in again[3].message
    assert client.get(rows[1].location).attributes["occi.provider.quotas"] == 2


def test_a_dry_run_writes_nothing(platform):
    # One run, two documents: the provider's price is one the run would create.
    preview = importer(platform, dry_run=True)
    rows = [*preview.run(document(PRICES)), *preview.run(document(PROVIDER.format(vms=30)))]
    assert set(outcomes(rows).values()) == {"would-create"}
    assert placement(platform).list("/price/") == [] and placement(platform).list("/provider/") == []


def test_a_record_whose_reference_is_missing_fails_and_so_do_those_that_need_it(platform):
    rows = importer(platform).run(document(PROVIDER.format(vms=30)))
    assert outcomes(rows) == {"price osprocci:cpu:price": "created", "provider osprocci": "failed",
                              "quota osprocci:cpu": "failed", "quota osprocci:vm": "failed"}
    assert "price 'flat' does not exist: import it first" in rows[1].message
    assert rows[2].message == "not written: the provider osprocci it refers to failed (above)"
    assert placement(platform).list("/provider/") == [] and placement(platform).list("/quota/") == []


def test_another_operators_records_are_refused_and_the_rest_goes_on(platform):
    importer(platform).run(document(PRICES))
    importer(platform).run(document(PROVIDER.format(vms=30)))
    rows = importer(platform, token="oscar").run(document(PROVIDER.format(vms=50)))
    assert outcomes(rows)["quota osprocci:vm"] == "failed" and "belongs to another account" in rows[3].message
    assert outcomes(rows)["quota osprocci:cpu"] == "unchanged"
    # Components act for every account.
    assert outcomes(importer(platform, token="svc").run(document(PROVIDER.format(vms=50))))["quota osprocci:vm"] \
        == "updated"


def test_metrics_go_to_monitors_and_an_unpublished_kind_fails_clearly(platform):
    rows = importer(platform).run(document(METRICS))
    assert outcomes(rows) == {"metric metrics:cpu": "created"} and rows[0].location.startswith(platform["monitors"])
    metric = OcciClient(platform["monitors"], token="olga").get(rows[0].location)
    assert metric.attributes["occi.metric.samples"] == 2
    unknown = importer(platform).run(document('<import name="g"><geolocation name="a"/><geolocation name="b"/>'
                                              '</import>'))
    assert outcomes(unknown) == {"geolocation a": "failed", "geolocation b": "failed"}
    assert unknown[0].message.startswith("no server publishes") and "geolocation" in unknown[0].message
    nowhere = importer(platform, publish=False).run(document(METRICS))
    assert nowhere[0].outcome == "failed" and "--publisher" in nowhere[0].message


def test_definitions_go_whole_to_the_parsers_submit(platform, tmp_path):
    import json

    import falcon

    from broker.cli.imports import MANIFEST_CATEGORY, _definitions, send_definitions
    from cords.model import MANIFEST

    received = []

    class Submit:
        def on_post(self, req, resp):
            received.append((req.content_type, req.get_header("Authorization"), req.bounded_stream.read()))
            resp.status = falcon.HTTP_201
            resp.text = json.dumps({"created": [{"kind": "infrastructure", "name": "coips:model",
                                                 "location": "http://parser.example/infrastructure/1"}],
                                    "reused": [{"kind": "compute", "name": "coips:model"}], "problems": []})

    app = falcon.App()
    app.add_route("/submit", Submit())
    parser_url, stop = serve_wsgi(app)
    try:
        PublisherClient(platform["publisher"], token="svc").publish(identity="parser", base_url=parser_url,
                                                                     kinds=[MANIFEST])
        assert MANIFEST.type_id == MANIFEST_CATEGORY
        data = b'<import name="coips"><system name=":model" version="12"/></import>'
        path = tmp_path / "coips.xml"
        path.write_bytes(data)
        targets = importer(platform).targets
        answer = send_definitions(targets, str(path), data)
        assert answer["created"][0]["name"] == "coips:model"
        assert received[0] == ("application/xml", "Bearer olga", data)     # the raw bytes, as the caller
        _, rows = _definitions(targets, str(path), document(data.decode()), data, dry_run=False)
        assert [(r.kind, r.name, r.outcome) for r in rows] == [("infrastructure", "coips:model", "created"),
                                                                ("compute", "coips:model", "unchanged")]
        _, preview = _definitions(targets, str(path), document(data.decode()), data, dry_run=True)
        assert [(r.name, r.outcome) for r in preview] == [("1 system", "would-send")] and len(received) == 2
    finally:
        stop()


def test_progress_shows_for_long_documents_only(capsys):
    from broker.cli.imports import _Progress

    now = [0.0]
    progress = _Progress("metrics.xml", clock=lambda: now[0])
    progress(1, 49)                                  # quick so far: nothing
    now[0] = 2.5
    progress(20, 49)
    now[0] = 3.0
    progress(21, 49)                                 # too soon after the last line
    now[0] = 5.0
    progress(49, 49)                                 # done: the summary line says the rest
    assert capsys.readouterr().err.splitlines() == ["accords import: metrics.xml: 20/49 records"]
