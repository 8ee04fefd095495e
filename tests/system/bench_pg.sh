#!/usr/bin/env bash
# Node-level figures for Baton on PostgreSQL (release builds), next to SQLite:
#   1. SQLite: one `baton serve` with a fresh data directory;
#   2. PostgreSQL, one node (n1) on a fresh database;
#   3. PostgreSQL, three nodes (n1..n3) on another fresh database, baton-bench spreading its
#      requests over the three endpoints round-robin, plus `xcallback` (callback across nodes).
# Workloads: start, transitions, callback (and xcallback with three nodes). Prints each
# baton-bench output, then one table; drops the databases and stops every process it started.
# Extra arguments go to baton-bench, e.g.: tests/system/bench_pg.sh --scale 0.2
# Environment: PG_HOST (127.0.0.1), PG_PORT (5432), PG_USER (postgres);
# CARGO_TARGET_DIR (default /work/target-bench); BENCH_BUILD=0 skips the build;
# BENCH_CONFIGS (default "sqlite pg1 pg3") picks the configurations.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-/work/target-bench}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
CONFIGS="${BENCH_CONFIGS:-sqlite pg1 pg3}"
if [ "${BENCH_BUILD:-1}" = 1 ]; then
  CARGO_TARGET_DIR="$TARGET" nice cargo build -q --release -p baton-cli -p baton-bench
fi
BATON="$TARGET/release/baton"
BENCH="$TARGET/release/baton-bench"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/baton-bench-pg-XXXXXX")"
PIDS=()
DATABASES=()

psql_admin() {
  PGOPTIONS="-c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -c "$1"
}

stop_nodes() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    # A node that does not stop within 10 s is killed.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

cleanup() {
  stop_nodes
  local db
  for db in "${DATABASES[@]}"; do
    psql_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || echo "could not drop $db"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fresh_database SUFFIX: creates an empty database; sets URL.
fresh_database() {
  local db="baton_bench_$$_$1"
  DATABASES+=("$db")
  psql_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
  psql_admin "CREATE DATABASE \"$db\""
  URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$db"
}

# start_node NAME [baton serve flags...]: starts a node on a free loopback port; appends its
# address to ENDPOINTS.
start_node() {
  local name="$1"
  shift
  local log="$WORK/$name.log"
  RUST_LOG=warn,baton=info NO_COLOR=1 "$BATON" serve --listen 127.0.0.1:0 \
    --data-dir "$WORK/$name-data" "$@" 2>"$log" &
  local pid=$!
  PIDS+=("$pid")
  local address=""
  for _ in $(seq 1 400); do
    address="$(grep -o 'address=[^ ]*' "$log" | head -n1 | cut -d= -f2 || true)"
    [ -n "$address" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$address" ] || { echo "node $name did not start:"; cat "$log"; exit 1; }
  echo "node $name: pid $pid on http://$address"
  ENDPOINTS="${ENDPOINTS:+$ENDPOINTS,}http://$address"
}

HAS_NODE_ID=0
"$BATON" serve --help | grep -q -- '--node-id' && HAS_NODE_ID=1
node_flags() {
  [ "$HAS_NODE_ID" = 1 ] && echo "--node-id $1"
  return 0
}

FAILED=0
# run_bench CONFIG WORKLOADS [extra baton-bench arguments]
run_bench() {
  local config="$1" workloads="$2"
  shift 2
  local load
  load="$(uptime | sed 's/.*load average: //')"
  echo "$load" >"$WORK/$config.load"
  echo "== $config: $ENDPOINTS (load average before: $load)"
  "$BENCH" --endpoint "$ENDPOINTS" --workload "$workloads" --timeout 300 "$@" \
    | tee "$WORK/$config.out" || FAILED=1
}

for config in $CONFIGS; do
  ENDPOINTS=""
  case "$config" in
    sqlite)
      start_node sqlite
      run_bench sqlite start,transitions,callback "$@"
      ;;
    pg1)
      fresh_database 1
      # shellcheck disable=SC2046
      start_node pg1-n1 --database "$URL" $(node_flags n1)
      run_bench pg1 start,transitions,callback "$@"
      ;;
    pg3)
      if [ "$HAS_NODE_ID" != 1 ]; then
        echo "== pg3: skipped (this baton serve has no --node-id: several nodes do not share work yet)"
        continue
      fi
      fresh_database 3
      for n in 1 2 3; do
        start_node "pg3-n$n" --database "$URL" --node-id "n$n"
      done
      run_bench pg3 start,transitions,callback,xcallback "$@"
      ;;
    *) echo "unknown configuration $config"; exit 2 ;;
  esac
  stop_nodes
  if grep -qiE 'panic|ERROR' "$WORK"/"$config"*.log 2>/dev/null; then
    echo "-- $config: errors in the node logs:"
    grep -hiE 'panic|ERROR' "$WORK"/"$config"*.log | head -n 20
  fi
done

# field FILE WORKLOAD PATTERN: the first match of PATTERN (grep -o) in the WORKLOAD line.
field() {
  [ -f "$1" ] || { echo "-"; return; }
  local line
  line="$(grep "^$2: " "$1" | head -n1 || true)"
  line="${line#*: }"
  case "$line" in
    "") echo "-" ;;
    *FAILED*) echo "FAILED" ;;
    *) echo "$line" | grep -oE "$3" | head -n1 | sed 's/^[a-z0-9]*=//' ;;
  esac
}

echo
echo "cores: $(nproc); baton-bench arguments: ${*:-(none)}"
printf '%-10s | %-9s | %-13s | %-13s | %-19s | %-19s | %s\n' \
  config "start/s" "transitions/s" "executions/s" "callback p50/p99" "xcallback p50/p99" \
  "load before (1/5/15 min)"
for config in $CONFIGS; do
  out="$WORK/$config.out"
  [ -f "$out" ] || continue
  start="$(field "$out" start '^[0-9]+')"
  transitions="$(field "$out" transitions '^[0-9]+')"
  executions="$(field "$out" transitions '[0-9]+ executions/s' | cut -d' ' -f1)"
  cb50="$(field "$out" callback 'p50=[0-9.]+ms')"
  cb99="$(field "$out" callback 'p99=[0-9.]+ms')"
  xcb50="$(field "$out" xcallback 'p50=[0-9.]+ms')"
  xcb99="$(field "$out" xcallback 'p99=[0-9.]+ms')"
  printf '%-10s | %-9s | %-13s | %-13s | %-19s | %-19s | %s\n' "$config" "$start" \
    "$transitions" "$executions" "$cb50 / $cb99" "$xcb50 / $xcb99" "$(cat "$WORK/$config.load")"
done
exit "$FAILED"
