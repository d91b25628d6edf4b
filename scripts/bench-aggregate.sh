#!/usr/bin/env bash
# The hourly aggregation of one generated day (1 M rows by default), by etl-hourly with 1 and 2
# threads and by DuckDB with 1 and 2 threads over the same Parquet files, in one run.
#   bash scripts/bench-aggregate.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
bash scripts/test-env.sh
lake=$(mktemp -d)
trap 'rm -rf "$lake"' EXIT
cargo build --release -q -p loglake-benches --example build_curated
cargo build --release -q -p etl-hourly
./target/release/etl-hourly --version >/dev/null
./target/release/examples/build_curated "$lake" "$rows"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for threads in 1 2; do
  t=$(for _ in 1 2 3; do
        s=$(date +%s.%N); ./target/release/etl-hourly --lake "$lake" --date 2020-05-31 --threads "$threads" >/dev/null
        echo "$(date +%s.%N) - $s" | bc; done | median)
  echo "etl-hourly threads=$threads rows=$rows median_s=$t rows_per_s=$(echo "$rows / $t" | bc)"
done
.venv/bin/python - "$lake" "$rows" <<'PY'
import sys, time, statistics
import duckdb
lake, rows = sys.argv[1], int(sys.argv[2])
sql = f"""
SELECT dt, hour, count(*), coalesce(sum(bytes), 0),
  count(*) FILTER (WHERE status BETWEEN 400 AND 499), count(*) FILTER (WHERE status BETWEEN 500 AND 599),
  count(DISTINCT client_ip), count(DISTINCT client_ip || chr(0) || coalesce(user_agent, '')),
  count(*) FILTER (WHERE is_bot), quantile_disc(bytes, 0.5), quantile_disc(bytes, 0.95), quantile_disc(bytes, 0.99)
FROM read_parquet('{lake}/curated/access_logs/dt=*/hour=*/*.parquet', hive_partitioning = true)
GROUP BY 1, 2"""
for threads in (1, 2):
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    times = []
    for _ in range(3):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    m = statistics.median(times)
    print(f"duckdb threads={threads} rows={rows} median_s={m:.3f} rows_per_s={rows/m:.0f}")
PY
