"""Access control: roles per kind and per operation, own and other accounts' entities, every route."""
from __future__ import annotations

import pytest
from falcon import testing

from occi.access import AccessPolicy, Rule
from occi.auth import StaticCredentials
from occi.model import Model, infrastructure, sla
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store

COMPUTE = 'compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"'
AGREEMENT = 'agreement; scheme="http://schemas.ogf.org/occi/sla#"; class="kind"'
TAG = 'tag; scheme="http://hospital.example/tags#"; class="mixin"; location="/tags/"'
PRINCIPALS = {
    "provider-a": Principal(account="a", name="alice", roles=frozenset({"provider"})),
    "provider-b": Principal(account="b", name="bob", roles=frozenset({"provider"})),
    "auditor": Principal(account="audit", name="ada", roles=frozenset({"auditor"})),
    "operator": Principal(account="ops", name="otto", roles=frozenset({"operator"})),
    "admin": Principal(account="root", name="root", roles=frozenset({"admin"})),
}
POLICY = AccessPolicy(
    default=Rule(read=frozenset({"provider", "operator"}), write=frozenset({"provider", "operator"})),
    kinds={"http://schemas.ogf.org/occi/sla#agreement": Rule(read=frozenset({"provider", "auditor"}),
                                                            write=frozenset({"provider"}))},
    read_all=frozenset({"auditor"}),
)


@pytest.fixture
def platform(tmp_path):
    credentials = StaticCredentials()
    for token, principal in PRINCIPALS.items():
        credentials.add_token(token, principal)
    app = create_app(model=Model([*infrastructure.CATEGORIES, *sla.CATEGORIES]), store=open_store(tmp_path / "a.db"),
                     authenticator=credentials, policy=POLICY)
    client = testing.TestClient(app)

    def call(who: str, method: str, path: str, **headers):
        result = client.simulate_request(method, path, headers={"Authorization": f"Bearer {who}", **headers})
        assert result.status_code < 500, result.text
        return result

    def create(who: str, category: str, location: str) -> str:
        result = call(who, "POST", location, **{"Content-Type": "text/occi", "Category": category})
        assert result.status_code == 201, result.text
        return result.headers["Location"].replace("http://falconframework.org", "")

    return call, create


# (principal, method, target, expected) where target names an entity of provider-a, or a collection.
MATRIX = [
    # provider-a owns the compute and the agreement
    ("provider-a", "GET", "compute", 200), ("provider-a", "POST", "compute", 200),
    ("provider-a", "POST", "compute?action=start", 200), ("provider-a", "DELETE", "compute", 200),
    ("provider-a", "GET", "agreement", 200),
    # another provider: same roles, other account
    ("provider-b", "GET", "compute", 403), ("provider-b", "POST", "compute", 403),
    ("provider-b", "POST", "compute?action=start", 403), ("provider-b", "DELETE", "compute", 403),
    ("provider-b", "GET", "agreement", 403),
    # the auditor reads agreements of every account, and nothing else, and changes nothing
    ("auditor", "GET", "agreement", 200), ("auditor", "POST", "agreement?action=accept", 403),
    ("auditor", "DELETE", "agreement", 403), ("auditor", "GET", "compute", 403),
    # the operator may handle computes but not other accounts' ones, and not agreements
    ("operator", "GET", "compute", 403), ("operator", "GET", "agreement", 403),
    # the admin may do everything
    ("admin", "GET", "compute", 200), ("admin", "POST", "compute?action=start", 200),
    ("admin", "GET", "agreement", 200), ("admin", "POST", "agreement?action=accept", 200),
    ("admin", "DELETE", "compute", 200),
]


@pytest.mark.parametrize("who, method, target, expected", MATRIX, ids=[f"{w}-{m}-{t}" for w, m, t, _ in MATRIX])
def test_authorization_matrix(platform, who, method, target, expected):
    call, create = platform
    owned = {"compute": create("provider-a", COMPUTE, "/compute/"),
             "agreement": create("provider-a", AGREEMENT, "/agreement/")}
    name, _, query = target.partition("?")
    path = owned[name] + (f"?{query}" if query else "")
    headers = {"Content-Type": "text/occi"} if method == "POST" else {}
    if method == "POST" and not query:
        headers["X-OCCI-Attribute"] = 'occi.compute.hostname="renamed"'
    result = call(who, method, path, **headers)
    assert result.status_code == expected, result.text
    if expected == 403:
        assert "forbidden" in result.text
        assert call("provider-a", "GET", owned[name]).status_code == 200      # untouched


@pytest.mark.parametrize("who, collection, expected", [
    ("provider-a", "/compute/", 1), ("provider-b", "/compute/", 1), ("admin", "/compute/", 2),
    ("auditor", "/agreement/", 2), ("provider-a", "/agreement/", 1), ("operator", "/compute/", 0),
])
def test_listings_show_only_what_the_principal_may_see(platform, who, collection, expected):
    call, create = platform
    for owner in ("provider-a", "provider-b"):
        create(owner, COMPUTE, "/compute/")
        create(owner, AGREEMENT, "/agreement/")
    listing = call(who, "GET", collection, Accept="text/uri-list")
    assert listing.status_code == 200
    assert len(listing.text.split()) == expected


def test_roles_without_the_kind_are_refused_on_collections(platform):
    call, create = platform
    assert call("auditor", "GET", "/compute/").status_code == 403
    refused = call("auditor", "POST", "/agreement/", **{"Content-Type": "text/occi", "Category": AGREEMENT})
    assert refused.status_code == 403 and "may not change agreement" in refused.text
    assert call("operator", "POST", "/agreement/", **{"Content-Type": "text/occi", "Category": AGREEMENT}).status_code == 403


def test_collection_operations_touch_only_the_callers_entities(platform):
    call, create = platform
    mine = create("provider-a", COMPUTE, "/compute/")
    theirs = create("provider-b", COMPUTE, "/compute/")
    assert call("provider-a", "POST", "/compute/?action=start").status_code == 200
    assert 'occi.compute.state="active"' in call("provider-a", "GET", mine).text
    assert 'occi.compute.state="inactive"' in call("provider-b", "GET", theirs).text
    assert call("provider-a", "DELETE", "/compute/").status_code == 200
    assert call("provider-a", "GET", mine).status_code == 404
    assert call("provider-b", "GET", theirs).status_code == 200


def test_links_and_mixins_cannot_reach_into_another_account(platform):
    call, create = platform
    theirs = create("provider-b", COMPUTE, "/compute/")
    storage = call("provider-a", "POST", "/storage/", **{
        "Content-Type": "text/occi", "Category": 'storage; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
        "X-OCCI-Attribute": "occi.storage.size=1"})
    link = call("provider-a", "POST", "/link/storagelink/", **{
        "Content-Type": "text/occi",
        "Category": 'storagelink; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
        "X-OCCI-Attribute": f'occi.core.source="{theirs}", occi.core.target="{storage.headers["Location"]}", '
                            'occi.storagelink.deviceid="/dev/vdb"'})
    assert link.status_code == 403 and "belongs to another account" in link.text
    assert call("provider-a", "POST", "/-/", **{"Content-Type": "text/occi", "Category": TAG}).status_code == 200
    tagged = call("provider-a", "POST", "/tags/", **{"Content-Type": "text/occi", "X-OCCI-Location": theirs})
    assert tagged.status_code == 403
    removed = call("provider-b", "DELETE", "/-/", **{"Content-Type": "text/occi", "Category": TAG})
    assert removed.status_code == 403 and "belongs to another account" in removed.text


# -- listings that span kinds, user mixins and collection actions -------------------------------------
@pytest.fixture
def colleagues(tmp_path):
    """An operator and a provider of the same account: the operator may not read agreements."""
    credentials = StaticCredentials()
    for role in ("provider", "operator", "auditor"):
        credentials.add_token(role, Principal(account="a", name=role, roles=frozenset({role})))
    app = create_app(model=Model([*infrastructure.CATEGORIES, *sla.CATEGORIES]), store=open_store(tmp_path / "c.db"),
                     authenticator=credentials, policy=POLICY)
    client = testing.TestClient(app)

    def call(who: str, method: str, path: str, **headers):
        result = client.simulate_request(method, path, headers={"Authorization": f"Bearer {who}", **headers})
        assert result.status_code < 500, result.text
        return result

    return call


def test_the_root_collection_does_not_list_kinds_the_principal_may_not_read(colleagues):
    call = colleagues
    made = call("provider", "POST", "/agreement/", **{"Content-Type": "text/occi", "Category": AGREEMENT})
    agreement = made.headers["Location"].replace("http://falconframework.org", "")
    assert call("operator", "GET", "/agreement/").status_code == 403
    assert agreement not in call("operator", "GET", "/", Accept="text/uri-list").text


def test_removing_a_user_mixin_needs_the_write_role(colleagues):
    call = colleagues
    assert call("provider", "POST", "/-/", **{"Content-Type": "text/occi", "Category": TAG}).status_code == 200
    assert call("auditor", "POST", "/-/", **{"Content-Type": "text/occi", "Category": TAG}).status_code == 403
    assert call("auditor", "DELETE", "/-/", **{"Content-Type": "text/occi", "Category": TAG}).status_code == 403


def test_an_action_on_a_collection_needs_the_write_role(colleagues):
    call = colleagues
    assert call("auditor", "POST", "/compute/?action=start").status_code == 403


def test_a_link_cannot_target_another_accounts_entity_nor_tell_it_exists(platform):
    call, create = platform
    mine = create("provider-a", COMPUTE, "/compute/")
    theirs = call("provider-b", "POST", "/storage/", **{
        "Content-Type": "text/occi", "Category": 'storage; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
        "X-OCCI-Attribute": "occi.storage.size=1"}).headers["Location"]
    answers = []
    for target in (theirs, theirs.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"):
        answers.append(call("provider-a", "POST", "/link/storagelink/", **{
            "Content-Type": "text/occi",
            "Category": 'storagelink; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
            "X-OCCI-Attribute": f'occi.core.source="{mine}", occi.core.target="{target}", '
                                'occi.storagelink.deviceid="/dev/vdb"'}))
    # Another account's storage and a storage that does not exist get the same answer.
    assert [a.status_code for a in answers] == [400, 400]
    assert all("does not exist" in a.text for a in answers)
    assert call("admin", "GET", "/link/storagelink/", Accept="text/uri-list").text.strip() == ""


def test_replacing_or_emptying_a_mixin_collection_leaves_other_accounts_members(platform):
    call, create = platform
    mine = create("provider-a", COMPUTE, "/compute/")
    theirs = create("provider-b", COMPUTE, "/compute/")
    assert call("provider-a", "POST", "/-/", **{"Content-Type": "text/occi", "Category": TAG}).status_code == 200
    assert call("admin", "POST", "/tags/", **{"Content-Type": "text/occi",
                                               "X-OCCI-Location": f"{mine}, {theirs}"}).status_code == 200
    # provider-a empties the collection: their member goes, provider-b's stays (and is not revealed).
    emptied = call("provider-a", "DELETE", "/tags/")
    assert emptied.status_code == 200
    members = call("admin", "GET", "/tags/", Accept="text/uri-list").text.split()
    assert [m.replace("http://falconframework.org", "") for m in members] == [theirs]
    # Replacing the members with one's own leaves provider-b's too.
    assert call("provider-a", "PUT", "/tags/", **{"Content-Type": "text/occi", "X-OCCI-Location": mine}).status_code == 200
    members = {m.replace("http://falconframework.org", "") for m in call("admin", "GET", "/tags/",
                                                                           Accept="text/uri-list").text.split()}
    assert members == {mine, theirs}
