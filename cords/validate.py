"""Apply the CORDS rules (:mod:`cords.rules`) to a parsed document, reporting every problem.

    kind = validate(root, kind=None, locate=doc.location, locate_attribute=doc.attribute_location,
                    diagnostics=diagnostics)

``root`` is an lxml element whose tags carry no namespace (the reader strips them). The walk
goes on after a problem so one run reports everything; it does not descend into elements
the kind does not know (their content would only add noise).

Two kinds of in-place normalisation, so later stages see one spelling: enumerated values
are rewritten in the rules' spelling (``TCP`` -> ``tcp``) and a prefixed terms type loses
its prefix (``sla5:services`` -> ``services``, with a warning). Defaults are *not* filled
in: an element without attributes stays recognisable as a reference by name.
"""
from __future__ import annotations

from typing import Callable

from cords import rules
from cords.diagnostics import ERROR, Diagnostics, Location, register
from cords.rules_types import ElementRule

__all__ = ["validate", "NOT_A_DOCUMENT", "WRONG_KIND", "UNKNOWN_ELEMENT", "MISPLACED_ELEMENT", "UNKNOWN_ATTRIBUTE",
           "MISSING_ATTRIBUTE", "MISSING_CHILD", "EXTRA_CHILD", "EXCLUSIVE_CHILDREN", "UNEXPECTED_TEXT",
           "RESERVED_NAME"]

NOT_A_DOCUMENT = register("cords-not-a-document", "the root element is none of manifest, import, agreement, "
                                                  "provider")
WRONG_KIND = register("cords-wrong-kind", "the document is not of the kind expected here (e.g. an agreement "
                                          "where a manifest was asked for)")
UNKNOWN_ELEMENT = register("cords-unknown-element", "an element the rules of this document kind do not have")
MISPLACED_ELEMENT = register("cords-misplaced-element", "a known element inside a parent that cannot hold it")
UNKNOWN_ATTRIBUTE = register("cords-unknown-attribute", "an attribute the rules do not have (ignored; often one "
                                                        "an older schema had)")
MISSING_ATTRIBUTE = register("cords-missing-attribute", "a required attribute is absent or empty (e.g. a node "
                                                        "without a name)")
MISSING_CHILD = register("cords-missing-child", "fewer child elements of one tag than the element needs (e.g. an "
                                                "image without its system)")
EXTRA_CHILD = register("cords-extra-child", "more child elements of one tag than the element allows (e.g. two "
                                            "systems in one image)")
EXCLUSIVE_CHILDREN = register("cords-exclusive-children", "children that exclude each other (a network with "
                                                          "both ports and endpoints)")
UNEXPECTED_TEXT = register("cords-unexpected-text", "text inside an element that holds none (ignored)")
RESERVED_NAME = register("cords-reserved-name", "a value the platform reserves (the manifest name simple)")

# Attributes of these namespaces are XML machinery (xml:lang, xsi:schemaLocation), not CORDS.
_XML_NAMESPACES = ("{http://www.w3.org/XML/1998/namespace}", "{http://www.w3.org/2001/XMLSchema-instance}")


STORE_DOCUMENT = register("cords-store-document", "a category store of the original platform "
                                                  "(<cords_prices>) read as an import of its records")


def validate(root, *, kind: str | None, locate: Callable[[object], Location],
             locate_attribute: Callable[[object, str], Location], diagnostics: Diagnostics) -> str:
    """Check ``root`` against the rules of ``kind`` (None: the kind its root element names).

    Returns the document's kind, which is the root's kind when it differs from the one asked
    for (reported as an error), or "" when the root is no CORDS document."""
    if kind is None and _store_to_import(root, locate, diagnostics):
        kind = "import"
    found = _kind_of(root.tag)
    if kind is not None:
        rules.document_kind(kind)                      # an unknown kind is a programming error
        if kind != found:
            expected = rules.KINDS[kind].root
            diagnostics.error(WRONG_KIND, f"expected a {kind} document (root <{expected}>), found <{root.tag}>"
                                          + (f", which is a {found} document" if found else ""), locate(root))
    if found is None:
        if kind is None:
            note = rules.root_note(root.tag)
            diagnostics.error(NOT_A_DOCUMENT, f"<{root.tag}> is not a CORDS document: the root must be one of "
                                              f"{', '.join('<%s>' % k.root for k in rules.KINDS.values())}"
                                              + (f" ({note})" if note else ""), locate(root))
        return ""
    _Walk(rules.KINDS[found].elements, locate, locate_attribute, diagnostics).element(root, None)
    return found


def _store_to_import(root, locate, diagnostics: Diagnostics) -> bool:
    """A category store persisted by an original server (<cords_prices> of <cords_price> records,
    in the corpus' imports/) is read as an import of those records, with a warning. The tree
    is renamed in place (cords_price -> price) and the store-only attributes (id, state) go."""
    tag = root.tag if isinstance(root.tag, str) else ""
    category = tag[len("cords_"):-1] if tag.startswith("cords_") and tag.endswith("s") else ""
    if not category or category not in rules.KINDS["import"].elements:
        return False
    diagnostics.warning(STORE_DOCUMENT, f"<{tag}> is a category store persisted by an original ACCORDS server; its "
                                        f"<cords_{category}> records are read as an import of {category} records "
                                        "(their id and state are dropped)", locate(root))
    root.tag = "import"
    if root.get("name") is None:
        root.set("name", tag)
    for child in root:
        if isinstance(child.tag, str) and child.tag == f"cords_{category}":
            child.tag = category
            for stored in ("id", "state"):
                if stored in child.attrib:
                    del child.attrib[stored]
    return True


def _kind_of(tag) -> str | None:
    return rules.kind_of_root(tag) if isinstance(tag, str) else None


class _Walk:
    def __init__(self, elements: dict[str, ElementRule], locate, locate_attribute, diagnostics: Diagnostics):
        self.elements, self.locate, self.at, self.diagnostics = elements, locate, locate_attribute, diagnostics

    def element(self, node, parent: ElementRule | None) -> None:
        rule = self.elements.get(node.tag)
        if rule is None:
            self._unknown(node, parent)
            return
        if parent is not None and parent.child(node.tag) is None:
            self.diagnostics.error(MISPLACED_ELEMENT, f"<{node.tag}> cannot be inside <{parent.tag}>"
                                                      f"{_allowed(parent)}", self.locate(node))
        self.attributes(node, rule)
        children = [child for child in node if isinstance(child.tag, str)]
        self.text(node, rule)
        self.counts(node, rule, children)
        for child in children:
            self.element(child, rule)

    def _unknown(self, node, parent: ElementRule | None) -> None:
        note = rules.ELEMENT_NOTES.get(node.tag)
        where = f" inside <{parent.tag}>{_allowed(parent)}" if parent is not None else ""
        self.diagnostics.error(UNKNOWN_ELEMENT, f"unknown element <{node.tag}>{where}" + (f"; {note}" if note else ""),
                               self.locate(node))

    def attributes(self, node, rule: ElementRule) -> None:
        for name, value in list(node.attrib.items()):
            if name.startswith(_XML_NAMESPACES):
                continue
            declared = rule.attribute(name)
            if declared is None:
                note = rules.ATTRIBUTE_NOTES.get((rule.tag, name))
                known = ", ".join(a.name for a in rule.attributes) or "none"
                self.diagnostics.warning(UNKNOWN_ATTRIBUTE, f"<{rule.tag}> has no attribute {name!r}, it is "
                                                            f"ignored" + (f": {note}" if note else f" (known: {known})"),
                                         self.at(node, name))
                continue
            if value == "" and declared.type.check is None:
                continue                                # an empty string is a string
            checked = declared.type(value)
            if checked.error is not None:
                self.diagnostics.error(declared.type.code, f"<{rule.tag}> {name}: {checked.error}",
                                       self.at(node, name))
                continue
            if checked.warning is not None:
                self.diagnostics.warning(checked.warning[0], f"<{rule.tag}> {name}: {checked.warning[1]}",
                                         self.at(node, name))
            if checked.value != value:
                node.set(name, checked.value)
            for reserved, why in declared.reserved:
                if checked.value == reserved:
                    self.diagnostics.error(RESERVED_NAME, f"<{rule.tag}> {name}={reserved!r} is reserved: {why}",
                                           self.at(node, name))
        for declared in rule.attributes:
            if declared.required and not (node.get(declared.name) or "").strip():
                self.diagnostics.error(MISSING_ATTRIBUTE, f"<{rule.tag}> needs a {declared.name}"
                                       + (f" ({declared.doc})" if declared.doc else ""), self.locate(node))

    def text(self, node, rule: ElementRule) -> None:
        """Text where the element holds none: before the first child, or after a child (its tail)."""
        if rule.text:
            return
        if node.text and node.text.strip():
            self._text(node.text, f"inside <{rule.tag}>", rule.tag, self.locate(node))
        for child in node:                               # comments too: their tail is the parent's text
            if child.tail and child.tail.strip():
                after = f"<{child.tag}>" if isinstance(child.tag, str) else "a comment"
                self._text(child.tail, f"after {after} in <{rule.tag}>", rule.tag, self.locate(child))

    def _text(self, text: str, where: str, tag: str, location: Location) -> None:
        shown = text.strip()
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        self.diagnostics.warning(UNEXPECTED_TEXT, f"text {shown!r} {where} is ignored: <{tag}> holds no text",
                                 location)

    def counts(self, node, rule: ElementRule, children: list) -> None:
        by_tag: dict[str, list] = {}
        for child in children:
            by_tag.setdefault(child.tag, []).append(child)
        # Without child elements an element may stand for an earlier definition (CORDS.md §7.2).
        reference = rule.reusable and not children
        for wanted in rule.children:
            present = by_tag.get(wanted.tag, [])
            if wanted.max is not None and len(present) > wanted.max:
                self.diagnostics.error(EXTRA_CHILD, f"<{rule.tag}> holds {wanted.cardinality()} <{wanted.tag}>, "
                                                    f"this is number {wanted.max + 1}", self.locate(present[wanted.max]))
            # infrastructure compute="<url>" gives the compute by reference, as the XSDs allow.
            given_as_attribute = rule.attribute(wanted.tag) is not None and bool((node.get(wanted.tag) or "").strip())
            if len(present) < wanted.min and not reference and not given_as_attribute:
                report = self.diagnostics.error if wanted.below_min == ERROR else self.diagnostics.warning
                name = node.get("name")
                report(MISSING_CHILD, f"<{rule.tag}{f' name={name!r}' if name else ''}> needs {wanted.cardinality()} "
                                      f"<{wanted.tag}>, it has {len(present) or 'none'}"
                                      + (f": {wanted.why}" if wanted.why else ""), self.locate(node))
        for group in rule.exclusive:
            used = [tag for tag in group if tag in by_tag]
            if len(used) > 1:
                first = by_tag[used[1]][0]
                self.diagnostics.error(EXCLUSIVE_CHILDREN, f"<{rule.tag}> holds either "
                                                           f"{' or '.join('<%s>' % t for t in group)} children, "
                                                           f"not both <{used[0]}> and <{used[1]}>", self.locate(first))


def _allowed(parent: ElementRule) -> str:
    tags = [c.tag for c in parent.children]
    return f" (it holds {', '.join('<%s>' % t for t in tags)})" if tags else f" (<{parent.tag}> holds no elements)"
