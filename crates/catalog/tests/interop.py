"""Reads a lake written by loglake with real engines and checks it against expectations.

Usage: python interop.py LAKE_DIR EXPECTED_JSON

- delta-rs (`deltalake`) opens every table: row count, schema, values, ts in UTC;
- pyarrow datasets and DuckDB (hive_partitioning) read the same rows from the plain Parquet
  layout (files removed by commits are gone, so plain readers agree with Delta);
- every column of every data file reports min/max statistics (column orders are set).
Exits non-zero with a message on the first mismatch.
"""
import json
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable

lake = Path(sys.argv[1])
expected = json.loads(Path(sys.argv[2]).read_text())


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


ddl = expected.pop("duckdb_ddl", None)

for table, exp in expected.items():
    root = lake / table
    # --- delta-rs
    dt = DeltaTable(str(root))
    check(dt.version() == exp["version"], f"{table}: delta version {dt.version()} != {exp['version']}")
    t = dt.to_pyarrow_table()
    check(t.num_rows == exp["rows"], f"{table}: delta rows {t.num_rows} != {exp['rows']}")
    names = [f.name for f in dt.schema().fields]
    check(names == exp["columns"], f"{table}: delta columns {names}")
    files = sorted(dt.file_uris())
    check(len(files) == exp["files"], f"{table}: delta files {len(files)} != {exp['files']}")

    # --- every data file on disk is a live file (removed ones were deleted)
    on_disk = sorted(str(p) for p in root.rglob("*.parquet") if "_delta_log" not in p.parts)
    check(len(on_disk) == exp["files"], f"{table}: {len(on_disk)} parquet files on disk, {exp['files']} live")
    codecs = set()
    for f in on_disk:
        pf = pq.ParquetFile(f)
        md = pf.metadata
        codecs.update(md.row_group(rg).column(c).compression
                      for rg in range(md.num_row_groups) for c in range(md.num_columns))
        for rg in range(md.num_row_groups):
            data = pf.read_row_group(rg)
            for c in range(md.num_columns):
                col = md.row_group(rg).column(c)
                st = col.statistics
                check(st is not None and st.has_null_count, f"{f}: column {col.path_in_schema} has no null count")
                actual_nulls = data.column(c).null_count
                check(st.null_count == actual_nulls,
                      f"{f}: column {col.path_in_schema} null_count {st.null_count} != {actual_nulls}")
                check(st.has_min_max or actual_nulls == col.num_values,
                      f"{f}: column {col.path_in_schema} has values but no min/max")

    if "codecs" in exp:
        check(sorted(codecs) == exp["codecs"], f"{table}: page codecs {sorted(codecs)} != {exp['codecs']}")

    # --- pyarrow dataset over the plain Parquet layout
    part = ds.partitioning(flavor="hive")
    d = ds.dataset(str(root), format="parquet", partitioning=part,
                   exclude_invalid_files=True, ignore_prefixes=["_", "."])
    pt = d.to_table()
    check(pt.num_rows == exp["rows"], f"{table}: pyarrow rows {pt.num_rows}")

    # --- DuckDB over the plain Parquet layout
    con = duckdb.connect()
    glob = str(root / exp["glob"])  # not **: _delta_log holds checkpoint .parquet files
    n = con.execute(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchone()[0]
    check(n == exp["rows"], f"{table}: duckdb rows {n}")
    for q in exp.get("queries", []):
        got = con.execute(q["sql"].replace("{glob}", glob)).fetchall()
        got = [[str(v) for v in row] for row in got]
        check(got == q["rows"], f"{table}: duckdb `{q['sql']}` -> {got}, want {q['rows']}")
        # the same query through delta-rs' arrow table
        con.register("delta_t", t)
        dq = q["sql"].replace("read_parquet('{glob}', hive_partitioning = true)", "delta_t")
        got_d = [[str(v) for v in row] for row in con.execute(dq).fetchall()]
        check(got_d == q["rows"], f"{table}: delta-rs `{dq}` -> {got_d}, want {q['rows']}")

    if "ts_type" in exp:
        ty = str(t.schema.field("ts").type)
        check(ty == exp["ts_type"], f"{table}: delta ts type {ty}")
        ty = str(pq.read_schema(on_disk[0]).field("ts").type)
        check(ty == exp["ts_type"], f"{table}: parquet ts type {ty}")

# --- PySpark (local mode) reads the plain Parquet layout: types, and the same aggregates as DuckDB
if "--no-spark" not in sys.argv:
    import os
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").appName("loglake-interop")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for table, exp in expected.items():
        root = lake / table
        df = spark.read.parquet(str(root))
        types = dict(df.dtypes)
        check(types.get("dt") == "date", f"spark {table}: dt is {types.get('dt')}")
        check(df.count() == exp["rows"], f"spark {table}: {df.count()} rows")
        if "ts_type" in exp:
            check(types.get("ts") == "timestamp", f"spark {table}: ts is {types.get('ts')}")
            check(types.get("hour") == "int", f"spark {table}: hour is {types.get('hour')}")
            df.createOrReplaceTempView("t")
            agg = "SELECT CAST(hour AS INT) AS h, count(*), sum(bytes), min(status), max(status), min(ts) FROM t GROUP BY 1 ORDER BY 1"
            got_spark = [[str(v) for v in r[:5]] + [str(int(r[5].timestamp() * 1_000_000))] for r in spark.sql(agg).collect()]
            con = duckdb.connect()
            glob = str(root / exp["glob"])
            dagg = agg.replace("FROM t", f"FROM read_parquet('{glob}', hive_partitioning = true)").replace("min(ts)", "epoch_us(min(ts))")
            got_duck = [[str(v) for v in r] for r in con.execute(dagg).fetchall()]
            check(got_spark == got_duck, f"spark {table}: {got_spark} != duckdb {got_duck}")
    spark.stop()

if ddl is not None:
    # the DDL `lake ddl --engine duckdb` prints, executed as is
    con = duckdb.connect()
    con.execute(ddl)
    for table, exp in expected.items():
        name = table.rsplit("/", 1)[1]
        n = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        check(n == exp["rows"], f"duckdb view {name}: {n} rows, want {exp['rows']}")
    ty = con.execute("SELECT typeof(hour), typeof(dt), typeof(ts) FROM access_logs LIMIT 1").fetchone()
    check(ty == ("INTEGER", "DATE", "TIMESTAMP WITH TIME ZONE"), f"duckdb view types {ty}")

print("interop ok:", ", ".join(expected))
