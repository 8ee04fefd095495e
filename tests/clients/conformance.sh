#!/usr/bin/env bash
# Scores `baton serve` on the recorded-on-AWS conformance cases through the public API
# (../shared/conformance/run.py with boto3). It measures and never fails the build: it prints
# the score per category and writes the full report to $TARGET/conformance-server.json.
# Usage: tests/clients/conformance.sh [run.py args, e.g. --strict-events]
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${SHARED:-../shared}"
if [ ! -f "$SHARED/conformance/run.py" ]; then
  echo "no conformance cases at $SHARED/conformance: skipped"
  exit 0
fi
source tests/clients/venv.sh
cargo build --quiet -p baton-cli

DATA="$(mktemp -d)"
LOG="$DATA/baton.log"
"$TARGET/debug/baton" serve --listen 127.0.0.1:0 --data-dir "$DATA" </dev/null >/dev/null 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
ADDRESS=""
for _ in $(seq 1 500); do
  ADDRESS="$(grep -o 'address=[^ ]*' "$LOG" | head -n1 | cut -d= -f2 || true)"
  [ -n "$ADDRESS" ] && break
  kill -0 $PID 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.01
done
[ -n "$ADDRESS" ] || { echo "baton did not start"; cat "$LOG"; exit 1; }

REPORT="$TARGET/conformance-server.json"
"$VENV/bin/python" "$SHARED/conformance/run.py" --endpoint "http://$ADDRESS" \
  --cases "$SHARED/conformance/cases" --workers 4 --json "$REPORT" "$@" >"$TARGET/conformance-server.txt" 2>&1
# The runner's own last line reads like a test summary; print the score in other words so that
# a measurement is never mistaken for test results.
"$VENV/bin/python" - "$REPORT" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for category, c in sorted(report["by_category"].items()):
    total = c["passed"] + c["failed"]
    print(f"  {category:20} {c['passed']:4} of {total:4}" + (f" ({c['skipped']} skipped)" if c["skipped"] else ""))
s = report["summary"]
print(f"server conformance score: {s['passed']} of {s['passed'] + s['failed']} cases ({s['skipped']} skipped)")
PY
