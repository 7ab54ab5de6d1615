#!/usr/bin/env bash
# Requests/s and latency of an authenticated API read under wrk on loopback, with the policy
# check and the audit append on and off, against a release build of qila on SQLite over HTTPS.
#
#   scripts/bench-api.sh [ROUNDS] [SECONDS]     (defaults: 3 rounds of 10 s per configuration)
#   OLD_QILA=/path/to/older/release/qila scripts/bench-api.sh 5 10
#
# With OLD_QILA, the production configuration is also measured with that binary, on its own
# data directory, in the same run, rounds alternating with the current one: the ratio is the
# change's cost on this machine at this moment.
#
# The read is GET /api/v1/organisations/{id} by an authority analyst's API token for another
# organisation: token lookup, policy decision, and (when on) an audit entry for the
# cross-tenant read, group-committed to SQLite with synchronous=FULL.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
swift build -c release --product qila >/dev/null
qila="$(swift build -c release --show-bin-path)/qila"
port=18543
base="https://127.0.0.1:$port"
password="lantern orchard velvet ninety"

start() {
  "$qila" serve --data "$data" --port "$port" "$@" >"$data/out.log" 2>"$data/err.log" &
  pid=$!
  for _ in $(seq 100); do curl -sk "$base/healthz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "server did not start"; cat "$data/err.log"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

# Sets up an installation for "$qila" in a new "$data": an administrator, Operator A, an
# analyst with a read token; leaves $token and $url set. Forms answer with a redirect (newer
# binaries) or the page itself (older ones); curl -L reads either.
prepare() {
data=$(mktemp -d)
start
  link=$(grep -o '/setup/[A-Za-z0-9_-]*' "$data/out.log" | head -n 1)
  curl -sk -o /dev/null -X POST "$base$link" --data-urlencode organisation=NCA --data-urlencode displayName=Admin \
    --data-urlencode username=admin --data-urlencode "password=$password"
  jar="$data/jar"
  curl -sk -c "$jar" -o /dev/null -X POST "$base/sign-in" --data-urlencode username=admin --data-urlencode "password=$password"
  csrf=$(curl -sk -b "$jar" "$base/profile" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"//')
  admin_token=$(curl -sk -L -b "$jar" "$base/profile/tokens" --data-urlencode "_csrf=$csrf" -d 'name=bench&scope=read&scope=write&days=1' \
    | grep -o 'qila_[A-Za-z0-9_-]*' | head -n 1)
  api() { curl -sk -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' "$@"; }
  org=$(api -X POST "$base/api/v1/organisations" -d '{"name":"Operator A","kind":"licensee","sector":"telecom"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  authority=$(api "$base/api/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["organisation"]["id"])')
  stop
  # Roles are granted from the shell (granting needs a second factor on the web).
  "$qila" admin create-user --data "$data" --organisation NCA --username analyst2 --name "Analyst Two" --role authority-analyst --clearance amber >/dev/null
  start
  jar2="$data/jar2"
  # The analyst signs in with a password set through a set-up link.
  setup=$("$qila" admin setup-link --data "$data" --username analyst2)
  curl -sk -o /dev/null -X POST "$base/setup/${setup##*/setup/}" --data-urlencode "password=$password"
  curl -sk -c "$jar2" -o /dev/null -X POST "$base/sign-in" --data-urlencode username=analyst2 --data-urlencode "password=$password"
  csrf2=$(curl -sk -b "$jar2" "$base/profile" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"//')
  token=$(curl -sk -L -b "$jar2" "$base/profile/tokens" --data-urlencode "_csrf=$csrf2" -d 'name=bench&scope=read&days=1' \
    | grep -o 'qila_[A-Za-z0-9_-]*' | head -n 1)
  stop
  url="$base/api/v1/organisations/$org"
}

declare -A flags=(
  ["policy+audit"]=""
  ["policy only"]="--benchmark-unsafe-skip-read-audit"
  ["neither"]="--benchmark-unsafe-skip-policy --benchmark-unsafe-skip-read-audit"
)
round_of() {  # LABEL ROUND: one measured round against the running server
  out=$(wrk -t1 -c16 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.2f", v}'; }
  p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
  errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || true)
  [ -z "$errors" ] || echo "# $1 round $2: $errors"
  echo "$1,$2,$rps,$p50,$p99"
}
warm() {
  code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
  [ "$code" = 200 ] || { echo "the read answered $code"; exit 1; }
  wrk -t1 -c16 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null
}

qila_new=$qila
prepare
new_data=$data new_token=$token new_url=$url
if [ -n "${OLD_QILA:-}" ]; then
  qila=$OLD_QILA
  prepare
  old_data=$data old_token=$token old_url=$url
  qila=$qila_new
fi
printf '%s\n' "configuration,round,requests_per_s,p50_ms,p99_ms"
for config in "policy+audit" "policy only" "neither"; do
  for round in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    qila=$qila_new data=$new_data token=$new_token url=$new_url
    start ${flags[$config]}
    [ "$round" = 1 ] && warm
    round_of "$config" "$round"
    stop
    if [ -n "${OLD_QILA:-}" ] && [ "$config" = "policy+audit" ]; then
      qila=$OLD_QILA data=$old_data token=$old_token url=$old_url
      start
      [ "$round" = 1 ] && warm
      round_of "$config (older binary)" "$round"
      stop
    fi
  done
done
qila=$qila_new data=$new_data
entries=$("$qila" audit verify --data "$data" 2>/dev/null | head -n 1)
echo "# audit log afterwards: $entries"
rm -rf "$new_data" ${old_data:+"$old_data"}
