#!/usr/bin/env python3
"""Syslog over TCP into Qila (journal + detection with the full SigmaHQ rule set) and into
rsyslog (Debian) writing a file, in one run on the same stream.

  scripts/bench-intake.py [--events N] [--runs R] [--work DIR] [--indicators K]

The stream: the Windows events of corpora/events/security-datasets-100k (flat NXLog JSON),
repeated to N events, each an RFC 5424 message with the JSON as MSG, newline-framed (RFC 6587),
sent over one loopback TCP connection as fast as the receiver reads. A run ends when the
receiver has everything: for Qila, when the sensor's committed event count reaches N (journal
synced, rules matched, alerts and checkpoint committed); for rsyslog, when its output file holds
N lines. Rates are N divided by the time from the first byte sent to that moment. Qila's alert
occurrences per rule are checked against `qila detect` on the one-copy file times the copies.
With --indicators K, a third receiver runs in each round: Qila again, with K shared STIX indicators
(seeded: half IPv4 addresses, half domains, GREEN in the national collection, added with `qila
intel import` before the rounds) active in detection, so that the cost of matching every string of
every event against them shows as the ratio of its rate to Qila's without them.
Needs: rsyslog (apt-get install rsyslog), `swift build -c release`."""
import argparse
import collections
import gzip
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(HERE, "..", "shared")
QILA = os.path.join(HERE, ".build", "release", "qila")
RULES = os.path.join(SHARED, "corpora", "sigma", "rules")
CORPUS = os.path.join(SHARED, "corpora", "events", "security-datasets-100k.jsonl.gz")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(port, path):
    """Sends the file over one TCP connection; returns when the last byte is handed to the kernel."""
    with socket.create_connection(("127.0.0.1", port)) as connection, open(path, "rb") as stream:
        while True:
            chunk = stream.read(4 << 20)
            if not chunk:
                break
            connection.sendall(chunk)
        connection.shutdown(socket.SHUT_WR)
        # Wait for the receiver to close or to have read everything (it keeps the connection open).
        connection.settimeout(600)
        try:
            connection.recv(1)
        except OSError:
            pass


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_now(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def rss_peak(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def prepare(work, events):
    lines = []
    with gzip.open(CORPUS, "rb") as corpus:
        for line in corpus:
            line = line.strip()
            if line and not (b'"eventSource"' in line and b'"awsRegion"' in line):
                lines.append(line)
    one = os.path.join(work, "windows.jsonl")
    with open(one, "wb") as out:
        out.write(b"\n".join(lines) + b"\n")
    copies = -(-events // len(lines))
    events = copies * len(lines)
    stream = os.path.join(work, "stream.syslog")
    with open(stream, "wb") as out:
        framed = b"".join(b"<134>1 - - nxlog - - - " + line + b"\n" for line in lines)
        for _ in range(copies):
            out.write(framed)
    return one, stream, events, copies


def qila_template(work):
    """A data directory with the authority, a licensee, its syslog sensor and the SigmaHQ rules."""
    data = os.path.join(work, "qila-template")
    run = lambda *args: subprocess.run([QILA, *args, "--data", data], check=True, capture_output=True, text=True).stdout
    run("admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government")
    run("admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    run("sensors", "add", "--organisation", "Operator A", "--name", "dc", "--transport", "syslog", "--mapping", "windows-flat-sysmon",
        "--address", "127.0.0.1")
    print(run("rules", "import", RULES).strip().splitlines()[-1], file=sys.stderr)
    return data


def with_indicators(template, work, count):
    """A copy of the template whose national collection holds `count` GREEN indicators."""
    import random
    data = os.path.join(work, "qila-template-indicators")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    subprocess.run([QILA, "admin", "create-user", "--data", data, "--organisation", "National CERT", "--username", "bench-intel",
                    "--name", "Bench intel", "--role", "authority-admin", "--clearance", "red"], check=True, capture_output=True)
    rng = random.Random(20)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 86400))
    files, started = [], time.time()
    for start in range(0, count, 100_000):
        objects = []
        for n in range(start, min(start + 100_000, count)):
            if n % 2:
                value = f"[ipv4-addr:value = '{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}']"
            else:
                value = f"[domain-name:value = 'h{rng.getrandbits(40):010x}.example-{n % 97}.net']"
            objects.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                            "created": stamp, "modified": stamp, "pattern": value, "pattern_type": "stix", "valid_from": stamp,
                            "confidence": 90, "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})
        path = os.path.join(work, f"indicators-{start // 100_000}.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": f"bundle--{uuid.UUID(int=start + 1, version=4)}", "objects": objects}, f)
        files.append(path)
    print(f"{count:,} indicators written in {time.time() - started:.1f} s", file=sys.stderr)
    started = time.time()
    subprocess.run([QILA, "intel", "import", "--data", data, "--collection", "National sharing", "--as", "bench-intel", *files], check=True,
                   capture_output=True)
    elapsed = time.time() - started
    print(f"{count:,} indicators imported in {elapsed:.1f} s ({count / elapsed:,.0f} objects/s)", file=sys.stderr)
    for path in files:
        os.remove(path)
    return data


def qila_run(template, work, stream, events, index, name="qila"):
    data = os.path.join(work, f"{name}-{index}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    port, http = free_port(), free_port()
    log = open(os.path.join(work, f"{name}-{index}.log"), "w")
    server = subprocess.Popen([QILA, "serve", "--data", data, "--no-tls", "--port", str(http), "--syslog-tcp", f"127.0.0.1:{port}"],
                              stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, "QILA_LOG_LEVEL": "warning"})
    while True:
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("qila serve stopped: see " + log.name)
        if "Intake: syslog-tcp" in line:
            break
    threading.Thread(target=server.stdout.read, daemon=True).start()
    cpu0 = cpu_seconds(server.pid)
    ready_rss = rss_now(server.pid)
    database = sqlite3.connect(f"file:{data}/qila.sqlite?mode=ro", uri=True, timeout=30)
    started = time.time()
    sender = threading.Thread(target=send, args=(port, stream))
    sender.start()
    processed = 0
    while processed < events:
        time.sleep(0.05)
        row = database.execute("SELECT events, refused FROM sensor_health").fetchone()
        processed = row[0]
        if time.time() - started > 900:
            raise RuntimeError(f"qila: only {processed} of {events} after 900 s")
    elapsed = time.time() - started
    refused = sum(json.loads(row[1]).values())
    occurrences = dict(database.execute("SELECT rule, SUM(count) FROM alerts WHERE kind = 'rule' GROUP BY rule").fetchall())
    indicator_alerts = database.execute("SELECT COUNT(*) FROM alerts WHERE kind <> 'rule'").fetchone()[0]
    cpu = cpu_seconds(server.pid) - cpu0
    peak = rss_peak(server.pid)
    server.terminate()
    server.wait(timeout=60)
    sender.join()
    shutil.rmtree(data, ignore_errors=True)
    return {"events": processed, "seconds": elapsed, "rate": processed / elapsed, "refused": refused, "cpu": cpu, "rss_mb": peak,
            "ready_rss_mb": ready_rss, "indicator_alerts": indicator_alerts, "occurrences": occurrences}


RSYSLOG_CONF = """
global(workDirectory="{work}" maxMessageSize="256k")
module(load="imtcp" MaxSessions="10")
template(name="msgonly" type="string" string="%msg%\\n")
input(type="imtcp" port="{port}" address="127.0.0.1")
*.* action(type="omfile" file="{out}" template="msgonly" asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off")
"""


def rsyslog_run(work, stream, events, index):
    folder = os.path.join(work, f"rsyslog-{index}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    port = free_port()
    out = os.path.join(folder, "out.log")
    conf = os.path.join(folder, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(RSYSLOG_CONF.format(work=folder, port=port, out=out))
    daemon = subprocess.Popen(["/usr/sbin/rsyslogd", "-n", "-f", conf, "-i", os.path.join(folder, "pid")],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(folder, "stderr"), "w"))
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    cpu0 = cpu_seconds(daemon.pid)
    expected = os.path.getsize(stream) - events * len(b"<134>1 - - nxlog - - - ")
    started = time.time()
    sender = threading.Thread(target=send, args=(port, stream))
    sender.start()
    while True:
        time.sleep(0.05)
        size = os.path.getsize(out) if os.path.exists(out) else 0
        if size >= expected:
            break
        if time.time() - started > 900:
            raise RuntimeError(f"rsyslog: {size} of {expected} bytes after 900 s")
    elapsed = time.time() - started
    cpu = cpu_seconds(daemon.pid) - cpu0
    peak = rss_peak(daemon.pid)
    daemon.terminate()
    daemon.wait(timeout=60)
    sender.join()
    with open(out, "rb") as written:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: written.read(1 << 22), b""))
    return {"events": lines, "seconds": elapsed, "rate": lines / elapsed, "cpu": cpu, "rss_mb": peak}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "qila-bench-intake"))
    parser.add_argument("--indicators", type=int, default=0, help="also run Qila with this many shared indicators active")
    args = parser.parse_args()
    if not os.path.exists("/usr/sbin/rsyslogd"):
        sys.exit("rsyslog is not installed (apt-get install rsyslog)")
    if not os.path.exists(QILA):
        sys.exit("build first: swift build -c release")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    one, stream, events, copies = prepare(args.work, args.events)
    print(f"stream: {events} events ({copies} copies of {events // copies}), {os.path.getsize(stream) / 1e6:.0f} MB", file=sys.stderr)
    template = qila_template(args.work)
    loaded = with_indicators(template, args.work, args.indicators) if args.indicators else None
    detect_out = os.path.join(args.work, "detect.jsonl")
    subprocess.run([QILA, "detect", "--quiet", "--rules", RULES, "--mapping", "windows-flat-sysmon", one, "--output", detect_out], check=True,
                   capture_output=True)
    expected = collections.Counter()
    with open(detect_out) as alerts:
        for line in alerts:
            alert = json.loads(line)
            if "rule" in alert:
                expected[alert["rule"]["id"] or alert["rule"]["file"]] += copies
    results = {"qila": [], "rsyslog": [], "qila_indicators": []}
    for index in range(args.runs):
        # Alternate, each starting from a quiet page cache writeback.
        subprocess.run(["sync"])
        time.sleep(3)
        result = rsyslog_run(args.work, stream, events, index)
        print(f"rsyslog run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, {result['events']} lines, "
              f"cpu {result['cpu']:.1f} s, rss {result['rss_mb']} MB)", file=sys.stderr)
        results["rsyslog"].append(result)
        subprocess.run(["sync"])
        time.sleep(3)
        result = qila_run(template, args.work, stream, events, index)
        same = result.pop("occurrences") == dict(expected)
        result["alerts_match_detect"] = same
        print(f"qila run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, {result['events']} events, refused {result['refused']}, "
              f"alerts as qila detect: {same}, cpu {result['cpu']:.1f} s, rss {result['rss_mb']} MB)", file=sys.stderr)
        results["qila"].append(result)
        if loaded:
            subprocess.run(["sync"])
            time.sleep(3)
            result = qila_run(loaded, args.work, stream, events, index, name="qila-indicators")
            same = result.pop("occurrences") == dict(expected)
            result["alerts_match_detect"] = same
            print(f"qila with {args.indicators:,} indicators, run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, "
                  f"{result['events']} events, refused {result['refused']}, rule alerts as qila detect: {same}, "
                  f"indicator alerts {result['indicator_alerts']}, cpu {result['cpu']:.1f} s, rss at start {result['ready_rss_mb']} MB, "
                  f"peak {result['rss_mb']} MB)", file=sys.stderr)
            results["qila_indicators"].append(result)
    summary = {
        "events": events,
        "qila_median_rate": statistics.median(r["rate"] for r in results["qila"]),
        "rsyslog_median_rate": statistics.median(r["rate"] for r in results["rsyslog"]),
        "qila_lossless": all(r["events"] == events and r["refused"] == 0 and r["alerts_match_detect"] for r in results["qila"]),
        "rsyslog_lossless": all(r["events"] == events for r in results["rsyslog"]),
        "runs": results,
    }
    summary["ratio"] = summary["qila_median_rate"] / summary["rsyslog_median_rate"]
    if loaded:
        summary["indicators"] = args.indicators
        summary["qila_indicators_median_rate"] = statistics.median(r["rate"] for r in results["qila_indicators"])
        summary["indicators_rate_share"] = summary["qila_indicators_median_rate"] / summary["qila_median_rate"]
        summary["qila_indicators_lossless"] = all(r["events"] == events and r["refused"] == 0 and r["alerts_match_detect"]
                                                  for r in results["qila_indicators"])
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
