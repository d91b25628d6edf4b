//! The `etl-daily` job: raw objects of some arrival days → `curated/access_logs` (by event
//! time) + `curated/rejects`, one commit per table, then the daily aggregates of every event
//! date touched.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::Instant;

use loglake_aggregate::{compute_days, write_days, PendingClients, PeriodState};
// named points where the crash tests make the job die like `kill -9`
use loglake_catalog::crash_point;
use loglake_catalog::{
    raw_partition_prefix, BatchBuilder, Codec, CommitOutcome, Date, PartitionKey, StagedFile, Table,
    WriteOptions, ACCESS_LOGS, REJECTS,
};
use loglake_parser::{Lines, LogRecord, Parser, ParserConfig};
use loglake_storage::{ObjectMeta, Store};
use rayon::prelude::*;
use serde_json::{json, Value as Json};

use crate::anonymize::IpAnonymizer;
use crate::features::{push_reject_row, write_access_row, Features, Reason, Source};
use crate::upload::PipelineError;

/// Rows buffered per partition before a file is written (bounds memory per object).
const FLUSH_ROWS: usize = 250_000;

/// The daily aggregate states of the rows one worker thread wrote, by UTC date.
type DayStates = Vec<(Date, PeriodState)>;

/// One [`DayStates`] per worker thread of the pool, built while the rows are written: when the
/// run turns out to hold every row of a date, its daily tables come from these states instead
/// of reading the date back (see [`run_daily`]). A thread locks only its own slot, for a whole
/// segment; a segment that finds its slot taken gets states of its own ([`WorkerStates`]).
struct Accumulators {
    slots: Vec<std::sync::Mutex<DayStates>>,
    /// Pair keys a worker's states may hold before they are merged ([`FLUSH_PAIRS`]).
    flush_pairs: usize,
    /// Where a worker's states go when they grow past [`FLUSH_PAIRS`]: memory stays about
    /// one day's distinct pairs plus a bounded amount per worker, whatever the thread count.
    merged: std::sync::Mutex<BTreeMap<Date, PeriodState>>,
}

/// Pair keys (8 bytes each, a few buffers of them) a worker's states may hold before they are
/// merged into the shared states, by default.
const FLUSH_PAIRS: usize = 2 << 20;

/// Adds `state` to the one of `date`: sorted in as far as its buffers require
/// ([`PeriodState::merge`]), or, `unsorted`, left for one parallel [`PeriodState::compact`].
fn merge_into(days: &mut BTreeMap<Date, PeriodState>, date: Date, state: PeriodState, unsorted: bool) {
    match days.entry(date) {
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(state);
        }
        std::collections::btree_map::Entry::Occupied(mut e) if unsorted => e.get_mut().merge_unsorted(&state),
        std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&state),
    }
}

impl Accumulators {
    fn new(flush_pairs: usize) -> Self {
        Accumulators {
            slots: (0..rayon::current_num_threads().max(1)).map(|_| Default::default()).collect(),
            flush_pairs,
            merged: Default::default(),
        }
    }

    /// The calling worker's states: its slot, or new states when the slot is held already.
    ///
    /// A worker holds its slot for a whole segment. Should anything it calls meanwhile wait
    /// in a rayon join (until 2026-12-03 merging large states did), the worker runs other
    /// queued jobs in the meantime: another segment, on the same thread, whose `lock` of the
    /// same slot would wait forever. So the slot is only tried; whoever finds it taken gets
    /// states of its own, which [`finish_segment`](Self::finish_segment) merges into the
    /// shared ones.
    fn mine(&self) -> WorkerStates<'_> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        match self.slots[i].try_lock() {
            Ok(slot) => WorkerStates::Slot(slot),
            Err(std::sync::TryLockError::Poisoned(p)) => WorkerStates::Slot(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => WorkerStates::Own(DayStates::new()),
        }
    }

    /// Hands back a segment's states: a slot's stay there until they grow large; states of
    /// the segment's own are merged into the shared ones now.
    fn finish_segment(&self, states: WorkerStates<'_>) {
        match states {
            WorkerStates::Slot(mut slot) => {
                if slot.iter().map(|(_, s)| s.pair_keys()).sum::<usize>() >= self.flush_pairs {
                    self.flush(&mut slot);
                }
            }
            WorkerStates::Own(mut own) => self.flush(&mut own),
        }
    }

    /// Moves states into the shared ones. `PeriodState::merge` runs on this thread, without
    /// rayon: a join here could start a segment that flushes too, and wait for this lock.
    fn flush(&self, states: &mut DayStates) {
        let mut merged = self.merged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (date, state) in states.drain(..) {
            merge_into(&mut merged, date, state, false);
        }
    }

    /// Every thread's state of each date, merged. The workers are done and no lock is held:
    /// the slots' pairs are sorted in by one `compact` per date, its four kinds in parallel,
    /// instead of one kind after another inside each merge, with a core idle (the end of
    /// the anchors' day took 0.108 s before, 0.056 s after: `scripts/ab-end-phase.sh`,
    /// docs/performance.md).
    fn into_days(self) -> BTreeMap<Date, PeriodState> {
        let mut days = self.merged.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in self.slots {
            for (date, state) in slot.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
                merge_into(&mut days, date, state, true);
            }
        }
        for day in days.values_mut() {
            day.compact();
        }
        days
    }
}

/// The day states a segment adds its rows to ([`Accumulators::mine`]).
enum WorkerStates<'a> {
    /// The worker's slot, locked.
    Slot(std::sync::MutexGuard<'a, DayStates>),
    /// The segment's own: its worker's slot was held further up the same thread.
    Own(DayStates),
}

impl std::ops::Deref for WorkerStates<'_> {
    type Target = DayStates;

    fn deref(&self) -> &DayStates {
        match self {
            WorkerStates::Slot(s) => s,
            WorkerStates::Own(s) => s,
        }
    }
}

impl std::ops::DerefMut for WorkerStates<'_> {
    fn deref_mut(&mut self) -> &mut DayStates {
        match self {
            WorkerStates::Slot(s) => s,
            WorkerStates::Own(s) => s,
        }
    }
}

/// The index of `date`'s state in a worker's states, created empty on first sight.
fn day_state(states: &mut DayStates, date: Date) -> usize {
    match states.iter().position(|(d, _)| *d == date) {
        Some(i) => i,
        None => {
            states.push((date, PeriodState::default()));
            states.len() - 1
        }
    }
}

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
    /// Decompressed bytes per segment, the unit of parallel work inside one object (default
    /// 32 MiB). Memory grows with threads x segment size; see docs/performance.md.
    pub segment_bytes: usize,
    /// Only the raw objects of this shard: `(i, n)` takes the objects whose key hashes to `i`
    /// modulo `n` (xxh3, stable across runs and machines). Sharded runs leave the daily tables
    /// to a final [`aggregates_only`](Self::aggregates_only) run.
    pub shard: Option<Shard>,
    /// Ingest nothing: refresh the daily tables of every event date that the already ingested
    /// objects of these arrival dates touched (the last step after sharded runs).
    pub aggregates_only: bool,
    /// Anonymize client addresses (curated `client`/`client_ip`, and the leading address of
    /// rejected lines) before anything is written.
    pub anonymize_ip: Option<IpAnonymizer>,
    /// Pair keys (distinct client/group pairs, 8 bytes each) a worker's daily states may hold
    /// before they merge into the run's shared states (default 2 Mi): bounds the memory of
    /// the daily states at about one day's distinct pairs plus this much per worker.
    pub daily_flush_pairs: usize,
    /// Page compression of the curated and rejects files (default zstd level 1; the daily
    /// tables, a few rows a day, keep the default).
    pub compression: Codec,
}

/// One shard of a sharded run: shard `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// Whether the raw object `key` belongs to this shard.
    #[must_use]
    pub fn owns(&self, key: &str) -> bool {
        xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % u64::from(self.count.max(1)) == u64::from(self.index)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `i/N`, e.g. `0/4` .. `3/4`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad shard `{s}`: expected i/N with 0 <= i < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Debug for DailyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DailyOptions")
            .field("dates", &self.dates)
            .field("reprocess", &self.reprocess)
            .field("top_paths", &self.top_paths)
            .field("segment_bytes", &self.segment_bytes)
            .field("shard", &self.shard)
            .field("aggregates_only", &self.aggregates_only)
            .field("anonymize_ip", &self.anonymize_ip)
            .field("daily_flush_pairs", &self.daily_flush_pairs)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl DailyOptions {
    /// Options for some dates with a parser.
    #[must_use]
    pub fn new(dates: Vec<Date>, parser: ParserConfig) -> Self {
        DailyOptions {
            dates,
            parser,
            reprocess: false,
            top_paths: 1000,
            progress: None,
            segment_bytes: SEGMENT_BYTES,
            shard: None,
            aggregates_only: false,
            anonymize_ip: None,
            daily_flush_pairs: FLUSH_PAIRS,
            compression: WriteOptions::default().codec,
        }
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
    /// Dates whose daily tables came from the states built while the rows were written (the
    /// run wrote every row of those dates).
    pub daily_from_memory: Vec<Date>,
    /// Dates whose daily tables were recomputed by reading the date back from the table.
    pub daily_read_back: Vec<Date>,
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
            "daily_from_memory": self.daily_from_memory.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "daily_read_back": self.daily_read_back.iter().map(ToString::to_string).collect::<Vec<_>>(),
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

/// Default decompressed bytes per segment: the unit of parallel work inside one object. Segments end at
/// a line boundary (a line longer than this makes its segment longer), so which rows land in
/// which file depends only on the object's bytes, never on thread timing.
const SEGMENT_BYTES: usize = 32 << 20;

/// Bytes asked of the decoder per read.
const READ_BYTES: usize = 1 << 20;

/// A run of whole lines of one object.
struct Segment {
    index: usize,
    first_line: u64,
    /// The segment's lines are `data[..len]`; past `len` lie stale bytes of an earlier
    /// segment (buffers stay initialized, so reading into them zeroes nothing).
    data: Vec<u8>,
    len: usize,
    /// The read error that ended the object here (truncated gzip, I/O).
    error: Option<String>,
}

impl Segment {
    /// The segment's lines.
    fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Cuts a decoded object into [`Segment`]s; iterated under rayon's `par_bridge`, so whoever
/// asks for the next segment decompresses it while the other workers parse theirs.
struct Segments<'p, R> {
    reader: R,
    size: usize,
    carry: Vec<u8>,
    next_line: u64,
    index: usize,
    done: bool,
    buffers: &'p Buffers,
}

impl<'p, R: Read> Segments<'p, R> {
    fn new(reader: R, size: usize, buffers: &'p Buffers) -> Self {
        Segments {
            reader,
            size: size.max(1),
            carry: Vec::new(),
            next_line: 1,
            index: 0,
            done: false,
            buffers,
        }
    }
}

/// Segment buffers handed back after use: a run reuses a few buffers instead of mapping
/// fresh memory (and taking its page faults) for every segment.
#[derive(Default)]
struct Buffers(std::sync::Mutex<Vec<Vec<u8>>>);

impl Buffers {
    /// A buffer, its old contents left in place (callers track how much of it is theirs).
    fn take(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop().unwrap_or_default()
    }

    fn give(&self, b: Vec<u8>) {
        let mut pool = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // at most a few per worker are ever in flight
        if pool.len() < 2 * rayon::current_num_threads() + 2 {
            pool.push(b);
        }
    }
}

impl<R: Read> Iterator for Segments<'_, R> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        if self.done {
            return None;
        }
        let mut data = self.buffers.take();
        let mut len = self.carry.len();
        if data.len() < len {
            data.resize(len, 0);
        }
        data[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut error = None;
        let mut eof = false;
        // read at least SEGMENT_BYTES, then on to the end of the line in progress; the buffer
        // grows (zeroed once) only past what an earlier segment initialized
        while len < self.size || memchr::memchr(b'\n', &data[..len]).is_none() {
            if data.len() < len + READ_BYTES {
                data.resize(len + READ_BYTES, 0);
            }
            match self.reader.read(&mut data[len..len + READ_BYTES]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e.to_string());
                    eof = true;
                    break;
                }
            }
        }
        if eof {
            self.done = true;
            if len == 0 && error.is_none() && self.index > 0 {
                self.buffers.give(data);
                return None;
            }
        } else if let Some(end) = memchr::memrchr(b'\n', &data[..len]) {
            self.carry.extend_from_slice(&data[end + 1..len]);
            len = end + 1;
        }
        let segment = Segment { index: self.index, first_line: self.next_line, data, len, error };
        self.index += 1;
        self.next_line += memchr::memchr_iter(b'\n', segment.bytes()).count() as u64;
        Some(segment)
    }
}

/// What one segment produced.
#[derive(Default)]
struct SegmentOutput {
    lines: u64,
    rows: u64,
    rejects: BTreeMap<&'static str, u64>,
    curated: Vec<StagedFile>,
    reject_files: Vec<StagedFile>,
    hours: BTreeSet<(Date, u8)>,
}

/// Where a segment's rows go.
struct Target<'a> {
    curated: Table,
    rejects: Table,
    object: String,
    batch: String,
    reject_partition: PartitionKey,
    /// Daily states to add the rows to (none in sharded runs, which leave the daily tables to
    /// a final `--aggregates-only` run).
    accumulators: Option<&'a Accumulators>,
}

/// Room for a new partition's rows: half the lines of a segment of `len` bytes still to come
/// after `lines` lines of `consumed` bytes (the current one included), at most
/// [`FLUSH_ROWS`]. Half, because a segment usually spans more than one hour and room reserved
/// for rows that never come is memory held until the segment ends; a builder that outgrows it
/// grows once or twice by doubling.
fn remaining_lines(len: usize, consumed: usize, lines: u64) -> usize {
    let per_line = consumed / usize::try_from(lines.max(1)).unwrap_or(usize::MAX);
    (len.saturating_sub(consumed) / per_line.max(1) / 2 + 1).min(FLUSH_ROWS)
}

/// The worker's text hint for a new builder of `rows` rows, each column's room capped at the
/// bytes of the segment still to come (no column of those rows can hold more): a hint taken
/// from a batch of very long lines must not reserve more than the segment has.
fn text_room(hint: &[usize], rows: usize, left: usize) -> Vec<usize> {
    let most = left / rows.max(1);
    hint.iter().map(|h| (*h).min(most)).collect()
}

/// A curated builder for the rows of a segment of `len` bytes still to come after `lines`
/// lines of `consumed` bytes: room for [`remaining_lines`] rows, and for their text by the
/// worker's `hint` ([`text_room`]).
fn curated_builder(len: usize, consumed: usize, lines: u64, hint: &[usize]) -> BatchBuilder {
    let rows = remaining_lines(len, consumed, lines);
    let room = text_room(hint, rows, len.saturating_sub(consumed));
    BatchBuilder::with_capacity_hint(&ACCESS_LOGS, rows, &room)
}

/// Parses one segment into staged curated and reject files.
fn ingest_segment(
    target: &Target<'_>,
    parser: &Parser,
    features: &mut Features,
    segment: &Segment,
) -> Result<SegmentOutput, PipelineError> {
    let (object, batch) = (&target.object, &target.batch);
    let source = Source::new(object);
    let mut states = target.accumulators.map(Accumulators::mine);
    let mut out = SegmentOutput::default();
    // builders by partition; rows come in time order mostly, so the partition of the last row
    // (its UTC hour since the epoch, its builder and its day state) is kept at hand
    let mut parts: Vec<(PartitionKey, BatchBuilder)> = Vec::new();
    let mut current: Option<(i64, usize, Option<usize>)> = None;
    // rows whose daily-state client lookups wait (`PeriodState::add_deferred`), and the day
    // state they belong to: resolved into it before another state takes rows, and at the end
    let mut pending = PendingClients::default();
    let mut pending_for: Option<usize> = None;
    let mut rejects = BatchBuilder::new(&REJECTS);
    // bytes of the lines read so far: a new partition's builder gets room for half the
    // segment's remaining lines (`remaining_lines`)
    let mut consumed = 0usize;
    // one record for the segment, filled in place line after line (moving a new one out of
    // each parse copied a few hundred bytes, more than once)
    let mut record = LogRecord::default();
    for line in Lines::starting_at(segment.bytes(), segment.first_line) {
        out.lines += 1;
        consumed += line.bytes().len() + 1;
        let parsed = parser.parse_line_into(line.bytes(), &mut record).map(|()| &record);
        let reason = match &parsed {
            Ok(r) => match (r.time(), out_of_range(r)) {
                // a format without a time cannot be partitioned by event time
                (None, _) => Reason::Other("no_time"),
                (Some(_), Some(code)) => Reason::Other(code),
                (Some(t), None) => {
                    let hour = t.unix_micros().div_euclid(3_600_000_000);
                    let (part, state) = match current {
                        Some((h, part, state)) if h == hour => (part, state),
                        _ => {
                            let (y, m, d) = t.utc_date();
                            let key = u16::try_from(y)
                                .ok()
                                .and_then(|y| Date::new(y, m, d))
                                .and_then(|dt| PartitionKey::hour(dt, t.utc_hour()));
                            // years outside 1-9999 after the UTC shift
                            let Some(key) = key else {
                                *out.rejects.entry("time_out_of_range").or_default() += 1;
                                push_reject_row(
                                    &mut rejects,
                                    line.bytes(),
                                    Reason::Other("time_out_of_range"),
                                    object,
                                    line.number(),
                                    features.anonymize.as_ref(),
                                )?;
                                continue;
                            };
                            let part = match parts.iter().position(|(k, _)| *k == key) {
                                Some(i) => i,
                                None => {
                                    let len = segment.bytes().len();
                                    let b = curated_builder(len, consumed, out.lines, &features.text_hint);
                                    parts.push((key, b));
                                    parts.len() - 1
                                }
                            };
                            let state = states.as_deref_mut().map(|s| day_state(s, key.dt));
                            out.hours.insert((key.dt, key.hour.unwrap_or(0)));
                            current = Some((hour, part, state));
                            (part, state)
                        }
                    };
                    let (key, b) = &mut parts[part];
                    let state = match (states.as_deref_mut(), state) {
                        (Some(s), Some(i)) => {
                            if pending_for != Some(i) {
                                if let Some(j) = pending_for {
                                    s[j].1.resolve(&mut pending);
                                }
                                pending_for = Some(i);
                            }
                            Some((&mut s[i].1, &mut pending))
                        }
                        _ => None,
                    };
                    write_access_row(b, r, source, line.number(), features, state)?;
                    out.rows += 1;
                    if b.len() >= FLUSH_ROWS {
                        features.text_hint = b.text_bytes_per_row();
                        let len = segment.bytes().len();
                        let next = curated_builder(len, consumed, out.lines, &features.text_hint);
                        let full = std::mem::replace(b, next);
                        out.curated.push(target.curated.write_file(*key, batch, &full.finish()?)?);
                    }
                    continue;
                }
            },
            Err(e) => {
                *out.rejects.entry(e.code()).or_default() += 1;
                push_reject_row(
                    &mut rejects,
                    line.bytes(),
                    Reason::Parse(e),
                    object,
                    line.number(),
                    features.anonymize.as_ref(),
                )?;
                if rejects.len() >= FLUSH_ROWS {
                    let full = std::mem::replace(&mut rejects, BatchBuilder::new(&REJECTS));
                    out.reject_files.push(target.rejects.write_file(
                        target.reject_partition,
                        batch,
                        &full.finish()?,
                    )?);
                }
                continue;
            }
        };
        if let Reason::Other(code) = reason {
            *out.rejects.entry(code).or_default() += 1;
        }
        push_reject_row(
            &mut rejects,
            line.bytes(),
            reason,
            object,
            line.number(),
            features.anonymize.as_ref(),
        )?;
    }
    // files in partition order, whatever order the rows came in
    parts.sort_by_key(|(k, _)| *k);
    if let Some((_, b)) = parts.iter().max_by_key(|(_, b)| b.len()) {
        features.text_hint = b.text_bytes_per_row();
    }
    for (key, b) in parts {
        if !b.is_empty() {
            out.curated.push(target.curated.write_file(key, batch, &b.finish()?)?);
        }
    }
    if !rejects.is_empty() {
        out.reject_files.push(target.rejects.write_file(
            target.reject_partition,
            batch,
            &rejects.finish()?,
        )?);
    }
    if let (Some(acc), Some(mut states)) = (target.accumulators, states) {
        if let Some(j) = pending_for {
            states[j].1.resolve(&mut pending);
        }
        acc.finish_segment(states);
    }
    Ok(out)
}

/// A parsed value the curated schema cannot hold (sizes and durations are signed 64-bit):
/// rejected with a reason rather than stored as NULL, so no value silently changes.
fn out_of_range(r: &LogRecord<'_>) -> Option<&'static str> {
    let too_big = |v: Option<u64>| v.is_some_and(|v| i64::try_from(v).is_err());
    if too_big(r.response_bytes()) {
        Some("bytes_out_of_range")
    } else if too_big(r.duration_micros()) {
        Some("duration_out_of_range")
    } else {
        None
    }
}

/// Parses one raw object into staged curated and reject files: its segments in parallel, each
/// worker with its own parser and agent cache.
fn ingest_object(
    store: &Store,
    options: &DailyOptions,
    meta: &ObjectMeta,
    arrival: Date,
    accumulators: Option<&Accumulators>,
    buffers: &Buffers,
) -> Result<ObjectOutput, PipelineError> {
    let t0 = Instant::now();
    let object = store.describe(&meta.key);
    let _span = tracing::info_span!("object", object = %object).entered();
    let mut write = WriteOptions::default();
    write.codec = options.compression;
    let target = Target {
        curated: Table::new(store, &ACCESS_LOGS).with_options(write),
        rejects: Table::new(store, &REJECTS).with_options(write),
        object: object.clone(),
        batch: batch_of(meta).0,
        reject_partition: PartitionKey::day(arrival),
        accumulators,
    };
    let mut segments: Vec<(usize, Option<String>, Result<SegmentOutput, PipelineError>)> =
        Segments::new(store.open_decoded(&meta.key)?, options.segment_bytes, buffers)
            .par_bridge()
            .map_init(
                || (options.parser.build(), Features::with_anonymizer(options.anonymize_ip.clone())),
                |(parser, features), seg| {
                    if seg.index == 1 {
                        crash_point("mid-object");
                    }
                    let out = ingest_segment(&target, parser, features, &seg);
                    buffers.give(seg.data);
                    (seg.index, seg.error, out)
                },
            )
            .collect();
    segments.sort_by_key(|s| s.0);
    let mut out = ObjectOutput {
        report: ObjectReport { object, bytes_in: meta.size, ..ObjectReport::default() },
        curated: Vec::new(),
        rejects: Vec::new(),
        hours: BTreeSet::new(),
    };
    let report = &mut out.report;
    for (_, error, seg) in segments {
        let seg = seg?;
        report.lines += seg.lines;
        report.rows += seg.rows;
        for (k, v) in seg.rejects {
            *report.rejects.entry(k).or_default() += v;
        }
        out.curated.extend(seg.curated);
        out.rejects.extend(seg.reject_files);
        out.hours.extend(seg.hours);
        if let Some(e) = error {
            tracing::error!(error = %e, "object could not be read to its end");
            report.error = Some(e);
        }
    }
    tracing::info!(
        lines = report.lines,
        rows = report.rows,
        files = out.curated.len() + out.rejects.len(),
        seconds = t0.elapsed().as_secs_f64(),
        "object ingested"
    );
    Ok(out)
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
    let _span = tracing::info_span!("etl-daily", dates = ?options.dates).entered();
    let curated_t = Table::new(store, &ACCESS_LOGS);
    let rejects_t = Table::new(store, &REJECTS);
    let ingested = IngestHistory::read(store)?;
    let mut work = Vec::new();
    let mut skipped_dates = BTreeSet::new();
    let mut report = DailyReport::default();
    for date in &options.dates {
        for meta in store.list(&raw_partition_prefix(*date))? {
            let hidden = meta.key.file_name().starts_with(['_', '.']);
            let other_shard = options.shard.is_some_and(|s| !s.owns(meta.key.as_str()));
            if hidden || other_shard {
                continue;
            }
            let (_, marker) = batch_of(&meta);
            if options.aggregates_only {
                skipped_dates.extend(ingested.dates_of(&marker));
                continue;
            }
            if !options.reprocess && ingested.contains(&marker) {
                // its rows are committed, but a run that died before the aggregates may have
                // left the daily tables behind: refresh them (a no-op commit when current)
                skipped_dates.extend(ingested.dates_of(&marker));
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
    if !work.is_empty() {
        crate::agent::prewarm_agents();
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let lines = std::sync::atomic::AtomicU64::new(0);
    let accumulators = options.shard.is_none().then(|| Accumulators::new(options.daily_flush_pairs));
    let buffers = Buffers::default();
    let outputs: Vec<ObjectOutput> = work
        .par_iter()
        .map_init(
            || (),
            |(), (meta, date)| {
                let out = ingest_object(store, options, meta, *date, accumulators.as_ref(), &buffers);
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
    crash_point("before-commit");
    let touched_dates: BTreeSet<Date> = report.touched_hours.iter().map(|(d, _)| *d).collect();
    if !work.is_empty() {
        let markers: Vec<String> = work.iter().map(|(m, _)| batch_of(m).1).collect();
        let info = json!({"job": "etl-daily", "sources": sources, "ingested": markers,
            "touched_dates": touched_dates.iter().map(ToString::to_string).collect::<Vec<_>>()});
        // rejects first: an object counts as ingested only once BOTH tables hold its marker,
        // and the curated commit is the one `IngestHistory` reads dates from
        report.rejects = Some(rejects_t.commit_batches(&reject_batches, info.clone())?);
        crash_point("between-commits");
        report.curated = Some(curated_t.commit_batches(&curated_batches, info)?);
        crash_point("after-commits");
        tracing::info!(
            objects = work.len(),
            seconds = t0.elapsed().as_secs_f64(),
            "curated and rejects committed"
        );
    }
    let dates: Vec<Date> = touched_dates.union(&skipped_dates).copied().collect();
    // shards leave the daily tables to one final `aggregates_only` run
    if !dates.is_empty() && options.shard.is_none() {
        crash_point("before-aggregates");
        // a date whose live files are exactly the ones this run wrote has its daily state in
        // memory already; any other date (earlier runs' files, skipped objects, a concurrent
        // writer) is read back from the table
        let owned =
            if work.is_empty() { BTreeSet::new() } else { owned_dates(&curated_t, &curated_batches)? };
        let mut days = accumulators.map(Accumulators::into_days).unwrap_or_default();
        days.retain(|d, _| owned.contains(d) && touched_dates.contains(d));
        let reread: Vec<Date> = dates.iter().filter(|d| !days.contains_key(d)).copied().collect();
        tracing::info!(from_memory = days.len(), read_back = reread.len(), "daily aggregates");
        report.daily_from_memory = days.keys().copied().collect();
        report.daily_read_back.clone_from(&reread);
        days.extend(compute_days(store, &reread)?);
        for (def, o) in write_days(store, &days, options.top_paths, "etl-daily")? {
            report.daily.push((def.name, o));
        }
        tracing::info!(
            dates = dates.len(),
            seconds = t0.elapsed().as_secs_f64(),
            "daily aggregates refreshed"
        );
    }
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// The UTC dates whose live curated files are exactly files of `batches` (as committed by
/// this run): the rows of such a date are the rows this run wrote, no more, no fewer.
fn owned_dates(
    curated: &Table,
    batches: &[(String, Vec<StagedFile>)],
) -> Result<BTreeSet<Date>, PipelineError> {
    let date_of = |path: &str| -> Option<Date> { path.strip_prefix("dt=")?.get(..10)?.parse().ok() };
    let mut ours: BTreeMap<Date, BTreeSet<&str>> = BTreeMap::new();
    for file in batches.iter().flat_map(|(_, files)| files) {
        if let Some(d) = date_of(file.path()) {
            ours.entry(d).or_default().insert(file.path());
        }
    }
    let snapshot = curated.snapshot()?;
    let mut live: BTreeMap<Date, BTreeSet<&str>> = BTreeMap::new();
    for path in snapshot.files.keys() {
        if let Some(d) = date_of(path) {
            if ours.contains_key(&d) {
                live.entry(d).or_default().insert(path.as_str());
            }
        }
    }
    Ok(ours.into_iter().filter(|(d, files)| live.get(d) == Some(files)).map(|(d, _)| d).collect())
}

/// What the tables' histories say was ingested: `key#etag` markers and the event dates of the
/// runs that ingested them.
struct IngestHistory {
    /// Marker → event dates its run touched (from the curated table).
    curated: BTreeMap<String, BTreeSet<Date>>,
    /// Markers the rejects table committed.
    rejects: BTreeSet<String>,
}

impl IngestHistory {
    fn read(store: &Store) -> Result<Self, PipelineError> {
        let mut curated = BTreeMap::new();
        for (_, info) in Table::new(store, &ACCESS_LOGS).history()? {
            let info = &info["loglake"]["info"];
            let dates: BTreeSet<Date> = info["touched_dates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str()?.parse().ok())
                .collect();
            for m in info["ingested"].as_array().into_iter().flatten().filter_map(Json::as_str) {
                curated.entry(m.to_owned()).or_insert_with(BTreeSet::new).extend(dates.iter().copied());
            }
        }
        let mut rejects = BTreeSet::new();
        for (_, info) in Table::new(store, &REJECTS).history()? {
            let list = info["loglake"]["info"]["ingested"].as_array().into_iter().flatten();
            rejects.extend(list.filter_map(|m| m.as_str().map(str::to_owned)));
        }
        Ok(IngestHistory { curated, rejects })
    }

    /// Whether both tables committed this object version.
    fn contains(&self, marker: &str) -> bool {
        self.curated.contains_key(marker) && self.rejects.contains(marker)
    }

    /// The event dates the run that ingested `marker` touched.
    fn dates_of(&self, marker: &str) -> impl Iterator<Item = Date> + '_ {
        self.curated.get(marker).into_iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::{day_state, remaining_lines, text_room, Accumulators, WorkerStates, FLUSH_ROWS};
    use loglake_aggregate::{PeriodState, RowFacts};
    use loglake_catalog::Date;

    /// One request of `date` added to a worker's states.
    fn add_request(states: &mut WorkerStates<'_>, date: Date) {
        let i = day_state(states, date);
        let mut row = RowFacts::default();
        row.client_ip = Some(b"10.0.0.1");
        row.status = Some(200);
        states[i].1.add(&row);
    }

    #[test]
    fn a_segment_that_finds_its_slot_held_gets_its_own_states_and_loses_none() {
        // what a worker waiting inside a rayon join does: start another segment while its
        // own segment, further up the same thread, holds the slot (`lock` would never return)
        let acc = Accumulators::new(usize::MAX);
        let day = "2020-05-31".parse::<Date>().unwrap();
        let mut outer = acc.mine();
        assert!(matches!(outer, WorkerStates::Slot(_)));
        let mut inner = acc.mine();
        assert!(matches!(inner, WorkerStates::Own(_)), "the held slot is not waited for");
        add_request(&mut inner, day);
        add_request(&mut inner, day);
        acc.finish_segment(inner);
        add_request(&mut outer, day);
        acc.finish_segment(outer);
        // the slot is free again
        assert!(matches!(acc.mine(), WorkerStates::Slot(_)));
        let days = acc.into_days();
        let state: &PeriodState = &days[&day];
        assert_eq!(state.traffic.requests, 3, "the inner segment's rows are merged, not dropped");
        assert_eq!(state.clients(), 1);
    }

    #[test]
    fn text_room_never_exceeds_the_segment_left() {
        // a hint from 1 MB lines, for 1,000 rows with 50 kB of segment left: 50 bytes a row
        assert_eq!(text_room(&[0, 1 << 20, 12], 1_000, 50_000), vec![0, 50, 12]);
        assert_eq!(text_room(&[7], 0, 10), vec![7], "no rows: the whole segment at most");
        assert_eq!(text_room(&[7, 9], 10, 0), vec![0, 0], "nothing left");
        assert!(text_room(&[], 10, 100).is_empty());
    }

    #[test]
    fn remaining_lines_follow_the_mean_line_length() {
        // 10 lines of 100 bytes read out of 10,000 bytes: 90 to come, room for half (+1)
        assert_eq!(remaining_lines(10_000, 1_000, 10), 46);
        assert_eq!(remaining_lines(10_000, 10_000, 100), 1, "at the end");
        assert_eq!(remaining_lines(1 << 40, 100, 1), FLUSH_ROWS, "bounded");
        assert_eq!(remaining_lines(100, 0, 0), 51, "nothing read yet: no division by zero");
    }
}
