"""An assessment campaign in real headless Chromium, as its users run it: the telecom regulator
launches a NIST CSF 2.0 campaign for its sector (a refused launch first, kept as typed); two
operators answer all 106 subcategories (a refused save first, the error beside the requirement),
one on time and one after the due date, reminded first; the auditor of one disputes an answer
(refused without a reason first); the sector's figures are withheld below the minimum group and
shown, self-declared and audited apart, once the authority lowers it; the oversight viewer sees
the figures and no organisation; the OSCAL assessment results and POA&M validate with
compliance-trestle; the pages again at phone width. axe-core checks every page as it loads."""
import json
import os
import tempfile
import time

from playwright.sync_api import expect
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.poam import PlanOfActionAndMilestones

from conftest import Server, free_port, local_stamp, wait_for
from test_browser import SHOTS
from test_cases import person, register
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def view(page, selector, name):
    """A screenshot of the window with `selector` in view: the questionnaire is too long to read whole."""
    page.locator(selector).scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(SHOTS, name))


def answer_everything(page, level_for):
    """Chooses a tier for every requirement, the way a person works down the list."""
    selects = page.locator("select[name^='choice.']")
    count = selects.count()
    for index in range(count):
        selects.nth(index).select_option(level_for(index))
    return count


def test_a_regulator_runs_a_csf_campaign(browser, tmp_path):
    config = tmp_path / "qila.yaml"
    config.write_text("cases:\n  sweepSeconds: 2\n")
    data = tempfile.mkdtemp(prefix="qila-e2e-")
    server = Server(data, free_port(), extra=["--config", str(config)]).start()
    try:
        run_campaign(browser, server, tmp_path)
    finally:
        server.stop()


def run_campaign(browser, server, tmp_path):
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Operator A", "licensee", "telecom")
    register(page, "Operator B", "licensee", "telecom")
    register(page, "Telecom Regulator", "sector-regulator", "telecom")
    register(page, "Audit Firm", "other", "it-services")
    aisha_link = add_account(admin, "Operator A", "aisha", "Aisha Malik", "organisation-admin")
    bilal_link = add_account(admin, "Operator B", "bilal", "Bilal Ahmed", "organisation-admin")
    nadia_link = add_account(admin, "Telecom Regulator", "nadia", "Nadia Hussain", "sector-regulator")
    sana_link = add_account(admin, "Audit Firm", "sana", "Sana Iqbal", "auditor")
    zara_link = add_account(admin, "National Cybersecurity Authority", "zara", "Zara Sheikh", "oversight-viewer")
    page.click("nav >> text=Organisations")
    page.click("text=Audit Firm")
    page.click("text=sana")
    page.check("label.check:has-text('Operator A') input[name=audited]")
    admin.submit("button:has-text('Save')")
    if page.get_by_role("status").count() == 0:
        page.click("button:has-text('Save')")
    expect(page.get_by_role("status")).to_have_text("Saved.")

    # The regulator launches; the first try lacks a title and is refused with what was typed kept.
    nadia = person(browser, server, nadia_link, "nadia")
    np = nadia.page
    np.click("nav >> text=Assessments")
    expect(np.get_by_role("heading", name="Assessments", exact=True)).to_be_visible()
    np.fill("#launch-cycle", "2026")
    np.select_option("#launch-framework", "nist-csf-2.0")
    np.click("#launch-campaign button[type=submit]")
    expect(np.locator("#launch-title-error")).to_contain_text("Title")
    expect(np.locator("#launch-cycle")).to_have_value("2026")
    shot(np, "assessment-launch-refused.png")
    due = time.time() + 150
    np.fill("#launch-title", "Telecom CSF baseline 2026")
    np.select_option("#launch-framework", "nist-csf-2.0")
    np.select_option("#launch-scope", "telecom")
    np.select_option("#launch-audience", "sector:telecom")
    np.fill("#launch-due", local_stamp(due))
    np.fill("#launch-grace", "0")
    np.click("#launch-campaign button[type=submit]")
    expect(np.get_by_role("heading", name="Telecom CSF baseline 2026")).to_be_visible()
    expect(np.locator("#participants tbody tr")).to_have_count(2)
    campaign_url = np.url

    # Operator A's administrator answers: a "does not apply" without a reason is refused beside it.
    aisha = person(browser, server, aisha_link, "aisha")
    ap = aisha.page
    ap.click("nav >> text=Assessments")
    ap.click("#campaigns >> text=Not started")
    expect(ap.get_by_role("heading", name="Operator A")).to_be_visible()
    count = answer_everything(ap, lambda i: "3" if i % 3 else "2")
    assert count == 106
    ap.select_option("#choice-req-GV-OC-01", "n/a")
    ap.set_input_files("#evidence-req-GV-RM-01", files=[{"name": "risk-register.csv", "mimeType": "text/csv", "buffer": b"risk,owner\nfraud,cfo\n"}])
    ap.click("#answers button[type=submit]")
    expect(ap.locator("#req-GV-OC-01 .field-error")).to_contain_text("why the requirement does not apply")
    expect(ap.locator("#choice-req-GV-OC-02")).to_have_value("3")
    view(ap, "#req-GV-OC-01", "assessment-answer-refused.png")
    ap.fill("#comment-req-GV-OC-01", "A holding company's shared services; its mission is the group's")
    ap.set_input_files("#evidence-req-GV-RM-01", files=[{"name": "risk-register.csv", "mimeType": "text/csv", "buffer": b"risk,owner\nfraud,cfo\n"}])
    ap.click("#answers button[type=submit]")
    expect(ap.locator("#questionnaire-message")).to_contain_text("Saved 106 answers")
    expect(ap.locator("#req-GV-RM-01")).to_contain_text("risk-register.csv")
    expect(ap.locator("#progress")).to_have_attribute("value", "106")
    ap.click("#submit-form button")
    expect(ap.locator("#questionnaire-message")).to_contain_text("Submitted")
    expect(ap.locator("#req-GV-OC-01")).to_contain_text("Does not apply")
    view(ap, "#scores", "assessment-submitted.png")

    # Operator B is reminded before the due date and answers after it.
    np.goto(campaign_url)
    wait_for(lambda: (np.reload() or True) and "reminded" in np.locator("#participants").inner_text(), 30, "a reminder to Operator B")
    bilal = person(browser, server, bilal_link, "bilal")
    bp = bilal.page
    bp.click("nav >> text=Assessments")
    bp.click("#campaigns >> text=Not started")
    answer_everything(bp, lambda i: "2")
    bp.click("#answers button[type=submit]")
    expect(bp.locator("#questionnaire-message")).to_contain_text("Saved 106 answers")
    wait_for(lambda: time.time() > due + 5, 200, "the due date to pass")
    bp.reload()
    bp.click("#submit-form button")
    expect(bp.locator(".status-late")).to_contain_text("Submitted late")

    # The auditor disputes one of Operator A's answers; without a reason it is refused.
    sana = person(browser, server, sana_link, "sana")
    sp = sana.page
    sp.click("nav >> text=Assessments")
    sp.click("#campaigns a >> nth=0")
    sp.click("#participants >> text=Operator A")
    sp.click("#req-PR-AA-03 summary:has-text('Attest')")
    sp.select_option("#verdict-req-PR-AA-03", "disagree")
    sp.select_option("#level-req-PR-AA-03", "1")
    sp.click("#attest-req-PR-AA-03 button[type=submit]")
    expect(sp.locator("#attest-req-PR-AA-03 .field-error")).to_contain_text("why the auditor disagrees")
    expect(sp.locator("#level-req-PR-AA-03")).to_have_value("1")
    sp.fill("#attest-comment-req-PR-AA-03", "MFA covers the VPN only; the OSS consoles take passwords")
    sp.click("#attest-req-PR-AA-03 button[type=submit]")
    expect(sp.locator("#req-PR-AA-03 .attest-disagree")).to_contain_text("Auditor disagreed: Partial")
    sp.click("#req-GV-OC-02 summary:has-text('Attest')")
    sp.click("#attest-req-GV-OC-02 button[type=submit]")
    expect(sp.locator("#req-GV-OC-02 .attest-agree")).to_contain_text("Auditor agreed")
    expect(sp.locator("#scores")).to_contain_text("2 of 106 answers attested")
    view(sp, "#req-PR-AA-03", "assessment-audit.png")

    # Two operators are fewer than the default minimum of five: counts, no comparison.
    np.goto(campaign_url)
    expect(np.locator("#groups")).to_contain_text("Not shown: fewer than 5 submitted")
    expect(np.locator("#participants")).to_contain_text("Submitted late")
    shot(np, "assessment-campaign-withheld.png")

    # The authority adds its own framework: a file with problems is refused, each with its line.
    page.click("nav >> text=Assessments")
    page.set_input_files("#framework-file", files=[{"name": "telecom.yaml", "mimeType": "application/yaml", "buffer": b"id: telecom-regs\nname: Telecom rules\nversion: '2026'\nscoring: {kind: stars}\n"}])
    page.click("#add-framework button[type=submit]")
    expect(page.locator("#framework-file-error")).to_contain_text("telecom.yaml, line 4")
    good = (b"id: telecom-regs\nname: Telecom security regulations\nversion: '2026'\nscoring:\n  kind: status\n  levels:\n"
            b"    - {value: implemented, name: Implemented, credit: 1}\n    - {value: not, name: Not implemented, credit: 0}\n"
            b"requirements:\n  - {id: R1, text: Management interfaces are not reachable from the Internet}\n")
    page.set_input_files("#framework-file", files=[{"name": "telecom.yaml", "mimeType": "application/yaml", "buffer": good}])
    page.click("#add-framework button[type=submit]")
    expect(page.locator("#assessments-message")).to_contain_text("Added Telecom security regulations 2026")
    expect(page.locator("#framework-list")).to_contain_text("added by the authority")

    # The authority lowers the minimum to two (one is refused); the figures then show.
    page.fill("#minimum-group", "1")
    admin.submit("#minimum-group-form button[type=submit]")
    if page.locator("#minimum-group-error").count() == 0:
        page.fill("#minimum-group", "1")
        page.click("#minimum-group-form button[type=submit]")
    expect(page.locator("#minimum-group-error")).to_contain_text("2 to 100")
    page.fill("#minimum-group", "2")
    page.click("#minimum-group-form button[type=submit]")
    expect(page.locator("#assessments-message")).to_contain_text("smaller than 2")
    np.reload()
    telecom = np.locator("#groups tbody tr", has_text="Telecommunications")
    expect(telecom).not_to_contain_text("Not shown")
    expect(telecom.locator("td").nth(3)).to_have_text("0")  # fully audited: neither answered every requirement attested
    expect(np.locator("figure.chart-figure")).to_have_count(2)
    expect(np.locator("#group-gaps")).to_contain_text("Telecommunications")
    shot(np, "assessment-campaign-figures.png")

    # Exports of Operator A validate with NIST's compliance-trestle.
    a_url = np.locator("#participants a", has_text="Operator A").get_attribute("href")
    results = np.request.get(server.base + a_url + "/results.json")
    assert results.status == 200, results.text()
    parsed = AssessmentResults.parse_obj(json.loads(results.body())["assessment-results"])
    assert len(parsed.results[0].findings) == 106
    plan = np.request.get(server.base + a_url + "/poam.json")
    poam = PlanOfActionAndMilestones.parse_obj(json.loads(plan.body())["plan-of-action-and-milestones"])
    assert poam.poam_items and poam.poam_items[0].title
    assert np.request.get(server.base + a_url + "/answers.csv").text().count("\n") >= 106

    # The oversight viewer sees the figures and not one organisation.
    zara = person(browser, server, zara_link, "zara")
    zp = zara.page
    zp.goto(campaign_url)
    expect(zp.locator("#groups")).to_contain_text("All sectors")
    expect(zp.locator("#participants")).to_have_count(0)
    assert zp.request.get(server.base + a_url).status in (403, 404)

    # The authority issues a directive to the telecom sector (refused first without requirements,
    # kept as typed); Operator A acknowledges it, reports compliance and submits.
    page.click("nav >> text=Assessments")
    page.fill("#directive-reference", "NCA-D-2026-03")
    page.fill("#directive-title", "Known exploited vulnerabilities")
    page.fill("#directive-body", "Apply every entry of the national KEV list to internet-facing systems within 14 days.")
    page.select_option("#directive-audience", "sector:telecom")
    page.fill("#directive-due", local_stamp(time.time() + 14 * 86400))
    page.click("#issue-directive button[type=submit]")
    expect(page.locator("#directive-requirements-error")).to_contain_text("Requirements")
    expect(page.locator("#directive-reference")).to_have_value("NCA-D-2026-03")
    page.fill("#directive-requirements", "Patch every KEV entry on internet-facing systems\nReport any exception with its compensating control")
    page.fill("#directive-due", local_stamp(time.time() + 14 * 86400))
    page.click("#issue-directive button[type=submit]")
    expect(page.locator("#directive-text")).to_contain_text("R2 Report any exception")
    directive_url = page.url
    ap.goto(directive_url)
    ap.click("#participants >> text=Operator A")
    ap.select_option("#choice-req-R1", "complied")
    ap.select_option("#choice-req-R2", "partly")
    ap.fill("#comment-req-R2", "Two legacy SBCs isolated; replacement ordered")
    ap.click("#answers button[type=submit]")
    expect(ap.locator("#questionnaire-message")).to_contain_text("Saved 2 answers")
    ap.click("#submit-form button")
    expect(ap.locator("#error-summary")).to_contain_text("acknowledge NCA-D-2026-03")
    ap.click("#acknowledgement button")
    expect(ap.locator("#acknowledgement")).to_contain_text("Acknowledged by Aisha Malik")
    ap.click("#submit-form button")
    expect(ap.locator("#questionnaire-message")).to_contain_text("Submitted")
    page.goto(directive_url)
    expect(page.locator("#participants tr", has_text="Operator A")).to_contain_text("Submitted")
    expect(page.locator("#participants tr", has_text="Operator B")).to_contain_text("not yet")
    shot(page, "directive.png")

    # Printed (to PDF from the browser) the campaign is the sector report: no navigation or
    # buttons, the figures and charts kept.
    np.goto(campaign_url)
    np.emulate_media(media="print")
    expect(np.locator("header.top")).to_be_hidden()
    expect(np.locator("#groups")).to_be_visible()
    shot(np, "assessment-campaign-print.png")
    pdf = np.pdf(path=os.path.join(SHOTS, "assessment-campaign.pdf"))
    assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
    np.emulate_media(media="screen")

    # At phone width the questionnaire and the campaign still read.
    ap.set_viewport_size({"width": 390, "height": 844})
    ap.goto(server.base + a_url)
    view(ap, "#req-GV-RM-01", "assessment-phone.png")
    np.set_viewport_size({"width": 390, "height": 844})
    np.goto(campaign_url)
    shot(np, "assessment-campaign-phone.png")
