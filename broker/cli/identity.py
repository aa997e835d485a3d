"""``accords login``, ``accords logout`` and ``accords whoami``."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

from broker.cli.output import CliError, emit, read_secret, read_stdin_lines, when
from broker.cli.session import (ENV_TOKEN, LOGIN_TTL, CliCredentials, add_platform_options, cli_file,
                                forget_login, locate, log_in, security_client)
from broker.platform import StaticToken
from occi.client import OcciClient
from occi.errors import NotFound, OcciError, Unauthorized
from occi.security.authenticators import SecurityClient
from occi.security.model import MAX_TOKEN_TTL

__all__ = ["add_parsers", "login", "logout", "whoami"]


def add_parsers(sub) -> None:
    login_parser = sub.add_parser("login", help="log in to the security component; the token is kept in "
                                                "DIR/credentials/cli.json (mode 0600)")
    login_parser.add_argument("--user", help="user name (prompted for when not given)")
    login_parser.add_argument("--password-stdin", action="store_true",
                              help="read the password from the first line of stdin instead of the terminal")
    login_parser.add_argument("--ttl", type=int, default=LOGIN_TTL,
                              help=f"token lifetime in seconds (default {LOGIN_TTL}, at most {MAX_TOKEN_TTL})")
    add_platform_options(login_parser)
    login_parser.set_defaults(run=login)

    logout_parser = sub.add_parser("logout", help="revoke the token of `accords login` and forget it")
    add_platform_options(logout_parser)
    logout_parser.set_defaults(run=logout)

    whoami_parser = sub.add_parser("whoami", help="who the CLI acts as: user, account, roles, token expiry")
    add_platform_options(whoami_parser)
    whoami_parser.set_defaults(run=whoami)


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def _ask_user() -> str:
    # The prompt goes to stderr so that stdout stays clean for --json.
    print("user: ", end="", file=sys.stderr, flush=True)
    name = sys.stdin.readline().strip()
    if not name:
        raise CliError("no user name given")
    return name


def login(args) -> int:
    platform = locate(args)
    url = platform.need_security()
    if args.password_stdin and not args.user:
        raise CliError("--password-stdin needs --user (stdin holds the password only)", code=2)
    user = args.user or _ask_user()
    password = read_stdin_lines(1, "the password")[0] if args.password_stdin else read_secret(f"password for {user}: ")
    try:
        saved = log_in(platform, user, password, ttl=args.ttl, source="login")
    except Unauthorized:
        raise CliError("wrong user name or password (or the user or its account is disabled)") from None
    me = SecurityClient(url, credentials=StaticToken(saved["token"]), retries=1).whoami()
    result = {"security": url, "user": me["username"], "account": me["account"], "roles": me["roles"],
              "expires": saved["expires"], "expires_at": _iso(saved["expires"]), "saved": str(cli_file(platform.data))}
    emit(args, result, lambda r: f"logged in to {r['security']} as {r['user']} (account {r['account']}, roles "
                                 f"{', '.join(r['roles'])}) until {when(r['expires'])}\ntoken saved in {r['saved']}")
    if os.environ.get(ENV_TOKEN):
        print(f"accords login: note: ${ENV_TOKEN} is set and is used instead of this login until you unset it",
              file=sys.stderr)
    return 0


def logout(args) -> int:
    platform = locate(args)
    path = cli_file(platform.data)
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        emit(args, {"logged_out": False, "revoked": False, "reason": "not logged in"},
             lambda r: f"not logged in (no {path})")
        return 0
    except (OSError, ValueError):
        saved = {}                     # unreadable: nothing to revoke, but the file still goes
    revoked, reason = False, None
    location, token = saved.get("location"), saved.get("token")
    if location and token and saved.get("security"):
        try:
            with OcciClient(saved["security"], token=token, timeout=10, retries=1) as client:
                client.delete(location)
            revoked = True
        except (Unauthorized, NotFound):
            reason = "the token had already stopped working"
        except OcciError as exc:
            # Keep the file: it is the only way to revoke this token later.
            raise CliError(f"could not revoke the token at {location}: {exc.message}; {path} is kept, "
                           "try again when the security component answers") from None
    else:
        reason = f"{path} named no token to revoke"
    forget_login(platform)
    result = {"logged_out": True, "user": saved.get("user"), "revoked": revoked, "reason": reason}
    emit(args, result, _logout_text)
    return 0


def _logout_text(result: dict) -> str:
    who = f" {result['user']}" if result["user"] else ""
    return f"logged out{who}; " + ("the token is revoked" if result["revoked"] else result["reason"])


def whoami(args) -> int:
    platform = locate(args)
    credentials = CliCredentials(platform)
    me = security_client(platform, credentials).whoami()
    result = {"user": me["username"], "account": me["account"], "roles": me.get("roles", []),
              "expires": me.get("exp"), "expires_at": _iso(me.get("exp")), "security": platform.security,
              "credentials": credentials.source}
    emit(args, result, lambda r: "\n".join([
        f"user         {r['user']}", f"account      {r['account']}", f"roles        {', '.join(r['roles'])}",
        f"expires      {when(r['expires'])}", f"security     {r['security']}",
        f"credentials  {r['credentials']}"]))
    return 0
