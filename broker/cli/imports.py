"""``accords import FILE...``: CORDS import and provider quota documents loaded into the platform.

Every file is read and checked first (``cords.check``), as ``accords validate`` does: when
any has an error, its ``file:line:col: CODE message`` lines go to stderr, nothing is sent and
the exit status is 1. Warnings (legacy repairs, a persisted store read as an import) are
printed and do not stop the import. Manifests and agreements are refused with a pointer to
``accords submit``.

Then each document's records (:mod:`cords.imports`) go to the components that serve their
kinds (:mod:`broker.cli.importer` says how records are matched by name and what "created",
"updated", "unchanged", "skipped" and "failed" mean); definitions for the parser
(infrastructure models and the like) go, as the whole document, to the parser's ``/submit``
(:func:`send_definitions`). The exit status is 1 when anything failed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from broker.cli.importer import FAILED, OUTCOMES, SKIPPED, Importer, Row, Targets
from broker.cli.output import CliError, emit, table
from broker.cli.session import CliCredentials, add_platform_options, locate, occi_client
from broker.cli.submit import MANIFEST_CATEGORY, DocumentRefused, send_document
from occi.errors import NotFound, OcciError

__all__ = ["add_parsers", "import_files", "send_definitions", "MANIFEST_CATEGORY"]

USERS_NOTE = ("  (an import never creates users: each needs a password and a platform role, which an admin "
              "chooses with `accords users add`; a document's CORDS role, e.g. admin of its account, is no "
              "platform role)")
#: Progress on stderr: not before this many seconds into a document, then at most this often.
PROGRESS_AFTER, PROGRESS_EVERY = 2.0, 2.0


def add_parsers(sub) -> None:
    command = sub.add_parser("import", help="load CORDS import documents (metrics, prices, geolocations, accounts, "
                                            "definitions) and provider quota documents into the platform")
    command.add_argument("files", nargs="+", help="import or provider quota documents (XML)")
    command.add_argument("--dry-run", action="store_true",
                         help="check the documents and compare them with the platform; change nothing")
    add_platform_options(command, publisher=True)
    command.set_defaults(run=import_files)


# -- checking ------------------------------------------------------------------------------------
def _checked(paths: list[str]):
    """Every document checked and converted, or CliError after printing every problem (nothing sent)."""
    from cords.check import check                  # the CLI starts fast for the other commands
    from cords.imports import NotImportable, records_of

    results, refused = [], []
    for path in paths:
        try:
            data = Path(path).read_bytes()          # read once: what is checked is what is sent
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
        checked = check(data, name=path)
        for problem in checked.diagnostics:
            print(problem, file=sys.stderr)
        document = None
        if checked.ok:
            try:
                document = records_of(checked)
            except NotImportable as exc:
                print(f"{path}: {exc.message}", file=sys.stderr)
        if document is None:
            refused.append(path)
        results.append((checked, document, data))
    return results, refused


def import_files(args) -> int:
    results, refused = _checked(args.files)
    if refused:
        if args.json:
            emit(args, {"ok": False, "dry_run": args.dry_run, "files": [
                {"file": checked.name, "ok": document is not None, "document": checked.kind or None,
                 "name": document.name if document else None, "records": [],
                 "problems": [p.as_dict() for p in checked.diagnostics]} for checked, document, _ in results]}, str)
        raise CliError(f"nothing was imported: {', '.join(refused)} cannot be imported (see above)")
    platform = locate(args)
    if any(d.definitions or any(r.kind not in ("account", "user") for r in d.records) for _, d, _ in results):
        platform.need_publisher()                   # how the servers of the other kinds are found
    credentials = CliCredentials(platform)
    targets = Targets(publisher=platform.publisher, security=platform.security,
                      client_factory=lambda url: occi_client(url, credentials))
    importer = Importer(targets, dry_run=args.dry_run)
    reports = []
    for checked, document, data in results:
        importer.progress = _Progress(checked.name)
        rows = importer.run(document)
        parser_answer = None
        if document.definitions:
            parser_answer, more = _definitions(targets, checked.name, document, data, dry_run=args.dry_run)
            rows += more
        reports.append({"file": checked.name, "ok": all(r.outcome != FAILED for r in rows),
                        "document": document.kind, "name": document.name,
                        "records": [r.as_dict() for r in rows], "definitions": document.definitions,
                        "parser": parser_answer, "problems": [p.as_dict() for p in checked.diagnostics]})
        print(f"{checked.name}: {_summary(rows)}", file=sys.stderr)
    ok = all(report["ok"] for report in reports)
    emit(args, {"ok": ok, "dry_run": args.dry_run, "files": reports}, _text)
    if not ok:
        failed = [report["file"] for report in reports if not report["ok"]]
        raise CliError(f"some records were not imported, from {', '.join(failed)} (see the failed rows)")
    return 0


class _Progress:
    """``FILE: 20/49 records`` on stderr for documents that take a while, every couple of seconds."""

    def __init__(self, name: str, *, clock=time.monotonic):
        self.name, self.clock = name, clock
        self.started = clock()
        self.last = self.started

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.started >= PROGRESS_AFTER and now - self.last >= PROGRESS_EVERY and done < total:
            print(f"accords import: {self.name}: {done}/{total} records", file=sys.stderr)
            self.last = now


def _summary(rows: list[Row]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.outcome] = counts.get(row.outcome, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (OUTCOMES.index(item[0]) if item[0] in OUTCOMES else 99))
    return ", ".join(f"{count} {outcome}" for outcome, count in ordered) or "nothing to import"


def _text(data: dict) -> str:
    blocks = []
    for report in data["files"]:
        title = f"{report['file']} ({report['document']} {report['name'] or ''})".replace(" )", ")")
        rows = report["records"]
        lines = [title, table(rows, (("kind", "KIND"), ("name", "NAME"), ("outcome", "OUTCOME"),
                                     ("location", "LOCATION")))]
        for row in rows:
            for text in filter(None, (row["message"], *row["notes"])):
                lines.append(f"  {row['kind']} {row['name'] or '(no name)'}: {text}")
        if any(row["kind"] == "user" and row["outcome"] == SKIPPED for row in rows):
            lines.append(USERS_NOTE)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# -- definitions: the parser's ----------------------------------------------------------------------
def send_definitions(platform_client_or_args, path: str, data: bytes) -> dict:
    """POST a document's raw bytes to the parser component's ``/submit``; its JSON answer
    (``created``, ``reused``, ``problems``).

    ``platform_client_or_args`` is a :class:`~broker.cli.importer.Targets` (the import's own
    connections) or the command's parsed arguments (the platform is then located from them).
    The parser is found through the publisher by the kind it serves, manifest."""
    targets = platform_client_or_args
    if not isinstance(targets, Targets):
        platform = locate(platform_client_or_args)
        credentials = CliCredentials(platform)
        targets = Targets(publisher=platform.publisher, security=platform.security,
                          client_factory=lambda url: occi_client(url, credentials))
    url = targets.url_for(MANIFEST_CATEGORY)
    try:
        return send_document(targets.client_at(url), path, data)
    except NotFound as exc:
        raise NotFound(f"the parser at {url} does not take documents at /submit ({exc.message}); "
                       f"{Path(path).name}'s definitions were not sent", code=exc.code) from None


def _definitions(targets: Targets, path: str, document, data: bytes, *,
                 dry_run: bool) -> tuple[dict | None, list[Row]]:
    """Rows for what the parser made of the document's definitions."""
    what = ", ".join(f"{count} {tag}" for tag, count in document.definitions.items())
    if dry_run:
        return None, [Row(kind="definitions", name=what, outcome="would-send",
                          message="sent whole to the parser component, which creates or reuses them by name")]
    try:
        answer = send_definitions(targets, path, data)
    except DocumentRefused as refused:
        for problem in refused.problems:
            print(_problem_text(path, problem), file=sys.stderr)
        return None, [Row(kind="definitions", name=what, outcome=FAILED, message=refused.message)]
    except OcciError as exc:
        return None, [Row(kind="definitions", name=what, outcome=FAILED, message=exc.message)]
    rows = [_definition_row(item, outcome) for key, outcome in (("created", "created"), ("reused", "unchanged"))
            for item in answer.get(key) or ()]
    problems = [p for p in answer.get("problems") or ()]
    errors = [p for p in problems if not isinstance(p, dict) or p.get("severity", "error") == "error"]
    for problem in problems:
        print(_problem_text(path, problem), file=sys.stderr)
    if errors or not rows:
        rows.append(Row(kind="definitions", name=what, outcome=FAILED if errors else "sent",
                        message=f"the parser reported {len(errors)} error(s)" if errors else None))
    return answer, rows


def _definition_row(item, outcome: str) -> Row:
    if isinstance(item, dict):
        return Row(kind=str(item.get("kind") or "definition"), name=item.get("name"), outcome=outcome,
                   location=item.get("location"))
    return Row(kind="definition", name=None, outcome=outcome, location=str(item))


def _problem_text(path: str, problem) -> str:
    if not isinstance(problem, dict):
        return f"{path}: {problem}"
    where = ":".join(str(problem[k]) for k in ("line", "column") if problem.get(k))
    return f"{problem.get('file') or path}{':' + where if where else ''}: {problem.get('code', '')} " \
           f"{'' if problem.get('severity', 'error') == 'error' else 'warning: '}{problem.get('message', '')}"
