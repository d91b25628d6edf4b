#!/usr/bin/env bash
# End to end on the embedded default: generate one day of logs from four servers in four zones
# (0.5% malformed lines) into a local lake's raw/ area, then show what the parser makes of them.
#
# Until etl-daily lands this stops at the parse summary; it will then build the Parquet lake.
set -euo pipefail
cd "$(dirname "$0")/.."
lake=${LAKE:-demo-lake}
day=${DAY:-2020-05-31}
raw="$lake/raw/access_logs/dt=$day"

cargo build --release --locked -q -p loggen -p lake
rm -rf "$raw" && mkdir -p "$raw"
./target/release/loggen -n 250000 -o GZ --files 4 --tz +0200,-0700,+0000,+0530 \
  --seed 42 --start "$day" --span-hours 24 --bad-ratio 0.005 --gzip-members 2 \
  --prefix web --out-dir "$raw"
echo
echo "== lake parse $raw/*.log.gz"
./target/release/lake parse --format combined "$raw"/*.log.gz
