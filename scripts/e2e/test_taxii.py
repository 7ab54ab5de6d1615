"""TAXII 2.1 with real peers from PyPI: taxii2-client drives Qila's server over HTTPS with HTTP
Basic (an account's name and one of its API tokens): discovery, API roots, collections, 2,502
objects added in one request (answered pending, the client polling the status until complete; all
share one date_added) and read back in small pages with none lost or twice, status, manifest, versions, one object, delete; two organisations'
accounts see exactly what each object's TLP marking allows; every object served passes the OASIS
stix2-validator; 406, 415, 413 and 422 where the specification says."""
import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import uuid

import pytest
import requests
import stix2validator
from taxii2client.v21 import Server as TaxiiServer, as_pages

from conftest import BINARY, Server, free_port, wait_for

MEDIA = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
CLEAR_V1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"


def qila(data, *args):
    return subprocess.run([BINARY, *args, "--data", data], check=True, capture_output=True, text=True).stdout


def indicator(n, marking=GREEN, modified="2026-11-01T10:00:00.000Z"):
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": "2026-11-01T10:00:00.000Z", "modified": modified, "name": f"Scanner {n}",
        "indicator_types": ["malicious-activity"], "pattern": f"[ipv4-addr:value = '198.51.{n // 250}.{n % 250}']",
        "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z", "object_marking_refs": [marking],
    }


@pytest.fixture
def hub(monkeypatch):
    # requests lets these variables override a session's own trust; the server's CA is given instead.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    data = tempfile.mkdtemp(prefix="qila-e2e-taxii-")
    qila(data, "admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government")
    for name in ("Operator A", "Operator B"):
        qila(data, "admin", "create-organisation", "--name", name, "--kind", "licensee", "--sector", "telecom")
    qila(data, "admin", "create-organisation", "--name", "First Bank", "--kind", "bank", "--sector", "banking-finance")
    tokens = {}
    for organisation, account in (("Operator A", "a-feed"), ("Operator B", "b-feed"), ("First Bank", "bank-feed")):
        qila(data, "admin", "create-user", "--organisation", organisation, "--username", account, "--name", account,
             "--role", "organisation-admin", "--clearance", "amber+strict", "--service")
        tokens[account] = qila(data, "admin", "token", "--username", account, "--scope", "read", "--scope", "write").strip()
    server = Server(data, free_port()).start()
    server.tokens = tokens
    server.ca = os.path.join(data, "pki", "ca.pem")
    yield server
    server.stop()


def connect(hub, account):
    return TaxiiServer(hub.base + "/taxii2/", user=account, password=hub.tokens[account], verify=hub.ca)


def national(hub, account):
    server = connect(hub, account)
    root = next(r for r in server.api_roots if r.url.endswith("/national/"))
    return next(c for c in root.collections if c.title == "National sharing")


def read_all(collection, per_request):
    ids = []
    for page in as_pages(collection.get_objects, per_request=per_request):
        for item in page.get("objects", []):
            ids.append(item["id"])
            result = stix2validator.validate_instance(item, stix2validator.ValidationOptions(strict=False))
            assert result.is_valid, [str(e) for e in result.errors]
    return ids


def test_taxii2_client_reads_and_writes_with_tlp_per_object(hub):
    # Discovery and API roots: Operator A reaches the national root and its sector's, not the bank's.
    server = connect(hub, "a-feed")
    assert server.title == "Qila TAXII"
    roots = sorted(r.url.rsplit("/", 2)[-2] for r in server.api_roots)
    assert roots == ["national", "sector-telecom"], roots
    assert server.default.url.endswith("/taxii2/national/")
    root = server.default
    assert root.versions == [MEDIA] and root.max_content_length >= 100 * 1024 * 1024
    titles = sorted(c.title for c in root.collections)
    assert titles == ["National sharing"], titles
    collection = national(hub, "a-feed")
    assert collection.can_read and collection.can_write

    # 2,500 GREEN indicators in one request, plus one AMBER+STRICT and one AMBER (no recipient named):
    # more than Qila stores before answering, so the answer is a pending status the client polls.
    objects = [indicator(n) for n in range(2500)] + [indicator(5001, STRICT), indicator(5002, AMBER)]
    status = collection.add_objects(json.dumps({"objects": objects}), wait_for_completion=False)
    assert status.status == "pending" and status.pending_count == 2502 and status.total_count == 2502, status
    status.wait_until_final(poll_interval=0.2, timeout=120)
    assert status.status == "complete" and status.success_count == 2502 and status.failure_count == 0
    assert len(status.successes) == 2502 and status.pending_count == 0

    # Small pages over objects that all share one date_added: none lost, none twice.
    mine = read_all(collection, 7)
    assert len(mine) == 2502 and len(set(mine)) == 2502
    theirs = read_all(national(hub, "b-feed"), 50)
    assert len(theirs) == 2500 and len(set(theirs)) == 2500
    assert f"indicator--{uuid.UUID(int=5001, version=4)}" not in theirs

    # Manifest and the X-TAXII-Date-Added headers; versions; one object; match filters.
    manifest = collection.get_manifest(limit=5)
    assert len(manifest["objects"]) == 5 and manifest["more"] is True
    assert all(entry["media_type"] == "application/stix+json;version=2.1" for entry in manifest["objects"])
    target = indicator(3)["id"]
    newer = indicator(3, modified="2026-11-02T10:00:00.000Z")
    collection.add_objects(json.dumps({"objects": [newer]}), wait_for_completion=True, poll_interval=1, timeout=60)
    versions = collection.object_versions(target)
    assert versions["versions"] == ["2026-11-01T10:00:00.000Z", "2026-11-02T10:00:00.000Z"], versions
    last = collection.get_object(target)
    assert [o["modified"] for o in last["objects"]] == ["2026-11-02T10:00:00.000Z"]
    both = collection.get_object(target, version="all")
    assert len(both["objects"]) == 2
    typed = collection.get_objects(limit=3, type="indicator")
    assert len(typed["objects"]) == 3
    none = collection.get_objects(type="malware")
    assert not none.get("objects")
    response = requests.get(collection.url + "objects/", params={"limit": "2"}, auth=("a-feed", hub.tokens["a-feed"]),
                            headers={"Accept": MEDIA}, verify=hub.ca, timeout=30)
    assert response.headers["Content-Type"] == MEDIA
    assert response.headers["X-TAXII-Date-Added-First"].endswith("Z") and response.headers["X-TAXII-Date-Added-Last"]

    # Another organisation may read but not delete Operator A's object; Operator A deletes it.
    other = national(hub, "b-feed")
    with pytest.raises(requests.exceptions.HTTPError) as refused:
        other.delete_object(target)
    assert refused.value.response.status_code == 403
    collection.delete_object(target)
    with pytest.raises(requests.exceptions.HTTPError) as gone:
        collection.get_object(target)
    assert gone.value.response.status_code == 404
    # Operator B's AMBER+STRICT object is as absent to Operator A as one that never was.
    with pytest.raises(requests.exceptions.HTTPError) as hidden:
        other.get_object(f"indicator--{uuid.UUID(int=5001, version=4)}")
    assert hidden.value.response.status_code == 404

    # The bank, in another sector, reaches the national root only.
    bank_roots = sorted(r.url.rsplit("/", 2)[-2] for r in connect(hub, "bank-feed").api_roots)
    assert bank_roots == ["national", "sector-banking-finance"], bank_roots


def test_taxii_errors_as_the_specification_says(hub):
    collection = national(hub, "a-feed")
    auth = ("a-feed", hub.tokens["a-feed"])
    objects_url = collection.url + "objects/"
    # 406: the client accepts only something else.
    answer = requests.get(objects_url, auth=auth, headers={"Accept": "text/html"}, verify=hub.ca, timeout=30)
    assert answer.status_code == 406 and answer.json()["http_status"] == "406"
    # 415: objects sent as plain JSON.
    answer = requests.post(objects_url, auth=auth, data=json.dumps({"objects": []}), verify=hub.ca, timeout=30,
                           headers={"Accept": MEDIA, "Content-Type": "application/json"})
    assert answer.status_code == 415
    # 422: JSON, but not an envelope.
    answer = requests.post(objects_url, auth=auth, data=json.dumps({"bundle": []}), verify=hub.ca, timeout=30,
                           headers={"Accept": MEDIA, "Content-Type": MEDIA})
    assert answer.status_code == 422 and answer.json()["title"]
    # A bad object among good ones: 202, with the failure named in the status.
    bad = indicator(7)
    bad["created"] = "last tuesday"
    answer = requests.post(objects_url, auth=auth, data=json.dumps({"objects": [indicator(8), bad]}), verify=hub.ca, timeout=30,
                           headers={"Accept": MEDIA, "Content-Type": MEDIA})
    assert answer.status_code == 202
    status = answer.json()
    assert status["success_count"] == 1 and status["failure_count"] == 1
    assert "objects[1].created" in status["failures"][0]["message"]
    root_url = collection.url.split("collections/")[0]
    again = requests.get(root_url + "status/" + status["id"] + "/", auth=auth, headers={"Accept": MEDIA},
                         verify=hub.ca, timeout=30)
    assert again.status_code == 200 and again.json()["id"] == status["id"]
    # 413: a body larger than the API root's max_content_length is refused before it is read.
    host, port = hub.base.split("//")[1].split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=ssl._create_unverified_context(), timeout=30)
    credentials = base64.b64encode(f"a-feed:{hub.tokens['a-feed']}".encode()).decode()
    connection.putrequest("POST", objects_url.split(port, 1)[1])
    connection.putheader("Authorization", "Basic " + credentials)
    connection.putheader("Content-Type", MEDIA)
    connection.putheader("Accept", MEDIA)
    connection.putheader("Content-Length", str(512 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    # Wrong credentials: 401; a token with the name of another account: 401.
    answer = requests.get(collection.url, auth=("b-feed", hub.tokens["a-feed"]), headers={"Accept": MEDIA}, verify=hub.ca, timeout=30)
    assert answer.status_code == 401
    # A bad limit or added_after is named.
    answer = requests.get(objects_url, params={"added_after": "yesterday"}, auth=auth, headers={"Accept": MEDIA}, verify=hub.ca, timeout=30)
    assert answer.status_code == 400 and "added_after" in answer.json()["description"]


@pytest.fixture
def medallion():
    """OASIS medallion (the reference TAXII 2.1 server) on loopback with its memory backend and a
    page size of 100, so that a poll must follow `next`."""
    folder = tempfile.mkdtemp(prefix="qila-e2e-medallion-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    collection = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
    data = {
        "/discovery": {"title": "A CERT abroad", "description": "medallion", "default": f"{base}/api1/",
                       "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "Shared indicators", "description": "", "versions": [MEDIA], "max_content_length": 100 * 1024 * 1024},
            "status": [],
            "collections": [{"id": collection, "title": "Indicators", "description": "", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}],
        },
    }
    with open(os.path.join(folder, "data.json"), "w") as f:
        json.dump(data, f)
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": os.path.join(folder, "data.json")},
              "users": {"qila": "peer-secret"}, "taxii": {"max_page_size": 100}}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    log = open(os.path.join(folder, "medallion.log"), "w")
    process = subprocess.Popen(["python3", "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port),
                                os.path.join(folder, "config.json")], stdout=log, stderr=subprocess.STDOUT)

    def answering():
        try:
            return requests.get(f"{base}/taxii2/", auth=("qila", "peer-secret"), headers={"Accept": MEDIA}, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False
    wait_for(answering, 30, "medallion answering")
    from taxii2client.v21 import Collection
    yield Collection(f"{base}/api1/collections/{collection}/", user="qila", password="peer-secret")
    process.terminate()
    process.wait(10)


def every_version(collection, **filters):
    held = set()
    for page in as_pages(collection.get_objects, per_request=100, version="all", **filters):
        held |= {(item["id"], item["modified"]) for item in page.get("objects", [])}
    return held


def test_qila_polls_medallion_until_both_hold_the_same_objects(hub, medallion):
    # The peer holds 450 indicators, added in three requests, and a second version of ten of them;
    # some carry no marking (they take the national collection's GREEN).
    for start in (0, 200, 400):
        batch = [indicator(20_000 + n) for n in range(start, min(start + 200, 450))]
        for item in batch[::7]:
            del item["object_marking_refs"]
        medallion.add_objects(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": batch}))
    medallion.add_objects(json.dumps({"objects": [indicator(20_000 + n, modified="2026-11-05T10:00:00.000Z") for n in range(10)]}))
    theirs = every_version(medallion)
    assert len(theirs) == 460

    # The authority's administrator subscribes the national collection to it (the password from a file).
    qila(hub.data, "admin", "create-user", "--organisation", "National CERT", "--username", "cert-admin", "--name", "CERT admin",
         "--role", "authority-admin", "--clearance", "red")
    secret = os.path.join(hub.data, "peer-password")
    with open(secret, "w") as f:
        f.write("peer-secret\n")
    refused = subprocess.run([BINARY, "intel", "peer", "add", "--data", hub.data, "--name", "abroad", "--url", "http://203.0.113.9/api1/collections/x/",
                              "--collection", "National sharing", "--username", "qila", "--password-file", secret, "--as", "cert-admin"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "--url: must be https" in refused.stderr, refused.stderr
    out = qila(hub.data, "intel", "peer", "add", "--name", "abroad", "--url", medallion.url, "--collection", "National sharing",
               "--username", "qila", "--password-file", secret, "--interval", "10", "--as", "cert-admin")
    assert "subscribed to" in out and "peer-secret" not in out

    # The running server polls it (following `next` over pages of 100) until Qila holds every version.
    ours = national(hub, "bank-feed")
    wait_for(lambda: every_version(ours) == theirs, 90, "Qila holding every version medallion holds")
    listed = qila(hub.data, "intel", "peer", "list")
    assert "abroad" in listed and "460 object versions" in listed and "failed" not in listed, listed

    # New objects and versions at the peer arrive at the next poll, from the stored cursor; nothing twice.
    medallion.add_objects(json.dumps({"objects": [indicator(20_000 + n, modified="2026-11-06T10:00:00.000Z") for n in range(5)]
                                      + [indicator(21_000 + n) for n in range(30)]}))
    theirs = every_version(medallion)
    assert len(theirs) == 495
    wait_for(lambda: every_version(ours) == theirs, 60, "Qila receiving what the peer added later")
    out = qila(hub.data, "intel", "peer", "poll", "abroad")
    assert out.startswith("abroad: ") and ", 0 new" in out, out
    # Every object Qila serves from the peer passes the validator and keeps its source out of the STIX.
    assert len(read_all(ours, 500)) == 480


def test_a_collection_is_a_misp_feed_pymisp_reads(hub):
    """A collection as a MISP feed (manifest.json, hashes.csv, one file per event) that PyMISP
    loads, each reader's feed holding what TLP lets it see."""
    import hashlib

    from pymisp import MISPEvent

    collection = national(hub, "a-feed")
    sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    objects = [indicator(n) for n in range(3)] + [
        dict(indicator(10), pattern="[domain-name:value = 'evil.example']", name="C2 domain"),
        dict(indicator(11), pattern=f"[file:hashes.'SHA-256' = '{sha}']", name="Dropper"),
        dict(indicator(12, AMBER), pattern="[ipv4-addr:value = '203.0.113.66']", name="Amber only"),
        dict(indicator(13), pattern="[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'x.example']", name="Two values"),
    ]
    status = collection.add_objects(json.dumps({"objects": objects}), wait_for_completion=True, poll_interval=1, timeout=60)
    assert status.success_count == len(objects)

    def feed(account):
        auth = (account, hub.tokens[account])
        base = f"{hub.base}/misp/feeds/{collection.id}/"
        manifest = requests.get(base + "manifest.json", auth=auth, verify=hub.ca)
        assert manifest.status_code == 200, manifest.text
        events = {}
        for uuid_, summary in manifest.json().items():
            event = MISPEvent()
            event.load(requests.get(base + f"{uuid_}.json", auth=auth, verify=hub.ca).text)
            assert event.uuid == uuid_ and event.info == summary["info"]
            events[uuid_] = event
        hashes = requests.get(base + "hashes.csv", auth=auth, verify=hub.ca).text.split()
        return events, hashes

    theirs, hashes = feed("b-feed")
    values = {(a.type, a.value) for e in theirs.values() for a in e.attributes}
    assert values == {("ip-dst", "198.51.0.0"), ("ip-dst", "198.51.0.1"), ("ip-dst", "198.51.0.2"), ("domain", "evil.example"),
                      ("sha256", sha)}, values
    assert all(t.name == "tlp:green" for e in theirs.values() for t in e.tags)
    assert sorted(hashes) == sorted(f"{hashlib.md5(v.encode()).hexdigest()},{e.uuid}" for e in theirs.values() for v in
                                    (a.value for a in e.attributes))
    # The producer's own feed also holds its AMBER indicator, in an event of its own marked so.
    mine, _ = feed("a-feed")
    amber = [e for e in mine.values() if any(t.name == "tlp:amber" for t in e.tags)]
    assert len(amber) == 1 and [a.value for a in amber[0].attributes] == ["203.0.113.66"]
    # Someone who reads no such collection gets nothing.
    assert requests.get(f"{hub.base}/misp/feeds/{uuid.uuid4()}/manifest.json", auth=("b-feed", hub.tokens["b-feed"]), verify=hub.ca).status_code == 404


def test_qila_subscribes_to_a_feed_pymisp_wrote(hub):
    """A MISP feed written as MISP's feed generator writes it (PyMISP's `to_feed`, manifest.json,
    hashes.csv), served over plain HTTP on loopback: Qila polls it into the national collection,
    reads each attribute meant for detection as an indicator with its TLP, and takes only what
    changed at the next poll."""
    import functools
    import http.server
    import threading

    from pymisp import MISPEvent, MISPOrganisation

    folder = tempfile.mkdtemp(prefix="qila-e2e-feed-")

    def event(info, tlp, attributes, when):
        e = MISPEvent()
        e.info = info
        e.uuid = str(uuid.uuid4())
        e.date = "2026-11-20"
        e.timestamp = when
        e.publish_timestamp = when
        org = MISPOrganisation()
        org.name, org.uuid = "CERT Abroad", "4f1ad3e2-5a0b-4c47-9a2a-0d3f7c1b2e90"
        e.Orgc = org
        e.add_tag(tlp)
        for kind, value, ids in attributes:
            a = e.add_attribute(kind, value, to_ids=ids)
            a.timestamp = when
        return e

    def write(events):
        manifest, hashes = {}, []
        for e in events:
            feed = e.to_feed(with_meta=True)
            hashes += [[h, e.uuid] for h in feed["Event"].pop("_hashes")]
            manifest.update(feed["Event"].pop("_manifest"))
            with open(os.path.join(folder, f"{e.uuid}.json"), "w") as f:
                json.dump(feed, f)
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        with open(os.path.join(folder, "hashes.csv"), "w") as f:
            f.writelines(f"{h},{u}\n" for h, u in hashes)

    green = event("Scanning from abroad", "tlp:green", [("ip-dst", "192.0.2.44", True), ("domain", "c2.abroad.example", True),
                                                         ("text", "seen by our sensors", False)], 1_790_000_000)
    amber = event("Targeted phishing", "tlp:amber", [("email-src", "ceo@phish.example", True)], 1_790_000_100)
    write([green, amber])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        qila(hub.data, "admin", "create-user", "--organisation", "National CERT", "--username", "feed-admin", "--name", "Feed admin",
             "--role", "authority-admin", "--clearance", "red")
        out = qila(hub.data, "intel", "peer", "add", "--name", "abroad-misp", "--format", "misp-feed",
                   "--url", f"http://127.0.0.1:{httpd.server_address[1]}/manifest.json", "--collection", "National sharing",
                   "--interval", "3600", "--as", "feed-admin")
        assert "subscribed to" in out, out

        # The running server polls it; another organisation sees the GREEN event's indicators and report, not the AMBER one.
        ours = national(hub, "b-feed")

        def patterns():
            read_all(ours, 100)  # every object served passes the validator
            return {item["pattern"] for item in ours.get_objects(type="indicator").get("objects", [])}

        wait_for(lambda: patterns() == {"[ipv4-addr:value = '192.0.2.44']", "[domain-name:value = 'c2.abroad.example']"}, 60,
                 "the feed's GREEN indicators in the national collection")
        reports = [o for o in ours.get_objects(type="report").get("objects", [])]
        assert [r["name"] for r in reports] == ["Scanning from abroad"] and len(reports[0]["object_refs"]) == 2
        listed = qila(hub.data, "intel", "peer", "list")
        assert "abroad-misp  misp-feed" in listed and "failed" not in listed, listed

        # An attribute added to the GREEN event reaches Qila at the next poll; nothing else is stored twice.
        green.add_attribute("sha256", "a" * 64, to_ids=True).timestamp = 1_790_000_500
        green.timestamp = 1_790_000_500
        write([green, amber])
        out = qila(hub.data, "intel", "peer", "poll", "abroad-misp")
        assert ", 2 new" in out and "1 MISP attributes left out" in out, out  # the new indicator and the report's new version
        assert f"[file:hashes.'SHA-256' = '{'a' * 64}']" in patterns()
        out = qila(hub.data, "intel", "peer", "poll", "abroad-misp")
        assert ", 0 new" in out, out
    finally:
        httpd.shutdown()
