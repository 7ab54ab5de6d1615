"""Lawful access to retained traffic data, end to end in real headless Chromium: an authority
administrator registers a provider's exporter and RADIUS client; the provider's router sends
NetFlow v5 and its access server RADIUS accounting over real UDP; an investigator records a
court warrant, the provider's legal officer approves it, the investigator queries inside it and
downloads the signed package; the oversight view shows counts only."""
import hashlib
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tarfile
import tempfile
import time

import pytest
from playwright.sync_api import sync_playwright, expect

from accessibility import flush, watch
from conftest import BINARY, PASSWORD, Server, free_port, local_stamp
from test_browser import CHROMIUM, SHOTS, totp

SUBSCRIBER_ADDRESS = "10.20.30.40"
RADIUS_SECRET = "a shared secret for the NAS"


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def retention_server():
    data = tempfile.mkdtemp(prefix="qila-e2e-warrants-")
    flow_port, radius_port = free_udp_port(), free_udp_port()
    instance = Server(data, free_port(), ["--flows-listen", f"127.0.0.1:{flow_port}", "--radius-listen", f"127.0.0.1:{radius_port}"]).start()
    instance.flow_port, instance.radius_port = flow_port, radius_port
    yield instance
    instance.stop()


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        flush()
        instance.close()


class Person:
    """One person in their own browser context, with their authenticator app."""

    def __init__(self, browser, server, username):
        self.context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = watch(self.context.new_page(), username)
        self.server = server
        self.username = username
        self.secret = None
        self.last_step = None

    def code(self):
        # A code is accepted once: wait for the next 30-second step after the last one used.
        while int(time.time() // 30) == self.last_step:
            time.sleep(0.5)
        self.last_step = int(time.time() // 30)
        return totp(self.secret)

    def sign_in(self):
        page = self.page
        page.goto(self.server.base + "/sign-in")
        page.fill("#username", self.username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        if self.secret and page.locator("#code").count():
            page.fill("#code", self.code())
            page.click("button[type=submit]")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    def enrol(self):
        page = self.page
        page.goto(self.server.base + "/profile/totp")
        self.secret = page.locator("code.copy").inner_text()
        page.fill("#code", self.code())
        page.click("button:has-text('Turn on')")
        expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()

    def submit(self, selector):
        """Clicks a submit button; when Qila asks to confirm identity first, confirms and submits again."""
        url = self.page.url
        self.page.click(selector)
        if self.page.get_by_role("heading", name="Confirm it is you").count():
            self.page.fill("#password", PASSWORD)
            self.page.fill("#code", self.code())
            self.page.click("button:has-text('Confirm')")
            return False
        return url is not None


def first_administrator(browser, server):
    """Creates the authority and its first administrator from the set-up link, signed in with TOTP."""
    admin = Person(browser, server, "ayesha")
    page = admin.page
    page.goto(server.setup_link())
    page.fill("#organisation", "National Cybersecurity Authority")
    page.fill("#displayName", "Ayesha Khan")
    page.fill("#username", "ayesha")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    admin.sign_in()
    admin.enrol()
    return admin


def set_password(browser, server, link):
    context = browser.new_context(ignore_https_errors=True)
    page = watch(context.new_page(), "new account")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    context.close()


def add_account(admin, organisation, username, name, role, clearance=None):
    page = admin.page
    page.click("nav >> text=Organisations")
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()
    page.get_by_role("link", name=organisation, exact=True).click()
    expect(page.get_by_role("heading", name=organisation, exact=True)).to_be_visible()
    page.fill("#username", username)
    page.fill("#displayName", name)
    page.check(f"input[value={role}]")
    if clearance:
        page.select_option("#clearance", clearance)
    page.click("button:has-text('Add account')")
    expect(page.locator(f"text=Account {username} added.")).to_be_visible()
    return page.locator("section.secret code").inner_text()


def provider_and_investigator(admin):
    """Registers Operator A with its legal officer and an investigator at the authority; returns
    their set-up links."""
    page = admin.page
    page.click("nav >> text=Organisations")
    page.fill("#name", "Operator A")
    page.select_option("#kind", "licensee")
    page.select_option("#sector", "telecom")
    page.click("button:has-text('Register')")
    expect(page.get_by_role("heading", name="Operator A")).to_be_visible()
    return (add_account(admin, "Operator A", "lubna", "Lubna Shah", "legal-officer"),
            add_account(admin, "National Cybersecurity Authority", "imran", "Imran Qureshi", "investigator"))


def send_netflow_v5(port, flows):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(netflow_v5(flows), ("127.0.0.1", port))


def netflow_v5(flows):
    """NetFlow v5 (Cisco's published layout): a 24-byte header and 48-byte records."""
    now = time.time()
    uptime = 3_600_000
    header = struct.pack(">HHIIIIBBH", 5, len(flows), uptime, int(now), int((now % 1) * 1e9), 1, 0, 0, 0)
    body = b""
    for source, source_port, destination, destination_port, octets in flows:
        first, last = uptime - 60_000, uptime - 59_000
        body += struct.pack(
            ">4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(source), socket.inet_aton(destination), socket.inet_aton("0.0.0.0"), 1, 2,
            10, octets, first, last, source_port, destination_port, 0, 0x18, 6, 0, 0, 0, 24, 24, 0)
    return header + body


def send_radius_start(port, user, address, session):
    """An Accounting-Request (RFC 2866) with its Request Authenticator; returns the response code."""
    def attribute(kind, value):
        return bytes([kind, len(value) + 2]) + value
    attributes = attribute(40, struct.pack(">I", 1)) + attribute(1, user.encode()) + attribute(8, socket.inet_aton(address)) + attribute(44, session.encode())
    attributes += attribute(55, struct.pack(">I", int(time.time()) - 600))  # Event-Timestamp: the session began ten minutes ago
    length = 20 + len(attributes)
    head = bytes([4, 9]) + struct.pack(">H", length)
    authenticator = hashlib.md5(head + b"\0" * 16 + attributes + RADIUS_SECRET.encode()).digest()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(head + authenticator + attributes, ("127.0.0.1", port))
        answer, _ = s.recvfrom(64)
    return answer[0]


def test_a_warrant_from_recording_to_court_package(retention_server, browser):
    server = retention_server
    admin = first_administrator(browser, server)
    page = admin.page

    legal_link, investigator_link = provider_and_investigator(admin)

    # The provider's router and access server are registered; nothing else is accepted.
    page.click("nav >> text=Traffic data")
    expect(page.get_by_role("heading", name="Traffic data")).to_be_visible()
    page.select_option("#organisation", label="Operator A")
    page.select_option("#kind", "exporter")
    page.fill("#name", "Core router")
    page.fill("#address", "127.0.0.1")
    page.click("button:has-text('Register')")
    page.select_option("#organisation", label="Operator A")
    page.select_option("#kind", "radius")
    page.fill("#name", "BNG accounting")
    page.fill("#address", "127.0.0.1")
    page.fill("#secret", "short")
    page.click("button:has-text('Register')")
    # Refused beside the field; what was chosen and typed comes back, the secret does not.
    expect(page.locator("#secret-error")).to_contain_text("at least 16 characters")
    expect(page.locator("#error-summary")).to_contain_text("Shared secret")
    expect(page.locator("#kind")).to_have_value("radius")
    expect(page.locator("#name")).to_have_value("BNG accounting")
    expect(page.locator("#secret")).to_have_value("")
    page.screenshot(path=os.path.join(SHOTS, "flows-refused.png"), full_page=True)
    page.fill("#secret", RADIUS_SECRET)
    page.click("button:has-text('Register')")
    expect(page.locator("td", has_text="Core router")).to_be_visible()
    expect(page.locator("td", has_text="BNG accounting")).to_be_visible()

    # Real UDP: an accounting start names the subscriber behind the address, then flows arrive.
    time.sleep(2)  # a registration reaches the receiving thread within a durability interval (1 s)
    assert send_radius_start(server.radius_port, "subscriber-7731", SUBSCRIBER_ADDRESS, "sess-1") == 5
    send_netflow_v5(server.flow_port, [
        (SUBSCRIBER_ADDRESS, 51000, "198.51.100.10", 443, 5000),
        (SUBSCRIBER_ADDRESS, 51001, "198.51.100.11", 443, 7000),
        ("10.20.30.41", 52000, "198.51.100.10", 443, 9000),
    ])
    time.sleep(3)  # durable within a second
    page.reload()
    expect(page.locator("#collector-chart svg")).to_be_visible()
    row = page.locator("tr", has_text="Core router")
    expect(row.locator("td").nth(5)).to_have_text("3")
    page.screenshot(path=os.path.join(SHOTS, "flows.png"), full_page=True)

    # The investigator records the court's warrant.
    set_password(browser, server, investigator_link)
    investigator = Person(browser, server, "imran")
    investigator.sign_in()
    investigator.enrol()
    ip = investigator.page
    ip.click("nav >> text=Warrants")
    expect(ip.get_by_role("heading", name="Warrants")).to_be_visible()
    now = time.time()
    stamp = local_stamp
    ip.select_option("#provider", label="Operator A")
    ip.fill("#court", "Court of the Magistrate Section 30, Islamabad")
    ip.fill("#number", "CR-2026-0142")
    ip.fill("#issuedAt", stamp(now - 86_400))
    ip.fill("#expiresAt", stamp(now - 86_400 * 2))
    ip.fill("#agency", "FIA Cybercrime Wing")
    ip.fill("#addresses", SUBSCRIBER_ADDRESS)
    ip.fill("#windowStart", stamp(now - 3600))
    ip.fill("#windowEnd", stamp(now + 3600))
    ip.check("input[name=disclosesSubscribers]")
    investigator.submit("button:has-text('Record')")
    # Refused: the page comes back by GET (a reload submits nothing) with everything as typed,
    # the error under the Expires label and a summary that links to it.
    assert "/warrants?form=" in ip.url
    expect(ip.locator("#expiresAt-error")).to_have_text("Error: Expires must be after the issuing date.")
    expect(ip.locator(".error-summary a[href='#expiresAt']")).to_be_visible()
    expect(ip.locator("#provider option:checked")).to_have_text("Operator A")
    expect(ip.locator("#court")).to_have_value("Court of the Magistrate Section 30, Islamabad")
    expect(ip.locator("#addresses")).to_have_value(SUBSCRIBER_ADDRESS)
    expect(ip.locator("input[name=disclosesSubscribers]")).to_be_checked()
    assert "field expiresAt" not in ip.content()
    ip.screenshot(path=os.path.join(SHOTS, "warrant-refused.png"), full_page=True)
    ip.set_viewport_size({"width": 390, "height": 844})
    ip.screenshot(path=os.path.join(SHOTS, "warrant-refused-phone.png"), full_page=True)
    ip.set_viewport_size({"width": 1280, "height": 900})
    ip.reload()
    expect(ip.locator("#expiresAt-error")).to_be_visible()
    # Only the date is fixed.
    ip.fill("#expiresAt", stamp(now + 86_400 * 30))
    investigator.submit("button:has-text('Record')")
    expect(ip.get_by_role("heading", name=re.compile("Warrant CR-2026-0142"))).to_be_visible()
    expect(ip.locator("h1 small")).to_have_text("Waiting for approval")
    assert ip.locator("text=Run query").count() == 0
    warrant_url = ip.url

    # The provider's legal officer approves it.
    set_password(browser, server, legal_link)
    legal = Person(browser, server, "lubna")
    legal.sign_in()
    legal.enrol()
    lp = legal.page
    lp.click("nav >> text=Warrants")
    lp.click("text=CR-2026-0142")
    expect(lp.locator("h1 small")).to_have_text("Waiting for approval")
    if not legal.submit("button[value=approve]"):
        lp.goto(warrant_url)
        legal.submit("button[value=approve]")
    expect(lp.locator("h1 small")).to_have_text("Approved")
    lp.screenshot(path=os.path.join(SHOTS, "warrant-approved.png"), full_page=True)

    # The investigator queries inside the warrant and gets the signed package for the court.
    ip.goto(warrant_url)
    if not investigator.submit("button:has-text('Run query')"):
        ip.goto(warrant_url)
        investigator.submit("button:has-text('Run query')")
    expect(ip.get_by_role("status")).to_contain_text("2 records found")
    expect(ip.locator("table.results td", has_text="subscriber-7731").first).to_be_visible()
    assert ip.locator("table.results td", has_text="10.20.30.41").count() == 0
    ip.screenshot(path=os.path.join(SHOTS, "warrant-query.png"), full_page=True)
    with ip.expect_download() as download:
        ip.click("text=Download package")
    path = download.value.path()
    with tarfile.open(path) as archive:
        names = set(archive.getnames())
        assert {"records.csv", "records.json", "manifest.json", "manifest.sig", "signing-key.pub"} <= names
        manifest = json.loads(archive.extractfile("manifest.json").read())
        assert manifest["records"] == 2 and manifest["warrantNumber"] == "CR-2026-0142"
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.extractfile(entry["name"]).read()).hexdigest() == entry["sha256"]
        assert b"subscriber-7731" in archive.extractfile("records.csv").read()

    # The same query from the command line, with password and code, writes the same package.
    output = os.path.join(server.data, "package.tar")
    command = [BINARY, "flows", "query", "--data", server.data, "--warrant", warrant_url.rsplit("/", 1)[1], "--user", "imran", "--output", output]
    refused = subprocess.run(command, input=f"{PASSWORD}\n000000\n", capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "code" in refused.stderr, refused.stderr
    done = subprocess.run(command, input=f"{PASSWORD}\n{investigator.code()}\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 records"), done.stdout
    with tarfile.open(output) as archive:
        assert json.loads(archive.extractfile("manifest.json").read())["records"] == 2

    # Oversight: counts and timing, never the identifiers.
    page.goto(server.base + "/warrants/oversight")
    expect(page.get_by_role("heading", name="Warrant oversight")).to_be_visible()
    expect(page.locator("#warrant-chart svg")).to_be_visible()
    content = page.content()
    assert SUBSCRIBER_ADDRESS not in content and "subscriber-7731" not in content
    page.screenshot(path=os.path.join(SHOTS, "warrant-oversight.png"), full_page=True)

    # The audit log records each step.
    page.goto(server.base + "/admin/audit?action=warrant.")
    for action in ["warrant.record", "warrant.approve", "warrant.query", "warrant.export.download"]:
        expect(page.locator("td", has_text=action).first).to_be_visible()

    # Traffic data lost: the server is held (SIGSTOP) while the router floods its socket, so the
    # kernel drops datagrams; within seconds of resuming, the page raises the alarm, lists the
    # interval, and the audit log records it.
    page.goto(server.base + "/flows")
    expect(page.locator("#flow-loss")).to_have_count(0)
    flood = netflow_v5([("10.99.0.%d" % (i + 1), 40000 + i, "203.0.113.5", 443, 1200) for i in range(30)])
    server.process.send_signal(signal.SIGSTOP)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            # 366 MB: more than the socket's queue holds (128 MiB of payload; the kernel counts
            # some 2.3 KB of memory for each of these 1.5 KB datagrams against twice that).
            for _ in range(250_000):
                s.sendto(flood, ("127.0.0.1", server.flow_port))
    finally:
        server.process.send_signal(signal.SIGCONT)
    # The banner comes from the live counters, the interval from the loss watch's next look
    # (every 2 s): wait for both.
    deadline = time.time() + 30
    while time.time() < deadline and (page.locator("#flow-loss").count() == 0 or page.locator("#flow-losses").count() == 0):
        time.sleep(1)
        page.reload()
    expect(page.locator("#flow-loss")).to_contain_text("Traffic data is being lost")
    expect(page.locator("#flow-losses td", has_text="UDP").first).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "flows-loss.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=os.path.join(SHOTS, "flows-loss-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server.base + "/admin/audit?action=flows.collector.loss")
    expect(page.locator("td", has_text="flows.collector.loss").first).to_be_visible()
