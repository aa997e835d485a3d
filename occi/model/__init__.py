"""The OCCI category model: attributes, kinds, mixins, actions and the standard models."""
from occi.model.attribute import Attribute, AttributeValueError
from occi.model.category import Action, Category, Kind, Mixin, split_type_id
from occi.model.registry import Model

__all__ = ["Attribute", "AttributeValueError", "Action", "Category", "Kind", "Mixin", "Model",
           "split_type_id"]
