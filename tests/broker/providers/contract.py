"""What every provider driver must do, as one suite each driver's tests run against a real
endpoint (the local machine, moto, mimic + keystone, the OpenNebula double ...)."""
from __future__ import annotations

import pytest

from broker.providers import InstanceNotFound, NodeSpec
from broker.providers.base import CONTRACT_TAG

__all__ = ["DriverContract"]


class DriverContract:
    """Subclass with a ``driver`` fixture; every test cleans up what it created."""

    @pytest.fixture
    def spec(self, request):
        return NodeSpec(name=f"node-{request.node.name[:20]}", contract=f"contract-{id(request)}", cores=1,
                        memory_mb=512, disk_gb=1, tags={"accords-test": "yes"})

    def test_create_get_list_delete(self, driver, spec):
        created = driver.create(spec)
        try:
            assert created.state == "running" and created.contract == spec.contract
            assert driver.get(created.id).state == "running"
            assert [i.id for i in driver.list(tags={CONTRACT_TAG: spec.contract})] == [created.id]
            assert driver.list(tags={CONTRACT_TAG: "someone-else"}) == []
        finally:
            assert driver.delete(created.id) is True
        with pytest.raises(InstanceNotFound):
            driver.get(created.id)
        assert driver.delete(created.id) is False
        assert driver.list(tags={CONTRACT_TAG: spec.contract}) == []

    def test_stop_and_start(self, driver, spec):
        if not {"start", "stop"} <= driver.capabilities:
            pytest.skip(f"{driver.name} cannot stop and start")
        created = driver.create(spec)
        try:
            assert driver.stop(created.id).state == "stopped"
            assert driver.get(created.id).state == "stopped"
            assert driver.start(created.id).state == "running"
        finally:
            driver.delete(created.id)

    def test_unknown_ids_are_not_found(self, driver):
        with pytest.raises(InstanceNotFound):
            driver.get("no-such-node")

    def test_every_tag_and_the_name_are_reported_by_create_get_and_list(self, driver, spec):
        created = driver.create(spec)
        try:
            listed = driver.list(tags={CONTRACT_TAG: spec.contract})
            for seen in (created, driver.get(created.id), *listed):
                assert seen.name == spec.name
                assert spec.all_tags().items() <= seen.tags.items(), seen.tags
        finally:
            driver.delete(created.id)

    def test_list_keeps_only_the_nodes_carrying_every_tag_asked_for(self, driver, spec):
        first = driver.create(spec)
        second = driver.create(NodeSpec(name=f"{spec.name}-b", contract=spec.contract, cores=spec.cores,
                                        memory_mb=spec.memory_mb, disk_gb=spec.disk_gb,
                                        tags={**spec.tags, "accords-role": "second"}))
        try:
            assert {i.id for i in driver.list(tags={CONTRACT_TAG: spec.contract})} == {first.id, second.id}
            assert [i.id for i in driver.list(tags={CONTRACT_TAG: spec.contract, "accords-role": "second"})] \
                == [second.id]
            assert driver.list(tags={CONTRACT_TAG: spec.contract, "accords-role": "third"}) == []
            assert {first.id, second.id} <= {i.id for i in driver.list()}
        finally:
            assert driver.delete(first.id) is True and driver.delete(second.id) is True
        assert driver.delete(first.id) is False and driver.delete(second.id) is False

    def test_a_stopped_node_is_still_listed_and_unknown_ids_cannot_be_stopped(self, driver, spec):
        if not {"start", "stop"} <= driver.capabilities:
            pytest.skip(f"{driver.name} cannot stop and start")
        created = driver.create(spec)
        try:
            driver.stop(created.id)
            assert [(i.id, i.state) for i in driver.list(tags={CONTRACT_TAG: spec.contract})] \
                == [(created.id, "stopped")]
            assert driver.start(created.id).state == "running"
            assert driver.start(created.id).state == "running"          # starting a running node: a no-op
        finally:
            driver.delete(created.id)
        for action in (driver.stop, driver.start):
            with pytest.raises(InstanceNotFound):
                action(created.id)

    def test_reboot_leaves_the_node_running(self, driver, spec):
        if "reboot" not in driver.capabilities:
            pytest.skip(f"{driver.name} cannot reboot")
        created = driver.create(spec)
        try:
            assert driver.reboot(created.id).state == "running"
            assert driver.get(created.id).state == "running"
        finally:
            driver.delete(created.id)

    def test_snapshot_names_what_it_made(self, driver, spec):
        if "snapshot" not in driver.capabilities:
            pytest.skip(f"{driver.name} cannot snapshot")
        created = driver.create(spec)
        try:
            snapshot = driver.snapshot(created.id, name=f"{spec.name}-snapshot")
            assert isinstance(snapshot, str) and snapshot
        finally:
            driver.delete(created.id)

    def test_sizes_images_and_zones_are_listed(self, driver):
        sizes = driver.sizes()
        assert sizes, f"{driver.name} lists no size"
        for size in sizes:
            assert size.name and size.cores > 0 and size.memory_mb > 0 and size.disk_gb >= 0, size
        for listed in (driver.images(), driver.zones()):
            assert listed and all(isinstance(item, str) and item for item in listed), listed
