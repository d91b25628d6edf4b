//! Object I/O for loglake: a local directory and Amazon S3 behind one small API.
//!
//! # Brief overview
//!
//! A [`Location`] (`s3://bucket/prefix`, `file:///abs/path`, or a path) opens a [`Store`].
//! Keys are [`ObjectKey`]s, validated so that nothing derived from data can reach outside the
//! root. A store lists (following S3 pagination to the end), heads, streams objects — raw or
//! [decoded](Store::open_decoded) by content (multi-member gzip or plain) — reads ranges,
//! writes (single request or multipart, aborted on failure), creates objects only if absent
//! (S3 `If-None-Match: *`, an atomic link on disk), deletes in batches and copies.
//!
//! This is the only crate that touches `aws-sdk-s3`. It never creates a tokio runtime: a
//! binary creates one and passes its handle to [`Store::open`]. Memory per open object is
//! bounded (a few chunks in flight, two 256 KiB buffers), whatever the object's size.
//!
//! ```
//! use std::io::Read;
//! use loglake_storage::{Location, ObjectKey, S3Options, Store};
//!
//! let dir = std::env::temp_dir().join(format!("loglake-lib-doc-{}", std::process::id()));
//! let location: Location = dir.to_str().unwrap().parse()?;
//! let store = Store::open(&location, &S3Options::default(), None)?; // local: no runtime needed
//! let key = ObjectKey::new("raw/access_logs/dt=2020-05-31/web.log")?;
//! store.put_bytes(&key, b"127.0.0.1 - - ...\n")?;
//! let mut text = String::new();
//! store.open_decoded(&key)?.read_to_string(&mut text).unwrap();
//! assert!(text.starts_with("127.0.0.1"));
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), loglake_storage::StorageError>(())
//! ```
//!
//! # Errors
//!
//! [`StorageError`] names the operation and the object (`s3://bucket/key` or a path), keeps
//! the cause, and never contains credentials. S3 requests are retried (throttling, 5xx,
//! timeouts, resets) with exponential backoff; every retry is a `tracing` warning.

mod decode;
mod error;
mod local;
mod location;
mod s3;
mod store;

pub use decode::{Compression, DecodedReader};
pub use error::{BoxError, StorageError};
pub use location::{Location, ObjectKey};
pub use s3::{S3Options, StaticCredentials};
pub use store::{ObjectMeta, ObjectReader, PutOutcome, Store};
