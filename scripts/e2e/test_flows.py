"""`qila flows collect` as a provider runs it: IPFIX over real UDP, then `kill -9` (nothing but
the last durability interval may be lost, the open segment recovers, verify holds) and a disk
that fills up (intake stops with an alarm, nothing already stored is damaged)."""
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time

from conftest import BINARY

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4), (2, 8), (1, 8), (152, 8), (153, 8)]


def template(domain):
    body = struct.pack("!HH", 256, len(FIELDS)) + b"".join(struct.pack("!HH", e, l) for e, l in FIELDS)
    tset = struct.pack("!HH", 2, 4 + len(body)) + body
    return struct.pack("!HHIII", 10, 16 + len(tset), int(time.time()), 0, domain) + tset


def data(domain, sequence, first, count):
    now = int(time.time() * 1000)
    records = b""
    for i in range(first, first + count):
        src = (10 << 24) | (i % 5000)
        records += struct.pack("!IIHHBBBIIQQQQ", src, 0x08080808, 40000 + i % 20000, 443, 6, 0x1B, 0, 2, 1, 10, 5000 + i, now - 2000, now - 1000)
    body = struct.pack("!HH", 256, 4 + len(records)) + records
    return struct.pack("!HHIII", 10, 16 + len(body), now // 1000, sequence, domain) + body


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir, port, extra=(), prefix=()):
    return subprocess.Popen(
        [*prefix, BINARY, "flows", "collect", "--data", data_dir, "--listen", f"127.0.0.1:{port}",
         "--exporter", "127.0.0.1=isp", "--interval", "0.5", "--report", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def send(port, first, datagrams, per=20):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(template(1), ("127.0.0.1", port))
        for n in range(datagrams):
            s.sendto(data(1, first + n * per, first + n * per, per), ("127.0.0.1", port))
            time.sleep(0.0005)
    return datagrams * per


def stored(data_dir):
    out = subprocess.run([BINARY, "flows", "stats", "--data", data_dir], capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("isp\t")]
    return int(line[0].split("\t")[3]) if line else 0


def verify(data_dir):
    return subprocess.run([BINARY, "flows", "verify", "--data", data_dir], capture_output=True, text=True)


def test_kill_9_loses_at_most_the_last_interval():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        collector = start(tmp, port)
        time.sleep(1.0)
        durable = send(port, 0, 200)  # 4,000 flows
        time.sleep(1.6)  # more than three durability intervals
        send(port, durable, 50)  # these may be lost with the kill
        collector.send_signal(signal.SIGKILL)
        collector.wait()
        count = stored(tmp)
        assert durable <= count <= durable + 1000, count
        result = verify(tmp)
        assert result.returncode == 0, result.stdout + result.stderr
        # A restart recovers the open segment and goes on appending to it.
        collector = start(tmp, port)
        time.sleep(1.0)
        more = send(port, 100_000, 100)
        time.sleep(1.2)
        collector.send_signal(signal.SIGTERM)
        _, err = collector.communicate(timeout=20)
        assert "recovered" in err, err
        assert stored(tmp) == count + more
        assert verify(tmp).returncode == 0


def test_full_disk_stops_intake_with_an_alarm_and_damages_nothing():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        # The installation (its database and key file) exists before the disk fills: the collector
        # signs the segment chain with the installation's key, which it reads from the database.
        subprocess.run([BINARY, "keys", "show", "--data", tmp], check=True, capture_output=True)
        # A file-size limit makes writes beyond 50 kB fail as a full disk would.
        collector = start(tmp, port, prefix=("prlimit", "--fsize=50000"))
        time.sleep(1.0)
        for round_ in range(12):
            send(port, round_ * 2000, 100)
            time.sleep(0.6)
        collector.send_signal(signal.SIGTERM)
        out, err = collector.communicate(timeout=20)
        assert "ALARM: disk full" in err, err
        summary = out.strip().splitlines()[-1]
        refused = int(re.search(r'"refused":(\d+)', summary).group(1))
        kept = int(re.search(r'"stored":(\d+)', summary).group(1))
        assert refused > 0 and kept > 0, summary
        assert stored(tmp) == kept
        result = verify(tmp)
        assert result.returncode == 0, result.stdout + result.stderr
