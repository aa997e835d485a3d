"""The authenticators: the credential cache, RemoteAuthenticator against a real security
component over HTTP, and the service credentials components log in with."""
from __future__ import annotations

import time

import pytest
from falcon import testing

from occi.client.transport import Transport
from occi.errors import ServiceUnavailable, TooManyRequests, Unauthorized
from occi.model.registry import Model
from occi.publisher import PUBLICATION
from occi.security.authenticators import (MAX_CREDENTIAL_LENGTH, BasicCredentials, CredentialCache,
                                          LocalAuthenticator, RemoteAuthenticator, SecurityClient,
                                          ServiceCredentials)
from occi.security.verifier import FREE_FAILURES
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store
from tests.livehttp import serve_wsgi
from tests.occi.security.support import Clock, Security, basic, bearer

ALICE = Principal(account="acme", name="alice", roles=frozenset({"provider"}))


class Ticks:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


# -- the cache ------------------------------------------------------------------------------
def test_the_cache_forgets_after_its_ttl():
    ticks = Ticks()
    cache = CredentialCache(ttl=10, clock=ticks)
    key = cache.key("t", "acc_token")
    cache.put(key, ALICE)
    ticks.now += 9.9
    assert cache.get(key) is ALICE
    ticks.now += 0.1
    assert cache.get(key) is None
    assert cache.get(cache.key("t", "acc_other")) is None


def test_the_cache_respects_the_tokens_expiry():
    cache = CredentialCache(ttl=3600)
    expired = Principal(account="acme", name="alice", expires=time.time() - 1)
    expiring = Principal(account="acme", name="bob", expires=time.time() + 600)
    cache.put(cache.key("t", "expired"), expired)
    cache.put(cache.key("t", "expiring"), expiring)
    assert cache.get(cache.key("t", "expired")) is None
    assert cache.get(cache.key("t", "expiring")) is expiring


def test_cache_keys_are_not_the_secrets():
    cache, other = CredentialCache(), CredentialCache()
    secret = "acc_" + "s3cret" * 6
    key = cache.key("t", secret)
    assert len(key) == 32 and secret.encode() not in key and b"s3cret" not in key
    assert key == cache.key("t", secret) != other.key("t", secret)        # a per-process random HMAC key
    assert cache.key("p", "alice", "pw") not in (cache.key("t", "alice", "pw"), cache.key("p", "alic", "epw"))
    cache.put(key, ALICE)
    held = repr(cache._entries) + repr(vars(cache))
    assert secret not in held and "s3cret" not in held


def test_the_cache_is_bounded():
    cache = CredentialCache(capacity=2)
    keys = [cache.key("t", str(n)) for n in range(3)]
    for key in keys:
        cache.put(key, ALICE)
    assert cache.get(keys[0]) is None and cache.get(keys[2]) is ALICE
    cache.clear()
    assert cache.get(keys[2]) is None


class FakeVerifier:
    def __init__(self):
        self.tokens = self.passwords = 0

    def by_token(self, token):
        self.tokens += 1
        return ALICE if token == "acc_good" else None

    def by_password(self, name, password, *, address=None):
        self.passwords += 1
        return ALICE if (name, password) == ("alice", "alices-password") else None


class FakeSecurity:
    """What RemoteAuthenticator asks: a SecurityClient's introspect, counted."""

    def __init__(self):
        self.asked = []

    def introspect(self, **fields):
        self.asked.append(fields)
        good = fields.get("token") == "acc_good" or (fields.get("username"), fields.get("password")) == (
            "alice", "alices-password")
        return {"active": True, "username": "alice", "account": "acme", "roles": ["provider"]} if good else \
            {"active": False}


def test_good_answers_are_cached_failures_never():
    security = FakeSecurity()
    remote = RemoteAuthenticator(security, CredentialCache(ttl=10))
    for _ in range(3):
        assert remote.authenticate(user="alice", password="alices-password").name == "alice"
        assert remote.authenticate(token="acc_good").name == "alice"
    assert len(security.asked) == 2
    for _ in range(3):
        assert remote.authenticate(user="alice", password="wrong-password", address="192.0.2.1") is None
        assert remote.authenticate(token="acc_bad") is None
    assert len(security.asked) == 8
    assert security.asked[2] == {"username": "alice", "password": "wrong-password", "address": "192.0.2.1"}
    assert remote.authenticate(user="alic", password="ealices-password") is None          # not a cache hit
    assert len(security.asked) == 9


def test_the_security_component_caches_nothing():
    """Where tokens are issued, a changed password or a disabled user must stop working at once."""
    verifier = FakeVerifier()
    local = LocalAuthenticator(verifier, CredentialCache(ttl=10))
    for _ in range(3):
        assert local.authenticate(user="alice", password="alices-password") is ALICE
        assert local.authenticate(token="acc_good") is ALICE
    assert verifier.passwords == 3 and verifier.tokens == 3


def test_a_token_sent_as_a_basic_password_is_a_token():
    verifier = FakeVerifier()
    local = LocalAuthenticator(verifier)
    assert local.authenticate(user="whoever", password="acc_good") is ALICE
    assert verifier.tokens == 1 and verifier.passwords == 0


def test_overlong_credentials_are_refused_before_any_check():
    verifier = FakeVerifier()
    local = LocalAuthenticator(verifier)
    long = "x" * (MAX_CREDENTIAL_LENGTH + 1)
    assert local.authenticate(token="acc_" + long) is None
    assert local.authenticate(user=long, password="alices-password") is None
    assert local.authenticate(user="alice", password=long) is None
    assert verifier.tokens == verifier.passwords == 0


def test_the_security_component_checks_its_tokens_every_time(security_store, tmp_path, clock):
    """With the production cache (10 s), a revoked token still stops at once in the security component."""
    security = Security(security_store, tmp_path, clock=clock, cache=CredentialCache())
    token, location = security.token(security.admin)
    assert security.whoami(bearer(token)).status_code == 200
    assert security.action(location, "revoke").status_code == 200
    assert security.whoami(bearer(token)).status_code == 401


def test_basic_credentials_do_not_show_the_password():
    credentials = BasicCredentials("svc-x", "p4ssw0rd-value")
    assert credentials.authorization().startswith("Basic ") and "p4ssw0rd" not in repr(credentials)


# -- against a security component over HTTP -----------------------------------------------------------
@pytest.fixture
def remote(security):
    """The security component on a real socket; ``stop`` may be called early (idempotent)."""
    url, stop_server = serve_wsgi(security.app)
    stopped = []

    def stop():
        if not stopped:
            stopped.append(True)
            stop_server()

    yield security, url, stop
    stop()


def _service_credentials(security, url, **kwargs) -> ServiceCredentials:
    found = security.credentials("publisher")
    return ServiceCredentials(SecurityClient(url), found["user"], found["password"], **kwargs)


def _remote_authenticator(security, url, cache=None) -> RemoteAuthenticator:
    client = SecurityClient(url, credentials=_service_credentials(security, url))
    return RemoteAuthenticator(client, cache or CredentialCache(ttl=10))


def test_remote_tokens_and_passwords(remote):
    security, url, _ = remote
    alice = security.user("alice", "alices-password", roles=["provider", "auditor"])
    token, _ = security.token(alice)
    authenticator = _remote_authenticator(security, url)
    found = authenticator.authenticate(token=token, user=None, password=None)
    assert (found.name, found.account, found.roles) == ("alice", "accords", frozenset({"provider", "auditor"}))
    assert found.expires == int(security.clock.now + 3600)
    assert authenticator.authenticate(token="acc_" + "x" * 43, user=None, password=None) is None
    assert authenticator.authenticate(token=None, user="alice", password="alices-password").name == "alice"
    assert authenticator.authenticate(token=None, user="alice", password="wrong-password",
                                      address="192.0.2.1") is None
    assert security.stored("/user/alice")["occi.user.failures"] == 1


def test_remote_answers_are_cached_for_the_ttl(remote):
    security, url, _ = remote
    token, location = security.token(security.user("alice", "alices-password"))
    ticks = Ticks()
    authenticator = _remote_authenticator(security, url, CredentialCache(ttl=10, clock=ticks))
    calls = security.introspection
    calls.calls = 0
    for _ in range(5):
        assert authenticator.authenticate(token=token).name == "alice"
    assert calls.calls == 1
    # Revoked: still accepted from the cache until the ttl passes, then refused.
    security.action(location, "revoke")
    assert authenticator.authenticate(token=token).name == "alice" and calls.calls == 1
    ticks.now += 10
    assert authenticator.authenticate(token=token) is None and calls.calls == 2
    # Failures are asked every time.
    for _ in range(3):
        assert authenticator.authenticate(token=token) is None
    assert calls.calls == 5


def test_an_unreachable_security_component_is_a_503(remote, tmp_path):
    security, url, stop = remote
    token, _ = security.token(security.admin)
    authenticator = _remote_authenticator(security, url, CredentialCache(ttl=0))
    app = create_app(model=Model([PUBLICATION]), store=open_store(tmp_path / "publisher.db"),
                     authenticator=authenticator)
    client = testing.TestClient(app)
    assert client.simulate_get("/publication/", headers=bearer(token)).status_code == 200
    assert client.simulate_get("/publication/", headers=bearer("acc_" + "x" * 43)).status_code == 401
    stop()
    with pytest.raises(ServiceUnavailable) as raised:
        authenticator.authenticate(token=token)
    assert raised.value.code == "security-unreachable" and raised.value.headers["Retry-After"] == "5"
    answer = client.simulate_get("/publication/", headers=bearer(token))
    assert answer.status_code == 503 and "security-unreachable" in answer.text
    assert answer.headers["Retry-After"] == "5"
    # Without a cached service token either (the login itself cannot happen).
    fresh = _remote_authenticator(security, url)
    with pytest.raises(ServiceUnavailable) as raised:
        fresh.authenticate(token=None, user="alice", password="alices-password")
    assert raised.value.code == "security-unreachable"


def test_a_throttled_login_is_passed_on_as_a_429(remote, tmp_path):
    security, url, _ = remote
    security.user("alice", "alices-password")
    authenticator = _remote_authenticator(security, url, CredentialCache(ttl=0))
    for n in range(FREE_FAILURES):
        assert authenticator.authenticate(user="alice", password=f"wrong-{n}", address="192.0.2.1") is None
    with pytest.raises(TooManyRequests) as raised:
        authenticator.authenticate(user="alice", password="alices-password", address="192.0.2.1")
    assert raised.value.headers["Retry-After"] == "1"
    app = create_app(model=Model([PUBLICATION]), store=open_store(tmp_path / "publisher.db"),
                     authenticator=authenticator)
    answer = testing.TestClient(app).simulate_get("/publication/", headers=basic("alice", "alices-password"))
    assert answer.status_code == 429 and answer.headers["Retry-After"]


# -- service credentials ------------------------------------------------------------------------
def _service_tokens(security):
    return security.tokens(**{"occi.authorization.user": "svc-publisher"})


def test_service_credentials_log_in_once_and_reuse_the_token(remote):
    security, url, _ = remote
    credentials = _service_credentials(security, url, ttl=600, clock=security.clock)
    assert _service_tokens(security) == []
    token = credentials.token()
    assert token.startswith("acc_") and credentials.authorization() == f"Bearer {token}"
    assert security.whoami(bearer(token)).json["username"] == "svc-publisher"
    assert [credentials.token() for _ in range(5)] == [token] * 5
    assert len(_service_tokens(security)) == 1
    assert token not in repr(credentials) and "publisher" in repr(credentials)


def test_service_credentials_renew_at_two_thirds_of_the_tokens_life(remote):
    security, url, _ = remote
    clock: Clock = security.clock
    credentials = _service_credentials(security, url, ttl=600, clock=clock)
    first = credentials.token()
    clock.advance(399)
    assert credentials.token() == first
    clock.advance(2)                                   # past 400 s, two thirds of 600
    second = credentials.token()
    assert second != first and len(_service_tokens(security)) == 2
    assert security.whoami(bearer(second)).status_code == 200
    credentials.invalidate()
    assert credentials.token() not in (first, second)


def test_the_transport_retries_once_with_a_fresh_token(remote):
    security, url, _ = remote
    credentials = _service_credentials(security, url, clock=security.clock)
    transport = Transport(url, credentials=credentials, retries=0)
    assert transport.request("GET", "/whoami").json()["username"] == "svc-publisher"
    first = credentials.token()
    (location,) = _service_tokens(security)
    assert security.client.simulate_delete(location, headers=security.admin).status_code in (200, 204)
    with pytest.raises(Unauthorized):                  # what a fixed token meets now
        Transport(url, token=first, retries=0).request("GET", "/whoami")
    assert transport.request("GET", "/whoami").json()["username"] == "svc-publisher"
    assert credentials.token() != first and len(_service_tokens(security)) == 1
    transport.close()


def test_a_wrong_service_password_is_one_failed_login(remote):
    security, url, _ = remote
    credentials = ServiceCredentials(SecurityClient(url), "svc-publisher", "not-its-password")
    with pytest.raises(Unauthorized):
        credentials.token()
    assert security.stored("/user/svc-publisher")["occi.user.failures"] == 1


def test_security_client(remote):
    security, url, _ = remote
    security.user("alice", "alices-password")
    grant = SecurityClient(url).login("alice", "alices-password", ttl=120, description="laptop")
    assert grant["token"].startswith("acc_") and grant["expires"] == pytest.approx(security.clock.now + 120)
    assert grant["location"].startswith(url + "/authorization/")
    stored = security.stored("/" + grant["location"].split("/", 3)[3])
    assert stored["occi.authorization.description"] == "laptop"
    assert SecurityClient(url, credentials=_Bearer(grant["token"])).whoami()["username"] == "alice"
    service = SecurityClient(url, credentials=_service_credentials(security, url))
    assert service.introspect(token=grant["token"])["username"] == "alice"
    assert service.introspect(token="acc_nothing") == {"active": False}
    with pytest.raises(Unauthorized):
        SecurityClient(url).login("alice", "wrong-password")


class _Bearer:
    def __init__(self, token):
        self.token = token

    def authorization(self):
        return f"Bearer {self.token}"

    def invalidate(self):
        return True
