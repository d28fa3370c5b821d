#!/usr/bin/env bash
# Times flowtrace against the tools on-call engineers use today, on generated PenguiFlow logs
# shaped like production (examples/genlog.rs: python-json-logger lines or penguiflow's
# structured lines behind kubectl prefixes, 4 pods, ~48 traces in flight, an incident in the
# middle), in one run: cat (the I/O floor), rg (the raw scan), jq (select and count by hand,
# after sed strips the kubectl prefixes as a user must).
# One row uses the first generator's log (compact sorted keys, 8 traces in flight) for history.
# Commands alternate round by round; the table gives medians of wall time, CPU time (user +
# system: the steadier figure on a shared machine) and peak memory.
#
#   benches/compare.sh [SIZE] [ROUNDS]      e.g. benches/compare.sh 1G 3
#
# Needs: cargo, rg, jq, gzip, zstd, GNU time (/usr/bin/time). Writes the logs under
# ${BENCH_DIR:-/tmp/flowtrace-bench} (kept between runs) and the table to ${RESULTS:-benches/results.md}.
# FLOWTRACE=path/to/flowtrace times another build (a before/after comparison on the same logs).
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-1G}
rounds=${2:-3}
dir=${BENCH_DIR:-/tmp/flowtrace-bench}
mkdir -p "$dir"
log="$dir/production-$size.log"
structured="$dir/production-$size.structured.log"
history="$dir/flow-$size.log"
small="$dir/production-100M.log"
needle=feedc0de5eed4a11b0a710ad0f5ca1e5
store="$dir/flow-$size.db"
REPEAT=50

for tool in rg jq gzip zstd sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing (apt-get install ripgrep jq gzip zstd sqlite3 time)" >&2; exit 2; }
done

cargo build --release --quiet --bin flowtrace --example genlog
ft=${FLOWTRACE:-target/release/flowtrace}
[ -s "$log" ] || target/release/examples/genlog --size "$size" --shape flat --out "$log"
[ -s "$structured" ] || target/release/examples/genlog --size "$size" --shape structured --out "$structured"
[ -s "$history" ] || target/release/examples/genlog --profile incident --size "$size" --shape flat --out "$history"
[ -s "$small" ] || target/release/examples/genlog --size 100M --shape flat --out "$small"
[ -s "$log.gz" ] || gzip -1 -c "$log" > "$log.gz"
[ -s "$log.zst" ] || zstd -q -1 -c "$log" > "$log.zst"

# name :: command (run with bash -c; output discarded)
benchmarks=(
  "cat (I/O floor) :: cat $log"
  "rg -F <trace_id> :: rg -F $needle $log"
  "flowtrace find <trace_id> :: $ft find $needle $log -q --format json"
  "flowtrace events --trace <trace_id> :: $ft events --trace $needle $log -q"
  "jq select one trace :: sed 's/^[^{]*//' $log | jq -c 'select(.trace_id == \"$needle\")'"
  "rg -c node_success :: rg -c node_success $log"
  "flowtrace classify :: $ft classify $log -q --format json"
  "flowtrace saturation :: $ft saturation $log -q --format json"
  "flowtrace triage :: $ft triage $log -q --format json"
  "flowtrace traces :: $ft traces $log -q --format json"
  "flowtrace report (HTML page) :: $ft report $log -q --output $dir/report.html"
  "flowtrace lint :: $ft lint $log -q --format json"
  "flowtrace classify (structured) :: $ft classify $structured -q --format json"
  "flowtrace saturation (structured) :: $ft saturation $structured -q --format json"
  "flowtrace triage (structured) :: $ft triage $structured -q --format json"
  "flowtrace classify (first generator) :: $ft classify $history -q --format json"
  "jq count events by node :: sed 's/^[^{]*//' $log | jq -n 'reduce inputs as \$e ({}; .[\$e.node_name // \"-\"] += 1)'"
  "zcat (gzip floor) :: zcat $log.gz"
  "zcat | flowtrace classify :: zcat $log.gz | $ft classify -q --format json"
  "flowtrace classify file.gz :: $ft classify $log.gz -q --format json"
  "zstdcat | flowtrace classify :: zstdcat $log.zst | $ft classify -q --format json"
  "flowtrace classify file.zst :: $ft classify $log.zst -q --format json"
  "cat | flowtrace classify (stdin) :: cat $log | $ft classify -q --format json"
  "flowtrace classify (100 MiB) :: $ft classify $small -q --format json"
  "flowtrace saturation (100 MiB) :: $ft saturation $small -q --format json"
  "flowtrace triage (100 MiB) :: $ft triage $small -q --format json"
  "flowtrace import (fresh store) :: rm -f $store $store-wal $store-shm; $ft import $log --store $store -q"
  "sqlite3 select one trace (store) :: sqlite3 $store \"SELECT * FROM flow_events WHERE trace_id = '$needle' ORDER BY ts\""
  "flowtrace events --trace (store) :: $ft events --trace $needle --store $store -q"
  "flowtrace find (store) :: $ft find $needle --store $store -q --format json"
)

# Reads the files a command names into the page cache, untimed, before it is timed: this
# machine's page cache did not keep every log between their turns, and a log read partly from
# disk timed the disk (twentieth session: a structured `classify` round of 3.80 s against
# 1.23-1.36 s, with 8 MiB of that 1 GiB log in the cache after the run).
warm() {
  for word in $1; do
    # An output (report's page) is no input yet: skipped, not a failure under set -e.
    case $word in "$dir"/*) if [ -f "$word" ]; then cat "$word" > /dev/null; fi ;; esac
  done
}

declare -A times cpu memory
for ((round = 1; round <= rounds; round++)); do
  for entry in "${benchmarks[@]}"; do
    name=${entry%% :: *}
    command=${entry#* :: }
    # Peak memory of the heaviest process of a pipeline is what GNU time reports for bash -c
    # with one command; for pipelines it is the largest child.
    # Store queries take milliseconds, below GNU time's resolution: run them REPEAT times.
    repeat=1
    case $name in *"(store)"*) repeat=$REPEAT ;; esac
    warm "$command"
    read -r wall user system peak < <( { /usr/bin/time -f "%e %U %S %M" bash -c "for _ in \$(seq $repeat); do $command > /dev/null 2>/dev/null; done" ; } 2>&1 | tail -1)
    wall=$(awk -v t="$wall" -v r="$repeat" 'BEGIN { printf "%.4f", t / r }')
    used=$(awk -v u="$user" -v s="$system" -v r="$repeat" 'BEGIN { printf "%.4f", (u + s) / r }')
    times[$name]+="$wall "
    cpu[$name]+="$used "
    memory[$name]+="$peak "
    echo "round $round: $name: $wall s, $used CPU s, $peak KB" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bytes=$(stat -c %s "$log")
floor=$(echo "${times[rg -F <trace_id>]}" | median)
{
  echo "Logs: $(basename "$log") ($((bytes / 1048576)) MiB, production profile, python-json-logger lines), its structured twin, and the first generator's for history; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), ${rounds} rounds, medians. vs rg: wall time over \`rg -F <trace_id>\`'s."
  echo
  echo "| command | wall (s) | CPU (s) | vs rg -F | GiB/s | peak memory (MiB) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for entry in "${benchmarks[@]}"; do
    name=${entry%% :: *}
    t=$(echo "${times[$name]}" | median)
    c=$(echo "${cpu[$name]}" | median)
    m=$(echo "${memory[$name]}" | median)
    case $name in
      *"100 MiB"*) size_bytes=$(stat -c %s "$small") ;;
      *"(structured)"*) size_bytes=$(stat -c %s "$structured") ;;
      *"(first generator)"*) size_bytes=$(stat -c %s "$history") ;;
      *) size_bytes=$bytes ;;
    esac
    # Store queries do not scan the log: no throughput for them.
    case $name in *"(store)"*) size_bytes=0 ;; esac
    awk -v n="${name//|/\\\\|}" -v t="$t" -v c="$c" -v f="$floor" -v m="$m" -v b="$size_bytes" \
      'BEGIN { rate = b > 0 ? sprintf("%.2f", b / 1073741824 / t) : "-";
               printf "| %s | %.4f | %.2f | %.1fx | %s | %.0f |\n", n, t, c, t / f, rate, m / 1024 }'
  done
} | tee "${RESULTS:-benches/results.md}"
