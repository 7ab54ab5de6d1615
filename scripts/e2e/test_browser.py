"""The sign-in and administration pages in real headless Chromium (Debian's), driven by
Playwright from PyPI: what an authority administrator does on the first day."""
import base64
import hashlib
import hmac
import os
import re
import struct
import time

import pytest
from playwright.sync_api import sync_playwright, expect

from accessibility import flush, watch
from conftest import PASSWORD

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
SHOTS = os.environ.get("QILA_SCREENSHOTS", os.path.join(os.environ.get("TMPDIR", "/tmp"), "qila-screenshots"))


def totp(secret, at=None):
    """RFC 6238 with SHA-1, 6 digits, 30 s: what an authenticator app computes."""
    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@pytest.fixture
def page():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        errors = []
        page = watch(context.new_page(), "administrator")
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.console_errors = errors
        yield page
        flush()
        browser.close()


def test_first_day_of_an_administrator(server, page):
    # First run: the one-time link creates the authority and its administrator.
    page.goto(server.setup_link())
    expect(page.get_by_role("heading", name="Set up Qila")).to_be_visible()
    page.fill("#organisation", "National Cybersecurity Authority")
    page.fill("#displayName", "Ayesha Khan")
    page.fill("#username", "ayesha")
    page.fill("#password", "qwertyuiopasdfghjkl")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("keyboard")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")

    # Sign in.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.fill("#username", "ayesha")
    page.fill("#password", "not the password at all")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator("svg.chart")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "overview.png"), full_page=True)

    # Administering needs two-factor sign-in: enrol with the QR code the server draws.
    page.click("text=Turn it on")
    expect(page.locator("figure.qr svg")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "totp.png"), full_page=True)
    secret = page.locator("code.copy").inner_text()
    page.fill("#code", "000000" if totp(secret) != "000000" else "111111")
    page.click("button:has-text('Turn on')")
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.fill("#code", totp(secret))
    page.click("button:has-text('Turn on')")
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    assert page.locator("ul.codes li").count() == 10

    # Register an operator and give it an administrator.
    page.click("nav >> text=Organisations")
    expect(page.get_by_role("heading", name="Organisations")).to_be_visible()
    page.fill("#name", "Operator A")
    page.select_option("#kind", "licensee")
    page.select_option("#sector", "telecom")
    page.fill("#registration", "LIC-0042")
    page.click("button:has-text('Register')")
    expect(page.get_by_role("heading", name="Operator A")).to_be_visible()
    page.fill("#username", "bilal")
    page.fill("#displayName", "Bilal Ahmed")
    page.check("input[value=organisation-admin]")
    page.click("button:has-text('Add account')")
    expect(page.locator("text=Account bilal added.")).to_be_visible()
    link = page.locator("section.secret code").inner_text()
    assert re.match(r"^https://127\.0\.0\.1:\d+/setup/[A-Za-z0-9_-]{40,}$", link), link
    page.screenshot(path=os.path.join(SHOTS, "organisation.png"), full_page=True)

    # The audit log shows what happened, with a chart.
    page.click("nav >> text=Audit log")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("td", has_text="admin.user.create").first).to_be_visible()
    expect(page.locator("tr.outcome-failure td", has_text="auth.sign-in").first).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "audit.png"), full_page=True)

    # The content security policy lets nothing inline run, and no page raised a script error.
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors

    # Sign out ends the session.
    page.click("button:has-text('Sign out')")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(server.base + "/profile")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
