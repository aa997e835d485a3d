"""From a checked import or provider quota document to the records the platform keeps (CORDS.md §10, §11).

    checked = cords.check.check_file("prices.xml")       # no errors (the caller checks)
    document = records_of(checked)
    for record in document.records: ...                   # in the order they must be written

Pure data, no network: ``accords import`` (:mod:`broker.cli.importer`) sends the records to
the components that serve their kinds. What becomes what:

* ``metric`` -> a monitors ``metric``; ``price`` and ``geolocation`` -> placement's;
* a provider quota document -> its quotas' nested ``price`` records, then the ``provider``,
  then one ``quota`` per ``<quota>``, with ``occi.quota.provision`` and ``occi.quota.price``
  naming their provider and price (:class:`Reference`, resolved to URLs once they exist) and a
  link provider -> quota (``occi.provider.quotas`` counts those links);
* ``account`` -> a security ``account`` (its legal name; the security component keeps no
  number, date or security); its ``user`` children (and top-level users) are *reported*,
  never created: a user needs a password and a platform role, which an admin chooses
  (``accords users add``). A password in the document is never read into anything;
* infrastructure, compute, storage, network, port, image, system, package, security and
  action definitions are the parser component's: counted here, sent as the whole document.

Names beginning with ':' are scoped by the document's name (:func:`cords.manifest.scoped`).
Values are typed as the categories declare them (``samples="1"`` is the integer 1); empty
values and the original platform's ``"(null)"`` are left out (CORDS.md §13), as are the
store-only ``id`` and ``state``. Attributes the category has not, or that the server
maintains (a quota's ``reserved`` and ``consumed``, a provider's ``quotas``), are dropped with
a note.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cords.manifest import scoped
from cords.model import offers
from occi.model.category import Kind
from occi.security.model import ACCOUNT, USER

__all__ = ["Reference", "Record", "ImportDocument", "NotImportable", "records_of", "PARSER_TAGS", "KINDS"]

#: Definitions an import document may hold that the parser component serves.
PARSER_TAGS = ("infrastructure", "compute", "storage", "network", "port", "image", "system", "package", "security",
               "action")
#: The kinds of the records an import creates, by term.
KINDS: dict[str, Kind] = {kind.term: kind for kind in (*offers.CATEGORIES, ACCOUNT, USER)}
#: Attributes that hold the URL of a record documents name (by name, or by URL).
_REFERENCES = {("provider", "price"): "price", ("quota", "price"): "price"}
#: What the store of an original server kept besides the record (dropped silently).
_STORE_ONLY = ("id", "state")
_NULLS = ("", "(null)")


class NotImportable(Exception):
    """The document is no import or provider document (a manifest, an agreement ...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reference:
    """A record named in a document, whose URL is known once it exists."""

    kind: str
    name: str


@dataclass
class Record:
    kind: str                                   # term: metric, price, geolocation, provider, quota, account, user
    name: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    #: attribute -> the record whose URL it holds.
    references: dict[str, Reference] = field(default_factory=dict)
    #: A link from that record to this one (provider -> quota).
    linked_from: Reference | None = None
    notes: list[str] = field(default_factory=list)
    #: False for users: reported, never created.
    create: bool = True
    #: A user's role in the document (CORDS's: ``admin`` administers its account); never granted.
    role: str | None = None

    @property
    def type_id(self) -> str:
        return KINDS[self.kind].type_id

    @property
    def key(self) -> Reference:
        return Reference(self.kind, self.name or "")


@dataclass
class ImportDocument:
    file: str
    kind: str                                   # "import" or "provider"
    name: str | None
    records: list[Record] = field(default_factory=list)
    #: Parser definitions by tag (the whole document goes to the parser when there are any).
    definitions: dict[str, int] = field(default_factory=dict)


def records_of(checked) -> ImportDocument:
    """The records of a checked document (:class:`cords.check.Checked` without errors)."""
    if checked.document is None or checked.kind not in ("import", "provider"):
        raise NotImportable(_not_importable(checked))
    root = checked.document.root
    reader = _Reader(checked.document, root.get("name") or "")
    document = ImportDocument(file=checked.name, kind=checked.kind, name=root.get("name"))
    if checked.kind == "provider":
        document.records = reader.provider(root)
        return document
    definitions: Counter = Counter()
    for element in _elements(root):
        if element.tag in PARSER_TAGS:
            definitions[element.tag] += 1
        elif element.tag in ("metric", "price", "geolocation"):
            document.records.append(reader.record(element, KINDS[element.tag]))
        elif element.tag == "account":
            document.records += reader.account(element)
        elif element.tag == "user":
            document.records.append(reader.user(element, account=reader.clean(element.get("account"))))
    document.definitions = dict(definitions)
    return document


def _not_importable(checked) -> str:
    if checked.kind == "manifest":
        return f"a manifest, not an import or provider document: submit it with `accords submit {checked.name}`"
    if checked.kind == "agreement":
        return ("an agreement, not an import or provider document: submit it with its manifest, "
                f"`accords submit MANIFEST --agreement {checked.name}`")
    return "not an import or provider quota document"


def _elements(parent) -> list:
    return [child for child in parent if isinstance(child.tag, str)]


class _Reader:
    def __init__(self, document, root_name: str):
        self.document = document
        self.root_name = root_name

    @staticmethod
    def clean(value: str | None) -> str | None:
        # Kept as written (an expression's spaces are its own); only absence is read into it.
        return None if value is None or value.strip() in _NULLS else value

    def name(self, element) -> str | None:
        return scoped(self.clean(element.get("name")), self.root_name)

    def line(self, element) -> int:
        return self.document.location(element).line

    def record(self, element, kind: Kind, *, name: str | None = None) -> Record:
        """A record of an offer kind from the element's attributes, typed by the category."""
        record = Record(kind=kind.term, name=name or self.name(element), line=self.line(element))
        if record.name:
            record.attributes[f"occi.{kind.term}.name"] = record.name
        for key, raw in element.attrib.items():
            value = self.clean(raw)
            if key == "name" or key in _STORE_ONLY or value is None or not isinstance(key, str) or "}" in key:
                continue
            attribute = f"occi.{kind.term}.{key}"
            definition = kind.attribute_map.get(attribute)
            if definition is None:
                record.notes.append(f"{key} is not kept: the {kind.term} category has no such attribute")
            elif definition.server_managed:
                record.notes.append(f"{key}={value} is ignored: the server maintains it")
            elif (kind.term, key) in _REFERENCES and not value.startswith(("http://", "https://")):
                record.references[attribute] = Reference(_REFERENCES[(kind.term, key)], scoped(value, self.root_name))
            else:
                typed = _typed(definition, value)
                if typed is None:
                    record.notes.append(f"{key}={value} is ignored: not a {definition.type}")
                else:
                    record.attributes[attribute] = typed
        if not record.name:
            record.notes.append(f"this {kind.term} has no name: re-importing the document creates it again")
        return record

    def provider(self, root) -> list[Record]:
        """Prices first (quotas refer to them), then the provider, then its quotas."""
        provider = self.record(root, KINDS["provider"])
        prices: list[Record] = []
        quotas: list[Record] = []
        for element in _elements(root):
            if element.tag != "quota":
                continue
            property_ = self.clean(element.get("property")) or "quota"
            quota = self.record(element, KINDS["quota"], name=self.name(element) or f"{provider.name}:{property_}")
            if not self.name(element):
                quota.notes.append(f"named {quota.name} (the document gives it no name)")
            quota.references["occi.quota.provision"] = provider.key
            quota.linked_from = provider.key
            for child in _elements(element):
                if child.tag == "price":
                    price = self.record(child, KINDS["price"], name=self.name(child) or f"{quota.name}:price")
                    prices.append(price)
                    quota.references["occi.quota.price"] = price.key
            quotas.append(quota)
        return [*prices, provider, *quotas]

    def account(self, element) -> list[Record]:
        name = self.name(element)
        account = Record(kind="account", name=name, line=self.line(element),
                         attributes={"occi.account.name": name} if name else {})
        legal = self.clean(element.get("legal"))
        if legal:
            account.attributes["occi.account.legal"] = legal
        dropped = [k for k in element.attrib if k not in ("name", "legal", "users", *_STORE_ONLY)
                   and self.clean(element.get(k)) is not None]
        if dropped:
            account.notes.append(f"{', '.join(sorted(dropped))} not kept: the security component's accounts "
                                 "have a name, a legal name and an e-mail address")
        users = [self.user(child, account=name) for child in _elements(element) if child.tag == "user"]
        return [account, *users]

    def user(self, element, *, account: str | None) -> Record:
        name = self.name(element)
        user = Record(kind="user", name=name, line=self.line(element), create=False,
                      attributes={"occi.user.account": account} if account else {})
        email = self.clean(element.get("email"))
        if email:
            user.attributes["occi.user.email"] = email
        user.role = self.clean(element.get("role"))
        if self.clean(element.get("password")) is not None:
            user.notes.append("the document holds a password for this user: it is not used (passwords are set "
                              "with `accords users add` or `accords users passwd`)")
        return user


def _typed(definition, value: str) -> Any:
    """The document's string as the attribute's type; None when it is not one."""
    try:
        if definition.type == "integer":
            return int(value)
        if definition.type == "number":
            number = float(value)
            return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    except ValueError:
        return None
    if definition.type == "enum" and definition.enum and value not in definition.enum:
        return None
    return value
