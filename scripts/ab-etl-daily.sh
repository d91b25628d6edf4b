#!/usr/bin/env bash
# A/B of etl-daily builds on the same input, alternating runs so that the machine's drift hits
# every variant alike; prints per-round wall/CPU/RSS/curated bytes and the medians.
#   bash scripts/ab-etl-daily.sh DATA_DIR OBJECTS THREADS ROUNDS 'label|ENV=V ...|BIN[|ARGS]' ...
# DATA_DIR holds the anchors' *.gz files (../shared/bench/anchors/gen_logs.py); OBJECTS of them
# are linked into a scratch lake under $TMPDIR. Example (old build kept as /tmp/etl-daily-old):
#   bash scripts/ab-etl-daily.sh /tmp/anchor-data 8 2 5 'old|X=1|/tmp/etl-daily-old' \
#     "new|X=1|$PWD/target/release/etl-daily"
# or one build with other flags (ARGS, e.g. the codecs docs/performance.md compares):
#   B=$PWD/target/release/etl-daily; bash scripts/ab-etl-daily.sh /tmp/anchor-data 8 2 3 \
#     "zstd|X=1|$B|--compression zstd" "snappy|X=1|$B|--compression snappy"
# Instruction counts for one object (what docs/performance.md quotes), per build:
#   valgrind --tool=callgrind --callgrind-out-file=cg.out BIN --lake LAKE --date 2020-05-31 --threads 1
set -euo pipefail
[ $# -ge 5 ] || { sed -n 2,13p "$0"; exit 2; }
data=$1 n=$2 threads=$3 rounds=$4
shift 4
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
raw=$root/raw/access_logs/dt=2020-05-31
mkdir -p "$raw"
find "$data" -maxdepth 1 -name '*.gz' | sort | head -n "$n" | while read -r f; do ln "$f" "$raw/" 2>/dev/null || cp "$f" "$raw/"; done
declare -A walls cpus
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for r in $(seq "$rounds"); do
  for v in "$@"; do
    IFS='|' read -r label envs bin args <<<"$v"
    rm -rf "$root/curated" "$root/agg"
    start=$(date +%s.%N)
    # ENV=V pairs and ARGS split on spaces
    # shellcheck disable=SC2086
    /usr/bin/time -f "%U %S %M" -o "$root/time" env $envs "$bin" --lake "$root" --date 2020-05-31 \
      --threads "$threads" ${args:-} >/dev/null 2>&1 || echo "FAILED: $label"
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    read -r user sys rss <"$root/time"
    cpu=$(echo "$user + $sys" | bc)
    walls[$label]="${walls[$label]:-} $wall"
    cpus[$label]="${cpus[$label]:-} $cpu"
    echo "round $r $label wall ${wall}s cpu ${cpu}s rss ${rss}k curated $(du -sb "$root/curated" | cut -f1) B"
  done
done
for v in "$@"; do
  IFS='|' read -r label _ _ <<<"$v"
  echo "$label: median wall $(echo "${walls[$label]}" | median) s, median cpu $(echo "${cpus[$label]}" | median) s"
done
