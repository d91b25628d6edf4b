#!/usr/bin/env bash
# A/B of etl-daily builds on the run's end: the seconds from the "curated and rejects committed"
# log line to the report's `seconds` (the last merge of the daily states, their sort, and the
# five daily tables written and committed), with the whole run's seconds beside them. Builds
# alternate, a fresh lake each run (OBJECTS of DATA_DIR's *.gz, 2 threads, snappy).
#   bash scripts/ab-end-phase.sh DATA_DIR OBJECTS ROUNDS BIN...
# Example (docs/performance.md, "The last merge sorted on both cores"):
#   bash scripts/ab-end-phase.sh /tmp/anchor-data 8 8 /tmp/etl-daily-old target/release/etl-daily
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,8p "$0"; exit 2; }
data=$1 n=$2 rounds=$3
shift 3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
files=$(find "$data" -maxdepth 1 -name '*.gz' | sort | head -n "$n")
out=$root/results
for r in $(seq "$rounds"); do
  for bin in "$@"; do
    lake=$root/lake
    rm -rf "$lake"
    mkdir -p "$lake/raw/access_logs/dt=2020-05-31"
    for f in $files; do ln "$f" "$lake/raw/access_logs/dt=2020-05-31/" 2>/dev/null || cp "$f" "$lake/raw/access_logs/dt=2020-05-31/"; done
    committed=$(RUST_LOG=info "$bin" --lake "$lake" --date 2020-05-31 --threads 2 --compression snappy \
      --report "$root/report.json" 2>&1 | sed -nE 's/.*curated and rejects committed.* seconds=([0-9.]+).*/\1/p')
    total=$(sed -nE 's/^  "seconds": ([0-9.]+),?$/\1/p' "$root/report.json")
    end=$(awk -v t="$total" -v c="$committed" 'BEGIN { printf "%.3f", t - c }')
    echo "round $r $bin total ${total} s end ${end} s"
    echo "$bin $total $end" >>"$out"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for bin in "$@"; do
  t=$(awk -v b="$bin" '$1 == b {print $2}' "$out" | median)
  e=$(awk -v b="$bin" '$1 == b {print $3}' "$out" | median)
  echo "$bin: median total $t s, median end $e s"
done
