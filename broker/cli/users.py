"""``accords users ...``: the security component's users, through OCCI (``/user/NAME``)."""
from __future__ import annotations

from broker.cli.output import CliError, emit, entity_row, new_secret, read_secret, read_stdin_lines, table
from broker.cli.session import add_platform_options, admin_file, connect_security, forget_login, security_client
from occi.client.results import Entity
from occi.security.model import ROLES, USER
from occi.security.passwords import new_password
from occi.security.files import read_credentials, write_credentials
from occi.security.model import user_location

__all__ = ["add_parsers", "user_row", "USER_FIELDS"]

PREFIX = "occi.user."
#: Always in a user's JSON (null when unset), in this order; the other occi.user.* follow.
USER_FIELDS = ("name", "account", "roles", "email", "state")


def add_parsers(sub) -> None:
    users = sub.add_parser("users", help="the security component's users (admins manage them)")
    verbs = users.add_subparsers(dest="verb", required=True, metavar="{list,show,add,remove,disable,enable,passwd}")

    def verb(name: str, run, text: str, *, named: bool = True):
        parser = verbs.add_parser(name, help=text)
        if named:
            parser.add_argument("name", help="user name")
        add_platform_options(parser)
        parser.set_defaults(run=run)
        return parser

    verb("list", list_users, "every user this account may see (admins: all)", named=False)
    verb("show", show_user, "one user's attributes")
    add = verb("add", add_user, "create a user; without --password-stdin a password is generated and "
                                "printed once")
    add.add_argument("--account", required=True, help="the account the user acts for (it must exist)")
    add.add_argument("--role", dest="roles", action="append", required=True, choices=ROLES,
                     help="a role (repeat for several)")
    add.add_argument("--email", help="contact address")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    verb("remove", remove_user, "delete a user and its tokens")
    verb("disable", lambda args: _toggle(args, "disable"), "refuse the user's logins and tokens")
    verb("enable", lambda args: _toggle(args, "enable"), "accept the user again")
    passwd = verb("passwd", change_password, "change a password (your own: the current one is asked)")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read from stdin: the current password then the new one on the next line "
                             "(your own user), or only the new one (an admin resetting someone else's)")


def user_row(entity: Entity, security_url: str) -> dict:
    """A user as the CLI shows it: occi.user.* without the prefix, and its location."""
    row = entity_row(entity.attributes, prefix=PREFIX, fields=USER_FIELDS, hidden="password")
    # Entities listed in JSON carry no location; a user's is always /user/NAME.
    row["location"] = security_url.rstrip("/") + user_location(row["name"])
    return row


def _user_text(row: dict) -> str:
    return "\n".join(f"{key:<16} {', '.join(value) if isinstance(value, list) else '-' if value is None else value}"
                     for key, value in row.items())


_COLUMNS = (("name", "NAME"), ("account", "ACCOUNT"), ("roles", "ROLES"), ("state", "STATE"), ("email", "EMAIL"),
            ("lastLogin", "LAST LOGIN"))


def list_users(args) -> int:
    platform, _, client = connect_security(args)
    rows = sorted((user_row(e, platform.security) for e in client.list_entities(USER.location)),
                  key=lambda r: r["name"])
    emit(args, rows, lambda rows: table(rows, _COLUMNS))
    return 0


def show_user(args) -> int:
    platform, _, client = connect_security(args)
    emit(args, user_row(client.get(user_location(args.name)), platform.security), _user_text)
    return 0


def add_user(args) -> int:
    platform, _, client = connect_security(args)
    generated = not args.password_stdin
    password = new_password() if generated else read_stdin_lines(1, "the password")[0]
    attributes = {"occi.user.name": args.name, "occi.user.password": password, "occi.user.account": args.account,
                  "occi.user.roles": list(dict.fromkeys(args.roles))}
    if args.email:
        attributes["occi.user.email"] = args.email
    location = client.create(USER.type_id, attributes=attributes)
    row = user_row(client.get(location), platform.security)
    if generated:
        # Asked for by running `users add` without a password: the only time it is ever shown.
        row["password"] = password

    def text(row: dict) -> str:
        lines = [f"created user {row['name']} (account {row['account']}, roles {', '.join(row['roles'])})"]
        if generated:
            lines.append(f"generated password (shown this once, not kept anywhere): {row['password']}")
        return "\n".join(lines)

    emit(args, row, text)
    return 0


def remove_user(args) -> int:
    platform, _, client = connect_security(args)
    location = user_location(args.name)
    client.delete(location)
    emit(args, {"removed": True, "name": args.name, "location": platform.security + location},
         lambda r: f"removed user {r['name']} (and its tokens)")
    return 0


def _toggle(args, action: str) -> int:
    platform, _, client = connect_security(args)
    row = user_row(client.action(user_location(args.name), action), platform.security)
    emit(args, row, lambda r: f"user {r['name']} is {r['state']}")
    return 0


def change_password(args) -> int:
    platform, credentials, client = connect_security(args)
    security = security_client(platform, credentials)
    me = security.whoami()
    own = me["username"] == args.name
    if args.password_stdin:
        lines = read_stdin_lines(2, "the current password, then the new one") if own else \
            read_stdin_lines(1, "the new password")
        current, password = (lines[0], lines[1]) if own else (None, lines[0])
    else:
        current = read_secret(f"current password of {args.name}: ") if own else None
        password = new_secret(f"new password for {args.name}: ")
    parameters = {"password": password}
    if current is not None:
        parameters["current"] = current
        if "admin" in me.get("roles", ()):
            # The server skips this check for admins (they reset anyone's password); asking for
            # the current password and then ignoring it would be a trap, so check it here.
            if not security.introspect(username=args.name, password=current).get("active"):
                raise CliError("the current password is wrong")
    client.action(user_location(args.name), "password", **parameters)
    notes = _after_own_change(platform, credentials, args.name, current, password) if own else []
    result = {"name": args.name, "changed": True, "own": own, "notes": notes}
    emit(args, result, lambda r: "\n".join([f"password of {r['name']} changed"
                                            + ("; its other tokens stop working" if own else
                                               "; every token of that user stops working"), *notes]))
    return 0


def _after_own_change(platform, credentials, name: str, current: str, password: str) -> list[str]:
    """Changing one's password ends every token of the user, the CLI's own included: keep
    admin.json working (when it held this password) and drop the CLI's dead login."""
    notes = []
    path = admin_file(platform.data)
    if path.exists():
        try:
            admin = read_credentials(path)
        except (OSError, ValueError):
            admin = None
        if admin is not None and admin["user"] == name and admin["password"] == current:
            write_credentials(path, {**admin, "password": password})
            notes.append(f"updated {path} with the new password")
    if credentials.login_source is not None and credentials.user == name:
        forget_login(platform)
        notes.append("the CLI's login ended with the old password: "
                     + ("it logs in again from admin.json by itself" if any("admin.json" in n for n in notes)
                        else "run `accords login`"))
    return notes
