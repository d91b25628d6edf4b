#!/usr/bin/env bash
# Parquet write throughput for the curated schema, and file size against pyarrow writing the
# same rows with the same compression (zstd level 1, our default; dictionary on the same columns),
# in one run.
#   bash scripts/bench-parquet.sh [ROWS]      (default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
bash scripts/test-env.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --release --locked -q -p loglake-benches --example parquet_write
./target/release/examples/parquet_write "$out/loglake.parquet" "$rows"
.venv/bin/python - "$out/loglake.parquet" "$out/pyarrow.parquet" <<'PY'
import sys, time, os
import pyarrow.parquet as pq
ours, theirs = sys.argv[1], sys.argv[2]
table = pq.read_table(ours)
dict_cols = [f.name for f in table.schema if str(f.type).startswith("dictionary")]
times = []
for _ in range(3):
    t = time.perf_counter()
    pq.write_table(table, theirs, compression="zstd", compression_level=1, use_dictionary=dict_cols,
                   row_group_size=256 * 1024, write_statistics=True)
    times.append(time.perf_counter() - t)
best = sorted(times)[1]
a, b = os.path.getsize(ours), os.path.getsize(theirs)
print(f"pyarrow rows={table.num_rows} write_s={best:.3f} (median of 3) rows_per_s={table.num_rows/best:.0f} file_bytes={b}")
print(f"size: loglake {a} bytes, pyarrow {b} bytes, ratio {a/b:.3f}")
PY
