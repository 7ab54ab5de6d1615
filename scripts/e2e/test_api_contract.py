"""The REST API against its own description: schemathesis (a real peer from PyPI) generates
requests from /openapi.yaml, with a fixed seed and a bound on examples, and fails on any server
error or any answer that breaks the schema. Run against a throw-away installation."""
import os
import shutil
import subprocess
import tempfile

from conftest import BINARY, Server, free_port

SEED = 20261203
EXAMPLES = 12


def qila(data, *args):
    return subprocess.run([BINARY, *args, "--data", data], check=True, capture_output=True, text=True).stdout


def test_the_api_answers_as_its_description_says():
    schemathesis = shutil.which("schemathesis") or shutil.which("st")
    assert schemathesis, "schemathesis is not installed (pip install schemathesis)"
    data = tempfile.mkdtemp(prefix="qila-contract-")
    qila(data, "admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government")
    qila(data, "admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    qila(data, "admin", "create-user", "--organisation", "National CERT", "--username", "contract-admin", "--name", "Contract Admin",
         "--role", "authority-admin", "--role", "authority-analyst", "--clearance", "red")
    secret = qila(data, "admin", "token", "--username", "contract-admin", "--scope", "read", "--scope", "write", "--scope", "admin").strip()
    server = Server(data, free_port()).start()
    try:
        result = subprocess.run(
            [schemathesis, "run", f"{server.base}/openapi.yaml", "--url", f"{server.base}/api/v1",
             "--header", f"Authorization: Bearer {secret}", "--tls-verify", "false",
             "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,negative_data_rejection",
             "--phases", "examples,coverage,fuzzing", "--seed", str(SEED), "--max-examples", str(EXAMPLES),
             "--workers", "1", "--no-color",
             # Telemetry bodies are JSON lines or CloudTrail files, described in prose, not as a schema to generate from.
             "--exclude-path", "/intake"],
            capture_output=True, text=True, timeout=1500, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        report = result.stdout[-12000:] + result.stderr[-3000:]
        assert result.returncode == 0, report
    finally:
        server.stop()
