"""Regulated incident reporting end to end in real headless Chromium: a licensee's reporter opens
a report and submits its stages (one late), the licensee's auditor reports another incident on
its behalf with an attachment, an authority analyst triages, comments internally and to the
reporter, asks for information and an intermediate report and issues a show-cause notice, the
sector regulator sees its sector's cases, and the reporter answers. Then the figures page."""
import json
import os
import re
import time

from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_string

from playwright.sync_api import expect

from conftest import local_stamp
from test_browser import SHOTS
from test_warrants import Person, add_account, browser, first_administrator, set_password  # noqa: F401 (browser is a fixture)


def stamp(t):
    return local_stamp(t)


def register(page, name, kind, sector):
    page.click("nav >> text=Organisations")
    page.fill("#name", name)
    page.select_option("#kind", kind)
    page.select_option("#sector", sector)
    page.click("button:has-text('Register')")
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def person(browser, server, link, username):
    set_password(browser, server, link)
    someone = Person(browser, server, username)
    someone.sign_in()
    return someone


def fill_early_warning(page, summary):
    page.fill("#telecom-early-warning-summary", summary)
    page.fill("#telecom-early-warning-servicesAffected", "Mobile data, billing")
    page.fill("#telecom-early-warning-usersAffected", "12000")
    page.fill("#telecom-early-warning-geographicArea", "Lahore, Kasur")
    page.select_option("#telecom-early-warning-suspectedMalicious", "yes")


def test_a_reported_incident_from_draft_to_show_cause(server, browser):
    admin = first_administrator(browser, server)
    page = admin.page

    register(page, "Operator A", "licensee", "telecom")
    register(page, "Telecom Regulator", "sector-regulator", "telecom")
    register(page, "Audit Firm", "other", "it-services")
    reporter_link = add_account(admin, "Operator A", "rashid", "Rashid Mehmood", "organisation-reporter")
    auditor_link = add_account(admin, "Audit Firm", "sana", "Sana Iqbal", "auditor")
    analyst_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst")
    regulator_link = add_account(admin, "Telecom Regulator", "nadia", "Nadia Hussain", "sector-regulator")
    # The audit firm's engagement: Sana audits Operator A.
    page.click("nav >> text=Organisations")
    page.click("text=Audit Firm")
    page.click("text=sana")
    page.check("input[name=audited] >> nth=0")
    admin.submit("button:has-text('Save')")
    # After confirming identity the form comes back as it was left: ticked, to be saved.
    if page.get_by_role("status").count() == 0:
        expect(page.locator("input[name=audited] >> nth=0")).to_be_checked()
        page.click("button:has-text('Save')")
    expect(page.get_by_role("status")).to_have_text("Saved.")

    # Where notifications go: a signed webhook for the authority's own systems.
    page.click("nav >> text=Webhooks")
    page.fill("#webhook-url", "http://example.org/hook")
    page.click("#add-webhook button")
    expect(page.locator("#webhook-url-error")).to_contain_text("https://")
    expect(page.locator("#webhook-url")).to_have_value("http://example.org/hook")
    page.fill("#webhook-url", "https://siem.authority.example/qila")
    page.check("input[name=event][value='case.submitted']")
    page.click("#add-webhook button")
    assert len(page.locator("#webhook-secret").inner_text()) == 64
    expect(page.locator("#webhooks")).to_contain_text("siem.authority.example")

    # The licensee's reporter opens a report: aware 30 hours ago, so the early warning will be late.
    rashid = person(browser, server, reporter_link, "rashid")
    rp = rashid.page
    rp.click("nav >> text=Cases")
    expect(rp.get_by_role("heading", name="Incident cases")).to_be_visible()
    rp.fill("#title", "Ransomware on the billing platform")
    rp.fill("#awareness", stamp(time.time() + 3600))
    rp.select_option("#tlp", "green")
    rp.check("input[name=offence][value='5']")
    rp.click("button:has-text('Open the report')")
    # Refused beside the field, in words; what was typed and chosen comes back.
    expect(rp.locator("#awareness-error")).to_contain_text("in the future")
    expect(rp.locator("#title")).to_have_value("Ransomware on the billing platform")
    expect(rp.locator("#tlp")).to_have_value("green")
    expect(rp.locator("input[name=offence][value='5']")).to_be_checked()
    rp.screenshot(path=os.path.join(SHOTS, "case-open-refused.png"), full_page=True)
    rp.set_viewport_size({"width": 390, "height": 844})
    rp.screenshot(path=os.path.join(SHOTS, "case-open-refused-phone.png"), full_page=True)
    rp.set_viewport_size({"width": 1280, "height": 900})
    rp.fill("#awareness", "1900-01-01 10:00")
    rp.click("button:has-text('Open the report')")
    expect(rp.locator("#awareness-error")).to_contain_text("before 1990")
    rp.fill("#awareness", stamp(time.time() - 30 * 3600))
    rp.select_option("#tlp", "green")
    rp.select_option("#classification", "malicious-code/infected-system")
    rp.check("input[name=offence][value='5']")
    rp.fill("#observables", "203.0.113.50\nhxxp://pay-now[.]example/decrypt")
    rp.click("button:has-text('Open the report')")
    expect(rp.get_by_role("heading", name=re.compile(r"QC-\d{4}-\d{4}"))).to_be_visible()
    case_url = rp.url
    number = rp.get_by_role("heading", name=re.compile(r"QC-")).inner_text().split()[0]
    expect(rp.locator("#case-status")).to_have_text("Draft")
    # An incomplete stage is refused with every missing field named; what was typed is kept.
    rp.fill("#telecom-early-warning-summary", "Billing servers encrypted overnight")
    rp.click("#form-telecom-early-warning button[value=submit]")
    expect(rp.get_by_role("alert")).to_contain_text("servicesAffected")
    expect(rp.get_by_role("alert")).to_contain_text("usersAffected")
    expect(rp.locator("#telecom-early-warning-summary")).to_have_value("Billing servers encrypted overnight")
    fill_early_warning(rp, "Billing servers encrypted overnight")
    rp.click("#form-telecom-early-warning button[value=submit]")
    expect(rp.get_by_role("status")).to_have_text("Submitted to the authority.")
    expect(rp.locator("#stage-telecom-early-warning .clock")).to_have_text("late")
    expect(rp.locator("#case-status")).to_have_text("New")
    # A draft of the next stage stays with the reporter.
    rp.fill("#telecom-notification-summary", "Still investigating")
    rp.click("#form-telecom-notification button[value=draft]")
    expect(rp.get_by_role("status")).to_contain_text("Draft saved")
    rp.screenshot(path=os.path.join(SHOTS, "case-reporter.png"), full_page=True)

    # The auditor reports a second incident on Operator A's behalf, with evidence attached.
    sana = person(browser, server, auditor_link, "sana")
    sp = sana.page
    sp.click("nav >> text=Cases")
    sp.select_option("#organisation", label="Operator A")
    sp.fill("#title", "Defacement of the customer portal")
    sp.fill("#awareness", stamp(time.time() - 2 * 3600))
    sp.select_option("#tlp", "green")
    sp.click("button:has-text('Open the report')")
    expect(sp.get_by_role("heading", name=re.compile(r"QC-"))).to_be_visible()
    fill_early_warning(sp, "Portal front page replaced")
    sp.click("#form-telecom-early-warning button[value=submit]")
    expect(sp.get_by_role("status")).to_have_text("Submitted to the authority.")
    evidence = os.path.join(server.data, "portal.txt")
    with open(evidence, "w") as handle:
        handle.write("GET / 200 defaced at 04:12\n")
    sp.set_input_files("#file", evidence)
    sp.click("#attach button")
    expect(sp.get_by_role("status")).to_have_text("Attached portal.txt.")
    program = os.path.join(server.data, "tool.pdf")
    with open(program, "wb") as handle:
        handle.write(b"MZ\x90\x00 not a pdf")
    sp.set_input_files("#file", program)
    sp.click("#attach button")
    expect(sp.get_by_role("alert")).to_contain_text("program")
    expect(sp.locator("#timeline")).to_contain_text("on behalf of Operator A")

    # The analyst triages the first case, comments, asks, and issues a show-cause notice.
    omar = person(browser, server, analyst_link, "omar")
    op = omar.page
    op.click("nav >> text=Cases")
    expect(op.locator("#case-list")).to_contain_text(number)
    expect(op.locator("#case-list")).to_contain_text("Defacement of the customer portal")
    op.click(f"text={number}")
    op.select_option("#status", "triaged")
    op.select_option("#severity", "high")
    op.select_option("#assignee", label="Omar Farooq")
    op.click("#triage button")
    expect(op.locator("#case-status")).to_have_text("Triaged")
    op.fill("#comment-text", "Matches the LockBit affiliate seen at another operator")
    op.click("#comment button")
    op.fill("#comment-text", "Please preserve the encrypted disks for forensics")
    op.check("#comment input[name=shared]")
    op.click("#comment button")
    op.fill("#question", "Which backups were affected?")
    op.fill("#dueDays", "3")
    op.click("#ask button")
    expect(op.get_by_role("status")).to_contain_text("Request sent")
    op.click("#stage-telecom-intermediate button:has-text('Request it')")
    expect(op.locator("#stage-telecom-intermediate .clock")).to_have_text("open")
    op.fill("#task-title", "Call the operator's CISO")
    op.click("button:has-text('Add task')")
    expect(op.locator("#tasks")).to_contain_text("Call the operator's CISO")
    op.click("#notice-form button")
    expect(op.locator("#notice")).to_contain_text("SHOW-CAUSE NOTICE SCN-")
    expect(op.locator("#notice")).to_contain_text("To: Operator A")
    expect(op.locator("#notice")).to_contain_text("Early warning")
    notice_url = op.url
    op.screenshot(path=os.path.join(SHOTS, "case-notice.png"), full_page=True)
    op.goto(case_url)
    op.screenshot(path=os.path.join(SHOTS, "case-analyst.png"), full_page=True)

    # Exchange: the case as a STIX 2.1 bundle, checked by the OASIS validator, and as a MISP
    # event, which the analyst imports back as a new case.
    with op.expect_download() as download:
        op.click("#export-stix")
    bundle = open(download.value.path()).read()
    results = validate_string(bundle, ValidationOptions(version="2.1"))
    assert results.is_valid, "\n".join(str(error) for error in results.errors)
    objects = json.loads(bundle)["objects"]
    incident = next(o for o in objects if o["type"] == "incident")
    assert "extension-definition--ef765651-680c-498d-9894-99799f2fa126" in incident["extensions"]
    assert any(o["type"] == "ipv4-addr" and o["value"] == "203.0.113.50" for o in objects)
    with op.expect_download() as download:
        op.click("#export-misp")
    misp_text = open(download.value.path()).read()
    event = json.loads(misp_text)["Event"]
    tags = {tag["name"] for tag in event["Tag"]}
    # PyMISP, MISP's own library, reads the event and checks every attribute's type and category.
    loaded = MISPEvent()
    loaded.load(misp_text)
    assert loaded.info.startswith(number) and {a.type for a in loaded.attributes} >= {"ip-dst", "url"}
    assert {"tlp:green", "PAP:AMBER", 'rsit:malicious-code="infected-system"', "peca-2016:section-5"} <= tags, tags
    misp_file = os.path.join(server.data, "event.json")
    with open(misp_file, "w") as handle:
        json.dump({"Event": event}, handle)
    op.goto(server.base + "/cases")
    op.select_option("#import-organisation", label="Operator A")
    op.set_input_files("#import-file", misp_file)
    op.click("#import-misp button")
    expect(op.locator("#timeline")).to_contain_text("Imported from MISP event")
    expect(op.locator("#observables")).to_contain_text("203.0.113.50")
    op.goto(case_url)

    # The regulator sees its sector's cases, comments internally, and cannot triage.
    nadia = person(browser, server, regulator_link, "nadia")
    np_ = nadia.page
    np_.click("nav >> text=Cases")
    expect(np_.locator("#case-list")).to_contain_text(number)
    np_.goto(case_url)
    assert np_.locator("#triage").count() == 0
    expect(np_.locator("#timeline")).to_contain_text("LockBit")
    np_.fill("#comment-text", "Regulator: licence condition 7.3 applies")
    np_.click("#comment button")
    expect(np_.locator("#timeline")).to_contain_text("licence condition 7.3")

    # The reporter sees what was shared, never what was internal, and answers.
    rp.goto(case_url)
    expect(rp.locator("#timeline")).to_contain_text("preserve the encrypted disks")
    expect(rp.locator("#timeline")).not_to_contain_text("LockBit")
    expect(rp.locator("#timeline")).not_to_contain_text("licence condition 7.3")
    assert rp.locator("#tasks").count() == 0
    rp.fill("textarea[name=answer]", "Only the nightly snapshots of 21 November")
    rp.click("#requests button:has-text('Answer')")
    expect(rp.locator("#requests")).to_contain_text("nightly snapshots")
    # Only the next stage's form is unfolded; the requested intermediate report is opened by hand.
    expect(rp.locator("#form-telecom-intermediate")).to_be_hidden()
    rp.locator("details:has(#form-telecom-intermediate) > summary").click()
    expect(rp.locator("#form-telecom-intermediate")).to_be_visible()
    rp.fill("#telecom-intermediate-status", "Restored from clean backups; billing back at 14:00")
    rp.click("#form-telecom-intermediate button[value=submit]")
    expect(rp.locator("#stage-telecom-intermediate .clock")).to_have_text("on time")
    rp.goto(notice_url)
    expect(rp.locator("#notice")).to_contain_text("You are required to show cause")

    # Figures and compliance, drawn.
    op.goto(server.base + "/cases/reports")
    expect(op.locator("#compliance")).to_contain_text("Operator A")
    assert op.locator("svg.chart").count() >= 5
    op.screenshot(path=os.path.join(SHOTS, "case-figures.png"), full_page=True)
    with op.expect_download() as download:
        op.goto(server.base + "/cases")
        op.click("text=Download the whole list as CSV")
    csv = open(download.value.path()).read()
    assert number in csv and "Operator A" in csv and "defacement" in csv.lower()

