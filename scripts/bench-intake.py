#!/usr/bin/env python3
"""Syslog over TCP into Qila (journal + detection with the full SigmaHQ rule set) and into
rsyslog (Debian) writing a file, in one run on the same stream.

  scripts/bench-intake.py [--streams windows,linux-auth,zeek-conn,auditd,cef] [--events N] [--runs R] [--work DIR] [--indicators K]

The streams, each newline-framed (RFC 6587) and sent over one loopback TCP connection as fast as
the receiver reads:
  windows     the Windows events of corpora/events/security-datasets-100k (flat NXLog JSON) as
              RFC 5424 messages with the JSON as MSG; sensor format json, mapping windows-flat-sysmon
  linux-auth  RFC 3164 lines of sshd, sudo, CRON, su and systemd-logind as /var/log/auth.log has
              them (seeded generator); format text, mapping linux-syslog
  zeek-conn   Zeek conn.log records as JSON in RFC 5424 messages (seeded generator); format json,
              mapping zeek
  auditd      Linux audit records (SYSCALL, EXECVE, PATH, CWD, PROCTITLE, USER_*) as audisp's
              syslog plugin sends them (seeded generator); format auditd, mapping linux-auditd
  cef         a firewall's CEF traffic and threat records behind an RFC 3164 header (seeded
              generator); format cef, mapping firewall
Each is repeated to N events. A run ends when the
receiver has everything: for Qila, when the sensor's committed event count reaches N (journal
synced, rules matched, alerts and checkpoint committed); for rsyslog, when its output file holds
N lines. Rates are N divided by the time from the first byte sent to that moment. Qila's alert
occurrences per rule are checked against `qila detect --format F` on the one-copy file times the
copies.
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


STREAMS = {
    # name: (sensor format, mapping)
    "windows": ("json", "windows-flat-sysmon"),
    "linux-auth": ("text", "linux-syslog"),
    "zeek-conn": ("json", "zeek"),
    "auditd": ("auditd", "linux-auditd"),
    "cef": ("cef", "firewall"),
}


def windows_lines():
    """(framed message, line for qila detect) of each Windows event of the corpus."""
    with gzip.open(CORPUS, "rb") as corpus:
        for line in corpus:
            line = line.strip()
            if line and not (b'"eventSource"' in line and b'"awsRegion"' in line):
                yield b"<134>1 - - nxlog - - - " + line, line


def bsd_time(second):
    return time.strftime("%b %e %H:%M:%S", time.gmtime(1764921600 + second)).encode()


def linux_auth_lines(count, rng):
    users = ["alice", "bilal", "sana", "deploy", "backup", "root", "admin", "oracle", "test", "ubuntu"]
    commands = ["/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update", "/bin/cat /etc/shadow", "/usr/bin/journalctl -u ssh",
                "/usr/bin/docker ps", "/usr/sbin/iptables -L -n", "/usr/bin/crontab -l", "/bin/chmod 777 /tmp/run.sh"]
    for n in range(count):
        host = b"srv%02d" % rng.randrange(1, 21)
        ip = f"{rng.choice([203, 198, 45, 185])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        user = rng.choice(users)
        port = rng.randrange(1024, 65535)
        pid = rng.randrange(1000, 60000)
        kind = rng.random()
        if kind < 0.45:
            program, text = "sshd", rng.choice([
                f"Failed password for invalid user {user} from {ip} port {port} ssh2",
                f"Failed password for {user} from {ip} port {port} ssh2",
                f"Invalid user {user} from {ip} port {port}",
                f"Connection closed by authenticating user {user} {ip} port {port} [preauth]",
                f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{rng.getrandbits(128):032x}",
                f"pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)",
                f"Disconnected from user {user} {ip} port {port}"])
        elif kind < 0.65:
            program, text = "sudo", f"   {user} : TTY=pts/{rng.randrange(8)} ; PWD=/home/{user} ; USER=root ; COMMAND={rng.choice(commands)}"
        elif kind < 0.85:
            program, text = "CRON", rng.choice(["pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
                                                "(root) CMD (run-parts /etc/cron.hourly)", "pam_unix(cron:session): session closed for user root"])
        elif kind < 0.95:
            program, text = "su", f"(to root) {user} on pts/{rng.randrange(8)}"
        else:
            program, text = "systemd-logind", f"New session {rng.randrange(100000)} of user {user}."
        line = b"<86>" + bsd_time(n // 1000) + b" " + host + b" " + program.encode() + b"[%d]: " % pid + text.encode()
        yield line, line


def zeek_conn_lines(count, rng):
    services = [("tcp", 443, "ssl"), ("tcp", 80, "http"), ("udp", 53, "dns"), ("tcp", 22, "ssh"), ("tcp", 445, None), ("udp", 123, "ntp")]
    states = ["SF", "SF", "SF", "S0", "REJ", "RSTO", "OTH"]
    for n in range(count):
        proto, port, service = rng.choice(services)
        record = {"_path": "conn", "ts": 1764921600 + n / 1000, "uid": "C%017x" % rng.getrandbits(68),
                  "id.orig_h": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}", "id.orig_p": rng.randrange(1024, 65535),
                  "id.resp_h": f"{rng.choice([203, 198, 151, 104])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                  "id.resp_p": port, "proto": proto, "duration": round(rng.random() * 30, 6), "orig_bytes": rng.randrange(40, 200000),
                  "resp_bytes": rng.randrange(0, 2000000), "conn_state": rng.choice(states), "local_orig": True, "local_resp": False,
                  "missed_bytes": 0, "history": rng.choice(["ShADadFf", "S", "ShR", "Dd"]), "orig_pkts": rng.randrange(1, 900),
                  "orig_ip_bytes": rng.randrange(40, 220000), "resp_pkts": rng.randrange(0, 1500), "resp_ip_bytes": rng.randrange(0, 2100000)}
        if service:
            record["service"] = service
        body = json.dumps(record, separators=(",", ":")).encode()
        yield b"<134>1 - sensor01 zeek - - - " + body, body


def auditd_lines(count, rng):
    executables = [("/usr/bin/ls", "ls", ["-la"]), ("/usr/bin/curl", "curl", ["-s", "https://example.net/x"]), ("/usr/bin/cat", "cat", ["/etc/passwd"]),
                   ("/usr/bin/python3", "python3", ["-c", "print(1)"]), ("/usr/bin/id", "id", []), ("/usr/sbin/useradd", "useradd", ["svc"]),
                   ("/usr/bin/base64", "base64", ["-d", "/tmp/p.b64"]), ("/usr/bin/systemctl", "systemctl", ["status", "nginx"])]
    n = 0
    serial = 1000
    while n < count:
        serial += 1
        stamp = f"{1764921600 + n // 1000}.{n % 1000:03d}:{serial}"
        path, comm, args = rng.choice(executables)
        uid = rng.choice([0, 1000, 1001, 33])
        records = [
            f'type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1 a1=55d0c2 a2=55d0c3 a3=0 items=2 '
            f'ppid={rng.randrange(1, 9000)} pid={rng.randrange(9000, 60000)} auid={uid} uid={uid} gid={uid} euid={uid} suid={uid} fsuid={uid} '
            f'egid={uid} sgid={uid} fsgid={uid} tty=pts0 ses=3 comm="{comm}" exe="{path}" key="exec"',
            f'type=EXECVE msg=audit({stamp}): argc={len(args) + 1} a0="{comm}"' + "".join(f' a{i + 1}="{a}"' for i, a in enumerate(args)),
            f'type=CWD msg=audit({stamp}): cwd="/home/alice"',
            f'type=PATH msg=audit({stamp}): item=0 name="{path}" inode={rng.randrange(10**6)} dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
            f'type=PROCTITLE msg=audit({stamp}): proctitle=' + (comm + "\x00" + "\x00".join(args)).encode().hex().upper(),
        ]
        if rng.random() < 0.1:
            records.append(f"type=USER_AUTH msg=audit({stamp}): pid={rng.randrange(9000, 60000)} uid=0 auid=4294967295 ses=4294967295 "
                           f"msg='op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.{rng.randrange(1, 255)} "
                           f"addr=203.0.113.{rng.randrange(1, 255)} terminal=ssh res=failed'")
        for record in records:
            if n >= count:
                break
            yield b"<14>1 - srv01 audisp-syslog - - - " + record.encode(), record.encode()
            n += 1


def cef_lines(count, rng):
    for n in range(count):
        src = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        dst = f"{rng.choice([203, 198, 151])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        port = rng.choice([443, 80, 53, 445, 3389, 22, 8080])
        action = rng.choice(["allow", "allow", "allow", "deny", "drop"])
        if rng.random() < 0.9:
            text = (f"CEF:0|Palo Alto Networks|PAN-OS|11.1.0|TRAFFIC|end|3|rt={1764921600000 + n} src={src} dst={dst} spt={rng.randrange(1024, 65535)} "
                    f"dpt={port} proto=TCP act={action} cs1Label=Rule cs1=rule-{rng.randrange(1, 60)} suser=corp\\\\user{rng.randrange(500)} "
                    f"in={rng.randrange(100, 10**6)} out={rng.randrange(100, 10**6)} deviceInboundInterface=ethernet1/1 cs4Label=FromZone cs4=trust")
        else:
            text = (f"CEF:0|Palo Alto Networks|PAN-OS|11.1.0|THREAT|vulnerability|8|rt={1764921600000 + n} src={dst} dst={src} spt={rng.randrange(1024, 65535)} "
                    f"dpt={port} proto=TCP act=reset-both cs1Label=Rule cs1=inbound request=\"/cgi-bin/luci;stok=/locale\" cat=code-execution")
        line = b"<134>" + bsd_time(n // 1000) + b" fw01 " + text.encode()
        yield line, line


def prepare(work, events, stream_name):
    """The stream file (framed messages, N events) and the one-copy file `qila detect` reads."""
    import random
    rng = random.Random(24)
    base = 100_000
    generator = {"windows": lambda: windows_lines(), "linux-auth": lambda: linux_auth_lines(base, rng),
                 "zeek-conn": lambda: zeek_conn_lines(base, rng), "auditd": lambda: auditd_lines(base, rng),
                 "cef": lambda: cef_lines(base, rng)}[stream_name]
    pairs = list(generator())
    one = os.path.join(work, f"{stream_name}.one")
    with open(one, "wb") as out:
        out.write(b"\n".join(line for _, line in pairs) + b"\n")
    copies = -(-events // len(pairs))
    events = copies * len(pairs)
    stream = os.path.join(work, f"{stream_name}.syslog")
    framed = b"".join(message + b"\n" for message, _ in pairs)
    with open(stream, "wb") as out:
        for _ in range(copies):
            out.write(framed)
    return one, stream, events, copies


def qila_template(work, stream_name):
    """A data directory with the authority, a licensee, its syslog sensor and the SigmaHQ rules."""
    data = os.path.join(work, f"qila-template-{stream_name}")
    sensor_format, mapping = STREAMS[stream_name]
    run = lambda *args: subprocess.run([QILA, *args, "--data", data], check=True, capture_output=True, text=True).stdout
    run("admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government")
    run("admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    run("sensors", "add", "--organisation", "Operator A", "--name", "dc", "--transport", "syslog", "--format", sensor_format, "--mapping", mapping,
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
    started = time.time()
    sender = threading.Thread(target=send, args=(port, stream))
    sender.start()
    # Lines written so far, counted as the file grows.
    lines = 0
    position = 0
    while lines < events:
        time.sleep(0.05)
        if os.path.exists(out):
            with open(out, "rb") as written:
                written.seek(position)
                chunk = written.read()
                position += len(chunk)
                lines += chunk.count(b"\n")
        if time.time() - started > 900:
            raise RuntimeError(f"rsyslog: {lines} of {events} lines after 900 s")
    elapsed = time.time() - started
    cpu = cpu_seconds(daemon.pid) - cpu0
    peak = rss_peak(daemon.pid)
    daemon.terminate()
    daemon.wait(timeout=60)
    sender.join()
    return {"events": lines, "seconds": elapsed, "rate": lines / elapsed, "cpu": cpu, "rss_mb": peak}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", default="windows", help="comma-separated: " + ", ".join(STREAMS))
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "qila-bench-intake"))
    parser.add_argument("--indicators", type=int, default=0, help="also run Qila with this many shared indicators active")
    args = parser.parse_args()
    streams = args.streams.split(",")
    unknown = [name for name in streams if name not in STREAMS]
    if unknown:
        sys.exit(f"unknown stream {unknown[0]}: choose from {', '.join(STREAMS)}")
    if not os.path.exists("/usr/sbin/rsyslogd"):
        sys.exit("rsyslog is not installed (apt-get install rsyslog)")
    if not os.path.exists(QILA):
        sys.exit("build first: swift build -c release")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    summaries = {}
    for stream_name in streams:
        summaries[stream_name] = bench_stream(args, stream_name)
    print(json.dumps(summaries if len(summaries) > 1 else summaries[streams[0]], indent=2))


def bench_stream(args, stream_name):
    sensor_format, mapping = STREAMS[stream_name]
    one, stream, events, copies = prepare(args.work, args.events, stream_name)
    print(f"stream {stream_name}: {events} events ({copies} copies of {events // copies}), {os.path.getsize(stream) / 1e6:.0f} MB",
          file=sys.stderr)
    template = qila_template(args.work, stream_name)
    loaded = with_indicators(template, args.work, args.indicators) if args.indicators else None
    detect_out = os.path.join(args.work, f"detect-{stream_name}.jsonl")
    subprocess.run([QILA, "detect", "--quiet", "--rules", RULES, "--format", sensor_format, "--mapping", mapping, one, "--output", detect_out],
                   check=True, capture_output=True)
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
        print(f"{stream_name} rsyslog run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, {result['events']} lines, "
              f"cpu {result['cpu']:.1f} s, rss {result['rss_mb']} MB)", file=sys.stderr)
        results["rsyslog"].append(result)
        subprocess.run(["sync"])
        time.sleep(3)
        result = qila_run(template, args.work, stream, events, index)
        same = result.pop("occurrences") == dict(expected)
        result["alerts_match_detect"] = same
        print(f"{stream_name} qila run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, {result['events']} events, "
              f"refused {result['refused']}, alerts as qila detect: {same}, cpu {result['cpu']:.1f} s, rss {result['rss_mb']} MB)", file=sys.stderr)
        results["qila"].append(result)
        if loaded:
            subprocess.run(["sync"])
            time.sleep(3)
            result = qila_run(loaded, args.work, stream, events, index, name="qila-indicators")
            same = result.pop("occurrences") == dict(expected)
            result["alerts_match_detect"] = same
            print(f"{stream_name} qila with {args.indicators:,} indicators, run {index + 1}: {result['rate']:,.0f} events/s ({result['seconds']:.2f} s, "
                  f"{result['events']} events, refused {result['refused']}, rule alerts as qila detect: {same}, "
                  f"indicator alerts {result['indicator_alerts']}, cpu {result['cpu']:.1f} s, rss at start {result['ready_rss_mb']} MB, "
                  f"peak {result['rss_mb']} MB)", file=sys.stderr)
            results["qila_indicators"].append(result)
    summary = {
        "stream": stream_name,
        "events": events,
        "alerts_per_copy": sum(expected.values()) // copies,
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
    print(f"{stream_name}: qila {summary['qila_median_rate']:,.0f} events/s, rsyslog {summary['rsyslog_median_rate']:,.0f} events/s "
          f"(ratio {summary['ratio']:.2f}), lossless {summary['qila_lossless']}", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
