#!/usr/bin/env python3
"""Bytes per row of each column of a Parquet table, before and after compression, from the
file footers (what docs/performance.md quotes as "what zstd is fed").

    python3 scripts/column-bytes.py LAKE/curated/access_logs    # needs pyarrow (.venv has it)
"""
import glob
import sys

import pyarrow.parquet as pq


def main(table: str) -> None:
    sizes: dict[str, list[int]] = {}
    rows = 0
    for path in glob.glob(f"{table}/**/*.parquet", recursive=True):
        md = pq.ParquetFile(path).metadata
        rows += md.num_rows
        for g in (md.row_group(i) for i in range(md.num_row_groups)):
            for c in (g.column(j) for j in range(g.num_columns)):
                s = sizes.setdefault(c.path_in_schema, [0, 0])
                s[0] += c.total_uncompressed_size
                s[1] += c.total_compressed_size
    if not rows:
        sys.exit(f"no rows under {table}")
    print(f"{rows} rows")
    for name, (raw, packed) in sorted(sizes.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:20} {raw / rows:7.1f} B/row -> {packed / rows:6.1f} B/row  ratio {raw / max(packed, 1):6.2f}")
    raw, packed = (sum(s[i] for s in sizes.values()) for i in (0, 1))
    print(f"{'total':20} {raw / rows:7.1f} B/row -> {packed / rows:6.1f} B/row")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
