"""The pages the other browser tests do not open (the profile, a rule's page, campaigns, the
problem-type pages, the second-factor step, re-authentication), and the main pages again in dark
mode and at phone width: axe-core checks each as it loads (see accessibility.py)."""
import os

from playwright.sync_api import expect

from accessibility import flush, watch
from test_browser import SHOTS
from test_cases import person, register
from test_intake import WHOAMI
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)


def test_every_page_in_light_and_dark(server, browser):
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Operator A", "licensee", "telecom")
    analyst_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst")

    # The profile, with its time-zone setting; a refused token form.
    page.goto(server.base + "/profile")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    page.select_option("#timeZone", "UTC")
    page.click("#time-zone button")
    expect(page.get_by_role("status")).to_contain_text("Times are now shown in UTC")
    page.fill("#token-name", "")
    page.click("#create-token button")
    expect(page.locator("#token-name-error")).to_be_visible()

    # Problem types explain themselves, to anyone.
    page.goto(server.base + "/problems/forbidden")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

    # The analyst uploads a rule and opens its page; campaigns; signing in again asks for the code.
    omar = person(browser, server, analyst_link, "omar")
    op = omar.page
    op.click("nav >> text=Rules")
    op.fill("#rule-file", "whoami.yml")
    op.fill("#rule-yaml", WHOAMI)
    op.click("#upload-rule button[type=submit]")
    op.click("#rule-list >> text=Whoami run")
    expect(op.get_by_role("heading", name="Whoami run")).to_be_visible()
    expect(op.locator("#rule-lint")).to_be_visible()
    op.goto(server.base + "/cases/campaigns")
    expect(op.get_by_role("heading", name="Campaigns across organisations")).to_be_visible()
    op.goto(server.base + "/reauthenticate?next=/profile")
    expect(op.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.click("button:has-text('Sign out')")
    admin.sign_in()  # with the second-factor step
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # Dark mode and a phone: the administrator's main pages again, each checked by axe.
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844}, color_scheme="dark")
    context.add_cookies(admin.context.cookies())
    dark = watch(context.new_page(), "ayesha, dark, phone")
    for path in ["/", "/admin/organisations", "/admin/audit", "/sensors", "/rules", "/flows", "/admin/webhooks", "/profile", "/cases/reports",
                 "/warrants/oversight", "/problems/not-found"]:
        dark.goto(server.base + path)
        expect(dark.locator("main h1")).to_be_visible()
        assert dark.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} is wider than the phone"
    dark.goto(server.base + "/")
    dark.screenshot(path=os.path.join(SHOTS, "overview-dark-phone.png"), full_page=True)
    flush()  # the pages left at once are checked now, while their browser context is open
    context.close()
