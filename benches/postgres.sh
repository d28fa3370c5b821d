#!/usr/bin/env bash
# Measures flowtrace on a PostgreSQL event store, in one run, against psql on the same data:
#
#   benches/postgres.sh [COPIES] [ROUNDS]      e.g. benches/postgres.sh 14 5
#
# 1. import: a 200 MiB production-profile log (examples/genlog.rs) into a fresh table;
# 2. a store of COPIES x that log's events (the rows copied in SQL under new trace ids, one
#    needle trace kept once), ANALYZEd;
# 3. find <needle> --store against psql running the same indexed query (medians of ROUNDS,
#    each a new process and connection), and classify over the whole table.
# Uses $FLOWTRACE_TEST_POSTGRES, or starts a throwaway server (.ci/postgres.sh). Writes the
# table to benches/postgres-results.md. Needs GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

copies=${1:-14}
rounds=${2:-5}
dir=${BENCH_DIR:-/tmp/flowtrace-bench}
mkdir -p "$dir"
log="$dir/production-200M.log"
needle=feedc0de5eed4a11b0a710ad0f5ca1e5

if [ -z "${FLOWTRACE_TEST_POSTGRES:-}" ]; then
  eval "$(.ci/postgres.sh start)"
  trap '.ci/postgres.sh stop' EXIT
fi
url=$FLOWTRACE_TEST_POSTGRES
cargo build --release --quiet --bin flowtrace --example genlog
ft=target/release/flowtrace
[ -s "$log" ] || target/release/examples/genlog --size 200M --shape flat --out "$log"
psql_() { psql -qAt "$url" "$@"; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name, command: appends "wall cpu peak_kb" to the arrays
  local result
  result=$( { /usr/bin/time -f "%e %U %S %M" bash -c "$2 >/dev/null 2>/dev/null"; } 2>&1 | tail -1)
  read -r wall user system peak <<<"$result"
  times[$1]+="$wall "
  cpus[$1]+="$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }') "
  peaks[$1]+="$peak "
  echo "$1: $wall s" >&2
}
declare -A times cpus peaks

psql_ -c "DROP TABLE IF EXISTS bench_import, bench_store CASCADE"
measure "flowtrace import (200 MiB log, fresh table)" \
  "$ft import $log --store '$url' --table bench_import -q"
events=$(psql_ -c "SELECT count(*) FROM bench_import")

# The big store: the imported rows COPIES times, each copy under its own trace ids (the first
# four characters replaced by `z` and the copy's number: no hex id can be one), the needle only
# in the first.
psql_ <<SQL
CREATE TABLE bench_store (LIKE bench_import INCLUDING ALL);
INSERT INTO bench_store (trace_id, ts, kind, node_name, node_id, event_fp, payload)
  SELECT CASE WHEN k = 0 THEN trace_id ELSE overlay(trace_id placing 'z' || lpad(to_hex(k), 3, '0') from 1) END,
         ts + k * 3600, kind, node_name, node_id, event_fp, payload
  FROM bench_import, generate_series(0, $((copies - 1))) AS k
  WHERE k = 0 OR trace_id <> '$needle';
ANALYZE bench_store;
SQL
rows=$(psql_ -c "SELECT count(*) FROM bench_store")
end=$(python3 -c "print('$needle'[:-1] + chr(ord('$needle'[-1]) + 1))")
for ((round = 1; round <= rounds; round++)); do
  measure "psql: the needle's rows by the (trace_id, ts) index" \
    "psql -qAt '$url' -c \"SELECT id, trace_id, ts, kind, node_name, node_id, payload FROM bench_store WHERE trace_id >= '$needle' AND trace_id < '$end' ORDER BY ts, id\""
  measure "flowtrace find <needle> --store" \
    "$ft find $needle --store '$url' --table bench_store --format json -q"
done
measure "flowtrace classify --store (whole table)" \
  "$ft classify --store '$url' --table bench_store --format json -q --store-timeout 10m"

{
  echo "PostgreSQL $(psql_ -c 'SHOW server_version') on this machine ($(nproc) cores), local server; $events events imported, a store of $rows rows; medians of $rounds rounds for the lookups."
  echo
  echo "| command | wall (s) | CPU (s) | rate | peak memory (MiB) |"
  echo "|---|---:|---:|---:|---:|"
  for name in "flowtrace import (200 MiB log, fresh table)" \
    "psql: the needle's rows by the (trace_id, ts) index" \
    "flowtrace find <needle> --store" \
    "flowtrace classify --store (whole table)"; do
    t=$(echo "${times[$name]}" | median)
    c=$(echo "${cpus[$name]}" | median)
    m=$(echo "${peaks[$name]}" | median)
    case $name in
      *import*) rate=$(awk -v n="$events" -v t="$t" 'BEGIN { printf "%.0f events/s", n / t }') ;;
      *classify*) rate=$(awk -v n="$rows" -v t="$t" 'BEGIN { printf "%.0f rows/s", n / t }') ;;
      *) rate="-" ;;
    esac
    awk -v n="$name" -v t="$t" -v c="$c" -v r="$rate" -v m="$m" \
      'BEGIN { printf "| %s | %.3f | %.2f | %s | %.0f |\n", n, t, c, r, m / 1024 }'
  done
} | tee benches/postgres-results.md
psql_ -c "DROP TABLE IF EXISTS bench_import, bench_store CASCADE"
