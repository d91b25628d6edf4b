//! The `etl-daily` job: raw objects of some arrival days → `curated/access_logs` (by event
//! time) + `curated/rejects`, one commit per table, then the daily aggregates of every event
//! date touched.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::Instant;

use loglake_aggregate::refresh_days;
use loglake_catalog::{
    raw_partition_prefix, BatchBuilder, CommitOutcome, Date, PartitionKey, StagedFile, Table, ACCESS_LOGS,
    REJECTS,
};
use loglake_parser::{split_complete, Lines, Parser, ParserConfig};
use loglake_storage::{ObjectMeta, Store};
use rayon::prelude::*;
use serde_json::{json, Value as Json};

use crate::features::{push_access_row, push_reject_row, Reason};
use crate::upload::PipelineError;

/// Rows buffered per partition before a file is written (bounds memory per object).
const FLUSH_ROWS: usize = 250_000;

/// Called after each raw object: (objects done, objects to do, lines read so far).
pub type Progress = std::sync::Arc<dyn Fn(usize, usize, u64) + Send + Sync>;

/// What the daily job should do.
#[derive(Clone)]
#[non_exhaustive]
pub struct DailyOptions {
    /// Arrival dates whose raw objects to ingest.
    pub dates: Vec<Date>,
    /// The parser configuration (formats and leniency); each worker builds its own parser.
    pub parser: ParserConfig,
    /// Re-ingest objects already ingested.
    pub reprocess: bool,
    /// Rows of `agg/daily_top_paths` per day.
    pub top_paths: usize,
    /// Progress callback (the binary draws a line on a terminal).
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for DailyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DailyOptions")
            .field("dates", &self.dates)
            .field("reprocess", &self.reprocess)
            .field("top_paths", &self.top_paths)
            .finish_non_exhaustive()
    }
}

impl DailyOptions {
    /// Options for some dates with a parser.
    #[must_use]
    pub fn new(dates: Vec<Date>, parser: ParserConfig) -> Self {
        DailyOptions { dates, parser, reprocess: false, top_paths: 1000, progress: None }
    }
}

/// One raw object's accounting: lines read = rows + rejects, always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectReport {
    /// The object.
    pub object: String,
    /// Lines read (after decompression).
    pub lines: u64,
    /// Curated rows.
    pub rows: u64,
    /// Rejected lines, by reason code.
    pub rejects: BTreeMap<&'static str, u64>,
    /// Compressed bytes of the object.
    pub bytes_in: u64,
    /// Set when the object could not be read to its end (truncated gzip, I/O): the lines before
    /// the error are kept and counted, the rest is lost and the object is named here.
    pub error: Option<String>,
    /// Skipped: already ingested with the same ETag.
    pub skipped: bool,
}

/// What a daily run did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DailyReport {
    /// Per raw object.
    pub objects: Vec<ObjectReport>,
    /// Event-time hours that received rows (for `etl-hourly`).
    pub touched_hours: BTreeSet<(Date, u8)>,
    /// Commits of the curated tables.
    pub curated: Option<CommitOutcome>,
    /// Commits of the rejects table.
    pub rejects: Option<CommitOutcome>,
    /// Daily aggregate commits.
    pub daily: Vec<(&'static str, CommitOutcome)>,
    /// Wall time.
    pub seconds: f64,
}

impl DailyReport {
    /// Lines read in all objects.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.objects.iter().map(|o| o.lines).sum()
    }

    /// Curated rows.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.objects.iter().map(|o| o.rows).sum()
    }

    /// Rejected lines.
    #[must_use]
    pub fn rejects(&self) -> u64 {
        self.objects.iter().flat_map(|o| o.rejects.values()).sum()
    }

    /// Objects that could not be read to their end.
    #[must_use]
    pub fn failed_objects(&self) -> Vec<&ObjectReport> {
        self.objects.iter().filter(|o| o.error.is_some()).collect()
    }

    /// The machine-readable report (`--report FILE`).
    #[must_use]
    pub fn to_json(&self) -> Json {
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for o in &self.objects {
            for (k, v) in &o.rejects {
                *reasons.entry(k).or_default() += v;
            }
        }
        json!({
            "job": "etl-daily",
            "objects": self.objects.iter().map(|o| json!({
                "object": o.object, "lines": o.lines, "rows": o.rows, "rejects": o.rejects,
                "bytes_in": o.bytes_in, "skipped": o.skipped, "error": o.error,
            })).collect::<Vec<_>>(),
            "lines": self.lines(), "rows": self.rows(), "rejected": self.rejects(), "rejects_by_reason": reasons,
            "touched_hours": self.touched_hours.iter().map(|(d, h)| format!("{d}T{h:02}")).collect::<Vec<_>>(),
            "touched_dates": self.touched_hours.iter().map(|(d, _)| d.to_string()).collect::<BTreeSet<_>>(),
            "seconds": self.seconds,
            "lines_per_second": self.lines() as f64 / self.seconds.max(1e-9),
        })
    }

    /// A short human summary.
    #[must_use]
    pub fn summary(&self) -> String {
        let skipped = self.objects.iter().filter(|o| o.skipped).count();
        let failed = self.failed_objects();
        let mut s = format!(
            "etl-daily: {} object(s) ({} skipped as already ingested), {} lines -> {} rows + {} rejects in {:.2} s ({:.0} lines/s); {} hour partition(s) touched",
            self.objects.len(),
            skipped,
            self.lines(),
            self.rows(),
            self.rejects(),
            self.seconds,
            self.lines() as f64 / self.seconds.max(1e-9),
            self.touched_hours.len()
        );
        for o in failed {
            s.push_str(&format!(
                "\n  INCOMPLETE {}: {} (kept {} lines read before it)",
                o.object,
                o.error.as_deref().unwrap_or(""),
                o.lines
            ));
        }
        s
    }
}

/// The batch id of a raw object, and the marker that says which ETag was ingested.
fn batch_of(meta: &ObjectMeta) -> (String, String) {
    (meta.key.to_string(), format!("{}#{}", meta.key, meta.etag))
}

struct ObjectOutput {
    report: ObjectReport,
    curated: Vec<StagedFile>,
    rejects: Vec<StagedFile>,
    hours: BTreeSet<(Date, u8)>,
}

/// Parses one raw object into staged curated and reject files.
fn ingest_object(
    store: &Store,
    parser: &Parser,
    meta: &ObjectMeta,
    arrival: Date,
) -> Result<ObjectOutput, PipelineError> {
    let curated_t = Table::new(store, &ACCESS_LOGS);
    let rejects_t = Table::new(store, &REJECTS);
    let object = store.describe(&meta.key);
    let (batch, _) = batch_of(meta);
    let mut report = ObjectReport { object: object.clone(), bytes_in: meta.size, ..ObjectReport::default() };
    let mut parts: BTreeMap<PartitionKey, BatchBuilder> = BTreeMap::new();
    let mut rejects = BatchBuilder::new(&REJECTS);
    let mut curated_files = Vec::new();
    let mut reject_files = Vec::new();
    let mut hours = BTreeSet::new();
    let reject_partition = PartitionKey::day(arrival);

    let mut reader = store.open_decoded(&meta.key)?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 1 << 20];
    let mut next_line = 1u64;
    let mut eof = false;
    while !eof {
        match reader.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                report.error = Some(e.to_string());
                tracing::error!(object = %object, error = %e, "object could not be read to its end");
                eof = true;
            }
        }
        // whole lines only, except at the end of the object
        let (complete, rest) = if eof { (&buf[..], &buf[..0]) } else { split_complete(&buf) };
        let rest_len = rest.len();
        for line in Lines::starting_at(complete, next_line) {
            report.lines += 1;
            next_line = line.number() + 1;
            match parser.parse_line(line.bytes()) {
                Ok(r) => {
                    let Some(t) = r.time() else {
                        // a format without a time cannot be partitioned by event time
                        *report.rejects.entry("no_time").or_default() += 1;
                        push_reject_row(
                            &mut rejects,
                            line.bytes(),
                            Reason::Other("no_time"),
                            &object,
                            line.number(),
                        )?;
                        continue;
                    };
                    let (y, m, d) = t.utc_date();
                    let key = u16::try_from(y)
                        .ok()
                        .and_then(|y| Date::new(y, m, d))
                        .and_then(|dt| PartitionKey::hour(dt, t.utc_hour()));
                    let Some(key) = key else {
                        // years outside 1-9999 after the UTC shift
                        *report.rejects.entry("time_out_of_range").or_default() += 1;
                        push_reject_row(
                            &mut rejects,
                            line.bytes(),
                            Reason::Other("time_out_of_range"),
                            &object,
                            line.number(),
                        )?;
                        continue;
                    };
                    let b = parts.entry(key).or_insert_with(|| BatchBuilder::new(&ACCESS_LOGS));
                    push_access_row(b, &r, &object, line.number())?;
                    report.rows += 1;
                    hours.insert((key.dt, key.hour.unwrap_or(0)));
                    if b.len() >= FLUSH_ROWS {
                        let full = std::mem::replace(b, BatchBuilder::new(&ACCESS_LOGS));
                        curated_files.push(curated_t.write_file(key, &batch, &full.finish()?)?);
                    }
                }
                Err(e) => {
                    *report.rejects.entry(e.code()).or_default() += 1;
                    push_reject_row(&mut rejects, line.bytes(), Reason::Parse(&e), &object, line.number())?;
                    if rejects.len() >= FLUSH_ROWS {
                        let full = std::mem::replace(&mut rejects, BatchBuilder::new(&REJECTS));
                        reject_files.push(rejects_t.write_file(reject_partition, &batch, &full.finish()?)?);
                    }
                }
            }
        }
        let start = buf.len() - rest_len;
        buf.drain(..start);
    }
    for (key, b) in parts {
        if !b.is_empty() {
            curated_files.push(curated_t.write_file(key, &batch, &b.finish()?)?);
        }
    }
    if !rejects.is_empty() {
        reject_files.push(rejects_t.write_file(reject_partition, &batch, &rejects.finish()?)?);
    }
    Ok(ObjectOutput { report, curated: curated_files, rejects: reject_files, hours })
}

/// Runs the daily job: ingest every raw object of the arrival dates (skipping those already
/// ingested with the same ETag unless `reprocess`), commit curated rows and rejects in one
/// commit per table, then recompute the daily aggregates of every event date touched.
///
/// # Errors
/// Listing the raw area, writing or committing failed. An object that cannot be read to its
/// end is not an error: its readable lines are kept and the report names it.
pub fn run_daily(store: &Store, options: &DailyOptions) -> Result<DailyReport, PipelineError> {
    let t0 = Instant::now();
    let curated_t = Table::new(store, &ACCESS_LOGS);
    let rejects_t = Table::new(store, &REJECTS);
    let ingested = ingested_markers(store)?;
    let mut work = Vec::new();
    let mut report = DailyReport::default();
    for date in &options.dates {
        for meta in store.list(&raw_partition_prefix(*date))? {
            let hidden = meta.key.file_name().starts_with(['_', '.']);
            if hidden {
                continue;
            }
            let (_, marker) = batch_of(&meta);
            if !options.reprocess && ingested.contains(&marker) {
                report.objects.push(ObjectReport {
                    object: store.describe(&meta.key),
                    skipped: true,
                    ..Default::default()
                });
                continue;
            }
            work.push((meta, *date));
        }
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let lines = std::sync::atomic::AtomicU64::new(0);
    let outputs: Vec<ObjectOutput> = work
        .par_iter()
        .map_init(
            || options.parser.build(),
            |parser, (meta, date)| {
                let out = ingest_object(store, parser, meta, *date);
                if let (Some(progress), Ok(o)) = (&options.progress, &out) {
                    use std::sync::atomic::Ordering::Relaxed;
                    let n = done.fetch_add(1, Relaxed) + 1;
                    let l = lines.fetch_add(o.report.lines, Relaxed) + o.report.lines;
                    progress(n, work.len(), l);
                }
                out
            },
        )
        .collect::<Result<_, _>>()?;
    let mut curated_batches = Vec::new();
    let mut reject_batches = Vec::new();
    let mut sources = Vec::new();
    for ((meta, _), out) in work.iter().zip(outputs) {
        let (batch, _) = batch_of(meta);
        sources.push(json!({"object": out.report.object, "etag": meta.etag, "lines": out.report.lines, "rows": out.report.rows,
            "rejects": out.report.rejects.values().sum::<u64>(), "error": out.report.error}));
        curated_batches.push((batch.clone(), out.curated));
        reject_batches.push((batch, out.rejects));
        report.touched_hours.extend(out.hours);
        report.objects.push(out.report);
    }
    if !work.is_empty() {
        let markers: Vec<String> = work.iter().map(|(m, _)| batch_of(m).1).collect();
        let info = json!({"job": "etl-daily", "sources": sources, "ingested": markers});
        report.curated = Some(curated_t.commit_batches(&curated_batches, info.clone())?);
        report.rejects = Some(rejects_t.commit_batches(&reject_batches, info)?);
    }
    let dates: Vec<Date> =
        report.touched_hours.iter().map(|(d, _)| *d).collect::<BTreeSet<_>>().into_iter().collect();
    if !dates.is_empty() {
        for (def, o) in refresh_days(store, &dates, options.top_paths, "etl-daily")? {
            report.daily.push((def.name, o));
        }
    }
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// The `key#etag` markers of every object the curated table's history says was ingested.
fn ingested_markers(store: &Store) -> Result<BTreeSet<String>, PipelineError> {
    let mut out = BTreeSet::new();
    for (_, info) in Table::new(store, &ACCESS_LOGS).history()? {
        if let Some(list) = info["loglake"]["info"]["ingested"].as_array() {
            out.extend(list.iter().filter_map(|m| m.as_str().map(str::to_owned)));
        }
    }
    Ok(out)
}
