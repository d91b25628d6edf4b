//! The lake's tables: layout, schemas, Parquet files and the Delta Lake log.
//!
//! # Brief overview
//!
//! A [`TableDef`] ([`ACCESS_LOGS`], [`REJECTS`], ...) says where a table lives, its columns
//! and its partitioning. [`BatchBuilder`] collects rows as [`Value`]s and yields a [`Batch`],
//! sorted by the table's sort column. A [`Table`] writes a batch as one Parquet file into a
//! [`PartitionKey`] (`dt=YYYY-MM-DD/hour=HH`, UTC) and then commits a batch's files to the
//! Delta log in one atomic commit (storage's put-if-absent) that replaces the batch's previous
//! files — so reruns replace instead of duplicating, and readers never see half a batch.
//!
//! This is the only crate that uses arrow2 / parquet2 (unmaintained upstream; arrow2 carries
//! RUSTSEC-2025-0038, in an API we never call): they stay behind the types above, so moving
//! to the official `arrow` / `parquet` crates touches this crate only.
//!
//! ```
//! use loglake_catalog::{BatchBuilder, PartitionKey, Table, Value, REJECTS};
//! use loglake_storage::Store;
//!
//! let dir = std::env::temp_dir().join(format!("loglake-catalog-doc-{}", std::process::id()));
//! let store = Store::local(&dir);
//! let mut rows = BatchBuilder::new(&REJECTS);
//! rows.push(&[Value::Str("raw/a.log"), Value::Int(7), Value::Str("bad_date"), Value::Int(16),
//!             Value::Bytes(b"1.2.3.4 - - [31/Feb/2020..."), Value::Str("1.2.3.4 - - [31/Feb/2020...")])?;
//! let table = Table::new(&store, &REJECTS);
//! let file = table.write_file(PartitionKey::day("2020-05-31".parse()?), "raw/a.log", &rows.finish()?)?;
//! table.commit_batch("raw/a.log", &[file], serde_json::json!({"job": "doc"}))?;
//! assert_eq!(table.snapshot()?.num_records(), 1);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), loglake_catalog::CatalogError>(())
//! ```

mod batch;
mod checkpoint;
mod ddl;
mod delta;
mod error;
mod layout;
mod pages;
mod parquet;
mod reader;
mod schema;
mod table;

pub use batch::{dict_id, Batch, BatchBuilder, DictMemo, RowWriter, Value};
pub use ddl::{ddl, Engine};
pub use delta::{
    commit_file_name, decode_commit, Action, Add, MetaData, PartitionValues, Protocol, Remove, Snapshot,
    BATCH_TAG,
};
pub use error::CatalogError;
pub use layout::{raw_object_key, raw_partition_prefix, Date, RAW_ACCESS_LOGS};
pub use parquet::{write_parquet, Codec, WriteOptions};
pub use reader::{ColumnValues, IntView, RowGroup, ScanOptions, ScanStats, StrView};
pub use schema::{
    data_model_markdown, table_by_name, Column, ColumnType, Partitioning, TableDef, ACCESS_LOGS,
    DAILY_REFERRERS, DAILY_STATUS, DAILY_TOP_PATHS, DAILY_TRAFFIC, DAILY_USER_AGENTS, HOURLY_TRAFFIC,
    REJECTS, TABLES,
};
pub use table::{CommitOutcome, PartitionKey, PartitionSummary, StagedFile, Table};

/// A named point where a job can be made to die like `kill -9`: with `LOGLAKE_CRASH_AT=NAME`
/// in the environment the process aborts there (no destructors, no flush, no cleanup). The
/// crash tests use it to prove that a rerun after a crash at any point gives the tables of a
/// clean run. Points: `checkpoint` here (checkpoint file written, `_last_checkpoint` not yet),
/// and the `etl-daily` points in `loglake-pipeline`.
pub fn crash_point(name: &str) {
    if std::env::var_os("LOGLAKE_CRASH_AT").is_some_and(|v| v == name) {
        tracing::error!(point = name, "LOGLAKE_CRASH_AT: aborting");
        std::process::abort();
    }
}
