//! The local-disk backend: a directory is the root, keys are relative paths.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use crate::error::StorageError;
use crate::location::ObjectKey;
use crate::store::{ObjectMeta, PutOutcome};

/// Temporary files start with this; listings never show them.
const TMP_PREFIX: &str = ".loglake-tmp-";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone)]
pub(crate) struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    pub(crate) fn new(root: PathBuf) -> Self {
        LocalBackend { root }
    }

    pub(crate) fn path(&self, key: &ObjectKey) -> PathBuf {
        key.segments().fold(self.root.clone(), |p, s| p.join(s))
    }

    fn err(&self, op: &'static str, path: &Path, source: io::Error) -> StorageError {
        if source.kind() == io::ErrorKind::NotFound && matches!(op, "open" | "stat") {
            return StorageError::NotFound { object: path.display().to_string() };
        }
        StorageError::Io { op, object: path.display().to_string(), source }
    }

    fn meta(&self, key: ObjectKey, md: &fs::Metadata) -> ObjectMeta {
        let modified = md.modified().ok();
        let nanos = modified.and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        ObjectMeta { key, size: md.len(), etag: format!("{:x}-{nanos:x}", md.len()), modified }
    }

    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        // walk the deepest directory the prefix names completely
        let dir_part = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let start = dir_part.split('/').filter(|s| !s.is_empty()).fold(self.root.clone(), |p, s| p.join(s));
        let mut out = Vec::new();
        let mut stack = vec![(start, dir_part.to_owned())];
        while let Some((dir, rel)) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.err("list", &dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.err("list", &dir, e))?;
                let Ok(name) = entry.file_name().into_string() else {
                    tracing::warn!(path = %entry.path().display(), "skipping a file whose name is not UTF-8");
                    continue;
                };
                if name.starts_with(TMP_PREFIX) {
                    continue;
                }
                let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                let md = entry.metadata().map_err(|e| self.err("stat", &entry.path(), e))?;
                if md.is_dir() {
                    if child.starts_with(prefix) || prefix.starts_with(&format!("{child}/")) {
                        stack.push((entry.path(), child));
                    }
                } else if child.starts_with(prefix) {
                    match ObjectKey::new(child) {
                        Ok(key) => out.push(self.meta(key, &md)),
                        Err(e) => tracing::warn!(error = %e, "skipping a file whose name is not a valid key"),
                    }
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    pub(crate) fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError> {
        let path = self.path(key);
        match fs::metadata(&path) {
            Ok(md) if md.is_file() => Ok(Some(self.meta(key.clone(), &md))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("stat", &path, e)),
        }
    }

    pub(crate) fn open(&self, key: &ObjectKey) -> Result<File, StorageError> {
        let path = self.path(key);
        File::open(&path).map_err(|e| self.err("open", &path, e))
    }

    pub(crate) fn get_range(&self, key: &ObjectKey, start: u64, end: u64) -> Result<Vec<u8>, StorageError> {
        let path = self.path(key);
        let mut f = self.open(key)?;
        f.seek(SeekFrom::Start(start)).map_err(|e| self.err("seek", &path, e))?;
        let mut out =
            Vec::with_capacity(usize::try_from(end.saturating_sub(start)).unwrap_or(0).min(1 << 26));
        f.take(end.saturating_sub(start)).read_to_end(&mut out).map_err(|e| self.err("read", &path, e))?;
        Ok(out)
    }

    /// Writes `data` to a temporary file next to the target and syncs it.
    fn write_temp(&self, path: &Path, data: &mut dyn Read) -> Result<(PathBuf, u64), StorageError> {
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| self.err("mkdir", dir, e))?;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
        let tmp = dir.join(format!("{TMP_PREFIX}{}-{n}-{name}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            let written = io::copy(data, &mut f)?;
            f.flush()?;
            f.sync_all()?;
            Ok::<_, io::Error>(written)
        })();
        match result {
            Ok(written) => Ok((tmp, written)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(self.err("write", path, e))
            }
        }
    }

    /// Atomic replace: readers see the old object or the new one, never a partial one.
    pub(crate) fn put(&self, key: &ObjectKey, data: &mut dyn Read) -> Result<u64, StorageError> {
        let path = self.path(key);
        let (tmp, written) = self.write_temp(&path, data)?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.err("rename", &path, e)
        })?;
        Ok(written)
    }

    /// Create-if-absent: the complete object is linked into place, which fails if the name
    /// exists (`link(2)` is atomic like `O_EXCL`, and readers never see a partial file).
    pub(crate) fn put_if_absent(&self, key: &ObjectKey, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let path = self.path(key);
        let (tmp, _) = self.write_temp(&path, &mut &data[..])?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(PutOutcome::Created),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(self.err("link", &path, e)),
        }
    }

    pub(crate) fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.err("delete", &path, e)),
        }
        // like S3, no empty "directories" remain (readers would see empty partitions)
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    pub(crate) fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        let mut src = self.open(from)?;
        self.put(to, &mut src).map(|_| ())
    }
}
