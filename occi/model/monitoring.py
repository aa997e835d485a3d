"""OCCI Monitoring extension (informational draft, A. Ciuffoletti, 2015), conformance profile 2."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Kind, Mixin
from occi.model.core import LINK, RESOURCE

__all__ = ["MONITORING", "SENSOR", "COLLECTOR", "METRIC", "AGGREGATOR", "PUBLISHER", "CATEGORIES"]

MONITORING = "http://schemas.ogf.org/occi/monitoring#"

SENSOR = Kind(
    MONITORING, "sensor", title="Sensor Resource", parent=RESOURCE, location="/sensor/",
    attributes=(
        Attribute("occi.sensor.timebase", type="datetime", description="Base time reference (ISO 8601)."),
        Attribute("occi.sensor.timestart", type="number", description="Start offset from timebase (s)."),
        Attribute("occi.sensor.timestop", type="number", description="Stop offset from timebase (s)."),
        Attribute("occi.sensor.period", type="number", required=True, minimum=0,
                  description="Time between two measurements (s)."),
        Attribute("occi.sensor.granularity", type="number", minimum=0,
                  description="Granularity of time measurement (s)."),
        Attribute("occi.sensor.accuracy", type="number", minimum=0, description="Accuracy of time measurement (s)."),
    ),
)

COLLECTOR = Kind(
    MONITORING, "collector", title="Collector Link", parent=LINK, location="/link/collector/",
    source_kinds=(SENSOR,),
    attributes=(
        Attribute("occi.collector.period", type="number", required=True, minimum=0,
                  description="Time between two measurements (s)."),
        Attribute("occi.collector.granularity", type="number", minimum=0,
                  description="Granularity of time measurement (s)."),
        Attribute("occi.collector.accuracy", type="number", minimum=0,
                  description="Accuracy of time measurement (s)."),
    ),
)

METRIC = Mixin(MONITORING, "metric", title="Metric Mixin", applies=(COLLECTOR,), location="/mixin/metric/")
AGGREGATOR = Mixin(MONITORING, "aggregator", title="Aggregator Mixin", applies=(SENSOR,),
                   location="/mixin/aggregator/")
PUBLISHER = Mixin(MONITORING, "publisher", title="Publisher Mixin", applies=(SENSOR,),
                  location="/mixin/publisher/")

CATEGORIES = (SENSOR, COLLECTOR, METRIC, AGGREGATOR, PUBLISHER)
