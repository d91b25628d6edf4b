"""loglake on Airflow (2.4+ and 3.x).

Two DAGs, one run per UTC day ({{ ds }} is the arrival date of the raw logs):

* ``loglake_daily``: ``etl-daily --date {{ ds }}`` then, by dynamic task mapping over the run
  report's ``touched_hours``, one ``etl-hourly --hour H`` per hour the run changed.
* ``loglake_daily_sharded``: ``etl-daily --shard i/N`` for i in 0..N-1 (mapped, concurrent; the
  table log's optimistic commits make that safe), then ``etl-daily --aggregates-only`` once, then
  the same per-hour mapping over the union of the shards' touched hours.

Both are idempotent (objects already ingested are skipped; a rerun of a task is safe), catch up
for backfills, retry with backoff and time out. Configure with environment variables of the
workers: LOGLAKE_LAKE (s3://bucket/prefix or a directory), LOGLAKE_BIN_DIR (where the binaries
are; default: PATH), LOGLAKE_SHARDS (default 4), LOGLAKE_START_DATE (first day, YYYY-MM-DD).
Credentials: the worker's instance role / environment, never the DAG. Verified by
deploy/airflow/test-dag.sh (``airflow dags test`` against a local lake with the real binaries).
"""
import json
import os
import subprocess
import tempfile
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.4+
    from airflow.decorators import dag, task

LAKE = os.environ.get("LOGLAKE_LAKE", "s3://my-logs-bucket/lake")
BIN_DIR = os.environ.get("LOGLAKE_BIN_DIR", "")
SHARDS = int(os.environ.get("LOGLAKE_SHARDS", "4"))
START = datetime.fromisoformat(os.environ.get("LOGLAKE_START_DATE", "2020-05-31"))

DEFAULT_ARGS = {
    "retries": 3,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=3),
}


def _bin(name):
    return os.path.join(BIN_DIR, name) if BIN_DIR else name


def _run(args):
    """Runs one loglake binary. Exit 1 (an object that could not be read to its end: its readable
    lines are committed and the report names it) and 2 (the run failed) fail the task."""
    print("loglake:", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def _etl_daily(ds, *extra):
    """etl-daily for one arrival date; returns the hours it touched (for etl-hourly)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        _run([_bin("etl-daily"), "--lake", LAKE, "--date", ds, "--report", report, *extra])
        with open(report) as f:
            r = json.load(f)
    print(json.dumps({k: r[k] for k in ("lines", "rows", "rejected", "touched_dates", "seconds")}), flush=True)
    return r["touched_hours"]


def _etl_hourly(hour):
    _run([_bin("etl-hourly"), "--lake", LAKE, "--hour", hour])


# what both DAGs share: one run per UTC day, catch-up for backfills, retries and timeouts
SCHEDULE = {
    "schedule": "@daily",
    "start_date": START,
    "catchup": True,
    "dagrun_timeout": timedelta(hours=6),
    "default_args": DEFAULT_ARGS,
    "tags": ["loglake"],
}


@dag(dag_id="loglake_daily", max_active_runs=2, **SCHEDULE)
def loglake_daily():
    @task
    def etl_daily(ds=None):
        return _etl_daily(ds)

    @task(max_active_tis_per_dag=4)
    def etl_hourly(hour):
        _etl_hourly(hour)

    etl_hourly.expand(hour=etl_daily())


@dag(dag_id="loglake_daily_sharded", max_active_runs=1, **SCHEDULE)
def loglake_daily_sharded():
    @task
    def shards():
        return [f"{i}/{SHARDS}" for i in range(SHARDS)]

    @task
    def etl_shard(shard, ds=None):
        return _etl_daily(ds, "--shard", shard)

    @task
    def daily_aggregates(touched, ds=None):
        _etl_daily(ds, "--aggregates-only")
        return sorted({hour for hours in touched for hour in hours})

    @task(max_active_tis_per_dag=4)
    def etl_hourly(hour):
        _etl_hourly(hour)

    etl_hourly.expand(hour=daily_aggregates(etl_shard.expand(shard=shards())))


loglake_daily()
loglake_daily_sharded()
