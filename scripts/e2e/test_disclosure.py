"""Coordinated vulnerability disclosure in headless Chromium, from a researcher's report to the
published advisory.

A researcher reports a vulnerability on the public page (refused first: the description too short
and no e-mail address, the errors beside the fields and what was typed kept). An analyst reads the
report and its sealed contact, opens a case with an embargo in Asia/Karachi time, invites two
vendors (a refused invitation first), and a hundred more registered vendors make a long list. A
vendor's contact signs in with an account that reaches only its case: it cannot read advisories,
its answer without a statement is refused beside the field, then given with its agreement to the
embargo. The analyst drafts the case's advisory, finishes it and sends it for review; the
administrator cannot publish it before the embargo and approves its release; the embargo is moved
to the next minutes (the vendors asked again), and when it ends the advisory is published on its
own, on the public pages and in the CSAF provider. Pages at phone width."""
import datetime
import os
import re
import time
import tempfile

from playwright.sync_api import expect

from conftest import Server, free_port
from test_browser import SHOTS
from test_cases import person
from test_warrants import add_account, browser, first_administrator, set_password, Person  # noqa: F401 (browser is a fixture)

DESCRIPTION = ("The web console of Edge Gateway 4.1 accepts a session cookie signed with the vendor's default key, "
               "so anyone on the network can forge an administrator session. Steps: build the cookie, load /console.")


def test_a_disclosure_from_report_to_publication(browser, tmp_path):
    config = tmp_path / "qila.yaml"
    config.write_text("public:\n  formMinimumSeconds: 0\ncases:\n  sweepSeconds: 2\n")
    data = tempfile.mkdtemp(prefix="qila-e2e-disclosure-")
    server = Server(data, free_port(), extra=["--config", str(config)]).start()
    try:
        run(browser, server)
    finally:
        server.stop()


def invite(page, vendor, name, email):
    page.fill("#invite-vendor", vendor)
    page.select_option("#invite-sector", "telecom")
    page.fill("#invite-name", name)
    page.fill("#invite-email", email)
    page.click("#invite-form button[type=submit]")


def run(browser, server):
    base = server.base
    admin = first_administrator(browser, server)
    page = admin.page
    analyst_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst")

    # The researcher: refused first, everything typed kept; then received with a reference.
    public = browser.new_context(ignore_https_errors=True).new_page()
    public.goto(base + "/public/vulnerabilities")
    public.fill("#vendor", "Acme")
    public.fill("#product", "Edge Gateway")
    public.fill("#version", "4.1")
    public.fill("#description", "It is broken.")
    public.fill("#credit", "Sana R.")
    public.click("main form button[type=submit]")
    expect(public.locator("#description-error")).to_contain_text("at least 40 characters")
    expect(public.locator("#email-error")).to_contain_text("e-mail address")
    expect(public.locator("#vendor")).to_have_value("Acme")
    expect(public.locator("#credit")).to_have_value("Sana R.")
    public.screenshot(path=os.path.join(SHOTS, "disclosure-public-refused.png"), full_page=True)
    public.fill("#description", DESCRIPTION)
    public.fill("#email", "sana@example.pk")
    public.click("main form button[type=submit]")
    expect(public.get_by_role("heading", level=1)).to_have_text("Thank you for your report")
    reference = re.search(r"VR-[A-Z0-9]+", public.locator("#vulnerability-reference").inner_text()).group(0)
    public.goto(base + "/public/vulnerabilities?lang=ur")
    expect(public.locator("html")).to_have_attribute("lang", "ur")
    expect(public.get_by_role("heading", level=1)).to_contain_text("سکیورٹی خامی")

    # The analyst reads the report (the contact too) and opens a case with an embargo in Karachi time.
    omar = person(browser, server, analyst_link, "omar")
    o = omar.page
    o.click("nav >> text=Disclosures")
    o.click(f"#reports >> text={reference}")
    expect(o.locator("#report-contact")).to_contain_text("sana@example.pk")
    expect(o.locator("#report-description")).to_contain_text("default key")
    expect(o.locator("#case-title")).to_have_value("Vulnerability in Acme Edge Gateway")
    o.fill("#case-title", "Forged administrator sessions in Edge Gateway")
    o.fill("#case-embargo-date", "2031-01-10")
    o.fill("#case-embargo-time", "09:00")
    o.fill("#case-embargo-zone", "Asia/Karachi")
    o.click("#open-form button[type=submit]")
    expect(o.locator("#case-embargo-date-error")).to_contain_text("more than two years away")
    expect(o.locator("#case-title")).to_have_value("Forged administrator sessions in Edge Gateway")
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).strftime("%Y-%m-%d")
    o.fill("#case-embargo-date", later)
    o.click("#open-form button[type=submit]")
    expect(o.locator("#disclosure-message")).to_contain_text("Opened CVD-")
    tracking = re.search(r"CVD-\d{4}-\d{4}", o.locator("#disclosure-message").inner_text()).group(0)
    case_url = o.url.split("#")[0].split("?")[0]
    expect(o.locator("#case-embargo")).to_contain_text(f"{later} 09:00 Asia/Karachi (UTC+05:00)")
    expect(o.locator("#case-embargo")).to_contain_text("04:00 UTC")

    # Vendors: a refused invitation keeps what was typed; two invited, each with a one-time link.
    invite(o, "Acme", "Ali Raza", "not an address")
    expect(o.locator("#invite-email-error")).to_contain_text("is not an email address")
    expect(o.locator("#invite-vendor")).to_have_value("Acme")
    invite(o, "Acme", "Ali Raza", "psirt@acme.example")
    expect(o.locator("#disclosure-message")).to_contain_text("Invited Ali Raza of Acme")
    ali_link = o.locator("#setup-link code").inner_text()
    invite(o, "Zenith Networks", "Zara Khan", "security@zenith.example")
    expect(o.locator("#disclosure-message")).to_contain_text("Invited Zara Khan of Zenith Networks")

    # A long list: a hundred more vendors, registered by invitation in another case and added here.
    csrf = o.locator("input[name=_csrf]").first.get_attribute("value")
    o.goto(base + "/disclosures")
    o.fill("#case-title", "Vendors' register")
    o.fill("#case-summary", "Registers the telecom vendors.")
    o.click("#open-form button[type=submit]")
    expect(o.locator("#disclosure-message")).to_contain_text("Opened CVD-")
    register_url = o.url.split("#")[0].split("?")[0]
    for number in range(100):
        response = o.request.post(register_url + "/invitations", form={
            "_csrf": csrf, "vendor": f"Vendor {number:03d}", "sector": "telecom", "contactName": f"Contact {number:03d}",
            "contactEmail": f"psirt{number:03d}@vendor{number:03d}.example"}, max_redirects=0)
        assert response.status == 303, response.status
    o.goto(case_url)
    o.locator("#vendors-form input[type=checkbox]").first.wait_for()
    for box in o.locator("#vendors-form input[type=checkbox]").all():
        box.check()
    o.click("#vendors-form button[type=submit]")
    expect(o.locator("#disclosure-message")).to_contain_text("Added 100 vendors.")
    expect(o.locator("#vendors tbody tr")).to_have_count(102)
    o.screenshot(path=os.path.join(SHOTS, "disclosure-case-102-vendors.png"), full_page=True)

    # The vendor's contact: only its case; no advisories; a refused answer, then its answer.
    set_password(browser, server, ali_link)
    ali = Person(browser, server, "psirt@acme.example")
    a = ali.page
    a.goto(base + "/sign-in")
    a.fill("#username", "psirt@acme.example")
    a.fill("#password", "lantern orchard velvet ninety")
    a.click("button[type=submit]")
    expect(a.get_by_role("heading", name="Overview")).to_be_visible()
    nav = a.locator("header nav").inner_text()
    assert "Disclosures" in nav and "Advisories" not in nav and "Cases" not in nav and "Exposure" not in nav, nav
    a.screenshot(path=os.path.join(SHOTS, "disclosure-vendor-overview.png"), full_page=True)
    a.goto(base + "/disclosures")
    expect(a.locator("#cases tbody tr")).to_have_count(1)
    expect(a.locator("#cases")).to_contain_text(tracking)
    expect(a.locator("#reports")).to_have_count(0)
    assert a.request.get(base + "/advisories").status == 403
    assert a.request.get(register_url).status in (403, 404)
    a.click(f"#cases >> text={tracking}")
    expect(a.locator("#case-embargo")).to_contain_text("Asia/Karachi")
    expect(a.locator("main")).not_to_contain_text("sana@example.pk")
    a.select_option("#answer-status", "fix-ready")
    a.check("#answer-agrees")
    a.click("#answer-form button[type=submit]")
    expect(a.locator("#answer-statement-error")).to_contain_text("what the advisory should say for Acme")
    expect(a.locator("#answer-status")).to_have_value("fix-ready")
    a.screenshot(path=os.path.join(SHOTS, "disclosure-vendor-refused.png"), full_page=True)
    a.fill("#answer-statement", "Fixed in Edge Gateway 4.2; the default key is no longer accepted.")
    a.click("#answer-form button[type=submit]")
    expect(a.locator("#disclosure-message")).to_contain_text("Recorded for Acme: affected, fix ready, embargo agreed.")
    expect(a.locator("#case-embargo")).to_contain_text("1 of 102 vendors agree it")

    # The analyst narrows the long list to the vendors with a fix ready, then drafts the advisory.
    o.goto(case_url)
    o.select_option("#vendor-status", "fix-ready")
    o.click("form.filters button[type=submit]")
    expect(o.locator("#vendors tbody tr")).to_have_count(1)
    expect(o.locator("#vendors-shown")).to_have_text("1 of 102 shown")
    expect(o.locator("#vendors")).to_contain_text("Fixed in Edge Gateway 4.2")
    o.goto(case_url)
    o.click("#draft-form button[type=submit]")
    expect(o.locator("#advisory-message")).to_contain_text("Drafted QILA-")
    advisory_url = o.url.split("#")[0].split("?")[0]
    expect(o.locator("#products")).to_have_value(re.compile("Acme \\| Edge Gateway"))
    expect(o.locator("#details")).to_have_value(re.compile("Fixed in Edge Gateway 4.2"))
    o.fill("#products", "Acme | Edge Gateway | <4.2 | 4.2")
    o.fill("#vulnerabilities", "| Forged administrator session cookie accepted | CWE-565 | CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    o.fill("#remediations", "vendor fix | Update Edge Gateway to 4.2")
    o.click("#advisory-form button[type=submit]")
    expect(o.locator("#advisory-message")).to_contain_text("Saved the draft.")
    o.click("button:has-text('Send for review')")
    expect(o.locator("#advisory-message")).to_contain_text("Sent for review")

    # The administrator cannot publish it under embargo, and approves its release instead.
    page.goto(advisory_url)
    page.click("#publish-form button[type=submit]")
    expect(page.locator("#publish-form, .error-summary").first).to_contain_text("under embargo until")
    page.goto(case_url)
    page.click("#release-form button[type=submit]")
    expect(page.locator("#disclosure-message")).to_contain_text("Release approved")

    # The embargo moves to the next minutes; the vendors are asked again; at its end it is published.
    end = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) + datetime.timedelta(minutes=2)
    o.goto(case_url)
    o.fill("#embargo-date", end.strftime("%Y-%m-%d"))
    o.fill("#embargo-time", end.strftime("%H:%M"))
    o.fill("#embargo-zone", "UTC")
    o.click("#embargo-form button[type=submit]")
    expect(o.locator("#embargo-reason-error")).to_contain_text("Say why the embargo moves")
    o.fill("#embargo-reason", "Acme shipped the fix early; all vendors are ready.")
    o.click("#embargo-form button[type=submit]")
    expect(o.locator("#disclosure-message")).to_contain_text("every vendor is asked to agree it")
    expect(o.locator("#case-embargo")).to_contain_text("0 of 102 vendors agree it")
    expect(o.locator("#case-advisory")).to_contain_text("its release is approved")
    o.set_viewport_size({"width": 390, "height": 844})
    o.screenshot(path=os.path.join(SHOTS, "disclosure-case-phone.png"), full_page=False)
    assert o.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    o.set_viewport_size({"width": 1280, "height": 900})
    deadline = time.time() + 240
    while time.time() < deadline:
        o.goto(case_url)
        if "published" in o.locator("#case-status").inner_text():
            break
        o.wait_for_timeout(2000)
    expect(o.locator("#case-status")).to_have_text("published")
    assert datetime.datetime.now(datetime.timezone.utc) >= end
    expect(o.locator("#case-advisory")).to_contain_text("published")
    o.screenshot(path=os.path.join(SHOTS, "disclosure-case-published.png"), full_page=True)
    public.goto(base + "/public/?lang=en")
    expect(public.locator("main")).to_contain_text("Forged administrator sessions in Edge Gateway")
    index = public.request.get(base + "/.well-known/csaf/clear/index.txt").text()
    assert re.search(r"\d{4}/qila-\d{4}-\d{4}\.json", index), index
