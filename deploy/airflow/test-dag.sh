#!/usr/bin/env bash
# Verifies the Airflow DAGs with the real binaries: installs Airflow (pinned) into
# target/airflow-venv, then `airflow dags test` runs both DAGs for 2020-05-31 against local lakes
# filled by loggen, and the tables are checked for the expected counts.
#   bash deploy/airflow/test-dag.sh            (or: just airflow-test)
# Takes about 4-5 minutes on a fresh 2-core machine (most of it pip); reruns reuse the venv.
# .ci/run runs it with LOGLAKE_PROFILE=debug after the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
airflow_version=${AIRFLOW_VERSION:-2.10.5}
venv=target/airflow-venv
if [ ! -x "$venv/bin/airflow" ] || [ "$("$venv/bin/airflow" version 2>/dev/null)" != "$airflow_version" ]; then
  echo "== installing apache-airflow==$airflow_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "apache-airflow==$airflow_version"
fi
# LOGLAKE_PROFILE=debug reuses the binaries `cargo test` built (CI does); default: release
profile=${LOGLAKE_PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release --locked -q -p loggen -p etl-daily -p etl-hourly -p lake
else
  cargo build --locked -q -p loggen -p etl-daily -p etl-hourly -p lake
fi
bin="$root/target/$profile"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export AIRFLOW_HOME="$work/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$root/deploy/airflow"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=True
export LOGLAKE_BIN_DIR="$bin"
export LOGLAKE_START_DATE=2020-05-31
export LOGLAKE_SHARDS=3
"$venv/bin/airflow" db migrate >"$work/db.log" 2>&1 || { cat "$work/db.log"; exit 1; }
"$venv/bin/python" -c "
from airflow.models import DagBag
bag = DagBag('$root/deploy/airflow', include_examples=False)
assert not bag.import_errors, bag.import_errors
assert set(bag.dag_ids) == {'loglake_daily', 'loglake_daily_sharded'}, bag.dag_ids
print('== DAGs import:', sorted(bag.dag_ids))
"
for dag in loglake_daily loglake_daily_sharded; do
  lake="$work/lake-$dag"
  raw="$lake/raw/access_logs/dt=2020-05-31"
  "$bin/loggen" -n 5000 -o GZ --files 4 --tz +0200,-0700,+0000,+0530 --seed 7 \
    --start 2020-05-31 --span-hours 24 --bad-ratio 0.005 --prefix web --out-dir "$raw" >/dev/null
  echo "== airflow dags test $dag 2020-05-31"
  LOGLAKE_LAKE="$lake" "$venv/bin/airflow" dags test "$dag" 2020-05-31 >"$work/$dag.log" 2>&1 \
    || { tail -60 "$work/$dag.log"; exit 1; }
  # every line is a row or a reject; the hourly table has the 24 hours of the day
  "$bin/lake" tables --lake "$lake" | tee "$work/$dag.tables"
  python3 - "$work/$dag.tables" "$work/$dag.log" <<'PY'
import re, sys
rows = {l.split()[0]: l.split() for l in open(sys.argv[1]) if l.startswith(("curated/", "agg/"))}
lines = 4 * 5000
curated, rejects = int(rows["curated/access_logs"][3]), int(rows["curated/rejects"][3])
assert curated + rejects == lines and rejects > 0, (curated, rejects)
hourly = int(rows["agg/hourly_traffic"][3])
assert hourly >= 24, hourly
assert int(rows["agg/daily_traffic"][3]) >= 1
log = open(sys.argv[2]).read()
mapped = len(set(re.findall(r"etl-hourly --lake \S+ --hour (\S+)", log)))
assert mapped == hourly, (mapped, hourly)
print(f"ok: {curated} rows + {rejects} rejects = {lines} lines; {mapped} mapped etl-hourly tasks")
PY
done
echo "== Airflow DAGs verified"
