"""Log sources in headless Chromium: an administrator registers an auditd sensor (refused first,
for plain syslog without a source address: the error beside the field, the format and mapping
chosen kept), SigmaHQ's Linux and AWS rules are imported, and the Rules page then says which rules the
registered sensor can feed and, for the others, which log source is missing and which shipped
mapping would read it (filtered, and at phone width). An audit record sent over syslog TCP raises
SigmaHQ's "ASLR disabled" rule as an alert of the sensor's organisation; a line that is not an
audit record is counted against the sensor as `not-auditd`."""
import os
import socket
import subprocess
import tempfile

import pytest
from playwright.sync_api import expect

from conftest import BINARY, Server, free_port
from test_browser import SHOTS
from test_intake import RULES, health, wait_events
from test_cases import person
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


@pytest.mark.skipif(not os.path.isdir(RULES), reason="the SigmaHQ corpus is not at ../shared/corpora (tests need it)")
def test_an_auditd_sensor_feeds_the_linux_rules_and_the_rules_page_says_which_cannot_fire(browser):
    data = tempfile.mkdtemp(prefix="qila-e2e-logsources-")
    syslog = free_port()
    server = Server(data, free_port(), ["--syslog-tcp", f"127.0.0.1:{syslog}", "--syslog-udp", "off"]).start()
    try:
        run(browser, server, data, syslog)
    finally:
        server.stop()


def qila(data, *args):
    return subprocess.run([BINARY, *args, "--data", data], check=True, capture_output=True, text=True).stdout


def run(browser, server, data, syslog):
    admin = first_administrator(browser, server)
    page = admin.page
    qila(data, "admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    # SigmaHQ's Linux and AWS rules (the whole set takes minutes to import in a debug build).
    qila(data, "rules", "import", os.path.join(RULES, "linux"), os.path.join(RULES, "cloud", "aws"))

    # Refused: plain syslog needs its source address. What was chosen comes back.
    page.goto(server.base + "/sensors")
    page.select_option("#organisation", label="Operator A")
    page.fill("#name", "web01-audit")
    page.select_option("#transport", "syslog")
    page.select_option("#format", "auditd")
    page.select_option("#mapping", "linux-auditd")
    page.click("form[action='/sensors'] button[type=submit]")
    expect(page.locator(".field-error").first).to_be_visible()
    assert page.input_value("#name") == "web01-audit"
    assert page.input_value("#format") == "auditd"
    assert page.input_value("#mapping") == "linux-auditd"
    page.screenshot(path=os.path.join(SHOTS, "log-sources-sensor-refused.png"), full_page=True)
    page.fill("#addresses", "127.0.0.1")
    page.click("form[action='/sensors'] button[type=submit]")
    expect(page.locator("td", has_text="web01-audit").first).to_be_visible()

    # The Rules page: only linux-auditd is in use, so the Linux audit rules are fed and the others
    # are not, each with the mapping that would feed it.
    page.goto(server.base + "/rules")
    summary = page.locator("#rule-feed-summary").inner_text()
    assert "(linux-auditd)" in summary, summary
    page.screenshot(path=os.path.join(SHOTS, "log-sources-rules.png"), full_page=False)
    page.goto(server.base + "/rules?feed=unfed&q=cloudtrail")
    row = page.locator("#rule-list tbody tr").first
    expect(row).to_contain_text("no mapping in use reads its log source (product aws, service cloudtrail)")
    expect(row).to_contain_text("aws-cloudtrail")
    page.goto(server.base + "/rules?feed=unfed&q=lnx_buffer_overflows")
    expect(page.locator("#rule-list tbody tr").first).to_contain_text("would feed it")
    page.goto(server.base + "/rules?feed=fed")
    rows = page.locator("#rule-list tbody tr")
    expect(rows.first).to_contain_text("fed by linux-auditd")
    # Exactly the Linux audit rules (53 in the corpus) are fed.
    assert "of 53 matching" in page.locator("#rule-range").inner_text()
    page.locator("#rule-list-section").screenshot(path=os.path.join(SHOTS, "log-sources-rules-fed.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.base + "/rules?feed=unfed")
    page.screenshot(path=os.path.join(SHOTS, "log-sources-rules-phone.png"), full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # An audit record over syslog TCP fires SigmaHQ's rule; a line that is not one is counted.
    with socket.create_connection(("127.0.0.1", syslog)) as connection:
        connection.sendall(
            b'<14>Dec  5 07:56:17 web01 audisp-syslog: type=EXECVE msg=audit(1764921377.001:501): argc=3 a0="sysctl" a1="-w" '
            b'a2="kernel.randomize_va_space=0"\n'
            b'<14>Dec  5 07:56:18 web01 audisp-syslog: this is not an audit record\n')
    wait_events(data, "web01-audit", 1, timeout=120)
    _, refused = health(data, "web01-audit")
    assert refused.get("not-auditd") == 1, refused
    # The authority's analyst sees the same Rules page and the alert.
    analyst = person(browser, server, add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst"), "omar")
    page = analyst.page
    page.goto(server.base + "/rules?feed=unfed")
    expect(page.locator("#rule-feed-summary")).to_contain_text("(linux-auditd)")
    page.locator("#rule-list-section").screenshot(path=os.path.join(SHOTS, "log-sources-rules-analyst.png"))
    page.goto(server.base + "/alerts")
    expect(page.get_by_text("ASLR Disabled Via Sysctl or Direct Syscall - Linux").first).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "log-sources-alert.png"), full_page=False)
    page = admin.page
    page.goto(server.base + "/sensors")
    expect(page.locator("body")).to_contain_text("not-auditd")
    page.screenshot(path=os.path.join(SHOTS, "log-sources-sensors.png"), full_page=True)
