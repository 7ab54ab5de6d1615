"""Acknowledged writes survive kill -9: organisations created through the API while the
server is killed are all there after a restart, and the audit log still verifies."""
import http.cookiejar
import json
import os
import re
import subprocess
import threading
import urllib.parse
import urllib.request

from conftest import BINARY, PASSWORD, Server, insecure_context


def opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=insecure_context()), urllib.request.HTTPCookieProcessor(jar))


def form(session, url, fields):
    data = urllib.parse.urlencode(fields, doseq=True).encode()
    return session.open(urllib.request.Request(url, data=data, method="POST"), timeout=30).read().decode()


def api(url, token, body=None, method="GET"):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", "Bearer " + token)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, context=insecure_context(), timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def test_kill_minus_nine_loses_no_acknowledged_write(server):
    session = opener()
    form(session, server.setup_link(), {
        "organisation": "NCA", "displayName": "Admin", "username": "admin", "password": PASSWORD})
    form(session, server.base + "/sign-in", {"username": "admin", "password": PASSWORD})
    profile = session.open(server.base + "/profile", timeout=30).read().decode()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', profile).group(1)
    page = form(session, server.base + "/profile/tokens", {
        "_csrf": csrf, "name": "durability", "scope": ["read", "write"], "days": "1"})
    token = re.search(r"(qila_[A-Za-z0-9_-]+)", page).group(1)

    acknowledged = []
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            name = f"Durable Org {n:05d}"
            try:
                status, _ = api(server.base + "/api/v1/organisations", token,
                                {"name": name, "kind": "licensee", "sector": "telecom"}, "POST")
                if status == 201:
                    acknowledged.append(name)
            except Exception:
                return  # the server died mid-request: that write was never acknowledged
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 40:
        pass
    server.kill9()
    stop.set()
    thread.join()

    restarted = Server(server.data, server.port).start()
    try:
        _, organisations = api(restarted.base + "/api/v1/organisations", token)
        names = {o["name"] for o in organisations}
        missing = [n for n in acknowledged if n not in names]
        assert not missing, f"{len(missing)} acknowledged organisations were lost: {missing[:5]}"
    finally:
        restarted.stop()

    verify = subprocess.run([BINARY, "audit", "verify", "--data", server.data], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "the audit log is intact" in verify.stdout
