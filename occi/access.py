"""Who may do what: roles per kind, and entities visible only to the account that owns them.

A component declares its :class:`AccessPolicy` once; the service applies it to every
operation before anything is read out or written:

* a principal needs a role the kind's :class:`Rule` allows, for reading or for writing
  (creating, updating, deleting, running actions, changing mixin membership): else 403;
* an entity belongs to the account that created it; another account's entity is a 403,
  and listings show only the caller's own entities, unless one of the caller's roles
  sees every account (``see_all``: read and write; ``read_all``: read only, e.g. auditors).

The ``admin`` role may always do everything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from occi.errors import Forbidden
from occi.model.category import Kind
from occi.service.context import Principal

__all__ = ["READ", "WRITE", "Rule", "AccessPolicy", "OPEN"]

READ, WRITE = "read", "write"
ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    """The roles that may read and write a kind; None means any authenticated principal."""

    read: frozenset[str] | None = None
    write: frozenset[str] | None = None

    def allows(self, principal: Principal, operation: str) -> bool:
        roles = self.read if operation == READ else self.write
        return roles is None or ADMIN in principal.roles or bool(roles & principal.roles)


@dataclass(frozen=True)
class AccessPolicy:
    default: Rule = field(default_factory=Rule)
    #: kind type id -> rule; a kind without one inherits its parent's, then ``default``.
    kinds: Mapping[str, Rule] = field(default_factory=dict)
    #: action type id -> rule whose ``write`` roles may run it (instead of the kind's write
    #: roles), e.g. every user may change their own password; ownership still applies.
    actions: Mapping[str, Rule] = field(default_factory=dict)
    see_all: frozenset[str] = frozenset({ADMIN})
    read_all: frozenset[str] = frozenset()
    #: Kinds owned by a user rather than an account (tokens): other users of the same
    #: account neither see nor touch them. Their owner is ``account/user``.
    personal: frozenset[str] = frozenset()

    def rule(self, kind: Kind | None) -> Rule:
        for ancestor in (kind.lineage if kind is not None else ()):
            found = self.kinds.get(ancestor.type_id)
            if found is not None:
                return found
        return self.default

    def require(self, principal: Principal, kind: Kind | None, operation: str) -> None:
        if not self.rule(kind).allows(principal, operation):
            what = kind.term if kind is not None else "this server's categories"
            verb = "read" if operation == READ else "change"
            raise Forbidden(f"{principal.name} ({', '.join(sorted(principal.roles)) or 'no role'}) may not {verb} "
                            f"{what}", code="role-forbidden")

    def sees_all(self, principal: Principal, operation: str) -> bool:
        privileged = self.see_all | ({ADMIN} if operation == WRITE else self.read_all | {ADMIN})
        return bool(privileged & principal.roles)

    def owner_key(self, principal: Principal, kind: Kind | None = None) -> str:
        """The owner of what ``principal`` creates of ``kind``: its account, or ``account/user``
        for a personal kind."""
        if kind is not None and kind.type_id in self.personal:
            return f"{principal.account}/{principal.name}"
        return principal.account

    def owner_filter(self, principal: Principal, operation: str, kind: Kind | None = None) -> str | None:
        """The owner a listing is limited to, or None when the principal sees every account."""
        return None if self.sees_all(principal, operation) else self.owner_key(principal, kind)

    def require_owner(self, principal: Principal, owner: str | None, location: str, operation: str,
                      kind: Kind | None = None) -> None:
        if owner != self.owner_key(principal, kind) and not self.sees_all(principal, operation):
            whose = "another user" if kind is not None and kind.type_id in self.personal else "another account"
            raise Forbidden(f"{location} belongs to {whose}", code="owner-forbidden", where=location)

    def require_action(self, principal: Principal, entity, action) -> None:
        rule = self.actions.get(action.type_id)
        if rule is None:
            self.require_entity(principal, entity, WRITE)
            return
        if not rule.allows(principal, WRITE):
            raise Forbidden(f"{principal.name} ({', '.join(sorted(principal.roles)) or 'no role'}) may not run "
                            f"{action.term} on {entity.kind.term}", code="role-forbidden")
        self.require_owner(principal, entity.owner, entity.location, WRITE, entity.kind)

    def visible(self, principal: Principal, entity) -> bool:
        """Whether ``principal`` may read ``entity`` (its kind, and its owner)."""
        return self.rule(entity.kind).allows(principal, READ) and (
            entity.owner == self.owner_key(principal, entity.kind) or self.sees_all(principal, READ))

    def readable_kinds(self, principal: Principal, kinds) -> list[str]:
        """The type ids of ``kinds`` whose entities ``principal`` may read (for listings that
        span kinds: the root collection, mixin collections)."""
        return [k.type_id for k in kinds if self.rule(k).allows(principal, READ)]

    def require_entity(self, principal: Principal, entity, operation: str) -> None:
        self.require(principal, entity.kind, operation)
        self.require_owner(principal, entity.owner, entity.location, operation, entity.kind)


#: Every authenticated principal may read and write; accounts still see only their own entities.
OPEN = AccessPolicy()
