"""``accords providers ...``: the clouds the provisioning component provisions on (its ``provider``
kind, found through the publisher), for operators and admins.

Credentials never need to be on the command line: ``--credential KEY=-`` reads the value from
the terminal without echo (or a line of stdin when it is not a terminal), ``KEY=@env:VAR``
from the environment, ``--credentials-file F.json`` from a file. They are sent once, sealed
by the provisioning component, and never shown again by anything (only their names are).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from broker.cli.output import CliError, emit, entity_row, read_secret, table
from broker.cli.session import CliCredentials, add_platform_options, locate, occi_client
from broker.providers import registry
from broker.provisioning.provider_model import CHECK_TIMEOUT, P, PROVIDER, provider_location
from occi.client import OcciClient

__all__ = ["add_parsers", "provider_row", "parse_pairs"]

#: Always in a provider's JSON, in this order.
FIELDS = ("name", "driver", "source", "agent", "image", "state", "checked", "message", "options", "credentialNames")
_COLUMNS = (("name", "NAME"), ("driver", "DRIVER"), ("source", "SOURCE"), ("agent", "AGENT"), ("image", "IMAGE"),
            ("state", "STATE"), ("checked", "CHECKED"))


def add_parsers(sub) -> None:
    providers = sub.add_parser("providers", help="the clouds nodes are provisioned on (operators and admins)")
    verbs = providers.add_subparsers(dest="verb", required=True, metavar="{list,add,set,check,remove}")

    def verb(name: str, run, text: str, *, named: bool = True):
        parser = verbs.add_parser(name, help=text)
        if named:
            parser.add_argument("name", help="provider name")
        add_platform_options(parser, publisher=True)
        parser.set_defaults(run=run)
        return parser

    verb("list", list_providers, "every provider: name, driver, source, agent, image, state (never credentials)",
         named=False)
    add = verb("add", add_provider, "add a provider (its credentials are sealed at rest and never shown)")
    add.add_argument("--driver", required=True, choices=registry.names(), help="the driver that speaks to the cloud")
    _configuration_options(add)
    change = verb("set", set_provider, "change a provider's options, image or agent, or replace its credentials "
                                       "(rotation: the credentials given replace all the old ones)")
    _configuration_options(change)
    change.add_argument("--agent", dest="agent", action="store_true", default=None,
                        help="its nodes run an agent this component can reach")
    verb("check", check_provider, "ask the cloud something cheap with the credentials; exit 1 when that fails")
    verb("remove", remove_provider, "delete a provider (refused while contracts are placed on it)")


def _configuration_options(parser) -> None:
    parser.add_argument("--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
                        help="a driver option that is not secret (region, endpoint_url, auth_url ...); a VALUE "
                             "that reads as JSON (a number, true, [..], {..}) is taken as such; repeat for "
                             "several (set: the others are kept, an empty VALUE removes one)")
    parser.add_argument("--credential", dest="credentials", action="append", default=[], metavar="KEY=VALUE",
                        help="a secret option (access_key, secret_key, password ...); VALUE '-' reads it without "
                             "echo, '@env:VAR' from the environment; repeat for several")
    parser.add_argument("--credentials-file", help="a JSON object of credentials (the --credential ones win)")
    parser.add_argument("--no-agent", dest="agent", action="store_false", default=None,
                        help="its nodes run no agent this component can reach (their statements are skipped)")
    parser.add_argument("--image", help="the image used when a node names none")


# -- reading the command line --------------------------------------------------------------------
def parse_pairs(pairs: list[str], *, what: str) -> list[tuple[str, str]]:
    found = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"{what} {pair.split('=')[0]!r}: expected KEY=VALUE")
        found.append((key.strip(), value))
    return found


def _option_value(text: str):
    try:
        value = json.loads(text)
    except ValueError:
        return text
    # A bare word that happens to be JSON's null would drop the option: keep it a string.
    return text if value is None else value


def _credential_value(key: str, value: str) -> str:
    if value == "-":
        if sys.stdin.isatty():
            return read_secret(f"{key}: ")
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CliError(f"--credential {key}=-: expected its value on a line of stdin")
        return line
    if value.startswith("@env:"):
        variable = value[len("@env:"):]
        found = os.environ.get(variable)
        if not found:
            raise CliError(f"--credential {key}=@env:{variable}: ${variable} is not set")
        return found
    return value


def _credentials(args) -> dict | None:
    credentials: dict = {}
    if args.credentials_file:
        try:
            loaded = json.loads(Path(args.credentials_file).read_text())
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read {args.credentials_file}: {exc.__class__.__name__}: "
                           f"{getattr(exc, 'strerror', None) or 'not a JSON object'}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise CliError(f"{args.credentials_file} must hold a JSON object of credential names to strings")
        credentials.update(loaded)
    for key, value in parse_pairs(args.credentials, what="--credential"):
        credentials[key] = _credential_value(key, value)
    return credentials or None


def _configuration(args) -> dict:
    attributes = {}
    options = {key: _option_value(value) for key, value in parse_pairs(args.options, what="--option")}
    if options:
        attributes[P + "options"] = options
    credentials = _credentials(args)
    if credentials is not None:
        attributes[P + "credentials"] = credentials
    if args.agent is not None:
        attributes[P + "agent"] = args.agent
    if args.image:
        attributes[P + "image"] = args.image
    return attributes


# -- talking to the provisioning component ------------------------------------------------------------
def _provisioning(args, *, timeout: float | None = None) -> OcciClient:
    from broker.cli.submit import _url_for

    platform = locate(args)
    credentials = CliCredentials(platform)
    publisher = occi_client(platform.need_publisher(), credentials)
    url = _url_for(publisher, PROVIDER.type_id, "provisioning")
    if timeout is None:
        return occi_client(url, credentials)
    # A check waits for the cloud: longer than the CLI's usual patience, once.
    return OcciClient(url, credentials=credentials, timeout=timeout, retries=0)


def provider_row(entity, base_url: str) -> dict:
    """A provider as the CLI shows it: occi.provider.* without the prefix (never credentials)."""
    row = entity_row(entity.attributes, prefix=P, fields=FIELDS, hidden="credentials")
    row["location"] = base_url.rstrip("/") + provider_location(row["name"])
    return row


def _text(row: dict) -> str:
    def shown(value) -> str:
        if value is None:
            return "-"
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "-"
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        return str(value)
    return "\n".join(f"{key:<16} {shown(value)}" for key, value in row.items())


def list_providers(args) -> int:
    client = _provisioning(args)
    base = client.transport.base_url
    rows = [provider_row(e, base) for e in client.list_entities(PROVIDER.location)]
    emit(args, rows, lambda rows: table(rows, _COLUMNS) if rows else "no providers")
    return 0


def add_provider(args) -> int:
    client = _provisioning(args)
    attributes = {P + "name": args.name, P + "driver": args.driver, **_configuration(args)}
    location = client.create(PROVIDER.type_id, attributes=attributes)
    row = provider_row(client.get(location), client.transport.base_url)
    emit(args, row, lambda r: f"added provider {r['name']} ({r['driver']}; credentials: "
                              f"{', '.join(r['credentialNames'] or []) or 'none'}); check it with "
                              f"`accords providers check {r['name']}`")
    return 0


def set_provider(args) -> int:
    client = _provisioning(args)
    attributes = _configuration(args)
    if P + "options" in attributes:
        # The options are one object on the server: change the keys given, keep the others
        # (an empty VALUE removes its key).
        current = client.get(provider_location(args.name)).attributes.get(P + "options") or {}
        merged = {**current, **attributes[P + "options"]}
        attributes[P + "options"] = {key: value for key, value in merged.items() if value != ""}
    if not attributes:
        raise CliError("nothing to change: give --option, --credential, --credentials-file, --image, --agent or "
                       "--no-agent")
    entity = client.update(provider_location(args.name), attributes=attributes)
    row = provider_row(entity, client.transport.base_url)
    emit(args, row, lambda r: f"changed provider {r['name']}" + (
        f"; its credentials are now {', '.join(r['credentialNames'] or []) or 'none'}"
        if P + "credentials" in attributes else ""))
    return 0


def check_provider(args) -> int:
    client = _provisioning(args, timeout=CHECK_TIMEOUT + 15)
    entity = client.action(provider_location(args.name), "check", scheme=PROVIDER.actions[0].scheme)
    row = provider_row(entity, client.transport.base_url)
    if row["state"] != "ok" and not args.json:
        raise CliError(f"provider {row['name']} failed its check: {row['message']}")
    emit(args, row, lambda r: f"provider {r['name']}: ok ({r['message']})")
    return 0 if row["state"] == "ok" else 1


def remove_provider(args) -> int:
    client = _provisioning(args)
    location = provider_location(args.name)
    client.delete(location)
    emit(args, {"removed": True, "name": args.name, "location": client.transport.base_url.rstrip("/") + location},
         lambda r: f"removed provider {r['name']}")
    return 0
