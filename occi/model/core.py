"""OCCI Core (GFD.221): the Entity, Resource and Link kinds."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Kind

__all__ = ["CORE_SCHEME", "ENTITY", "RESOURCE", "LINK", "CATEGORIES"]

CORE_SCHEME = "http://schemas.ogf.org/occi/core#"

ENTITY = Kind(
    CORE_SCHEME, "entity", title="Entity",
    attributes=(
        Attribute("occi.core.id", mutable=False, required=True,
                  description="Unique identifier of the entity within this provider (urn:uuid form)."),
        Attribute("occi.core.title", description="Display name of the entity."),
    ),
)

RESOURCE = Kind(
    CORE_SCHEME, "resource", title="Resource", parent=ENTITY, location="/resource/",
    attributes=(Attribute("occi.core.summary", description="Summarising description of the resource."),),
)

LINK = Kind(
    CORE_SCHEME, "link", title="Link", parent=ENTITY, location="/link/",
    attributes=(
        Attribute("occi.core.source", required=True,
                  description="The resource the link originates from (a resource of this provider)."),
        Attribute("occi.core.target", required=True,
                  description="What the link points to: a resource here or any URI."),
        Attribute("occi.core.source.kind", description="Kind of the source resource."),
        Attribute("occi.core.target.kind", description="Kind of the target, when it is an OCCI resource."),
    ),
)

CATEGORIES = (ENTITY, RESOURCE, LINK)

#: Attributes that are carried by the entity record itself rather than its attribute map.
STRUCTURAL = frozenset({"occi.core.id", "occi.core.source", "occi.core.target",
                        "occi.core.source.kind", "occi.core.target.kind"})
