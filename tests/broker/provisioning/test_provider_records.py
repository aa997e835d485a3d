"""The ``provider`` kind through OCCI: credentials sealed at rest and never shown nor logged,
rotation, checks, read-only entries of providers.json, removal refused while in use."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from falcon import testing

from broker import components
from broker.components import Peers
from broker.provisioning.model import CONTRACT
from broker.provisioning.provider_model import P, PROVIDER, PROVIDER_CHECK
from broker.provisioning.secrets import ENV_KEY, SecretBox
from occi.auth import StaticCredentials
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from occi.store.base import EntityRecord

ACCESS_KEY, SECRET = "AKIA-records-test-0001", "wJalr-records-secret-0077"
ROTATED = "wJalr-records-rotated-0078"
PRINCIPALS = {"admin": Principal(account="accords", name="admin", roles=frozenset({"admin"})),
              "olga": Principal(account="ops", name="olga", roles=frozenset({"operator"})),
              "svc": Principal(account="accords", name="svc", roles=frozenset({"service"})),
              "alice": Principal(account="clinic", name="alice", roles=frozenset({"provider"}))}


class Provisioning:
    """The provisioning component's app over one store, attached as a worker (data = its directory)."""

    def __init__(self, database: Path, data: Path):
        credentials = StaticCredentials()
        for token, principal in PRINCIPALS.items():
            credentials.add_token(token, principal)
        component = components.load("provisioning")
        self.store = open_store(database)
        app = create_app(model=component.model, store=self.store, hooks=component.hooks, policy=component.policy,
                         authenticator=credentials, component="provisioning")
        self.stop_worker = component.attach(self.store, Peers(), data=data)
        self.client = testing.TestClient(app)

    def call(self, method: str, path: str, body=None, *, who: str = "olga", **params):
        headers = {"Authorization": f"Bearer {who}", "Accept": "application/occi+json",
                   "Content-Type": "application/occi+json"}
        return self.client.simulate_request(method, path, headers=headers, params=params or None,
                                            body=json.dumps(body) if body is not None else None)

    def add(self, name: str, driver: str, *, who: str = "olga", **attributes):
        return self.call("POST", "/provider/", {"kind": PROVIDER.type_id, "attributes": {
            P + "name": name, P + "driver": driver, **{P + k: v for k, v in attributes.items()}}}, who=who)

    def check(self, name: str, *, who: str = "olga"):
        return self.call("POST", f"/provider/{name}", {"action": PROVIDER_CHECK.type_id}, who=who, action="check")

    def stored(self, name: str) -> EntityRecord:
        with self.store.session(readonly=True) as session:
            return session.get(f"/provider/{name}")

    def close(self) -> None:
        self.stop_worker()
        self.store.close()


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv("ACCORDS_PROVIDERS", raising=False)


@pytest.fixture
def worker(tmp_path):
    started = Provisioning(tmp_path / "provisioning.db", tmp_path / "data")
    yield started
    started.close()


def _ec2(worker, name="aws", **extra):
    return worker.add(name, "ec2", options={"region": "eu-west-1", "endpoint_url": "http://127.0.0.1:9"},
                      credentials={"access_key": ACCESS_KEY, "secret_key": SECRET}, **extra)


def _database_bytes(tmp_path) -> bytes:
    return b"".join(path.read_bytes() for path in tmp_path.glob("provisioning.db*"))


def test_credentials_are_sealed_at_rest_and_never_rendered(worker, tmp_path):
    made = _ec2(worker)
    assert made.status_code == 201, made.text
    assert made.headers["Location"].endswith("/provider/aws")             # the name is the location
    for answer in (made, worker.call("GET", "/provider/aws"), worker.call("GET", "/provider/")):
        assert SECRET not in answer.text and ACCESS_KEY not in answer.text and P + "credentials" not in answer.text
    shown = worker.call("GET", "/provider/aws").json["attributes"]
    assert shown[P + "credentialNames"] == ["access_key", "secret_key"] and shown[P + "source"] == "api"

    stored = worker.stored("aws").attributes[P + "credentials"]
    assert set(stored) == {"fernet"} and SECRET not in json.dumps(stored)
    assert SecretBox.from_settings(tmp_path / "data").open(stored) == {"access_key": ACCESS_KEY, "secret_key": SECRET}
    assert SECRET.encode() not in _database_bytes(tmp_path) and ACCESS_KEY.encode() not in _database_bytes(tmp_path)
    # A write-only attribute cannot be probed with a filter either.
    probe = worker.client.simulate_get("/provider/", headers={"Authorization": "Bearer olga", "Accept": "application/json",
                                                              "X-OCCI-Attribute": f'{P}credentials="x"'})
    assert probe.status_code == 400


def test_new_credentials_replace_the_old_ones_and_a_post_without_them_keeps_them(worker, tmp_path):
    assert _ec2(worker).status_code == 201
    sealed = worker.stored("aws").attributes[P + "credentials"]
    kept = worker.call("POST", "/provider/aws", {"kind": PROVIDER.type_id, "attributes": {P + "image": "ami-1"}})
    assert kept.status_code == 200, kept.text
    assert worker.stored("aws").attributes[P + "credentials"] == sealed
    rotated = worker.call("POST", "/provider/aws", {"kind": PROVIDER.type_id, "attributes": {
        P + "credentials": {"access_key": ACCESS_KEY, "secret_key": ROTATED, "session_token": "session-token-0001"}}})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json["attributes"][P + "credentialNames"] == ["access_key", "secret_key", "session_token"]
    now = worker.stored("aws").attributes[P + "credentials"]
    assert now != sealed and SecretBox.from_settings(tmp_path / "data").open(now)["secret_key"] == ROTATED
    assert ROTATED.encode() not in _database_bytes(tmp_path)


@pytest.mark.parametrize("attributes, status, code", [
    ({"options": {"secret_key": "in-the-open-0001"}}, 400, "secret-in-options"),
    ({"options": {"regoin": "eu-west-1"}}, 400, "unknown-option"),
    ({"options": {"image": "ami-1"}}, 400, "bad-option"),
    ({"options": {"region": "eu-west-1"}, "credentials": {"region": "x"}}, 400, "bad-option"),
    ({"credentials": {"secret_key": {"nested": True}}}, 400, "bad-credentials"),
    ({"driver": "vmware"}, 400, "invalid-attribute"),
    ({"name": "no spaces"}, 400, "invalid-attribute"),
])
def test_mistakes_are_400s_that_say_what_and_where(worker, attributes, status, code):
    body = {"name": "bad", "driver": "ec2", **attributes}
    answer = worker.add(**body)
    assert answer.status_code == status, answer.text
    assert answer.json["error"]["code"] == code and answer.json["error"].get("where", "").startswith("occi.provider.")
    assert "in-the-open-0001" not in answer.text


def test_a_name_is_taken_once_and_a_driver_cannot_change(worker):
    assert worker.add("edge", "local").status_code == 201
    again = worker.add("edge", "local")
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate-name"
    changed = worker.call("POST", "/provider/edge", {"kind": PROVIDER.type_id, "attributes": {P + "driver": "ec2"}})
    assert changed.status_code == 403 and changed.json["error"]["code"] == "immutable-attribute"


def test_check_records_ok_or_the_providers_reason_never_the_secret(worker, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    assert worker.add("edge", "local", options={"root": str(tmp_path / "edge")}).status_code == 201
    checked = worker.check("edge")
    assert checked.status_code == 200, checked.text
    a = checked.json["attributes"]
    assert a[P + "state"] == "ok" and a[P + "message"].startswith("local answered") and a[P + "checked"]

    assert _ec2(worker).status_code == 201                 # nothing listens on port 9
    failed = worker.check("aws").json["attributes"]
    assert failed[P + "state"] == "failed" and "ec2 could not list instances" in failed[P + "message"]
    assert "127.0.0.1:9" in failed[P + "message"]
    assert SECRET not in caplog.text and ACCESS_KEY not in caplog.text


def test_a_worker_with_another_key_reports_it_clearly(worker, tmp_path):
    assert _ec2(worker).status_code == 201
    other = Provisioning(tmp_path / "provisioning.db", tmp_path / "elsewhere")     # its own secrets.key
    try:
        answer = other.check("aws")
        assert answer.status_code == 200, answer.text
        a = answer.json["attributes"]
        assert a[P + "state"] == "failed" and "cannot be decrypted with the key in" in a[P + "message"]
        assert "elsewhere/secrets.key" in a[P + "message"]
    finally:
        other.close()


def test_removal_is_refused_while_a_contract_is_placed_on_the_provider(worker):
    assert worker.add("edge", "local").status_code == 201
    contract = EntityRecord(location="/contract/c1", id="urn:uuid:c1", kind=CONTRACT.type_id, owner="clinic",
                            attributes={"occi.contract.name": "db", "occi.contract.node": {"name": "db"},
                                        "occi.contract.placed": "edge", "occi.contract.state": "running"})
    with worker.store.session() as session:
        session.insert(contract)
    refused = worker.call("DELETE", "/provider/edge")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "provider-in-use"
    assert "/contract/c1" in refused.json["error"]["message"]
    with worker.store.session() as session:
        current = session.get("/contract/c1")
        current.attributes["occi.contract.state"] = "deleted"
        session.update(current, expected_version=current.version)
    assert worker.call("DELETE", "/provider/edge").status_code == 200
    assert worker.call("GET", "/provider/edge").status_code == 404


def test_providers_json_entries_are_listed_read_only_without_their_secrets(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "providers.json").write_text(json.dumps({"moto": {
        "driver": "ec2", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:9", "access_key": ACCESS_KEY,
        "secret_key": SECRET, "agent": False, "image": "ami-0123"}}))
    worker = Provisioning(tmp_path / "provisioning.db", data)
    try:
        listed = worker.call("GET", "/provider/").json["resources"]
        assert [r["attributes"][P + "name"] for r in listed] == ["moto"]       # no default local with a file
        a = listed[0]["attributes"]
        assert (a[P + "source"], a[P + "agent"], a[P + "image"]) == ("file", False, "ami-0123")
        assert a[P + "options"] == {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:9"}
        assert a[P + "credentialNames"] == ["access_key", "secret_key"]
        assert SECRET.encode() not in _database_bytes(tmp_path)
        # Even an admin (operators of other accounts may not write the platform's records at all).
        changed = worker.call("POST", "/provider/moto", {"kind": PROVIDER.type_id, "attributes": {P + "image": "x"}},
                              who="admin")
        assert changed.status_code == 409 and changed.json["error"]["code"] == "provider-read-only"
        removed = worker.call("DELETE", "/provider/moto", who="admin")
        assert removed.status_code == 409 and removed.json["error"]["code"] == "provider-read-only"
        checked = worker.check("moto", who="admin").json["attributes"]             # checked with the file's own credentials
        assert checked[P + "state"] == "failed" and "ec2 could not list instances" in checked[P + "message"]
    finally:
        worker.close()
    (data / "providers.json").unlink()                               # gone from the file: gone from the list
    worker = Provisioning(tmp_path / "provisioning.db", data)
    try:
        listed = worker.call("GET", "/provider/").json["resources"]
        assert [(r["attributes"][P + "name"], r["attributes"][P + "source"]) for r in listed] == [("local", "default")]
    finally:
        worker.close()


@pytest.mark.parametrize("who, status", [("alice", 403), ("svc", 200), ("olga", 200), ("admin", 200)])
def test_who_reads_providers(worker, who, status):
    assert _ec2(worker, who="admin").status_code == 201
    answer = worker.call("GET", "/provider/aws", who=who)
    assert answer.status_code == status, answer.text
    assert SECRET not in answer.text
    if who == "svc":
        assert _ec2(worker, name="other", who="svc").status_code == 403
