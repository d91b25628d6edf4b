//! The Delta Lake transaction log (protocol reader 1 / writer 2): actions, replay, commits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::CatalogError;

/// Partition values of a file, as strings (Delta's encoding).
pub type PartitionValues = BTreeMap<String, Option<String>>;

/// `add`: a data file joins the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Add {
    /// Path relative to the table root (`dt=2020-05-31/hour=05/part-....parquet`).
    pub path: String,
    /// Partition values.
    pub partition_values: PartitionValues,
    /// Size in bytes.
    pub size: i64,
    /// Milliseconds since the epoch.
    pub modification_time: i64,
    /// Always true for our writes.
    pub data_change: bool,
    /// `numRecords`, `minValues`, `maxValues`, `nullCount` as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    /// `loglake.batch`: the batch the file belongs to (what a replace removes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `remove`: a data file leaves the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Remove {
    /// Path relative to the table root.
    pub path: String,
    /// Milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    /// Always true for our writes.
    pub data_change: bool,
    /// The fields below are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    /// Partition values of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<PartitionValues>,
    /// Size of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Protocol {
    /// 1.
    pub min_reader_version: i32,
    /// 2.
    pub min_writer_version: i32,
}

/// `format` of `metaData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    /// `parquet`.
    pub provider: String,
    /// Empty.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// `metaData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetaData {
    /// Table id (a UUID).
    pub id: String,
    /// Table name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Table description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Data format.
    pub format: Format,
    /// Spark schema JSON.
    pub schema_string: String,
    /// Partition columns.
    pub partition_columns: Vec<String>,
    /// Table properties.
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    /// Milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

/// One line of a commit file. Unknown action types from other writers are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) commit_info: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) meta_data: Option<MetaData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) add: Option<Add>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) remove: Option<Remove>,
}

/// An action of a commit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Commit provenance (the job, batch, sources, line counts).
    CommitInfo(Json),
    /// Protocol versions.
    Protocol(Protocol),
    /// Table metadata.
    MetaData(MetaData),
    /// A file joins.
    Add(Add),
    /// A file leaves.
    Remove(Remove),
}

/// `_delta_log/00000000000000000012.json`.
#[must_use]
pub fn commit_file_name(version: i64) -> String {
    format!("{version:020}.json")
}

/// Serializes actions as a commit file: one JSON object per line.
pub(crate) fn encode_commit(actions: &[Action]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in actions {
        let mut line = ActionLine::default();
        match a {
            Action::CommitInfo(v) => line.commit_info = Some(v.clone()),
            Action::Protocol(p) => line.protocol = Some(*p),
            Action::MetaData(m) => line.meta_data = Some(m.clone()),
            Action::Add(x) => line.add = Some(x.clone()),
            Action::Remove(x) => line.remove = Some(x.clone()),
        }
        // serializing plain data with string keys cannot fail
        if let Ok(s) = serde_json::to_string(&line) {
            out.extend_from_slice(s.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Parses one commit file of a Delta log (JSON lines) into its actions. Never panics on any
/// input (a fuzz target checks it); `object` names the file in errors.
///
/// # Errors
/// [`CatalogError::Log`] naming the object and line of a line that is not a Delta action.
pub fn decode_commit(bytes: &[u8], object: &str) -> Result<Vec<Action>, CatalogError> {
    let mut actions = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed: ActionLine = serde_json::from_slice(line).map_err(|e| CatalogError::Log {
            object: object.to_owned(),
            message: format!("line {}: {e}", i + 1),
        })?;
        if let Some(v) = parsed.commit_info {
            actions.push(Action::CommitInfo(v));
        }
        if let Some(p) = parsed.protocol {
            actions.push(Action::Protocol(p));
        }
        if let Some(m) = parsed.meta_data {
            actions.push(Action::MetaData(m));
        }
        if let Some(a) = parsed.add {
            actions.push(Action::Add(a));
        }
        if let Some(r) = parsed.remove {
            actions.push(Action::Remove(r));
        }
    }
    Ok(actions)
}

/// The state of a table at a version: its live files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The version (`-1`: no log yet).
    pub version: i64,
    /// Protocol, once created.
    pub protocol: Option<Protocol>,
    /// Metadata, once created.
    pub metadata: Option<MetaData>,
    /// Live files by path.
    pub files: BTreeMap<String, Add>,
}

impl Snapshot {
    /// An empty snapshot before version 0.
    #[must_use]
    pub fn empty() -> Self {
        Snapshot { version: -1, ..Snapshot::default() }
    }

    /// Applies one commit's actions.
    pub fn apply(&mut self, version: i64, actions: &[Action]) {
        self.version = version;
        for a in actions {
            match a {
                Action::Protocol(p) => self.protocol = Some(*p),
                Action::MetaData(m) => self.metadata = Some(m.clone()),
                Action::Add(x) => {
                    self.files.insert(x.path.clone(), x.clone());
                }
                Action::Remove(r) => {
                    self.files.remove(&r.path);
                }
                Action::CommitInfo(_) => {}
            }
        }
    }

    /// Live files of a batch: tagged with its id, or named `part-<batch hash>-...` (the tag is
    /// for people and other readers; the name is what every checkpoint reader gives back).
    pub fn batch_files<'a>(&'a self, batch: &'a str) -> impl Iterator<Item = &'a Add> + 'a {
        let prefix = format!("part-{}-", batch_hash(batch));
        self.files.values().filter(move |a| {
            a.tags.as_ref().and_then(|t| t.get(BATCH_TAG)).map_or_else(
                || a.path.rsplit('/').next().is_some_and(|name| name.starts_with(&prefix)),
                |b| b == batch,
            )
        })
    }

    /// Total rows, from the files' stats.
    #[must_use]
    pub fn num_records(&self) -> i64 {
        self.files.values().filter_map(|a| stats_records(a.stats.as_deref())).sum()
    }
}

/// The 12 hex digits of a batch id that data file names start with.
pub(crate) fn batch_hash(batch: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(batch.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The `add.tags` key holding the batch id.
pub const BATCH_TAG: &str = "loglake.batch";

/// `numRecords` from a stats string.
pub(crate) fn stats_records(stats: Option<&str>) -> Option<i64> {
    serde_json::from_str::<Json>(stats?).ok()?.get("numRecords")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(path: &str, batch: &str) -> Add {
        Add {
            path: path.into(),
            partition_values: [("dt".to_owned(), Some("2020-05-31".to_owned()))].into(),
            size: 10,
            modification_time: 1,
            data_change: true,
            stats: Some(r#"{"numRecords":5}"#.into()),
            tags: Some([(BATCH_TAG.to_owned(), batch.to_owned())].into()),
        }
    }

    #[test]
    fn commits_round_trip_and_replay() {
        let actions = vec![
            Action::CommitInfo(serde_json::json!({"operation": "WRITE"})),
            Action::Protocol(Protocol { min_reader_version: 1, min_writer_version: 2 }),
            Action::Add(add("a.parquet", "b1")),
            Action::Add(add("b.parquet", "b2")),
        ];
        let bytes = encode_commit(&actions);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 4);
        assert_eq!(decode_commit(&bytes, "v0").unwrap(), actions);
        let mut snap = Snapshot::empty();
        snap.apply(0, &actions);
        let remove = Remove {
            path: "a.parquet".into(),
            deletion_timestamp: Some(2),
            data_change: true,
            extended_file_metadata: None,
            partition_values: None,
            size: None,
        };
        snap.apply(1, &[Action::Remove(remove), Action::Add(add("c.parquet", "b1"))]);
        assert_eq!(snap.version, 1);
        assert_eq!(snap.files.keys().collect::<Vec<_>>(), ["b.parquet", "c.parquet"]);
        assert_eq!(snap.batch_files("b1").count(), 1);
        assert_eq!(snap.num_records(), 10);
    }

    #[test]
    fn unknown_actions_are_ignored_and_garbage_is_an_error() {
        let log = b"{\"txn\":{\"appId\":\"x\",\"version\":1}}\n{\"add\":{\"path\":\"p\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n";
        assert_eq!(decode_commit(log, "v").unwrap().len(), 1);
        let err = decode_commit(b"{not json\n", "s3://b/t/_delta_log/00000000000000000003.json").unwrap_err();
        assert!(err.to_string().contains("00000000000000000003.json") && err.to_string().contains("line 1"));
    }
}
