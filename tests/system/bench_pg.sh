#!/usr/bin/env bash
# Node-level figures for Baton on PostgreSQL (release builds), next to SQLite:
#   1. SQLite: one `baton serve` with a fresh data directory;
#   2. PostgreSQL, one node (n1) on a fresh database;
#   3. PostgreSQL, three nodes (n1..n3) on another fresh database, baton-bench spreading its
#      requests over the three endpoints round-robin, plus `xcallback` (callback across nodes).
# Workloads: start, transitions, callback; with three nodes also xcallback (callback across
# nodes, 4 executions in flight) and xcallback1 (the same, one at a time). Each workload is
# one baton-bench run; prints its line, then a table of the figures and one of the CPU time
# the nodes and PostgreSQL used per workload. Drops the databases and stops every process it
# started.
# Extra arguments go to baton-bench, e.g.: tests/system/bench_pg.sh --scale 0.2
# Environment: PG_HOST (127.0.0.1), PG_PORT (5432), PG_USER (postgres);
# CARGO_TARGET_DIR (default target); BENCH_BUILD=0 skips the build;
# BENCH_CONFIGS (default "sqlite pg1 pg3") picks the configurations.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
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
DB=""
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

# fresh_database SUFFIX: creates an empty database; sets DB and URL.
fresh_database() {
  DB="baton_bench_$$_$1"
  DATABASES+=("$DB")
  psql_admin "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
  psql_admin "CREATE DATABASE \"$DB\""
  URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB"
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
CPU_TABLE="$WORK/cpu"
: >"$CPU_TABLE"
TICK="$(getconf CLK_TCK)"

# cpu_ticks: CPU ticks (user + system) used so far by the nodes and by the PostgreSQL
# backends serving the current database ($DB, none for SQLite), as "NODES POSTGRES".
cpu_ticks() {
  local nodes=0 pg=0 pid
  for pid in "${PIDS[@]}"; do
    nodes=$((nodes + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  if [ -n "$DB" ]; then
    for pid in $(psql -X -At -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
        -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
      pg=$((pg + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
  fi
  echo "$nodes $pg"
}

# transactions: transactions committed or rolled back in $DB so far (0 for SQLite). The
# statistics reach pg_stat_database within about a second of a backend going idle.
transactions() {
  if [ -z "$DB" ]; then echo 0; return; fi
  psql -X -At -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
    -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"
}

# run_bench CONFIG LABEL WORKLOAD [extra baton-bench arguments]: one workload; its line goes
# to CONFIG.out as "LABEL: ...", its CPU use to the CPU table.
run_bench() {
  local config="$1" label="$2" workload="$3"
  shift 3
  local load before after began ended line
  load="$(uptime | sed 's/.*load average: //')"
  [ -f "$WORK/$config.load" ] || echo "$load" >"$WORK/$config.load"
  echo "== $config $label (load average $load)"
  before="$(cpu_ticks)"
  local tx0 tx1
  tx0="$(transactions)"
  began="$(date +%s.%N)"
  if ! line="$("$BENCH" --endpoint "$ENDPOINTS" --workload "$workload" --timeout 300 "$@" \
      | grep -v '^endpoints: ')"; then
    FAILED=1
  fi
  ended="$(date +%s.%N)"
  after="$(cpu_ticks)"
  [ -n "$DB" ] && sleep 1.5
  tx1="$(transactions)"
  line="$label: ${line#*: }"
  echo "$line" | tee -a "$WORK/$config.out"
  read -r nodes0 pg0 <<<"$before"
  read -r nodes1 pg1 <<<"$after"
  awk -v c="$config" -v w="$label" -v t0="$began" -v t1="$ended" -v n="$((nodes1 - nodes0))" \
    -v p="$((pg1 - pg0))" -v hz="$TICK" -v cores="$(nproc)" -v tx="$((tx1 - tx0))" 'BEGIN {
      wall = t1 - t0; printf "%-10s | %-11s | %7.2f | %10.2f | %10.2f | %5.0f%% | %s\n",
        c, w, wall, n / hz, p / hz, 100 * (n + p) / hz / (wall * cores), tx ? tx : "-" }' \
    >>"$CPU_TABLE"
}

for config in $CONFIGS; do
  ENDPOINTS=""
  case "$config" in
    sqlite)
      DB=""
      start_node sqlite
      for w in start transitions callback; do run_bench sqlite "$w" "$w" "$@"; done
      ;;
    pg1)
      fresh_database 1
      # shellcheck disable=SC2046
      start_node pg1-n1 --database "$URL" $(node_flags n1)
      for w in start transitions callback; do run_bench pg1 "$w" "$w" "$@"; done
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
      for w in start transitions callback xcallback; do run_bench pg3 "$w" "$w" "$@"; done
      # The same with one execution at a time: the path's own latency, without queueing.
      run_bench pg3 xcallback1 xcallback --in-flight 1 "$@"
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
printf '%-10s | %-9s | %-13s | %-12s | %-19s | %-19s | %-19s | %s\n' \
  config "start/s" "transitions/s" "executions/s" "callback p50/p99" "xcallback p50/p99" \
  "xcallback 1 p50/p99" "load before (1/5/15 min)"
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
  one50="$(field "$out" xcallback1 'p50=[0-9.]+ms')"
  one99="$(field "$out" xcallback1 'p99=[0-9.]+ms')"
  printf '%-10s | %-9s | %-13s | %-12s | %-19s | %-19s | %-19s | %s\n' "$config" "$start" \
    "$transitions" "$executions" "$cb50 / $cb99" "$xcb50 / $xcb99" "$one50 / $one99" \
    "$(cat "$WORK/$config.load")"
done
echo
echo "CPU seconds per workload (nodes: every baton serve; postgres: the backends of its database;"
echo "busy: both over cores x wall; the rest is baton-bench, other processes and idle;"
echo "transactions: committed or rolled back in the database, reads included)"
printf '%-10s | %-11s | %7s | %10s | %10s | %6s | %s\n' config workload "wall s" "nodes s" \
  "postgres s" busy transactions
cat "$CPU_TABLE"
exit "$FAILED"
