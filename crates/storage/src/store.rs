//! `Store`: one small API over the local-disk and S3 backends.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tokio::runtime::Handle;

use crate::decode::DecodedReader;
use crate::error::StorageError;
use crate::local::LocalBackend;
use crate::location::{check_prefix, Location, ObjectKey};
use crate::s3::{S3Backend, S3Options, S3Reader};

/// What a listing or `head` says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The key, relative to the store root.
    pub key: ObjectKey,
    /// Size in bytes.
    pub size: u64,
    /// Entity tag: S3's `ETag` (without quotes); on disk, size and modification time. A changed
    /// object gets a new one.
    pub etag: String,
    /// Last modification time.
    pub modified: Option<SystemTime>,
}

/// The result of a put-if-absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutOutcome {
    /// This call created the object.
    Created,
    /// The object existed before this call; nothing was written.
    AlreadyExists,
    /// An attempt may have stored the object before its response was lost, and the retry
    /// found it present: it may be ours or another writer's. Read it back and compare a
    /// writer token ([`Store::put_if_absent_resolved`] does that).
    Uncertain,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(LocalBackend),
    S3(S3Backend),
}

/// An object store rooted at a [`Location`]: a local directory or an S3 bucket and prefix.
///
/// Cheap to clone. S3 calls block the calling thread on the tokio runtime the store was
/// opened with; call them from ordinary threads (rayon workers, `main`), not async tasks.
///
/// ```
/// use loglake_storage::{ObjectKey, PutOutcome, Store};
///
/// let dir = std::env::temp_dir().join(format!("loglake-doc-{}", std::process::id()));
/// let store = Store::local(&dir);
/// let key = ObjectKey::new("raw/access_logs/dt=2020-05-31/a.log")?;
/// store.put_bytes(&key, b"line\n")?;
/// assert_eq!(store.get_bytes(&key)?, b"line\n");
/// assert_eq!(store.list("raw/")?.len(), 1);
/// assert_eq!(store.put_if_absent(&key, b"other")?, PutOutcome::AlreadyExists);
/// store.delete_many(&[key])?;
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), loglake_storage::StorageError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    location: Location,
    backend: Backend,
}

/// A streaming object body (raw bytes; see [`Store::open_decoded`] for decoded text).
pub struct ObjectReader {
    inner: ReaderInner,
    object: String,
}

enum ReaderInner {
    File(File),
    S3(S3Reader),
}

impl std::fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReader").field("object", &self.object).finish_non_exhaustive()
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            ReaderInner::File(f) => f.read(buf).map_err(|source| {
                if source.kind() == io::ErrorKind::Interrupted {
                    return source;
                }
                StorageError::Io { op: "read", object: self.object.clone(), source }.into_io()
            }),
            ReaderInner::S3(r) => r.read(buf),
        }
    }
}

impl Store {
    /// A store on a local directory (created on first write).
    #[must_use]
    pub fn local(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Store { location: Location::Local(root.clone()), backend: Backend::Local(LocalBackend::new(root)) }
    }

    /// Opens a store. S3 locations need the handle of a tokio runtime that outlives the store
    /// (binaries create it; libraries never do); local ones ignore it.
    ///
    /// # Errors
    /// [`StorageError::InvalidLocation`] for an S3 location without a runtime handle.
    pub fn open(location: &Location, s3: &S3Options, runtime: Option<Handle>) -> Result<Self, StorageError> {
        match location {
            Location::Local(root) => Ok(Store::local(root.clone())),
            Location::S3 { bucket, prefix } => {
                let handle = runtime.ok_or_else(|| StorageError::InvalidLocation {
                    location: location.to_string(),
                    reason: "S3 needs a tokio runtime handle (Store::open was given none)",
                })?;
                Ok(Store {
                    location: location.clone(),
                    backend: Backend::S3(S3Backend::connect(bucket, prefix, s3, handle)),
                })
            }
        }
    }

    /// Where this store lives.
    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// How an object of this store is named in messages: `s3://bucket/prefix/key` or a path.
    #[must_use]
    pub fn describe(&self, key: &ObjectKey) -> String {
        self.location.display_key(key.as_str())
    }

    /// Checks the store can be used: the bucket exists (S3) or the directory can be created.
    ///
    /// # Errors
    /// [`StorageError::NoSuchBucket`], an S3 error (credentials, network), or an I/O error.
    pub fn check(&self) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(_) => {
                let root = self.location.local_root().unwrap_or(Path::new("."));
                std::fs::create_dir_all(root).map_err(|source| StorageError::Io {
                    op: "create lake directory",
                    object: root.display().to_string(),
                    source,
                })
            }
            Backend::S3(s) => s.check(),
        }
    }

    /// Every object whose key starts with `prefix`, sorted by key (S3 pagination is followed
    /// to the end). A missing prefix is an empty list.
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] for a prefix that could escape the root, or a backend error.
    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        check_prefix(prefix)?;
        match &self.backend {
            Backend::Local(l) => l.list(prefix),
            Backend::S3(s) => s.list(prefix),
        }
    }

    /// The object's metadata, `None` when it does not exist.
    ///
    /// # Errors
    /// A backend error other than "not found".
    pub fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError> {
        match &self.backend {
            Backend::Local(l) => l.head(key),
            Backend::S3(s) => s.head(key),
        }
    }

    /// Streams the object's raw bytes.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] naming the object, or a backend error.
    pub fn open_raw(&self, key: &ObjectKey) -> Result<ObjectReader, StorageError> {
        let object = self.describe(key);
        let inner = match &self.backend {
            Backend::Local(l) => ReaderInner::File(l.open(key)?),
            Backend::S3(s) => ReaderInner::S3(s.open(key)?),
        };
        Ok(ObjectReader { inner, object })
    }

    /// Streams the object's content decoded by what it is (gzip, any number of members, or
    /// plain), not by its name. Read errors name the object.
    ///
    /// # Errors
    /// As [`open_raw`](Self::open_raw).
    pub fn open_decoded(&self, key: &ObjectKey) -> Result<DecodedReader<ObjectReader>, StorageError> {
        let raw = self.open_raw(key)?;
        DecodedReader::new(raw, &self.describe(key))
    }

    /// The whole object in memory (for small objects: commit files, manifests).
    ///
    /// # Errors
    /// As [`open_raw`](Self::open_raw), plus read errors.
    pub fn get_bytes(&self, key: &ObjectKey) -> Result<Vec<u8>, StorageError> {
        let mut out = Vec::new();
        self.open_raw(key)?.read_to_end(&mut out).map_err(|e| into_storage(e, &self.describe(key)))?;
        Ok(out)
    }

    /// Bytes `range.start..range.end` of the object (shorter at its end; empty past it).
    ///
    /// # Errors
    /// [`StorageError::NotFound`] or a backend error.
    pub fn get_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        match &self.backend {
            Backend::Local(l) => l.get_range(key, range.start, range.end),
            Backend::S3(s) => s.get_range(key, range.start, range.end),
        }
    }

    /// Writes (or replaces) an object from a reader; returns the bytes written. Readers of the
    /// key see the old object or the new one, never part of it.
    ///
    /// # Errors
    /// A backend error; on S3 a failed multipart upload is aborted first
    /// ([`StorageError::UploadAborted`]).
    pub fn put_reader(&self, key: &ObjectKey, data: &mut dyn Read) -> Result<u64, StorageError> {
        match &self.backend {
            Backend::Local(l) => l.put(key, data),
            Backend::S3(s) => s.put(key, data),
        }
    }

    /// Writes (or replaces) an object from memory.
    ///
    /// # Errors
    /// As [`put_reader`](Self::put_reader).
    pub fn put_bytes(&self, key: &ObjectKey, data: &[u8]) -> Result<(), StorageError> {
        self.put_reader(key, &mut &data[..]).map(|_| ())
    }

    /// [`put_bytes`](Self::put_bytes) for a file nothing refers to yet (a table's data file
    /// before its commit): on local disk the object is in place when this returns, and its
    /// flush to disk is left to a background thread, so the caller goes on working while the
    /// disk catches up. Call [`sync_deferred`](Self::sync_deferred) before anything that must
    /// find the object after a crash (table commits do). On S3 this is `put_bytes`: an
    /// upload is durable when it returns.
    ///
    /// # Errors
    /// As [`put_reader`](Self::put_reader).
    pub fn put_bytes_deferred(&self, key: &ObjectKey, data: &[u8]) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(l) => l.put_deferred(key, data),
            Backend::S3(_) => self.put_bytes(key, data),
        }
    }

    /// Waits until every object written with [`put_bytes_deferred`](Self::put_bytes_deferred)
    /// through this store or a clone of it is on disk.
    ///
    /// # Errors
    /// [`StorageError::Io`] (operation `sync`) naming the first object that could not be
    /// flushed since the last call.
    pub fn sync_deferred(&self) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(l) => l.sync_deferred(),
            Backend::S3(_) => Ok(()),
        }
    }

    /// Uploads a local file, streaming.
    ///
    /// # Errors
    /// [`StorageError::Io`] naming the file, or as [`put_reader`](Self::put_reader).
    pub fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<u64, StorageError> {
        let mut f = File::open(path).map_err(|source| StorageError::Io {
            op: "open",
            object: path.display().to_string(),
            source,
        })?;
        self.put_reader(key, &mut f)
    }

    /// Creates the object only if no object has the key (S3 `If-None-Match: *`; on disk an
    /// atomic link of the complete file).
    ///
    /// # Errors
    /// A backend error (after retries).
    pub fn put_if_absent(&self, key: &ObjectKey, data: &[u8]) -> Result<PutOutcome, StorageError> {
        match &self.backend {
            Backend::Local(l) => l.put_if_absent(key, data),
            Backend::S3(s) => s.put_if_absent(key, data),
        }
    }

    /// [`put_if_absent`](Self::put_if_absent) with [`PutOutcome::Uncertain`] resolved by
    /// reading the object back: `true` if the stored bytes are `data` (so `data` must carry a
    /// token unique to this writer, such as a commit id), `false` if another writer won.
    ///
    /// # Errors
    /// A backend error.
    pub fn put_if_absent_resolved(&self, key: &ObjectKey, data: &[u8]) -> Result<bool, StorageError> {
        match self.put_if_absent(key, data)? {
            PutOutcome::Created => Ok(true),
            PutOutcome::AlreadyExists => Ok(false),
            PutOutcome::Uncertain => {
                let stored = self.get_bytes(key)?;
                let ours = stored == data;
                tracing::info!(object = %self.describe(key), ours, "resolved an uncertain conditional write by reading it back");
                Ok(ours)
            }
        }
    }

    /// Deletes objects (missing ones are fine); S3 batches 1000 keys a request.
    ///
    /// # Errors
    /// The first object that could not be deleted.
    pub fn delete_many(&self, keys: &[ObjectKey]) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(l) => keys.iter().try_for_each(|k| l.delete(k)),
            Backend::S3(s) => s.delete_many(keys),
        }
    }

    /// Copies an object inside the store.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] for a missing source, or a backend error.
    pub fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(l) => l.copy(from, to),
            Backend::S3(s) => s.copy(from, to),
        }
    }

    /// Whether the object exists with exactly the content of a local file (S3: size and the
    /// `ETag` the upload would get; disk: size and bytes).
    ///
    /// # Errors
    /// A backend error, or [`StorageError::Io`] reading the file.
    pub fn is_identical(&self, key: &ObjectKey, path: &Path) -> Result<bool, StorageError> {
        let file_err = |source| StorageError::Io { op: "read", object: path.display().to_string(), source };
        let Some(meta) = self.head(key)? else {
            return Ok(false);
        };
        let len = std::fs::metadata(path).map_err(file_err)?.len();
        if meta.size != len {
            return Ok(false);
        }
        let mut file = File::open(path).map_err(file_err)?;
        match &self.backend {
            Backend::S3(s) => Ok(s.expected_etag(&mut file).map_err(file_err)? == meta.etag),
            Backend::Local(_) => {
                let mut stored = self.open_raw(key)?;
                same_bytes(&mut file, &mut stored).map_err(|e| into_storage(e, &self.describe(key)))
            }
        }
    }

    /// Multipart uploads under `prefix` that were neither completed nor aborted (always empty
    /// on disk). An operations check: after a failed upload this must be empty.
    ///
    /// # Errors
    /// A backend error.
    pub fn pending_multipart_uploads(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        check_prefix(prefix)?;
        match &self.backend {
            Backend::Local(_) => Ok(Vec::new()),
            Backend::S3(s) => s.pending_uploads(prefix),
        }
    }
}

/// Recovers the `StorageError` inside an `io::Error`, or wraps it naming the object.
fn into_storage(e: io::Error, object: &str) -> StorageError {
    if !e.get_ref().is_some_and(|i| i.is::<StorageError>()) {
        return StorageError::Io { op: "read", object: object.to_owned(), source: e };
    }
    match e.into_inner().map(|inner| inner.downcast::<StorageError>()) {
        Some(Ok(inner)) => *inner,
        _ => StorageError::Io {
            op: "read",
            object: object.to_owned(),
            source: io::Error::other("read failed"),
        },
    }
}

fn same_bytes(a: &mut dyn Read, b: &mut dyn Read) -> io::Result<bool> {
    let (mut x, mut y) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(a, &mut x)?;
        let m = read_full(b, &mut y)?;
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
