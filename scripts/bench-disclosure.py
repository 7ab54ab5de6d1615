#!/usr/bin/env python3
"""Time of a coordinated disclosure case's page with a hundred vendors, as the analyst and as one
vendor's contact see it, over keep-alive HTTP on loopback.

    scripts/bench-disclosure.py [VENDORS] [REQUESTS]     (defaults: 100 vendors, 200 requests each)

QILA_BINARY names a release binary already built; otherwise the script builds one.

Qila: a release build, SQLite, plain HTTP (--no-tls, as behind a TLS-terminating proxy). The first
administrator opens a case and invites VENDORS vendors (each a vendor organisation with a contact
account), half of whom answer with a status and a statement. Each page is fetched REQUESTS times
after 20 unmeasured ones; the median, 95th percentile and maximum are printed. The issue's target is
under 300 ms; CERT/CC VINCE's users report 10 s for a case of 121 vendors (no peer runs here).
"""
import datetime
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

VENDORS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PASSWORD = "lantern orchard velvet ninety"
PORT = 18590
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Client:
    def __init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", PORT)
        self.cookie = None
        self.csrf = None

    def request(self, method, path, form=None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closes connections it has served long enough: open another.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", PORT)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        return response, response.read().decode()

    def sign_in(self, username):
        response, _ = self.request("POST", "/sign-in", {"username": username, "password": PASSWORD})
        cookie = response.getheader("Set-Cookie")
        assert cookie, f"{username} could not sign in: {response.status}"
        self.cookie = cookie.split(";")[0]
        _, page = self.request("GET", "/profile")
        self.csrf = re.search(r'name="_csrf" value="([^"]*)"', page).group(1)


def main():
    binary = os.environ.get("QILA_BINARY")
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "qila"], cwd=ROOT, check=True, capture_output=True)
        binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip() + "/qila"
    data = tempfile.mkdtemp(prefix="qila-bench-disclosure-")
    out = open(os.path.join(data, "out.log"), "w")
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", str(PORT), "--no-tls", "--flows-listen", "off", "--syslog-udp", "off",
                               "--syslog-tcp", "off"], stdout=out, stderr=subprocess.DEVNULL)
    try:
        link = None
        for _ in range(300):
            text = open(os.path.join(data, "out.log")).read()
            found = re.search(r"/setup/[A-Za-z0-9_-]+", text)
            if found and "Qila is serving" in text:
                link = found.group(0)
                break
            time.sleep(0.2)
        assert link, "the server did not start"
        admin = Client()
        admin.request("POST", link, {"organisation": "NCA", "displayName": "Admin", "username": "admin", "password": PASSWORD})
        admin.sign_in("admin")
        response, _ = admin.request("POST", "/disclosures", {"_csrf": admin.csrf, "title": "Forged sessions in gateways", "summary": "A forged cookie.",
                                                             "embargoDate": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(), "embargoTime": "09:00", "embargoZone": "Asia/Karachi"})
        found = re.search(r"/disclosures/(CVD-\d{4}-\d{4})", response.getheader("Location") or "")
        assert found, f"the case was not opened: {response.status} {response.getheader('Location')}"
        case = found.group(1)
        links = []
        started = time.time()
        for number in range(VENDORS):
            response, _ = admin.request("POST", f"/disclosures/{case}/invitations", {
                "_csrf": admin.csrf, "vendor": f"Vendor {number:03d}", "sector": "telecom", "contactName": f"Contact {number:03d}",
                "contactEmail": f"psirt@vendor{number:03d}.example"})
            assert response.status == 303, response.status
            _, page = admin.request("GET", response.getheader("Location"))
            links.append(re.search(r"/setup/[A-Za-z0-9_-]+", page).group(0))
        print(f"{VENDORS} vendors invited in {time.time() - started:.1f} s")
        _, page = admin.request("GET", f"/disclosures/{case}")
        organisations = re.findall(r'<option value="([0-9a-f-]{36})">Vendor', page)
        for number, organisation in enumerate(organisations[: VENDORS // 2]):
            admin.request("POST", f"/disclosures/{case}/answers", {
                "_csrf": admin.csrf, "organisation": organisation, "status": "fix-ready" if number % 2 else "not-affected",
                "statement": f"Statement of vendor {number}: fixed in release 4.{number}.", "agreesEmbargo": "1"})
        vendor = Client()
        vendor.request("POST", links[0], {"password": PASSWORD})
        vendor.sign_in("psirt@vendor000.example")

        def measure(client, who):
            path = f"/disclosures/{case}"
            for _ in range(20):
                client.request("GET", path)
            times = []
            for _ in range(REQUESTS):
                start = time.perf_counter()
                response, page = client.request("GET", path)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status == 200, response.status
            table = page[page.index('<table id="vendors">'):]
            rows = table[: table.index("</table>")].count("<tr") - 1
            times.sort()
            print(f"{who}: {rows} vendor rows, {len(page) // 1024} KiB; median {statistics.median(times):.1f} ms, "
                  f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms over {REQUESTS} requests")

        measure(admin, "analyst's page")
        measure(vendor, "vendor's page")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
