"""`accords serve --certfile --keyfile` serves OCCI over TLS (GFD.223 §12: TLS SHOULD be used)."""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
import requests

from occi.client import OcciClient
from occi.client.transport import Transport
from occi.publisher.client import PublisherClient
from occi.security.authenticators import BasicCredentials
from tests.e2e.conftest import free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]


def self_signed(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_serve_speaks_https_with_the_given_certificate(serve, tmp_path):
    cert, key = self_signed(tmp_path)
    server = serve("provisioning", "--certfile", str(cert), "--keyfile", str(key), scheme="https", verify=str(cert))
    answer = requests.get(server.url + "/-/", headers={"Authorization": f"Bearer {server.token}"}, verify=str(cert),
                          timeout=5)
    assert answer.status_code == 200 and "OCCI/1.2" in answer.headers["Server"]
    created = requests.post(server.url + "/storage/", json={"kind": "http://schemas.ogf.org/occi/infrastructure#storage",
                                                            "attributes": {"occi.storage.size": 1}},
                            headers={"Authorization": f"Bearer {server.token}"}, verify=str(cert), timeout=5)
    assert created.status_code == 201 and created.headers["Location"].startswith("https://127.0.0.1:")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url.replace("https://", "http://") + "/-/", timeout=5)



def test_a_whole_platform_over_tls_checks_every_certificate(serve, tmp_path):
    """security, publisher and sla over HTTPS: each component calls the others (publishing,
    finding the security component, checking credentials) and verifies their certificates
    against the CA bundle named by REQUESTS_CA_BUNDLE."""
    cert, key = self_signed(tmp_path)
    tls = dict(scheme="https", verify=str(cert), env={"REQUESTS_CA_BUNDLE": str(cert)}, data=tmp_path / "platform")
    files = ("--certfile", str(cert), "--keyfile", str(key))
    publisher_port = free_port()
    security = serve("security", "--publisher", f"https://127.0.0.1:{publisher_port}", *files, **tls)
    publisher = serve("publisher", "--security", security.url, *files, port=publisher_port, **tls)
    sla = serve("sla", "--publisher", publisher.url, *files, **tls)

    session = requests.Session()
    session.verify = str(cert)
    session.trust_env = False            # else $REQUESTS_CA_BUNDLE, if set, wins over session.verify
    admin = json.loads((tmp_path / "platform" / "credentials" / "admin.json").read_text())
    login = Transport(security.url, credentials=BasicCredentials(admin["user"], admin["password"]), session=session)
    created = login.request("POST", "/authorization/", headers={"Content-Type": "application/occi+json"},
                            body=b'{"kind": "http://scheme.compatibleone.fr/scheme/compatible#authorization"}')
    token = created.headers["X-OCCI-Authorize"]

    # security and sla published themselves with the publisher, over TLS...
    directory = PublisherClient(publisher.url, client=OcciClient(publisher.url, token=token, session=session),
                                cache_ttl=0)
    deadline = time.monotonic() + 20
    while not (directory.resolve("agreement") and directory.resolve("authorization")) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert {p.url for p in directory.resolve("agreement")} == {sla.url}     # GFD.228 and CORDS agreements
    assert [p.url for p in directory.resolve("authorization")] == [security.url]
    # ...and sla found the security component there, over TLS, and checks our token with it.
    answer = session.get(sla.url + "/agreement/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
