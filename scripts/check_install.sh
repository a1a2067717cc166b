#!/usr/bin/env bash
# A plain `pip install .` (not editable) into a fresh venv, then `flask --app wsgi routes`
# from another folder: proves every module the app imports is packaged.
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
cd "$tmp"
routes=$(APP_ENV=development INSTANCE_PATH="$tmp/instance" "$tmp/venv/bin/flask" --app wsgi routes)
for endpoint in auth.login diary.timeline studio.content.index interactions.go; do
  grep -q "$endpoint" <<<"$routes" || { echo "installed app lacks $endpoint" >&2; exit 1; }
done
echo "pip install . serves $(grep -c ' /' <<<"$routes") routes"
