#!/usr/bin/env bash
# Set everything up and run the whole test suite on SQLite, then on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

PG_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "Installing PostgreSQL"
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
}

# Two steps per engine, each in TEST_WORKERS processes (pytest-xdist, whole modules to a
# worker): everything but the browser tests, then the browser tests (Playwright's sync API
# cannot share a process with the async tests once it has started, so they never meet in one
# worker). Both steps use the demo county built once, in the folder MEDIATION_TEST_RUN_DIR names.
WORKERS="${TEST_WORKERS:-2}"

# pytest exits with 5 when it collects no tests: that is a broken suite here, never a pass
# (one step of the two may select nothing when arguments narrow the run).
run_suite() {
  local label="$1"; shift
  echo "=== test suite on ${label} ==="
  local run_dir status_main status_browser
  run_dir="$(mktemp -d)"
  set +e
  env MEDIATION_TEST_RUN_DIR="$run_dir" "$@" -n "$WORKERS" --dist loadfile -m "not browser"
  status_main=$?
  env MEDIATION_TEST_RUN_DIR="$run_dir" "$@" -n "$WORKERS" --dist loadfile -m browser
  status_browser=$?
  set -e
  rm -rf "$run_dir"
  if [ "$status_main" -eq 5 ] && [ "$status_browser" -eq 5 ]; then
    echo "No tests were collected on ${label}: treating as a failure." >&2
    return 1
  fi
  for status in "$status_main" "$status_browser"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then return "$status"; fi
  done
  return 0
}

# Style and types first: they take seconds and say exactly what is wrong.
echo "=== ruff, mypy ==="
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # mediation, benchmarks, tests/helpers.py: [tool.mypy] in pyproject.toml

# Compiled modules are cached in __pycache__ (ignored by git): with PYTHONDONTWRITEBYTECODE
# set, every run compiles the app and re-does pytest's assertion rewriting of each test
# module, which was more than half of collecting the suite.
unset PYTHONDONTWRITEBYTECODE

run_suite "SQLite" env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@"

ensure_postgres
run_suite "PostgreSQL" env TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@"
echo "All tests passed on SQLite and PostgreSQL."
