"""The security operations pages in real headless Chromium: the authority's administrator registers
an operator's syslog sensor and uploads a rule (a broken one first, refused with its finding),
the operator's events arrive over real syslog TCP, and an analyst finds the alert in the queue,
reads its evidence, is told a dismissal needs a reason, acknowledges it and promotes it to a case."""
import json
import os
import re
import socket
import tempfile
import time

from playwright.sync_api import expect

from conftest import Server, free_port
from test_browser import SHOTS
from test_cases import person, register
from test_intake import WHOAMI
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


def syslog_line(image, host, pid):
    event = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": host, "User": "OPA\\\\bilal",
             "Image": image, "ProcessId": pid}
    return f"<134>1 2026-11-23T10:00:00Z {host} nxlog - - - {json.dumps(event)}\n".encode()


def test_sensor_rule_alert_and_case_in_the_browser(browser):
    data = tempfile.mkdtemp(prefix="qila-e2e-alert-pages-")
    syslog_port = free_port()
    server = Server(data, free_port(), ["--syslog-tcp", f"127.0.0.1:{syslog_port}"]).start()
    try:
        admin = first_administrator(browser, server)
        page = admin.page
        register(page, "Operator A", "licensee", "telecom")
        analyst_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst")

        # The operator's domain controller sends syslog from loopback.
        page.click("nav >> text=Sensors")
        expect(page.get_by_role("heading", name="Sensors")).to_be_visible()
        page.select_option("#organisation", label="Operator A")
        page.fill("#name", "dc-logs")
        page.select_option("#transport", "syslog")
        page.select_option("#format", "json")
        page.select_option("#mapping", "windows-flat")
        # Plain syslog without a source address is refused beside that field; nothing typed is lost.
        admin.submit("#add-sensor button[type=submit]")
        expect(page.locator("#addresses-error")).to_contain_text("Source addresses or networks are needed for plain syslog")
        expect(page.locator("#name")).to_have_value("dc-logs")
        expect(page.locator("#mapping option:checked")).to_have_text("windows-flat")
        page.screenshot(path=os.path.join(SHOTS, "sensor-refused.png"), full_page=True)
        page.fill("#addresses", "127.0.0.1")
        admin.submit("#add-sensor button[type=submit]")
        expect(page.get_by_role("status")).to_contain_text("Sensor dc-logs registered for Operator A.")
        expect(page.locator("#sensors")).to_contain_text("dc-logs")

        # A rule without a condition is refused with what is wrong; the real one is stored.
        page.click("nav >> text=Rules")
        page.fill("#rule-file", "broken.yml")
        page.fill("#rule-yaml", "title: Broken\nlogsource: {product: windows}\ndetection:\n  selection: {Image: x}\n")
        admin.submit("#upload-rule button[type=submit]")
        expect(page.get_by_role("alert")).to_contain_text("condition")
        page.fill("#rule-file", "whoami.yml")
        page.fill("#rule-yaml", WHOAMI)
        admin.submit("#upload-rule button[type=submit]")
        expect(page.locator("#rule-list")).to_contain_text("Whoami run")

        # Twelve events, three of them whoami on one host; the rule set recompiles within seconds.
        time.sleep(3)
        with socket.create_connection(("127.0.0.1", syslog_port)) as connection:
            for pid in range(12):
                image = "C:\\Windows\\System32\\whoami.exe" if pid % 4 == 0 else "C:\\Windows\\System32\\svchost.exe"
                connection.sendall(syslog_line(image, "opa-dc-01", pid))
        page.click("nav >> text=Sensors")
        deadline = time.time() + 60
        while "12" not in page.locator("#sensors").inner_text() and time.time() < deadline:
            time.sleep(1)
            page.reload()
        expect(page.locator("#sensors")).to_contain_text("12")
        page.screenshot(path=os.path.join(SHOTS, "sensors.png"), full_page=True)

        # The analyst's queue: the alert, grouped, with the chart by severity.
        omar = person(browser, server, analyst_link, "omar")
        op = omar.page
        op.click("nav >> text=Alerts")
        expect(op.get_by_role("heading", name="Alerts")).to_be_visible()
        expect(op.locator("#alert-list")).to_contain_text("Whoami run")
        expect(op.locator("svg").first).to_be_visible()
        op.select_option("#alert-severity", "low")
        op.click("#alert-filters button")
        expect(op.locator("#alert-list")).not_to_contain_text("Whoami run")
        op.select_option("#alert-severity", "high")
        op.click("#alert-filters button")
        op.click("#alert-list >> text=Whoami run")
        expect(op.locator("#alert-count")).to_have_text("3")
        expect(op.locator("#alert-fields")).to_contain_text("whoami.exe")
        expect(op.locator("pre.event").first).to_contain_text("opa-dc-01")
        op.screenshot(path=os.path.join(SHOTS, "alert.png"), full_page=True)

        # Triage: a dismissal needs a reason; acknowledge with a note; then promote to a case.
        op.once("dialog", lambda dialog: dialog.accept())  # "Dismiss?" asks before a destructive button
        omar.submit("#triage button[value=dismiss]")
        expect(op.get_by_role("alert")).to_contain_text("reason")
        op.fill("#triage-reason", "asking the operator whether this is their admin")
        omar.submit("#triage button[value=acknowledge]")
        expect(op.locator("#alert-status")).to_contain_text("acknowledged: asking the operator")
        omar.submit("#triage button[value=promote]")
        expect(op.get_by_role("heading", name=re.compile(r"QC-\d{4}-\d{4}"))).to_be_visible()
        expect(op.locator("body")).to_contain_text("Alert: Whoami run")
        op.go_back()
        op.reload()
        expect(op.locator("#alert-status")).to_contain_text("promoted")
    finally:
        server.stop()
