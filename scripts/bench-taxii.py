#!/usr/bin/env python3
"""TAXII 2.1 serving and ingest: Qila against OASIS medallion (memory backend) on the same objects,
in one run.

  scripts/bench-taxii.py [--objects N] [--compare M] [--runs R] [--page P]

The objects: N GREEN STIX 2.1 indicators (IPv4 addresses, seeded, the same every run). Qila gets
them in one TAXII POST to the national collection by an operator's account, answered at once with
a pending status; the time until its status is complete is its ingest, and the time until the server's log says that many shared
indicators are loaded is "live in detection". Serving: taxii2-client reads a whole collection with
`as_pages(per_request=P)` as another organisation's account (Qila filters every object by its TLP
marking for that reader), R times, and the median is printed. Side by side: the first M objects
also go to Qila's telecom-sector collection, and medallion is started with the same M objects in
its memory backend's file (max_page_size = P); both are read R times, alternating. (medallion's
memory backend scans its whole manifest for every object it serves, so its time grows with the
square of the collection: M defaults to 2,000.) Needs `swift build -c release` and medallion and taxii2-client from PyPI."""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from taxii2client.v21 import Collection, as_pages

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QILA = os.environ.get("QILA_BINARY", os.path.join(HERE, ".build", "release", "qila"))
MEDIA = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def indicators(count):
    rng = random.Random(20)
    objects = []
    for n in range(count):
        address = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": "2026-12-01T10:00:00.000Z", "modified": "2026-12-01T10:00:00.000Z", "name": f"Scanner {address}",
            "pattern": f"[ipv4-addr:value = '{address}']", "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
            "confidence": 80, "object_marking_refs": [GREEN],
        })
    return objects


def qila(data, *args):
    return subprocess.run([QILA, *args, "--data", data], check=True, capture_output=True, text=True).stdout


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    sys.exit(f"{what} did not happen within {timeout} s")


def start_medallion(work, objects, page):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    collection = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
    manifest = [{"id": o["id"], "date_added": "2026-12-02T10:00:00.000000Z", "version": o["modified"],
                 "media_type": "application/stix+json;version=2.1"} for o in objects]
    data = {
        "/discovery": {"title": "medallion", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {"information": {"title": "api1", "versions": [MEDIA], "max_content_length": 1 << 30}, "status": [],
                 "collections": [{"id": collection, "title": "Indicators", "can_read": True, "can_write": True,
                                  "media_types": ["application/stix+json;version=2.1"], "objects": objects, "manifest": manifest}]},
    }
    with open(os.path.join(work, "medallion-data.json"), "w") as f:
        json.dump(data, f)
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": os.path.join(work, "medallion-data.json")},
              "users": {"reader": "secret"}, "taxii": {"max_page_size": page}}
    with open(os.path.join(work, "medallion.json"), "w") as f:
        json.dump(config, f)
    process = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port),
                                os.path.join(work, "medallion.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            return requests.get(f"{base}/taxii2/", auth=("reader", "secret"), headers={"Accept": MEDIA}, timeout=2).ok
        except requests.ConnectionError:
            return False
    wait_until(up, 120, "medallion answering")
    return process, Collection(f"{base}/api1/collections/{collection}/", user="reader", password="secret")


def start_qila(work):
    data = os.path.join(work, "qila-data")
    qila(data, "admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government")
    for name in ("Operator A", "Operator B"):
        qila(data, "admin", "create-organisation", "--name", name, "--kind", "licensee", "--sector", "telecom")
    tokens = {}
    for organisation, account in (("Operator A", "a-feed"), ("Operator B", "b-feed")):
        qila(data, "admin", "create-user", "--organisation", organisation, "--username", account, "--name", account,
             "--role", "organisation-admin", "--clearance", "amber", "--service")
        tokens[account] = qila(data, "admin", "token", "--username", account, "--scope", "read", "--scope", "write").strip()
    port = free_port()
    log = open(os.path.join(work, "qila.log"), "w")
    process = subprocess.Popen([QILA, "serve", "--data", data, "--port", str(port), "--syslog-udp", "off", "--syslog-tcp", "off",
                                "--flows-listen", "off"], stdout=subprocess.DEVNULL, stderr=log)
    base = f"https://127.0.0.1:{port}"
    ca = os.path.join(data, "pki", "ca.pem")

    def up():
        try:
            return requests.get(base + "/readyz", verify=ca, timeout=2).ok
        except (requests.ConnectionError, OSError):
            return False
    wait_until(up, 120, "qila answering")
    return process, base, ca, tokens, os.path.join(work, "qila.log")


def read_all(collection, page):
    seen = 0
    for envelope in as_pages(collection.get_objects, per_request=page):
        seen += len(envelope.get("objects", []))
    return seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", type=int, default=1_000)
    parser.add_argument("--compare", type=int, default=2_000)
    args = parser.parse_args()
    if not os.path.exists(QILA):
        sys.exit("build first: swift build -c release --product qila")
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(name, None)
    work = tempfile.mkdtemp(prefix="qila-bench-taxii-")
    objects = indicators(args.objects)
    medallion, theirs = start_medallion(work, objects[:args.compare], args.page)
    server, base, ca, tokens, log = start_qila(work)
    try:
        headers = {"Accept": MEDIA, "Content-Type": MEDIA, "Authorization": f"Bearer {tokens['a-feed']}"}
        collections = requests.get(base + "/taxii2/national/collections/", headers=headers, verify=ca).json()["collections"]
        national = next(c["id"] for c in collections if c["title"] == "National sharing")
        body = json.dumps({"objects": objects})
        started = time.monotonic()
        answer = requests.post(f"{base}/taxii2/national/collections/{national}/objects/", headers=headers, data=body, verify=ca, timeout=3600)
        answered = time.monotonic() - started
        status = answer.json()
        assert answer.status_code == 202, answer.text[:500]
        # A large request is answered pending; its status says when every object is stored.
        while status["status"] != "complete":
            time.sleep(0.2)
            status = requests.get(f"{base}/taxii2/national/status/{status['id']}/", headers=headers, verify=ca).json()
        stored = time.monotonic() - started
        assert status["success_count"] == args.objects, {k: v for k, v in status.items() if k not in ("successes", "failures")}
        wait_until(lambda: f"active={args.objects} " in open(log).read(), 600, "the indicators live in detection")
        live = time.monotonic() - started
        print(f"ingest: {args.objects:,} objects answered ({status['id'][:8]}…) after {answered:.2f} s, stored in {stored:.2f} s "
              f"({args.objects / stored:,.0f} objects/s); live in detection after {live:.2f} s")

        ours = Collection(f"{base}/taxii2/national/collections/{national}/", user="b-feed", password=tokens["b-feed"], verify=ca)
        alone = []
        for run in range(args.runs):
            started = time.monotonic()
            count = read_all(ours, args.page)
            alone.append(time.monotonic() - started)
            assert count == args.objects, f"qila served {count} of {args.objects}"
            print(f"run {run + 1}: qila served {count:,} objects in {alone[-1]:.2f} s", flush=True)
        q = statistics.median(alone)
        print(f"serving {args.objects:,}, median of {args.runs}: qila {q:.2f} s ({args.objects / q:,.0f} objects/s)")

        sectors = requests.get(base + "/taxii2/sector-telecom/collections/", headers=headers, verify=ca).json()["collections"]
        sector = next(c["id"] for c in sectors if c["title"].endswith("sector"))
        answer = requests.post(f"{base}/taxii2/sector-telecom/collections/{sector}/objects/", headers=headers, verify=ca, timeout=3600,
                               data=json.dumps({"objects": objects[:args.compare]}))
        assert answer.status_code == 202, answer.text[:300]
        same = Collection(f"{base}/taxii2/sector-telecom/collections/{sector}/", user="b-feed", password=tokens["b-feed"], verify=ca)
        times = {"qila": [], "medallion": []}
        for run in range(args.runs):
            for name, collection in (("qila", same), ("medallion", theirs)):
                started = time.monotonic()
                count = read_all(collection, args.page)
                times[name].append(time.monotonic() - started)
                assert count == args.compare, f"{name} served {count} of {args.compare}"
                print(f"run {run + 1}: {name} served {count:,} objects in {times[name][-1]:.2f} s", flush=True)
        q, m = statistics.median(times["qila"]), statistics.median(times["medallion"])
        print(f"side by side on {args.compare:,}, median of {args.runs}: qila {q:.2f} s ({args.compare / q:,.0f} objects/s), "
              f"medallion {m:.2f} s ({args.compare / m:,.0f} objects/s); qila is {m / q:.0f} x faster")
    finally:
        server.terminate()
        medallion.terminate()
        server.wait(30)
        medallion.wait(30)


if __name__ == "__main__":
    main()
