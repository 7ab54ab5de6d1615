"""Settings come from flags, then QILA_* variables, then qila.yaml; a database that cannot be
reached gives one clear line and exit status 1."""
import os
import subprocess
import tempfile
import time
import urllib.request

from conftest import BINARY, free_port, insecure_context


def serve_and_probe(cwd, env, port):
    process = subprocess.Popen([os.path.abspath(BINARY), "serve"], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=insecure_context(), timeout=2) as r:
                    return r.status
            except OSError:
                if process.poll() is not None:
                    return None
                time.sleep(0.3)
        return None
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_environment_beats_file_and_file_beats_defaults():
    cwd = tempfile.mkdtemp(prefix="qila-config-")
    file_port, env_port = free_port(), free_port()
    with open(os.path.join(cwd, "qila.yaml"), "w") as f:
        f.write(f"data: {cwd}/data-from-file\nhttp:\n  port: {file_port}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QILA_")}
    assert serve_and_probe(cwd, env, file_port) == 200
    assert os.path.isfile(os.path.join(cwd, "data-from-file", "installation.key")), "the data directory came from qila.yaml"
    assert serve_and_probe(cwd, dict(env, QILA_HTTP_PORT=str(env_port)), env_port) == 200


def test_unreachable_database_is_one_clear_line():
    cwd = tempfile.mkdtemp(prefix="qila-nodb-")
    started = time.time()
    result = subprocess.run(
        [os.path.abspath(BINARY), "serve", "--data", cwd, "--database", "postgres://qila:s3cret-pass@127.0.0.1:1/qila"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert time.time() - started < 30
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("qila: cannot reach PostgreSQL at 127.0.0.1:1"), result.stderr
    assert "s3cret-pass" not in result.stderr + result.stdout


def test_ports_in_use_are_named():
    """The web port in use stops the server with the address named; a default syslog or flow
    port in use is named and skipped, and the rest still starts."""
    import socket
    cwd = tempfile.mkdtemp(prefix="qila-ports-")
    web = socket.socket()
    web.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    web.bind(("127.0.0.1", 0))
    web.listen()
    port = web.getsockname()[1]
    result = subprocess.run([os.path.abspath(BINARY), "serve", "--data", cwd, "--port", str(port)], capture_output=True, text=True, timeout=60)
    web.close()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"qila: cannot listen for HTTPS on 127.0.0.1:{port}: address already in use (choose another with --port or http.port)", result.stderr[-500:]

    # A syslog listener named on the command line must bind; named, it stops the start.
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    syslog = taken.getsockname()[1]
    result = subprocess.run(
        [os.path.abspath(BINARY), "serve", "--data", cwd, "--port", str(free_port()), "--syslog-tcp", f"127.0.0.1:{syslog}", "--flows-listen", "off",
         "--syslog-udp", "off"],
        capture_output=True, text=True, timeout=60)
    taken.close()
    assert result.returncode == 1
    assert f"cannot listen for syslog over TCP on 127.0.0.1:{syslog}: address already in use" in result.stderr, result.stderr[-500:]
