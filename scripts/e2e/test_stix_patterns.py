"""STIX patterns Qila's detection matches agree with OASIS stix2-matcher (PyPI) on a table of
patterns and observations: each observation is a STIX observed-data for the matcher and, for Qila,
a JSON event holding the same values; `qila detect --indicators` runs every pattern over every
event, and the pairs that match must be exactly those the matcher says match.

The table keeps to what both define the same way: comparisons joined by AND/OR on one object
type, `=`, `IN`, `ISSUBSET` (IPv4 networks: stix2-matcher 3.0 reads every
network as IPv4), file hashes by algorithm, and observation
expressions joined by OR. (Qila's event matching is over the values an event holds, so a pattern
asking one object to have two values, which the matcher never matches, is left out.)"""
import json
import os
import subprocess
import tempfile
import uuid

from stix2matcher.matcher import match

from conftest import BINARY

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MD5 = "098f6bcd4621d373cade4e832627b4f6"

PATTERNS = [
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
    "[ipv4-addr:value IN ('203.0.113.9', '198.51.100.7')]",
    "[ipv4-addr:value = '203.0.113.9' OR ipv4-addr:value = '192.0.2.1']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[domain-name:value = 'evil.example']",
    "[domain-name:value IN ('a.example', 'evil.example')]",
    "[domain-name:value = 'sub.evil.example']",
    "[url:value = 'http://evil.example/payload']",
    "[email-addr:value = 'phish@evil.example']",
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    f"[file:hashes.MD5 = '{MD5}']",
    "[ipv4-addr:value = '192.0.2.200'] OR [domain-name:value = 'evil.example']",
    "[ipv4-addr:value = '192.0.2.200'] OR [url:value = 'http://other.example/']",
]

# Each observation: the SCOs the matcher sees, and the event Qila reads.
OBSERVATIONS = [
    ({"0": {"type": "ipv4-addr", "value": "198.51.100.7"}}, {"DestinationIp": "198.51.100.7"}),
    ({"0": {"type": "ipv4-addr", "value": "198.51.101.7"}}, {"DestinationIp": "198.51.101.7"}),
    ({"0": {"type": "ipv4-addr", "value": "10.20.30.40"}}, {"SourceIp": "10.20.30.40"}),
    ({"0": {"type": "ipv4-addr", "value": "203.0.113.9"}}, {"DestinationIp": "203.0.113.9"}),
    ({"0": {"type": "ipv4-addr", "value": "192.0.2.1"}}, {"DestinationIp": "192.0.2.1"}),
    ({"0": {"type": "ipv6-addr", "value": "2001:db8::1"}}, {"DestinationIp": "2001:db8::1"}),
    ({"0": {"type": "ipv6-addr", "value": "2001:db9::1"}}, {"DestinationIp": "2001:db9::1"}),
    ({"0": {"type": "domain-name", "value": "evil.example"}}, {"QueryName": "evil.example"}),
    ({"0": {"type": "domain-name", "value": "sub.evil.example"}}, {"QueryName": "sub.evil.example"}),
    ({"0": {"type": "domain-name", "value": "a.example"}}, {"QueryName": "a.example"}),
    # An event holding a URL observed its host too (the connection went there): the observed-data says so.
    ({"0": {"type": "url", "value": "http://evil.example/payload"}, "1": {"type": "domain-name", "value": "evil.example"}},
     {"Url": "http://evil.example/payload"}),
    ({"0": {"type": "email-addr", "value": "phish@evil.example"}}, {"Sender": "phish@evil.example"}),
    ({"0": {"type": "file", "hashes": {"SHA-256": SHA256}}}, {"sha256": SHA256}),
    ({"0": {"type": "file", "hashes": {"MD5": MD5}}}, {"md5": MD5}),
    ({"0": {"type": "file", "hashes": {"SHA-256": "0" * 64}}}, {"sha256": "0" * 64}),
]


def observed(objects):
    """A STIX 2.1 bundle: the observed-data and the SCOs it refers to (the matcher's 2.1 input)."""
    scos = []
    for n, sco in enumerate(objects.values()):
        scos.append(dict(sco, id=f"{sco['type']}--{uuid.UUID(int=n + 1, version=4)}", spec_version="2.1"))
    data = {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
            "created": "2026-12-01T10:00:00.000Z", "modified": "2026-12-01T10:00:00.000Z",
            "first_observed": "2026-12-01T10:00:00Z", "last_observed": "2026-12-01T10:00:00Z", "number_observed": 1,
            "object_refs": [sco["id"] for sco in scos]}
    return {"type": "bundle", "id": "bundle--0c6cb1f8-5b5f-4b6c-9e9f-1f6f3c6b1a10", "objects": [data] + scos}


def test_qila_and_stix2_matcher_agree():
    work = tempfile.mkdtemp(prefix="qila-e2e-patterns-")
    events = os.path.join(work, "events.jsonl")
    with open(events, "w") as f:
        for _, event in OBSERVATIONS:
            f.write(json.dumps(event) + "\n")
    expected, found = set(), set()
    for p, pattern in enumerate(PATTERNS):
        for o, (objects, _) in enumerate(OBSERVATIONS):
            if match(pattern, [observed(objects)], stix_version="2.1"):
                expected.add((p, o))
        indicators = os.path.join(work, f"pattern-{p}.txt")
        with open(indicators, "w") as f:
            f.write(pattern + "\n")
        out = subprocess.run([BINARY, "detect", "--mapping", "windows-flat", "--indicators", indicators, events],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            found.add((p, json.loads(line)["line"] - 1))
    # The table is not trivial: most patterns match something, most observations are matched by something.
    assert len(expected) >= 15 and len({o for _, o in expected}) >= 10
    describe = lambda pairs: sorted(f"{PATTERNS[p]} ~ {OBSERVATIONS[o][1]}" for p, o in pairs)
    assert found == expected, {"qila only": describe(found - expected), "matcher only": describe(expected - found)}
