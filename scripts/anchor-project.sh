#!/usr/bin/env bash
# The "project" contender of ../shared/bench/anchors: etl-daily on the harness's generated day.
#   PROJECT_CMD='bash /path/to/loglake/scripts/anchor-project.sh "$1" "$2"' ./run.sh DATA_DIR
# $1 = DATA_DIR (the harness's *.gz files, one UTC day 2020-05-31), $2 = OUT_DIR (empty).
# Timed: linking the inputs into a fresh local lake's raw zone and the whole etl-daily run
# (parse, curated + rejects Parquet, Delta commits, daily aggregates). Then, for the harness's
# verify.py, the committed files are hard-linked into OUT_DIR/table/date=D/hour=H and
# OUT_DIR/rejects (names only; no data is copied). LOGLAKE_THREADS sets --threads (default 2).
# LOGLAKE_COMPRESSION sets --compression (default snappy: every anchor writes snappy, see the
# header of anchor_polars.py; etl-daily's own default is zstd: ~5% more CPU here, 11% more instructions).
# LOGLAKE_ARGS adds etl-daily options: LOGLAKE_ARGS='--shard 0/1' runs the ingest alone, the
# anchors' job (curated + rejects, no daily aggregate tables; docs/performance.md).
set -euo pipefail
data=$1 out=$2
# the deployment build by default: the profile-guided one (scripts/build-pgo.sh) unless a
# plain `dist` build is newer (a PGO binary left from older code must not hide a fresh build);
# LOGLAKE_BIN names another
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/pgo/use/dist/etl-daily
dist=$root/target/dist/etl-daily
{ [ -x "$bin" ] && ! [ "$dist" -nt "$bin" ]; } || bin=$dist
bin=${LOGLAKE_BIN:-$bin}
[ -x "$bin" ] || { echo "anchor-project.sh: no $bin (bash scripts/build-pgo.sh, or cargo build --profile dist -p etl-daily)" >&2; exit 2; }
echo "anchor-project.sh: $bin" >&2
lake=$out/lake
raw=$lake/raw/access_logs/dt=2020-05-31
mkdir -p "$raw"
for f in "$data"/*.gz; do ln "$f" "$raw/" 2>/dev/null || cp "$f" "$raw/"; done
# LOGLAKE_ARGS splits on spaces on purpose (several options)
# shellcheck disable=SC2086
"$bin" --lake "$lake" --date 2020-05-31 --threads "${LOGLAKE_THREADS:-2}" \
  --compression "${LOGLAKE_COMPRESSION:-snappy}" --report "$out/report.json" ${LOGLAKE_ARGS:-} >&2
# verify.py reads hive partitions named date=/hour= (hour=05 reads as 5) and a rejects folder
# of Parquet files: hard links in one process per date and one for the rejects, and the RESULT
# line from the report's top-level keys (two-space indent) without starting an interpreter:
# this bookkeeping is timed with the job, and forking per file and a python3 start cost ~0.2 s
mkdir -p "$out/table" "$out/rejects"
for d in "$lake"/curated/access_logs/dt=*; do
  [ -d "$d" ] || continue
  cp -al "$d" "$out/table/date=${d##*dt=}"
done
find "$lake/curated/rejects" -name '*.parquet' -exec ln -t "$out/rejects/" {} +
declare -A r
while IFS=': ' read -r k v; do
  k=${k//\"/} v=${v%,}
  r[$k]=$v
done < <(grep -E '^  "(lines|rows|rejected|seconds|lines_per_second)": ' "$out/report.json")
check=MISMATCH
[ "${r[lines]}" -eq $((r[rows] + r[rejected])) ] && check=OK
printf 'RESULT name=project wall_s=%.3f lines=%s lines_per_s=%.0f check=%s\n' \
  "${r[seconds]}" "${r[lines]}" "${r[lines_per_second]}" "$check"
