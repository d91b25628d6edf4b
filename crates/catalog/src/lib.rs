//! The lake's layout: where every table and partition lives.
//!
//! This crate is the only one that knows table paths. Today it holds the raw landing area
//! (`raw/access_logs/dt=YYYY-MM-DD/`) and the partition date type; the curated and aggregate
//! tables, their schemas, Parquet I/O and the Delta Lake log arrive with the catalog issue.
//!
//! ```
//! use loglake_catalog::{raw_object_key, Date};
//!
//! let date = Date::from_file_name("web_access_log_20200531-125656.log.gz").unwrap();
//! assert_eq!(date.to_string(), "2020-05-31");
//! let key = raw_object_key(date, "web_access_log_20200531-125656.log.gz")?;
//! assert_eq!(key.as_str(), "raw/access_logs/dt=2020-05-31/web_access_log_20200531-125656.log.gz");
//! # Ok::<(), loglake_catalog::CatalogError>(())
//! ```

mod layout;

pub use layout::{raw_object_key, raw_partition_prefix, CatalogError, Date, RAW_ACCESS_LOGS};
