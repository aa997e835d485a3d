"""Storing a submitted agreement in both its forms, in one transaction of the sla component's store.

What :func:`store_agreement` writes (docs/sla.md):

* the **term mixins** of the GFD.228 form, as user mixins (``occi_user_mixin``: ``GET /-/``
  lists them; they depend on ``sla#agreement_term`` and so declare ``<term>.term.type``,
  ``.state``, ``.desc`` and ``.remedy``, occi.service.models), owned by the caller's account.
  Their scheme names the agreement (``…/agreement/term/<id>#``) and their location is
  ``/mixin/agreement_term/<id>/<term>/``, so that two agreements never share a mixin;
* the **GFD.228 agreement** at ``/agreement/<id>`` with those mixins (Pending, every term
  Undefined);
* the **CORDS agreement** (``/cords/agreement/…``) and its parts as the model counts them:
  agreement → terms → term → variable (conditions) / guarantee → business are links in
  ``/link/``; a guarantee's objective is a variable referenced by URL
  (``occi.guarantee.variable``); every count attribute (``termss``, ``terms``, ``variables``,
  ``guarantees``, ``values``) says how many links there are;
* the two forms reference each other with links: an ``sla#agreement_link`` from the GFD.228
  agreement to the CORDS agreement (GFD.228's way to attach an associated resource) and a
  ``core#link`` from the CORDS agreement back to the GFD.228 one.

Everything is created through the OCCI entity operations, so that the component's policy
(write roles), ownership (the caller's account) and validation apply as to a POST.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from occi.documents import EntityDocument
from occi.entity import Entity
from occi.errors import Conflict, OcciError
from occi.model import sla as gfd228
from occi.model.category import Kind
from occi.model.core import LINK
from occi.service.builder import EntityBuilder
from occi.service.context import RequestContext
from occi.service.core import OcciService
from occi.service.entities import EntityOperations
from occi.service.models import mixin_from_record
from occi.store.base import DuplicateEntity, MixinRecord, Query
from sla import cords_model as cm
from sla.document import Element

__all__ = ["Stored", "store_agreement", "term_scheme", "term_location", "ElementError"]

_CONTROL = str.maketrans({chr(c): " " for c in (*range(0x20), 0x7f)})


def term_scheme(ident: str) -> str:
    """The scheme of the term mixins of the GFD.228 agreement ``/agreement/<ident>``."""
    return f"{cm.TERM_SCHEME[:-1]}/{ident}#"


def term_location(ident: str, term: str) -> str:
    return f"{gfd228.AGREEMENT_TERM.location}{ident}/{term}/"


class ElementError(Exception):
    """An entity of the document was refused (an OCCI error) while it was being stored."""

    def __init__(self, element: Element | None, error: OcciError):
        super().__init__(error.message)
        self.element, self.error = element, error


@dataclass
class Stored:
    """Paths of what was written (``dry_run``: what would have been)."""

    agreement: str                  # the GFD.228 agreement
    cords: str                      # the CORDS agreement
    #: One per guarantee, in document order: the CORDS guarantee's path.
    guarantees: list[str] = field(default_factory=list)


class _Hooks:
    """The component's hooks, plus the server-managed counts of the entity being created."""

    def __init__(self, hooks):
        self.hooks = hooks
        self.counts: dict[str, int] = {}

    def run_create(self, entity: Entity, ctx) -> None:
        self.hooks.run_create(entity, ctx)
        entity.attributes.update(self.counts)
        self.counts = {}

    def __getattr__(self, name: str):
        return getattr(self.hooks, name)


#: A CORDS agreement's location derives from its account and name, so that two submissions
#: of one name collide in the store itself, even when they race (on any database).
AGREEMENT_NAMESPACE = uuid.UUID("0b4f3a2e-91c7-4d5e-8a6b-2f1d7c9e5a30")


def agreement_location(owner: str, name: str) -> str:
    return f"{cm.AGREEMENT.location}{uuid.uuid5(AGREEMENT_NAMESPACE, owner + chr(10) + name)}"


class _Rollback(Exception):
    pass


def store_agreement(service: OcciService, form: Element, gfd: dict, ctx: RequestContext, *, ident: str,
                    manifest: str | None = None, dry_run: bool = False) -> Stored:
    """Write ``form`` (:func:`sla.document.agreement_form`) and ``gfd`` (its :func:`to_gfd228` with
    the scheme :func:`term_scheme(ident) <term_scheme>`), all or nothing.

    Raises Conflict (``agreement-exists``) when the caller's account has an agreement of that
    name, :class:`ElementError` when an element's entity is refused. ``manifest`` (a URL) goes
    to the services term that names a manifest. ``dry_run`` writes everything, then rolls back.
    """
    model, _ = service.models.snapshot()
    owner = service.policy.owner_key(ctx.principal, cm.AGREEMENT)
    name = form["name"]
    try:
        with service.store.session() as session:
            if session.count(Query(kinds=[cm.AGREEMENT.type_id], attributes={"occi.agreement.name": name},
                                   owner=owner, limit=1)):
                raise Conflict(f"your account already has an agreement named {name!r}; delete it or rename this "
                               "one", code="agreement-exists", where="name")
            known = {m.type_id: m for m in model.user_mixins}
            mixins = []
            for term in gfd["terms"]:
                record = MixinRecord(scheme=term["scheme"], term=term["term"],
                                     location=term_location(ident, term["term"]),
                                     title=term["desc"].translate(_CONTROL), depends=[gfd228.AGREEMENT_TERM.type_id],
                                     applies=[gfd228.AGREEMENT.type_id], owner=owner)
                mixins.append(mixin_from_record(record, model, known))
                session.add_user_mixin(record)
            hooks = _Hooks(service.hooks)
            writer = _Writer(session, ctx, hooks, EntityOperations(
                EntityBuilder(model.extend([*known.values(), *mixins]), generation=session.model_generation()),
                hooks, service.policy))
            stored = writer.agreement(form, gfd, ident=ident, manifest=manifest,
                                      cords_location=agreement_location(owner, name))
            if dry_run:
                raise _Rollback
    except _Rollback:
        return stored
    except DuplicateEntity as error:
        with service.store.session(readonly=True) as session:
            taken = session.get(agreement_location(owner, name)) is not None
        if taken:                         # the same name submitted at the same moment
            raise Conflict(f"your account already has an agreement named {name!r}; delete it or rename this one",
                           code="agreement-exists", where="name") from None
        raise Conflict(f"{error.message}; submit again", code="duplicate") from None
    service.models.invalidate()          # this worker serves the new term mixins at once
    return stored


class _Writer:
    def __init__(self, session, ctx: RequestContext, hooks: _Hooks, ops: EntityOperations):
        self.session, self.ctx, self.hooks, self.ops = session, ctx, hooks, ops

    def create(self, kind: Kind, element: Element | None, attributes: dict[str, Any], *, counts=None,
               mixins=(), location: str | None = None) -> str:
        self.hooks.counts = dict(counts or {})
        document = EntityDocument(kind=kind.type_id, mixins=list(mixins),
                                  attributes={k: v for k, v in attributes.items() if v not in (None, "")})
        try:
            return self.ops.create(self.session, kind, document, self.ctx, location=location).location
        except OcciError as error:
            if error.status >= 500 or error.status in (401, 403, 409):
                raise
            raise ElementError(element, error) from None

    def link(self, source: str, target: str, kind: Kind = LINK) -> None:
        self.hooks.counts = {}
        self.ops.create(self.session, kind, EntityDocument(kind=kind.type_id, source=source, target=target), self.ctx)

    def url(self, path: str) -> str:
        return self.ctx.urls.absolute(path)

    # -- the elements -------------------------------------------------------------------------
    def agreement(self, form: Element, gfd: dict, *, ident: str, manifest: str | None,
                  cords_location: str | None = None) -> Stored:
        entity = gfd["entity"]
        ogf = self.create(gfd228.AGREEMENT, form, entity["attributes"], mixins=entity["mixins"],
                          location=f"{gfd228.AGREEMENT.location}{ident}")
        root = form["name"]
        cords = self.create(cm.AGREEMENT, form, {
            "occi.agreement.name": root, "occi.agreement.description": form.get("description"),
            "occi.agreement.initiator": form.get("initiator"), "occi.agreement.responder": form.get("responder"),
            "occi.agreement.serviceprovider": form.get("serviceprovider"),
            "occi.agreement.initiation": form.get("initiation"), "occi.agreement.expiration": form.get("expiration"),
            "occi.agreement.templateid": form.get("templateid") or form.get("template"),
            "occi.agreement.templatename": form.get("templatename"),
            "occi.agreement.cordscript": form.get("cordscript")}, counts={"occi.agreement.termss": len(form["terms"])},
            location=cords_location)
        self.link(ogf, cords, gfd228.AGREEMENT_LINK)
        self.link(cords, ogf)
        stored = Stored(agreement=ogf, cords=cords)
        for section in form["terms"]:
            path = self.create(cm.TERMS, section, {
                "occi.terms.name": _scoped(section.get("name"), root),
                "occi.terms.description": section.get("description"), "occi.terms.type": section["type"]},
                counts={"occi.terms.terms": len(section["terms"])})
            self.link(cords, path)
            for term in section["terms"]:
                self.link(path, self.term(term, root, manifest, stored))
        return stored

    def term(self, term: Element, root: str, manifest: str | None, stored: Stored) -> str:
        named = {key: (term[key].get("name") if isinstance(term.get(key), dict) else term.get(key))
                 for key in ("manifest", "provider")}
        if manifest is not None and named["manifest"]:
            named["manifest"] = manifest
        path = self.create(cm.TERM, term, {
            "occi.term.name": _scoped(term.get("name"), root), "occi.term.description": term.get("description"),
            "occi.term.type": term.get("type"), "occi.term.identity": term.get("identity"),
            "occi.term.manifest": named["manifest"], "occi.term.provider": named["provider"],
            "occi.term.federation": term.get("federation")},
            counts={"occi.term.variables": len(term["variables"]), "occi.term.guarantees": len(term["guarantees"])})
        for variable in term["variables"]:
            self.link(path, self.variable(variable, root))
        for guarantee in term["guarantees"]:
            made = self.guarantee(guarantee, root)
            stored.guarantees.append(made)
            self.link(path, made)
        return path

    def variable(self, variable: Element, root: str) -> str:
        return self.create(cm.VARIABLE, variable, {
            "occi.variable.name": _scoped(variable.get("name"), root),
            "occi.variable.property": variable.get("property"),
            "occi.variable.condition": variable.get("condition"), "occi.variable.value": variable.get("value"),
            "occi.variable.description": variable.get("description"), "occi.variable.metric": variable.get("metric"),
            "occi.variable.location": variable.get("location")})

    def guarantee(self, guarantee: Element, root: str) -> str:
        objective = guarantee.get("variable")
        path = self.create(cm.GUARANTEE, guarantee, {
            "occi.guarantee.name": _scoped(guarantee.get("name"), root),
            "occi.guarantee.description": guarantee.get("description"),
            "occi.guarantee.obligated": guarantee.get("obligated"),
            "occi.guarantee.importance": guarantee.get("importance"),
            "occi.guarantee.scope": guarantee.get("scope"),
            "occi.guarantee.variable": self.url(self.variable(objective, root)) if objective is not None else None},
            counts={"occi.guarantee.values": len(guarantee["business"])})
        for business in guarantee["business"]:
            self.link(path, self.create(cm.BUSINESS, business, {
                "occi.business.name": _scoped(business.get("name"), root),
                "occi.business.description": business.get("description"),
                "occi.business.nature": (business.get("nature") or "").lower() or None,
                "occi.business.type": business.get("type"), "occi.business.expression": business.get("expression")}))
        return path


def _scoped(name: str | None, root: str) -> str | None:
    """``:x`` names are the agreement's (CORDS.md §7.2), as cords.agreement and to_gfd228 read them."""
    return root + name if name and name.startswith(":") else name
