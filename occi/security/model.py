"""The security categories: ``account``, ``user`` and ``authorization`` (tokens).

Names follow the original platform's coss component (CORDS scheme, ``occi.user.*``,
``occi.authorization.*``) so that its clients find them; what is kept differs: passwords
only as argon2 hashes and tokens only as SHA-256 digests, both write-only.
"""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind
from occi.model.core import RESOURCE
from occi.publisher.model import SCHEME

__all__ = ["ROLES", "PLATFORM_ACCOUNT", "NAME_PATTERN", "ACCOUNT", "USER", "AUTHORIZATION",
           "ACCOUNT_ACTIONS", "USER_ACTIONS", "PASSWORD", "REVOKE", "CATEGORIES",
           "DEFAULT_TOKEN_TTL", "MAX_TOKEN_TTL", "MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH",
           "user_location", "account_location"]

#: What each role may do is declared by each component's AccessPolicy; docs/security.md
#: has the table. ``service`` is the role of the components themselves.
ROLES = ("admin", "provider", "ccmp", "auditor", "operator", "agent", "service")
#: The account of the platform itself: the first admin and the components' service users.
PLATFORM_ACCOUNT = "accords"
NAME_PATTERN = r"[a-z0-9][a-z0-9_.@\-]{0,63}"
MIN_PASSWORD_LENGTH = 8
#: argon2 hashes anything, but hashing megabytes on request is a denial of service.
MAX_PASSWORD_LENGTH = 256
DEFAULT_TOKEN_TTL = 3600
MAX_TOKEN_TTL = 30 * 24 * 3600

_ACTIONS = "http://scheme.compatibleone.fr/scheme/compatible/{}/action#"
_STATE = ("active", "disabled")


def _toggles(term: str) -> tuple[Action, Action]:
    return (Action(_ACTIONS.format(term), "disable", title=f"Refuse every login and token of this {term}",
                   enabled_in=("active",), target_state="disabled"),
            Action(_ACTIONS.format(term), "enable", title=f"Accept this {term} again",
                   enabled_in=("disabled",), target_state="active"))


ACCOUNT_ACTIONS = _toggles("account")
ACCOUNT = Kind(
    SCHEME, "account", title="An account: who owns entities and is billed for them", parent=RESOURCE,
    location="/account/", state_attribute="occi.account.state", actions=ACCOUNT_ACTIONS,
    attributes=(
        Attribute("occi.account.name", required=True, mutable=False, pattern=NAME_PATTERN,
                  description="Unique name; the account's location is /account/NAME."),
        Attribute("occi.account.legal", description="Legal name of the organisation."),
        Attribute("occi.account.email", description="Contact address."),
        Attribute("occi.account.state", type="enum", enum=_STATE, required=True, mutable=False, default="active",
                  server_managed=True, description="disabled: none of its users may log in or use a token."),
    ),
)

PASSWORD = Action(
    _ACTIONS.format("user"), "password", title="Change the password (users change their own)",
    attributes=(
        Attribute("current", description="The current password (required unless an admin resets it)."),
        Attribute("password", required=True, description="The new password."),
    ))
USER_ACTIONS = (*_toggles("user"), PASSWORD)
USER = Kind(
    SCHEME, "user", title="A person or component that logs in", parent=RESOURCE, location="/user/",
    state_attribute="occi.user.state", actions=USER_ACTIONS,
    attributes=(
        Attribute("occi.user.name", required=True, mutable=False, pattern=NAME_PATTERN,
                  description="Unique login name; the user's location is /user/NAME."),
        Attribute("occi.user.password", required=True, secret=True,
                  description=f"The password ({MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters); "
                              "only its argon2id hash is kept."),
        Attribute("occi.user.account", required=True, mutable=False, pattern=NAME_PATTERN,
                  description="Name of the account the user acts for (it must exist)."),
        Attribute("occi.user.roles", type="array", required=True, default=["provider"],
                  description="Roles: " + ", ".join(ROLES) + "."),
        Attribute("occi.user.email", description="Contact address."),
        Attribute("occi.user.state", type="enum", enum=_STATE, required=True, mutable=False, default="active",
                  server_managed=True, description="disabled: the user may not log in; its tokens stop working."),
        Attribute("occi.user.failures", type="integer", server_managed=True, mutable=False, default=0,
                  description="Failed logins since the last success (logins slow down as it grows)."),
        Attribute("occi.user.retryAfter", type="number", server_managed=True, mutable=False,
                  description="No login is tried before this time (seconds since the epoch)."),
        Attribute("occi.user.lastLogin", type="datetime", server_managed=True, mutable=False,
                  description="Time of the last successful login."),
        Attribute("occi.user.passwordChanged", type="datetime", server_managed=True, mutable=False,
                  description="When the password was last set; tokens issued before it stop working."),
    ),
)

REVOKE = Action(_ACTIONS.format("authorization"), "revoke", title="Stop accepting this token",
                enabled_in=("active",), target_state="revoked")
AUTHORIZATION = Kind(
    SCHEME, "authorization", title="A bearer token: create one to log in, delete or revoke it to log out",
    parent=RESOURCE, location="/authorization/", state_attribute="occi.authorization.state", actions=(REVOKE,),
    attributes=(
        Attribute("occi.authorization.user", mutable=False, server_managed=True,
                  description="Name of the user the token acts for (who created it)."),
        Attribute("occi.authorization.account", mutable=False, server_managed=True,
                  description="Account of that user."),
        Attribute("occi.authorization.ttl", type="integer", mutable=False, default=DEFAULT_TOKEN_TTL,
                  minimum=60, maximum=MAX_TOKEN_TTL, description="Lifetime in seconds."),
        Attribute("occi.authorization.from", type="datetime", mutable=False, server_managed=True,
                  description="When the token was issued."),
        Attribute("occi.authorization.expires", type="number", mutable=False, server_managed=True,
                  description="When it stops working (seconds since the epoch)."),
        Attribute("occi.authorization.description", description="What the token is for (e.g. the host of a CLI)."),
        Attribute("occi.authorization.digest", mutable=False, server_managed=True, secret=True,
                  description="SHA-256 of the token; the token itself is shown once, in the "
                              "X-OCCI-Authorize header of the creation's response."),
        Attribute("occi.authorization.state", type="enum", enum=("active", "revoked"), required=True,
                  mutable=False, default="active", server_managed=True,
                  description="revoked: refused from now on (within the components' cache time)."),
    ),
)

CATEGORIES = (ACCOUNT, USER, AUTHORIZATION, *ACCOUNT_ACTIONS, *USER_ACTIONS, REVOKE)


def user_location(name: str) -> str:
    """Where the user named ``name`` lives: names decide locations."""
    return f"{USER.location}{name}"


def account_location(name: str) -> str:
    return f"{ACCOUNT.location}{name}"
