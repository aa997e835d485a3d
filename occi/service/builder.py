"""From request documents to validated entities, and between entities and store records.

All validation that does not need the store happens here, before anything is written:
kinds, mixins (``applies``, exclusive templates), attribute names, types, mutability,
required attributes and defaults.
"""
from __future__ import annotations

from typing import Any, Iterable

from occi.entity import Entity
from occi.errors import BadRequest, Forbidden, OcciError
from occi.model.attribute import Attribute
from occi.model.category import Kind, Mixin
from occi.model.core import STRUCTURAL
from occi.model.registry import Model
from occi.store.base import EntityRecord

__all__ = ["EntityBuilder", "StaleModel"]


class StaleModel(OcciError):
    """The user mixins changed in the store since this process built its model; retried once."""

    status = 409
    default_code = "stale-model"


class EntityBuilder:
    def __init__(self, model: Model, *, generation: int | None = None):
        self.model = model
        self.generation = generation

    def confirm_user_mixins(self, session, mixins: Iterable[Mixin]) -> None:
        """Before a write associates user mixins: they must still exist (another worker may have
        removed one a moment ago), so the model this request used must be the store's."""
        if self.generation is not None and any(m.user_defined for m in mixins) \
                and session.model_generation() != self.generation:
            raise StaleModel("the user mixins changed while this request ran; send it again")

    # -- records --------------------------------------------------------------------
    def from_record(self, record: EntityRecord) -> Entity:
        kind = self.model.get(record.kind)
        if not isinstance(kind, Kind):
            raise OcciError(f"stored entity {record.location} has kind {record.kind}, which this server "
                            "no longer serves", code="unknown-stored-kind")
        mixins = [m for m in (self.model.get(t) for t in record.mixins) if isinstance(m, Mixin)]
        return Entity(location=record.location, kind=kind, id=record.id, mixins=mixins,
                      attributes=dict(record.attributes), source=record.source, target=record.target,
                      source_kind=record.source_kind, target_kind=record.target_kind,
                      owner=record.owner, version=record.version)

    @staticmethod
    def to_record(entity: Entity) -> EntityRecord:
        return EntityRecord(location=entity.location, id=entity.id, kind=entity.kind.type_id,
                            mixins=[m.type_id for m in entity.mixins],
                            attributes={k: v for k, v in entity.attributes.items() if v is not None},
                            source=entity.source, target=entity.target, source_kind=entity.source_kind,
                            target_kind=entity.target_kind, owner=entity.owner, version=entity.version)

    # -- categories -----------------------------------------------------------------
    def kind_for(self, type_id: str | None, collection_kind: Kind | None, *, where: str) -> Kind:
        if type_id is None:
            if collection_kind is None:
                raise BadRequest("no Kind given: send a Category with class=\"kind\"", code="missing-kind",
                                 where=where)
            return collection_kind
        kind = self.model.kind(type_id, where=where)
        if collection_kind is not None and kind is not collection_kind:
            raise BadRequest(f"kind {type_id} does not belong in the collection of {collection_kind.type_id} "
                             f"({collection_kind.location})", code="wrong-kind", where=where)
        if kind.location is None:
            raise BadRequest(f"kind {type_id} cannot be instantiated", code="abstract-kind", where=where)
        return kind

    def mixins_for(self, type_ids: Iterable[str], kind: Kind, *, where: str,
                   current: Iterable[Mixin] = ()) -> tuple[list[Mixin], list[Mixin]]:
        """The mixin list after associating ``type_ids`` to ``current``, and the newly added ones.

        A mixin depending on an exclusive template base replaces the current one (D12);
        two such mixins in one request are ambiguous.
        """
        result, added = list(current), []
        for type_id in type_ids:
            mixin = self.model.mixin(type_id, where=where)
            if not mixin.applies_to(kind):
                allowed = ", ".join(k.type_id for m in mixin.lineage for k in m.applies)
                raise BadRequest(f"mixin {type_id} does not apply to kind {kind.type_id} (it applies to {allowed})",
                                 code="mixin-not-applicable", where=where)
            if mixin in result:
                continue
            for base in (m for m in mixin.lineage[1:] if m.exclusive):
                clash = [m for m in added if m.depends_on(base.type_id)]
                if clash:
                    raise BadRequest(f"mixins {clash[0].type_id} and {type_id} are both {base.term} templates; "
                                     "an entity has one", code="template-clash", where=where)
                result = [m for m in result if not m.depends_on(base.type_id)]
            result.append(mixin)
            added.append(mixin)
        return result, added

    # -- attributes -----------------------------------------------------------------
    @staticmethod
    def definitions(kind: Kind, mixins: Iterable[Mixin]) -> dict[str, Attribute]:
        merged = dict(kind.attribute_map)
        for mixin in mixins:
            merged.update(mixin.attribute_map)
        return merged

    def _known(self, definitions: dict[str, Attribute], name: str, kind: Kind) -> Attribute:
        definition = definitions.get(name)
        if definition is None:
            raise BadRequest(f"attribute {name} is not defined by {kind.term} or its mixins",
                             code="unknown-attribute", where=name)
        return definition

    def new_attributes(self, kind: Kind, mixins: list[Mixin], given: dict[str, Any]) -> dict[str, Any]:
        """Attributes of a new entity: checked values, then template/mixin and kind defaults."""
        definitions = self.definitions(kind, mixins)
        values: dict[str, Any] = {}
        for name, value in given.items():
            if name in STRUCTURAL:
                continue
            definition = self._known(definitions, name, kind)
            if definition.server_managed:
                raise BadRequest(f"attribute {name} is maintained by the server and cannot be set",
                                 code="server-managed-attribute", where=name)
            values[name] = definition.check(value, where=name)
        for name, definition in definitions.items():
            if name not in values and definition.default is not None and name not in STRUCTURAL:
                values[name] = definition.default
        self.require(definitions, values)
        return values

    @staticmethod
    def require(definitions: dict[str, Attribute], values: dict[str, Any]) -> None:
        missing = [n for n, d in definitions.items() if d.required and n not in STRUCTURAL and n not in values]
        if missing:
            raise BadRequest(f"missing required attribute{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                             code="missing-attribute", where=missing[0])

    def updated_attributes(self, entity: Entity, mixins: list[Mixin], added: list[Mixin],
                           given: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        """Attributes after a partial update (POST) or a full replace (PUT)."""
        definitions = self.definitions(entity.kind, mixins)
        current = entity.attributes
        if replace:
            values = {n: v for n, v in current.items()
                      if n in definitions and not definitions[n].mutable}
        else:
            values = {n: v for n, v in current.items() if n in definitions}
        for mixin in added:        # a newly associated template applies its defaults (GFD.224 §3.5)
            for name, definition in mixin.attribute_map.items():
                if definition.default is not None and definition.mutable:
                    values[name] = definition.default
        for name, value in given.items():
            if name in STRUCTURAL:
                continue
            definition = self._known(definitions, name, entity.kind)
            value = definition.check(value, where=name)
            if not definition.mutable:
                if current.get(name) != value:
                    raise Forbidden(f"attribute {name} is immutable", code="immutable-attribute", where=name)
                continue
            values[name] = value
        for name, definition in definitions.items():
            if name not in values and definition.default is not None and name not in STRUCTURAL:
                values[name] = definition.default
        self.require(definitions, values)
        return values

    def action_parameters(self, action, given: dict[str, Any]) -> dict[str, Any]:
        parameters = {}
        for name, value in given.items():
            definition = action.parameter(name)
            if definition is None:
                known = ", ".join(a.name for a in action.attributes) or "none"
                raise BadRequest(f"action {action.term} has no parameter {name} (parameters: {known})",
                                 code="unknown-parameter", where=name)
            parameters[name] = definition.check(value, where=name)
        for definition in action.attributes:
            if definition.name not in parameters:
                if definition.default is not None:
                    parameters[definition.name] = definition.default
                elif definition.required:
                    raise BadRequest(f"action {action.term} needs parameter {definition.name}",
                                     code="missing-parameter", where=definition.name)
        return parameters
