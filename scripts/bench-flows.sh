#!/bin/bash
# bench-flows.sh [RATE] [SECS] [WORKDIR]: the flow-retention benchmark against nfdump (Debian),
# in one run on the same generated data (flowgen.py, same seed, IPFIX, 25 records a datagram).
#   1. ingest: nfcapd, then `qila flows collect`, each receiving RATE flows/s for SECS seconds;
#      flows sent, stored, loss, CPU seconds of the collector, bytes on disk per flow
#   2. query: every flow of one address over all stored flows (nfdump -R DIR "ip ADDR" against
#      Benchmarks' flow-query over Qila's store), warm page cache: medians of PEER_RUNS fresh
#      processes on each side, and of QUERY_RUNS queries in one process (as `qila serve` runs them)
#   3. the two answers compared flow by flow
# Needs: nfdump (apt), python3 with numpy, `swift build -c release` here and in Benchmarks/.
# INGEST_ONLY=1 stops after step 1 (no Benchmarks/ build needed). PROFILE=1 samples the collector
# with `perf record` during its ingest and prints the top entries (linux-perf from Debian).
# QILA_FIRST=1 runs Qila's ingest before nfcapd's (see below).
set -euo pipefail
export TZ=UTC
RATE=${1:-900000}; SECS=${2:-35}; WORK=${3:-/tmp/qila-bench-flows}
HERE=$(cd "$(dirname "$0")/.." && pwd)
KIT=${FLOW_KIT:-$HERE/../shared/corpora/flows}
ADDR=${TARGET_IP:-10.1.82.153}  # a subscriber present in the generator's pooled records (10.0.1.1 is not)
RUNS=${QUERY_RUNS:-9}; PEER_RUNS=${PEER_RUNS:-5}
QILA=$HERE/.build/release/qila; QUERY=$HERE/Benchmarks/.build/release/flow-query
[ -x "$QILA" ] && { [ -x "$QUERY" ] || [ "${INGEST_ONLY:-0}" = 1 ]; } || { echo "build first: swift build -c release; (cd Benchmarks && swift build -c release)" >&2; exit 2; }
command -v nfcapd >/dev/null || { echo "nfdump is not installed (apt-get install nfdump)" >&2; exit 2; }
[ -f "$KIT/flowgen.py" ] || { echo "the flow kit is not at $KIT (set FLOW_KIT)" >&2; exit 2; }
rm -rf "$WORK"; mkdir -p "$WORK"
snmp() { awk '/^Udp:/ && $2 ~ /^[0-9]/ {print $4+$6}' /proc/net/snmp; }

# Each ingest starts with nothing left to write back from the one before (nfcapd writes 3 GB).
settle() { sync; sleep 5; }

nfcapd_ingest() {
settle
echo "== nfcapd ingest ($RATE flows/s, $SECS s)" >&2
POOL=40000 ROT=15 "$KIT/nfdump-ingest.sh" /usr/bin/nfcapd "$RATE" "$SECS" "$WORK/nfcapd" | tee "$WORK/nfcapd.json"
}

qila_ingest() {
settle
echo "== qila ingest ($RATE flows/s, $SECS s)" >&2
E0=$(snmp)
"$QILA" flows collect --data "$WORK/qila" --listen 127.0.0.1:9995 --exporter 127.0.0.1=isp --report 0 > "$WORK/qila-collect.json" 2> "$WORK/qila-collect.err" &
CPID=$!
sleep 2
if [ "${PROFILE:-0}" = 1 ]; then perf record -F 997 -g -o "$WORK/perf.data" -p $CPID > /dev/null 2>&1 & PERF=$!; fi
python3 "$KIT/flowgen.py" --proto ipfix --port 9995 --rate "$RATE" --duration "$SECS" --pool 40000 --stats-out "$WORK/qila-gen.json" > /dev/null
sleep 2
CPU=$(awk '{printf "%.2f", ($14+$15)/100}' /proc/$CPID/stat)
# Where the collector's CPU went, by thread (name: user s + system s, minor page faults), busiest first.
for t in /proc/$CPID/task/*; do awk -v name="$(cat "$t/comm")" '{printf "%s %.2f %.2f %d\n", name, $14/100, $15/100, $10}' "$t/stat"; done \
  | awk '$2+$3 >= 0.05' | sort -k2,2nr | awk '{printf "%s%s: %s user + %s sys, %s faults", sep, $1, $2, $3, $4; sep="; "} END {print ""}' > "$WORK/qila-threads.txt"
echo "== qila collector threads: $(cat "$WORK/qila-threads.txt")" >&2
if [ -n "${PERF:-}" ]; then kill -INT $PERF; wait $PERF || true; fi
kill -TERM $CPID; wait $CPID || true
E1=$(snmp)
"$QILA" flows stats --data "$WORK/qila" > "$WORK/qila-stats.txt"
python3 - "$WORK/qila-gen.json" "$WORK/qila-collect.json" "$WORK/qila" "$CPU" "$((E1-E0))" <<'PY' | tee "$WORK/qila.json"
import json, os, sys
g = json.load(open(sys.argv[1])); c = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(sys.argv[3], "flows")) for f in fs if f.endswith((".open", ".seg")))
print(json.dumps(dict(collector="qila", sent_rate=g["flows_per_s"], sent=g["flows_sent"], stored=c["stored"],
      loss_pct=round(100 * (1 - c["stored"] / g["flows_sent"]), 3), udp_drops=int(sys.argv[5]),
      socket_drops=c.get("kernelDrops"), handoff_overflow=c.get("handoffOverflow"), cpu_s=float(sys.argv[4]),
      secs=g["seconds"], cores=round(float(sys.argv[4]) / g["seconds"], 2), bytes=size, bytes_per_flow=round(size / max(c["stored"], 1), 1))))
PY
if [ -n "${PERF:-}" ]; then
  perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40 > "$WORK/perf-top.txt"
  echo "== collector profile (self time, top entries): $WORK/perf-top.txt" >&2; cat "$WORK/perf-top.txt" >&2
fi
}

# Whichever runs second does so beside the first one's files in the page cache (nfcapd's 3.3 GB at
# 900,000 flows/s). QILA_FIRST=1 swaps the order, so that a series can alternate it and neither
# side always meets the machine as the other left it.
if [ "${QILA_FIRST:-0}" = 1 ]; then qila_ingest; nfcapd_ingest; else nfcapd_ingest; qila_ingest; fi
# Ingest only: the figures are kept, nfcapd's 3 GB of files are not (runs in a row fill a disk).
[ "${INGEST_ONLY:-0}" = 1 ] && { rm -rf "$WORK/nfcapd/data"; exit 0; }

echo "== query: all flows of $ADDR" >&2
for i in $(seq 1 "$PEER_RUNS"); do
  /usr/bin/time -f "%e" nfdump -q -R "$WORK/nfcapd/data" -o csv "ip $ADDR" > "$WORK/nfdump.csv" 2>> "$WORK/nfdump-times.txt"
done
# A fresh process per query, as nfdump runs (page cache warm on both sides)...
for i in $(seq 1 "$PEER_RUNS"); do "$QUERY" "$WORK/qila/flows" "$ADDR" 1 > /dev/null 2>> "$WORK/qila-fresh.txt"; done
# ...and RUNS queries in one process, as `qila serve` answers them (segment readers kept).
"$QUERY" "$WORK/qila/flows" "$ADDR" "$RUNS" > "$WORK/qila.csv" 2> "$WORK/qila-times.txt"
python3 - "$WORK" "$ADDR" <<'PY'
import csv, datetime, json, statistics, sys
work, addr = sys.argv[1], sys.argv[2]
times = [float(l) for l in open(f"{work}/nfdump-times.txt") if l.strip() and l.strip()[0].isdigit()]
q = open(f"{work}/qila-times.txt").read().split()
qmed = float(q[q.index("median_s") + 1])
fresh = [float(l.split()[l.split().index("median_s") + 1]) for l in open(f"{work}/qila-fresh.txt") if "median_s" in l]
def sec(text):  # nfdump's CSV gives whole seconds in local time (run with TZ=UTC)
    d = datetime.datetime.strptime(text.strip()[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp())
import collections
peer = collections.Counter()  # the two ingests ran at different times: flows compared without their times
with open(f"{work}/nfdump.csv") as f:
    for row in csv.reader(f):
        if len(row) < 13 or not row[0][:1].isdigit(): continue
        # ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,...
        peer[(row[3], row[4], int(row[5]), int(row[6]), row[7], int(row[11]), int(row[12]))] += 1
ours = collections.Counter()
proto = {"6": "TCP", "17": "UDP", "1": "ICMP"}
for line in open(f"{work}/qila.csv"):
    s, e, sa, da, sp, dp, pr, pk, by = line.strip().split(",")
    ours[(sa, da, int(sp), int(dp), proto.get(pr, pr), int(pk), int(by))] += 1
nfmed = statistics.median(times)
fmed = statistics.median(fresh)
print(json.dumps(dict(address=addr, nfdump_runs=times, nfdump_median_s=nfmed, qila_median_s=qmed,
      speedup=round(nfmed / qmed, 1), qila_fresh_process_runs=fresh, qila_fresh_median_s=fmed, speedup_fresh_process=round(nfmed / fmed, 1), nfdump_flows=sum(peer.values()), qila_flows=sum(ours.values()), same=peer == ours,
      only_nfdump=sum((peer - ours).values()), only_qila=sum((ours - peer).values()))))
PY
cat "$WORK/qila-times.txt" >&2
