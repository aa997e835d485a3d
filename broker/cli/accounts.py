"""``accords accounts ...``: the security component's accounts, through OCCI (``/account/NAME``)."""
from __future__ import annotations

from broker.cli.output import emit, table
from broker.cli.session import add_platform_options, connect_security
from occi.client.results import Entity
from occi.security.model import ACCOUNT
from occi.security.model import account_location

__all__ = ["add_parsers", "account_row", "ACCOUNT_FIELDS"]

PREFIX = "occi.account."
ACCOUNT_FIELDS = ("name", "legal", "email", "state")


def add_parsers(sub) -> None:
    accounts = sub.add_parser("accounts", help="the security component's accounts (admins manage them)")
    verbs = accounts.add_subparsers(dest="verb", required=True, metavar="{list,show,add,remove,disable,enable}")

    def verb(name: str, run, text: str, *, named: bool = True):
        parser = verbs.add_parser(name, help=text)
        if named:
            parser.add_argument("name", help="account name")
        add_platform_options(parser)
        parser.set_defaults(run=run)
        return parser

    verb("list", list_accounts, "every account you may see (admins: all)", named=False)
    verb("show", show_account, "one account's attributes")
    add = verb("add", add_account, "create an account")
    add.add_argument("--legal", help="legal name of the organisation")
    add.add_argument("--email", help="contact address")
    verb("remove", remove_account, "delete an account (it must have no users left)")
    verb("disable", lambda args: _toggle(args, "disable"), "refuse every login and token of its users")
    verb("enable", lambda args: _toggle(args, "enable"), "accept its users again")


def account_row(entity: Entity, security_url: str) -> dict:
    """An account as the CLI shows it: occi.account.* without the prefix, and its location."""
    attributes = {k[len(PREFIX):]: v for k, v in entity.attributes.items() if k.startswith(PREFIX)}
    row = {field: attributes.pop(field, None) for field in ACCOUNT_FIELDS}
    row.update(sorted(attributes.items()))
    # Entities listed in JSON carry no location; an account's is always /account/NAME.
    row["location"] = security_url.rstrip("/") + account_location(row["name"])
    return row


def _account_text(row: dict) -> str:
    return "\n".join(f"{key:<10} {'-' if value is None else value}" for key, value in row.items())


def list_accounts(args) -> int:
    platform, _, client = connect_security(args)
    rows = sorted((account_row(e, platform.security) for e in client.list_entities(ACCOUNT.location)),
                  key=lambda r: r["name"])
    emit(args, rows, lambda rows: table(rows, (("name", "NAME"), ("state", "STATE"), ("legal", "LEGAL NAME"),
                                               ("email", "EMAIL"))))
    return 0


def show_account(args) -> int:
    platform, _, client = connect_security(args)
    emit(args, account_row(client.get(account_location(args.name)), platform.security), _account_text)
    return 0


def add_account(args) -> int:
    platform, _, client = connect_security(args)
    attributes = {"occi.account.name": args.name}
    for name, value in (("legal", args.legal), ("email", args.email)):
        if value:
            attributes[f"occi.account.{name}"] = value
    location = client.create(ACCOUNT.type_id, attributes=attributes)
    emit(args, account_row(client.get(location), platform.security), lambda r: f"created account {r['name']}")
    return 0


def remove_account(args) -> int:
    platform, _, client = connect_security(args)
    location = account_location(args.name)
    client.delete(location)
    emit(args, {"removed": True, "name": args.name, "location": platform.security + location},
         lambda r: f"removed account {r['name']}")
    return 0


def _toggle(args, action: str) -> int:
    platform, _, client = connect_security(args)
    row = account_row(client.action(account_location(args.name), action), platform.security)
    emit(args, row, lambda r: f"account {r['name']} is {r['state']}")
    return 0
