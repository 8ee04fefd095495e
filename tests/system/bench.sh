#!/usr/bin/env bash
# Starts `baton serve` (release build) on a free loopback port with a fresh data directory,
# runs baton-bench against it with the server's pid, then stops the server with SIGTERM.
# Extra arguments go to baton-bench, e.g.: tests/system/bench.sh --workload all
#   tests/system/bench.sh --scale 0.1          (a quick run, as CI does)
# With SFN_BENCH=1 it also runs ../shared/bench/sfn_bench.py against the same server (its
# failures are reported, not fatal: its choice_loop divides by a server duration that is
# 0 ms on Baton).
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build -q --release -p baton-cli -p baton-bench
DATA="$(mktemp -d "${TMPDIR:-/tmp}/baton-bench-XXXXXX")"
LOG="$DATA/baton.log"
RUST_LOG=warn,baton=info NO_COLOR=1 "$TARGET/release/baton" serve --listen 127.0.0.1:0 --data-dir "$DATA/data" 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 200); do
  ADDRESS="$(grep -o 'address=[^ ]*' "$LOG" | head -n1 | cut -d= -f2 || true)"
  [ -n "$ADDRESS" ] && break
  sleep 0.05
done
[ -n "$ADDRESS" ] || { echo "baton did not start:"; cat "$LOG"; exit 1; }
echo "baton $PID on http://$ADDRESS ($(nproc) cores)"
"$TARGET/release/baton-bench" --endpoint "http://$ADDRESS" --pid "$PID" "$@"
if [ "${SFN_BENCH:-0}" = 1 ] && [ -f ../shared/bench/sfn_bench.py ]; then
  VENV="$TARGET/system-venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c 'import boto3' 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check boto3
  AWS_DISABLE_HOST_PREFIX_INJECTION=true "$VENV/bin/python" ../shared/bench/sfn_bench.py \
    --endpoint "http://$ADDRESS" --workload all --pid "$PID" --label baton \
    || echo "sfn_bench.py exited with $? (a workload failed; see its JSON lines)"
fi
