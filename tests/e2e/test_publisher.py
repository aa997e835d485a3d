"""Components find each other through a real publisher process."""
from __future__ import annotations

import time

import pytest

from occi.publisher.client import PublisherClient, client_for
from tests.e2e.conftest import stop

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_component_publishes_at_start_and_withdraws_at_stop(serve, platform):
    sla = serve("sla", "--publisher", platform.publisher.url, "--zone", "hospital-a", data=platform.data)
    directory = PublisherClient(platform.publisher.url, token=platform.admin_token, cache_ttl=0)

    assert wait_for(lambda: directory.resolve("agreement")), "the sla component never published"
    [publication] = directory.resolve("http://schemas.ogf.org/occi/sla#agreement", zone="hospital-a")
    assert publication.url == sla.url and publication.identity == "sla"
    # The security component publishes itself too: that is how components find it.
    assert [p.url for p in directory.resolve("authorization")] == [platform.security.url]

    # A caller names the category; the publisher says where it is served.
    agreements = client_for("agreement", publisher=platform.publisher.url, token=platform.admin_token)
    assert agreements.create("http://schemas.ogf.org/occi/sla#agreement").startswith(sla.url + "/agreement/")

    stop(sla.process)                         # a clean stop withdraws
    assert wait_for(lambda: not directory.resolve("agreement")), "the publication outlived its server"


def test_a_crashed_component_expires_from_the_publisher(serve, platform):
    crashing = serve("monitors", "--publisher", platform.publisher.url, "--publish-ttl", "2", data=platform.data)
    directory = PublisherClient(platform.publisher.url, token=platform.admin_token, cache_ttl=0)
    assert wait_for(lambda: directory.resolve("sensor"))
    crashing.process.kill()                   # no clean stop, no withdrawal: only silence
    crashing.process.wait(timeout=10)
    assert wait_for(lambda: not directory.resolve("sensor"), timeout=20), "the silent publication never expired"
