//! Uploading local raw log files into `raw/access_logs/dt=YYYY-MM-DD/` of a lake.

use std::path::{Path, PathBuf};

use loglake_catalog::{raw_object_key, CatalogError, Date};
use loglake_storage::{ObjectKey, StorageError, Store};

/// Why a job could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// A file's arrival date could not be told from its name.
    #[error("{file}: no date in the file name (expected ..._YYYYmmdd-HHMMSS... or YYYY-MM-DD); pass --date")]
    NoDate {
        /// The file.
        file: String,
    },
    /// A local input is missing or unreadable.
    #[error("{path}: {source}")]
    Input {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A storage operation failed (the error names the object).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A layout rule was broken.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An aggregation failed.
    #[error(transparent)]
    Aggregate(#[from] loglake_aggregate::AggregateError),
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadAction {
    /// Uploaded, this many bytes.
    Uploaded(u64),
    /// An identical object was already there.
    SkippedIdentical,
}

/// One file's upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadResult {
    /// The local file.
    pub file: PathBuf,
    /// The key it has in the lake.
    pub key: ObjectKey,
    /// The object as shown to people (`s3://...` or a path).
    pub object: String,
    /// What was done.
    pub action: UploadAction,
}

/// Regular, non-hidden files: the paths given, and the files directly inside given directories.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, PipelineError> {
    let input_err = |p: &Path| {
        let path = p.display().to_string();
        move |source| PipelineError::Input { path, source }
    };
    let mut files = Vec::new();
    for p in inputs {
        let md = std::fs::metadata(p).map_err(input_err(p))?;
        if md.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(input_err(p))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file() && !f.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Uploads files (and the files directly inside directories) to
/// `raw/access_logs/dt=DATE/<file name>`, with DATE from `date` or else from each file name.
/// Objects already there with identical content are skipped, so a rerun uploads nothing.
/// Every file's date is checked before anything is uploaded. `progress` is called after each
/// file with its index (from 0), the number of files, and the result.
///
/// # Errors
/// [`PipelineError::NoDate`] (nothing uploaded), or the first input or storage error (files
/// before it are uploaded).
pub fn upload_raw(
    store: &Store,
    inputs: &[PathBuf],
    date: Option<Date>,
    mut progress: impl FnMut(usize, usize, &UploadResult),
) -> Result<Vec<UploadResult>, PipelineError> {
    let files = expand(inputs)?;
    let mut plan = Vec::with_capacity(files.len());
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let day = date
            .or_else(|| Date::from_file_name(&name))
            .ok_or_else(|| PipelineError::NoDate { file: file.display().to_string() })?;
        plan.push((file, raw_object_key(day, &name)?));
    }
    let total = plan.len();
    let mut done = Vec::with_capacity(total);
    for (i, (file, key)) in plan.into_iter().enumerate() {
        let action = if store.is_identical(&key, &file)? {
            UploadAction::SkippedIdentical
        } else {
            UploadAction::Uploaded(store.put_file(&key, &file)?)
        };
        tracing::info!(file = %file.display(), object = %store.describe(&key), ?action, "raw upload");
        let result = UploadResult { object: store.describe(&key), file, key, action };
        progress(i, total, &result);
        done.push(result);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_then_skips_identical_and_refuses_undated() {
        let dir = std::env::temp_dir().join(format!("loglake-upload-{}", std::process::id()));
        let src = dir.join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("web_access_log_20200531-125656.log"), b"a\n").unwrap();
        std::fs::write(src.join("other-2020-06-01.log"), b"b\n").unwrap();
        std::fs::write(src.join(".hidden"), b"x").unwrap();
        let store = Store::local(dir.join("lake"));

        let mut seen = Vec::new();
        let first =
            upload_raw(&store, std::slice::from_ref(&src), None, |i, n, r| seen.push((i, n, r.action)))
                .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(seen, vec![(0, 2, UploadAction::Uploaded(2)), (1, 2, UploadAction::Uploaded(2))]);
        let keys: Vec<_> = store.list("raw/").unwrap().into_iter().map(|m| m.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "raw/access_logs/dt=2020-05-31/web_access_log_20200531-125656.log",
                "raw/access_logs/dt=2020-06-01/other-2020-06-01.log"
            ]
        );
        let again = upload_raw(&store, std::slice::from_ref(&src), None, |_, _, _| {}).unwrap();
        assert!(again.iter().all(|r| r.action == UploadAction::SkippedIdentical));

        std::fs::write(src.join("nodate.log"), b"c\n").unwrap();
        let err = upload_raw(&store, std::slice::from_ref(&src), None, |_, _, _| {}).unwrap_err();
        assert!(matches!(err, PipelineError::NoDate { .. }), "{err}");
        assert_eq!(store.list("raw/").unwrap().len(), 2, "nothing uploaded when a date is missing");
        let forced = "2021-01-01".parse().unwrap();
        upload_raw(&store, &[src.join("nodate.log")], Some(forced), |_, _, _| {}).unwrap();
        assert!(store
            .head(&ObjectKey::new("raw/access_logs/dt=2021-01-01/nodate.log").unwrap())
            .unwrap()
            .is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
