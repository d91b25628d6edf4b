//! Hourly and daily aggregate tables, computed from `curated/access_logs`.
//!
//! # Brief overview
//!
//! Each hour partition of the curated table is scanned (only the needed columns) on a rayon
//! worker into a [`PeriodState`]: counts, sums, exact distinct sets and DDSketch percentile
//! sketches, all mergeable in any order. An hour's state is one row of `agg/hourly_traffic`; a
//! day's state is the merge of its 24 hours, so daily distinct counts are distinct over the day.
//! [`refresh_hours`] and [`refresh_days`] recompute and replace the rows of the periods asked
//! for, one commit per table; a period without requests gets a row of zeros.

mod state;

use std::collections::BTreeMap;

use loglake_catalog::{
    BatchBuilder, CatalogError, ColumnValues, CommitOutcome, Date, IntView, PartitionKey, RowGroup,
    ScanOptions, StrView, Table, TableDef, Value, ACCESS_LOGS, DAILY_REFERRERS, DAILY_STATUS,
    DAILY_TOP_PATHS, DAILY_TRAFFIC, DAILY_USER_AGENTS, HOURLY_TRAFFIC,
};
use loglake_parser::Timestamp;
use loglake_storage::Store;
use rayon::prelude::*;
use serde_json::json;

pub use state::{
    distinct_key, AgentKey, GroupCounts, GroupHash, GroupHasher, Groups, PathCounts, PendingClients,
    PeriodState, RowFacts, Traffic, PENDING_ROWS,
};

/// Why an aggregation could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateError {
    /// Reading the curated table or writing an aggregate table failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// How many of [`COLUMNS`] the traffic measures need (the rest feed the daily groups).
const TRAFFIC_COLUMNS: usize = 8;

/// The curated columns the aggregates read, in [`RowGroup::columns`] order.
const COLUMNS: [&str; 13] = [
    "client_ip",
    "user_agent",
    "status",
    "bytes",
    "method",
    "request_raw",
    "is_bot",
    "duration_us",
    "path",
    "ua_browser",
    "ua_os",
    "ua_device",
    "referrer_host",
];

/// Adds a row group to a state: columns resolved once, then a tight loop over rows.
fn add_group(state: &mut PeriodState, g: &RowGroup, detail: bool) {
    // hourly-only scans read the first TRAFFIC_COLUMNS columns; the rest read as NULL
    let text = |i: usize| g.columns.get(i).map_or(StrView::Missing, ColumnValues::str_view);
    let int = |i: usize| g.columns.get(i).map_or(IntView::Missing, ColumnValues::int_view);
    let (ip, ua, method, raw, path) = (text(0), text(1), text(4), text(5), text(8));
    let (browser, os, device, referrer) = (text(9), text(10), text(11), text(12));
    let (status, bytes, duration) = (int(2), int(3), int(7));
    let bot = g.columns.get(6).and_then(ColumnValues::bool_view);
    for i in 0..g.rows {
        let facts = RowFacts {
            client_ip: ip.get(i).map(str::as_bytes),
            user_agent: ua.get(i),
            status: status.get(i),
            bytes: bytes.get(i),
            method: method.get(i),
            invalid_request: raw.get(i).is_some(),
            is_bot: bot.and_then(|b| b.get(i)),
            duration_us: duration.get(i),
            path: path.get(i).map(str::as_bytes),
            ua_browser: browser.get(i),
            ua_os: os.get(i),
            ua_device: device.get(i),
            referrer_host: referrer.get(i),
            user_agent_hash: None,
            agent_id: None,
            referrer_id: None,
        };
        if detail {
            state.add(&facts);
        } else {
            state.add_traffic(&facts);
        }
    }
}

/// The state of one UTC hour.
pub type HourState = ((Date, u8), PeriodState);

/// Scans the curated hours asked for, in parallel: one state per (date, hour).
/// With `detail`, also the per-path, status, user-agent and referrer groups the daily tables need.
///
/// # Errors
/// Reading the curated table failed (the error names the file).
pub fn compute_hours(
    store: &Store,
    hours: &[(Date, u8)],
    detail: bool,
) -> Result<Vec<HourState>, AggregateError> {
    let curated = Table::new(store, &ACCESS_LOGS);
    let snapshot = curated.snapshot()?;
    hours
        .par_iter()
        .map(|&(date, hour)| {
            let mut state = PeriodState::default();
            let Some(partition) = PartitionKey::hour(date, hour) else {
                return Ok(((date, hour), state));
            };
            let wanted = if detail { &COLUMNS[..] } else { &COLUMNS[..TRAFFIC_COLUMNS] };
            let options = ScanOptions::columns(wanted.iter().copied()).in_partitions(vec![partition]);
            // row groups fold into per-group states that merge into the hour's
            curated.scan(&snapshot, &options, |group| {
                add_group(&mut state, &group, detail);
                Ok(())
            })?;
            // sort the distinct pairs here, on this hour's worker
            state.compact();
            Ok(((date, hour), state))
        })
        .collect()
}

fn period_start(date: Date, hour: u8) -> i64 {
    let (y, m, d) = date.ymd();
    Timestamp::from_utc(i32::from(y), m, d, hour, 0, 0).map_or(0, Timestamp::unix_micros)
}

fn count(n: u64) -> Value<'static> {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn float(x: Option<f64>) -> Value<'static> {
    x.map_or(Value::Null, Value::Float)
}

fn traffic_row(start: i64, state: &PeriodState) -> Vec<Value<'static>> {
    let t = &state.traffic;
    let errors = t.status[3] + t.status[4];
    let mut row = vec![Value::Int(start), count(t.requests), count(t.bytes)];
    row.extend(t.status.iter().map(|&n| count(n)));
    row.push(if t.requests == 0 { Value::Null } else { Value::Float(errors as f64 / t.requests as f64) });
    row.extend([count(state.clients()), count(state.visitors()), count(t.bots), count(t.requests - t.bots)]);
    row.extend(t.methods.iter().map(|&n| count(n)));
    row.push(count(t.invalid));
    row.extend([0.5, 0.95, 0.99].map(|q| float(t.bytes_quantile(q))));
    row.extend([0.5, 0.95, 0.99].map(|q| float(t.duration_quantile(q))));
    row
}

fn one_file(
    table: &Table,
    partition: PartitionKey,
    batch: &str,
    rows: &[Vec<Value<'_>>],
) -> Result<(String, Vec<loglake_catalog::StagedFile>), AggregateError> {
    let mut b = BatchBuilder::new(table.def());
    for r in rows {
        b.push(r)?;
    }
    let file = table.write_file(partition, batch, &b.finish()?)?;
    Ok((batch.to_owned(), vec![file]))
}

/// Recomputes `agg/hourly_traffic` for these hours and replaces their rows in one commit.
///
/// # Errors
/// Reading the curated table or writing the aggregate table failed.
pub fn refresh_hours(
    store: &Store,
    hours: &[(Date, u8)],
    job: &str,
) -> Result<CommitOutcome, AggregateError> {
    let states = compute_hours(store, hours, false)?;
    let table = Table::new(store, &HOURLY_TRAFFIC);
    let batches = states
        .iter()
        .filter_map(|((date, hour), state)| PartitionKey::hour(*date, *hour).map(|p| (p, state)))
        .map(|(p, state)| {
            let row = traffic_row(period_start(p.dt, p.hour.unwrap_or(0)), state);
            one_file(&table, p, &p.to_string(), &[row])
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table.commit_batches(&batches, json!({"job": job, "hours": batches.len()}))?)
}

/// The result of [`refresh_days`] for each daily table.
pub type DailyOutcomes = Vec<(&'static TableDef, CommitOutcome)>;

/// Recomputes every daily table for these dates (from their 24 hours) and replaces each table's
/// rows for them in one commit per table. `top_paths` bounds `agg/daily_top_paths` per day.
///
/// # Errors
/// Reading the curated table or writing an aggregate table failed.
pub fn refresh_days(
    store: &Store,
    dates: &[Date],
    top_paths: usize,
    job: &str,
) -> Result<DailyOutcomes, AggregateError> {
    let days = compute_days(store, dates)?;
    write_days(store, &days, top_paths, job)
}

/// The state of each of these UTC days, read back from the curated table (its 24 hours,
/// scanned in parallel and merged).
///
/// # Errors
/// Reading the curated table failed (the error names the file).
pub fn compute_days(store: &Store, dates: &[Date]) -> Result<BTreeMap<Date, PeriodState>, AggregateError> {
    let hours: Vec<(Date, u8)> = dates.iter().flat_map(|d| (0..24).map(move |h| (*d, h))).collect();
    let mut days: BTreeMap<Date, PeriodState> = dates.iter().map(|d| (*d, PeriodState::default())).collect();
    for ((date, _), state) in compute_hours(store, &hours, true)? {
        days.entry(date).or_default().merge(&state);
    }
    for day in days.values_mut() {
        day.compact();
    }
    Ok(days)
}

/// Writes the daily tables of these days from their states (however they were built: read
/// back by [`compute_days`], or accumulated while the rows were written) and replaces each
/// table's rows for them in one commit per table.
///
/// # Errors
/// Writing or committing an aggregate table failed.
pub fn write_days(
    store: &Store,
    days: &BTreeMap<Date, PeriodState>,
    top_paths: usize,
    job: &str,
) -> Result<DailyOutcomes, AggregateError> {
    let mut out = Vec::new();
    for def in [&DAILY_TRAFFIC, &DAILY_TOP_PATHS, &DAILY_STATUS, &DAILY_USER_AGENTS, &DAILY_REFERRERS] {
        let table = Table::new(store, def);
        let mut batches = Vec::new();
        for (date, day) in days {
            let rows = daily_rows(def, *date, day, top_paths);
            batches.push(one_file(&table, PartitionKey::day(*date), &format!("dt={date}"), &rows)?);
        }
        out.push((def, table.commit_batches(&batches, json!({"job": job, "days": days.len()}))?));
    }
    Ok(out)
}

fn daily_rows<'a>(def: &TableDef, date: Date, day: &'a PeriodState, top_paths: usize) -> Vec<Vec<Value<'a>>> {
    let opt = |s: &'a Option<String>| s.as_deref().map_or(Value::Null, Value::Str);
    match def.name {
        "daily_traffic" => vec![traffic_row(period_start(date, 0), day)],
        "daily_top_paths" => {
            let mut paths = day.paths();
            paths.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(b.0)));
            paths
                .into_iter()
                .take(top_paths)
                .enumerate()
                .map(|(i, (path, c))| {
                    vec![
                        Value::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                        opt(path),
                        count(c.requests),
                        count(c.bytes),
                        count(c.status_4xx),
                        count(c.status_5xx),
                        count(c.clients),
                    ]
                })
                .collect()
        }
        "daily_status" => day
            .statuses()
            .into_iter()
            .map(|(s, (n, b))| vec![s.map_or(Value::Null, Value::Int), count(n), count(b)])
            .collect(),
        "daily_user_agents" => {
            let mut rows = day.agents();
            rows.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(b.0)));
            rows.into_iter()
                .map(|((br, os, dev, bot), c)| {
                    vec![
                        opt(br),
                        opt(os),
                        opt(dev),
                        bot.map_or(Value::Null, Value::Bool),
                        count(c.requests),
                        count(c.clients),
                    ]
                })
                .collect()
        }
        _ => {
            let mut rows = day.referrers();
            rows.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(b.0)));
            rows.into_iter().map(|(h, c)| vec![opt(h), count(c.requests), count(c.clients)]).collect()
        }
    }
}
