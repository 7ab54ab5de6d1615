"""The national catalogue of known exploited vulnerabilities in headless Chromium, as its people use
it. The authority imports CISA's catalogue (a broken file refused first, the error beside the file
field), adds its own entry (refused first, kept as typed), sets a due date for the telecom sector and
records a removal; a telecom operator sees the due date that applies to it, on a desktop and a phone;
anyone fetches the published catalogue in CISA's form (equal in content to what was imported, less the
removal) and the NDJSON stream, which carries the removal. A long list pages. axe-core checks every page."""
import json
import os
import tempfile
import urllib.request
import ssl

from playwright.sync_api import expect

from accessibility import watch
from conftest import Server, free_port
from test_browser import SHOTS
from test_cases import person, register
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


def entry(number, added, vendor="Example Vendor", product="Edge Gateway"):
    return {
        "cveID": f"CVE-2025-{number:05d}", "vendorProject": vendor, "product": product,
        "vulnerabilityName": f"{vendor} {product} flaw {number}", "dateAdded": added,
        "shortDescription": "A crafted request lets an attacker run code.", "requiredAction": "Apply updates per vendor instructions.",
        "dueDate": "2025-12-01", "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": ["CWE-78"],
    }


def catalogue():
    # 130 entries: more than a page of the list.
    listed = [entry(n, f"2025-{1 + n % 11:02d}-{1 + n % 27:02d}") for n in range(1, 130)]
    listed.append({
        "cveID": "CVE-2024-3400", "vendorProject": "Palo Alto Networks", "product": "PAN-OS",
        "vulnerabilityName": "Palo Alto Networks PAN-OS Command Injection Vulnerability", "dateAdded": "2024-04-12",
        "shortDescription": "Command injection in GlobalProtect lets an unauthenticated attacker run code as root.",
        "requiredAction": "Apply mitigations per vendor instructions.", "dueDate": "2024-04-19", "knownRansomwareCampaignUse": "Unknown",
        "notes": "https://security.paloaltonetworks.com/CVE-2024-3400", "cwes": ["CWE-77", "CWE-20"],
    })
    return {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.18",
            "dateReleased": "2026-11-18T15:00:12.3456Z", "count": len(listed), "vulnerabilities": listed}


def fetch(url):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=context) as response:
        return response.headers.get("Content-Type"), response.read()


def test_kev_catalogue(browser, tmp_path):
    data = tempfile.mkdtemp(prefix="qila-e2e-kev-")
    server = Server(data, free_port()).start()
    try:
        run(browser, server, tmp_path)
    finally:
        server.stop()


def run(browser, server, tmp_path):
    base = server.base
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Operator A", "licensee", "telecom")
    aisha_link = add_account(admin, "Operator A", "aisha", "Aisha Malik", "organisation-admin")

    page.click("nav >> text=Exploited vulnerabilities")
    expect(page.get_by_role("heading", name="Known exploited vulnerabilities")).to_be_visible()
    # A broken file is refused whole, the problem named beside the field.
    broken = tmp_path / "broken.json"
    bad = catalogue()
    bad["vulnerabilities"][4]["dateAdded"] = "2025-02-30"
    broken.write_text(json.dumps(bad))
    page.set_input_files("#kev-file", str(broken))
    admin.submit("#import-form button[type=submit]")
    expect(page.locator("#kev-file-error")).to_contain_text("vulnerabilities[4].dateAdded '2025-02-30' is not a date")
    page.screenshot(path=os.path.join(SHOTS, "kev-import-refused.png"), full_page=True)
    expect(page.locator("#kev-entries")).to_contain_text("The catalogue is empty")

    good = tmp_path / "known_exploited_vulnerabilities.json"
    good.write_text(json.dumps(catalogue()))
    page.set_input_files("#kev-file", str(good))
    admin.submit("#import-form button[type=submit]")
    expect(page.locator("#kev-message")).to_contain_text("130 added, 0 updated, 0 unchanged")
    # A long list pages: 100 a page.
    expect(page.locator("#kev-entries tbody tr")).to_have_count(100)
    page.click("text=Next page")
    expect(page.locator("#kev-entries tbody tr")).to_have_count(30)

    # The authority's own entry: refused first, with what was typed kept.
    page.goto(base + "/kev")
    page.fill("#entry-cve", "CVE-2026-10001")
    page.fill("#vendorProject", "Example Telecom Systems")
    page.fill("#product", "Subscriber Gateway")
    page.fill("#vulnerabilityName", "Gateway Authentication Bypass")
    page.fill("#shortDescription", "A crafted header skips authentication.")
    page.fill("#requiredAction", "Apply the vendor's fix.")
    page.fill("#dueDate", "2026-13-01")
    page.fill("#cwes", "CWE-287")
    admin.submit("#entry-form button[type=submit]")
    expect(page.locator("#dueDate-error")).to_contain_text("must be a date written YYYY-MM-DD")
    expect(page.locator("#vendorProject")).to_have_value("Example Telecom Systems")
    page.screenshot(path=os.path.join(SHOTS, "kev-entry-refused.png"), full_page=True)
    page.fill("#dueDate", "2026-12-20")
    admin.submit("#entry-form button[type=submit]")
    expect(page.locator("#kev-message")).to_contain_text("Saved CVE-2026-10001 (TLP:CLEAR)")

    # Telecom has 7 days from an entry's addition; a refused rule first.
    page.select_option("#scope", "sector")
    page.select_option("#value", "telecom")
    page.fill("#days", "7")
    page.fill("#deadline-due", "2026-12-01")
    admin.submit("#deadline-form button[type=submit]")
    expect(page.locator("#days-error")).to_contain_text("not both")
    page.fill("#deadline-due", "")
    admin.submit("#deadline-form button[type=submit]")
    expect(page.locator("#kev-message")).to_contain_text("Due date set for every entry")
    expect(page.locator("#kev-rules")).to_contain_text("7 days after it was added")

    # A removal: the reason is required.
    page.fill("#removal-cve", "CVE-2025-00007")
    admin.submit("#removal-form button[type=submit]")
    expect(page.locator("#reason-error")).to_be_visible()
    page.fill("#reason", "Vendor advisory withdrawn; not exploited")
    admin.submit("#removal-form button[type=submit]")
    expect(page.locator("#kev-message")).to_contain_text("Recorded the removal of CVE-2025-00007")

    # The operator sees the due date for its sector: 2024-04-12 + 7 days.
    aisha = person(browser, server, aisha_link, "aisha")
    aisha.page.click("nav >> text=Exploited vulnerabilities")
    aisha.page.fill("#kev-q", "PAN-OS")
    aisha.page.click("form[role=search] button")
    row = aisha.page.locator("#kev-entries tbody tr", has_text="CVE-2024-3400")
    expect(row).to_contain_text("2024-04-19")
    expect(aisha.page.locator("#kev-entries thead")).to_contain_text("Due for Operator A")
    expect(aisha.page.locator("#import-form")).to_have_count(0)
    aisha.page.screenshot(path=os.path.join(SHOTS, "kev-operator.png"), full_page=True)
    phone = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844}, storage_state=aisha.context.storage_state())
    small = watch(phone.new_page(), "aisha (phone)")
    small.goto(base + "/kev")
    small.screenshot(path=os.path.join(SHOTS, "kev-phone.png"), full_page=True)
    small.screenshot(path=os.path.join(SHOTS, "kev-phone-top.png"))
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the page is {width} px wide on a 390 px phone"
    phone.close()

    # Anyone: the published catalogue equals the import in content, less the removal, plus the
    # authority's entry; the stream carries the removal with its reason.
    kind, body = fetch(base + "/kev/known_exploited_vulnerabilities.json")
    assert kind.startswith("application/json")
    published = json.loads(body)
    imported = {e["cveID"]: e for e in catalogue()["vulnerabilities"]}
    listed = {e["cveID"]: e for e in published["vulnerabilities"]}
    assert published["count"] == len(published["vulnerabilities"]) == 130
    assert set(listed) == (set(imported) - {"CVE-2025-00007"}) | {"CVE-2026-10001"}
    for cve, value in imported.items():
        if cve != "CVE-2025-00007":
            assert listed[cve] == value, cve
    kind, body = fetch(base + "/kev/known_exploited_vulnerabilities.ndjson")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    removed = [line for line in lines if line["cveID"] == "CVE-2025-00007"][0]
    assert removed["removed"]["reason"] == "Vendor advisory withdrawn; not exploited"
    assert len(lines) == 131
    admin.context.close()
    aisha.context.close()
