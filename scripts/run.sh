#!/usr/bin/env bash
# Start the web app (and, once it exists, the scheduler) for `make run`; Ctrl-C stops all.
set -euo pipefail
host="${1:-127.0.0.1}"; port="${2:-5000}"
cd "$(dirname "$0")/.."
bin=.venv/bin
export SITE_URL="${SITE_URL:-http://$host:$port}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

"$bin/flask" run --host "$host" --port "$port" &
pids+=($!)
if "$bin/flask" --help 2>/dev/null | grep -q "^  scheduler"; then
  "$bin/flask" scheduler run &
  pids+=($!)
fi
sleep 1
cat <<MSG

  Baby Journey is running at http://$host:$port/

  Demo logins (password for all: demo-password):
    expecting, week 20 ........ demo.expecting@example.com
    newborn, 2 weeks .......... demo.newborn@example.com  (timers, a ticket, a survey,
                                her birth club, points)
    preterm (32 wk), 8 months . demo.preterm@example.com
    twins, 2 years ............ demo.twins@example.com
    staff (content studio at /studio): marketer@example.com, reviewer@example.com,
           analyst@example.com, service@example.com (customers, tickets),
           moderator@example.com (birth club), admin@example.com

  Development mode (APP_ENV=development). Emails are not sent: each one (the link that
  confirms a new sign-up, password resets, invitations, digests) is written as a file to
  instance/outbox/ — open the newest .eml there in any mail program or text editor.

  Press Ctrl-C to stop.
MSG
wait
