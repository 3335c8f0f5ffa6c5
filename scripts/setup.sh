#!/usr/bin/env bash
# Install everything the app and its tests need on a fresh Debian machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Pango and HarfBuzz's subsetter for WeasyPrint (fast CJK PDFs), CJK fonts including a
# fallback for rare Ext-B characters, poppler for reading PDFs back in tests, Debian's Chromium
# for browser tests, PostgreSQL client tools (pg_dump/pg_restore for backups; the major version
# must match the server's, which Debian's postgresql-client does for Debian's server).
PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-hanazono
  poppler-utils chromium python3-venv postgresql-client"
missing=""
for pkg in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "Installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# Exact versions (with hashes) from the lock file, then the package itself; pip check fails if
# pyproject.toml asks for something the lock does not hold. After changing dependencies:
#   uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 -o requirements.lock
.venv/bin/python -m pip install -q --require-hashes -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/python -m pip check
