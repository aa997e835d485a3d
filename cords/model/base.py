"""How a CORDS category is declared: the scheme, and one factory per kind of attribute.

Every CORDS category follows the same conventions (CORDS.md §1, §12): the kind lives in
the CompatibleOne scheme, its actions in ``…/compatible/<term>/action#``, its attributes
are ``occi.<term>.<attribute>``. A reference to one instance (``x->cat``) is a string
holding the instance's URL; a linked collection (``x[*]->cat``) is a set of links in
``/link/`` whose attribute only counts them, as the original platform's records did
(``nodes="1"``); ``state`` is an integer. The factories below encode these rules once so
that the declarations read as the §12 lists do and cannot drift from the conventions.
"""
from __future__ import annotations

from typing import Any

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind
from occi.model.core import RESOURCE
from occi.publisher.model import SCHEME

__all__ = ["SCHEME", "ACTION_SCHEME", "Attributes", "cords_kind", "cords_action"]

#: ``{}`` is the category's term (the security and publisher models use the same form).
ACTION_SCHEME = "http://scheme.compatibleone.fr/scheme/compatible/{}/action#"


class Attributes:
    """The attribute factory of one category: ``a = Attributes("node"); a.name(), a.ref(...)``."""

    def __init__(self, term: str):
        self.term = term

    def __call__(self, attribute: str, description: str, **options: Any) -> Attribute:
        """A plain attribute (a string unless ``type`` says otherwise)."""
        return Attribute(f"occi.{self.term}.{attribute}", description=description, **options)

    def name(self, description: str | None = None, *, required: bool = False) -> Attribute:
        # Names are what documents reuse instances by (CORDS.md §7.2) and what Cordscript
        # paths name: renaming an instance would silently break both, so a name is set once.
        return self("name", description or f"Name of the {self.term}; documents reuse instances by name.",
                    mutable=False, required=required)

    def ref(self, attribute: str, target: str, description: str = "") -> Attribute:
        """A reference to one instance (``x->cat``): its URL."""
        text = f"URL of the {target}"
        return self(attribute, f"{text}; {description}" if description else f"{text}.")

    def count(self, attribute: str, what: str) -> Attribute:
        """A linked collection (``x[*]->cat``): the links live in /link/, the attribute counts them."""
        return self(attribute, f"Number of {what} linked from this {self.term} (links in /link/); "
                               "written by the server.",
                    type="integer", minimum=0, default=0, mutable=False, server_managed=True)

    def integer(self, attribute: str, description: str, **options: Any) -> Attribute:
        return self(attribute, description, type="integer", **options)

    def state(self, attribute: str = "state") -> Attribute:
        # The original platform's states are small integers (0: just created) that only the
        # serving component moves; the CORDS enum-less form is kept for its clients.
        return self(attribute, f"Lifecycle state of the {self.term} as a number (0: created); "
                               "written by the server.",
                    type="integer", minimum=0, default=0, mutable=False, server_managed=True)

    def enum(self, attribute: str, values: tuple[str, ...], description: str, **options: Any) -> Attribute:
        return self(attribute, description, type="enum", enum=values, **options)


def cords_kind(term: str, title: str, attributes: tuple[Attribute, ...], *, actions: tuple[Action, ...] = (),
               location: str | None = None, state_attribute: str | None = None) -> Kind:
    """A CORDS kind: a resource in the CompatibleOne scheme, served at ``/<term>/`` by default.

    ``state_attribute`` names a named-state attribute (services, contracts) whose actions
    declare where they apply; the older integer states leave it unset."""
    return Kind(SCHEME, term, title=title, parent=RESOURCE, location=location or f"/{term}/",
                attributes=attributes, actions=actions, state_attribute=state_attribute)


def cords_action(term: str, name: str, title: str, *, enabled_in: tuple[str, ...] | None = None,
                 attributes: tuple[Attribute, ...] = ()) -> Action:
    # Integer CORDS states carry no enabled_in: the component that serves the kind decides in
    # a hook what an action does and in which state. Named states (services, contracts) say
    # where an action applies, so a misplaced one is a 400 before any hook runs.
    return Action(ACTION_SCHEME.format(term), name, title=title, enabled_in=enabled_in, attributes=attributes)
