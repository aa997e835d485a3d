"""OcciClient against a real OCCI server over HTTP, in all three renderings.

The server runs in-process on a threaded wsgiref server bound to an ephemeral port,
so requests go through real sockets, headers and status codes. Transport behaviour
(retries, refused connections) is exercised with a requests.Session whose adapter is
scripted; nothing is monkeypatched.
"""
from __future__ import annotations

import socket

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from occi import errors
from occi.auth import StaticCredentials
from occi.client import CategoryInfo, Discovery, Entity, OcciClient, error_from_response
from occi.model import Model
from occi.model import infrastructure, sla
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi

RENDERINGS = ["json", "text/plain", "text/occi"]
INFRA = "http://schemas.ogf.org/occi/infrastructure#"
COMPUTE = INFRA + "compute"
STORAGE = INFRA + "storage"
NETWORK = INFRA + "network"
NETWORKINTERFACE = INFRA + "networkinterface"
SSH_KEY = "http://schemas.ogf.org/occi/infrastructure/credentials#ssh_key"
USER_DATA = "http://schemas.ogf.org/occi/infrastructure/compute#user_data"
COMPUTE_ACTION = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
SLA = "http://schemas.ogf.org/occi/sla#"
TAGS = "http://example.com/occi/tags#"
TOKEN = "s3cret-token-value"


# -- the server ------------------------------------------------------------------------------
def _serve(tmp_path, name: str, **app_options):
    store = open_store(tmp_path / name)
    app = create_app(model=Model([*infrastructure.CATEGORIES, *sla.CATEGORIES]), store=store, **app_options)
    url, stop_server = serve_wsgi(app)

    def stop() -> None:
        stop_server()
        store.close()

    return url, stop


@pytest.fixture
def server_url(tmp_path):
    url, stop = _serve(tmp_path, "c.db")
    yield url
    stop()


@pytest.fixture
def secured_url(tmp_path):
    credentials = StaticCredentials()
    principal = Principal(account="acme", name="alice", roles=frozenset({"admin"}))
    credentials.add_token(TOKEN, principal)
    credentials.add_user("alice", "wonderland", principal)
    url, stop = _serve(tmp_path, "secured.db", authenticator=credentials)
    yield url
    stop()


@pytest.fixture(params=RENDERINGS)
def client(request, server_url):
    with OcciClient(server_url, rendering=request.param, backoff=0.001) as occi:
        yield occi


# -- scripted transport ------------------------------------------------------------------------
class ScriptedAdapter(HTTPAdapter):
    """Answers the first ``fail`` requests with ``status`` itself, then delegates to real HTTP."""

    def __init__(self, *, fail: int = 0, status: int = 503, body: bytes | None = None):
        super().__init__(max_retries=0)
        self.fail, self.status = fail, status
        self.body = body if body is not None else (
            b'{"error":{"status":%d,"code":"scripted","message":"scripted outage"}}' % status)
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        if len(self.sent) <= self.fail:
            response = requests.Response()
            response.status_code = self.status
            response.reason = "Scripted"
            response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
            response._content = self.body
            response.url = request.url
            response.request = request
            response.connection = self
            return response
        return super().send(request, **kwargs)


def _session(adapter: HTTPAdapter) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", adapter)
    return session


def _refused_url() -> str:
    """A local port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- discovery -----------------------------------------------------------------------------------
def test_discover_lists_kinds_mixins_and_actions(client):
    found = client.discover()
    assert isinstance(found, Discovery)
    compute = found.get(COMPUTE)
    assert isinstance(compute, CategoryInfo) and compute.cls == "kind"
    assert compute.location == "/compute/"
    assert compute.parent == "http://schemas.ogf.org/occi/core#resource"
    assert COMPUTE_ACTION + "start" in compute.actions
    assert found.get(STORAGE).attributes["occi.storage.size"]["required"] is True
    assert found.get(STORAGE).attributes["occi.storage.state"]["mutable"] is False
    assert found.get(COMPUTE_ACTION + "stop").cls == "action"
    assert found.get(SSH_KEY).cls == "mixin" and found.get(SSH_KEY).location == "/mixin/ssh_key/"
    assert found.get("http://schemas.ogf.org/occi/core#entity").location is None
    assert {SLA + "agreement", SLA + "accept"} <= {c.type_id for c in found.categories}


def test_discover_filtered_by_category(client):
    found = client.discover(STORAGE)
    ids = {c.type_id for c in found.categories}
    assert STORAGE in ids and "http://schemas.ogf.org/occi/core#resource" in ids
    assert COMPUTE not in ids
    with pytest.raises(errors.NotFound):
        client.discover(TAGS + "nothing")


def test_location_of(client):
    assert client.location_of(COMPUTE) == "/compute/"
    assert client.location_of("storage") == "/storage/"
    assert client.location_of(SSH_KEY) == "/mixin/ssh_key/"
    assert client.location_of(client.discover().get(NETWORK)) == "/network/"
    with pytest.raises(errors.NotFound):
        client.location_of(INFRA + "nothing")


# -- entities --------------------------------------------------------------------------------------
def test_create_get_round_trip(client, server_url):
    location = client.create(COMPUTE, attributes={"occi.compute.cores": 2, "occi.compute.memory": 1.5,
                                                  "occi.compute.hostname": "web-1"},
                             title="Web server", summary="serves \"quotes\", commas; semicolons")
    assert location.startswith(server_url + "/compute/")
    entity = client.get(location)
    assert isinstance(entity, Entity)
    assert entity.location == location
    assert entity.kind == COMPUTE
    assert entity.id == "urn:uuid:" + location.rsplit("/", 1)[1]
    assert entity.attributes["occi.compute.cores"] == 2
    assert entity.attributes["occi.compute.memory"] == 1.5
    assert entity.attributes["occi.compute.hostname"] == "web-1"
    assert entity.attributes["occi.compute.state"] == "inactive"
    assert entity.title == "Web server"
    assert entity.summary == "serves \"quotes\", commas; semicolons"
    assert COMPUTE_ACTION + "start" in entity.actions and COMPUTE_ACTION + "stop" not in entity.actions
    # the same entity by relative path, and a create addressed by collection location and by term
    assert client.get(location[len(server_url):]).id == entity.id
    assert client.create("/storage/", attributes={"occi.storage.size": 10.0}).startswith(server_url + "/storage/")
    assert client.create("network").startswith(server_url + "/network/")


def test_create_with_mixins_and_inline_link(client, server_url):
    network = client.create(NETWORK, attributes={"occi.network.vlan": 12})
    compute = client.create(
        COMPUTE, mixins=[SSH_KEY], attributes={"occi.credentials.ssh.publickey": "ssh-ed25519 AAAA alice"},
        links=[{"target": network, "kind": NETWORKINTERFACE, "rel": NETWORK,
                "attributes": {"occi.networkinterface.interface": "eth0",
                               "occi.networkinterface.mac": "00:11:22:33:44:55"}}])
    entity = client.get(compute)
    assert entity.mixins == [SSH_KEY]
    assert entity.attributes["occi.credentials.ssh.publickey"] == "ssh-ed25519 AAAA alice"
    [link] = entity.links
    assert link.kind == NETWORKINTERFACE
    assert link.location.startswith(server_url + "/link/networkinterface/")
    assert link.target == network and link.source == compute
    assert link.attributes["occi.networkinterface.interface"] == "eth0"
    fetched = client.get(link.location)
    assert fetched.id == link.id
    assert fetched.source == compute and fetched.target == network


def test_update_changes_only_what_is_named(client):
    location = client.create(COMPUTE, attributes={"occi.compute.cores": 2, "occi.compute.hostname": "a"})
    updated = client.update(location, attributes={"occi.compute.memory": 4.0})
    assert updated.location == location
    assert updated.attributes["occi.compute.memory"] == 4.0
    assert updated.attributes["occi.compute.cores"] == 2
    assert updated.attributes["occi.compute.hostname"] == "a"
    tagged = client.update(location, mixins=[USER_DATA], attributes={"occi.compute.userdata": "I2Nsb3VkLWNvbmZpZw=="})
    assert tagged.mixins == [USER_DATA]
    assert client.get(location).attributes["occi.compute.userdata"] == "I2Nsb3VkLWNvbmZpZw=="
    with pytest.raises(errors.Forbidden) as caught:
        client.update(location, attributes={"occi.compute.state": "active"})   # immutable (GFD.185: 403)
    assert "occi.compute.state" in caught.value.message


def test_replace_drops_unnamed_attributes_and_creates_at_a_name(client, server_url):
    location = client.create(COMPUTE, attributes={"occi.compute.cores": 2, "occi.compute.hostname": "a"},
                             title="before")
    replaced = client.replace(location, kind=COMPUTE, attributes={"occi.compute.cores": 8})
    assert replaced.attributes["occi.compute.cores"] == 8
    assert "occi.compute.hostname" not in replaced.attributes
    assert replaced.title is None
    assert client.get(location).attributes == replaced.attributes
    named = server_url + "/storage/backup-disk"
    created = client.replace(named, kind=STORAGE, attributes={"occi.storage.size": 2.0})
    assert created.location == named and created.kind == STORAGE
    assert client.get("/storage/backup-disk").attributes["occi.storage.size"] == 2.0
    assert named in client.list("/storage/")


def test_actions_change_state(client):
    location = client.create(COMPUTE)
    started = client.action(location, "start")
    assert started.attributes["occi.compute.state"] == "active"
    assert COMPUTE_ACTION + "stop" in started.actions
    stopped = client.action(location, "stop", method="graceful")
    assert stopped.attributes["occi.compute.state"] == "inactive"
    again = client.action(location, "start", scheme=COMPUTE_ACTION)
    assert again.attributes["occi.compute.state"] == "active"
    with pytest.raises(errors.BadRequest) as caught:
        client.action(location, "start")          # not applicable when active
    assert "not applicable" in caught.value.message
    with pytest.raises(errors.BadRequest):
        client.action(location, "stop", method="sideways")
    # "suspend" is both a compute and an agreement action: the entity's kind decides
    agreement = client.create(SLA + "agreement")
    assert client.action(agreement, "accept").attributes["occi.agreement.state"] == "Accepted"
    assert client.action(agreement, "suspend").attributes["occi.agreement.state"] == "Suspended"


def test_delete(client):
    location = client.create(STORAGE, attributes={"occi.storage.size": 1.0})
    client.delete(location)
    with pytest.raises(errors.NotFound):
        client.get(location)
    with pytest.raises(errors.NotFound):
        client.delete(location)
    assert location not in client.list(STORAGE)


# -- collections -----------------------------------------------------------------------------------------
def test_list_with_filters_and_pagination(client):
    made = [client.create(STORAGE, attributes={"occi.storage.size": float(size)}) for size in range(5)]
    client.create(COMPUTE)
    assert sorted(client.list("/storage/")) == sorted(made)
    assert sorted(client.list(STORAGE)) == sorted(made)
    assert client.list(STORAGE, filters={"occi.storage.size": 3.0}) == [made[3]]
    assert client.list(STORAGE, filters={"occi.storage.size": 42.0}) == []
    pages = [client.list(STORAGE, page=page, number=2) for page in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == sorted(made)
    assert client.list(STORAGE, page=9, number=2) == []
    with pytest.raises(errors.PayloadTooLarge):
        client.list(STORAGE, number=10**6)
    with pytest.raises(errors.BadRequest):
        client.list(STORAGE, page=0)


def test_list_entities(client):
    made = {client.create(STORAGE, attributes={"occi.storage.size": float(size)}, title=f"disk {size}")
            for size in range(3)}
    entities = client.list_entities(STORAGE)
    assert {e.location for e in entities} == made
    assert {e.title for e in entities} == {"disk 0", "disk 1", "disk 2"}
    assert all(e.kind == STORAGE and e.id.endswith(e.location.rsplit("/", 1)[1]) for e in entities)
    [two] = client.list_entities(STORAGE, filters={"occi.storage.size": 2.0})
    assert two.title == "disk 2"
    assert len(client.list_entities(STORAGE, page=1, number=2)) == 2
    network = client.create(NETWORK)
    compute = client.create(COMPUTE, links=[{"target": network, "kind": NETWORKINTERFACE, "attributes": {
        "occi.networkinterface.interface": "eth0", "occi.networkinterface.mac": "aa:bb:cc:dd:ee:ff"}}])
    [link] = client.list_entities("/link/networkinterface/")
    assert link.source == compute and link.target == network
    assert client.get(link.location).id == link.id


def test_collection_action(client):
    first, second = client.create(COMPUTE), client.create(COMPUTE)
    done = client.collection_action(COMPUTE, "start")
    assert sorted(done) == sorted([first, second])
    assert {client.get(loc).attributes["occi.compute.state"] for loc in (first, second)} == {"active"}
    assert client.collection_action("/compute/", "stop", method="poweroff") != []
    assert client.get(first).attributes["occi.compute.state"] == "inactive"


def test_user_mixin_lifecycle(client):
    term = "gold" + client.rendering.replace("/", "")
    mixin = client.add_mixin(term, TAGS, f"/tags/{term}/", title="Gold customers")
    assert mixin.type_id == TAGS + term and mixin.cls == "mixin" and mixin.location == f"/tags/{term}/"
    assert client.discover().get(TAGS + term).title == "Gold customers"
    assert client.location_of(TAGS + term) == f"/tags/{term}/"
    first, second = client.create(COMPUTE), client.create(COMPUTE)
    members = client.associate(f"/tags/{term}/", [first, second])
    assert sorted(members) == sorted([first, second])
    assert client.get(first).mixins == [TAGS + term]
    assert sorted(client.list(f"/tags/{term}/")) == sorted([first, second])
    assert sorted(client.list(COMPUTE, category=TAGS + term)) == sorted([first, second])
    client.disassociate(f"/tags/{term}/", [first])
    assert client.list(TAGS + term) == [second]
    assert client.get(first).mixins == []
    client.disassociate(TAGS + term, [])          # an empty list changes nothing
    assert client.list(TAGS + term) == [second]
    client.disassociate(TAGS + term)              # None: every member
    assert client.list(TAGS + term) == []
    client.associate(TAGS + term, [first])
    with pytest.raises(errors.Conflict):
        client.add_mixin(term, TAGS, f"/tags/{term}-again/")
    client.remove_mixin(TAGS + term)
    assert client.discover().get(TAGS + term) is None
    assert client.get(first).mixins == []
    with pytest.raises(errors.NotFound):
        client.remove_mixin(TAGS + term)
    with pytest.raises(errors.Forbidden):
        client.remove_mixin(SSH_KEY)


def test_user_mixin_with_depends(client):
    client.add_mixin("base", TAGS, "/tags/base/")
    child = client.add_mixin("child", TAGS, "/tags/child/", depends=[TAGS + "base"])
    assert child.depends == [TAGS + "base"]
    assert client.discover().get(TAGS + "child").depends == [TAGS + "base"]


def test_disassociate_refuses_a_kind_collection(client):
    location = client.create(COMPUTE)
    with pytest.raises(ValueError):
        client.disassociate("/compute/")
    assert client.list(COMPUTE) == [location]


# -- errors ------------------------------------------------------------------------------------------------
def test_not_found_carries_the_server_message(client):
    with pytest.raises(errors.NotFound) as caught:
        client.get("/compute/does-not-exist")
    error = caught.value
    assert error.status == 404
    assert "/compute/does-not-exist" in error.message
    assert error.code == "no-such-entity"
    assert error.where == "/compute/does-not-exist"


def test_missing_required_attribute_is_a_bad_request(client):
    with pytest.raises(errors.BadRequest) as caught:
        client.create(STORAGE)
    error = caught.value
    assert error.status == 400
    assert "occi.storage.size" in error.message
    assert error.where == "occi.storage.size"
    assert error.code == "missing-attribute"
    with pytest.raises(errors.BadRequest) as typed:
        client.create(COMPUTE, attributes={"occi.compute.cores": "two"})
    assert "occi.compute.cores" in typed.value.message


def test_method_not_allowed_and_version_errors(client, server_url):
    with pytest.raises(errors.MethodNotAllowed) as caught:
        client.replace("/compute/", kind=COMPUTE, attributes={})
    assert caught.value.status == 405 and "POST" in caught.value.allowed
    future = OcciClient(server_url, rendering=client.rendering, user_agent="future-client OCCI/9.9")
    with pytest.raises(errors.NotImplementedByServer) as newer:
        future.discover()
    assert "OCCI/1.2" in newer.value.message


@pytest.mark.parametrize("status, cls", [(400, errors.BadRequest), (401, errors.Unauthorized),
                                         (403, errors.Forbidden), (404, errors.NotFound),
                                         (409, errors.Conflict), (413, errors.PayloadTooLarge),
                                         (415, errors.UnsupportedMediaType), (501, errors.NotImplementedByServer)])
def test_status_maps_to_the_occi_error(status, cls, server_url):
    adapter = ScriptedAdapter(fail=1, status=status)
    occi = OcciClient(server_url, session=_session(adapter))
    with pytest.raises(cls) as caught:
        occi.get("/compute/x")
    assert caught.value.status == status and caught.value.message == "scripted outage"
    assert caught.value.code == "scripted"


def test_unknown_status_and_text_errors(server_url):
    adapter = ScriptedAdapter(fail=1, status=418, body=b"418 teapot: short and stout\nwhere: the pot\n")
    occi = OcciClient(server_url, session=_session(adapter))
    with pytest.raises(errors.OcciError) as caught:
        occi.get("/compute/x")
    error = caught.value
    assert type(error) is errors.OcciError   # no subclass for 418
    assert (error.status, error.code, error.message, error.where) == (418, "teapot", "short and stout", "the pot")
    response = requests.Response()
    response.status_code, response._content = 500, b"plain failure"
    response.headers = CaseInsensitiveDict({"Content-Type": "text/html"})
    assert error_from_response(response).message == "plain failure"


# -- authentication -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("rendering", RENDERINGS)
def test_token_is_sent_and_checked(secured_url, rendering):
    adapter = ScriptedAdapter()
    occi = OcciClient(secured_url, token=TOKEN, rendering=rendering, session=_session(adapter), timeout=7.5)
    location = occi.create(STORAGE, attributes={"occi.storage.size": 1.0})
    assert occi.get(location).kind == STORAGE
    for request, kwargs in adapter.sent:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "OCCI/1.2" in request.headers["User-Agent"]
        assert kwargs["timeout"] == 7.5
    assert TOKEN not in repr(occi) and TOKEN not in repr(occi.transport)
    wrong = OcciClient(secured_url, token="not-" + TOKEN, rendering=rendering)
    with pytest.raises(errors.Unauthorized) as caught:
        wrong.get(location)
    assert caught.value.code == "bad-credentials" and caught.value.status == 401
    with pytest.raises(errors.Unauthorized) as anonymous:
        OcciClient(secured_url, rendering=rendering).list(STORAGE)
    assert anonymous.value.code == "no-credentials"


def test_basic_credentials(secured_url):
    assert OcciClient(secured_url, basic=("alice", "wonderland")).discover().get(COMPUTE) is not None
    with pytest.raises(errors.Unauthorized):
        OcciClient(secured_url, basic=("alice", "queen")).discover()
    with pytest.raises(ValueError):
        OcciClient(secured_url, token=TOKEN, basic=("alice", "wonderland"))


# -- retries -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_is_retried_on_gateway_errors(server_url, status):
    location = OcciClient(server_url).create(STORAGE, attributes={"occi.storage.size": 3.0})
    adapter = ScriptedAdapter(fail=2, status=status)
    occi = OcciClient(server_url, session=_session(adapter), retries=3, backoff=0.001)
    assert occi.get(location).attributes["occi.storage.size"] == 3.0
    assert len(adapter.sent) == 3
    assert all(request.method == "GET" for request, _ in adapter.sent)


def test_put_and_delete_are_retried_too(server_url):
    location = OcciClient(server_url).create(STORAGE, attributes={"occi.storage.size": 3.0})
    adapter = ScriptedAdapter()
    occi = OcciClient(server_url, session=_session(adapter), backoff=0.001)
    occi.discover()
    adapter.fail, adapter.sent = 1, []
    assert occi.replace(location, kind=STORAGE, attributes={"occi.storage.size": 4.0}).attributes[
        "occi.storage.size"] == 4.0
    assert [r.method for r, _ in adapter.sent] == ["PUT", "PUT"]
    adapter.fail, adapter.sent = 1, []
    occi.delete(location)
    assert [r.method for r, _ in adapter.sent] == ["DELETE", "DELETE"]


def test_retries_give_up_with_the_last_error(server_url):
    adapter = ScriptedAdapter(fail=100)
    occi = OcciClient(server_url, session=_session(adapter), retries=2, backoff=0.001)
    with pytest.raises(errors.ServiceUnavailable) as caught:
        occi.get("/storage/x")
    assert caught.value.message == "scripted outage"
    assert len(adapter.sent) == 3


def test_post_is_never_retried(server_url):
    adapter = ScriptedAdapter(fail=1)
    occi = OcciClient(server_url, rendering="text/plain", session=_session(adapter), backoff=0.001)
    occi.discover()   # the GET is retried once, then succeeds: the POST below starts fresh
    adapter.fail, adapter.sent = 1, []
    with pytest.raises(errors.ServiceUnavailable):
        occi.create(STORAGE, attributes={"occi.storage.size": 1.0})
    assert [r.method for r, _ in adapter.sent] == ["POST"]
    assert OcciClient(server_url).list(STORAGE) == []   # nothing was created behind our back


def test_connection_refused_becomes_service_unavailable():
    url = _refused_url()
    adapter = ScriptedAdapter()
    occi = OcciClient(url, token=TOKEN, session=_session(adapter), retries=2, backoff=0.001, timeout=2)
    with pytest.raises(errors.ServiceUnavailable) as caught:
        occi.get("/compute/x")
    assert url + "/compute/x" in caught.value.message
    assert TOKEN not in caught.value.message
    assert caught.value.status == 503
    assert len(adapter.sent) == 3
    adapter.sent = []
    with pytest.raises(errors.ServiceUnavailable):
        occi.create("/storage/", attributes={"occi.storage.size": 1.0})   # needs discovery: a GET, retried
    assert [r.method for r, _ in adapter.sent] == ["GET", "GET", "GET"]


def test_post_connection_refused_is_not_retried():
    url = _refused_url()
    adapter = ScriptedAdapter()
    occi = OcciClient(url, rendering="text/occi", session=_session(adapter), retries=3, backoff=0.001)
    occi._discovery = Discovery()   # skip the discovery GET: exercise the POST alone
    with pytest.raises(errors.ServiceUnavailable) as caught:
        occi.collection_action("/compute/", "start", scheme=COMPUTE_ACTION)
    assert [r.method for r, _ in adapter.sent] == ["POST"]
    assert url + "/compute/" in caught.value.message


# -- text/occi carries UTF-8 in headers both ways ------------------------------------------------------------------
def test_text_occi_round_trips_non_latin1_text(server_url):
    occi = OcciClient(server_url, rendering="text/occi")
    location = occi.create(COMPUTE, title="café ☕")
    assert occi.get(location).title == "café ☕"
