//! The local-disk backend: a directory is the root, keys are relative paths.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
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
    /// Flushes the files of [`put_deferred`](Self::put_deferred); shared by clones.
    syncer: Arc<Syncer>,
}

/// Flushes files to disk (`fsync`) on a background thread, so that the workers writing them
/// go on computing while the disk catches up; [`wait`](Self::wait) blocks until every file
/// handed over is on disk.
#[derive(Debug, Default)]
struct Syncer {
    state: Mutex<SyncState>,
    idle: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// The thread's queue, started with the first file.
    queue: Option<mpsc::Sender<(PathBuf, File)>>,
    /// Files handed over and not yet flushed.
    pending: usize,
    /// The first file that could not be flushed since the last [`Syncer::wait`].
    failed: Option<(PathBuf, io::Error)>,
}

impl Syncer {
    fn lock(&self) -> MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `file` (written to `path`) to the thread; flushes it here when no thread can
    /// be started.
    fn submit(self: &Arc<Self>, path: PathBuf, file: File) -> io::Result<()> {
        let mut state = self.lock();
        if state.queue.is_none() {
            let (tx, rx) = mpsc::channel::<(PathBuf, File)>();
            // the thread holds no strong reference: it ends when the last store clone drops
            // the queue, instead of keeping every store ever opened alive
            let weak = Arc::downgrade(self);
            let started =
                std::thread::Builder::new().name("loglake-fsync".into()).spawn(move || Self::run(&weak, &rx));
            match started {
                Ok(_) => state.queue = Some(tx),
                Err(_) => {
                    drop(state);
                    return file.sync_all();
                }
            }
        }
        if let Some(queue) = &state.queue {
            if let Err(mpsc::SendError((_, file))) = queue.send((path, file)) {
                drop(state);
                return file.sync_all();
            }
            state.pending += 1;
        }
        Ok(())
    }

    fn run(weak: &Weak<Self>, rx: &mpsc::Receiver<(PathBuf, File)>) {
        while let Ok((path, file)) = rx.recv() {
            let result = file.sync_all();
            drop(file);
            let Some(syncer) = weak.upgrade() else { return };
            let mut state = syncer.lock();
            state.pending -= 1;
            if let Err(e) = result {
                state.failed.get_or_insert((path, e));
            }
            if state.pending == 0 {
                syncer.idle.notify_all();
            }
        }
    }

    /// Waits until no file is pending; the first that could not be flushed, if any.
    fn wait(&self) -> Result<(), (PathBuf, io::Error)> {
        let mut state = self.lock();
        while state.pending > 0 {
            state = self.idle.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.failed.take().map_or(Ok(()), Err)
    }
}

impl LocalBackend {
    pub(crate) fn new(root: PathBuf) -> Self {
        LocalBackend { root, syncer: Arc::default() }
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

    /// Writes `data` to a temporary file next to the target, synced when `sync` is set; the
    /// file is returned open.
    fn write_temp(
        &self,
        path: &Path,
        data: &mut dyn Read,
        sync: bool,
    ) -> Result<(PathBuf, u64, File), StorageError> {
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| self.err("mkdir", dir, e))?;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
        let tmp = dir.join(format!("{TMP_PREFIX}{}-{n}-{name}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            let written = io::copy(data, &mut f)?;
            f.flush()?;
            if sync {
                f.sync_all()?;
            }
            Ok::<_, io::Error>((written, f))
        })();
        match result {
            Ok((written, f)) => Ok((tmp, written, f)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(self.err("write", path, e))
            }
        }
    }

    /// [`write_temp`](Self::write_temp), then renamed over `path`: readers see the old
    /// object or the new one, never a partial one.
    fn write_in_place(
        &self,
        path: &Path,
        data: &mut dyn Read,
        sync: bool,
    ) -> Result<(u64, File), StorageError> {
        let (tmp, written, file) = self.write_temp(path, data, sync)?;
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.err("rename", path, e)
        })?;
        Ok((written, file))
    }

    /// Atomic replace, flushed to disk before the rename.
    pub(crate) fn put(&self, key: &ObjectKey, data: &mut dyn Read) -> Result<u64, StorageError> {
        self.write_in_place(&self.path(key), data, true).map(|(written, _)| written)
    }

    /// [`put`](Self::put) of bytes whose flush to disk waits: the file is in place when this
    /// returns and flushed by the background thread ([`sync_deferred`](Self::sync_deferred)
    /// waits for it). Replacing an existing file flushes first, as `put` does: a crash must
    /// not trade a file that was on disk for one that was not.
    pub(crate) fn put_deferred(&self, key: &ObjectKey, data: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key);
        let replaces = path.exists();
        let (_, file) = self.write_in_place(&path, &mut &data[..], replaces)?;
        if replaces {
            return Ok(());
        }
        self.syncer.submit(path.clone(), file).map_err(|e| self.err("sync", &path, e))
    }

    /// Waits until every file of [`put_deferred`](Self::put_deferred) is on disk.
    pub(crate) fn sync_deferred(&self) -> Result<(), StorageError> {
        self.syncer.wait().map_err(|(path, e)| self.err("sync", &path, e))
    }

    /// Create-if-absent: the complete object is linked into place, which fails if the name
    /// exists (`link(2)` is atomic like `O_EXCL`, and readers never see a partial file).
    pub(crate) fn put_if_absent(&self, key: &ObjectKey, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let path = self.path(key);
        let (tmp, _, _) = self.write_temp(&path, &mut &data[..], true)?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{LocalBackend, Syncer};
    use crate::location::ObjectKey;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("loglake-local-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn deferred_puts_are_in_place_at_once_and_flushed_by_the_wait() {
        let dir = scratch("deferred");
        let backend = LocalBackend::new(dir.clone());
        std::thread::scope(|s| {
            for t in 0..4 {
                let b = backend.clone();
                s.spawn(move || {
                    for i in 0..25 {
                        let key = ObjectKey::new(format!("t/part-{t}-{i}.parquet")).unwrap();
                        b.put_deferred(&key, format!("{t}:{i}").as_bytes()).unwrap();
                        // readable before any flush
                        assert_eq!(std::fs::read(b.path(&key)).unwrap(), format!("{t}:{i}").as_bytes());
                    }
                });
            }
        });
        backend.sync_deferred().unwrap();
        let state = backend.syncer.lock();
        assert_eq!(state.pending, 0, "the wait returned with files still pending");
        assert!(state.queue.is_some(), "the flushes did not go through the thread");
        drop(state);
        assert_eq!(backend.list("t/").unwrap().len(), 100);
        // replacing a file flushes before the rename, without the thread
        let key = ObjectKey::new("t/part-0-0.parquet").unwrap();
        backend.put_deferred(&key, b"new").unwrap();
        assert_eq!(backend.syncer.lock().pending, 0);
        assert_eq!(std::fs::read(backend.path(&key)).unwrap(), b"new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_flushed_fails_the_wait_naming_it() {
        let syncer = Arc::new(Syncer::default());
        // fsync of a character device fails (EINVAL)
        let null = std::fs::File::open("/dev/null").unwrap();
        syncer.submit("lake/curated/part-x.parquet".into(), null).unwrap();
        let ok = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        syncer.submit("lake/curated/part-y.parquet".into(), ok).unwrap();
        let (path, _) = syncer.wait().unwrap_err();
        assert_eq!(path, std::path::Path::new("lake/curated/part-x.parquet"));
        // reported once: the next wait starts clean
        assert!(syncer.wait().is_ok());

        let dir = scratch("failed");
        let backend = LocalBackend::new(dir.clone());
        backend.syncer.submit(dir.join("part-z.parquet"), std::fs::File::open("/dev/null").unwrap()).unwrap();
        let err = backend.sync_deferred().unwrap_err().to_string();
        assert!(err.contains("part-z.parquet") && err.contains("sync"), "{err}");
    }
}
