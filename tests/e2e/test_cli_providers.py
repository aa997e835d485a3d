"""``accords providers`` on real processes: security, publisher and provisioning (two workers) on
loopback, an ``ec2`` provider on moto added with credentials from stdin and the environment,
listed, checked (ok), a wrong endpoint checked (fails with the provider's reason, exit 1); the
secret appears in no server log and in no file of the data directory (the database included)."""
from __future__ import annotations

import json
import secrets

import pytest

from broker import settings
from tests.e2e.conftest import stop
from tests.e2e.test_cli_security import accords, as_json, eventually
from tests.emulators import TEST_AMI, free_port, start_moto

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


@pytest.fixture
def moto(tmp_path):
    with start_moto(tmp_path) as server:
        yield server


@pytest.fixture
def provisioning(platform, serve):
    settings.write_platform(platform.data, publisher=platform.publisher.url, security=platform.security.url)
    platform.provisioning = serve("provisioning", "--publisher", platform.publisher.url, data=platform.data,
                                  workers=2)
    listed = eventually(lambda: accords("providers", "list", "--json", data=platform.data).returncode == 0,
                        timeout=20)
    assert listed, "the provisioning component never published the provider kind"
    return platform


def test_add_list_check_and_remove_an_ec2_provider_on_moto_without_leaking_its_secret(provisioning, moto):
    data = provisioning.data
    access_key, secret = f"AKIA{secrets.token_hex(8).upper()}", f"moto-secret-{secrets.token_hex(12)}"
    added = as_json(accords("providers", "add", "aws", "--driver", "ec2", "--option", "region=us-east-1",
                            "--option", f"endpoint_url={moto.url}", "--option", "max_attempts=1",
                            "--credential", "access_key=@env:TEST_ACCESS_KEY", "--credential", "secret_key=-",
                            "--image", TEST_AMI, "--json", data=data, stdin=secret + "\n",
                            env={"TEST_ACCESS_KEY": access_key}))
    assert added["name"] == "aws" and added["credentialNames"] == ["access_key", "secret_key"]
    assert added["options"] == {"region": "us-east-1", "endpoint_url": moto.url, "max_attempts": 1}

    rows = {row["name"]: row for row in as_json(accords("providers", "list", "--json", data=data))}
    assert (rows["aws"]["driver"], rows["aws"]["source"], rows["aws"]["state"]) == ("ec2", "api", "unchecked")
    assert rows["local"]["source"] == "default"                    # no providers.json here
    table = accords("providers", "list", data=data)
    assert table.returncode == 0 and "aws" in table.stdout and "ec2" in table.stdout

    checked = as_json(accords("providers", "check", "aws", "--json", data=data, timeout=90))
    assert checked["state"] == "ok" and checked["message"].startswith("ec2 answered") and checked["checked"]

    # Another worker made the driver: the record is read by every worker, no restart needed.
    wrong_port = free_port()
    assert accords("providers", "add", "broken", "--driver", "ec2", "--option", "region=us-east-1",
                   "--option", f"endpoint_url=http://127.0.0.1:{wrong_port}", "--option", "max_attempts=1",
                   "--credentials-file", "/dev/stdin", data=data,
                   stdin=json.dumps({"access_key": access_key, "secret_key": secret})).returncode == 0
    failed = accords("providers", "check", "broken", data=data, timeout=90)
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert "provider broken failed its check: ec2 could not list instances" in failed.stderr
    assert f"127.0.0.1:{wrong_port}" in failed.stderr
    as_json_failed = accords("providers", "check", "broken", "--json", data=data, timeout=90)
    assert as_json_failed.returncode == 1 and json.loads(as_json_failed.stdout)["state"] == "failed"

    duplicate = accords("providers", "add", "aws", "--driver", "local", data=data)
    assert duplicate.returncode == 1 and "there is a provider named 'aws' already" in duplicate.stderr
    assert as_json(accords("providers", "remove", "broken", "--json", data=data))["removed"] is True
    assert "broken" not in {row["name"] for row in as_json(accords("providers", "list", "--json", data=data))}

    outputs = [added, checked, table.stdout, failed.stdout, failed.stderr, as_json_failed.stdout]
    assert all(secret not in json.dumps(output) and access_key not in json.dumps(output) for output in outputs)
    # Nothing the servers logged, and no file of the data directory, holds the secret.
    logs = ""
    for server in (provisioning.provisioning, provisioning.security, provisioning.publisher):
        stop(server.process)
        logs += server.process.stdout.read() + server.process.stderr.read()
    assert "accords provisioning: http://127.0.0.1:" in logs                 # its output was read
    assert secret not in logs and access_key not in logs
    stored = [path for path in data.rglob("*") if path.is_file()]
    assert any(path.name.startswith("provisioning.db") for path in stored), [p.name for p in stored]
    for path in stored:
        content = path.read_bytes()
        assert secret.encode() not in content and access_key.encode() not in content, path
