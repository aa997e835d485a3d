"""`accords serve --certfile --keyfile` serves OCCI over TLS (GFD.223 §12: TLS SHOULD be used)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import requests

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]


def test_serve_speaks_https_with_the_given_certificate(serve, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
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
