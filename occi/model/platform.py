"""OCCI Platform (GFD.227): applications, components and their links."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind, Mixin
from occi.model.core import LINK, RESOURCE

__all__ = ["PLATFORM", "APPLICATION", "COMPONENT", "COMPONENTLINK", "APP_TPL", "RES_TPL",
           "DATABASE", "DATABASELINK", "CATEGORIES"]

PLATFORM = "http://schemas.ogf.org/occi/platform#"
_STATES = ("active", "inactive", "error")


def _lifecycle(kind: str) -> tuple[Action, Action]:
    scheme = f"http://schemas.ogf.org/occi/platform/{kind}/action#"
    return (Action(scheme, "start", title=f"Start the {kind}", enabled_in=("inactive", "error"),
                   target_state="active"),
            Action(scheme, "stop", title=f"Stop the {kind}", enabled_in=("active",),
                   target_state="inactive"))


def _state(prefix: str) -> tuple[Attribute, Attribute]:
    return (Attribute(f"{prefix}.state", type="enum", enum=_STATES, mutable=False, required=True,
                      default="inactive", server_managed=True, description="Current state."),
            Attribute(f"{prefix}.state.message", mutable=False, server_managed=True,
                      description="Human-readable explanation of the current state."))


APPLICATION = Kind(
    PLATFORM, "application", title="Application", parent=RESOURCE, location="/application/",
    state_attribute="occi.app.state", actions=_lifecycle("application"),
    attributes=(
        Attribute("occi.app.name", required=True, description="Name of the application."),
        Attribute("occi.app.context", mutable=False, description="URL for contextualizing the app."),
        Attribute("occi.app.url", mutable=False, description="DNS entry of the application."),
        *_state("occi.app"),
    ),
)

COMPONENT = Kind(PLATFORM, "component", title="Component", parent=RESOURCE, location="/component/",
                 state_attribute="occi.component.state", actions=_lifecycle("component"),
                 attributes=_state("occi.component"))

COMPONENTLINK = Kind(PLATFORM, "componentlink", title="Component Link", parent=LINK,
                     location="/link/componentlink/")

APP_TPL = Mixin(PLATFORM, "app_tpl", title="Application Template", exclusive=True, applies=(APPLICATION,),
                location="/mixin/app_tpl/")
RES_TPL = Mixin(PLATFORM, "res_tpl", title="Platform Resource Template", exclusive=True, location="/mixin/res_tpl/")

DATABASE = Mixin(PLATFORM, "database", title="Database component", applies=(COMPONENT,),
                 location="/mixin/database/",
                 attributes=(Attribute("occi.database.version", mutable=False, required=True,
                                       description="Version of the database."),))

DATABASELINK = Mixin(
    PLATFORM, "databaselink", title="Database link", applies=(COMPONENTLINK,), location="/mixin/databaselink/",
    attributes=(Attribute("occi.database.uri", mutable=False, required=True,
                          description="Connection URI of the database instance."),
                Attribute("occi.database.username", mutable=False, description="User name."),
                Attribute("occi.database.token", mutable=False, description="Access token.")),
)

CATEGORIES = (APPLICATION, *APPLICATION.actions, COMPONENT, *COMPONENT.actions, COMPONENTLINK,
              APP_TPL, RES_TPL, DATABASE, DATABASELINK)
