//! Storage errors: each names the backend, the object (`s3://bucket/key` or a path) and the
//! operation, keeps its cause, and never carries credentials.

use std::io;

/// A boxed cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A lake location that cannot be used.
    #[error("invalid lake location `{location}`: {reason}")]
    InvalidLocation {
        /// The location as given.
        location: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A key that could escape the root, or is otherwise malformed.
    #[error("invalid object key `{key}`: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The object does not exist.
    #[error("{object}: no such object")]
    NotFound {
        /// The object, as `s3://bucket/key` or a path.
        object: String,
    },
    /// The bucket does not exist (or is not visible with these credentials).
    #[error("s3://{bucket}: no such bucket")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
    },
    /// An S3 request failed (after the configured retries).
    #[error("S3 {op} {object} failed{}", status.map(|s| format!(" (HTTP {s}{})", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())).unwrap_or_default())]
    S3 {
        /// The operation (`GetObject`, `PutObject`, ...).
        op: &'static str,
        /// The object or prefix.
        object: String,
        /// HTTP status, when a response arrived.
        status: Option<u16>,
        /// S3 error code (`SlowDown`, `AccessDenied`, ...), when the response had one.
        code: Option<String>,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A local file operation failed.
    #[error("{op} {object}: {source}")]
    Io {
        /// The operation (`read`, `write`, `rename`, ...).
        op: &'static str,
        /// The file.
        object: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The object claims to be gzip (magic bytes) but does not decode: truncated or corrupt.
    #[error("{object}: corrupt or truncated gzip after {decoded_bytes} decoded bytes: {source}")]
    Decode {
        /// The object.
        object: String,
        /// Bytes decoded before the failure.
        decoded_bytes: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// A multipart upload failed and was aborted (no parts are left behind).
    #[error("upload of {object} failed and was aborted: {source}")]
    UploadAborted {
        /// The object.
        object: String,
        /// Why the upload failed.
        #[source]
        source: Box<StorageError>,
    },
}

impl StorageError {
    /// Whether this is [`StorageError::NotFound`].
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }

    /// Wraps into an `io::Error` (for `Read` implementations), keeping this error as the source.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            StorageError::NotFound { .. } => io::ErrorKind::NotFound,
            StorageError::Decode { .. } => io::ErrorKind::InvalidData,
            StorageError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}
