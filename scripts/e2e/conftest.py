"""Starts the real `qila` binary for end-to-end checks: HTTPS on loopback, SQLite data in a
temporary directory, the one-time set-up link read from its output."""
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

BINARY = os.environ.get("QILA_BINARY", ".build/debug/qila")
PASSWORD = "lantern orchard velvet ninety"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def insecure_context():
    # The server certificate comes from Qila's own CA; these checks test Qila, not the PKI.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Server:
    def __init__(self, data, port, extra=()):
        self.data = data
        self.port = port
        self.extra = list(extra)
        self.base = f"https://127.0.0.1:{port}"
        self.process = None
        self.output = ""

    def start(self):
        log = open(os.path.join(self.data, "server.log"), "a")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--data", self.data, "--port", str(self.port)] + self.extra,
            stdout=subprocess.PIPE, stderr=log, text=True)
        deadline = time.time() + 60
        lines = []
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                if self.process.poll() is not None:
                    raise RuntimeError("qila serve exited: " + open(os.path.join(self.data, "server.log")).read()[-2000:])
                continue
            lines.append(line)
            if "Qila is serving" in line:
                break
        # The set-up lines follow the serving line on first start.
        time.sleep(0.3)
        self.output = "".join(lines)
        self.wait_healthy()
        return self

    def setup_link(self):
        # Read what is left of the first-start message.
        while "expires in 24 hours" not in self.output:
            self.output += self.process.stdout.readline()
        match = re.search(r"(/setup/[A-Za-z0-9_-]+)", self.output)
        return self.base + match.group(1)

    def wait_healthy(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", context=insecure_context(), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("qila did not become healthy")

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def server():
    data = tempfile.mkdtemp(prefix="qila-e2e-")
    instance = Server(data, free_port()).start()
    yield instance
    instance.stop()


@pytest.fixture(autouse=True)
def accessibility():
    """Fails a test in whose pages axe-core found a serious or critical violation."""
    import accessibility as axe_check
    axe_check.violations.clear()
    yield
    found = list(axe_check.violations)
    axe_check.violations.clear()
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def pytest_terminal_summary(terminalreporter):
    import accessibility as axe_check
    if axe_check.checked:
        terminalreporter.write_line(f"axe-core checked {len(axe_check.checked)} kinds of page (per person): "
                                    + ", ".join(sorted({kind for _, kind in axe_check.checked})))


def local_stamp(t, zone="Asia/Karachi"):
    """A time as a person types it into Qila's forms: year-month-day and 24-hour time in the zone
    the pages show (the installation's, Asia/Karachi, unless the profile chooses another)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def wait_for(condition, timeout, what):
    """Polls a condition the server meets on its own schedule; fails naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout} s for {what}")
