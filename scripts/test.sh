#!/usr/bin/env bash
# The whole suite: SQLite (with browser tests), then PostgreSQL when a server can be had.
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

echo "== SQLite suite (unit, web and browser tests) =="
TEST_DATABASE_URL= REQUIRE_POSTGRES= run_pytest -q || status=1

# The shifted-clock run and the PostgreSQL run share nothing (their own databases, free
# ports), so they run side by side on the machine's two cores: CI's wall time is one of them,
# not both. The shifted run writes to a log, shown when the PostgreSQL part is done.
shifted_pid=
if [ -n "${SHIFTED_CLOCK:-}" ]; then
  shifted_log=$(mktemp /tmp/bj-shifted.XXXXXX)
  TEST_DATABASE_URL= REQUIRE_POSTGRES= run_pytest -q -p no:cacheprovider \
    --clock-at "$SHIFTED_CLOCK" >"$shifted_log" 2>&1 &
  shifted_pid=$!
fi

echo "== PostgreSQL suite =="
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  run_pytest -q -m "not browser" || status=1
elif scripts/postgres.sh check >/dev/null 2>&1; then
  pgdir=$(mktemp -d /tmp/bj-pg.XXXXXX)
  if url=$(scripts/postgres.sh start "$pgdir"); then
    TEST_DATABASE_URL="$url" run_pytest -q -m "not browser" || status=1
    scripts/postgres.sh stop "$pgdir"
  else
    echo "could not start PostgreSQL (log: $pgdir/log)" >&2; status=1
  fi
elif [ -n "${REQUIRE_POSTGRES:-}" ]; then
  echo "REQUIRE_POSTGRES is set but no PostgreSQL server binaries were found" >&2; status=1
else
  echo "PostgreSQL not found: the PostgreSQL part was SKIPPED (install postgresql to run it)."
fi

if [ -n "$shifted_pid" ]; then
  wait "$shifted_pid" || status=1
  echo "== SQLite suite again, the clock moved to $SHIFTED_CLOCK UTC (ran beside PostgreSQL) =="
  cat "$shifted_log"
  rm -f "$shifted_log"
fi
exit $status
