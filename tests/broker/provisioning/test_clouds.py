"""Which providers a worker knows: providers.json as before, provider records seen without a
restart, drivers rebuilt when their record changes, a bad record that harms nothing else."""
from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest

from broker.providers.base import ProviderRefused
from broker.providers.ec2 import Ec2Driver
from broker.providers.local import LocalDriver
from broker.provisioning.clouds import Clouds, ConfigurationError, UnusableDriver
from broker.provisioning.provider_model import P, PROVIDER, provider_location
from broker.provisioning.secrets import SecretBox
from occi.store import open_store
from occi.store.base import EntityRecord

SECRET = "wJalr-clouds-test-secret-0042"


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "provisioning.db")
    yield opened
    opened.close()


@pytest.fixture
def box(tmp_path):
    return SecretBox.from_settings(tmp_path / "keys")


def _record(name: str, driver: str, *, options=None, sealed=None, source: str = "api") -> EntityRecord:
    attributes = {P + "name": name, P + "driver": driver, P + "options": options or {}, P + "source": source,
                  P + "agent": True}
    if sealed is not None:
        attributes[P + "credentials"] = sealed
    return EntityRecord(location=provider_location(name), id=f"urn:uuid:{name}", kind=PROVIDER.type_id,
                        attributes=attributes, owner="accords")


def _insert(store, record) -> EntityRecord:
    with store.session() as session:
        return session.insert(record)


def _ec2(box, **credentials):
    return _record("aws", "ec2", options={"region": "eu-west-1", "endpoint_url": "http://127.0.0.1:9"},
                   sealed=box.seal({"access_key": "AKIA-clouds-test-0001", "secret_key": SECRET, **credentials}))


def test_without_a_file_or_records_local_is_the_only_provider(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCORDS_PROVIDERS", raising=False)
    clouds = Clouds.from_settings(tmp_path)
    assert clouds.names() == ["local"] and clouds.get("local").source == "default"
    assert isinstance(clouds.driver("local"), LocalDriver)
    assert clouds.driver("local").root == tmp_path / "nodes"
    clouds.close()


def test_providers_json_keeps_its_format_and_order(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCORDS_PROVIDERS", raising=False)
    (tmp_path / "providers.json").write_text(json.dumps({
        "edge": {"driver": "local", "root": str(tmp_path / "edge"), "agent": False, "image": "debian"},
        "aws": {"driver": "ec2", "region": "eu-west-1", "access_key": "AKIA-file-0001", "secret_key": SECRET}}))
    clouds = Clouds.from_settings(tmp_path)
    assert clouds.names() == ["edge", "aws"]                # no implicit local once a file exists
    edge = clouds.get("edge")
    assert (edge.driver, edge.agent, edge.image, edge.source) == ("local", False, "debian", "file")
    assert clouds.get("aws").options == {"region": "eu-west-1", "access_key": "AKIA-file-0001", "secret_key": SECRET}
    assert SECRET not in repr(clouds.get("aws"))
    assert clouds.driver("edge").root == tmp_path / "edge"
    (tmp_path / "providers.json").write_text(json.dumps({"x": {"driver": "nope"}}))
    with pytest.raises(ConfigurationError, match="unknown driver 'nope'"):
        Clouds.from_settings(tmp_path)


def test_a_record_added_is_seen_at_once_and_its_driver_gets_the_opened_credentials(tmp_path, store, box):
    clouds = Clouds.from_settings(tmp_path, store=store, secrets=box, refresh_interval=3600)
    assert clouds.names() == ["local"]
    _insert(store, _ec2(box))
    assert clouds.get("aws") is not None                   # a miss reads the records again
    assert clouds.names() == ["aws", "local"]              # records first; local stays, last
    driver = clouds.driver("aws")
    assert isinstance(driver, Ec2Driver)
    signed_with = driver._client._request_signer._credentials
    assert (signed_with.access_key, signed_with.secret_key) == ("AKIA-clouds-test-0001", SECRET)
    assert clouds.driver("aws") is driver                  # kept while the record stays the same
    clouds.close()


def test_a_changed_record_rebuilds_its_driver_and_a_removed_one_is_gone(tmp_path, store, box):
    clouds = Clouds.from_settings(tmp_path, store=store, secrets=box, refresh_interval=0)
    stored = _insert(store, _ec2(box))
    first = clouds.driver("aws")
    rotated = box.seal({"access_key": "AKIA-clouds-test-0002", "secret_key": "rotated-secret-0002"})
    with store.session() as session:
        session.update(replace(stored, attributes={**stored.attributes, P + "credentials": rotated}),
                       expected_version=stored.version)
    second = clouds.driver("aws")
    assert second is not first
    assert second._client._request_signer._credentials.secret_key == "rotated-secret-0002"
    with store.session() as session:
        session.delete(provider_location("aws"))
    assert clouds.get("aws") is None and "aws" not in clouds.names()
    clouds.close()


def test_a_record_sealed_under_another_key_is_unusable_with_its_reason_and_harms_no_other(tmp_path, store, box):
    _insert(store, _ec2(box))
    _insert(store, _record("edge", "local", options={"root": str(tmp_path / "edge")}))
    other_key = SecretBox.from_settings(tmp_path / "other-keys")
    clouds = Clouds.from_settings(tmp_path, store=store, secrets=other_key)     # boots all the same
    assert clouds.names() == ["aws", "edge", "local"]
    broken = clouds.driver("aws")
    assert isinstance(broken, UnusableDriver)
    with pytest.raises(ProviderRefused, match="provider aws is unusable: the credentials cannot be decrypted"):
        broken.list()
    assert clouds.driver("edge").list() == []
    ok, message = clouds.probe(clouds.get("aws"), timeout=5)
    assert not ok and "cannot be decrypted" in message and SECRET not in message
    clouds.close()


def test_options_the_driver_refuses_make_it_unusable_naming_them(tmp_path, store, box):
    _insert(store, _record("odd", "local", options={"root": str(tmp_path / "odd"), "colour": "blue"}))
    clouds = Clouds.from_settings(tmp_path, store=store, secrets=box)
    with pytest.raises(ProviderRefused, match="refuses its options: .*colour"):
        clouds.driver("odd").create(None)
    clouds.close()


def test_probe_says_what_the_cloud_answered_or_that_it_did_not_answer_in_time(tmp_path, store, box):
    clouds = Clouds.from_settings(tmp_path, store=store, secrets=box)
    ok, message = clouds.probe(clouds.get("local"), timeout=10)
    assert ok and message == "local answered: 0 node(s) of accords there"

    with socket.socket() as silent:                         # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        _insert(store, _record("mute", "ec2", options={"endpoint_url": f"http://127.0.0.1:{port}", "read_timeout": 3,
                                                        "max_attempts": 1},
                               sealed=box.seal({"access_key": "AKIA-clouds-test-0003", "secret_key": SECRET})))
        ok, message = clouds.probe(clouds.get("mute"), timeout=0.5)
        assert not ok and message == "mute did not answer within 0.5 s"
    clouds.close()
