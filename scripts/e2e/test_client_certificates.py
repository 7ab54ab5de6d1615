"""Mutual TLS for sensors: a certificate from Qila's CA authenticates its service account;
revoking it takes effect on the next request; a certificate from another CA is refused in the
handshake."""
import json
import os
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import BINARY, PASSWORD, insecure_context
from test_durability import form, opener


def client_context(directory, name):
    context = ssl.create_default_context(cafile=os.path.join(directory, "ca.pem"))
    context.check_hostname = False  # the server certificate names localhost; we connect to 127.0.0.1
    context.load_cert_chain(os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}-key.pem"))
    return context


def me(base, context):
    with urllib.request.urlopen(base + "/api/v1/me", context=context, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_client_certificate_lifecycle(server):
    session = opener()
    form(session, server.setup_link(), {"organisation": "NCA", "displayName": "Admin", "username": "admin", "password": PASSWORD})
    run = lambda *args: subprocess.run([BINARY, *args, "--data", server.data], capture_output=True, text=True, check=True).stdout
    run("admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    run("admin", "create-user", "--organisation", "Operator A", "--username", "sensor-1", "--name", "Sensor 1",
        "--role", "organisation-reporter", "--service")
    out = tempfile.mkdtemp(prefix="qila-cert-")
    issued = run("certs", "issue", "--username", "sensor-1", "--days", "30", "--out", out)
    serial = issued.split()[2]

    status, body = me(server.base, client_context(out, "sensor-1"))
    assert status == 200
    assert body["method"] == "client-certificate"
    assert body["user"]["username"] == "sensor-1"
    assert body["organisation"]["name"] == "Operator A"

    run("certs", "revoke", "--serial", serial, "--reason", "key-compromise")
    with pytest.raises(urllib.error.HTTPError) as refused:
        me(server.base, client_context(out, "sensor-1"))
    assert refused.value.code == 401
    assert "revoked" in refused.value.read().decode()

    # A certificate from a CA Qila does not know never gets past the TLS handshake.
    other = tempfile.mkdtemp(prefix="qila-other-ca-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(other, "rogue-key.pem"), "-out", os.path.join(other, "rogue.pem"),
                    "-subj", "/CN=rogue", "-days", "1"], check=True, capture_output=True)
    context = insecure_context()
    context.load_cert_chain(os.path.join(other, "rogue.pem"), os.path.join(other, "rogue-key.pem"))
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionResetError)):
        me(server.base, context)
