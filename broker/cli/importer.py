"""Writing imported records (:mod:`cords.imports`) to the components that serve their kinds.

Each record goes to whichever server publishes its kind (the publisher resolves the type
id; accounts and users go to the security component the CLI knows). Records are matched by
name, so that importing a document twice changes nothing:

* no record of that kind has the name: it is **created**;
* one has, with every attribute the document gives equal: **unchanged**;
* one has, with some different: those attributes are **updated** (a partial update, POST);
  attributes the document does not give are left alone, and nothing is ever deleted;
* a user is never created (it needs a password and a platform role, chosen by an admin):
  **skipped** with the `accords users add` line to run, or **unchanged** when it exists
  in the document's account;
* anything refused or unreachable: **failed**, with the server's reason; the import goes on
  with the next record.

With ``dry_run`` the same lookups are made and nothing is written: the outcomes are
``would-create`` and ``would-update``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from cords.imports import KINDS, ImportDocument, Record, Reference
from occi.client import OcciClient
from occi.errors import BadRequest, Conflict, NotFound, OcciError
from occi.model.core import LINK
from occi.publisher.client import PublisherClient
from occi.security.model import ACCOUNT, USER, account_location, user_location

__all__ = ["Row", "Targets", "Importer", "OUTCOMES", "FAILED"]

CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED = "created", "updated", "unchanged", "skipped", "failed"
WOULD_CREATE, WOULD_UPDATE = "would-create", "would-update"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED, WOULD_CREATE, WOULD_UPDATE)
JSON_MEDIA = "application/occi+json"
#: The location of a record a dry run would create (it has none yet).
_NEW = "(new)"


@dataclass
class Row:
    kind: str
    name: str | None
    outcome: str
    location: str | None = None
    message: str | None = None
    line: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "outcome": self.outcome, "location": self.location,
                "message": self.message, "line": self.line, "notes": list(self.notes)}


class Targets:
    """Clients of the servers of each kind: found through the publisher once, then reused.

    ``client_factory(url)`` makes the OcciClient of a server (the CLI's: its credentials and
    timeouts). A kind nobody publishes is remembered too, so that 49 metrics cost one
    resolution either way."""

    def __init__(self, *, publisher: str | None, security: str | None, client_factory: Callable[[str], OcciClient]):
        self.publisher_url, self.security_url = publisher, security
        self.client_factory = client_factory
        self._publisher: PublisherClient | None = None
        self._urls: dict[str, str | OcciError] = {}
        self._clients: dict[str, OcciClient] = {}

    def url_for(self, type_id: str) -> str:
        if type_id in (ACCOUNT.type_id, USER.type_id) and self.security_url:
            return self.security_url
        if type_id not in self._urls:
            if not self.publisher_url:
                raise NotFound("no publisher is known to find the server of "
                               f"{type_id.rpartition('#')[2]} (pass --publisher URL or set $ACCORDS_PUBLISHER)",
                               code="no-publisher")
            if self._publisher is None:
                self._publisher = PublisherClient(self.publisher_url, client=self.client_factory(self.publisher_url))
            try:
                self._urls[type_id] = self._publisher.url_for(type_id)
            except OcciError as exc:          # nobody publishes it, or the publisher is unreachable
                self._urls[type_id] = exc
        found = self._urls[type_id]
        if isinstance(found, OcciError):
            raise found
        return found

    def client(self, type_id: str) -> OcciClient:
        return self.client_at(self.url_for(type_id))

    def client_at(self, url: str) -> OcciClient:
        if url not in self._clients:
            self._clients[url] = self.client_factory(url)
        return self._clients[url]


def _path(location: str) -> str:
    return urlsplit(location).path


def _same(current: Any, wanted: Any) -> bool:
    numbers = (int, float)
    if isinstance(current, numbers) and isinstance(wanted, numbers) and not isinstance(current, bool) \
            and not isinstance(wanted, bool):
        return float(current) == float(wanted)
    return current == wanted


class Importer:
    """Writes the records of documents, in order, remembering where each record is (for the
    references and links of the next ones, also across documents of one run)."""

    def __init__(self, targets: Targets, *, dry_run: bool = False,
                 progress: Callable[[int, int], None] | None = None):
        self.targets = targets
        self.dry_run = dry_run
        self.progress = progress or (lambda done, total: None)
        self.located: dict[Reference, str] = {}
        self.failed: set[Reference] = set()          # records of this run that could not be written
        self._linked: dict[str, set[str]] = {}        # source location -> target paths linked from it

    def run(self, document: ImportDocument) -> list[Row]:
        rows = []
        total = len(document.records)
        for done, record in enumerate(document.records, start=1):
            rows.append(self.one(record))
            self.progress(done, total)
        return rows

    def one(self, record: Record) -> Row:
        row = Row(kind=record.kind, name=record.name, outcome=FAILED, line=record.line, notes=list(record.notes))
        try:
            if record.kind == "user":
                self._user(record, row)
            else:
                self._upsert(record, row)
        except OcciError as exc:
            row.outcome, row.message = FAILED, exc.message
            if record.name:
                self.failed.add(record.key)
                self.located.pop(record.key, None)
        return row

    # -- records ---------------------------------------------------------------------------------
    def _upsert(self, record: Record, row: Row) -> None:
        client = self.targets.client(record.type_id)
        wanted = dict(record.attributes)
        for attribute, reference in record.references.items():
            wanted[attribute] = self._resolve(reference)
        existing = self._find(client, record)
        if existing is None:
            if self.dry_run:
                row.outcome, row.location = WOULD_CREATE, None
                self.located[record.key] = _NEW
            else:
                row.outcome, row.location = CREATED, client.create(record.type_id, attributes=wanted)
        else:
            row.location = existing.location
            changed = {name: value for name, value in wanted.items() if not _same(existing.attributes.get(name), value)}
            if not changed:
                row.outcome = UNCHANGED
            else:
                names = ", ".join(name.rpartition(".")[2] for name in changed)
                row.outcome = WOULD_UPDATE if self.dry_run else UPDATED
                row.message = f"{'would change' if self.dry_run else 'changed'}: {names}"
                if not self.dry_run:
                    client.update(existing.location, attributes=changed)
        if record.name:
            self.located[record.key] = row.location or _NEW
        if record.linked_from is not None:
            self._link_from(record, row)

    def _resolve(self, reference: Reference) -> str:
        """The URL of a record the document names: one written earlier in this run, else one
        the platform has (by name)."""
        if reference in self.failed:
            raise OcciError(f"not written: the {reference.kind} {reference.name} it refers to failed (above)",
                            code="reference-failed")
        if reference not in self.located:
            client = self.targets.client(KINDS[reference.kind].type_id)
            found = client.list_entities(KINDS[reference.kind].location,
                                         filters={f"occi.{reference.kind}.name": reference.name})
            if not found:
                raise NotFound(f"{reference.kind} {reference.name!r} does not exist: import it first (or in the "
                               "same run, before this document)", code="unknown-reference")
            self.located[reference] = found[0].location
        location = self.located[reference]
        if location == _NEW:
            return f"(the {reference.kind} {reference.name} this import would create)"
        return location

    def _find(self, client: OcciClient, record: Record):
        """The platform's record of that kind and name, if any."""
        if record.kind == "account":
            if not record.name:
                raise BadRequest("an account needs a name", code="missing-name")
            try:
                return client.get(account_location(record.name))
            except NotFound:
                return None
        if not record.name:
            return None
        kind = KINDS[record.kind]
        found = client.list_entities(kind.location, filters={f"occi.{record.kind}.name": record.name})
        if len(found) > 1:
            raise Conflict(f"{len(found)} {record.kind}s are named {record.name!r}; remove all but one",
                           code="duplicate-name")
        return found[0] if found else None

    def _link_from(self, record: Record, row: Row) -> None:
        """A link from the record that holds this one (provider -> quota), if it is not there yet."""
        source = self.located.get(record.linked_from)
        if source is None or row.outcome == FAILED:
            return
        if source == _NEW or row.location is None:
            added = True                       # a dry run: neither end exists yet
        else:
            linked = self._linked.get(source)
            if linked is None:
                linked = self._linked[source] = {_path(link.target) for link in
                                                 self.targets.client(KINDS[record.linked_from.kind].type_id)
                                                 .get(source).links if link.target}
            added = _path(row.location) not in linked
            if added and not self.dry_run:
                self._create_link(KINDS[record.linked_from.kind].type_id, source, row.location)
                linked.add(_path(row.location))
        if added and row.outcome == UNCHANGED:       # a new record's link goes without saying
            row.outcome = WOULD_UPDATE if self.dry_run else UPDATED
            row.message = (f"{'would be ' if self.dry_run else ''}linked from {record.linked_from.kind} "
                           f"{record.linked_from.name}")

    def _create_link(self, source_type_id: str, source: str, target: str) -> None:
        # OcciClient.create speaks of resources; a link of its own is POSTed with its ends.
        body = {"kind": LINK.type_id, "source": {"location": source}, "target": {"location": target}}
        self.targets.client(source_type_id).transport.request(
            "POST", LINK.location, headers={"Content-Type": JSON_MEDIA, "Accept": JSON_MEDIA},
            body=json.dumps(body).encode("utf-8"))

    # -- users ---------------------------------------------------------------------------------------
    def _user(self, record: Record, row: Row) -> None:
        client = self.targets.client(USER.type_id)
        account = record.attributes.get("occi.user.account")
        if not record.name:
            raise BadRequest("a user needs a name", code="missing-name")
        try:
            existing = client.get(user_location(record.name))
        except NotFound:
            existing = None
        if existing is not None:
            row.location = existing.location
            held = existing.attributes.get("occi.user.account")
            if account and held != account:
                row.outcome, row.message = FAILED, f"user {record.name} exists in account {held}, not {account}"
            else:
                row.outcome = UNCHANGED
            return
        # Never created: a user needs a password and a platform role, which an admin chooses (the
        # document's role is CORDS's: its "admin" administers an account, not the platform).
        row.outcome = SKIPPED
        row.message = f"not created: accords users add {record.name} --account {account or 'ACCOUNT'} --role ROLE"
        if record.role:
            row.message += f" (CORDS role in the document: {record.role})"
