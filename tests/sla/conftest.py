"""The sla component in-process, built as ``accords serve sla`` builds it (broker.cli.serve.build_app:
create_app, then the component's routes), with callers of two accounts and every role that matters."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import falcon.testing
import pytest

from broker import components
from occi.auth import StaticCredentials
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store

__all__ = ["OCCI_JSON", "XML", "CUSTOMER_SLA", "Caller", "path", "sla_app"]

OCCI_JSON = "application/occi+json"
XML = "application/xml"

#: CORDS.md §9.4 with the conditions restricted and a second guarantee.
CUSTOMER_SLA = b"""<?xml version="1.0" encoding="UTF-8"?>
<agreement xmlns="http://www.compatibleone.fr/schemes/slam.xsd" name="accords-platform"
    initiator="jamie" responder="accords" serviceprovider="responder"
    initiation="now" expiration="never" template="none">
  <terms name=":services" type="services">
    <term name=":service1"><manifest name="accords:platform"/></term>
  </terms>
  <terms name=":conditions" type="conditions">
    <term name=":condition1">
      <variable name=":v1" property="occi.placement.algorithm" condition="eq" value="quota:zone"/>
      <variable name=":v2" property="occi.placement.zone" condition="eq" value="europe" location="web"/>
    </term>
  </terms>
  <terms name=":guarantees" type="guarantees">
    <term name=":guarantee3">
      <guarantee name=":g3" obligated="provider" importance="normal" scope="default">
        <variable name=":gv3" property="user:count" condition="notgreater" value="1"/>
        <business name=":bv3r" nature="reward" expression="cordscript:packet.consume();"/>
        <business name=":bv3p" nature="penalty" expression="cordscript:alert.new();"/>
      </guarantee>
      <guarantee name=":up" scope="=web,!db">
        <variable name=":uv" property="availability" condition="ge" value="99.5"/>
        <business name=":pen" nature="BOTH" expression="cordscript:alert.new();"/>
      </guarantee>
    </term>
  </terms>
</agreement>
"""

#: token -> (account, user, roles)
PRINCIPALS = {
    "alice": ("hospital-a", "alice", {"provider"}),
    "bob": ("hospital-b", "bob", {"provider"}),
    "ccmp": ("hospital-a", "ccmp-a", {"ccmp"}),
    "auditor": ("audit", "auditor", {"auditor"}),
    "operator": ("ops", "operator", {"operator"}),
    "agent": ("hospital-a", "agent-a", {"agent"}),
}


def path(url: str) -> str:
    return urlsplit(url).path


@dataclass
class Caller:
    app: object
    client: falcon.testing.TestClient
    token: str

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def submit(self, body: bytes, *, content_type: str = XML, **params):
        params.setdefault("name", "sla.xml")
        return self.client.simulate_post("/submit", params=params, body=body,
                                         headers=self._headers({"Content-Type": content_type}))

    def get(self, url: str, accept: str = OCCI_JSON):
        return self.client.simulate_get(path(url), headers=self._headers({"Accept": accept}))

    def post(self, url: str, body: dict):
        parts = urlsplit(url)
        return self.client.simulate_post(parts.path, query_string=parts.query, json=body,
                                         headers=self._headers({"Content-Type": OCCI_JSON, "Accept": OCCI_JSON}))

    def delete(self, url: str):
        return self.client.simulate_delete(path(url), headers=self._headers({"Accept": OCCI_JSON}))

    def locations(self, collection: str) -> list[str]:
        listed = self.client.simulate_get(collection, headers=self._headers({"Accept": "text/uri-list"}))
        assert listed.status_code == 200, listed.text
        return [line for line in listed.text.splitlines() if line.strip()]

    def term_mixins(self) -> list[dict]:
        found = self.client.simulate_get("/-/", headers=self._headers({"Accept": OCCI_JSON})).json
        return [m for m in found["mixins"] if "/agreement/term/" in m["scheme"]]


def sla_app(tmp_path):
    component = components.load("sla")
    store = open_store(tmp_path / "sla.db")
    credentials = StaticCredentials()
    for token, (account, name, roles) in PRINCIPALS.items():
        credentials.add_token(token, Principal(account=account, name=name, roles=frozenset(roles)))
    app = create_app(model=component.model, store=store, hooks=component.hooks, authenticator=credentials,
                     policy=component.policy, component="sla")
    component.routes(app, store, None)
    return app, store


@pytest.fixture
def callers(tmp_path) -> dict[str, Caller]:
    app, store = sla_app(tmp_path)
    client = falcon.testing.TestClient(app)
    yield {token: Caller(app, client, token) for token in PRINCIPALS}
    store.close()


@pytest.fixture
def alice(callers) -> Caller:
    return callers["alice"]
