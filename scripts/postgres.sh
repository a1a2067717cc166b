#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, on a free loopback port.
#   postgres.sh check        exit 0 when server binaries exist
#   postgres.sh start DIR    init + start in DIR, print the SQLAlchemy URL
#   postgres.sh stop DIR     stop it
#   postgres.sh down DIR     stop it, keeping its data (fault tests: the database goes away)
#   postgres.sh up DIR       start it again on the same port, after `down`
#   postgres.sh restart DIR  stop (fast: open connections are cut) and start again
# The server refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail
pg_bin() {
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
BIN=$(pg_bin || true)
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  check) [ -n "$BIN" ] && [ -x "$BIN/initdb" ] ;;
  start)
    dir=$2
    [ -n "$BIN" ] || { echo "no PostgreSQL binaries" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
      chown postgres "$dir"
    fi
    as_owner "$BIN/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 >"$dir/init.log" 2>&1
    echo "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      >"$dir/options"
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start -o "$(cat "$dir/options")" \
      >/dev/null
    echo "postgresql+psycopg://app@127.0.0.1:$port/postgres"
    ;;
  down)
    as_owner "$BIN/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
    ;;
  up)
    as_owner "$BIN/pg_ctl" -D "$2/data" -l "$2/log" -w start -o "$(cat "$2/options")" >/dev/null
    ;;
  restart)
    as_owner "$BIN/pg_ctl" -D "$2/data" -l "$2/log" -m fast -w restart \
      -o "$(cat "$2/options")" >/dev/null
    ;;
  stop)
    as_owner "$BIN/pg_ctl" -D "$2/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$2"
    ;;
  *) echo "usage: $0 check|start DIR|stop DIR|down DIR|up DIR|restart DIR" >&2; exit 2 ;;
esac
