#!/usr/bin/env bash
# Requests/s of the public home page and the password range API under wrk on loopback, against
# nginx serving the very same bytes as static files, in the same run (rounds alternating).
#
#   scripts/bench-public.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults: 5 rounds of 10 s, 64 connections)
#
# Qila: a release build, SQLite, plain HTTP (--no-tls, as behind a TLS-terminating proxy; nginx
# serves plain HTTP too), with three guides and two alerts published, the home page in English.
# The range answer is for prefix 5BAA6 over the shipped blocklist and a breached-password file of
# 200,000 random hashes plus 900 of that prefix (about what Pwned Passwords answers for a prefix,
# 36 KB), without padding. nginx: Debian's,
# worker_processes auto, access log off, sendfile on. wrk runs on the same two cores as the server
# measured (the other server idle meanwhile): the figures are a ratio on this machine, not a capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${2:-10}
connections=${3:-64}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "install nginx (apt-get install nginx-light)"; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
swift build -c release --product qila >/dev/null 2>&1
qila="$(swift build -c release --show-bin-path 2>/dev/null)/qila"
port=18580
nginx_port=18581
base="http://127.0.0.1:$port"
password="lantern orchard velvet ninety"
data=$(mktemp -d)
static=$(mktemp -d)

# A breached-password file in the Pwned Passwords format, sorted, CRLF, seeded.
python3 - "$data/breached.txt" <<'PY'
import random, sys
rng = random.Random(22)
hashes = {"%040X" % rng.getrandbits(160) for _ in range(200_000)}
hashes |= {"5BAA6" + "%035X" % rng.getrandbits(140) for _ in range(900)}
with open(sys.argv[1], "w", newline="") as out:
    for value in sorted(hashes):
        out.write(f"{value}:{rng.randint(1, 50000)}\r\n")
PY
QILA_BREACHED_PASSWORDS="$data/breached.txt" "$qila" serve --data "$data" --port "$port" --no-tls --flows-listen off --syslog-udp off --syslog-tcp off >"$data/out.log" 2>"$data/err.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -f "$static/nginx.pid" ] && kill "$(cat "$static/nginx.pid")" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

# The first administrator publishes what a national alert day would show.
link=$(grep -o '/setup/[A-Za-z0-9_-]*' "$data/out.log" | head -n 1)
curl -s -o /dev/null -X POST "$base$link" --data-urlencode organisation=NCA --data-urlencode displayName=Admin \
  --data-urlencode username=admin --data-urlencode "password=$password"
# The session cookie is a __Host- cookie, which curl's cookie jar keeps only over HTTPS: carry it by hand.
cookie=$(curl -s -D - -o /dev/null -X POST "$base/sign-in" --data-urlencode username=admin --data-urlencode "password=$password" \
  | grep -io '^set-cookie: [^;]*' | head -n 1 | sed 's/^[Ss]et-[Cc]ookie: //')
csrf=$(curl -s -H "Cookie: $cookie" "$base/profile" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"//')
[ -n "$csrf" ] || { echo "could not sign in"; exit 1; }
publish() {
  curl -s -o /dev/null -H "Cookie: $cookie" "$base/admin/public/publications" --data-urlencode "_csrf=$csrf" --data-urlencode "kind=$1" \
    --data-urlencode "slug=$2" --data-urlencode "title=$3" --data-urlencode "body=$4"
}
body="Criminals call pretending to be your bank and ask for the **one-time code** sent by SMS. Hang up.

- Banks never ask for codes
- Call the number on your card
- Report it on this portal"
publish guide protect-your-accounts "Protect your accounts" "$body"
publish guide back-up-your-files "Back up your files" "$body"
publish guide spot-a-scam-call "Spot a scam call" "$body"
publish alert fake-courier-sms "Fake courier SMS asking for a customs fee" "$body"
publish alert bank-otp-calls "Calls asking for bank one-time codes" "$body"

# The same bytes for nginx: the page as Qila renders it, and one range answer.
curl -s -H 'Accept-Language: en' "$base/public/" -o "$static/index.html"
curl -s "$base/api/v1/public/passwords/range/5BAA6" -o "$static/range.txt"
grep -q "Fake courier SMS" "$static/index.html" || { echo "the home page does not show the alerts"; exit 1; }
# nginx's workers run as another user: let them read the folder.
chmod 755 "$static"
chmod 644 "$static/index.html" "$static/range.txt"
cat >"$static/nginx.conf" <<CONF
worker_processes auto;
pid $static/nginx.pid;
error_log $static/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; text/plain txt; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $static;
    location = / { try_files /index.html =404; }
  }
}
CONF
"$nginx_bin" -c "$static/nginx.conf" -p "$static"
for _ in $(seq 50); do curl -s "http://127.0.0.1:$nginx_port/range.txt" >/dev/null 2>&1 && break; sleep 0.1; done
cmp -s "$static/index.html" <(curl -s "http://127.0.0.1:$nginx_port/") || { echo "nginx serves other bytes"; exit 1; }

measure() { # url -> requests/s
  wrk -t2 -c"$connections" -d"${seconds}s" -H 'Accept-Language: en' "$1" | awk '/Requests\/sec/ {print $2}'
}
declare -a qp qr np nr
for round in $(seq "$rounds"); do
  qp+=("$(measure "$base/public/")")
  np+=("$(measure "http://127.0.0.1:$nginx_port/")")
  qr+=("$(measure "$base/api/v1/public/passwords/range/5BAA6")")
  nr+=("$(measure "http://127.0.0.1:$nginx_port/range.txt")")
  echo "round $round: page qila ${qp[-1]} nginx ${np[-1]}; range qila ${qr[-1]} nginx ${nr[-1]} requests/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mqp=$(median "${qp[@]}"); mnp=$(median "${np[@]}"); mqr=$(median "${qr[@]}"); mnr=$(median "${nr[@]}")
echo "page ($(wc -c <"$static/index.html") bytes): qila $mqp, nginx $mnp requests/s (median of $rounds); qila/nginx = $(awk "BEGIN {printf \"%.2f\", $mqp/$mnp}")"
echo "range ($(wc -c <"$static/range.txt") bytes): qila $mqr, nginx $mnr requests/s (median of $rounds); qila/nginx = $(awk "BEGIN {printf \"%.2f\", $mqr/$mnr}")"
