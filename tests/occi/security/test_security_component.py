"""The security component's rules: names, roles, passwords, the admins and the platform account,
tokens (issued once, revoked, expired, swept), /whoami, /introspect and the first-run bootstrap."""
from __future__ import annotations

import json
import os
import stat
import time

import pytest

from occi.security.component import KEEP_EXPIRED, sweep
from occi.security.model import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USER
from occi.security.passwords import TOKEN_PREFIX, token_digest
from occi.security.service import bootstrap
from occi.store.base import Query
from tests.occi.security.support import (ACCOUNT_KIND, JSON, USER_KIND, Security, basic, bearer)

PLATFORM = "accords"


def _code(response) -> str | None:
    """The error code, from a JSON error or a text one ('409 last-admin: ...')."""
    try:
        return response.json["error"]["code"]
    except (ValueError, KeyError, TypeError):
        status, _, rest = response.text.partition(" ")
        return rest.split(":", 1)[0] if status == str(response.status_code) else None


def _patch(security, location, attributes, auth=None, kind=USER_KIND):
    return security.client.simulate_post(location, json={"kind": kind, "attributes": attributes},
                                         headers={**(security.admin if auth is None else auth), **JSON})


def _delete(security, location, auth=None):
    return security.client.simulate_delete(location, headers=security.admin if auth is None else auth)


# -- users ----------------------------------------------------------------------------------
def test_the_user_name_decides_the_location(security):
    created = security.add_user("alice", "alices-password")
    assert created.status_code == 201 and created.headers["Location"].endswith("/user/alice")
    put = security.client.simulate_put("/user/bob", json={"kind": USER_KIND, "attributes": {
        "occi.user.name": "bob", "occi.user.password": "bobs-password", "occi.user.account": PLATFORM}},
        headers={**security.admin, **JSON})
    assert put.status_code == 201 and security.stored("/user/bob")["occi.user.name"] == "bob"
    assert security.whoami(basic("bob", "bobs-password")).json["username"] == "bob"
    # The id travels with the location: the same name always gives the same id.
    assert security.client.simulate_get("/user/alice", headers=security.admin).status_code == 200


def test_a_user_named_at_another_location_is_refused(security):
    put = security.client.simulate_put("/user/x", json={"kind": USER_KIND, "attributes": {
        "occi.user.name": "y", "occi.user.password": "a-long-password", "occi.user.account": PLATFORM}},
        headers={**security.admin, **JSON})
    assert put.status_code == 400 and _code(put) == "bad-location"
    assert security.stored("/user/x") is None and security.stored("/user/y") is None
    # An existing user cannot be renamed either.
    security.user("alice", "alices-password")
    renamed = security.client.simulate_put("/user/alice", json={"kind": USER_KIND, "attributes": {
        "occi.user.name": "mallory", "occi.user.password": "a-long-password", "occi.user.account": PLATFORM}},
        headers={**security.admin, **JSON})
    assert renamed.status_code in (400, 403)
    assert security.stored("/user/alice")["occi.user.name"] == "alice" and security.stored("/user/mallory") is None


def test_a_duplicate_user_is_a_conflict(security):
    security.user("alice", "alices-password")
    again = security.add_user("alice", "another-password")
    assert again.status_code == 409
    assert security.whoami(basic("alice", "alices-password")).status_code == 200     # the first one stands
    assert security.whoami(basic("alice", "another-password")).status_code == 401


def test_a_user_needs_an_existing_account(security):
    response = security.add_user("alice", "alices-password", account="nowhere")
    assert response.status_code == 400 and _code(response) == "no-such-account"
    security.add_account("acme")
    assert security.add_user("alice", "alices-password", account="acme").status_code == 201


@pytest.mark.parametrize("roles", [[], ["root"], ["provider", "superuser"], [3]])
def test_roles_must_be_known(security, roles):
    response = security.add_user("alice", "alices-password", roles=roles)
    assert response.status_code == 400, response.text
    assert security.stored("/user/alice") is None


def test_known_roles_are_kept_without_duplicates(security):
    security.user("alice", "alices-password", roles=["auditor", "provider", "auditor"])
    assert security.stored("/user/alice")["occi.user.roles"] == ["auditor", "provider"]
    assert _patch(security, "/user/alice", {"occi.user.roles": ["nobody"]}).status_code == 400


@pytest.mark.parametrize("length,status", [(MIN_PASSWORD_LENGTH - 1, 400), (MIN_PASSWORD_LENGTH, 201),
                                           (MAX_PASSWORD_LENGTH, 201), (MAX_PASSWORD_LENGTH + 1, 400)])
def test_password_length(security, length, status):
    response = security.add_user("alice", "p" * length)
    assert response.status_code == status, response.text
    if status == 400:
        assert _code(response) == "bad-password" and security.stored("/user/alice") is None


def test_a_password_cannot_look_like_a_token(security):
    """Basic passwords starting with the token prefix are taken for tokens (curl -u x:TOKEN),
    so such a password could never log in: it is refused when set."""
    response = security.add_user("alice", TOKEN_PREFIX + "long-enough")
    assert response.status_code == 400 and _code(response) == "bad-password"


def test_a_password_set_by_an_update_is_hashed_and_checked(security):
    security.user("alice", "alices-password")
    assert _patch(security, "/user/alice", {"occi.user.password": "short"}).status_code == 400
    assert _patch(security, "/user/alice", {"occi.user.password": "alices-new-password"}).status_code == 200
    assert security.stored("/user/alice")["occi.user.password"].startswith("$argon2id$")
    assert security.whoami(basic("alice", "alices-new-password")).status_code == 200
    assert security.whoami(basic("alice", "alices-password")).status_code == 401


def test_only_admins_manage_users_and_accounts(security):
    alice = security.user("alice", "alices-password")
    assert security.add_user("bob", "bobs-password", auth=alice).status_code == 403
    assert security.post_entity("/account/", ACCOUNT_KIND, {"occi.account.name": "mine"}, alice).status_code == 403
    assert _patch(security, "/user/alice", {"occi.user.roles": ["admin"]}, auth=alice).status_code == 403
    assert security.stored("/user/alice")["occi.user.roles"] == ["provider"]


# -- the last admin and the platform account --------------------------------------------------
def test_the_last_admin_cannot_be_deleted_disabled_or_demoted(security):
    deleted = _delete(security, "/user/admin")
    assert deleted.status_code == 409 and _code(deleted) == "last-admin"
    disabled = security.action("/user/admin", "disable")
    assert disabled.status_code == 409 and _code(disabled) == "last-admin"
    demoted = _patch(security, "/user/admin", {"occi.user.roles": ["provider"]})
    assert demoted.status_code == 409 and _code(demoted) == "last-admin"
    stored = security.stored("/user/admin")
    assert stored["occi.user.roles"] == ["admin"] and stored["occi.user.state"] == "active"


def test_a_disabled_admin_does_not_count(security):
    security.user("admin2", "admin2-password", roles=["admin"])
    assert security.action("/user/admin2", "disable").status_code == 200
    assert _delete(security, "/user/admin").status_code == 409


def test_with_another_admin_an_admin_can_go(security):
    other = security.user("admin2", "admin2-password", roles=["admin", "auditor"])
    assert _patch(security, "/user/admin", {"occi.user.roles": ["auditor"]}).status_code == 200
    assert security.action("/user/admin", "disable", auth=other).status_code == 200
    assert _delete(security, "/user/admin", auth=other).status_code in (200, 204)
    assert security.stored("/user/admin") is None
    assert _delete(security, "/user/admin2", auth=other).status_code == 409      # now the last one


def test_the_platform_account_stays(security):
    deleted = _delete(security, f"/account/{PLATFORM}")
    assert deleted.status_code == 409 and _code(deleted) == "platform-account"
    disabled = security.action(f"/account/{PLATFORM}", "disable")
    assert disabled.status_code == 409 and _code(disabled) == "platform-account"
    assert security.stored(f"/account/{PLATFORM}")["occi.account.state"] == "active"
    # Other accounts can be disabled and deleted.
    security.add_account("acme")
    assert security.action("/account/acme", "disable").status_code == 200
    assert _delete(security, "/account/acme").status_code in (200, 204)


def test_an_account_with_users_cannot_be_deleted(security):
    created = security.add_account("acme")
    assert created.headers["Location"].endswith("/account/acme")
    security.user("bob", "bobs-password", account="acme")
    refused = _delete(security, "/account/acme")
    assert refused.status_code == 409 and _code(refused) == "account-in-use"
    assert _delete(security, "/user/bob").status_code in (200, 204)
    assert _delete(security, "/account/acme").status_code in (200, 204)
    assert security.stored("/account/acme") is None


def test_deleting_a_user_deletes_its_tokens(security):
    alice = security.user("alice", "alices-password")
    bob = security.user("bob", "bobs-password")
    alice_tokens = [security.token(alice)[0] for _ in range(3)]
    bob_token, _ = security.token(bob)
    assert len(security.tokens(**{"occi.authorization.user": "alice"})) == 3
    assert _delete(security, "/user/alice").status_code in (200, 204)
    assert security.tokens(**{"occi.authorization.user": "alice"}) == []
    assert len(security.tokens()) == 1
    assert security.whoami(bearer(bob_token)).status_code == 200
    # A new alice does not inherit the old tokens.
    security.user("alice", "alices-password")
    assert all(security.whoami(bearer(t)).status_code == 401 for t in alice_tokens)


# -- the password action ------------------------------------------------------------------------
def test_users_change_their_own_password_with_the_current_one(security):
    alice = security.user("alice", "alices-password")
    token, _ = security.token(alice)
    wrong = security.action("/user/alice", "password", {"current": "not-the-password", "password": "new-password-1"},
                            auth=bearer(token))
    assert wrong.status_code == 403 and _code(wrong) == "wrong-password"
    missing = security.action("/user/alice", "password", {"password": "new-password-1"}, auth=bearer(token))
    assert missing.status_code == 403
    assert security.whoami(basic("alice", "alices-password")).status_code == 200
    done = security.action("/user/alice", "password", {"current": "alices-password", "password": "new-password-1"},
                           auth=basic("alice", "alices-password"))
    assert done.status_code == 200
    assert security.whoami(basic("alice", "alices-password")).status_code == 401
    assert security.whoami(basic("alice", "new-password-1")).status_code == 200
    too_short = security.action("/user/alice", "password", {"current": "new-password-1", "password": "short"},
                                auth=basic("alice", "new-password-1"))
    assert too_short.status_code == 400 and _code(too_short) == "bad-password"


def test_users_cannot_change_anothers_password(security):
    security.user("alice", "alices-password")
    carol = security.user("carol", "carols-password")            # same account
    security.add_account("acme")
    dave = security.user("dave", "daves-password", account="acme")
    for auth in (carol, dave):
        refused = security.action("/user/alice", "password", {"current": "alices-password",
                                                               "password": "stolen-password"}, auth=auth)
        assert refused.status_code == 403, refused.text
    assert security.whoami(basic("alice", "alices-password")).status_code == 200
    assert security.whoami(basic("alice", "stolen-password")).status_code == 401


def test_an_admin_resets_anyones_password(security):
    security.add_account("acme")
    security.user("dave", "daves-password", account="acme")
    assert security.action("/user/dave", "password", {"password": "reset-password"}).status_code == 200
    assert security.whoami(basic("dave", "reset-password")).status_code == 200
    assert security.whoami(basic("dave", "daves-password")).status_code == 401


# -- tokens -------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", ["application/occi+json", "text/plain"])
def test_a_token_is_shown_once_in_a_header(security, accept):
    alice = security.user("alice", "alices-password")
    response = security.login(alice, headers={"Accept": accept})
    assert response.status_code == 201
    token = response.headers["X-OCCI-Authorize"]
    assert token.startswith(TOKEN_PREFIX) and response.headers["Cache-Control"] == "no-store"
    assert token not in response.text and token_digest(token) not in response.text
    location = "/" + response.headers["Location"].split("/", 3)[3]
    stored = security.stored(location)
    assert stored["occi.authorization.digest"] == token_digest(token) and token not in json.dumps(stored)
    assert stored["occi.authorization.user"] == "alice" and stored["occi.authorization.account"] == PLATFORM
    # Read again, it has no token header.
    again = security.client.simulate_get(location, headers=bearer(token))
    assert again.status_code == 200 and "X-OCCI-Authorize" not in again.headers
    # The three ways to carry it.
    assert security.whoami(bearer(token)).json["username"] == "alice"
    assert security.whoami({"X-OCCI-Authorize": token}).json["username"] == "alice"
    assert security.whoami(basic("anything", token)).json["username"] == "alice"


def test_a_refused_creation_issues_no_token(security):
    alice = security.user("alice", "alices-password")
    response = security.login(alice, ttl=10)                    # below the minimum
    assert response.status_code == 400
    assert "X-OCCI-Authorize" not in response.headers and security.tokens() == []


def test_revoking_or_deleting_a_token_stops_it(security):
    alice = security.user("alice", "alices-password")
    first, first_location = security.token(alice)
    second, second_location = security.token(alice)
    assert security.action(first_location, "revoke", auth=bearer(first)).status_code == 200
    assert security.whoami(bearer(first)).status_code == 401
    assert security.whoami(bearer(second)).status_code == 200
    assert _delete(security, second_location, auth=bearer(second)).status_code in (200, 204)
    assert security.whoami(bearer(second)).status_code == 401
    assert security.whoami(alice).status_code == 200                   # the password still works


def test_tokens_expire(security, clock):
    alice = security.user("alice", "alices-password")
    token, _ = security.token(alice, ttl=60)
    long_lived, _ = security.token(alice)
    assert security.whoami(bearer(token)).json["exp"] == int(clock.now + 60)
    clock.advance(59)
    assert security.whoami(bearer(token)).status_code == 200
    clock.advance(2)
    assert security.whoami(bearer(token)).status_code == 401
    assert security.whoami(bearer(long_lived)).status_code == 200


def test_a_password_change_stops_existing_tokens(security, clock):
    alice = security.user("alice", "alices-password")
    token, _ = security.token(alice)
    clock.advance(0.001)
    assert security.action("/user/alice", "password", {"password": "new-password-1"}).status_code == 200
    assert security.whoami(bearer(token)).status_code == 401
    clock.advance(0.001)
    fresh, _ = security.token(basic("alice", "new-password-1"))
    assert security.whoami(bearer(fresh)).status_code == 200


def test_a_password_change_within_the_same_second_stops_tokens(security_store, tmp_path):
    """On the real clock: times kept to the second let a token issued in the same second as a
    password change survive it."""
    security = Security(security_store, tmp_path, clock=time.time)
    alice = security.user("alice", "alices-password")
    for attempt in range(3):
        token, _ = security.token(alice)
        password = f"new-password-{attempt}"
        assert security.action("/user/alice", "password", {"password": password}).status_code == 200
        alice = basic("alice", password)
        assert security.whoami(bearer(token)).status_code == 401
        fresh, _ = security.token(alice)
        assert security.whoami(bearer(fresh)).status_code == 200


def test_disabling_the_user_or_the_account_stops_tokens(security):
    security.add_account("acme")
    bob = security.user("bob", "bobs-password", account="acme")
    carol = security.user("carol", "carols-password", account="acme")
    bob_token, _ = security.token(bob)
    carol_token, _ = security.token(carol)
    assert security.action("/user/bob", "disable").status_code == 200
    assert security.whoami(bearer(bob_token)).status_code == 401
    assert security.whoami(bob).status_code == 401
    assert security.whoami(bearer(carol_token)).status_code == 200
    assert security.action("/account/acme", "disable").status_code == 200
    assert security.whoami(bearer(carol_token)).status_code == 401
    assert security.whoami(carol).status_code == 401
    assert security.login(carol).status_code == 401


def test_the_sweep_deletes_tokens_expired_for_more_than_a_day(security, clock):
    alice = security.user("alice", "alices-password")
    _, old = security.token(alice, ttl=60)
    clock.advance(KEEP_EXPIRED + 120)                  # old: expired a day and a minute ago
    _, recent = security.token(alice, ttl=60)
    _, revoked = security.token(alice)
    assert security.action(revoked, "revoke").status_code == 200
    clock.advance(120)                                 # recent: expired a minute ago
    _, live = security.token(alice)
    assert sweep(security.store, clock=clock) == 1
    assert sorted(security.tokens()) == sorted([recent, revoked, live])
    assert sweep(security.store, clock=clock) == 0
    clock.advance(KEEP_EXPIRED)
    assert sweep(security.store, clock=clock) == 1      # recent, now a day past its expiry
    assert sorted(security.tokens()) == sorted([revoked, live])


def test_tokens_belong_to_their_account(security):
    security.add_account("acme")
    alice = security.user("alice", "alices-password")
    dave = security.user("dave", "daves-password", account="acme")
    token, location = security.token(alice)
    dave_token, _ = security.token(dave)
    assert security.client.simulate_get(location, headers=bearer(dave_token)).status_code == 403
    assert security.action(location, "revoke", auth=bearer(dave_token)).status_code == 403
    assert _delete(security, location, auth=bearer(dave_token)).status_code == 403
    listing = security.client.simulate_get("/authorization/", headers={**bearer(dave_token),
                                                                       "Accept": "text/uri-list"})
    assert location not in listing.text
    assert security.whoami(bearer(token)).status_code == 200


def test_a_client_cannot_issue_a_token_for_someone_else(security):
    alice = security.user("alice", "alices-password")
    response = security.post_entity("/authorization/", "http://scheme.compatibleone.fr/scheme/compatible#authorization",
                                    {"occi.authorization.user": "admin"}, alice)
    assert response.status_code == 400 and security.tokens() == []


# -- /whoami and /introspect -------------------------------------------------------------------------
def test_whoami(security):
    alice = security.user("alice", "alices-password", roles=["provider", "auditor"])
    by_password = security.whoami(alice)
    assert by_password.status_code == 200 and by_password.headers["Cache-Control"] == "no-store"
    assert by_password.json == {"active": True, "username": "alice", "account": PLATFORM,
                                "roles": ["auditor", "provider"], "token_type": "whoami"}
    token, _ = security.token(alice)
    assert "exp" in security.whoami(bearer(token)).json
    anonymous = security.client.simulate_get("/whoami")
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["WWW-Authenticate"]


def test_introspection_is_for_services_and_admins(security):
    alice = security.user("alice", "alices-password", roles=["provider", "operator", "auditor", "agent", "ccmp"])
    token, _ = security.token(alice)
    refused = security.introspect(alice, token=token)
    assert refused.status_code == 403 and _code(refused) == "role-forbidden"
    service = security.credentials("publisher")
    assert service["user"] == "svc-publisher"
    for auth in (basic(service["user"], service["password"]), security.admin):
        answer = security.introspect(auth, token=token)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        assert answer.json["active"] is True and answer.json["username"] == "alice"


def test_introspecting_tokens(security, clock):
    alice = security.user("alice", "alices-password")
    token, location = security.token(alice, ttl=600)
    answer = security.introspect(token=token).json
    assert answer == {"active": True, "username": "alice", "account": PLATFORM, "roles": ["provider"],
                      "token_type": "access_token", "exp": int(clock.now + 600)}
    form = security.client.simulate_post("/introspect", body=f"token={token}", headers={
        **security.admin, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and form.json["username"] == "alice"
    for bad in ("", "acc_nothing", token[:-1], token + "x", "x" * 300):
        assert security.introspect(token=bad).json == {"active": False}
    security.action(location, "revoke")
    assert security.introspect(token=token).json == {"active": False}


def test_introspecting_passwords(security):
    security.user("alice", "alices-password")
    good = security.introspect(username="alice", password="alices-password", address="192.0.2.1")
    assert good.json == {"active": True, "username": "alice", "account": PLATFORM, "roles": ["provider"],
                         "token_type": "password"}
    form = security.client.simulate_post("/introspect", body="username=alice&password=alices-password", headers={
        **security.admin, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.json["active"] is True
    assert security.introspect(username="alice", password="wrong-password").json == {"active": False}
    assert security.introspect(username="nobody", password="alices-password").json == {"active": False}
    missing = security.introspect(username="alice")
    assert missing.status_code == 400 and _code(missing) == "bad-introspection"


def _users():
    return Query(kinds=[USER.type_id])


# -- bootstrap ------------------------------------------------------------------------------------
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_bootstrap_creates_the_platform_and_its_users(security):
    assert security.created == [f"account {PLATFORM}", "user admin", "user svc-publisher"]
    folder = security.data / "credentials"
    assert _mode(folder) == 0o700
    for name in ("admin", "publisher"):
        assert _mode(folder / f"{name}.json") == 0o600
    admin = security.credentials("admin")
    assert admin["user"] == "admin" and len(admin["password"]) >= 20
    assert security.stored("/user/admin")["occi.user.roles"] == ["admin"]
    assert security.stored("/user/svc-publisher")["occi.user.roles"] == ["service"]
    assert security.stored("/user/svc-publisher")["occi.user.account"] == PLATFORM
    assert security.whoami(security.admin).json["roles"] == ["admin"]
    service = security.credentials("publisher")
    assert service["component"] == "publisher"
    assert security.whoami(basic(service["user"], service["password"])).json["roles"] == ["service"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]          # no temporary left


def test_bootstrap_is_idempotent(security):
    folder = security.data / "credentials"
    files = {p.name: p.read_text() for p in folder.iterdir()}
    assert bootstrap(security.store, data=security.data, services=["publisher"]) == []
    assert {p.name: p.read_text() for p in folder.iterdir()} == files
    with security.store.session(readonly=True) as session:
        assert len(session.list_locations(_users())) == 2
    # A new component gets its user; the others are left alone.
    assert bootstrap(security.store, data=security.data, services=["publisher", "sla"]) == ["user svc-sla"]
    assert _mode(folder / "sla.json") == 0o600 and (folder / "publisher.json").read_text() == files["publisher.json"]


def test_a_missing_service_file_gets_a_new_password(security_store, tmp_path):
    security = Security(security_store, tmp_path, clock=time.time)   # bootstrap runs on the real clock
    folder = security.data / "credentials"
    old = security.credentials("publisher")
    old_token, _ = security.token(basic(old["user"], old["password"]))
    (folder / "publisher.json").unlink()
    assert bootstrap(security.store, data=security.data, services=["publisher"]) == ["user svc-publisher"]
    new = security.credentials("publisher")
    assert new["user"] == old["user"] and new["password"] != old["password"]
    assert _mode(folder / "publisher.json") == 0o600
    assert security.whoami(basic(new["user"], new["password"])).status_code == 200
    assert security.whoami(basic(old["user"], old["password"])).status_code == 401
    assert security.whoami(bearer(old_token)).status_code == 401          # its old sessions end
    with security.store.session(readonly=True) as session:
        assert len(session.list_locations(_users())) == 2


def test_the_component_as_accords_serve_wires_it(tmp_path):
    """The registered component: its own hooks, policy, authenticator, routes and bootstrap."""
    from falcon import testing

    from occi.security.component import build
    from occi.server import create_app
    from occi.store import open_store

    component = build()
    assert component.name == "security" and component.background is sweep
    store = open_store(tmp_path / "served.db")
    try:
        assert component.bootstrap(store, data=tmp_path, services=["sla"], url=None) == [
            f"account {PLATFORM}", "user admin", "user svc-sla"]
        app = create_app(model=component.model, store=store, hooks=component.hooks, policy=component.policy,
                         authenticator=component.authenticator(store), component="security")
        component.routes(app, store)
        client = testing.TestClient(app)
        credentials = json.loads((tmp_path / "credentials" / "admin.json").read_text())
        admin = basic("admin", credentials["password"])
        issued = client.simulate_post("/authorization/", json={
            "kind": "http://scheme.compatibleone.fr/scheme/compatible#authorization"}, headers={**admin, **JSON})
        assert issued.status_code == 201
        token = issued.headers["X-OCCI-Authorize"]
        assert client.simulate_get("/whoami", headers=bearer(token)).json["username"] == "admin"
        service = json.loads((tmp_path / "credentials" / "sla.json").read_text())
        answer = client.simulate_post("/introspect", json={"token": token},
                                      headers=basic(service["user"], service["password"]))
        assert answer.json["active"] is True and answer.json["roles"] == ["admin"]
        location = "/" + issued.headers["Location"].split("/", 3)[3]
        assert client.simulate_delete(location, headers=bearer(token)).status_code in (200, 204)
        assert client.simulate_get("/whoami", headers=bearer(token)).status_code == 401
        assert client.simulate_post("/introspect", json={"token": token}, headers=basic(
            service["user"], service["password"])).json == {"active": False}
    finally:
        store.close()
