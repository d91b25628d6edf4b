"""The aggregate tables must equal DuckDB's SQL over the curated table: exact for counts, sums and
distinct counts, within the sketch's error for percentiles.

Usage: python oracle.py LAKE_DIR
"""
import sys

import duckdb

lake = sys.argv[1]
con = duckdb.connect()
types = "hive_types = {'dt': DATE, 'hour': INTEGER}"
con.execute(f"CREATE VIEW cur AS SELECT * FROM read_parquet('{lake}/curated/access_logs/dt=*/hour=*/*.parquet', hive_partitioning = true, {types})")
con.execute(f"CREATE VIEW hourly AS SELECT * FROM read_parquet('{lake}/agg/hourly_traffic/dt=*/hour=*/*.parquet', hive_partitioning = true, {types})")
for t in ["daily_traffic", "daily_top_paths", "daily_status", "daily_user_agents", "daily_referrers"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{lake}/agg/{t}/dt=*/*.parquet', hive_partitioning = true, hive_types = {{'dt': DATE}})")

failures = []


def check(name, ours_sql, theirs_sql):
    ours = con.execute(ours_sql).fetchall()
    theirs = con.execute(theirs_sql).fetchall()
    if ours != theirs:
        failures.append(f"{name}:\n  ours   {ours[:5]}\n  duckdb {theirs[:5]} ({len(ours)} vs {len(theirs)} rows)")


measures = """count(*), coalesce(sum(bytes), 0),
  count(*) FILTER (WHERE status BETWEEN 100 AND 199), count(*) FILTER (WHERE status BETWEEN 200 AND 299),
  count(*) FILTER (WHERE status BETWEEN 300 AND 399), count(*) FILTER (WHERE status BETWEEN 400 AND 499),
  count(*) FILTER (WHERE status BETWEEN 500 AND 599),
  count(DISTINCT client_ip),
  count(DISTINCT CASE WHEN client_ip IS NOT NULL THEN client_ip || chr(0) || coalesce(user_agent, '') END),
  count(*) FILTER (WHERE is_bot), count(*) FILTER (WHERE NOT coalesce(is_bot, false)),
  count(*) FILTER (WHERE method = 'GET'), count(*) FILTER (WHERE method = 'POST'),
  count(*) FILTER (WHERE method = 'PUT'), count(*) FILTER (WHERE method = 'DELETE'),
  count(*) FILTER (WHERE method = 'HEAD'),
  count(*) FILTER (WHERE (method IS NOT NULL AND method NOT IN ('GET','POST','PUT','DELETE','HEAD')) OR (method IS NULL AND request_raw IS NULL)),
  count(*) FILTER (WHERE request_raw IS NOT NULL)"""
ours_measures = """requests, bytes, status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, distinct_clients,
  distinct_visitors, bot_requests, human_requests, get_requests, post_requests, put_requests, delete_requests,
  head_requests, other_method_requests, invalid_requests"""

check("hourly_traffic", f"SELECT dt, hour, {ours_measures} FROM hourly WHERE requests > 0 ORDER BY 1, 2",
      f"SELECT dt, hour, {measures} FROM cur GROUP BY 1, 2 ORDER BY 1, 2")
check("hourly_traffic period_start", "SELECT count(*) FROM hourly WHERE period_start <> (dt + hour * INTERVAL 1 HOUR)::TIMESTAMPTZ",
      "SELECT 0")
check("daily_traffic", f"SELECT dt, {ours_measures} FROM daily_traffic ORDER BY 1",
      f"SELECT dt, {measures} FROM cur GROUP BY 1 ORDER BY 1")
check("daily_status", "SELECT dt, status, requests, bytes FROM daily_status ORDER BY 1, 2 NULLS FIRST",
      "SELECT dt, status, count(*), coalesce(sum(bytes), 0) FROM cur GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST")
check("daily_top_paths", "SELECT dt, rank, path, requests, bytes, status_4xx, status_5xx, distinct_clients FROM daily_top_paths ORDER BY 1, 2",
      """SELECT dt, row_number() OVER (PARTITION BY dt ORDER BY count(*) DESC, path NULLS FIRST) AS rank, path, count(*),
           coalesce(sum(bytes), 0), count(*) FILTER (WHERE status BETWEEN 400 AND 499),
           count(*) FILTER (WHERE status BETWEEN 500 AND 599), count(DISTINCT client_ip)
         FROM cur GROUP BY dt, path QUALIFY rank <= 1000 ORDER BY 1, 2""")
check("daily_user_agents", "SELECT dt, ua_browser, ua_os, ua_device, is_bot, requests, distinct_clients FROM daily_user_agents ORDER BY ALL",
      "SELECT dt, ua_browser, ua_os, ua_device, is_bot, count(*), count(DISTINCT client_ip) FROM cur GROUP BY ALL ORDER BY ALL")
check("daily_referrers", "SELECT dt, referrer_host, requests, distinct_clients FROM daily_referrers ORDER BY ALL",
      "SELECT dt, referrer_host, count(*), count(DISTINCT client_ip) FROM cur GROUP BY ALL ORDER BY ALL")

# percentiles: within DDSketch's 1% relative error of the rank statistic it estimates, the
# element at rank floor(q * (n - 1)) of the sorted sizes (plus one unit of rounding)
rank = "list_sort(list(c.bytes))[CAST(floor({q} * (count(c.bytes) - 1)) AS BIGINT) + 1]"
rows = con.execute(f"""
  SELECT h.dt, h.hour, h.bytes_p50, h.bytes_p95, h.bytes_p99,
         {rank.format(q=0.5)}, {rank.format(q=0.95)}, {rank.format(q=0.99)}
  FROM hourly h JOIN cur c ON c.dt = h.dt AND c.hour = h.hour
  GROUP BY ALL""").fetchall()
checked = 0
for dt, hour, *vals in rows:
    ours, exact = vals[:3], vals[3:]
    for o, e in zip(ours, exact):
        if e is None:
            continue
        checked += 1
        if o is None or abs(o - e) > 0.02 * abs(e) + 1:
            failures.append(f"percentile {dt} {hour}: ours {o} exact {e}")
if checked == 0:
    failures.append("no percentile was compared")

empty = con.execute("SELECT count(*) FROM hourly WHERE requests = 0 AND (bytes <> 0 OR distinct_clients <> 0 OR bytes_p50 IS NOT NULL)").fetchone()[0]
if empty:
    failures.append(f"{empty} empty hours are not rows of zeros")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"oracle ok: {checked} percentiles within error, every count exact")
