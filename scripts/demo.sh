#!/usr/bin/env bash
# The whole job on the embedded default (a local-disk lake, generated data):
#   loggen   one day of logs from 4 servers in 4 zones (0.5% malformed) -> raw/access_logs/dt=D/
#   etl-daily  raw -> curated/access_logs (by UTC event time) + curated/rejects + daily tables
#   etl-hourly curated -> agg/hourly_traffic
#   lake show  what an analyst sees, read back from the lake
set -euo pipefail
cd "$(dirname "$0")/.."
lake=${LAKE:-demo-lake}
day=${DAY:-2020-05-31}
raw="$lake/raw/access_logs/dt=$day"

echo "== building (release)"
cargo build --release --locked -q -p loggen -p lake -p etl-daily -p etl-hourly
rm -rf "$lake" && mkdir -p "$raw"
echo "== loggen: 1,000,000 lines into $raw"
./target/release/loggen -n 250000 -o GZ --files 4 --tz +0200,-0700,+0000,+0530 \
  --seed 42 --start "$day" --span-hours 24 --bad-ratio 0.005 --gzip-members 2 \
  --prefix web --out-dir "$raw"
echo
echo "== etl-daily --date $day"
# lines of the -0700 server spill into the next UTC day: that day's partitions get them too
./target/release/etl-daily --lake "$lake" --date "$day" --report "$lake/etl-daily-report.json"
echo
echo "== etl-hourly --date $day"
./target/release/etl-hourly --lake "$lake" --date "$day"
echo
./target/release/lake tables --lake "$lake"
echo
./target/release/lake show --lake "$lake" --date "$day"
echo
./target/release/lake report --lake "$lake" --date "$day" --out "$lake/report-$day.html"
cat <<MSG

The lake is in $lake/ (Parquet + Delta Lake logs); the run report in $lake/etl-daily-report.json;
the day as an HTML page with charts (open it in a browser): $lake/report-$day.html.
Query it:
  ./target/release/lake ddl --engine duckdb --lake $lake     # views for DuckDB
  python3 -c "import pyarrow.dataset as ds; print(ds.dataset('$lake/curated/access_logs', partitioning='hive', ignore_prefixes=['_']).to_table().num_rows)"
  docs/querying.md: Spark SQL, Athena, Trino, pandas, polars, delta-rs
MSG
