//! A Delta table of the lake: write data files, commit a batch atomically, replay the log.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use loglake_storage::{ObjectKey, Store};
use md5::{Digest, Md5};
use serde_json::{json, Value as Json};

use crate::batch::Batch;
use crate::delta::{
    batch_hash, commit_file_name, decode_commit, encode_commit, Action, Add, Format, MetaData,
    PartitionValues, Protocol, Remove, Snapshot, BATCH_TAG,
};
use crate::error::CatalogError;
use crate::layout::Date;
use crate::parquet::{encode_parquet, WriteOptions};
use crate::schema::{Partitioning, TableDef};

/// A partition of a table: `dt=YYYY-MM-DD[/hour=HH]` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey {
    /// The day.
    pub dt: Date,
    /// The hour, 0-23, for hourly tables.
    pub hour: Option<u8>,
}

impl PartitionKey {
    /// A daily partition.
    #[must_use]
    pub const fn day(dt: Date) -> Self {
        PartitionKey { dt, hour: None }
    }

    /// An hourly partition (`None` for an hour above 23).
    #[must_use]
    pub const fn hour(dt: Date, hour: u8) -> Option<Self> {
        if hour > 23 {
            return None;
        }
        Some(PartitionKey { dt, hour: Some(hour) })
    }

    /// Parses `dt=2020-05-31` or `dt=2020-05-31/hour=05`.
    ///
    /// # Errors
    /// [`CatalogError::InvalidDate`] for anything else.
    pub fn parse(path: &str) -> Result<Self, CatalogError> {
        let bad = || CatalogError::InvalidDate(path.to_owned());
        let mut parts = path.trim_end_matches('/').split('/');
        let dt: Date = parts.next().and_then(|p| p.strip_prefix("dt=")).ok_or_else(bad)?.parse()?;
        let hour = match parts.next() {
            None => None,
            Some(h) => {
                let digits = h.strip_prefix("hour=").filter(|d| d.len() == 2).ok_or_else(bad)?;
                Some(digits.parse::<u8>().ok().filter(|h| *h < 24).ok_or_else(bad)?)
            }
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(PartitionKey { dt, hour })
    }

    /// Delta `partitionValues` (`hour` as a plain integer string).
    #[must_use]
    pub fn values(&self) -> PartitionValues {
        let mut v = PartitionValues::new();
        v.insert("dt".into(), Some(self.dt.to_string()));
        if let Some(h) = self.hour {
            v.insert("hour".into(), Some(h.to_string()));
        }
        v
    }
}

impl fmt::Display for PartitionKey {
    /// The Hive-style path: `dt=2020-05-31/hour=05` (hour zero-padded).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dt={}", self.dt)?;
        if let Some(h) = self.hour {
            write!(f, "/hour={h:02}")?;
        }
        Ok(())
    }
}

/// A data file written to its final place but not yet part of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    add: Add,
}

impl StagedFile {
    /// Path relative to the table root.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.add.path
    }

    /// Size in bytes.
    #[must_use]
    pub fn size(&self) -> i64 {
        self.add.size
    }
}

/// Live files of one partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionSummary {
    /// Data files.
    pub files: usize,
    /// Rows (from the files' stats).
    pub rows: i64,
    /// Bytes.
    pub bytes: i64,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitOutcome {
    /// A new version was committed.
    Committed {
        /// The version.
        version: i64,
        /// Files added.
        added: usize,
        /// Files removed (and deleted from storage).
        removed: usize,
    },
    /// The table already held exactly these files for the batch: nothing to commit.
    Unchanged {
        /// The current version.
        version: i64,
    },
}

/// A table of the lake on a store.
#[derive(Debug, Clone)]
pub struct Table {
    store: Store,
    def: &'static TableDef,
    options: WriteOptions,
    checkpoint_interval: i64,
    delete_removed: bool,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A token unique to this writer and commit (process, time, counter).
fn txn_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let seed = format!("{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    hex(&Md5::digest(seed.as_bytes()))
}

const MAX_COMMIT_ATTEMPTS: usize = 20;

impl Table {
    /// The table `def` on `store` (nothing is read or written yet).
    #[must_use]
    pub fn new(store: &Store, def: &'static TableDef) -> Self {
        Table {
            store: store.clone(),
            def,
            options: WriteOptions::default(),
            checkpoint_interval: 10,
            delete_removed: true,
        }
    }

    /// Parquet options for the data files this handle writes.
    #[must_use]
    pub fn with_options(mut self, options: WriteOptions) -> Self {
        self.options = options;
        self
    }

    /// Keep the files a commit removes (for readers still reading an older version) and leave
    /// them to `lake vacuum --min-age-minutes`; by default they are deleted right after the
    /// commit, so plain Parquet readers always see exactly the table's rows.
    #[must_use]
    pub fn keep_removed_files(mut self, keep: bool) -> Self {
        self.delete_removed = !keep;
        self
    }

    /// Write a Parquet checkpoint of the log every `n` commits (default 10, as Delta does).
    #[must_use]
    pub fn with_checkpoint_interval(mut self, n: i64) -> Self {
        self.checkpoint_interval = n.max(1);
        self
    }

    /// The table definition.
    #[must_use]
    pub fn def(&self) -> &'static TableDef {
        self.def
    }

    /// The store the table lives on.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn key(&self, rel: &str) -> Result<ObjectKey, CatalogError> {
        Ok(ObjectKey::new(format!("{}/{rel}", self.def.path))?)
    }

    fn log_key(&self, version: i64) -> Result<ObjectKey, CatalogError> {
        self.key(&format!("_delta_log/{}", commit_file_name(version)))
    }

    /// Versions present in the log, ascending.
    fn versions(&self) -> Result<Vec<i64>, CatalogError> {
        let prefix = format!("{}/_delta_log/", self.def.path);
        let mut v: Vec<i64> = self
            .store
            .list(&prefix)?
            .into_iter()
            .filter_map(|m| {
                let name = m.key.file_name().to_owned();
                let digits = name.strip_suffix(".json")?;
                (digits.len() == 20 && digits.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| digits.parse().ok())?
            })
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    fn read_commit(&self, version: i64) -> Result<Vec<Action>, CatalogError> {
        let key = self.log_key(version)?;
        let bytes = self.store.get_bytes(&key)?;
        decode_commit(&bytes, &self.store.describe(&key))
    }

    /// The latest checkpoint version, from `_last_checkpoint` (`None` when there is none or
    /// it is unreadable: readers then replay the JSON commits).
    fn last_checkpoint(&self) -> Option<i64> {
        let key = self.key("_delta_log/_last_checkpoint").ok()?;
        let bytes = match self.store.get_bytes(&key) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read _last_checkpoint; replaying the log");
                return None;
            }
        };
        serde_json::from_slice::<Json>(&bytes).ok()?.get("version")?.as_i64()
    }

    fn checkpoint_key(&self, version: i64) -> Result<ObjectKey, CatalogError> {
        self.key(&format!("_delta_log/{version:020}.checkpoint.parquet"))
    }

    fn read_checkpoint(&self, version: i64) -> Result<Snapshot, CatalogError> {
        let key = self.checkpoint_key(version)?;
        let bytes = self.store.get_bytes(&key)?;
        crate::checkpoint::read(&bytes, version, &self.store.describe(&key))
    }

    /// Writes the checkpoint of `snap` and points `_last_checkpoint` at it.
    fn write_checkpoint(&self, snap: &Snapshot) -> Result<(), CatalogError> {
        let (chunk, rows) = crate::checkpoint::chunk(snap)?;
        let key = self.checkpoint_key(snap.version)?;
        let bytes = crate::parquet::encode_arrow(
            &crate::checkpoint::schema(),
            &chunk,
            rows,
            &self.options,
            &self.store.describe(&key),
        )?;
        self.store.put_bytes(&key, &bytes)?;
        crate::crash_point("checkpoint");
        let pointer = json!({"version": snap.version, "size": rows}).to_string();
        self.store.put_bytes(&self.key("_delta_log/_last_checkpoint")?, pointer.as_bytes())?;
        tracing::info!(table = self.def.path, version = snap.version, rows, "wrote checkpoint");
        Ok(())
    }

    /// The latest snapshot: the last checkpoint (if any) plus the commits after it.
    ///
    /// # Errors
    /// A storage error, a missing version in the sequence, or an unreadable commit.
    pub fn snapshot(&self) -> Result<Snapshot, CatalogError> {
        let versions = self.versions()?;
        let mut snap = Snapshot::empty();
        if let Some(cp) = self.last_checkpoint() {
            match self.read_checkpoint(cp) {
                Ok(s) => snap = s,
                Err(e) => tracing::warn!(error = %e, "unreadable checkpoint; replaying the log"),
            }
        }
        let from = snap.version;
        for v in versions.into_iter().filter(|v| *v > from) {
            if v != snap.version + 1 {
                return Err(CatalogError::Log {
                    object: self.store.describe(&self.log_key(v)?),
                    message: format!("version {} is missing before it", snap.version + 1),
                });
            }
            snap.apply(v, &self.read_commit(v)?);
        }
        Ok(snap)
    }

    /// Commit history: (version, commitInfo), oldest first.
    ///
    /// # Errors
    /// As [`snapshot`](Self::snapshot).
    pub fn history(&self) -> Result<Vec<(i64, Json)>, CatalogError> {
        let mut out = Vec::new();
        for v in self.versions()? {
            let info = self.read_commit(v)?.into_iter().find_map(|a| match a {
                Action::CommitInfo(i) => Some(i),
                _ => None,
            });
            out.push((v, info.unwrap_or(Json::Null)));
        }
        Ok(out)
    }

    /// Creates the table (version 0: protocol and metadata) unless it exists.
    ///
    /// # Errors
    /// A storage error.
    pub fn create_if_missing(&self) -> Result<(), CatalogError> {
        if !self.versions()?.is_empty() {
            return Ok(());
        }
        let id = hex(&Md5::digest(format!("{}-{}", self.def.path, txn_id()).as_bytes()));
        let uuid = format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32]);
        let actions = vec![
            Action::CommitInfo(json!({
                "timestamp": now_millis(),
                "operation": "CREATE TABLE",
                "operationParameters": {"partitionBy": serde_json::to_string(self.def.partitioning.columns()).unwrap_or_default()},
                "loglake": {"txnId": txn_id()},
            })),
            Action::Protocol(Protocol { min_reader_version: 1, min_writer_version: 2 }),
            Action::MetaData(MetaData {
                id: uuid,
                name: Some(self.def.name.to_owned()),
                description: Some(self.def.doc.to_owned()),
                format: Format { provider: "parquet".into(), options: Default::default() },
                schema_string: self.def.spark_schema_json(),
                partition_columns: self.def.partitioning.columns().iter().map(|c| (*c).to_owned()).collect(),
                configuration: Default::default(),
                created_time: Some(now_millis()),
            }),
        ];
        // losing the race to another creator is fine: the table exists either way
        self.store.put_if_absent_resolved(&self.log_key(0)?, &encode_commit(&actions))?;
        Ok(())
    }

    /// Writes `batch` as one Parquet file of `partition`, in its final place but not yet part
    /// of the table (plain Parquet readers could see it until it is committed or vacuumed).
    /// The name is derived from the batch id and the file's content, so rewriting the same
    /// rows produces the same name. On local disk the file reaches the disk in the background
    /// ([`Store::put_bytes_deferred`]); every commit first waits for that.
    ///
    /// # Errors
    /// Encoding, local I/O or storage errors; a partition that does not fit the table.
    pub fn write_file(
        &self,
        partition: PartitionKey,
        batch_id: &str,
        batch: &Batch,
    ) -> Result<StagedFile, CatalogError> {
        let hourly = self.def.partitioning == Partitioning::DayHour;
        if hourly != partition.hour.is_some() {
            return Err(CatalogError::Row(format!(
                "partition {partition} does not fit table {}",
                self.def.path
            )));
        }
        let rel_dir = partition.to_string();
        let bytes = encode_parquet(batch, &self.options, &format!("{}/{rel_dir}", self.def.path))?;
        // the name is a function of the batch and the content: a rerun that writes the same
        // rows writes the same file (a no-op commit), different rows a different file
        let content = xxhash_rust::xxh3::xxh3_128(&bytes);
        let name = format!("part-{}-{:016x}.parquet", batch_hash(batch_id), (content >> 64) as u64);
        let rel = format!("{rel_dir}/{name}");
        // flushed to disk in the background: the commit that makes it visible waits for it
        self.store.put_bytes_deferred(&self.key(&rel)?, &bytes)?;
        Ok(StagedFile {
            add: Add {
                path: rel,
                partition_values: partition.values(),
                size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                modification_time: now_millis(),
                data_change: true,
                stats: Some(batch.delta_stats()),
                tags: Some([(BATCH_TAG.to_owned(), batch_id.to_owned())].into()),
            },
        })
    }

    /// Makes `files` the table's files for `batch_id`, in one commit: removes the batch's
    /// previous files, adds the new ones. Concurrent commits of other batches are retried
    /// against; a concurrent commit that changed this batch differently is a
    /// [`CatalogError::Conflict`]. Files removed are deleted from storage after the commit.
    /// `info` is recorded in `commitInfo.loglake` (job, sources, line counts).
    ///
    /// # Errors
    /// [`CatalogError::Conflict`], or storage / log errors.
    pub fn commit_batch(
        &self,
        batch_id: &str,
        files: &[StagedFile],
        info: Json,
    ) -> Result<CommitOutcome, CatalogError> {
        self.commit_batches(&[(batch_id.to_owned(), files.to_vec())], info)
    }

    /// [`commit_batch`](Self::commit_batch) for several batches at once: one commit replaces
    /// all of them (e.g. the 24 hours of a day in an hourly table).
    ///
    /// # Errors
    /// As [`commit_batch`](Self::commit_batch).
    pub fn commit_batches(
        &self,
        batches: &[(String, Vec<StagedFile>)],
        info: Json,
    ) -> Result<CommitOutcome, CatalogError> {
        // the staged files are on disk before any commit can name them
        self.store.sync_deferred()?;
        self.create_if_missing()?;
        let wanted: Vec<BTreeSet<&str>> =
            batches.iter().map(|(_, files)| files.iter().map(StagedFile::path).collect()).collect();
        let ids: Vec<&str> = batches.iter().map(|(id, _)| id.as_str()).collect();
        let all_wanted: BTreeSet<&str> = wanted.iter().flatten().copied().collect();
        let mut seen_version: Option<i64> = None;
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let snap = self.snapshot()?;
            let current: Vec<BTreeSet<&str>> =
                ids.iter().map(|id| snap.batch_files(id).map(|a| a.path.as_str()).collect()).collect();
            if current == wanted {
                return Ok(CommitOutcome::Unchanged { version: snap.version });
            }
            if let Some(base) = seen_version {
                // someone committed since our last attempt: did they touch these batches?
                for (id, now) in ids.iter().zip(&current) {
                    let before = self.batch_paths_at(id, base)?;
                    if before.iter().map(String::as_str).ne(now.iter().copied()) {
                        return Err(CatalogError::Conflict {
                            table: self.def.path.to_owned(),
                            version: snap.version,
                            message: format!("another writer changed batch `{id}` concurrently"),
                        });
                    }
                }
            }
            let now = now_millis();
            let removes: Vec<Add> = ids
                .iter()
                .flat_map(|id| snap.batch_files(id))
                .filter(|a| !all_wanted.contains(a.path.as_str()))
                .cloned()
                .collect();
            let mut actions = vec![Action::CommitInfo(json!({
                "timestamp": now,
                "operation": "WRITE",
                "operationParameters": {"mode": "Overwrite", "batches": ids},
                "loglake": {"txnId": txn_id(), "batch": ids.join(","), "info": info},
            }))];
            actions.extend(removes.iter().map(|a| {
                Action::Remove(Remove {
                    path: a.path.clone(),
                    deletion_timestamp: Some(now),
                    data_change: true,
                    extended_file_metadata: Some(true),
                    partition_values: Some(a.partition_values.clone()),
                    size: Some(a.size),
                })
            }));
            actions.extend(
                batches
                    .iter()
                    .flat_map(|(_, files)| files)
                    .filter(|f| !snap.files.contains_key(f.path()))
                    .map(|f| Action::Add(f.add.clone())),
            );
            let added = actions.iter().filter(|a| matches!(a, Action::Add(_))).count();
            let version = snap.version + 1;
            if self.store.put_if_absent_resolved(&self.log_key(version)?, &encode_commit(&actions))? {
                if version % self.checkpoint_interval == 0 {
                    let mut after = snap.clone();
                    after.apply(version, &actions);
                    // the commit stands either way; a missing checkpoint only slows readers
                    if let Err(e) = self.write_checkpoint(&after) {
                        tracing::warn!(table = self.def.path, version, error = %e, "could not write a checkpoint");
                    }
                }
                let gone: Vec<ObjectKey> =
                    removes.iter().map(|a| self.key(&a.path)).collect::<Result<_, _>>()?;
                if self.delete_removed {
                    self.store.delete_many(&gone)?;
                }
                tracing::info!(table = self.def.path, version, added, removed = removes.len(), "committed");
                return Ok(CommitOutcome::Committed { version, added, removed: removes.len() });
            }
            tracing::info!(table = self.def.path, version, "lost the race for a version; re-reading");
            seen_version = Some(snap.version);
        }
        Err(CatalogError::Conflict {
            table: self.def.path.to_owned(),
            version: -1,
            message: format!("gave up after {MAX_COMMIT_ATTEMPTS} attempts"),
        })
    }

    /// Live files, rows and bytes per partition path (`dt=.../hour=..`), from a snapshot.
    #[must_use]
    pub fn partitions(snapshot: &Snapshot) -> BTreeMap<String, PartitionSummary> {
        let mut out: BTreeMap<String, PartitionSummary> = BTreeMap::new();
        for add in snapshot.files.values() {
            let part = add.path.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
            let e = out.entry(part).or_default();
            e.files += 1;
            e.bytes += add.size;
            e.rows += crate::delta::stats_records(add.stats.as_deref()).unwrap_or(0);
        }
        out
    }

    /// Data files under the table that no live version references (left by crashed runs),
    /// older than `min_age` (younger ones may belong to a run that has not committed yet).
    /// Names starting with `_` or `.` are never data files and are left alone.
    ///
    /// # Errors
    /// Storage or log errors.
    pub fn orphans(&self, min_age: std::time::Duration) -> Result<Vec<ObjectKey>, CatalogError> {
        let snap = self.snapshot()?;
        let cutoff = SystemTime::now().checked_sub(min_age).unwrap_or(UNIX_EPOCH);
        let root = format!("{}/", self.def.path);
        let mut out = Vec::new();
        for meta in self.store.list(&root)? {
            let rel = meta.key.as_str().strip_prefix(&root).unwrap_or(meta.key.as_str());
            let hidden = rel.split('/').any(|seg| seg.starts_with('_') || seg.starts_with('.'));
            let old_enough = meta.modified.is_none_or(|m| m <= cutoff);
            if !hidden && old_enough && !snap.files.contains_key(rel) {
                out.push(meta.key);
            }
        }
        Ok(out)
    }

    fn batch_paths_at(&self, batch_id: &str, version: i64) -> Result<BTreeSet<String>, CatalogError> {
        let mut snap = Snapshot::empty();
        for v in 0..=version {
            snap.apply(v, &self.read_commit(v)?);
        }
        Ok(snap.batch_files(batch_id).map(|a| a.path.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_round_trip() {
        let d: Date = "2020-05-31".parse().unwrap();
        let h = PartitionKey::hour(d, 5).unwrap();
        assert_eq!(h.to_string(), "dt=2020-05-31/hour=05");
        assert_eq!(PartitionKey::parse(&h.to_string()).unwrap(), h);
        let day = PartitionKey::day(d);
        assert_eq!(PartitionKey::parse("dt=2020-05-31/").unwrap(), day);
        assert_eq!(h.values().get("hour").cloned().flatten().as_deref(), Some("5"));
        assert!(PartitionKey::hour(d, 24).is_none());
        for bad in [
            "dt=2020-05-31/hour=5",
            "dt=2020-05-31/hour=24",
            "hour=01",
            "dt=2020-02-30",
            "dt=2020-05-31/hour=01/x",
        ] {
            assert!(PartitionKey::parse(bad).is_err(), "{bad}");
        }
    }
}
