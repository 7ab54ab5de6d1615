#!/usr/bin/env bash
# Starts a throw-away PostgreSQL on 127.0.0.1 for the contract tests and prints its URL.
#   scripts/test-postgres.sh start [DIR]   -> prints postgres://... (export it as QILA_TEST_POSTGRES_URL)
#   scripts/test-postgres.sh stop [DIR]
# Uses Debian's postgresql package (installed by .ci/run); runs the server as the postgres user.
set -euo pipefail
action=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/qila-test-postgres}
# A free loopback port unless one is given; remembered in the data directory for `stop`.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$action" in
start)
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port=${QILA_TEST_POSTGRES_PORT:-$(free_port)}
    echo "$port" > "$dir/qila-port"
    if ! as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300 -c autovacuum=off" start >/dev/null; then
      echo "PostgreSQL did not start; its log says:" >&2
      tail -n 20 "$dir/server.log" >&2
      exit 1
    fi
  fi
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/qila-port")/postgres"
  ;;
stop)
  as_postgres "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
