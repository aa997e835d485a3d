"""The ``security`` component: accounts, users and tokens, and the verification every component asks for.

Hooks keep the rules the model cannot say: names become locations (so two users can never
share a name, whatever the concurrency), passwords are hashed before anything is stored,
a token is minted at creation and shown once, the platform account and the last admin
cannot be removed. ``/introspect`` (RFC 7662, for the components) and ``/whoami`` are the
two routes besides OCCI.
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone

from occi.access import AccessPolicy, Rule
from occi.errors import BadRequest, Conflict, Forbidden
from occi.hooks import Hooks
from occi.model import Model
from occi.security.model import (ACCOUNT, ACCOUNT_ACTIONS, AUTHORIZATION, CATEGORIES, MAX_PASSWORD_LENGTH,
                                 MIN_PASSWORD_LENGTH, PASSWORD, PLATFORM_ACCOUNT, ROLES, USER, USER_ACTIONS)
from occi.security.passwords import TOKEN_PREFIX, Passwords, default_passwords, new_token, token_digest
from occi.security.model import account_location, user_location
from occi.store.base import Query

__all__ = ["build", "hooks", "POLICY", "sweep", "TOKEN_HEADER", "KEEP_EXPIRED"]

log = logging.getLogger("accords.security")

#: The original platform's token carrier: the new token travels back in it, once.
TOKEN_HEADER = "X-OCCI-Authorize"
#: Expired and revoked tokens stay listed this long (for audit), then the sweep deletes them.
KEEP_EXPIRED = 24 * 3600.0
ADMIN = "admin"

_ADMINS_ONLY = Rule(read=None, write=frozenset({ADMIN}))
POLICY = AccessPolicy(
    # Anything else (core resources, links, user mixins) is for admins to write.
    default=_ADMINS_ONLY,
    kinds={ACCOUNT.type_id: _ADMINS_ONLY, USER.type_id: _ADMINS_ONLY, AUTHORIZATION.type_id: Rule()},
    # Everybody changes their own password (the hook checks it is their own).
    actions={PASSWORD.type_id: Rule()},
    # A token is its user's: other users of the account neither list nor revoke it.
    personal=frozenset({AUTHORIZATION.type_id}),
)


def _now_text(epoch: float) -> str:
    # Microseconds: tokens issued before a password change are refused by comparing these
    # times, and whole seconds would let a token issued in the same second survive it.
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


def _named(entity, name: str, where: str) -> None:
    """Put the entity at <kind location><name> with the id a PUT there would give it."""
    wanted = f"{entity.kind.location}{name}"
    generated = entity.id == f"urn:uuid:{entity.location[len(entity.kind.location):]}"
    if entity.location != wanted and not generated:
        raise BadRequest(f"{entity.location} must be {wanted}: the name decides the location", code="bad-location",
                         where=where)
    entity.location = wanted
    entity.id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, wanted)}"


def _roles(value) -> list[str]:
    roles = list(dict.fromkeys(value or ()))
    unknown = [r for r in roles if not isinstance(r, str) or r not in ROLES]
    if not roles or unknown:
        raise BadRequest(f"occi.user.roles must name at least one of {', '.join(ROLES)}"
                         + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else ""),
                         code="bad-role", where="occi.user.roles")
    return roles


def _checked_password(password, where: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise BadRequest(f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
                         code="bad-password", where=where)
    if password.startswith(TOKEN_PREFIX):
        # The authenticators take a Basic password with this prefix for a token (curl -u x:TOKEN):
        # such a password could never log in.
        raise BadRequest(f"a password cannot start with {TOKEN_PREFIX!r} (tokens do)", code="bad-password",
                         where=where)
    return password


def _active_admins(session, *, besides: str) -> int:
    users = session.list(Query(kinds=[USER.type_id], attributes={"occi.user.state": "active"}))
    return sum(1 for u in users if u.location != besides and ADMIN in (u.attributes.get("occi.user.roles") or ()))


def _keep_an_admin(session, location: str, what: str) -> None:
    if _active_admins(session, besides=location) == 0:
        raise Conflict(f"{what} would leave no active admin; make another admin first", code="last-admin",
                       where=location)


def hooks(*, passwords: Passwords | None = None, clock=time.time) -> Hooks:
    registry = Hooks()
    hasher = passwords or default_passwords()

    # -- accounts ------------------------------------------------------------------------
    @registry.on_create(ACCOUNT)
    def new_account(entity, ctx):
        name = entity.attributes["occi.account.name"]
        _named(entity, name, "occi.account.name")
        entity.owner = name                       # its members see it; admins see every account

    @registry.on_delete(ACCOUNT)
    def drop_account(entity, ctx):
        name = entity.attributes["occi.account.name"]
        if name == PLATFORM_ACCOUNT:
            raise Conflict(f"the platform account {name!r} cannot be deleted", code="platform-account",
                           where=entity.location)
        if ctx.session.count(Query(kinds=[USER.type_id], attributes={"occi.user.account": name})):
            raise Conflict(f"account {name!r} still has users; delete or move them first", code="account-in-use",
                           where=entity.location)

    @registry.on_action(ACCOUNT_ACTIONS[0])       # disable
    def disable_account(entity, action, parameters, ctx):
        if entity.attributes["occi.account.name"] == PLATFORM_ACCOUNT:
            raise Conflict(f"the platform account {PLATFORM_ACCOUNT!r} cannot be disabled", code="platform-account",
                           where=entity.location)
        entity.attributes["occi.account.state"] = "disabled"

    # -- users -----------------------------------------------------------------------------
    @registry.on_create(USER)
    def new_user(entity, ctx):
        attributes = entity.attributes
        _named(entity, attributes["occi.user.name"], "occi.user.name")
        account = attributes["occi.user.account"]
        if ctx.session.get(account_location(account)) is None:
            raise BadRequest(f"account {account!r} does not exist; create it first", code="no-such-account",
                             where="occi.user.account")
        attributes["occi.user.roles"] = _roles(attributes.get("occi.user.roles"))
        attributes["occi.user.password"] = hasher.hash(_checked_password(attributes.get("occi.user.password"),
                                                                         "occi.user.password"))
        attributes["occi.user.passwordChanged"] = _now_text(clock())
        entity.owner = account

    @registry.on_update(USER)
    def change_user(old, new, ctx):
        attributes = new.attributes
        attributes["occi.user.roles"] = _roles(attributes.get("occi.user.roles"))
        if ADMIN in (old.attributes.get("occi.user.roles") or ()) and ADMIN not in attributes["occi.user.roles"]:
            _keep_an_admin(ctx.session, old.location, "removing the admin role")
        if attributes.get("occi.user.password") != old.attributes.get("occi.user.password"):
            attributes["occi.user.password"] = hasher.hash(_checked_password(attributes.get("occi.user.password"),
                                                                             "occi.user.password"))
            attributes["occi.user.passwordChanged"] = _now_text(clock())

    @registry.on_delete(USER)
    def drop_user(entity, ctx):
        _keep_an_admin(ctx.session, entity.location, f"deleting {entity.attributes['occi.user.name']!r}")
        name = entity.attributes["occi.user.name"]
        for grant in ctx.session.list_locations(Query(kinds=[AUTHORIZATION.type_id],
                                                      attributes={"occi.authorization.user": name})):
            ctx.session.delete(grant)

    @registry.on_action(USER_ACTIONS[0])          # disable
    def disable_user(entity, action, parameters, ctx):
        _keep_an_admin(ctx.session, entity.location, f"disabling {entity.attributes['occi.user.name']!r}")
        entity.attributes["occi.user.state"] = "disabled"

    @registry.on_action(PASSWORD)
    def change_password(entity, action, parameters, ctx):
        principal = ctx.principal
        own = principal.name == entity.attributes["occi.user.name"] and \
            principal.account == entity.attributes["occi.user.account"]
        if not own and ADMIN not in principal.roles:
            raise Forbidden(f"{principal.name} may change only their own password", code="role-forbidden",
                            where=entity.location)
        if ADMIN not in principal.roles:
            current = parameters.get("current")
            if not isinstance(current, str) or not hasher.verify(entity.attributes.get("occi.user.password"), current):
                log.warning("password change refused for user %r from %s: wrong current password", principal.name,
                            ctx.remote_addr or "-", extra={"event": "password-change-failed", "user": principal.name,
                                                           "remote": ctx.remote_addr})
                raise Forbidden("the current password is wrong", code="wrong-password", where="current")
        # The new password as given: the update hook (change_user), which runs on the action's
        # result, hashes it and sets passwordChanged. Hashed here, it would be hashed again there
        # (it differs from the stored hash) and the password would become the hash's text.
        entity.attributes["occi.user.password"] = _checked_password(parameters.get("password"), "password")
        entity.attributes["occi.user.failures"] = 0
        entity.attributes.pop("occi.user.retryAfter", None)

    # -- tokens ---------------------------------------------------------------------------
    @registry.on_create(AUTHORIZATION)
    def issue(entity, ctx):
        principal = ctx.principal
        user = ctx.session.get(user_location(principal.name))
        if user is None or user.attributes.get("occi.user.account") != principal.account:
            raise Forbidden(f"{principal.name} is not a user of this security service; only users get tokens",
                            code="not-a-user")
        now = clock()
        token = new_token()
        attributes = entity.attributes
        expires = now + attributes["occi.authorization.ttl"]
        if principal.expires is not None:
            # Asked for with a token: the new one dies with it, so a stolen token cannot be
            # stretched into a permanent one. A password gives the full lifetime.
            expires = min(expires, principal.expires)
            attributes["occi.authorization.ttl"] = max(0, int(expires - now))
        attributes.update({
            "occi.authorization.user": principal.name, "occi.authorization.account": principal.account,
            "occi.authorization.from": _now_text(now),
            "occi.authorization.expires": expires,
            "occi.authorization.digest": token_digest(token),
        })
        ctx.response_headers[TOKEN_HEADER] = token
        ctx.response_headers["Cache-Control"] = "no-store"
        log.info("token issued to %r (expires in %d s)", principal.name, attributes["occi.authorization.ttl"],
                 extra={"event": "token-issued", "user": principal.name})

    return registry


def sweep(store, *, clock=time.time) -> int:
    """Delete tokens that expired more than KEEP_EXPIRED ago (revoked ones too, once expired:
    they stay listed for audit until then); how many went."""
    cutoff = clock() - KEEP_EXPIRED
    gone = []
    with store.session(readonly=True) as session:
        for record in session.list(Query(kinds=[AUTHORIZATION.type_id])):
            if record.attributes.get("occi.authorization.expires", 0) < cutoff:
                gone.append(record.location)
    if gone:
        with store.session() as session:
            for location in gone:
                session.delete(location)
    return len(gone)


def build():
    from broker.components import Component
    from occi.security.service import authenticator, bootstrap, routes

    return Component(name="security", model=Model(CATEGORIES), hooks=hooks(), policy=POLICY,
                     summary="accounts, users (argon2id), tokens; verifies credentials for every component",
                     background=sweep, background_interval=300.0,
                     authenticator=authenticator, routes=routes, bootstrap=bootstrap)
