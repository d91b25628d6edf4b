#!/usr/bin/env bash
# One checksum of the Parquet files an etl-daily build writes for the anchors' day, to show
# that two builds (release, dist, profile-guided) write the same files:
#   bash scripts/lake-md5.sh DATA_DIR BIN [THREADS]     # prints "N files MD5"
# DATA_DIR holds the anchors' *.gz files (../shared/bench/anchors/gen_logs.py). The lake is
# made afresh at one fixed path, $LAKE_MD5_DIR (default /tmp/loglake-md5), because the
# `source_object` column holds each object's full location: lakes at other paths give other
# sums. The sum is over each curated, rejects and daily file's md5, sorted (file names differ
# from run to run); `--compression snappy`, THREADS (default 2) workers.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,9p "$0"; exit 2; }
data=$1 bin=$2 threads=${3:-2}
lake=${LAKE_MD5_DIR:-/tmp/loglake-md5}
rm -rf "$lake"
raw=$lake/raw/access_logs/dt=2020-05-31
mkdir -p "$raw"
for f in "$data"/*.gz; do ln "$f" "$raw/" 2>/dev/null || cp "$f" "$raw/"; done
"$bin" --lake "$lake" --date 2020-05-31 --threads "$threads" --compression snappy >/dev/null
cd "$lake"
sums=$(find curated agg -name '*.parquet' -exec md5sum {} + | cut -d' ' -f1 | sort)
echo "$(wc -l <<<"$sums") files $(md5sum <<<"$sums" | cut -d' ' -f1)"
rm -rf "$lake"
