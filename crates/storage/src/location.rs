//! Where a lake lives (`s3://bucket/prefix`, `file:///abs/path`, a plain path) and the keys
//! inside it, which can never point outside it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::StorageError;

/// The root of a store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// A local directory.
    Local(PathBuf),
    /// An S3 bucket and a key prefix (no leading or trailing `/`; may be empty).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Prefix of every key, without a trailing `/`.
        prefix: String,
    },
}

impl Location {
    /// Parses `s3://bucket[/prefix]`, `file:///abs/path`, or a plain (relative or absolute) path.
    ///
    /// ```
    /// use loglake_storage::Location;
    ///
    /// let s3: Location = "s3://my-bucket/lake/".parse()?;
    /// assert_eq!(s3, Location::S3 { bucket: "my-bucket".into(), prefix: "lake".into() });
    /// assert_eq!(s3.to_string(), "s3://my-bucket/lake");
    /// assert!(matches!("file:///var/lake".parse::<Location>()?, Location::Local(_)));
    /// assert!(matches!("demo-lake".parse::<Location>()?, Location::Local(_)));
    /// assert!("s3://".parse::<Location>().is_err());
    /// # Ok::<(), loglake_storage::StorageError>(())
    /// ```
    ///
    /// # Errors
    /// [`StorageError::InvalidLocation`] for an empty string, an `s3://` URL without a valid
    /// bucket name, a prefix with `..` segments, or another URL scheme.
    pub fn parse(s: &str) -> Result<Self, StorageError> {
        let bad = |reason: &'static str| StorageError::InvalidLocation { location: s.to_owned(), reason };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
                && !bucket.starts_with(['-', '.'])
                && !bucket.ends_with(['-', '.']);
            if !valid_bucket {
                return Err(bad("bucket names are 3-63 lowercase letters, digits, '-' and '.'"));
            }
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty() {
                ObjectKey::new(prefix)
                    .map_err(|_| bad("the prefix must be a plain key (no '..', '.', '//')"))?;
            }
            return Ok(Location::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() });
        }
        if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad("file:// URLs need an absolute path (file:///abs/path)"));
            }
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if s.contains("://") {
            return Err(bad("unsupported scheme (use s3://, file:// or a path)"));
        }
        Ok(Location::Local(PathBuf::from(s)))
    }

    /// How a key of this location is shown to people (in errors and reports).
    #[must_use]
    pub fn display_key(&self, key: &str) -> String {
        match self {
            Location::Local(root) => root.join(key).display().to_string(),
            Location::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}/{key}"),
            Location::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}/{key}"),
        }
    }

    /// The local root, for a local location.
    #[must_use]
    pub fn local_root(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
            Location::S3 { .. } => None,
        }
    }
}

impl FromStr for Location {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Location::parse(s)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// A key relative to a store's root: `/`-separated segments, never absolute, never with
/// empty, `.` or `..` segments, NUL bytes or backslashes — so a key built from data can never
/// reach outside the root, on S3 or on disk.
///
/// ```
/// use loglake_storage::ObjectKey;
///
/// let k = ObjectKey::new("raw/access_logs/dt=2020-05-31")?.join("web 1 ü.log.gz")?;
/// assert_eq!(k.as_str(), "raw/access_logs/dt=2020-05-31/web 1 ü.log.gz");
/// assert_eq!(k.file_name(), "web 1 ü.log.gz");
/// for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "a/./b", "a\\b", "a/"] {
///     assert!(ObjectKey::new(bad).is_err(), "{bad}");
/// }
/// # Ok::<(), loglake_storage::StorageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

fn check_segment(seg: &str) -> Result<(), &'static str> {
    match seg {
        "" => Err("empty segment (leading, trailing or double '/')"),
        "." | ".." => Err("'.' and '..' segments are not allowed"),
        s if s.contains('\0') => Err("NUL byte"),
        s if s.contains('\\') => Err("backslash"),
        _ => Ok(()),
    }
}

impl ObjectKey {
    /// Validates a key.
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] naming the key and the rule it breaks.
    pub fn new(key: impl Into<String>) -> Result<Self, StorageError> {
        let key = key.into();
        if key.len() > 1024 {
            return Err(StorageError::InvalidKey { key, reason: "longer than 1024 bytes" });
        }
        if let Err(reason) = key.split('/').try_for_each(check_segment) {
            return Err(StorageError::InvalidKey { key, reason });
        }
        Ok(ObjectKey(key))
    }

    /// This key with more segments appended (`child` may itself contain `/`).
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] when `child` is not a valid relative key.
    pub fn join(&self, child: &str) -> Result<Self, StorageError> {
        ObjectKey::new(format!("{}/{child}", self.0))
    }

    /// The key as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// Segments of the key.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Checks a listing prefix: empty, or key segments with an optional trailing `/`.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), StorageError> {
    let body = prefix.strip_suffix('/').unwrap_or(prefix);
    if body.is_empty() {
        return Ok(());
    }
    // the last segment may be partial ("dt=2020-05"), but must still be a valid segment
    ObjectKey::new(body).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("s3://b-1.x").unwrap(),
            Location::S3 { bucket: "b-1.x".into(), prefix: String::new() }
        );
        assert_eq!(Location::parse("s3://bkt/a/b/").unwrap().display_key("k/x.gz"), "s3://bkt/a/b/k/x.gz");
        for bad in ["", "s3://", "s3://UPPER", "s3://ab", "s3://bkt/../x", "http://x/y", "file://rel/path"] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Location::parse("file:///tmp/l").unwrap(), Location::Local("/tmp/l".into()));
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("raw/").is_ok());
        assert!(check_prefix("raw/access_logs/dt=2020-05").is_ok());
        assert!(check_prefix("/raw").is_err());
        assert!(check_prefix("raw/../x/").is_err());
    }
}
