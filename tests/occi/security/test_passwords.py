"""argon2id hashing: the default profile's parameters, verification, and re-hashing at login."""
from __future__ import annotations

import pytest

from occi.security import passwords as passwords_module
from occi.security.passwords import (TOKEN_PREFIX, Passwords, default_passwords, new_password, new_token,
                                     token_digest)
from tests.occi.security.support import Security, basic

CHEAP = dict(time_cost=1, memory_cost=1024, parallelism=1)
OTHER = dict(time_cost=2, memory_cost=2048, parallelism=1)


def test_the_default_profile_is_rfc9106s_second_recommendation(monkeypatch):
    monkeypatch.delenv("ACCORDS_ARGON2_PROFILE", raising=False)
    monkeypatch.setattr(passwords_module, "_default", None)      # restored after the test
    hasher = default_passwords()
    stored = hasher.hash("a password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert hasher.verify(stored, "a password") and not hasher.verify(stored, "a Password")
    assert default_passwords() is hasher                            # one per process


def test_the_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.setattr(passwords_module, "_default", None)
    monkeypatch.setenv("ACCORDS_ARGON2_PROFILE", "test")
    assert default_passwords().hash("x").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    monkeypatch.setattr(passwords_module, "_default", None)
    monkeypatch.setenv("ACCORDS_ARGON2_PROFILE", "fast-please")
    with pytest.raises(ValueError, match="ACCORDS_ARGON2_PROFILE"):
        default_passwords()


def test_verify_good_bad_and_garbage():
    hasher = Passwords(**CHEAP)
    stored = hasher.hash("s3cret-password")
    assert stored != hasher.hash("s3cret-password")                 # salted
    assert hasher.verify(stored, "s3cret-password")
    assert not hasher.verify(stored, "s3cret-passwore")
    assert not hasher.verify(stored, "")
    assert not hasher.verify("not a hash", "s3cret-password")
    assert not hasher.verify(None, "s3cret-password")               # unknown user: the decoy, never True
    # Parameters travel in the hash: another profile verifies it.
    assert Passwords(**OTHER).verify(stored, "s3cret-password")


def test_needs_rehash_when_the_parameters_change():
    cheap, other = Passwords(**CHEAP), Passwords(**OTHER)
    stored = cheap.hash("s3cret-password")
    assert not cheap.needs_rehash(stored)
    assert other.needs_rehash(stored)
    assert other.needs_rehash("garbage")


def test_a_login_with_an_out_of_date_hash_rehashes_it(tmp_path, security_store, clock):
    """Users created under one profile; the verifier runs another: a good login re-hashes."""
    security = Security(security_store, tmp_path, clock=clock, passwords=Passwords(**CHEAP))
    headers = security.user("alice", "alices-password")
    before = security.stored("/user/alice")
    assert "m=1024,t=1,p=1" in before["occi.user.password"]
    security.verifier.passwords = Passwords(**OTHER)
    assert security.whoami(basic("alice", "wrong-password")).status_code == 401
    assert security.stored("/user/alice")["occi.user.password"] == before["occi.user.password"]   # not on failure
    clock.advance(60)                                      # past the first failure's delay
    assert security.whoami(headers).status_code == 200
    after = security.stored("/user/alice")
    assert after["occi.user.password"] != before["occi.user.password"]
    assert "m=2048,t=2,p=1" in after["occi.user.password"]
    assert after["occi.user.passwordChanged"] == before["occi.user.passwordChanged"]    # tokens stay good
    assert security.whoami(headers).status_code == 200                                  # still the same password


def test_generated_secrets():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(t.startswith(TOKEN_PREFIX) and len(t) > 40 for t in tokens)
    assert token_digest("acc_x") == token_digest("acc_x") != token_digest("acc_y")
    assert len(token_digest("acc_x")) == 64
    generated = {new_password() for _ in range(50)}
    assert len(generated) == 50 and all(len(p) >= 26 and not p.startswith(TOKEN_PREFIX) for p in generated)


def test_a_generated_password_never_looks_like_a_token(monkeypatch):
    drawn = iter(["acc_looks-like-a-token", "a-fine-password-here"])
    monkeypatch.setattr(passwords_module.secrets, "token_urlsafe", lambda n: next(drawn))
    assert new_password() == "a-fine-password-here"
