//! The `etl-hourly` job: recompute the hourly (and optionally daily) aggregate tables.

use std::time::Instant;

use loglake_aggregate::{refresh_days, refresh_hours};
use loglake_catalog::{CommitOutcome, Date};
use loglake_storage::Store;
use serde_json::{json, Value as Json};

use crate::upload::PipelineError;

/// What an aggregation run did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AggregateReport {
    /// Hours recomputed.
    pub hours: Vec<(Date, u8)>,
    /// The hourly table's commit.
    pub hourly: CommitOutcome,
    /// Daily tables' commits (when asked for).
    pub daily: Vec<(&'static str, CommitOutcome)>,
    /// Wall time.
    pub seconds: f64,
}

fn outcome_json(o: &CommitOutcome) -> Json {
    match o {
        CommitOutcome::Committed { version, added, removed } => {
            json!({"committed": true, "version": version, "files_added": added, "files_removed": removed})
        }
        CommitOutcome::Unchanged { version } => json!({"committed": false, "version": version}),
        _ => json!({}),
    }
}

impl AggregateReport {
    /// The machine-readable report (`--report FILE`).
    #[must_use]
    pub fn to_json(&self) -> Json {
        json!({
            "job": "etl-hourly",
            "hours": self.hours.iter().map(|(d, h)| format!("{d}T{h:02}")).collect::<Vec<_>>(),
            "hourly_traffic": outcome_json(&self.hourly),
            "daily": self.daily.iter().map(|(t, o)| (t.to_string(), outcome_json(o))).collect::<serde_json::Map<_, _>>(),
            "seconds": self.seconds,
        })
    }

    /// A short human summary.
    #[must_use]
    pub fn summary(&self) -> String {
        let what = |o: &CommitOutcome| match o {
            CommitOutcome::Committed { version, .. } => format!("committed version {version}"),
            CommitOutcome::Unchanged { version } => format!("unchanged at version {version}"),
            _ => "done".to_owned(),
        };
        let mut s = format!(
            "etl-hourly: {} hour(s) in {:.2} s; agg/hourly_traffic {}",
            self.hours.len(),
            self.seconds,
            what(&self.hourly)
        );
        for (t, o) in &self.daily {
            s.push_str(&format!("; agg/{t} {}", what(o)));
        }
        s
    }
}

/// Recomputes `agg/hourly_traffic` for `hours` (a missing or empty hour gets a row of zeros) and,
/// with `daily`, every daily table for the dates of those hours.
///
/// # Errors
/// Reading the curated table or writing the aggregates failed (the error names the object).
pub fn run_hourly(
    store: &Store,
    hours: &[(Date, u8)],
    daily: bool,
    top_paths: usize,
) -> Result<AggregateReport, PipelineError> {
    let t0 = Instant::now();
    let hourly = refresh_hours(store, hours, "etl-hourly")?;
    let mut daily_outcomes = Vec::new();
    if daily {
        let mut dates: Vec<Date> = hours.iter().map(|(d, _)| *d).collect();
        dates.sort_unstable();
        dates.dedup();
        for (def, o) in refresh_days(store, &dates, top_paths, "etl-hourly")? {
            daily_outcomes.push((def.name, o));
        }
    }
    Ok(AggregateReport {
        hours: hours.to_vec(),
        hourly,
        daily: daily_outcomes,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
