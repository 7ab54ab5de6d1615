#!/usr/bin/env bash
# Side by side, on one core each: `qila detect` and the Sigma-on-SQLite peer
# (../shared/baselines/sigma-sqlite) on the same events and the same SigmaHQ Windows rules,
# then the rule-by-rule cross-check of their matches.
#
#   scripts/bench-detect.sh [WORKDIR]
#
# Environment: QILA_RUNS (default 5) and PEER_RUNS (default 1; one peer run takes about 2-3 min);
# QILA_MAPPING (default windows-flat-sysmon, the Sysmon taxonomy the peer converts to; windows-flat
# also covers Security 4688 as process creation).
# The peer's Python packages come from PyPI into WORKDIR/venv on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$root/../shared" && pwd)
work=${1:-${TMPDIR:-/tmp}/qila-bench-detect}
qila_runs=${QILA_RUNS:-5}
peer_runs=${PEER_RUNS:-1}
mkdir -p "$work"

if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q pySigma==2.0.1 pySigma-backend-sqlite==2.1.1 orjson
fi
if [ ! -f "$work/converted_rules_windows.json" ]; then
  (cd "$work" && venv/bin/python "$shared/baselines/sigma-sqlite/convert_rules.py" "$shared/corpora/sigma/rules")
fi
if [ ! -f "$work/events.jsonl" ]; then
  zcat "$shared/corpora/events/security-datasets-100k.jsonl.gz" > "$work/events.jsonl"
fi

(cd "$root" && swift build -c release --product qila >&2)
qila="$(cd "$root" && swift build -c release --show-bin-path)/qila"

for i in $(seq "$qila_runs"); do
  echo "qila run $i" >&2
  taskset -c 0 /usr/bin/time -f "peak_rss_kb %M wall_s %e" "$qila" detect --quiet \
    --rules "$shared/corpora/sigma/rules" --mapping "${QILA_MAPPING:-windows-flat-sysmon}" "$work/events.jsonl" \
    --output "$work/alerts.jsonl" 2> "$work/qila-$i.log"
done
for i in $(seq "$peer_runs"); do
  echo "peer run $i" >&2
  taskset -c 0 /usr/bin/time -f "peak_rss_kb %M wall_s %e" "$work/venv/bin/python" \
    "$shared/baselines/sigma-sqlite/run_sqlite_baseline.py" "$work/events.jsonl" \
    "$work/converted_rules_windows.json" 0 > "$work/peer-$i.log" 2>&1
done

python3 - "$work" "$qila_runs" "$peer_runs" <<'EOF'
import json, re, statistics, sys
work, qruns, pruns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def field(text, pattern):
    return float(re.search(pattern, text).group(1))
q = [open(f"{work}/qila-{i}.log").read() for i in range(1, qruns + 1)]
p = [open(f"{work}/peer-{i}.log").read() for i in range(1, pruns + 1)]
events = int(field(q[0], r"events: (\d+) read"))
q_match = statistics.median(field(t, r"time: ([\d.]+) s matching") for t in q)
q_compile = statistics.median(field(t, r"([\d.]+) s compiling") for t in q)
q_wall = statistics.median(field(t, r"wall_s ([\d.]+)") for t in q)
q_rss = max(field(t, r"peak_rss_kb (\d+)") for t in q) / 1024
peer = [json.loads(t[t.index("{"):t.index("\n}") + 2]) for t in p]
p_e2e = statistics.median(r["end_to_end_s"] for r in peer)
p_rules = statistics.median(r["rule_exec_s"] for r in peer)
p_rss = max(field(t, r"peak_rss_kb (\d+)") for t in p) / 1024
print(json.dumps({
  "events": events,
  "qila_runs": qruns, "peer_runs": pruns,
  "qila_rules_loaded": int(field(q[0], r"rules: (\d+) loaded")),
  "peer_queries": peer[0]["rules_run"],
  "qila_matching_s_median": q_match, "qila_events_per_s_matching": round(events / q_match),
  "qila_rule_compile_s_median": q_compile,
  "qila_process_wall_s_median": q_wall, "qila_events_per_s_whole_process": round(events / q_wall),
  "qila_peak_rss_mb": round(q_rss),
  "peer_end_to_end_s_median": p_e2e, "peer_events_per_s_end_to_end": round(events / p_e2e),
  "peer_rules_only_events_per_s": round(events / p_rules),
  "peer_peak_rss_mb": round(p_rss),
  "ratio_matching_vs_peer_end_to_end": round(p_e2e / q_match, 1),
  "ratio_whole_process_vs_peer_end_to_end": round(p_e2e / q_wall, 1),
}, indent=1))
EOF
python3 "$root/scripts/sigma-crosscheck.py" "$work/events.jsonl" "$work/converted_rules_windows.json" "$work/alerts.jsonl"
