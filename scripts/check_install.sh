#!/usr/bin/env bash
# A plain `pip install .` (not editable) into a fresh venv, then, from a folder outside the
# source tree: `flask --app wsgi db upgrade` on a fresh SQLite database (the migrations and
# alembic.ini ship with the package), `flask health --ready` (the schema is at the head the
# installed files name), `flask --app wsgi routes` (every module the app imports is
# packaged), then pages, files and emails from the installed package alone: the sign-in page
# in English and Chinese (templates and the compiled catalogue), a stylesheet and a vendored
# script (static files), a digest email's template (journeys), and `flask demo load` (the
# content packs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d /tmp/bj-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip
# Build from a copy, so setuptools' build/ folder never lands in the project.
mkdir "$tmp/src"
tar -C "$root" --exclude=./.venv --exclude=./.git --exclude=./instance --exclude=./build \
    --exclude='*.egg-info' -cf - . | tar -C "$tmp/src" -xf -
"$tmp/venv/bin/python" -m pip install --quiet -c "$root/constraints.txt" "$tmp/src"
rm -rf "$tmp/src"  # nothing below may lean on a source tree
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
export APP_ENV=development INSTANCE_PATH="$tmp/instance" UPLOAD_DIR="$tmp/uploads"
export DATABASE_URL="sqlite:///$tmp/fresh.db"
flask=("$tmp/venv/bin/flask" --app wsgi)
"${flask[@]}" db upgrade
tables=$("$tmp/venv/bin/python" -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])
.execute(\"SELECT count(*) FROM sqlite_master WHERE type = 'table'\").fetchone()[0])" \
    "$tmp/fresh.db")
[ "$tables" -gt 20 ] || { echo "db upgrade made $tables tables" >&2; exit 1; }
"${flask[@]}" health --ready >/dev/null || { "${flask[@]}" health --ready >&2; exit 1; }
routes=$("${flask[@]}" routes)
for endpoint in auth.login diary.timeline studio.content.index interactions.go; do
  grep -q "$endpoint" <<<"$routes" || { echo "installed app lacks $endpoint" >&2; exit 1; }
done
"$tmp/venv/bin/python" - <<'PY'
import sys

import journeys.digests.rendering as rendering
from webapp import create_app

app = create_app("development")
client = app.test_client()
problems = []
for language, words in (("en", "Sign in"), ("zh-CN", "登录")):
    page = client.get("/login", headers={"Accept-Language": language})
    if page.status_code != 200 or words not in page.get_data(as_text=True):
        problems.append(f"/login in {language}: {page.status_code}, {words!r} not on it")
for path in ("/static/css/app.css", "/static/vendor/htmx/htmx.min.js"):
    answer = client.get(path)
    if answer.status_code != 200 or not answer.data:
        problems.append(f"{path}: {answer.status_code}")
    answer.close()
for name in ("digest.html", "digest.txt"):
    rendering.environment().get_template(name)
if "site-packages" not in rendering.__file__:
    problems.append(f"journeys came from {rendering.__file__}, not the installed package")
sys.exit("\n".join(problems) or None)
PY
"${flask[@]}" demo load >/dev/null
echo "pip install . migrates a fresh database ($tables tables, at head), serves" \
     "$(grep -c ' /' <<<"$routes") routes, renders pages in English and Chinese and" \
     "loads the demo"
