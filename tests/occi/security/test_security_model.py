"""Write-only attributes: a password (its argon2 hash) and a token (its digest) are stored but
never rendered, never usable in a filter, and discovery says so."""
from __future__ import annotations

import pytest

from occi.security.model import AUTHORIZATION, USER
from occi.security.passwords import token_digest
from tests.occi.security.support import AUTHORIZATION_KIND, JSON, bearer

PASSWORD = "Correct-Horse-7"
# As rendered: ``name=value`` in the text renderings, ``"name":`` in JSON.
SECRET_NAMES = ("occi.user.password=", '"occi.user.password"', "occi.authorization.digest=",
                '"occi.authorization.digest"')
ACCEPTS = ["text/plain", "text/occi", "application/occi+json", "application/json"]


def _everything(response) -> str:
    """Body and headers: text/occi renders attributes in headers."""
    return response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


@pytest.fixture
def alice(security):
    """A user with a token; what must never show: the password, its hash, the token, its digest."""
    security.user("alice", PASSWORD)
    token, location = security.token(security.admin)     # an admin token, to read everything
    stored_hash = security.stored("/user/alice")["occi.user.password"]
    stored_digest = security.stored(location)["occi.authorization.digest"]
    # The secrets are there, in the store: what follows checks they do not travel.
    assert stored_hash.startswith("$argon2id$") and stored_digest == token_digest(token)
    return {"token": token, "location": location, "forbidden": (PASSWORD, stored_hash, token, stored_digest,
                                                                  *SECRET_NAMES, "$argon2")}


def _assert_clean(response, forbidden):
    assert response.status_code < 300, response.text
    shown = _everything(response)
    for secret in forbidden:
        assert secret not in shown, f"{secret[:20]!r} rendered"


@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_user_renders_without_its_password(security, alice, accept):
    response = security.client.simulate_get("/user/alice", headers={**bearer(alice["token"]), "Accept": accept})
    _assert_clean(response, alice["forbidden"])
    assert "alice" in response.text + str(response.headers)          # the user itself was rendered


@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_token_renders_without_its_digest(security, alice, accept):
    response = security.client.simulate_get(alice["location"], headers={**bearer(alice["token"]),
                                                                        "Accept": accept})
    _assert_clean(response, alice["forbidden"])
    assert "occi.authorization.expires" in _everything(response)


@pytest.mark.parametrize("accept", ["application/occi+json", "application/json"])
@pytest.mark.parametrize("collection", ["/user/", "/authorization/", "/"])
def test_listings_render_entities_without_secrets(security, alice, accept, collection):
    response = security.client.simulate_get(collection, headers={**bearer(alice["token"]), "Accept": accept})
    _assert_clean(response, alice["forbidden"])
    entities = response.json.get("resources") or []
    assert entities and all("attributes" in e for e in entities)       # whole entities, not locations


@pytest.mark.parametrize("accept", ["text/plain", "text/occi", "text/uri-list"])
def test_text_listings_carry_locations_only(security, alice, accept):
    response = security.client.simulate_get("/user/", headers={**bearer(alice["token"]), "Accept": accept})
    _assert_clean(response, alice["forbidden"])
    assert "/user/alice" in _everything(response)


def test_responses_to_writes_render_no_secret(security, alice):
    forbidden = alice["forbidden"]
    created = security.add_user("bob", "Bobs-password-1")
    assert created.status_code == 201 and "Bobs-password-1" not in _everything(created)
    assert "$argon2" not in _everything(created) and '"occi.user.password"' not in created.text
    # A partial update that sets a new password, and the password action: answers render the user.
    updated = security.client.simulate_post("/user/bob", json={"kind": USER.type_id, "attributes": {
        "occi.user.password": "Bobs-password-2", "occi.user.email": "bob@example.com"}},
        headers={**security.admin, **JSON})
    assert updated.status_code == 200 and "bob@example.com" in updated.text
    _assert_clean(updated, (*forbidden, "Bobs-password-2"))
    for n, accept in enumerate(ACCEPTS):
        acted = security.client.simulate_post("/user/alice", params={"action": "password"}, json={
            "action": USER.actions[2].type_id, "attributes": {"password": f"Another-pass-{n}"}},
            headers={**security.admin, "Content-Type": "application/occi+json", "Accept": accept})
        _assert_clean(acted, (*forbidden, f"Another-pass-{n}"))
    revoked = security.action(alice["location"], "revoke")          # answers in JSON
    _assert_clean(revoked, forbidden)
    assert revoked.json["attributes"]["occi.authorization.state"] == "revoked"
    issued = security.login(security.admin)
    token = issued.headers["X-OCCI-Authorize"]
    elsewhere = issued.text + "".join(v for k, v in issued.headers.items() if k.lower() != "x-occi-authorize")
    assert token not in elsewhere and token_digest(token) not in elsewhere


@pytest.mark.parametrize("accept", ["application/json", "text/plain", "text/occi"])
def test_discovery_shows_no_secret_value(security, alice, accept):
    response = security.client.simulate_get("/-/", headers={**bearer(alice["token"]), "Accept": accept})
    assert response.status_code == 200
    shown = _everything(response)
    for secret in alice["forbidden"][:4]:
        assert secret not in shown
    assert "$argon2" not in shown
    assert "occi.user.password" in shown                  # declared (clients must send it), not valued


def test_discovery_marks_secrets_write_only_without_defaults(security, alice):
    response = security.client.simulate_get("/-/", headers={**bearer(alice["token"]), "Accept": "application/json"})
    kinds = {k["term"]: k for k in response.json["kinds"]}
    password = kinds["user"]["attributes"]["occi.user.password"]
    digest = kinds["authorization"]["attributes"]["occi.authorization.digest"]
    for described in (password, digest):
        assert described["description"].endswith("(write-only)") and "default" not in described
    assert password["required"] is True
    # The others are not write-only.
    assert not kinds["user"]["attributes"]["occi.user.name"]["description"].endswith("(write-only)")
    assert USER.attribute_map["occi.user.password"].secret and AUTHORIZATION.attribute_map[
        "occi.authorization.digest"].secret


@pytest.mark.parametrize("name,collection", [("occi.user.password", "/user/"),
                                             ("occi.authorization.digest", "/authorization/")])
def test_filtering_on_a_secret_is_refused(security, alice, name, collection):
    value = alice["forbidden"][1] if name == "occi.user.password" else token_digest(alice["token"])
    for filter_value in (value, "x"):
        response = security.client.simulate_get(collection, headers={
            **bearer(alice["token"]), "X-OCCI-Attribute": f'{name}="{filter_value}"'})
        assert response.status_code == 400, response.text
        assert "write-only" in response.text and "bad-filter" in response.text
    # Filtering on an ordinary attribute works: the refusal is about secrets.
    ordinary = security.client.simulate_get("/user/", headers={
        **bearer(alice["token"]), "X-OCCI-Attribute": 'occi.user.name="alice"', "Accept": "text/uri-list"})
    assert ordinary.status_code == 200 and ordinary.text.strip().endswith("/user/alice")


def test_a_bulk_delete_cannot_filter_on_a_secret(security, alice):
    response = security.client.simulate_delete("/authorization/", headers={
        **bearer(alice["token"]), "X-OCCI-Attribute": f'occi.authorization.digest="{token_digest(alice["token"])}"'})
    assert response.status_code == 400
    assert security.tokens()                   # nothing went


def test_a_client_cannot_set_a_token_digest(security):
    response = security.post_entity("/authorization/", AUTHORIZATION_KIND,
                                    {"occi.authorization.digest": token_digest("acc_chosen")})
    assert response.status_code == 400 and "maintained by the server" in response.text
    assert security.tokens() == []
