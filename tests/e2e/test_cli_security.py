"""The platform commands of the `accords` CLI (whoami, login, logout, users, accounts, components),
run as subprocesses against real security, publisher and sla processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from broker import settings
from occi.errors import Unauthorized
from occi.security.authenticators import SecurityClient

pytestmark = pytest.mark.e2e

_PLATFORM_ENV = ("ACCORDS_TOKEN", "ACCORDS_SECURITY", "ACCORDS_PUBLISHER", "ACCORDS_DATA")


def accords(*args: str, data: Path, stdin: str | None = None, env: dict | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI with DIR = ``data`` and nothing about the platform inherited from this process."""
    clean = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
    clean.update({"ACCORDS_DATA": str(data), **(env or {})})
    return subprocess.run([sys.executable, "-m", "broker", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=clean)


def as_json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return json.loads(result.stdout)


def whoami_status(security_url: str, token: str) -> int:
    return requests.get(security_url + "/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code


def eventually(check, *, timeout: float = 15.0, every: float = 0.3):
    """The first truthy value of check() within ``timeout`` seconds (revocations reach other
    components within their credential cache time), else the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


def saved_login(data: Path) -> dict:
    return json.loads((data / "credentials" / "cli.json").read_text())


def assert_no_secret(results, *secrets: str) -> None:
    for result in results:
        for secret in secrets:
            assert secret not in result.stdout and secret not in result.stderr


@pytest.fixture
def known(platform):
    """The platform fixture with its platform.json written, as `accords up` does."""
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    return platform


@pytest.fixture
def elsewhere(tmp_path, known) -> Path:
    """Another data directory (no admin.json): the CLI there has to log in."""
    data = tmp_path / "elsewhere"
    data.mkdir()
    settings.write_platform(data, publisher=known.publisher.url, security=known.security.url)
    return data


def add_user(known, name: str, password: str, *roles: str, account: str = "acme") -> None:
    if account != "accords":
        accords("accounts", "add", account, data=known.data)          # exists already: fine
    role_args = [arg for role in (roles or ("provider",)) for arg in ("--role", role)]
    result = accords("users", "add", name, "--account", account, *role_args, "--password-stdin", "--json",
                     data=known.data, stdin=password + "\n")
    assert "password" not in as_json(result)               # given, not generated: never echoed


def _logs_in(url: str, user: str, password: str) -> bool:
    try:
        SecurityClient(url).login(user, password)
        return True
    except Unauthorized:
        return False


def test_whoami_works_right_after_the_first_run_without_a_login_step(known):
    admin = known.credentials("admin")
    first = accords("whoami", "--json", data=known.data)
    me = as_json(first)
    assert (me["user"], me["account"], me["roles"], me["credentials"]) == ("admin", "accords", ["admin"], "admin.json")
    assert me["security"] == known.security.url and me["expires"] > time.time() + 3000
    cached = known.data / "credentials" / "cli.json"
    assert cached.stat().st_mode & 0o777 == 0o600
    token = saved_login(known.data)["token"]
    second = accords("whoami", data=known.data)
    assert second.returncode == 0 and "credentials  cli.json" in second.stdout and "admin" in second.stdout
    assert_no_secret([first, second], token, admin["password"])

    # The cached token is revoked behind the CLI's back: it drops it and logs in again from admin.json.
    requests.delete(saved_login(known.data)["location"], headers={"Authorization": f"Bearer {token}"},
                    timeout=5).raise_for_status()
    assert eventually(lambda: whoami_status(known.security.url, token) == 401)
    again = as_json(accords("whoami", "--json", data=known.data))
    assert again["user"] == "admin" and again["credentials"] == "admin.json"
    assert saved_login(known.data)["token"] != token


def test_login_then_logout_and_the_token_stops_working(known, elsewhere):
    admin = known.credentials("admin")
    results = [accords("whoami", data=elsewhere)]
    assert results[0].returncode == 1
    assert "accords whoami: not logged in: run `accords login`" in results[0].stderr

    results.append(accords("login", "--user", "admin", "--password-stdin", data=elsewhere, stdin="not-the-password\n"))
    assert results[-1].returncode == 1 and "wrong user name or password" in results[-1].stderr
    assert not (elsewhere / "credentials" / "cli.json").exists()

    # The security URL from the environment this time, instead of platform.json.
    (elsewhere / "platform.json").unlink()
    env = {"ACCORDS_SECURITY": known.security.url}
    results.append(accords("login", "--user", "admin", "--password-stdin", "--ttl", "600", "--json",
                           data=elsewhere, stdin=admin["password"] + "\n", env=env))
    logged = as_json(results[-1])
    assert (logged["user"], logged["roles"], logged["security"]) == ("admin", ["admin"], known.security.url)
    assert time.time() + 500 < logged["expires"] <= time.time() + 600
    assert (elsewhere / "credentials" / "cli.json").stat().st_mode & 0o777 == 0o600
    saved = saved_login(elsewhere)
    assert {"security", "user", "token", "expires"} <= set(saved) and saved["user"] == "admin"
    token = saved["token"]
    results.append(accords("whoami", "--json", data=elsewhere, env=env))
    assert as_json(results[-1])["credentials"] == "cli.json"
    assert whoami_status(known.security.url, token) == 200

    results.append(accords("logout", "--json", data=elsewhere, env=env))
    assert as_json(results[-1]) == {"logged_out": True, "user": "admin", "revoked": True, "reason": None}
    assert not (elsewhere / "credentials" / "cli.json").exists()
    assert eventually(lambda: whoami_status(known.security.url, token) == 401)
    results.append(accords("whoami", data=elsewhere, env=env))
    assert results[-1].returncode == 1 and "not logged in" in results[-1].stderr
    results.append(accords("logout", "--json", data=elsewhere, env=env))      # again: nothing to do
    assert as_json(results[-1])["logged_out"] is False
    assert_no_secret(results, token, admin["password"])


def test_an_unreachable_security_component_is_a_clear_error(tmp_path):
    from tests.e2e.conftest import free_port   # noqa: PLC0415

    url = f"http://127.0.0.1:{free_port()}"
    result = accords("whoami", "--security", url, data=tmp_path, env={"ACCORDS_TOKEN": "acc_whatever"}, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith("accords whoami: cannot reach " + url)
    usage = accords("users", "add", "x", "--account", "acme", data=tmp_path)          # no --role
    assert usage.returncode == 2 and "--role" in usage.stderr


def test_users_and_accounts_from_creation_to_removal(known):
    account = as_json(accords("accounts", "add", "acme", "--legal", "Acme Ltd", "--email", "ops@acme.example",
                              "--json", data=known.data))
    assert account == {"name": "acme", "legal": "Acme Ltd", "email": "ops@acme.example", "state": "active",
                       "location": known.security.url + "/account/acme"}
    assert {"accords", "acme"} <= {a["name"] for a in as_json(accords("accounts", "list", "--json", data=known.data))}
    assert as_json(accords("accounts", "show", "acme", "--json", data=known.data))["legal"] == "Acme Ltd"

    bob = as_json(accords("users", "add", "bob", "--account", "acme", "--role", "provider", "--role", "auditor",
                          "--email", "bob@acme.example", "--json", data=known.data))
    assert (bob["name"], bob["account"], bob["roles"], bob["email"], bob["state"]) == (
        "bob", "acme", ["provider", "auditor"], "bob@acme.example", "active")
    assert bob["location"] == known.security.url + "/user/bob"
    # No --password-stdin: a password was generated, printed this once, and it works.
    bobs_token = SecurityClient(known.security.url).login("bob", bob["password"])["token"]
    carol = accords("users", "add", "carol", "--account", "acme", "--role", "provider", data=known.data)
    assert carol.returncode == 0 and "generated password (shown this once, not kept anywhere): " in carol.stdout
    generated = carol.stdout.rsplit(": ", 1)[1].strip()
    assert SecurityClient(known.security.url).login("carol", generated)["token"]

    listed = {u["name"]: u for u in as_json(accords("users", "list", "--json", data=known.data))}
    assert {"admin", "bob", "carol", "svc-publisher"} <= set(listed)
    assert all("password" not in user for user in listed.values())
    shown = as_json(accords("users", "show", "bob", "--json", data=known.data))
    assert shown["roles"] == ["provider", "auditor"] and "password" not in shown and "passwordChanged" in shown
    text = accords("users", "list", data=known.data)
    assert text.returncode == 0 and text.stdout.startswith("NAME") and "bob" in text.stdout

    disabled = as_json(accords("users", "disable", "bob", "--json", data=known.data))
    assert disabled["state"] == "disabled"
    assert whoami_status(known.security.url, bobs_token) == 401             # tokens: at once
    assert eventually(lambda: not _logs_in(known.security.url, "bob", bob["password"]))  # passwords: cache time
    assert as_json(accords("users", "enable", "bob", "--json", data=known.data))["state"] == "active"
    twice = accords("users", "enable", "bob", data=known.data)
    assert twice.returncode == 1 and twice.stderr.startswith("accords users enable: action enable is not applicable")

    in_use = accords("accounts", "remove", "acme", data=known.data)
    assert in_use.returncode == 1 and in_use.stderr.startswith("accords accounts remove: account 'acme' still has users")
    for name in ("bob", "carol"):
        assert as_json(accords("users", "remove", name, "--json", data=known.data))["removed"] is True
    gone = accords("users", "show", "bob", data=known.data)
    assert gone.returncode == 1 and gone.stderr.strip() == "accords users show: nothing at /user/bob"
    assert "bob" not in {u["name"] for u in as_json(accords("users", "list", "--json", data=known.data))}
    assert as_json(accords("accounts", "remove", "acme", "--json", data=known.data))["removed"] is True
    assert "acme" not in {a["name"] for a in as_json(accords("accounts", "list", "--json", data=known.data))}
    duplicate = accords("users", "add", "admin", "--account", "accords", "--role", "admin", data=known.data)
    assert duplicate.returncode == 1 and duplicate.stderr.startswith("accords users add: ")


def test_a_provider_may_not_add_users(known, elsewhere):
    add_user(known, "dave", "daves-password-1", "provider")
    login = accords("login", "--user", "dave", "--password-stdin", "--json", data=elsewhere,
                    stdin="daves-password-1\n")
    assert as_json(login)["roles"] == ["provider"]
    refused = accords("users", "add", "eve", "--account", "acme", "--role", "provider", data=elsewhere)
    assert refused.returncode == 1
    assert refused.stderr.startswith("accords users add: dave (provider) may not change user"), refused.stderr
    assert refused.stdout == ""


def test_passwd_checks_the_current_password_and_ends_the_old_tokens(known, elsewhere):
    add_user(known, "erin", "erins-password-1")
    as_json(accords("login", "--user", "erin", "--password-stdin", "--json", data=elsewhere,
                    stdin="erins-password-1\n"))
    old_token = saved_login(elsewhere)["token"]

    wrong = accords("users", "passwd", "erin", "--password-stdin", data=elsewhere,
                    stdin="not-erins-password\nerins-password-2\n")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "accords users passwd: the current password is wrong"
    assert whoami_status(known.security.url, old_token) == 200

    right = accords("users", "passwd", "erin", "--password-stdin", "--json", data=elsewhere,
                    stdin="erins-password-1\nerins-password-2\n")
    changed = as_json(right)
    assert changed["name"] == "erin" and changed["changed"] is True and changed["own"] is True
    assert eventually(lambda: whoami_status(known.security.url, old_token) == 401)
    assert not (elsewhere / "credentials" / "cli.json").exists()       # the CLI's login died with it
    assert _logs_in(known.security.url, "erin", "erins-password-2")
    assert_no_secret([wrong, right], "erins-password-1", "erins-password-2", old_token)

    # An admin resets someone else's password with the new one only.
    reset = accords("users", "passwd", "erin", "--password-stdin", "--json", data=known.data,
                    stdin="erins-password-3\n")
    assert as_json(reset)["own"] is False
    assert _logs_in(known.security.url, "erin", "erins-password-3")


def test_an_admin_changing_their_own_password_keeps_admin_json_working(known):
    old = known.credentials("admin")["password"]
    as_json(accords("whoami", "--json", data=known.data))               # logs in from admin.json
    # The server does not ask an admin for the current password; the CLI checks it anyway.
    wrong = accords("users", "passwd", "admin", "--password-stdin", data=known.data,
                    stdin="not-the-admin-password\nadmins-new-password\n")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "accords users passwd: the current password is wrong"
    right = accords("users", "passwd", "admin", "--password-stdin", "--json", data=known.data,
                    stdin=f"{old}\nadmins-new-password\n")
    notes = as_json(right)["notes"]
    assert any("admin.json" in note for note in notes), notes
    assert known.credentials("admin")["password"] == "admins-new-password"
    assert (known.data / "credentials" / "admin.json").stat().st_mode & 0o777 == 0o600
    me = as_json(accords("whoami", "--json", data=known.data))            # no login step, new password
    assert me["user"] == "admin" and me["credentials"] == "admin.json"
    assert_no_secret([wrong, right], old, "admins-new-password")


def _components(data: Path) -> tuple[int, dict, str]:
    result = accords("components", "--json", data=data, timeout=30)
    return result.returncode, {row["name"]: row for row in json.loads(result.stdout)}, result.stderr


def test_components_reports_health_and_a_dead_component(known, serve):
    sla = serve("sla", "--publisher", known.publisher.url, "--publish-ttl", "4", data=known.data, workers=1)
    # sla publishes from a thread once its workers listen: wait for it (bounded).
    listed = eventually(lambda: (lambda c, r, e: (c, r, e) if {"security", "sla"} <= set(r) else None)(
        *_components(known.data)), timeout=20)
    assert listed, "sla never appeared among the components"
    code, rows, _ = listed
    assert code == 0 and {"security", "publisher", "sla"} <= set(rows)
    for name in ("security", "publisher", "sla"):
        assert rows[name]["health"] == "healthy" and rows[name]["latency_ms"] >= 0, rows[name]
    assert rows["sla"]["url"] == sla.url and "http://schemas.ogf.org/occi/sla#agreement" in rows["sla"]["categories"]
    assert rows["publisher"]["url"] == known.publisher.url
    table = accords("components", data=known.data, timeout=30)
    assert table.returncode == 0 and table.stdout.startswith("NAME") and "agreement" in table.stdout

    sla.process.send_signal(signal.SIGKILL)           # a crash: no withdrawal
    sla.process.wait(timeout=10)
    # Still published (until its ttl runs out) but no longer answering: reported, exit 1.
    seen = eventually(lambda: (lambda c, r, e: (c, r, e) if c == 1 else None)(*_components(known.data)), timeout=20)
    assert seen, "the dead sla was never reported"
    _, rows, stderr = seen
    assert rows["sla"]["health"] in ("unreachable", "not ready") and rows["security"]["health"] == "healthy"
    assert "accords components: not healthy: sla" in stderr
    # Then its publications expire without heartbeats: the row goes and everything left is healthy.
    assert eventually(lambda: _components(known.data)[0] == 0, timeout=20)
    assert "sla" not in _components(known.data)[1]


def test_components_lists_the_registry_when_asked_or_when_no_platform_is_known(known, tmp_path):
    for data, extra in ((tmp_path / "nothing-known", ()), (known.data, ("--available",))):
        data.mkdir(exist_ok=True)
        rows = as_json(accords("components", "--json", *extra, data=data))
        assert {"security", "publisher", "sla"} <= {row["name"] for row in rows}
        assert all(set(row) == {"name", "summary"} for row in rows)
