"""Who may do what on every component: every route × every role × its own and another account.

The expected outcome of each request comes from :data:`ACCESS`, a table written by hand from
the platform's authorization rules, never from the components' policy objects: a policy that
drifts from the rules fails here, and the test id names the component, the route, the role
and the account (``own``: the account that owns every seeded entity; ``other``: another one).

Routes: discovery (both paths), user mixins (POST and DELETE /-/), the root, every kind's
collection (GET, POST) and seeded entity (GET, POST, PUT, DELETE, each action), every mixin's
collection, mixin membership (POST, PUT, DELETE on a user mixin), security's /introspect
and /whoami, and provisioning's /drift and /preview. Collection-wide DELETE and actions on
collections are not in the matrix.

Each component runs in-process (its own model, hooks, policy and extra routes) over SQLite.
It is seeded once per module by an admin of account ``a`` (one entity of every kind, a user
mixin that tags the seeded resource and one that tags nothing); a request that should change
something gets a fresh copy of that database, the others share one (see :class:`Seeded`).
"""
from __future__ import annotations

import functools
import itertools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from falcon import testing

from broker import components
from broker.roles import SERVICE, roles
from occi.auth import StaticCredentials
from occi.model.category import Action
from occi.model.core import LINK, RESOURCE
from occi.security.model import ROLES
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store

JSON_TYPE = "application/occi+json"
URI_LIST = "text/uri-list"
#: Every seeded entity belongs to OWN; OTHER is another account with the same roles.
OWN, OTHER = "a", "b"
ACCOUNTS = {"own": OWN, "other": OTHER}
ROLE_NAMES = ("admin", "provider", "ccmp", "auditor", "operator", "agent", "service")
COMPONENTS = ("publisher", "security", "provisioning", "parser", "broker", "sla", "monitors", "placement")

# -- the rules, by hand ------------------------------------------------------------------------
#: What a role may do with a kind: nothing; read its own account's entities or every account's;
#: read and write its own account's, or every account's; read and write what its own user
#: created (personal kinds, e.g. tokens; every seeded entity was created by admin-a).
NONE, READ_OWN, READ_ALL, WRITE_OWN, WRITE_ALL = "none", "read-own", "read-all", "write-own", "write-all"
WRITE_PERSONAL = "write-personal"
#: Read every account's entities, write only its own account's (operators on offers and metrics).
WRITE_OWN_READ_ALL = "write-own-read-all"
#: The row for everything a component has no special rule for: its kinds, the root and mixin
#: collections, and user mixins (POST and DELETE /-/).
ANY = "*"


def _everyone(level: str, **exceptions: str) -> dict[str, str]:
    return {role: exceptions.get(role, level) for role in ROLE_NAMES}


ACCESS: dict[str, dict[str, dict[str, str]]] = {
    # Resolution works for everybody; components and operators publish.
    "publisher": {ANY: _everyone(READ_ALL, admin=WRITE_ALL, operator=WRITE_ALL, service=WRITE_ALL)},
    # Providers and the CCMP order workloads for their account; operators watch all of them.
    "provisioning": {ANY: dict(admin=WRITE_ALL, provider=WRITE_OWN, ccmp=WRITE_OWN, auditor=NONE, operator=READ_ALL,
                               agent=NONE, service=WRITE_ALL),
                     # Events and instructions: the reconciler writes them, clients only read.
                     "record": dict(admin=WRITE_ALL, provider=READ_OWN, ccmp=READ_OWN, auditor=NONE,
                                    operator=READ_ALL, agent=NONE, service=READ_ALL),
                     # Providers (clouds and their credentials): operators run their account's, components
                     # read them all; the accounts that deploy neither see nor change them.
                     "provider": dict(admin=WRITE_ALL, provider=NONE, ccmp=NONE, auditor=NONE,
                                      operator=WRITE_OWN_READ_ALL, agent=NONE, service=READ_ALL)},
    # Manifests: as provisioning (providers and the CCMP submit them, operators watch them all).
    "parser": {ANY: dict(admin=WRITE_ALL, provider=WRITE_OWN, ccmp=WRITE_OWN, auditor=NONE, operator=READ_ALL,
                         agent=NONE, service=WRITE_ALL)},
    # Plans: as the manifests they come from.
    "broker": {ANY: dict(admin=WRITE_ALL, provider=WRITE_OWN, ccmp=WRITE_OWN, auditor=NONE, operator=READ_ALL,
                         agent=NONE, service=WRITE_ALL)},
    # Agreements: auditors and operators check every account's.
    "sla": {ANY: dict(admin=WRITE_ALL, provider=WRITE_OWN, ccmp=WRITE_OWN, auditor=READ_ALL, operator=READ_ALL,
                      agent=NONE, service=WRITE_ALL)},
    # Node agents report their account's measurements; everybody else reads them.
    "monitors": {ANY: dict(admin=WRITE_ALL, provider=READ_OWN, ccmp=READ_OWN, auditor=READ_ALL, operator=READ_ALL,
                           agent=WRITE_OWN, service=WRITE_ALL),
                 # Metric definitions: operators define their account's; agents only read them.
                 "metric": dict(admin=WRITE_ALL, provider=READ_OWN, ccmp=READ_OWN, auditor=READ_ALL,
                                operator=WRITE_OWN_READ_ALL, agent=READ_OWN, service=WRITE_ALL)},
    # Offers are public to those who choose: operators manage their account's, components all.
    "placement": {ANY: dict(admin=WRITE_ALL, provider=READ_ALL, ccmp=READ_ALL, auditor=READ_ALL,
                            operator=WRITE_OWN_READ_ALL, agent=NONE, service=WRITE_ALL)},
    # Accounts and users: admins write, everyone reads their own account's; a token is its user's.
    # Anything else there (core resources, links, user mixins) only admins write.
    "security": {"account": _everyone(READ_OWN, admin=WRITE_ALL), "user": _everyone(READ_OWN, admin=WRITE_ALL),
                 "authorization": _everyone(WRITE_PERSONAL, admin=WRITE_ALL),
                 ANY: _everyone(READ_OWN, admin=WRITE_ALL)},
}


def reads(level: str) -> bool:
    return level != NONE


def writes(level: str) -> bool:
    return level in (WRITE_OWN, WRITE_ALL, WRITE_PERSONAL, WRITE_OWN_READ_ALL)


def may_read(level: str, account: str) -> bool:
    """May read the seeded entities (account a's, created by admin-a)."""
    if level == WRITE_PERSONAL:
        return False                  # admin-a's own: only admins (who see all) reach them
    return reads(level) and (account == OWN or level in (READ_ALL, WRITE_ALL, WRITE_OWN_READ_ALL))


def may_write(level: str, account: str) -> bool:
    """May change the seeded entities."""
    if level == WRITE_PERSONAL:
        return False
    return writes(level) and (account == OWN or level == WRITE_ALL)


# -- what gets seeded --------------------------------------------------------------------------
@dataclass(frozen=True)
class Seed:
    name: str
    kind: str                                  # type id
    attributes: dict = field(default_factory=dict)
    source: str | None = None                  # links: the seed they start at ...
    target: str | None = None                  # ... and the one they point to
    access: str = ANY                          # its row of ACCESS
    routed: bool = True                        # False: set-up only (other accounts, users of the principals)
    fresh: dict | None = None                  # attributes of a new one (POST to the collection), if not the same


INFRA = "http://schemas.ogf.org/occi/infrastructure#"
SLA = "http://schemas.ogf.org/occi/sla#"
MONITORING = "http://schemas.ogf.org/occi/monitoring#"
COMPATIBLE = "http://scheme.compatibleone.fr/scheme/compatible#"
PASSWORD = "a-fine-password"


def _principal_user(role: str, account: str) -> Seed:
    """The security user behind a principal: tokens and password changes are a user's own."""
    return Seed(f"user-{role}-{account}", COMPATIBLE + "user", {
        "occi.user.name": f"{role}-{account}", "occi.user.password": PASSWORD, "occi.user.account": account,
        "occi.user.roles": [role]}, access="user", routed=False)


_CORE = (Seed("resource", RESOURCE.type_id),)

SEEDS: dict[str, tuple[Seed, ...]] = {
    "publisher": (
        Seed("publication", COMPATIBLE + "publication",
             {"occi.publication.what": "compute", "occi.publication.why": "http://provisioning.example:8080"}),
        *_CORE, Seed("link", LINK.type_id, source="resource", target="publication")),
    "provisioning": (
        Seed("compute", INFRA + "compute", {"occi.compute.hostname": "node-a"}),
        Seed("storage", INFRA + "storage", {"occi.storage.size": 10}),
        Seed("network", INFRA + "network"),
        Seed("networkinterface", INFRA + "networkinterface", source="compute", target="network"),
        Seed("storagelink", INFRA + "storagelink", {"occi.storagelink.deviceid": "/dev/vdb"},
             source="compute", target="storage"),
        # No reconciler runs here: a contract stays pending whatever is asked of it.
        Seed("contract", COMPATIBLE + "contract", {"occi.contract.name": "n", "occi.contract.node": {"name": "n"}}),
        Seed("event", COMPATIBLE + "event", {"occi.event.what": "create"}, access="record"),
        Seed("instruction", COMPATIBLE + "instruction", {"occi.instruction.method": "system"}, access="record"),
        # A provider's name is its location: a second one (the matrix's POST) needs another.
        Seed("provider", "http://accords.example/occi/provisioning#provider",
             {"occi.provider.name": "cloud-a", "occi.provider.driver": "local"}, access="provider",
             fresh={"occi.provider.name": "cloud-b", "occi.provider.driver": "local"}),
        *_CORE, Seed("link", LINK.type_id, source="resource", target="compute")),
    "parser": (
        # Manifest names are unique on the platform: a second one (the matrix's POST) needs another.
        Seed("manifest", COMPATIBLE + "manifest", {"occi.manifest.name": "any", "occi.manifest.account": OWN},
             fresh={"occi.manifest.name": "other", "occi.manifest.account": OWN}),
        Seed("node", COMPATIBLE + "node", {"occi.node.name": "any", "occi.node.access": "public"}),
        *(Seed(term, COMPATIBLE + term) for term in (
            "infrastructure", "compute", "storage", "volume", "network", "endpoint", "port", "image", "system",
            "package", "configuration", "release", "interface", "action", "security", "firewall")),
        *_CORE, Seed("link", LINK.type_id, source="manifest", target="node")),
    "broker": (
        Seed("plan", COMPATIBLE + "plan", {"occi.plan.name": "any", "occi.plan.compiled": {
            "manifest": "any", "nodes": [{"name": "n", "type": "simple", "access": "private", "scope": "normal",
                                          "provider": "any", "operator": "any"}],
            "order": ["n"], "edges": [], "instructions": {}}}),
        Seed("service", COMPATIBLE + "service", {"occi.service.plan": "{plan}"}),
        *_CORE, Seed("link", LINK.type_id, source="resource", target="plan")),
    "sla": (
        Seed("agreement", SLA + "agreement"),
        Seed("cords_agreement", COMPATIBLE + "agreement", {"occi.agreement.name": "accords-platform"}),
        *(Seed(term, COMPATIBLE + term) for term in (
            "terms", "term", "variable", "guarantee", "business", "control", "penalty")),
        *_CORE, Seed("agreement_link", SLA + "agreement_link", source="agreement", target="resource"),
        Seed("link", LINK.type_id, source="resource", target="agreement")),
    "monitors": (
        Seed("sensor", MONITORING + "sensor", {"occi.sensor.period": 60}),
        # Names are unique per kind: a second one (the matrix's POST) needs another.
        Seed("metric", COMPATIBLE + "metric", {"occi.metric.name": "cpu:idle"}, access="metric",
             fresh={"occi.metric.name": "cpu:busy"}),
        *_CORE, Seed("collector", MONITORING + "collector", {"occi.collector.period": 60}, source="sensor",
                     target="resource"),
        Seed("link", LINK.type_id, source="resource", target="sensor")),
    "placement": (
        Seed("price", COMPATIBLE + "price", {"occi.price.name": "openstack", "occi.price.rate": 20},
             fresh={"occi.price.name": "opennebula", "occi.price.rate": 18}),
        Seed("geolocation", COMPATIBLE + "geolocation", {"occi.geolocation.zone": "europe"}),
        Seed("quota", COMPATIBLE + "quota", {"occi.quota.property": "occi.compute.cores", "occi.quota.offered": 30}),
        Seed("provider", COMPATIBLE + "provider", {"occi.provider.name": "osprocci"},
             fresh={"occi.provider.name": "onprocci"}),
        *_CORE, Seed("link", LINK.type_id, source="provider", target="quota")),
    "security": (
        Seed("account", COMPATIBLE + "account", {"occi.account.name": OWN}, access="account",
             fresh={"occi.account.name": "new-account"}),
        Seed("account-other", COMPATIBLE + "account", {"occi.account.name": OTHER}, access="account", routed=False),
        *(_principal_user(role, account) for role in ROLE_NAMES for account in (OWN, OTHER)),
        Seed("user", COMPATIBLE + "user", {"occi.user.name": "target", "occi.user.password": PASSWORD,
                                           "occi.user.account": OWN, "occi.user.roles": ["provider"]},
             access="user", fresh={"occi.user.name": "new-user", "occi.user.password": PASSWORD,
                                   "occi.user.account": OWN, "occi.user.roles": ["provider"]}),
        Seed("authorization", COMPATIBLE + "authorization", access="authorization"),
        *_CORE, Seed("link", LINK.type_id, source="resource", target="account")),
}

#: A user mixin that tags the seeded resource (its collection is listed), one that tags nothing
#: (removed and associated by the matrix), and one that only the matrix creates.
TAGS = "http://hospital.example/tags#"
TAG, SPARE, NEW_TAG = ({"term": term, "scheme": TAGS, "location": f"/{term}/"} for term in ("tag", "spare", "label"))

#: The outcome of each action for a principal allowed to run it, on the entity as seeded:
#: 400 (action-not-applicable) when the seeded state does not allow it.
ACTION_OUTCOME = {
    ("compute", "start"): 200, ("compute", "stop"): 400, ("compute", "restart"): 400, ("compute", "suspend"): 400,
    # A compute's image cannot be saved yet (501); its node is not running here (no reconciler).
    ("compute", "save"): 501,
    ("storage", "online"): 200, ("storage", "offline"): 400,
    ("network", "up"): 200, ("network", "down"): 400,
    ("networkinterface", "up"): 200, ("networkinterface", "down"): 400,
    ("agreement", "accept"): 200, ("agreement", "reject"): 200, ("agreement", "suspend"): 400,
    ("agreement", "resume"): 400, ("agreement", "terminate"): 200,
    ("publication", "heartbeat"): 200,
    # The seeded firewall names no node: there is nothing to build it from.
    ("firewall", "build"): 409,
    ("plan", "instance"): 200,
    # The seeded service is deploying (its contracts stay pending: no reconciler runs).
    ("service", "start"): 400, ("service", "stop"): 200, ("service", "restart"): 400, ("service", "delete"): 200,
    # Only the provisioning component reports, and a report without parameters is incomplete.
    ("service", "report"): 400,
    # Scaling and images apply to a service that runs (the seeded one is deploying).
    ("service", "scaleup"): 400, ("service", "scaledown"): 400, ("service", "snapshot"): 400,
    ("service", "save"): 400,
    # Contract actions say what the node should be; asking again changes nothing.
    ("contract", "start"): 200, ("contract", "stop"): 200, ("contract", "restart"): 200,
    ("contract", "delete"): 200,
    # attach and detach need the service (400 without); the seeded node is not made (no reconciler).
    ("contract", "attach"): 400, ("contract", "detach"): 400, ("contract", "snapshot"): 409,
    ("contract", "save"): 409,
    # Without a worker's providers (no reconciler here) the check records that it could not run.
    ("provider", "check"): 200,
    # CORDS actions are the serving component's hooks; until they exist they change nothing.
    ("cords_agreement", "instance"): 200,
    ("control", "start"): 200, ("control", "stop"): 200, ("control", "verify"): 200,
    ("account", "disable"): 200, ("account", "enable"): 400,
    ("user", "disable"): 200, ("user", "enable"): 400, ("user", "password"): 200,
    ("authorization", "revoke"): 200,
}
#: Parameters an action needs (an admin resets a password without the current one).
ACTION_PARAMETERS = {("user", "password"): {"password": "another-fine-password"}}
#: A DELETE that an allowed principal gets refused for reasons of its own: account a still has users.
DELETE_OUTCOME = {("security", "account"): 409,
                  # A contract is forgotten only once its node is deleted (?action=delete first).
                  ("provisioning", "contract"): 409,
                  # A service is forgotten only once its nodes are deleted (?action=delete first).
                  ("broker", "service"): 409}


@functools.cache
def load(component: str):
    """The component as it is served (model, hooks, policy, routes); built once per run."""
    return components.load(component)


# -- routes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    path: str                  # "{seed}" stands for the seeded entity's location
    seed: str | None = None    # the seed the route works on (its row of ACCESS), if any
    action: Action | None = None
    listed: str | None = None  # listings: the seed whose presence is checked

    @property
    def changes(self) -> bool:
        return self.method not in ("GET", "HEAD")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def routes(component: str) -> list[Route]:
    model = load(component).model
    found = [Route("discover", "GET", "/-/"), Route("discover", "GET", "/.well-known/org/ogf/occi/-/"),
             Route("add-mixin", "POST", "/-/"), Route("remove-mixin", "DELETE", "/-/"),
             Route("list", "GET", "/", listed="resource")]
    for seed in SEEDS[component]:
        if not seed.routed:
            continue
        kind = model.get(seed.kind)
        entity = "{" + seed.name + "}"
        found += [Route("list", "GET", kind.location, seed.name, listed=seed.name),
                  Route("create", "POST", kind.location, seed.name),
                  Route("read", "GET", entity, seed.name), Route("update", "POST", entity, seed.name),
                  Route("replace", "PUT", entity, seed.name), Route("delete", "DELETE", entity, seed.name)]
        found += [Route("action", "POST", f"{entity}?action={action.term}", seed.name, action=action)
                  for action in kind.actions]
    found += [Route("list", "GET", mixin.location) for mixin in model.mixins if mixin.location]
    # Mixin membership: tag the seeded resource, make it the only member, untag it.
    found += [Route("list", "GET", TAG["location"], listed="resource"),
              Route("associate", "POST", SPARE["location"], "resource"),
              Route("replace-members", "PUT", SPARE["location"], "resource"),
              Route("dissociate", "DELETE", TAG["location"], "resource")]
    if component == "security":
        found += [Route("introspect", "POST", "/introspect"), Route("whoami", "GET", "/whoami")]
    if component == "provisioning":
        found += [Route("drift", "GET", "/drift?contract={contract}", "contract"), Route("preview", "POST", "/preview")]
    return found


# -- expectations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    status: int
    code: str | None = None        # the error code of a 403 (None: not checked)
    visible: bool | None = None    # listings: whether the seeded entity is in it


def _refused(*, role_level: bool) -> Expected:
    """403, for want of a role (role-forbidden) or because the entity is another account's."""
    return Expected(403, "owner-forbidden" if role_level else "role-forbidden")


def expected(component: str, route: Route, role: str, account: str) -> Expected:
    seed = next((s for s in SEEDS[component] if s.name == route.seed), None)
    level = ACCESS[component][seed.access if seed else ANY][role]
    operation = route.operation
    if operation in ("discover", "whoami"):
        return Expected(200)
    if operation == "introspect":
        return Expected(200) if role in ("admin", "service") else Expected(403, "role-forbidden")
    # Provisioning's questions: whoever reads the contract (here no reconciler answers them: 503).
    if operation == "drift":
        if not may_read(level, account):
            return _refused(role_level=reads(level))
        return Expected(503, "no-reconciler")
    if operation == "preview":
        return Expected(503, "no-reconciler") if reads(level) else Expected(403, "role-forbidden")
    if operation == "list":
        if not reads(level):
            return Expected(403, "role-forbidden")
        return Expected(200, visible=may_read(level, account) if route.listed else None)
    if operation == "add-mixin":
        return Expected(200) if writes(level) else Expected(403, "role-forbidden")
    if operation == "create":
        if not writes(level):
            return Expected(403, "role-forbidden")
        # A new link starts at the seeded resource: another account's unless the role writes all.
        # So does a service of the seeded plan.
        if (seed.source is not None or seed.name == "service") and not may_write(level, account):
            return Expected(403, "owner-forbidden")
        return Expected(201)
    if operation == "read":
        return Expected(200) if may_read(level, account) else _refused(role_level=reads(level))
    if operation == "action" and (seed.name, route.action.term) == ("service", "report"):
        # Only the provisioning component (service) reports; a report without parameters is a 400.
        return Expected(400) if role in ("admin", "service") else Expected(403, "role-forbidden")
    if operation == "action" and (seed.name, route.action.term) == ("user", "password"):
        # Open to every role, but only on one's own user: the target is nobody's but admins'.
        if role == "admin":
            return Expected(200)
        return Expected(403, "role-forbidden" if account == OWN else "owner-forbidden")
    # update, replace, delete, action, remove-mixin, and mixin membership
    if not may_write(level, account):
        return _refused(role_level=writes(level))
    if operation == "delete":
        return Expected(DELETE_OUTCOME.get((component, seed.name), 200))
    if operation == "action":
        return Expected(ACTION_OUTCOME[(seed.name, route.action.term)])
    return Expected(200)


# -- the platform under test ----------------------------------------------------------------------
def _principal(role: str, account: str) -> Principal:
    return Principal(account=account, name=f"{role}-{account}", roles=frozenset({role}))


def _token(role: str, account: str) -> str:
    return f"token-{role}-{account}"


def _credentials() -> StaticCredentials:
    credentials = StaticCredentials()
    for role in ROLE_NAMES:
        for account in (OWN, OTHER):
            credentials.add_token(_token(role, account), _principal(role, account))
    return credentials


#: The peers of the components that act at others (the broker creates contracts at provisioning):
#: a real publisher and provisioning component on loopback (no reconciler: contracts stay
#: pending), started for the module by :func:`peers`.
PEERS: dict[str, object] = {}


@pytest.fixture(scope="module", autouse=True)
def peers(tmp_path_factory):
    from broker.components import Peers
    from broker.platform import StaticToken
    from broker.provisioning.model import CONTRACT
    from occi.publisher.client import PublisherClient
    from tests.livehttp import serve_wsgi

    folder = tmp_path_factory.mktemp("peers")
    stores, stops = [], []
    urls = {}
    for name in ("publisher", "provisioning"):
        component = load(name)
        stores.append(open_store(folder / f"{name}.db"))
        app = create_app(model=component.model, store=stores[-1], hooks=component.hooks, policy=component.policy,
                         authenticator=_credentials(), component=name)
        urls[name], stop = serve_wsgi(app)
        stops.append(stop)
    PublisherClient(urls["publisher"], token=_token("service", OWN)).publish(
        identity="provisioning", base_url=urls["provisioning"], kinds=[CONTRACT])
    PEERS["peers"] = Peers(publisher=urls["publisher"], credentials=StaticToken(_token("service", OWN)))
    yield
    PEERS.clear()
    for stop in stops:
        stop()
    for store in stores:
        store.close()


class Platform:
    """One component's app over one store, called with the principals' tokens."""

    def __init__(self, component: str, database: Path):
        self.component = load(component)
        self.store = open_store(database)
        app = create_app(model=self.component.model, store=self.store, hooks=self.component.hooks,
                         policy=self.component.policy, authenticator=_credentials(), component=component)
        if self.component.routes is not None:
            self.component.routes(app, self.store)
        if self.component.attach is not None and component != "provisioning":   # no reconciler here
            self.component.attach(self.store, PEERS["peers"])
        self.client = testing.TestClient(app)

    def call(self, role: str, account: str, method: str, path: str, body=None, *, accept: str = JSON_TYPE):
        headers = {"Authorization": f"Bearer {_token(role, account)}", "Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json" if path in ("/introspect", "/preview") else JSON_TYPE
        result = self.client.simulate_request(method, path, headers=headers,
                                              body=json.dumps(body) if body is not None else None)
        # 501 is a 5xx a route may answer on purpose (an action declared but not built yet), and
        # 503 no-publisher one a component without peers answers when it needs them.
        assert result.status_code < 500 or result.status_code == 501 or (
            result.status_code == 503 and ("no-publisher" in result.text or "no-reconciler" in result.text)), \
            f"{method} {path} as {role}-{account}: {result.text}"
        return result

    def close(self) -> None:
        self.store.close()


def _path(location: str) -> str:
    return urlsplit(location).path


def _resolve(attributes: dict, locations: dict[str, str]) -> dict:
    """``{seed}`` values stand for the location of that seed (a service names its plan)."""
    return {name: locations[value[1:-1]] if isinstance(value, str) and value[:1] == "{" and value[-1:] == "}"
            else value for name, value in attributes.items()}


def _seed(platform: Platform) -> dict[str, str]:
    """Every seed of the component, created by the admin of account a; name -> location."""
    admin = ("admin", OWN)
    for mixin in (TAG, SPARE):
        assert platform.call(*admin, "POST", "/-/", {"mixins": [mixin]}).status_code == 200
    locations: dict[str, str] = {}
    model = platform.component.model
    for seed in SEEDS[platform.component.name]:
        body = {"kind": seed.kind, "attributes": _resolve(seed.attributes, locations)}
        if seed.source is not None:
            body["source"], body["target"] = locations[seed.source], locations[seed.target]
        made = platform.call(*admin, "POST", model.get(seed.kind).location, body)
        assert made.status_code == 201, f"seeding {seed.name}: {made.text}"
        locations[seed.name] = _path(made.headers["Location"])
    tagged = platform.call(*admin, "POST", TAG["location"], {"locations": [locations["resource"]]})
    assert tagged.status_code == 200, tagged.text
    return locations


def _copy(database: Path, to: Path) -> Path:
    shutil.copyfile(database, to)
    return to


class Seeded:
    """A component's seeded database, and a shared platform over a copy of it.

    Requests that change nothing, or should be refused, use the shared platform (a refused
    request is checked to have changed nothing); requests that may change something get a
    fresh copy. Should a request meant to be refused have got through, the shared copy is
    replaced, so that one wrong answer does not spill into the other cases.
    """

    def __init__(self, component: str, folder: Path):
        self.component, self.folder = component, folder
        self.database = folder / "seed.db"
        seeding = Platform(component, self.database)
        self.locations = _seed(seeding)
        seeding.close()                  # checkpoints SQLite's WAL: the file alone is the seed
        self._resets = itertools.count()
        self.shared = self._shared_copy()

    def _shared_copy(self) -> Platform:
        # A new name each time: a copy never lands next to an old copy's WAL.
        return Platform(self.component, _copy(self.database, self.folder / f"shared-{next(self._resets)}.db"))

    def fresh(self, folder: Path) -> Platform:
        return Platform(self.component, _copy(self.database, folder / f"{self.component}.db"))

    def reset_shared(self) -> None:
        self.shared.close()
        self.shared = self._shared_copy()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """component -> its :class:`Seeded` database, seeded on first use."""
    made: dict[str, Seeded] = {}

    def get(component: str) -> Seeded:
        if component not in made:
            made[component] = Seeded(component, tmp_path_factory.mktemp(component))
        return made[component]

    yield get
    for each in made.values():
        each.shared.close()


@pytest.fixture
def fresh(seeded, tmp_path):
    """component -> a platform over a fresh copy of its seed, closed (and its copy removed) after the test."""
    opened: list[Platform] = []

    def get(component: str) -> Platform:
        opened.append(seeded(component).fresh(tmp_path))
        return opened[-1]

    yield get
    for platform in opened:
        platform.close()
    for copy in tmp_path.glob("*.db*"):      # thousands of cases: keep the disk tidy
        copy.unlink()


# -- requests ---------------------------------------------------------------------------------------
def _body(component: str, route: Route, locations: dict[str, str]):
    seed = next((s for s in SEEDS[component] if s.name == route.seed), None)
    model = load(component).model
    if route.operation == "add-mixin":
        return {"mixins": [NEW_TAG]}
    if route.operation == "remove-mixin":
        return {"mixins": [{"term": SPARE["term"], "scheme": SPARE["scheme"]}]}
    if route.operation in ("associate", "replace-members", "dissociate"):
        return {"locations": [locations["resource"]]}
    if route.operation == "introspect":
        return {"token": "not-a-token-of-anybody"}
    if route.operation == "preview":
        return {"nodes": [{"name": "n"}]}
    if route.operation == "create":
        body = {"kind": seed.kind,
                "attributes": _resolve(seed.fresh if seed.fresh is not None else seed.attributes, locations)}
        if seed.source is not None:
            body["source"], body["target"] = locations[seed.source], locations[seed.target]
        return body
    if route.operation == "update":
        return {"kind": seed.kind, "attributes": {"occi.core.title": "renamed"}}
    if route.operation == "replace":
        definitions = model.get(seed.kind).attribute_map
        kept = {name: value for name, value in _resolve(seed.attributes, locations).items() if definitions[name].mutable}
        return {"kind": seed.kind, "attributes": {**kept, "occi.core.title": "replaced"}}
    if route.operation == "action":
        return {"action": route.action.type_id,
                "attributes": ACTION_PARAMETERS.get((seed.name, route.action.term), {})}
    return None


def _error_code(result) -> str | None:
    try:
        return result.json["error"]["code"]
    except (ValueError, KeyError, TypeError):
        status, _, rest = result.text.partition(" ")
        return rest.partition(":")[0] if status.isdigit() else None


def _version(platform: Platform, location: str) -> str | None:
    """The entity's ETag as its owner's admin sees it (None: gone)."""
    result = platform.call("admin", OWN, "GET", location)
    return result.headers.get("ETag") if result.status_code == 200 else None


def _cases():
    for component in COMPONENTS:
        for route in routes(component):
            for role in ROLE_NAMES:
                for label in ACCOUNTS:
                    case = (component, route, role, label)
                    yield pytest.param(*case, id=f"{component}:{route}:{role}:{label}")


@pytest.mark.parametrize("component, route, role, label", list(_cases()))
def test_route(seeded, fresh, component, route, role, label):
    account = ACCOUNTS[label]
    want = expected(component, route, role, account)
    seed = seeded(component)
    # Only a request that should change something needs a copy of its own (see Seeded).
    platform = fresh(component) if route.changes and want.status != 403 else seed.shared
    locations = seed.locations
    path = route.path.format(**locations)
    entity = locations[route.seed] if route.seed else None     # what a refused request must leave as it was
    before = _version(platform, entity) if entity and route.changes and want.status == 403 else None
    try:
        accept = URI_LIST if route.operation == "list" else JSON_TYPE
        result = platform.call(role, account, route.method, path, _body(component, route, locations), accept=accept)

        assert result.status_code == want.status, f"{result.status_code}, not {want.status}: {result.text}"
        if want.code is not None:
            assert _error_code(result) == want.code, result.text
        if want.visible is not None:
            listed = {_path(line) for line in result.text.split()}
            assert (locations[route.listed] in listed) is want.visible, result.text
        if entity and route.changes and want.status == 403:
            assert _version(platform, entity) == before, "a refused request changed the entity"
        if route.operation == "delete" and want.status == 200:
            assert _version(platform, entity) is None, "the entity outlived its deletion"
    except AssertionError:
        if platform is seed.shared and route.changes:
            seed.reset_shared()
        raise


# -- the security component's own rules ----------------------------------------------------------------
NON_ADMINS = [role for role in ROLE_NAMES if role != "admin"]
PRINCIPALS = [pytest.param(role, label, id=f"{role}:{label}") for role in ROLE_NAMES for label in ACCOUNTS]


@pytest.mark.parametrize("role, label", [pytest.param(r, a, id=f"{r}:{a}") for r in NON_ADMINS for a in ACCOUNTS])
def test_users_change_their_own_password_knowing_the_current_one(fresh, role, label):
    account = ACCOUNTS[label]
    platform = fresh("security")
    own = f"/user/{role}-{account}"
    password = "http://scheme.compatibleone.fr/scheme/compatible/user/action#password"

    wrong = platform.call(role, account, "POST", f"{own}?action=password",
                          {"action": password, "attributes": {"current": "not-it-at-all", "password": "new-password"}})
    assert wrong.status_code == 403 and _error_code(wrong) == "wrong-password", wrong.text
    changed = platform.call(role, account, "POST", f"{own}?action=password",
                            {"action": password, "attributes": {"current": PASSWORD, "password": "new-password"}})
    assert changed.status_code == 200, changed.text
    # Another user of the same account is not one's own, whatever the current password.
    other = platform.call(role, account, "POST", f"/user/admin-{account}?action=password",
                          {"action": password, "attributes": {"current": PASSWORD, "password": "new-password"}})
    assert other.status_code == 403, other.text


@pytest.mark.parametrize("role, label", PRINCIPALS)
def test_users_create_read_and_delete_their_own_authorization(fresh, role, label):
    account = ACCOUNTS[label]
    platform = fresh("security")
    issued = platform.call(role, account, "POST", "/authorization/",
                           {"kind": COMPATIBLE + "authorization", "attributes": {}})
    assert issued.status_code == 201, issued.text
    assert issued.headers.get("X-OCCI-Authorize"), "the token is shown once, at creation"
    location = _path(issued.headers["Location"])
    mine = platform.call(role, account, "GET", location)
    assert mine.status_code == 200 and mine.json["attributes"]["occi.authorization.user"] == f"{role}-{account}"
    # A token is its user's: another (non-admin) user of the same account neither sees nor revokes it.
    colleague = "ccmp" if role == "provider" else "provider"
    assert platform.call(colleague, account, "GET", location).status_code == 403
    assert location not in platform.call(colleague, account, "GET", "/authorization/", accept=URI_LIST).text
    assert platform.call(colleague, account, "DELETE", location).status_code == 403
    assert platform.call(role, account, "DELETE", location).status_code == 200
    assert platform.call(role, account, "GET", location).status_code == 404


@pytest.mark.parametrize("role, label", PRINCIPALS)
def test_everyone_reads_their_own_account_and_no_other(seeded, role, label):
    account = ACCOUNTS[label]
    platform = seeded("security").shared
    assert platform.call(role, account, "GET", f"/account/{account}").status_code == 200
    elsewhere = OTHER if account == OWN else OWN
    expected_status = 200 if role == "admin" else 403
    assert platform.call(role, account, "GET", f"/account/{elsewhere}").status_code == expected_status


# -- the table covers everything --------------------------------------------------------------------------
def test_the_matrix_covers_every_role():
    assert set(ROLE_NAMES) == set(ROLES)
    for component, rows in ACCESS.items():
        for row, levels in rows.items():
            assert set(levels) == set(ROLES), f"{component} {row}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_matrix_covers_every_kind_and_action(component):
    model = load(component).model
    seeded = {seed.kind for seed in SEEDS[component] if seed.routed}
    collections = {kind.type_id for kind in model.kinds if kind.location}
    assert collections <= seeded, f"kinds without a seed: {sorted(collections - seeded)}"
    for seed in SEEDS[component]:
        if seed.routed:
            for action in model.get(seed.kind).actions:
                assert (seed.name, action.term) in ACTION_OUTCOME, f"{seed.name} {action.term}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_policies_name_only_roles_users_can_hold(component):
    policy = load(component).policy
    rules = [policy.default, *policy.kinds.values(), *policy.actions.values()]
    named = set(policy.see_all) | set(policy.read_all)
    for rule in rules:
        named |= set(rule.read or ()) | set(rule.write or ())
    assert named <= set(ROLES), f"unknown roles: {sorted(named - set(ROLES))}"


def test_role_sets_refuse_unknown_names():
    assert roles(SERVICE) == frozenset({"service"})
    with pytest.raises(ValueError, match="nurse"):
        roles(SERVICE, "nurse")
