//! Catalog errors: each names the table, file or log entry it is about.

use loglake_storage::{BoxError, StorageError};

/// What went wrong in the catalog.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Not a `YYYY-MM-DD` date (or not a real one).
    #[error("invalid date `{0}`: expected YYYY-MM-DD")]
    InvalidDate(String),
    /// A storage operation failed (the error names the object).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A row that does not fit the table's schema.
    #[error("row does not fit the schema: {0}")]
    Row(String),
    /// Encoding or decoding Parquet failed.
    #[error("parquet {context}: {source}")]
    Format {
        /// The file or operation.
        context: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// A local temporary file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The table's Delta log is unreadable or inconsistent.
    #[error("{object}: invalid Delta log entry: {message}")]
    Log {
        /// The log file.
        object: String,
        /// What is wrong.
        message: String,
    },
    /// A concurrent commit touched the same batch: this commit was not made.
    #[error("{table}: commit conflict at version {version}: {message}")]
    Conflict {
        /// The table.
        table: String,
        /// The version another writer committed first.
        version: i64,
        /// What overlapped.
        message: String,
    },
}

pub(crate) fn format_err(context: impl Into<String>) -> impl FnOnce(arrow2::error::Error) -> CatalogError {
    let context = context.into();
    move |e| CatalogError::Format { context, source: Box::new(e) }
}
