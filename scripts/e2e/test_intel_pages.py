"""The intelligence pages in real headless Chromium, as their users use them: an operator shares
1,200 indicators over TAXII and pages through them, searches a value, reports a sighting (a
refused one first, kept as typed); another operator finds only what TLP allows and reports a
sighting the producer sees without its name; the authority's analyst reads the named sightings and
sets a score (refused without a reason first); the authority's administrator subscribes to a peer
(a plain-http address refused first) and polls it; everything again at phone width. axe-core checks
every page as it loads (accessibility.py)."""
import datetime
import json
import os
import subprocess
import uuid

import requests
from playwright.sync_api import expect

from conftest import BINARY, local_stamp, wait_for
from test_browser import SHOTS
from test_cases import fill_early_warning, person, register
from test_warrants import add_account, browser, first_administrator  # noqa: F401 (browser is a fixture)

MEDIA = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


# A day before the run: scores decay with age, so the indicators are dated by the clock, not fixed.
YESTERDAY = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def indicator(n, marking=GREEN, value=None):
    address = value or f"198.51.{n // 250}.{n % 250}"
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": YESTERDAY, "modified": YESTERDAY, "name": f"Scanner {address}",
        "indicator_types": ["malicious-activity"], "pattern": f"[ipv4-addr:value = '{address}']", "pattern_type": "stix",
        "valid_from": YESTERDAY, "confidence": 90, "object_marking_refs": [marking],
    }


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_intelligence_pages_for_every_role(server, browser):
    admin = first_administrator(browser, server)
    page = admin.page
    register(page, "Operator A", "licensee", "telecom")
    register(page, "Operator B", "licensee", "telecom")
    aisha_link = add_account(admin, "Operator A", "aisha", "Aisha Malik", "organisation-admin")
    bilal_link = add_account(admin, "Operator B", "bilal", "Bilal Ahmed", "organisation-admin", clearance="TLP:AMBER")
    omar_link = add_account(admin, "National Cybersecurity Authority", "omar", "Omar Farooq", "authority-analyst")
    rashid_link = add_account(admin, "Operator A", "rashid", "Rashid Mehmood", "organisation-reporter")

    # Operator A shares 1,200 GREEN indicators and one AMBER one over TAXII with an API token.
    token = subprocess.run([BINARY, "admin", "token", "--data", server.data, "--username", "aisha", "--scope", "read", "--scope", "write"],
                           check=True, capture_output=True, text=True).stdout.strip()
    ca = os.path.join(server.data, "pki", "ca.pem")
    headers = {"Accept": MEDIA, "Content-Type": MEDIA, "Authorization": f"Bearer {token}"}
    collections = requests.get(server.base + "/taxii2/national/collections/", headers=headers, verify=ca).json()["collections"]
    national = next(c["id"] for c in collections if c["title"] == "National sharing")
    objects = [indicator(n) for n in range(1200)] + [indicator(9000, AMBER, "203.0.113.66")]
    answer = requests.post(f"{server.base}/taxii2/national/collections/{national}/objects/", headers=headers, verify=ca,
                           data=json.dumps({"objects": objects}))
    assert answer.status_code == 202 and answer.json()["success_count"] == 1201, answer.text

    # Operator A's administrator pages through the collection and searches one address.
    aisha = person(browser, server, aisha_link, "aisha")
    ap = aisha.page
    ap.click("nav >> text=Intelligence")
    expect(ap.get_by_role("heading", name="Intelligence", exact=True)).to_be_visible()
    expect(ap.locator("#intel-collections")).to_contain_text("every organisation")
    expect(ap.locator("#intel-object-list tbody tr")).to_have_count(50)
    shot(ap, "intel-collection.png")
    ap.click("a[rel=next]")
    expect(ap.locator("#intel-object-list tbody tr")).to_have_count(50)
    ap.fill("#intel-q", "x")
    ap.click("#intel-search button")
    expect(ap.locator("#intel-q-error")).to_contain_text("The search needs at least two characters")
    expect(ap.locator("#intel-q")).to_have_value("x")
    ap.fill("#intel-q", "198.51.0.7")
    ap.click("#intel-search button")
    expect(ap.locator("#intel-results")).to_contain_text("Scanner 198.51.0.7")
    ap.click("#intel-results >> text=Scanner 198.51.0.7")
    expect(ap.locator("#indicator-standing")).to_contain_text("in detection")
    expect(ap.locator("#indicator-standing")).to_contain_text("starts at 90, its producer's confidence")
    # A sighting with a count of 0 is refused beside the field; what was typed stays.
    ap.select_option("#kind", "false-positive")
    ap.fill("#count", "0")
    ap.fill("#note", "our own scanner")
    ap.click("#report-sighting button[type=submit]")
    expect(ap.locator("#count-error")).to_contain_text("1 to 1,000,000")
    expect(ap.locator("#note")).to_have_value("our own scanner")
    expect(ap.locator("#kind option:checked")).to_have_text("A false positive")
    shot(ap, "intel-sighting-refused.png")
    ap.fill("#count", "1")
    ap.click("#report-sighting button[type=submit]")
    expect(ap.get_by_role("status")).to_contain_text("Sighting recorded.")
    expect(ap.locator("#indicator-sightings")).to_contain_text("Operator A")
    indicator_path = ap.url.split("?")[0].replace(server.base, "")

    # Operator B finds the GREEN address but not the AMBER one, and reports seeing the GREEN one.
    bilal = person(browser, server, bilal_link, "bilal")
    bp = bilal.page
    bp.goto(server.base + "/intel?q=203.0.113.66")
    expect(bp.locator("#intel-results")).to_contain_text("Nothing you may see names it")
    amber_id = f"indicator--{uuid.UUID(int=9000, version=4)}"
    assert bp.goto(server.base + "/intel/objects/" + amber_id).status == 404
    bp.goto(server.base + indicator_path)
    bp.fill("#count", "3")
    bp.click("#report-sighting button[type=submit]")
    expect(bp.get_by_role("status")).to_contain_text("Sighting recorded.")
    # Operator A sees it, without Operator B's name.
    ap.goto(server.base + indicator_path)
    expect(ap.locator("#indicator-sightings")).to_contain_text("another organisation")
    expect(ap.locator("#indicator-sightings")).not_to_contain_text("Operator B")
    shot(ap, "intel-indicator-producer.png")

    # The analyst reads the sightings with names and sets a score (refused without a reason first).
    omar = person(browser, server, omar_link, "omar")
    op = omar.page
    op.goto(server.base + indicator_path)
    expect(op.locator("#indicator-sightings")).to_contain_text("Operator B")
    op.fill("#score", "95")
    op.click("#set-score button[type=submit]")
    expect(op.locator("#reason-error")).to_be_visible()
    expect(op.locator("#score")).to_have_value("95")
    op.fill("#reason", "Confirmed scanning of our sensors")
    op.click("#set-score button[type=submit]")
    expect(op.locator("#indicator-standing")).to_contain_text("set to 95 by an analyst")
    shot(op, "intel-indicator-analyst.png")
    op.click("#clear-score button")
    expect(op.locator("#indicator-standing")).not_to_contain_text("set to 95")

    # The authority's administrator subscribes to a peer: plain http elsewhere is refused, kept as typed.
    page.click("nav >> text=Intelligence")
    page.click("text=Peers")
    expect(page.get_by_role("heading", name="Intelligence peers")).to_be_visible()
    page.fill("#name", "CERT abroad")
    page.fill("#url", "http://taxii.cert.example/api1/collections/abc/")
    page.fill("#username", "qila")
    page.fill("#password", "peer-secret")
    admin.submit("#add-peer button[type=submit]")
    expect(page.locator("#url-error")).to_contain_text("https")
    expect(page.locator("#name")).to_have_value("CERT abroad")
    expect(page.locator("#password")).to_have_value("")  # a secret is never written back into a page
    shot(page, "intel-peer-refused.png")
    page.fill("#url", "http://127.0.0.1:9/api1/collections/abc/")
    page.fill("#password", "peer-secret")
    admin.submit("#add-peer button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("Subscribed")
    # Nothing answers at that address: the poll (by the server's poller, asked for again here) fails and says why.
    page.click("#intel-peers button:has-text('Poll now')")
    expect(page.get_by_role("status")).to_contain_text("A poll starts within seconds")
    wait_for(lambda: page.reload() and "failing" in page.locator("#intel-peers").inner_text(), 60, "the failed poll shown")
    expect(page.locator("#intel-peers")).to_contain_text("Connection refused")
    shot(page, "intel-peers.png")

    # Operator A names Operator B as the recipient of its AMBER objects in the national collection; an AMBER
    # indicator added over TAXII (which cannot name recipients) then reaches Operator B.
    ap.goto(server.base + "/intel")
    ap.locator("#intel-recipients label", has_text="Operator B").locator("input").check()
    ap.click("#intel-recipients button[type=submit]")
    expect(ap.get_by_role("status")).to_contain_text("Saved: your TLP:AMBER objects in National sharing go to the organisations ticked")
    expect(ap.locator("#intel-recipients label", has_text="Operator B").locator("input")).to_be_checked()
    answer = requests.post(f"{server.base}/taxii2/national/collections/{national}/objects/", headers=headers, verify=ca,
                           data=json.dumps({"objects": [indicator(9001, AMBER, "203.0.113.67")]}))
    assert answer.status_code == 202, answer.text
    bp.goto(server.base + "/intel?q=203.0.113.67")
    expect(bp.locator("#intel-results")).to_contain_text("Scanner 203.0.113.67")

    # The authority's administrator defines a trust group: a short name with spaces is refused beside it, the rest kept.
    page.goto(server.base + "/intel")
    page.fill("#group-title", "Regional CERTs")
    page.fill("#group-slug", "Regional CERTs")
    page.locator("#intel-group label", has_text="Operator B").locator("input").check()
    page.click("#intel-group button[type=submit]")
    expect(page.locator("#group-slug-error")).to_contain_text("lower-case letters, digits and hyphens")
    expect(page.locator("#group-title")).to_have_value("Regional CERTs")
    expect(page.locator("#intel-group label", has_text="Operator B").locator("input")).to_be_checked()
    shot(page, "intel-group-refused.png")
    page.fill("#group-slug", "regional")
    page.click("#intel-group button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("Trust group Regional CERTs defined: its API root is /taxii2/group-regional/")
    expect(page.locator("#intel-collections")).to_contain_text("Regional CERTs")
    # Operator B reads it; Operator A, not a member, does not see it.
    bp.goto(server.base + "/intel")
    expect(bp.locator("#intel-collections")).to_contain_text("Regional CERTs")
    ap.goto(server.base + "/intel")
    expect(ap.locator("#intel-collections")).not_to_contain_text("Regional CERTs")

    # Operator A's reporter reports an incident (TLP:GREEN) with three observables and submits the early warning.
    rashid = person(browser, server, rashid_link, "rashid")
    rp = rashid.page
    rp.click("nav >> text=Cases")
    rp.fill("#title", "Phishing kit on the billing portal")
    rp.fill("#awareness", local_stamp(datetime.datetime.now().timestamp() - 2 * 3600))
    rp.select_option("#tlp", "green")
    rp.fill("#observables", "203.0.113.77\npay-now.example\naccount:svc-billing")
    rp.click("button:has-text('Open the report')")
    fill_early_warning(rp, "A phishing kit collected customer logins")
    rp.click("#form-telecom-early-warning button[value=submit]")
    expect(rp.locator("#case-status")).not_to_have_text("Draft")
    case_path = rp.url.split("?")[0].split("#")[0].replace(server.base, "")

    # The authority's analyst may share it, but not lighter than the reporter marked it: refused beside the marking.
    op.goto(server.base + case_path)
    expect(op.locator("#share-marking option:checked")).to_have_text("TLP:GREEN")
    op.select_option("#share-what", "report")
    op.select_option("#share-marking", "clear")
    op.click("#share button[type=submit]")
    expect(op.locator("#share-marking-error")).to_contain_text("The marking must be TLP:GREEN or stricter")
    expect(op.locator("#share-marking option:checked")).to_have_text("TLP:CLEAR")
    expect(op.locator("#share-what option:checked")).to_contain_text("Indicators and a report")
    shot(op, "case-share-refused.png")

    # The reporter shares its own case as it is marked: one click (collection, what and marking chosen already).
    rp.goto(server.base + case_path)
    expect(rp.locator("#share-collection option:checked")).to_have_text("National sharing")
    rp.click("#share button[type=submit]")
    expect(rp.get_by_role("status")).to_contain_text("Shared 2 STIX objects into National sharing as TLP:GREEN")
    expect(rp.get_by_role("status")).to_contain_text("1 host name or account has no STIX pattern")
    expect(rp.locator("#timeline")).to_contain_text("Shared 2 STIX objects")
    shot(rp, "case-shared.png")
    # Operator B finds the shared domain, from the case.
    bp.goto(server.base + "/intel?q=pay-now.example")
    expect(bp.locator("#intel-results")).to_contain_text("Domain pay-now.example")

    # Operator A adds a MISP event from a file: a file that is not JSON is refused beside the field first.
    ap.goto(server.base + "/intel")
    ap.set_input_files("#intel-import-file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not json"}])
    ap.click("#intel-import button[type=submit]")
    expect(ap.locator("#intel-import-file-error")).to_contain_text("The file is not a JSON object")
    expect(ap.locator("#intel-import-collection option:checked")).to_have_text("National sharing")
    shot(ap, "intel-import-refused.png")
    event = {"Event": {"uuid": str(uuid.uuid4()), "info": "Fake bank app", "date": "2026-11-30", "timestamp": "1796000000",
                       "Tag": [{"name": "tlp:green"}],
                       "Attribute": [{"uuid": str(uuid.uuid4()), "type": "domain", "value": "fake-bank-app.example", "to_ids": True,
                                      "category": "Network activity", "timestamp": "1796000000"},
                                     {"uuid": str(uuid.uuid4()), "type": "comment", "value": "seen on SMS", "to_ids": False,
                                      "timestamp": "1796000000"}]}}
    ap.set_input_files("#intel-import-file", files=[{"name": "event.json", "mimeType": "application/json", "buffer": json.dumps(event).encode()}])
    ap.click("#intel-import button[type=submit]")
    expect(ap.get_by_role("status")).to_contain_text("Added 2 of 2 objects from the MISP event event.json")
    expect(ap.get_by_role("status")).to_contain_text("1 MISP attribute was not for detection")
    bp.goto(server.base + "/intel?q=fake-bank-app.example")
    expect(bp.locator("#intel-results")).to_contain_text("fake-bank-app.example")

    # Operator A's disclosures page; the pages at phone width.
    ap.goto(server.base + "/intel/disclosures")
    expect(ap.get_by_role("heading", name="Who received our intelligence")).to_be_visible()
    for who, target in ((ap, "/intel"), (ap, indicator_path), (page, "/intel/peers"), (rp, case_path)):
        who.set_viewport_size({"width": 390, "height": 844})
        who.goto(server.base + target)
        shot(who, "intel-phone-" + target.strip("/").replace("/", "-")[:40] + ".png")
        assert who.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), target
