"""Sealing provider credentials: the key file, the environment's keys, wrong keys."""
from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from broker.provisioning.secrets import ENV_KEY, KEY_FILE, SecretBox, SecretsError, SecretsKeyError, is_sealed

CREDENTIALS = {"access_key": "AKIA-not-a-real-key-0001", "secret_key": "wJalr-not-a-real-secret-0001"}


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)


def test_the_key_file_is_created_once_with_mode_0600_and_reused(tmp_path):
    first = SecretBox.from_settings(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_bytes()
    sealed = first.seal(CREDENTIALS)
    again = SecretBox.from_settings(tmp_path)          # another worker, or a restart
    assert path.read_bytes() == key
    assert again.open(sealed) == CREDENTIALS


def test_a_sealed_value_holds_no_plaintext_and_differs_each_time(tmp_path):
    box = SecretBox.from_settings(tmp_path)
    sealed = box.seal(CREDENTIALS)
    assert is_sealed(sealed)
    text = str(sealed)
    for name, value in CREDENTIALS.items():
        assert value not in text and name not in text
    assert box.seal(CREDENTIALS) != sealed               # a fresh IV each time
    key = (tmp_path / "secrets.key").read_text().strip()
    assert "secrets.key" in repr(box) and key not in repr(box)


def test_a_wrong_key_is_a_clear_error_not_a_crash(tmp_path):
    sealed = SecretBox.from_settings(tmp_path / "one").seal(CREDENTIALS)
    other = SecretBox.from_settings(tmp_path / "two")
    with pytest.raises(SecretsKeyError, match="cannot be decrypted with the key in .*two/secrets.key") as caught:
        other.open(sealed)
    assert all(value not in str(caught.value) for value in CREDENTIALS.values())


def test_the_environment_key_wins_and_several_keys_let_one_be_replaced(tmp_path, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(ENV_KEY, old)
    sealed_with_old = SecretBox.from_settings(tmp_path).seal(CREDENTIALS)
    assert not (tmp_path / KEY_FILE).exists()
    monkeypatch.setenv(ENV_KEY, f"{new}, {old}")        # the new key first: it seals, both open
    box = SecretBox.from_settings(tmp_path)
    assert box.open(sealed_with_old) == CREDENTIALS
    sealed_with_new = box.seal(CREDENTIALS)
    monkeypatch.setenv(ENV_KEY, new)                     # the old key retired
    assert SecretBox.from_settings(tmp_path).open(sealed_with_new) == CREDENTIALS
    with pytest.raises(SecretsKeyError):
        SecretBox.from_settings(tmp_path).open(sealed_with_old)


def test_bad_keys_and_bad_values_are_refused_saying_what(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_KEY, "not-a-fernet-key")
    with pytest.raises(SecretsKeyError, match=r"\$ACCORDS_SECRETS_KEY is not a Fernet key"):
        SecretBox.from_settings(tmp_path)
    monkeypatch.delenv(ENV_KEY)
    box = SecretBox.from_settings(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(SecretsKeyError, match="readable by others"):
        SecretBox.from_settings(tmp_path)
    with pytest.raises(SecretsError, match="not sealed"):
        box.open({"access_key": "plain"})
    with pytest.raises(SecretsError, match="object"):
        box.seal(["not", "a", "mapping"])
