"""The public portal, training and the national picture in real headless Chromium, as their people
use them. The authority designates the cybercrime agency and publishes a guide (refused first, kept
as typed) and an alert; a citizen reads the pages in Urdu on a phone, files a complaint in Urdu (a
refused one first, its errors in Urdu beside the fields), tracks it with the number and secret, and
is slowed when filing too often from one address; the agency's handler sees the case, opens the
sealed contact details and records the verification, which the citizen then sees. The password check
sends only five hexadecimal digits and shows a breached password as breached. A suspicious website is
reported and confirmed into the national collection. An operator imports GoPhish results, those who
clicked are enrolled, one passes and gets a certificate that verifies publicly while a tampered copy
does not. The oversight viewer reads the national picture (aggregates only, small groups withheld)
and prints the quarterly report. axe-core checks every page as it loads, in both languages."""
import datetime
import hashlib
import os
import re
import tempfile

from playwright.sync_api import expect

from accessibility import watch
from conftest import Server, free_port
from test_browser import SHOTS
from test_cases import person, register
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)

GOPHISH = (
    "id,status,ip,latitude,longitude,send_date,reported,modified_date,email,first_name,last_name,position\n"
    "r1,Email Sent,,0,0,2026-11-03T09:15:02+05:00,true,2026-11-03T09:15:02+05:00,sana@operator-a.example,Sana,Iqbal,Billing\n"
    "r2,Clicked Link,203.0.113.8,0,0,2026-11-03T09:15:04+05:00,false,2026-11-03T10:02:11+05:00,hina@operator-a.example,Hina,Raza,Finance\n"
    "r3,Submitted Data,203.0.113.9,0,0,2026-11-03T09:15:05+05:00,false,2026-11-03T10:05:00+05:00,bilal@operator-a.example,Bilal,Khan,NOC\n"
)


def shot(page, name, full=True):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=full)


def citizen(browser, server, language, who, phone=False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(
        ignore_https_errors=True, viewport=viewport, locale="ur-PK" if language == "ur" else "en-GB",
        extra_http_headers={"Accept-Language": "ur-PK,ur;q=0.9" if language == "ur" else "en-GB,en;q=0.9"})
    return watch(context.new_page(), who)


def test_citizens_training_and_oversight(browser, tmp_path):
    config = tmp_path / "qila.yaml"
    # The form-stamp's minimum time is checked in the Swift tests with a clock; here it is off, so
    # that nothing waits, and the per-address limit is low enough to meet.
    config.write_text("public:\n  complaintsPerHour: 2\n  formMinimumSeconds: 0\n")
    data = tempfile.mkdtemp(prefix="qila-e2e-public-")
    server = Server(data, free_port(), extra=["--config", str(config)]).start()
    try:
        run(browser, server)
    finally:
        server.stop()


def run(browser, server):
    base = server.base
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Cybercrime Agency", "government-body", "government")
    register(page, "Operator A", "licensee", "telecom")
    kamran_link = add_account(admin, "Cybercrime Agency", "kamran", "Kamran Aziz", "organisation-reporter", clearance="TLP:RED")
    aisha_link = add_account(admin, "Operator A", "aisha", "Aisha Malik", "organisation-admin")
    omar_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst", clearance="TLP:AMBER")
    zara_link = add_account(admin, "National Cybersecurity Authority", "zara", "Zara Sheikh", "oversight-viewer")

    # Before an agency is designated, the complaint form says complaints cannot be received.
    early = citizen(browser, server, "en", "citizen (early)")
    early.goto(base + "/public/report")
    expect(early.locator("main")).to_contain_text("cannot be received")
    early.context.close()

    # The authority designates the agency and publishes: a bad address is refused, typed text kept.
    page.click("nav >> text=Public portal")
    expect(page.get_by_role("heading", name="Public portal")).to_be_visible()
    page.select_option("#agency", label="Cybercrime Agency")
    admin.submit("#agency-form button[type=submit]")
    if page.locator("#current-agency").inner_text().startswith("none"):
        page.select_option("#agency", label="Cybercrime Agency")
        page.click("#agency-form button[type=submit]")
    expect(page.locator("#current-agency")).to_have_text("Cybercrime Agency")
    page.fill("#slug", "Protect Your Accounts!")
    page.fill("#title", "Protect your accounts")
    page.fill("#body", "Turn on **two-step verification** for your e-mail first.\n\n- Use three random words\n- Never share a code\n\n<script>alert(1)</script>")
    page.fill("#titleUrdu", "اپنے اکاؤنٹس محفوظ رکھیں")
    page.click("#publish button[type=submit]")
    expect(page.locator("#slug-error")).to_contain_text("lower-case")
    expect(page.locator("#title")).to_have_value("Protect your accounts")
    expect(page.locator("#titleUrdu-error")).to_have_count(0)
    shot(page, "portal-publish-refused.png")
    page.fill("#slug", "protect-your-accounts")
    page.fill("#body", "Turn on **two-step verification** for your e-mail first.\n\n- Use three random words\n- Never share a code\n\n<script>alert(1)</script>")
    page.fill("#bodyUrdu", "سب سے پہلے اپنی ای میل پر **دو مرحلہ تصدیق** چالو کریں۔\n\n- تین بے ترتیب الفاظ استعمال کریں\n- کوڈ کبھی کسی کو نہ بتائیں")
    page.click("#publish button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("/public/guides/protect-your-accounts")
    page.select_option("#kind", "alert")
    page.fill("#slug", "fake-courier-sms")
    page.fill("#title", "Fake courier SMS asking for a customs fee")
    page.fill("#body", "Messages claiming a parcel is held ask for a small fee. Do not pay; report them.")
    page.click("#publish button[type=submit]")
    expect(page.locator("#publications")).to_contain_text("Fake courier SMS")
    page.check("input[name=statistics][value=complaints-by-category]")
    page.click("#statistics-form button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("statistics page")

    # A citizen reads the portal in Urdu on a phone: right to left, the guide in Urdu, the alert
    # in English marked as such; the markup in the guide is text, never a script.
    ur = citizen(browser, server, "ur", "citizen (Urdu)", phone=True)
    ur.goto(base + "/public/")
    expect(ur.locator("html")).to_have_attribute("lang", "ur")
    expect(ur.locator("html")).to_have_attribute("dir", "rtl")
    expect(ur.get_by_role("heading", level=1)).to_have_text("آن لائن محفوظ رہیں، اور مدد حاصل کریں")
    expect(ur.locator("#alerts-heading + article a[lang=en]")).to_have_text("Fake courier SMS asking for a customs fee")
    shot(ur, "public-home-ur-phone.png")
    width = ur.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Urdu home page is {width} px wide on a 390 px phone"
    ur.click("text=اپنے اکاؤنٹس محفوظ رکھیں")
    expect(ur.locator(".prose strong")).to_have_text("دو مرحلہ تصدیق")
    ur.goto(base + "/public/guides/protect-your-accounts?lang=en")
    expect(ur.locator("html")).to_have_attribute("dir", "ltr")
    expect(ur.locator(".prose")).to_contain_text("<script>alert(1)</script>")
    assert ur.locator(".prose script").count() == 0
    ur.goto(base + "/public/?lang=ur")

    # A complaint in Urdu: refused first, each error in Urdu beside its field, what was typed kept.
    ur.click("header nav >> text=سائبر جرم کی شکایت")
    expect(ur.get_by_role("heading", level=1)).to_have_text("سائبر جرم کی شکایت درج کریں")
    ur.check("#category-fraud")
    ur.fill("#narrative", "بہت مختصر")
    ur.fill("#moneyLost", "48,000")
    ur.fill("#phone", "0300 1234567")
    ur.click("main form button[type=submit]")
    expect(ur.locator("#narrative-error")).to_contain_text("کم از کم 20 حروف")
    expect(ur.locator("#occurredOn-error")).to_contain_text("سال-مہینہ-دن")
    expect(ur.locator("#moneyLost")).to_have_value("48,000")
    expect(ur.locator("#phone")).to_have_value("0300 1234567")
    expect(ur.locator("#category-fraud")).to_be_checked()
    shot(ur, "public-complaint-refused-ur-phone.png")
    occurred = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    ur.fill("#narrative", "ایک شخص نے خود کو بینک کا نمائندہ بتا کر فون کیا، او ٹی پی مانگا، اور پھر میرے اکاؤنٹ سے اڑتالیس ہزار روپے نکل گئے۔")
    ur.fill("#occurredOn", occurred)
    ur.fill("#name", "عائشہ خان")
    ur.fill("#email", "ayesha@example.pk")
    ur.set_input_files("#evidence", files=[{"name": "transfer.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    ur.click("main form button[type=submit]")
    expect(ur.get_by_role("heading", level=1)).to_have_text("آپ کی شکایت موصول ہو گئی ہے")
    tracking = ur.locator("#tracking").inner_text()
    secret = ur.locator("#secret").inner_text()
    assert re.fullmatch(r"QP-[0-9A-Z]{4}-[0-9A-Z]{4}", tracking), tracking
    shot(ur, "public-complaint-filed-ur-phone.png")

    # The citizen tracks it: received, not yet verified.
    ur.click("text=شکایت کی صورتحال")
    ur.fill("#tracking", tracking)
    ur.fill("#secret", "AAAA-BBBB-CCCC-DDDD")
    ur.click("main form button[type=submit]")
    expect(ur.locator("#tracking-error")).to_contain_text("کوئی شکایت نہیں ملی")
    ur.fill("#secret", secret)
    ur.click("main form button[type=submit]")
    expect(ur.locator("#state")).to_have_text("موصول: تصدیق کی منتظر")

    # Filing again from the same address: the second is taken, the third slowed.
    for attempt in range(2):
        ur.goto(base + "/public/report")
        ur.check("#category-harassment")
        ur.fill("#narrative", "Someone keeps sending threatening messages from new accounts every day.")
        ur.fill("#occurredOn", occurred)
        ur.click("main form button[type=submit]")
        if attempt == 0:
            expect(ur.locator("#tracking")).to_be_visible()
    expect(ur.get_by_role("alert")).to_contain_text("منٹ بعد دوبارہ")
    shot(ur, "public-complaint-slowed-ur-phone.png")

    # The agency's handler sees the case, opens the sealed contact details, records the verification.
    kamran = person(browser, server, kamran_link, "kamran")
    kp = kamran.page
    kp.click("nav >> text=Cases")
    kp.click(f"tr:has-text('{tracking}') a")
    expect(kp.locator("#complaint")).to_contain_text(tracking)
    kp.click("#complaint button:has-text('Open the contact details')")
    expect(kp.locator("#contact-name")).to_have_text("عائشہ خان")
    expect(kp.locator("#contact-email")).to_have_text("ayesha@example.pk")
    shot(kp, "complaint-contact.png")
    kp.go_back()
    kp.reload()
    kp.select_option("#cybercrime-complaint-verification-verificationOutcome", "inquiry-opened")
    kp.fill("#cybercrime-complaint-verification-complainantNote", "An officer will call you this week.")
    kp.click("#form-cybercrime-complaint-verification button[value=submit]")
    expect(kp.get_by_role("status")).to_contain_text("Submitted")
    shot(kp, "complaint-case-agency.png")
    # The authority's analyst sees the case but not the complainant.
    omar = person(browser, server, omar_link, "omar")
    op = omar.page
    op.goto(kp.url)
    expect(op.locator("#complaint")).to_contain_text("only the agency's own staff")
    assert op.locator("#complaint button").count() == 0

    ur.goto(base + "/public/report/status")
    ur.fill("#tracking", tracking)
    ur.fill("#secret", secret)
    ur.click("main form button[type=submit]")
    expect(ur.locator("#state")).to_have_text("انکوائری جاری ہے")
    expect(ur.locator("main")).to_contain_text("An officer will call you this week.")

    # The password check, in English: only five hexadecimal digits leave the browser.
    en = citizen(browser, server, "en", "citizen (English)")
    sent = []
    en.on("request", lambda request: sent.append((request.url, request.post_data or "")))
    en.goto(base + "/public/passwords")
    expect(en.locator("#password-check")).to_be_visible()
    breached = "iloveyou"
    full = hashlib.sha1(breached.encode()).hexdigest().upper()
    en.fill("#password", breached)
    en.click("#password-check button[type=submit]")
    expect(en.locator("#password-result")).to_contain_text("has been seen")
    en.fill("#password", "violet lantern quarry mosaic 1947")
    en.click("#password-check button[type=submit]")
    expect(en.locator("#password-result")).to_contain_text("was not found")
    shot(en, "public-passwords.png")
    ranges = [url for url, _ in sent if "/api/v1/public/passwords/range/" in url]
    assert len(ranges) == 2
    for url, body in sent:
        assert breached not in url and full not in url and full[5:] not in url and "violet" not in url and breached not in body
    for url in ranges:
        assert re.fullmatch(r"[0-9A-F]{5}", url.rsplit("/", 1)[1]), url
    assert ranges[0].endswith("/" + full[:5])

    # A suspicious website, reported and confirmed into the national collection.
    en.goto(base + "/public/suspicious")
    en.check("#kind-website")
    en.fill("#url", "not a link")
    en.click("main form button[type=submit]")
    expect(en.locator("#url-error")).to_contain_text("http")
    expect(en.locator("#url")).to_have_value("not a link")
    en.fill("#url", "https://secure-login.bank-verify.example/pk")
    en.fill("#description", "Looks like my bank's page but the address is wrong.")
    en.click("main form button[type=submit]")
    expect(en.get_by_role("heading", level=1)).to_have_text("Thank you for your report")
    op.click("nav >> text=Public reports")
    op.click("#reports >> text=SR-")
    expect(op.locator("main")).to_contain_text("secure-login.bank-verify.example")
    op.click("#confirm button[type=submit]")
    expect(op.get_by_role("status")).to_contain_text("confirmed")
    op.goto(base + "/public-reports?status=confirmed")
    expect(op.locator("#reports")).to_contain_text("secure-login.bank-verify.example")

    # Training: a national course; Operator A imports a GoPhish simulation and those who clicked are enrolled.
    page.click("nav >> text=Training")
    page.fill("#course-title", "Spotting phishing")
    page.select_option("#course-organisation", "")
    page.fill("#course-audience", "all staff")
    page.fill("#course-duration", "45")
    page.fill("#course-mark", "70")
    page.click("#add-course button[type=submit]")
    expect(page.get_by_role("heading", name="Spotting phishing")).to_be_visible()
    aisha = person(browser, server, aisha_link, "aisha")
    ap = aisha.page
    ap.click("nav >> text=Training")
    ap.fill("#headcount", "0")
    ap.click("#headcount-form button[type=submit]")
    expect(ap.locator("#headcount-error")).to_contain_text("number of staff")
    ap.fill("#headcount", "20")
    ap.click("#headcount-form button[type=submit]")
    expect(ap.get_by_role("status")).to_have_text("Headcount saved.")
    ap.set_input_files("#import-file", files=[{"name": "November - Results.csv", "mimeType": "text/csv", "buffer": GOPHISH.encode()}])
    ap.fill("#import-name", "November invoice lure")
    ap.select_option("#import-course", label="Spotting phishing")
    ap.click("#import button[type=submit]")
    expect(ap.locator("#clicked")).to_contain_text("2 (67%)")
    ap.click("#enrolled-course")
    expect(ap.locator("#people")).to_contain_text("clicked in November invoice lure")
    ap.fill("#complete-email", "hina@operator-a.example")
    ap.fill("#complete-name", "Hina Raza")
    ap.fill("#complete-score", "92")
    ap.click("#complete button[type=submit]")
    expect(ap.get_by_role("status")).to_contain_text("passed")
    ap.click("#people a:has-text('Certificate')")
    expect(ap.locator("#certificate-name")).to_have_text("Hina Raza")
    shot(ap, "training-certificate.png")
    verify = ap.locator("#verify-link").get_attribute("href")
    code = ap.locator("#certificate-code").inner_text()
    ap.click("nav >> text=Training")
    expect(ap.locator("#coverage-trained")).to_have_text("1")
    expect(ap.locator("#coverage-outstanding")).to_have_text("1")
    shot(ap, "training-operator.png")

    # Anyone checks the certificate; an altered one is refused.
    en.goto(verify)
    expect(en.locator("#verdict")).to_contain_text("genuine")
    expect(en.locator("#verdict")).to_contain_text("Hina Raza")
    identifier, signature = code.split(".")
    tampered = identifier + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    en.goto(base + "/public/certificates/verify")
    en.fill("#c", tampered)
    en.click("main form button[type=submit]")
    expect(en.locator("#verdict")).to_contain_text("altered")
    ur.goto(verify + "&lang=ur")
    expect(ur.locator("#verdict")).to_contain_text("یہ سرٹیفکیٹ اصلی ہے")

    # The oversight viewer: aggregates only, the small groups withheld, the quarterly report in print.
    zara = person(browser, server, zara_link, "zara")
    zp = zara.page
    zp.click("nav >> text=National picture")
    expect(zp.get_by_role("heading", name=re.compile("National picture"))).to_be_visible()
    for pillar in ["legal", "technical", "organisational", "capacity", "cooperation"]:
        expect(zp.locator(f"#pillar-{pillar}")).to_be_visible()
    expect(zp.locator("#figure-complaints")).to_contain_text("Complaints")
    expect(zp.locator("#figure-training")).to_contain_text("withheld")
    assert "Operator A" not in zp.locator("main").inner_text() and tracking not in zp.locator("main").inner_text()
    shot(zp, "oversight.png")
    zp.set_viewport_size({"width": 390, "height": 844})
    shot(zp, "oversight-phone.png", full=False)
    zp.set_viewport_size({"width": 1280, "height": 900})
    zp.click("#quarterly-report")
    expect(zp.get_by_role("heading", name=re.compile("The national cybersecurity picture"))).to_be_visible()
    pdf = zp.pdf(path=os.path.join(SHOTS, "oversight-report.pdf"))
    assert pdf[:5] == b"%PDF-" and len(pdf) > 5000

    # The statistics the authority published, in Urdu.
    ur.goto(base + "/public/statistics")
    expect(ur.get_by_role("heading", level=2)).to_have_text("عوامی شکایات، زمرے کے لحاظ سے")
    expect(ur.locator("main table")).to_contain_text("ظاہر نہیں کیا گیا")
    shot(ur, "public-statistics-ur-phone.png")
    ur.goto(base + "/public/self-check?audience=business")
    ur.check("#email_mfa-no")
    ur.check("#updates-yes")
    ur.click("form[method=post] button[type=submit]")
    expect(ur.locator(".plan li").first).to_contain_text("دو مرحلہ تصدیق")
    shot(ur, "public-self-check-plan-ur-phone.png")
