#!/usr/bin/env bash
# Set everything up and start the app on SQLite with the demo county.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m mediation demo
# A TrueType copy of the CJK print face: smaller, faster PDFs (one-off, about 80 s).
.venv/bin/python -m mediation.documents.pdf build-font
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
echo
echo "Open http://${HOST}:${PORT}/ and sign in as admin, grid1, police1, mediator1, centre1"
echo "or handler1 with the password mediation-demo."
exec .venv/bin/python -m mediation serve --host "$HOST" --port "$PORT"
