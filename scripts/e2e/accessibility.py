"""axe-core (from PyPI's axe-playwright-python) on every page the browser tests open.

`watch(page, who)` runs axe whenever the page finishes loading a kind of page it has not yet
checked for that person: the path with identifiers replaced, plus whether a refused form is shown
(`?form=`), so a form with its errors beside the fields is checked as well as the empty form.
Serious and critical violations are collected; the `accessibility` fixture in conftest fails the
test that met them, naming the page, the rule and the elements.
"""
import os
import re
from urllib.parse import parse_qs, urlsplit

from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
# QILA_AXE_IMPACTS=minor,moderate,serious,critical lists lesser findings too (they then fail).
FAILING = set(os.environ.get("QILA_AXE_IMPACTS", "serious,critical").split(","))
IDENTIFIER = re.compile(
    r"/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|QC-\d{4}-\d{4}|[A-Za-z0-9_-]{22,}|\d+)(?=/|$)")

violations = []
checked = []
# Every watched page: (page, who, kinds checked, kinds whose check the next navigation cut short).
watched = []
# While flushing, checks are made explicitly, not from the load event.
flushing = [False]


def kind_of_page(url):
    parts = urlsplit(url)
    path = IDENTIFIER.sub("/{id}", parts.path)
    query = parse_qs(parts.query)
    return path + (" (refused form)" if "form" in query else "")


def check(page, who, seen, pending):
    url = page.url
    if not url.startswith("http"):
        return
    kind = kind_of_page(url)
    if kind in seen:
        return
    content_type = ""
    try:
        content_type = page.evaluate("document.contentType")
    except Exception as error:
        if os.environ.get("QILA_AXE_DEBUG"):
            print(f"axe could not read {who} {kind}: {error}")
        pending.setdefault(kind, url)
        return
    if kind in seen or content_type != "text/html":
        return
    try:
        results = AXE.run(page)
    except Exception as error:
        # The page moved on before axe finished: the next load of this kind is checked instead.
        if os.environ.get("QILA_AXE_DEBUG"):
            print(f"axe skipped {who} {kind}: {error}")
        pending.setdefault(kind, url)
        return
    seen.add(kind)
    pending.pop(kind, None)
    checked.append((who, kind))
    for violation in results.response.get("violations", []):
        if violation.get("impact") in FAILING:
            targets = [", ".join(node.get("target", [])) for node in violation.get("nodes", [])][:5]
            violations.append(f"{who} on {kind}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")


def watch(page, who):
    seen, pending = set(), {}
    watched.append((page, who, seen, pending))
    page.on("load", lambda _: None if flushing[0] else check(page, who, seen, pending))
    return page


def flush():
    """Checks the pages whose check a quick navigation cut short: each is opened again, as the
    same person, and checked before anything else happens. Called before a browser closes."""
    flushing[0] = True
    for page, who, seen, pending in list(watched):
        for kind, url in list(pending.items()):
            if kind in seen:
                continue
            try:
                target = page if not page.is_closed() else page.context.new_page()
                target.goto(url)
                target.wait_for_load_state("load")
                check(target, who, seen, {})
            except Exception as error:
                if os.environ.get("QILA_AXE_DEBUG"):
                    print(f"axe could not revisit {who} {kind}: {error}")
        pending.clear()
    watched.clear()
    flushing[0] = False
