#!/bin/sh
# Runs before every container's command. With MIGRATE_ON_START=1 (the web service), the
# schema is brought to head first: `flask db upgrade` takes a PostgreSQL advisory lock, so
# several web containers starting together migrate once (the others wait, then find it done).
set -eu
if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
  flask db upgrade
fi
exec "$@"
