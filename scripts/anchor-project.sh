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
set -euo pipefail
data=$1 out=$2
bin=${LOGLAKE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/etl-daily}
lake=$out/lake
raw=$lake/raw/access_logs/dt=2020-05-31
mkdir -p "$raw"
for f in "$data"/*.gz; do ln "$f" "$raw/" 2>/dev/null || cp "$f" "$raw/"; done
"$bin" --lake "$lake" --date 2020-05-31 --threads "${LOGLAKE_THREADS:-2}" \
  --compression "${LOGLAKE_COMPRESSION:-snappy}" --report "$out/report.json" >&2
# verify.py reads hive partitions named date=/hour= and a rejects folder of Parquet files
for d in "$lake"/curated/access_logs/dt=*/hour=*; do
  [ -d "$d" ] || continue
  dt=${d%/hour=*}; dt=${dt##*dt=}; h=${d##*hour=}; h=$((10#$h))
  mkdir -p "$out/table/date=$dt/hour=$h"
  ln "$d"/*.parquet "$out/table/date=$dt/hour=$h/"
done
mkdir -p "$out/rejects"
find "$lake/curated/rejects" -name '*.parquet' -exec ln {} "$out/rejects/" \;
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"RESULT name=project wall_s={r['seconds']:.3f} lines={r['lines']} lines_per_s={r['lines_per_second']:.0f} check={'OK' if r['lines'] == r['rows'] + r['rejected'] else 'MISMATCH'}")
PY
