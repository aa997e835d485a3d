"""Several workers over one store: a user mixin added through one is usable through the others at once."""
from __future__ import annotations

from falcon import testing

from occi.model import Model, infrastructure
from occi.server import create_app
from occi.store import open_store

COMPUTE = 'compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"'
TAG = 'frontend; scheme="http://hospital.example/tags#"; class="mixin"; location="/tags/frontend/"'


def workers(tmp_path, count=2):
    """Apps that share a database like gunicorn workers do, each with its own store and model cache.

    The refresh interval is an hour, so only the refresh on a miss can make a new mixin visible.
    """
    path = tmp_path / "shared.db"
    return [testing.TestClient(create_app(model=Model(infrastructure.CATEGORIES), store=open_store(path),
                                          model_refresh_interval=3600)) for _ in range(count)]


def test_a_mixin_added_through_one_worker_is_usable_through_another_at_once(tmp_path):
    first, second = workers(tmp_path)
    assert second.simulate_get("/-/").status_code == 200            # the second worker caches its model now
    vm = first.simulate_post("/compute/", headers={"Content-Type": "text/occi", "Category": COMPUTE})
    location = vm.headers["Location"].replace("http://falconframework.org", "")
    assert first.simulate_post("/-/", headers={"Content-Type": "text/occi", "Category": TAG}).status_code == 200

    # Each of these names the new mixin in a different way; none may fail on the second worker.
    tagged = second.simulate_post("/tags/frontend/", headers={"Content-Type": "text/occi",
                                                             "X-OCCI-Location": location})
    assert tagged.status_code == 200, tagged.text
    assert location in second.simulate_get("/tags/frontend/").text
    assert "frontend" in second.simulate_get(location).text
    filtered = second.simulate_get("/-/", headers={"Category": TAG.split(";")[0] + '; scheme="http://hospital.example/tags#"; class="mixin"'})
    assert filtered.status_code == 200 and "frontend" in filtered.text


def test_a_mixin_removed_through_one_worker_is_gone_from_another(tmp_path):
    first, second = workers(tmp_path)
    assert first.simulate_post("/-/", headers={"Content-Type": "text/occi", "Category": TAG}).status_code == 200
    assert second.simulate_get("/tags/frontend/").status_code == 200
    assert first.simulate_delete("/-/", headers={"Content-Type": "text/occi", "Category": TAG}).status_code == 200
    created = second.simulate_post("/compute/", headers={
        "Content-Type": "text/occi",
        "Category": COMPUTE + ', frontend; scheme="http://hospital.example/tags#"; class="mixin"'})
    # The second worker still had the mixin in its model: the write notices, refreshes and refuses.
    assert created.status_code == 400, created.text
    assert "unknown mixin http://hospital.example/tags#frontend" in created.text
    assert second.simulate_get("/compute/").text == ""                 # nothing half-written
    assert second.simulate_get("/tags/frontend/").status_code == 404
