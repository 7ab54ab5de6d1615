"""Inventories and exposure in headless Chromium, as an operator and its regulator use them.

The authority imports a KEV catalogue and gives the telecom sector seven days per entry. Operator A
imports a CycloneDX SBOM on the Exposure page (a broken one refused first, the problem beside the
file field) and sees what it runs that the catalogue names, with the due date for its sector and
overdue marked; it states one exposure not affected (refused first without VEX's justification,
the form coming back open with the error beside the field) and another patched. The telecom
regulator sees Operator A in its sector's table; `qila exposure` prints the same; a phone-width
window fits."""
import json
import os
import subprocess
import tempfile

from playwright.sync_api import expect

from accessibility import watch
from conftest import BINARY, Server, free_port
from test_browser import SHOTS
from test_cases import person, register
from test_kev import catalogue
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


def sbom(pan_os="10.2.9"):
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [
            {"type": "operating-system", "supplier": {"name": "Palo Alto Networks"}, "name": "PAN-OS", "version": pan_os},
            {"type": "application", "publisher": "Example Vendor", "name": "Edge Gateway", "version": "4.1",
             "cpe": "cpe:2.3:a:example_vendor:edge_gateway:4.1:*:*:*:*:*:*:*"},
            {"type": "library", "name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1"},
        ],
    }


def test_exposure(browser, tmp_path):
    # Deadlines swept every two seconds, so that the overdue items escalate during the test.
    config = tmp_path / "qila.yaml"
    config.write_text("cases:\n  sweepSeconds: 2\n")
    data = tempfile.mkdtemp(prefix="qila-e2e-exposure-")
    server = Server(data, free_port(), extra=["--config", str(config)]).start()
    try:
        run(browser, server, tmp_path)
    finally:
        server.stop()


def run(browser, server, tmp_path):
    base = server.base
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Operator A", "licensee", "telecom")
    register(page, "Telecom Regulator", "sector-regulator", "telecom")
    aisha_link = add_account(admin, "Operator A", "aisha", "Aisha Malik", "organisation-admin")
    nadia_link = add_account(admin, "Telecom Regulator", "nadia", "Nadia Hussain", "sector-regulator")

    # The catalogue, and seven days for the telecom sector.
    kev = tmp_path / "kev.json"
    kev.write_text(json.dumps(catalogue()))
    subprocess.run([BINARY, "kev", "import", str(kev), "--as", "ayesha", "--data", server.data], check=True, capture_output=True, text=True)
    page.goto(base + "/kev")
    page.select_option("#scope", "sector")
    page.select_option("#value", "telecom")
    page.fill("#days", "7")
    admin.submit("#deadline-form button[type=submit]")
    expect(page.locator("#kev-message")).to_contain_text("Due date set for every entry")

    aisha = person(browser, server, aisha_link, "aisha")
    a = aisha.page
    a.click("nav >> text=Exposure")
    expect(a.get_by_role("heading", name="Exposure: Operator A")).to_be_visible()
    expect(a.locator("#exposures")).to_contain_text("No inventory has been imported yet")
    broken = tmp_path / "broken.cdx.json"
    bad = sbom()
    bad["components"][1]["cpe"] = "cpe:/a:example_vendor:edge_gateway:4.1"
    broken.write_text(json.dumps(bad))
    a.fill("#inventory-name", "Core network")
    a.set_input_files("#inventory-file", str(broken))
    aisha.submit("#import-form button[type=submit]")
    expect(a.locator("#inventory-file-error")).to_contain_text("components[1].cpe 'cpe:/a:example_vendor:edge_gateway:4.1' is not a CPE 2.3 formatted string")
    expect(a.locator("#inventory-name")).to_have_value("Core network")
    a.screenshot(path=os.path.join(SHOTS, "exposure-import-refused.png"), full_page=True)
    good = tmp_path / "core.cdx.json"
    good.write_text(json.dumps(sbom()))
    a.set_input_files("#inventory-file", str(good))
    aisha.submit("#import-form button[type=submit]")
    expect(a.locator("#exposure-message")).to_contain_text("Imported 'Core network' (CycloneDX 1.6, 3 components)")
    row = a.locator("#exposures tbody tr", has_text="CVE-2024-3400")
    expect(row).to_contain_text("2024-04-19 overdue")
    expect(row).to_contain_text("approximate (by name)")
    expect(a.locator("#inventories")).to_contain_text("Core network")

    # Not affected needs a justification: refused, the form open with the error beside the field.
    row.locator("summary").click()
    row.locator("select[name=status]").select_option("not_affected")
    row.locator("textarea[name=note]").fill("GlobalProtect is not enabled on any gateway.")
    aisha.submit("#exposures tbody tr:has-text('CVE-2024-3400') form button[type=submit]")
    row = a.locator("#exposures tbody tr", has_text="CVE-2024-3400")
    expect(row.locator("details")).to_have_attribute("open", "")
    expect(row.locator(".field-error")).to_contain_text("Choose why it is not affected, as VEX asks")
    expect(row.locator("textarea[name=note]")).to_have_value("GlobalProtect is not enabled on any gateway.")
    a.screenshot(path=os.path.join(SHOTS, "exposure-state-refused.png"), full_page=True)
    row.locator("select[name=justification]").select_option("vulnerable_code_not_in_execute_path")
    aisha.submit("#exposures tbody tr:has-text('CVE-2024-3400') form button[type=submit]")
    expect(a.locator("#exposure-message")).to_contain_text("CVE-2024-3400: not affected")
    # A long list pages (129 catalogue entries name the gateway); what is closed is shown on request.
    expect(a.locator("#exposures tbody tr")).to_have_count(100)
    a.select_option("#exposure-show", "closed")
    a.click("#exposure-show ~ button, form.filters button >> nth=-1")
    expect(a.locator("#exposures tbody tr")).to_have_count(1)
    row = a.locator("#exposures tbody tr", has_text="CVE-2024-3400")
    expect(row).not_to_contain_text("overdue")
    expect(row).to_contain_text("the vulnerable code is never executed")
    a.screenshot(path=os.path.join(SHOTS, "exposure-operator.png"), full_page=True)
    a.screenshot(path=os.path.join(SHOTS, "exposure-operator-top.png"))

    # The CLI gives the same, as JSON lines.
    printed = subprocess.run([BINARY, "exposure", "--organisation", "Operator A", "--as", "aisha", "--json", "--data", server.data],
                             check=True, capture_output=True, text=True).stdout
    lines = [json.loads(line) for line in printed.splitlines()]
    pan = [line for line in lines if line["reference"] == "CVE-2024-3400"][0]
    assert pan["status"] == "not_affected" and pan["due"] == "2024-04-19" and pan["approximate"] is True

    phone = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844}, storage_state=aisha.context.storage_state())
    small = watch(phone.new_page(), "aisha (phone)")
    small.goto(base + "/exposure")
    small.screenshot(path=os.path.join(SHOTS, "exposure-phone.png"), full_page=True)
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the page is {width} px wide on a 390 px phone"
    phone.close()

    # The regulator reads its sector: Operator A's row, then its page, without the forms.
    nadia = person(browser, server, nadia_link, "nadia")
    n = nadia.page
    n.click("nav >> text=Exposure")
    operator = n.locator("#exposure-organisations tbody tr", has_text="Operator A")
    expect(operator).to_contain_text("129")
    n.click("#exposure-organisations >> text=Operator A")
    expect(n.locator("#exposures")).to_contain_text("Example Vendor Edge Gateway")
    expect(n.locator("#exposure-counts")).to_contain_text("1 not affected")
    expect(n.locator("#import-form")).to_have_count(0)
    expect(n.locator("#exposures details")).to_have_count(0)
    n.screenshot(path=os.path.join(SHOTS, "exposure-regulator.png"), full_page=True)
    # The overdue items escalated: recorded in the audit log for the authority to see.
    page.goto(base + "/admin/audit?action=exposure.overdue")
    expect(page.locator("td", has_text="exposure.overdue").first).to_be_visible(timeout=20000)
    expect(page.locator("body")).to_contain_text("CVE-2025-")
    for someone in (admin, aisha, nadia):
        someone.context.close()
