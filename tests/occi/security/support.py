"""An in-process security component wired as ``accords serve security`` wires it, but with
an injectable clock, password hasher, address throttle and credential cache."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from falcon import testing

from occi.model import Model
from occi.security.authenticators import CredentialCache, LocalAuthenticator
from occi.security.component import POLICY, hooks
from occi.security.model import ACCOUNT, AUTHORIZATION, CATEGORIES, USER
from occi.security.passwords import default_passwords
from occi.security.service import Introspection, WhoAmI, bootstrap
from occi.security.verifier import AddressThrottle, Verifier
from occi.server import create_app
from occi.store.base import Query

__all__ = ["Clock", "Security", "basic", "bearer", "JSON", "USER_KIND", "ACCOUNT_KIND", "AUTHORIZATION_KIND"]

JSON = {"Content-Type": "application/occi+json", "Accept": "application/occi+json"}
USER_KIND, ACCOUNT_KIND, AUTHORIZATION_KIND = USER.type_id, ACCOUNT.type_id, AUTHORIZATION.type_id
_ACTIONS = {kind.location: {a.term: a for a in kind.actions} for kind in (USER, ACCOUNT, AUTHORIZATION)}


class Clock:
    """Wall-clock seconds that only move when the test says (ahead of the real time, so that
    what bootstrap wrote with the real clock is in its past)."""

    def __init__(self, now: float | None = None):
        self.now = time.time() + 60 if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class CountingIntrospection(Introspection):
    def __init__(self, verifier):
        super().__init__(verifier)
        self.calls = 0

    def on_post(self, req, resp):
        self.calls += 1
        super().on_post(req, resp)


class Security:
    """The security component over ``store``, bootstrapped (platform account, admin, services)."""

    def __init__(self, store, data: Path, *, clock=None, passwords=None, throttle=None, cache=None,
                 services=("publisher",)):
        self.store = store
        self.data = Path(data)
        self.clock = clock or Clock()
        self.passwords = passwords or default_passwords()
        self.created = bootstrap(store, data=self.data, services=list(services))
        self.throttle = throttle or AddressThrottle(clock=self.clock)
        self.verifier = Verifier(store, self.passwords, throttle=self.throttle, clock=self.clock)
        self.authenticator = LocalAuthenticator(self.verifier, cache or CredentialCache(ttl=0))
        self.app = create_app(model=Model(CATEGORIES), store=store,
                              hooks=hooks(passwords=self.passwords, clock=self.clock),
                              authenticator=self.authenticator, policy=POLICY, component="security")
        self.introspection = CountingIntrospection(self.verifier)
        self.app.add_route("/introspect", self.introspection)
        self.app.add_route("/whoami", WhoAmI())
        self.client = testing.TestClient(self.app)
        self.admin_password = self.credentials("admin")["password"]
        self.admin = basic("admin", self.admin_password)

    def credentials(self, name: str) -> dict:
        return json.loads((self.data / "credentials" / f"{name}.json").read_text())

    # -- requests ------------------------------------------------------------------------
    def post_entity(self, collection: str, kind: str, attributes: dict, auth: dict | None = None, *,
                    headers: dict | None = None, **kwargs):
        return self.client.simulate_post(collection, json={"kind": kind, "attributes": attributes},
                                         headers={**(self.admin if auth is None else auth), **JSON, **(headers or {})},
                                         **kwargs)

    def add_account(self, name: str, **attributes):
        response = self.post_entity("/account/", ACCOUNT_KIND, {"occi.account.name": name, **attributes})
        assert response.status_code == 201, response.text
        return response

    def add_user(self, name: str, password: str, *, account: str = "accords", roles=("provider",), **kwargs):
        return self.post_entity("/user/", USER_KIND, {"occi.user.name": name, "occi.user.password": password,
                                                      "occi.user.account": account, "occi.user.roles": list(roles)},
                                **kwargs)

    def user(self, name: str, password: str, **kwargs) -> dict:
        """Create a user; its Basic headers."""
        response = self.add_user(name, password, **kwargs)
        assert response.status_code == 201, response.text
        return basic(name, password)

    def login(self, auth: dict, *, ttl: int | None = None, **kwargs):
        attributes = {} if ttl is None else {"occi.authorization.ttl": ttl}
        return self.post_entity("/authorization/", AUTHORIZATION_KIND, attributes, auth, **kwargs)

    def token(self, auth: dict, *, ttl: int | None = None) -> tuple[str, str]:
        """A new token for the Basic (or other) credentials: (token, its location)."""
        response = self.login(auth, ttl=ttl)
        assert response.status_code == 201, response.text
        return response.headers["X-OCCI-Authorize"], _path(response.headers["Location"])

    def action(self, location: str, term: str, attributes: dict | None = None, auth: dict | None = None):
        body = {"action": _ACTIONS[location[:location.index("/", 1) + 1]][term].type_id}
        if attributes:
            body["attributes"] = attributes
        return self.client.simulate_post(location, params={"action": term}, json=body,
                                         headers={**(self.admin if auth is None else auth), **JSON})

    def whoami(self, auth: dict, **kwargs):
        return self.client.simulate_get("/whoami", headers=auth, **kwargs)

    def introspect(self, auth: dict | None = None, **fields):
        return self.client.simulate_post("/introspect", json=fields,
                                         headers={**(self.admin if auth is None else auth)})

    # -- the store -------------------------------------------------------------------------
    def stored(self, location: str) -> dict | None:
        with self.store.session(readonly=True) as session:
            record = session.get(location)
            return None if record is None else dict(record.attributes)

    def tokens(self, **attributes) -> list[str]:
        with self.store.session(readonly=True) as session:
            return session.list_locations(Query(kinds=[AUTHORIZATION.type_id], attributes=attributes))


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
