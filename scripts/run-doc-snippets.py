#!/usr/bin/env python3
"""Runs the tagged code blocks of a Markdown page against a lake, so the docs cannot rot.

usage: run-doc-snippets.py PAGE.md LAKE_DIR [MIN_RUN]

Blocks tagged ``sql duckdb`` run statement by statement in DuckDB (the last statement must
return rows), ``python`` blocks are exec'd (their own asserts check results), ``sql spark`` run
in a local PySpark session (the last statement must return rows). Every ``demo-lake`` in a block
becomes LAKE_DIR. ``sql athena|trino|zeppelin`` are listed as not run. Exits 1 on the first
failure, naming the block's line; fails too when fewer than MIN_RUN blocks ran.
"""
import re
import sys
import traceback

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)
CLOUD = {"sql athena", "sql trino", "sql zeppelin"}


def statements(sql):
    body = "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def run_duckdb(code):
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = None
    for st in statements(code):
        rows = con.execute(st).fetchall()
    assert rows, "the last statement returned no rows"


_spark = None


def run_spark(code, warehouse):
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession
        _spark = (SparkSession.builder.master("local[2]").appName("doc-snippets")
                  .config("spark.sql.warehouse.dir", warehouse)
                  .config("spark.ui.enabled", "false").getOrCreate())
        _spark.sparkContext.setLogLevel("ERROR")
    rows = None
    for st in statements(code):
        rows = _spark.sql(st).collect()
    assert rows, "the last statement returned no rows"


def main():
    page, lake = sys.argv[1], sys.argv[2]
    min_run = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    text = open(page).read()
    ran, skipped = 0, 0
    for m in FENCE.finditer(text):
        tag, code = m.group(1).strip(), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        if tag in CLOUD:
            print(f"{page}:{line}: {tag}: not run (needs a cloud service)")
            skipped += 1
            continue
        if tag not in ("sql duckdb", "python", "sql spark"):
            continue
        code = code.replace("demo-lake", lake)
        try:
            if tag == "sql duckdb":
                run_duckdb(code)
            elif tag == "python":
                exec(compile(code, f"{page}:{line}", "exec"), {"__name__": "__snippet__"})
            else:
                run_spark(code, lake + "/.spark-warehouse")
        except Exception:
            print(f"{page}:{line}: {tag}: FAILED")
            traceback.print_exc()
            sys.exit(1)
        print(f"{page}:{line}: {tag}: ok")
        ran += 1
    print(f"{ran} snippet(s) ran, {skipped} cloud-only not run")
    if ran < min_run:
        print(f"expected at least {min_run} runnable snippets")
        sys.exit(1)


if __name__ == "__main__":
    main()
