"""Where the platform is and who the CLI is.

The platform: ``--security``/``--publisher``, else ``$ACCORDS_SECURITY``/``$ACCORDS_PUBLISHER``,
else DIR/platform.json (written by ``accords up``); DIR is ``--data``, else ``$ACCORDS_DATA``,
else the default data directory.

The CLI's token, in this order:

1. ``$ACCORDS_TOKEN`` (scripts and CI; never replaced behind the user's back);
2. DIR/credentials/cli.json, written by ``accords login`` (mode 0600), while it has not
   expired and was issued by the security component in use;
3. DIR/credentials/admin.json, the first admin written on the first run: the CLI logs in
   with it by itself and keeps the token in cli.json, so that ``accords up`` then
   ``accords whoami`` on one machine needs no login step.

A saved token the platform refuses (revoked, or the password changed) is dropped and,
when admin.json is there, replaced by a new login from it.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from broker import settings
from broker.cli.output import CliError
from occi.client import OcciClient
from occi.errors import Unauthorized
from occi.security.authenticators import SecurityClient
from occi.security.files import credentials_dir, read_credentials, write_credentials

__all__ = ["Platform", "NotLoggedIn", "CliCredentials", "locate", "add_platform_options", "cli_file",
           "admin_file", "read_login", "save_login", "forget_login", "log_in", "occi_client", "security_client",
           "connect_security", "ENV_SECURITY", "ENV_PUBLISHER", "ENV_TOKEN", "ADMIN_LOGIN_TTL",
           "LOGIN_TTL"]

ENV_SECURITY, ENV_PUBLISHER, ENV_TOKEN = "ACCORDS_SECURITY", "ACCORDS_PUBLISHER", "ACCORDS_TOKEN"
#: A saved token this close to its expiry is not used: it could expire between two requests.
EXPIRY_MARGIN = 30.0
#: Tokens the CLI gets by itself from admin.json live as long as the server's default.
ADMIN_LOGIN_TTL = 3600
#: A CLI login lasts a working day; `accords login --ttl` chooses another (60 s to 30 days).
LOGIN_TTL = 8 * 3600
#: The CLI talks to one server at a time, with a person waiting: fail fast rather than retry long.
CLIENT_TIMEOUT, CLIENT_RETRIES = 10.0, 1


class NotLoggedIn(CliError):
    """No usable credentials (exit 1)."""


@dataclass
class Platform:
    data: Path
    security: str | None
    publisher: str | None

    def need_security(self) -> str:
        if not self.security:
            raise CliError(f"where is the security component? pass --security URL, set ${ENV_SECURITY}, "
                           f"or run `accords up` (it writes {settings.platform_file(self.data)})")
        return self.security

    def need_publisher(self) -> str:
        if not self.publisher:
            raise CliError(f"where is the publisher? pass --publisher URL, set ${ENV_PUBLISHER}, "
                           f"or run `accords up` (it writes {settings.platform_file(self.data)})")
        return self.publisher


def add_platform_options(parser, *, publisher: bool = False) -> None:
    parser.add_argument("--data", help="data directory (default $ACCORDS_DATA or ~/.local/share/accords)")
    parser.add_argument("--security", help=f"URL of the security component (default ${ENV_SECURITY}, "
                                           "else DIR/platform.json)")
    if publisher:
        parser.add_argument("--publisher", help=f"URL of the publisher (default ${ENV_PUBLISHER}, "
                                                "else DIR/platform.json)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def locate(args) -> Platform:
    data = settings.data_dir(getattr(args, "data", None))
    try:
        known = settings.read_platform(data)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {settings.platform_file(data)}: {exc}") from None

    def pick(option: str, env: str) -> str | None:
        value = getattr(args, option, None) or os.environ.get(env) or known.get(option)
        return value.rstrip("/") if isinstance(value, str) and value else None

    return Platform(data=data, security=pick("security", ENV_SECURITY), publisher=pick("publisher", ENV_PUBLISHER))


# -- the files ---------------------------------------------------------------------------------
def cli_file(data: Path) -> Path:
    return credentials_dir(data) / "cli.json"


def admin_file(data: Path) -> Path:
    return credentials_dir(data) / "admin.json"


def read_login(platform: Platform) -> dict | None:
    """cli.json when it holds a token of this platform's security component that has not expired."""
    path = cli_file(platform.data)
    try:
        if path.stat().st_mode & 0o077:
            raise CliError(f"{path} is readable by others; chmod 600 {path} (or `accords logout`)")
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}; `accords logout` removes it") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("token"), str):
        return None
    if platform.security and saved.get("security") != platform.security:
        return None              # a login to another platform: keep it, but it is not ours
    if (saved.get("expires") or 0) <= time.time() + EXPIRY_MARGIN:
        return None
    return saved


def save_login(platform: Platform, grant: dict, *, user: str, source: str) -> dict:
    saved = {"security": platform.need_security(), "user": user, "token": grant["token"],
             "expires": grant.get("expires"), "location": grant.get("location"), "source": source}
    write_credentials(cli_file(platform.data), saved)
    return saved


def forget_login(platform: Platform) -> None:
    cli_file(platform.data).unlink(missing_ok=True)


def log_in(platform: Platform, user: str, password: str, *, ttl: int, source: str) -> dict:
    """A new token from the security component, saved in cli.json; the saved dict."""
    client = SecurityClient(platform.need_security(), timeout=CLIENT_TIMEOUT, retries=CLIENT_RETRIES)
    grant = client.login(user, password, ttl=ttl, description=f"accords CLI on {socket.gethostname()}")
    return save_login(platform, grant, user=user, source=source)


# -- credentials for requests -----------------------------------------------------------------------
class CliCredentials:
    """The CLI's token as a credentials provider for :class:`occi.client.transport.Transport`.

    Found on first use, so that a command failing before any request never logs in. The
    transport calls :meth:`invalidate` when a server answers 401 and then asks for the
    Authorization again, once.
    """

    def __init__(self, platform: Platform):
        self.platform = platform
        self._token: str | None = None
        self.source: str | None = None        # "$ACCORDS_TOKEN", "cli.json" or "admin.json"
        self.user: str | None = None
        #: How the token in use was obtained: "login" or "admin.json" (None: $ACCORDS_TOKEN).
        self.login_source: str | None = None
        self._minted = False                  # this run's own login: refused again is final

    def __repr__(self) -> str:                # never the token
        return f"CliCredentials(source={self.source!r}, user={self.user!r})"

    def token(self) -> str:
        if self._token is None:
            self._find()
        assert self._token is not None
        return self._token

    def authorization(self) -> str:
        return f"Bearer {self.token()}"

    def invalidate(self) -> bool:
        if self.source == f"${ENV_TOKEN}":
            raise NotLoggedIn(f"the token in ${ENV_TOKEN} was refused (expired or revoked): set a new one or unset it")
        if self._minted:
            raise NotLoggedIn("the security component refused the token it has just issued")
        refused = self.user
        forget_login(self.platform)
        self._token = None
        if not admin_file(self.platform.data).exists():
            raise NotLoggedIn(f"the saved login{f' of {refused}' if refused else ''} was refused (expired, revoked "
                              "or its password changed): run `accords login`")
        self._from_admin_file()
        if refused and refused != self.user:
            print(f"accords: the saved login of {refused} was refused; now acting as {self.user} "
                  f"({admin_file(self.platform.data)})", file=sys.stderr)
        return True

    def _find(self) -> None:
        from_env = os.environ.get(ENV_TOKEN)
        if from_env:
            self._token, self.source = from_env.strip(), f"${ENV_TOKEN}"
            return
        if self.platform.security:
            saved = read_login(self.platform)
            if saved is not None:
                self._token, self.source, self.user = saved["token"], "cli.json", saved.get("user")
                self.login_source = saved.get("source") or "login"
                return
        if admin_file(self.platform.data).exists():
            self._from_admin_file()
            return
        raise NotLoggedIn("not logged in: run `accords login`")

    def _from_admin_file(self) -> None:
        path = admin_file(self.platform.data)
        try:
            admin = read_credentials(path)
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot use {path}: {exc}") from None
        try:
            saved = log_in(self.platform, admin["user"], admin["password"], ttl=ADMIN_LOGIN_TTL, source="admin.json")
        except Unauthorized:
            raise NotLoggedIn(f"{path} no longer logs in as {admin['user']} (its password was changed?): "
                              "run `accords login`") from None
        self._token, self.source, self.user, self._minted = saved["token"], "admin.json", admin["user"], True
        self.login_source = "admin.json"


def occi_client(url: str, credentials: CliCredentials) -> OcciClient:
    return OcciClient(url, credentials=credentials, timeout=CLIENT_TIMEOUT, retries=CLIENT_RETRIES, backoff=0.2)


def security_client(platform: Platform, credentials: CliCredentials) -> SecurityClient:
    return SecurityClient(platform.need_security(), credentials=credentials, timeout=CLIENT_TIMEOUT,
                          retries=CLIENT_RETRIES)


def connect_security(args) -> tuple[Platform, CliCredentials, OcciClient]:
    """What the users and accounts commands work with: the platform, who we are, an OCCI client."""
    platform = locate(args)
    credentials = CliCredentials(platform)
    return platform, credentials, occi_client(platform.need_security(), credentials)
