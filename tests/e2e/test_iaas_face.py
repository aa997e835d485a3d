"""A plain OCCI client (requests and text/occi headers, nothing of accords) against a real
`accords serve provisioning`: the local provider's templates are discovered, a compute becomes
a real node (an agent process), stops, starts, and is deleted without leaving a node."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.cords.platform import delete_local_nodes

pytestmark = pytest.mark.e2e

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
OS_TPL = "http://accords.example/occi/templates/local/os#"
SIZE_TPL = "http://accords.example/occi/templates/local/resource#"


@pytest.fixture
def provisioning(serve):
    server = serve("provisioning")
    yield server
    delete_local_nodes(Path(server.data) / "nodes")     # whatever a failed test left running


def _headers(server, **extra) -> dict:
    return {"Authorization": f"Bearer {server.token}", **extra}


def _attributes(answer: requests.Response) -> dict[str, str]:
    """X-OCCI-Attribute values of a text/occi answer, as the strings they are rendered as."""
    header = answer.headers.get("X-OCCI-Attribute", "")
    return {name: value.strip('"') for name, value in re.findall(r'([\w.]+)=("[^"]*"|[^,]+)', header)}


def _state(server, url: str) -> dict[str, str]:
    answer = requests.get(url, headers=_headers(server, Accept="text/occi"), timeout=10)
    assert answer.status_code == 200, answer.text
    return _attributes(answer)


def _wait(server, url: str, state: str, *, timeout: float = 90) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        found = _state(server, url)
        if found.get("occi.compute.state") == state:
            return found
        assert time.monotonic() < deadline, f"the compute is still {found}"
        time.sleep(0.1)


def _act(server, url: str, term: str) -> requests.Response:
    return requests.post(url, params={"action": term}, timeout=30, headers=_headers(
        server, **{"Content-Type": "text/occi", "Category": f'{term}; scheme="{ACTIONS}"; class="action"'}))


def test_a_plain_occi_client_creates_stops_starts_and_deletes_a_real_compute(provisioning):
    server = provisioning
    model = requests.get(f"{server.url}/-/", headers=_headers(server, Accept="text/plain"), timeout=10)
    assert model.status_code == 200
    assert f'Category: local; scheme="{OS_TPL}"; class=mixin' in model.text
    assert f'Category: local; scheme="{SIZE_TPL}"; class=mixin' in model.text

    categories = (f'compute; scheme="{INFRA}"; class="kind", local; scheme="{OS_TPL}"; class="mixin", '
                  f'local; scheme="{SIZE_TPL}"; class="mixin"')
    created = requests.post(f"{server.url}/compute/", timeout=30, headers=_headers(
        server, **{"Content-Type": "text/occi", "Category": categories,
                   "X-OCCI-Attribute": 'occi.core.title="e2e"'}))
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    nodes = Path(server.data) / "nodes"

    running = _wait(server, url, "active")
    assert running["occi.compute.hostname"] == "127.0.0.1"
    reference = running["accords.node.reference"]
    assert (nodes / reference / "instance.json").exists()             # a real node of the local provider

    assert _act(server, url, "stop").status_code == 200
    assert _wait(server, url, "inactive")["accords.node.state"] == "stopped"
    assert _act(server, url, "start").status_code == 200
    assert _wait(server, url, "active")["accords.node.reference"] == reference
    refused = _act(server, url, "start")                              # active: start no longer applies
    assert refused.status_code == 400 and "active" in refused.text

    contract = running["accords.node.contract"]
    assert requests.delete(url, headers=_headers(server), timeout=10).status_code == 200
    assert requests.get(url, headers=_headers(server), timeout=10).status_code == 404
    deadline = time.monotonic() + 60
    while requests.get(contract, headers=_headers(server), timeout=10).status_code != 404:
        assert time.monotonic() < deadline, "the contract (and its node) never went away"
        time.sleep(0.1)
    assert not (nodes / reference).exists()
