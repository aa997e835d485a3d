"""Hostile input: password guessing (per user and per address), forged tokens, oversized and
malformed credentials and bodies. Every answer is a clean 4xx; nothing costs a hash that
need not; no log holds a password."""
from __future__ import annotations

import base64
import http.client
import logging
import secrets
from collections import Counter
from urllib.parse import urlsplit

import pytest

from occi.auth import MAX_CREDENTIALS_HEADER
from occi.security.model import MAX_PASSWORD_LENGTH
from occi.security.passwords import Passwords
from occi.security.verifier import ADDRESS_LIMIT, ADDRESS_WINDOW, FREE_FAILURES, MAX_DELAY
from tests.livehttp import serve_wsgi
from tests.occi.security.support import Security, basic, bearer


def _code(response) -> str:
    return response.text.split(" ", 2)[1].rstrip(":")


class CountingPasswords(Passwords):
    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = self.hashed = 0

    def verify(self, stored_hash, password):
        self.verified += 1
        return super().verify(stored_hash, password)

    def hash(self, password):
        self.hashed += 1
        return super().hash(password)


class CountingStore:
    """A store that counts the sessions opened on it."""

    def __init__(self, store):
        self._store = store
        self.sessions = 0

    def session(self, *args, **kwargs):
        self.sessions += 1
        return self._store.session(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


# -- guessing passwords ---------------------------------------------------------------------------
def test_guessing_one_users_password_is_throttled(security, clock):
    """A patient attacker from many addresses: 220 tries, waiting whenever told to."""
    alice = security.user("alice", "alices-password")
    statuses, waits = Counter(), []
    for attempt in range(220):
        response = security.whoami(basic("alice", f"guess-{attempt:04d}"),
                                   remote_addr=f"198.51.{attempt // 200}.{attempt % 200}")
        statuses[response.status_code] += 1
        if response.status_code == 429:
            assert _code(response) == "login-throttled"
            waits.append(int(response.headers["Retry-After"]))
            clock.advance(waits[-1])
        else:
            assert response.status_code == 401, response.text
    assert set(statuses) == {401, 429}
    assert statuses[429] >= 100
    assert waits == sorted(waits) and waits[0] == 1 and waits[-1] == MAX_DELAY    # doubling, then capped
    assert security.stored("/user/alice")["occi.user.failures"] == statuses[401]
    # Throttled: even the right password is refused, without being checked.
    security.whoami(basic("alice", "one-more-guess"), remote_addr="192.0.2.1")
    refused = security.whoami(alice, remote_addr="192.0.2.2")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= MAX_DELAY
    clock.advance(MAX_DELAY)
    assert security.whoami(alice, remote_addr="192.0.2.2").status_code == 200
    stored = security.stored("/user/alice")
    assert stored["occi.user.failures"] == 0 and "occi.user.retryAfter" not in stored
    # A success forgives: the next mistakes are free again.
    for attempt in range(FREE_FAILURES - 1):
        assert security.whoami(basic("alice", "oops-password"), remote_addr="192.0.2.3").status_code == 401


def test_the_first_failures_are_free_then_each_one_waits(security, clock):
    alice = security.user("alice", "alices-password")
    for attempt in range(FREE_FAILURES):
        assert security.whoami(basic("alice", "wrong-password"), remote_addr=f"192.0.2.{attempt}").status_code == 401
    throttled = security.whoami(alice, remote_addr="192.0.2.100")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    clock.advance(1)
    assert security.whoami(alice, remote_addr="192.0.2.100").status_code == 200


def test_guessing_from_one_address_is_throttled_whatever_the_names(security, clock):
    security.user("alice", "alices-password")
    address = "203.0.113.9"
    answers = [security.whoami(basic(name, "wrong-password"), remote_addr=address).status_code
               for name in [f"user{n}" for n in range(ADDRESS_LIMIT - 1)] + ["alice"]]
    assert answers == [401] * ADDRESS_LIMIT
    blocked = security.whoami(basic("someone-else", "wrong-password"), remote_addr=address)
    assert blocked.status_code == 429 and _code(blocked) == "login-throttled"
    assert 1 <= int(blocked.headers["Retry-After"]) <= ADDRESS_WINDOW
    assert address in blocked.text
    # The right password from there too; from elsewhere it works; tokens are not logins.
    assert security.whoami(security.admin, remote_addr=address).status_code == 429
    assert security.whoami(security.admin, remote_addr="203.0.113.10").status_code == 200
    token, _ = security.token(security.admin)
    assert security.whoami(bearer(token), remote_addr=address).status_code == 200
    clock.advance(ADDRESS_WINDOW + 1)
    assert security.whoami(security.admin, remote_addr=address).status_code == 200


def test_introspection_throttles_the_address_a_component_passes_on(security, clock):
    security.user("alice", "alices-password")
    token, _ = security.token(security.admin)
    address = "203.0.113.20"
    for n in range(ADDRESS_LIMIT):
        answer = security.introspect(bearer(token), username=f"user{n}", password="wrong-password", address=address)
        assert answer.json == {"active": False}
    blocked = security.introspect(bearer(token), username="alice", password="alices-password", address=address)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    elsewhere = security.introspect(bearer(token), username="alice", password="alices-password",
                                    address="203.0.113.21")
    assert elsewhere.json["active"] is True


def test_failed_logins_are_logged_without_the_password(security, clock, caplog):
    caplog.set_level(logging.DEBUG)
    security.user("alice", "alices-password")
    secret = "Hunter2-Sekret-Passw0rd"
    long_secret = "Z" * (MAX_PASSWORD_LENGTH + 10)
    for name, password, address in [("alice", secret, "192.0.2.7"), ("nobody", secret, "192.0.2.8"),
                                    ("alice", long_secret, "192.0.2.9")]:
        assert security.whoami(basic(name, password), remote_addr=address).status_code == 401
    security.introspect(username="alice", password=secret, address="192.0.2.10")
    for _ in range(3):                                          # and the throttled refusals
        security.whoami(basic("alice", secret), remote_addr="192.0.2.11")
    failures = [r for r in caplog.records if r.name == "accords.security" and "login" in r.getMessage()]
    messages = [r.getMessage() for r in failures]
    assert any("'alice'" in m and "192.0.2.7" in m for m in messages)
    assert any("'nobody'" in m and "192.0.2.8" in m for m in messages)
    assert any("'alice'" in m and "192.0.2.9" in m for m in messages)
    assert any("192.0.2.10" in m for m in messages)
    assert any("throttled" in m for m in messages)
    everything = caplog.text + "".join(repr(vars(r)) for r in caplog.records)
    assert secret not in everything and "Z" * 50 not in everything
    assert base64.b64encode(f"alice:{secret}".encode()).decode() not in everything


# -- forged and malformed credentials ---------------------------------------------------------------
FORGED = {
    "random": "acc_" + secrets.token_urlsafe(32),
    "wrong prefix": "ghp_" + secrets.token_urlsafe(32),
    "no prefix": secrets.token_urlsafe(32),
    "10 KB": "acc_" + "A" * 10_000,
    "just over the limit": "acc_" + "A" * 300,
    "non-ascii": "acc_\u00e9\u00e8\u00ff\u00a0" * 8,
    "control": "acc_\x01\x02",
}


@pytest.mark.parametrize("carrier", ["bearer", "x-occi-authorize", "basic"])
@pytest.mark.parametrize("name", list(FORGED))
def test_forged_tokens_are_refused_cleanly(security, name, carrier):
    token = FORGED[name]
    headers = {"bearer": bearer(token), "x-occi-authorize": {"X-OCCI-Authorize": token},
               "basic": basic("admin", token)}[carrier]
    response = security.whoami(headers)
    assert response.status_code == 401, response.text
    assert _code(response) == "bad-credentials" and "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer    ", "Basic", "Basic !!!!", "Basic " + "=" * 8,
                                   "Basic " + base64.b64encode(b"no-colon-here").decode(),
                                   "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
                                   "Basic " + base64.b64encode(b"admin").decode()[:-1],
                                   "Digest username=admin", "acc_token-without-scheme", ""])
def test_malformed_authorization_headers_are_refused_cleanly(security, value):
    response = security.whoami({"Authorization": value})
    assert response.status_code == 401, response.text
    assert _code(response) in ("bad-credentials", "no-credentials")


@pytest.mark.parametrize("name", ["", "../admin", "admin/../admin", "a" * 65, "ADMIN", "admin\u00e9", " admin",
                                  "admin?x=1", "%2e%2e"])
def test_odd_user_names_are_refused_cleanly(security, name):
    response = security.whoami(basic(name, security.admin_password))
    assert response.status_code == 401, response.text


def test_non_utf8_credentials_over_http_are_refused_cleanly(security):
    url, stop = serve_wsgi(security.app)
    try:
        parts = urlsplit(url)
        for header in (b"Bearer acc_\xc3\xa9\xff\xfe", b"Basic \xff\xfe", b"\xff\xfe"):
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            connection.putrequest("GET", "/whoami")
            connection.putheader("Authorization", header)
            connection.endheaders()
            response = connection.getresponse()
            assert response.status == 401, response.read()
            connection.close()
    finally:
        stop()


def test_an_oversized_authorization_header_is_refused_before_the_store(security):
    counting = CountingStore(security.store)
    security.verifier.store = counting
    for headers in (bearer("acc_" + "A" * MAX_CREDENTIALS_HEADER), {"X-OCCI-Authorize": "A" * 5000},
                    basic("admin", "x" * MAX_CREDENTIALS_HEADER)):
        response = security.whoami(headers)
        assert response.status_code == 401 and "longer than" in response.text
    assert counting.sessions == 0
    # The counting works: a token of ordinary length is looked up.
    assert security.whoami(bearer("acc_" + "A" * 40)).status_code == 401
    assert counting.sessions > 0


def test_an_overlong_password_is_refused_without_hashing(security_store, tmp_path, clock):
    counting = CountingPasswords()
    security = Security(security_store, tmp_path, clock=clock, passwords=counting)
    admin_token, _ = security.token(security.admin)
    assert counting.verified == 1                      # the double is the one in use
    counting.verified = counting.hashed = 0
    for name in ("admin", "nobody"):
        for length in (MAX_PASSWORD_LENGTH + 1, 2000):
            response = security.whoami(basic(name, "p" * length), remote_addr=f"192.0.2.{length % 200}")
            assert response.status_code == 401
    answer = security.introspect(bearer(admin_token), username="admin", password="p" * (MAX_PASSWORD_LENGTH + 1))
    assert answer.json == {"active": False}
    assert counting.verified == 0 and counting.hashed == 0
    # Passwords within the limit are checked (even for unknown users: the decoy hash).
    clock.advance(3600)
    assert security.whoami(basic("nobody", "p" * MAX_PASSWORD_LENGTH), remote_addr="192.0.2.250").status_code == 401
    assert counting.verified == 1
    assert security.whoami(security.admin, remote_addr="192.0.2.251").status_code == 200
    assert counting.verified == 2


# -- /introspect bodies -------------------------------------------------------------------------------
def test_an_oversized_introspection_body_is_refused(security):
    for body, content_type in ((b"token=" + b"a" * 9000, "application/x-www-form-urlencoded"),
                               (b'{"token": "' + b"a" * 9000 + b'"}', "application/json")):
        response = security.client.simulate_post("/introspect", body=body,
                                                 headers={**security.admin, "Content-Type": content_type})
        assert response.status_code == 413, response.text
        assert security.introspection.calls >= 1


@pytest.mark.parametrize("body", ['{"token": ', "[1, 2]", '"token"', '{"token": 5}', '{"token": null}',
                                  '{"username": "admin", "password": ["x"]}', "\xff\xfe"])
def test_malformed_json_introspection_is_a_400(security, body):
    response = security.client.simulate_post("/introspect", body=body.encode("utf-8", "surrogateescape")
                                             if isinstance(body, str) else body,
                                             headers={**security.admin, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert _code(response) == "bad-json"


def test_odd_form_introspection_is_a_clean_answer(security):
    def post(body: bytes):
        return security.client.simulate_post("/introspect", body=body, headers={
            **security.admin, "Content-Type": "application/x-www-form-urlencoded"})

    too_many = post("&".join(f"f{n}=x" for n in range(50)).encode())
    assert too_many.status_code == 400 and _code(too_many) == "bad-form"
    assert post(b"token=%ff%fe\xff").json == {"active": False}
    assert post(b"nothing=here").status_code == 400
    assert post(b"").status_code == 400
