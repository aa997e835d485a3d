"""The ``publication`` category, in the original platform's scheme and attribute names."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind
from occi.model.core import RESOURCE

__all__ = ["SCHEME", "PUBLICATION", "HEARTBEAT", "CATEGORIES", "DEFAULT_TTL"]

#: The CompatibleOne scheme: original clients find the publisher's categories under it.
SCHEME = "http://scheme.compatibleone.fr/scheme/compatible#"
DEFAULT_TTL = 30

HEARTBEAT = Action(
    "http://scheme.compatibleone.fr/scheme/compatible/publication/action#", "heartbeat",
    title="The publishing server is alive", enabled_in=("active",), target_state="active")

PUBLICATION = Kind(
    SCHEME, "publication", title="A category served by a server", parent=RESOURCE, location="/publication/",
    state_attribute="occi.publication.state", actions=(HEARTBEAT,),
    attributes=(
        Attribute("occi.publication.what", required=True, mutable=False,
                  description="Term of the category served (e.g. compute)."),
        Attribute("occi.publication.category", mutable=False,
                  description="Type id of the category served (scheme#term)."),
        Attribute("occi.publication.why", required=True, pattern=r"https?://[^\s/]+(/[^\s]*)?",
                  description="Base URL of the server (scheme://host:port)."),
        Attribute("occi.publication.region", default="marketplace",
                  description="Where the publication is offered: marketplace, or a contract for private ones."),
        Attribute("occi.publication.zone", description="Zone of the server (e.g. a data centre or region)."),
        Attribute("occi.publication.operator", description="Operator running the server."),
        Attribute("occi.publication.price", description="Price of the service, or the URL of its price."),
        Attribute("occi.publication.identity", description="Name of the component that published."),
        Attribute("occi.publication.ttl", type="integer", minimum=1, maximum=3600, default=DEFAULT_TTL,
                  description="Seconds without a heartbeat after which the publication expires."),
        Attribute("occi.publication.stamp", type="number", mutable=False, server_managed=True,
                  description="Time of the last heartbeat (seconds since the epoch)."),
        Attribute("occi.publication.state", type="enum", enum=("active",), mutable=False, required=True,
                  default="active", server_managed=True,
                  description="active while heartbeats arrive; expired publications are removed."),
    ),
)

CATEGORIES = (PUBLICATION, HEARTBEAT)
