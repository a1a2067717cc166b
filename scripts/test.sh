#!/usr/bin/env bash
# The whole suite: lint, SQLite (with browser tests) beside PostgreSQL when a server can be
# had, then (CI) the SQLite suite again on a shifted clock, in two halves side by side.
#
#   TEST_DATABASE_URL=...   use that PostgreSQL server instead of starting one
#   REQUIRE_POSTGRES=1      fail (not skip) when PostgreSQL is missing   (CI sets it)
#   REQUIRE_BROWSER=1       fail (not skip) when Chromium is missing     (CI sets it)
#   SHIFTED_CLOCK=WHEN      run the SQLite suite once more with the clock moved to WHEN (CI
#                           sets it): proves no test depends on the day it runs
#   PYTEST_ARGS="-k foo"    extra pytest arguments
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
status=0

run_pytest() {  # pytest's exit code 5 means "no tests ran": that is a failure here
  "$bin/python" -m pytest "$@" ${PYTEST_ARGS:-}
  local rc=$?
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; rc=1; fi
  return "$rc"
}

echo "== Lint, layering contracts, types =="
"$bin/ruff" check . || status=1
"$bin/lint-imports" --no-cache || status=1
"$bin/mypy" || status=1

# Three runs share the machine's two cores: the PostgreSQL suite runs beside the SQLite suite,
# and once the SQLite suite is done the shifted-clock run follows in two halves side by side
# (`--shard`, tests/conftest.py). They share nothing (own databases, free ports). Runs in the
# background write to logs, shown in order when they are done.
logs=$(mktemp -d /tmp/bj-test-logs.XXXXXX)
pgdir=
pg_pid=
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  run_pytest -q -p no:cacheprovider -m "not browser" >"$logs/postgres" 2>&1 &
  pg_pid=$!
elif scripts/postgres.sh check >/dev/null 2>&1; then
  pgdir=$(mktemp -d /tmp/bj-pg.XXXXXX)
  if url=$(scripts/postgres.sh start "$pgdir"); then
    TEST_DATABASE_URL="$url" run_pytest -q -p no:cacheprovider -m "not browser" \
      >"$logs/postgres" 2>&1 &
    pg_pid=$!
  else
    echo "could not start PostgreSQL (log: $pgdir/log)" >&2; status=1; pgdir=
  fi
elif [ -n "${REQUIRE_POSTGRES:-}" ]; then
  echo "REQUIRE_POSTGRES is set but no PostgreSQL server binaries were found" >&2; status=1
else
  echo "PostgreSQL not found: the PostgreSQL part was SKIPPED (install postgresql to run it)."
fi

echo "== SQLite suite (unit, web and browser tests)${pg_pid:+; PostgreSQL runs beside it} =="
TEST_DATABASE_URL= REQUIRE_POSTGRES= run_pytest -q || status=1

shard_pids=()
if [ -n "${SHIFTED_CLOCK:-}" ]; then
  for k in 1 2; do
    TEST_DATABASE_URL= REQUIRE_POSTGRES= run_pytest -q -p no:cacheprovider \
      --clock-at "$SHIFTED_CLOCK" --shard "$k/2" >"$logs/shifted-$k" 2>&1 &
    shard_pids+=($!)
  done
fi

if [ -n "$pg_pid" ]; then
  wait "$pg_pid" || status=1
  echo "== PostgreSQL suite (ran beside the SQLite suite) =="
  cat "$logs/postgres"
  [ -n "$pgdir" ] && scripts/postgres.sh stop "$pgdir"
fi
k=0
for pid in "${shard_pids[@]}"; do
  k=$((k + 1))
  wait "$pid" || status=1
  echo "== SQLite suite again, the clock moved to $SHIFTED_CLOCK UTC: half $k of 2 =="
  cat "$logs/shifted-$k"
done
rm -rf "$logs"
exit $status
