//! Reading a table back: column projection, partition pruning, and file / row-group pruning by
//! the `ts` statistics — behind our own column type, so no caller sees arrow2.

use std::io::Cursor;
use std::sync::Arc;

use arrow2::array::{Array, BinaryArray, BooleanArray, DictionaryArray, PrimitiveArray, Utf8Array};
use arrow2::io::parquet::read::{infer_schema, read_metadata, FileReader};
use parquet2::statistics::PrimitiveStatistics;
use serde_json::Value as Json;

use crate::delta::{Add, Snapshot};
use crate::error::{format_err, CatalogError};
use crate::table::{PartitionKey, Table};

/// One column of a scanned row group. Values are read by row index; the storage stays arrow2's.
#[derive(Debug, Clone)]
pub struct ColumnValues(Box<dyn Array>);

impl ColumnValues {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An integer or timestamp (microseconds) value; `None` for NULL or another type.
    #[must_use]
    pub fn int(&self, i: usize) -> Option<i64> {
        let a = self.0.as_any();
        if let Some(p) = a.downcast_ref::<PrimitiveArray<i64>>() {
            return p.get(i);
        }
        if let Some(p) = a.downcast_ref::<PrimitiveArray<i32>>() {
            return p.get(i).map(i64::from);
        }
        a.downcast_ref::<PrimitiveArray<i16>>().and_then(|p| p.get(i)).map(i64::from)
    }

    /// A text value (plain or dictionary-encoded); `None` for NULL or another type.
    #[must_use]
    pub fn str(&self, i: usize) -> Option<&str> {
        let a = self.0.as_any();
        if let Some(s) = a.downcast_ref::<Utf8Array<i32>>() {
            return s.get(i);
        }
        let d = a.downcast_ref::<DictionaryArray<i32>>()?;
        let key = d.keys().get(i)?;
        d.values().as_any().downcast_ref::<Utf8Array<i32>>()?.get(usize::try_from(key).ok()?)
    }

    /// A float value.
    #[must_use]
    pub fn float(&self, i: usize) -> Option<f64> {
        self.0.as_any().downcast_ref::<PrimitiveArray<f64>>()?.get(i)
    }

    /// A boolean value.
    #[must_use]
    pub fn bool(&self, i: usize) -> Option<bool> {
        self.0.as_any().downcast_ref::<BooleanArray>()?.get(i)
    }

    /// A binary value.
    #[must_use]
    pub fn bytes(&self, i: usize) -> Option<&[u8]> {
        self.0.as_any().downcast_ref::<BinaryArray<i32>>()?.get(i)
    }
}

/// A text column resolved once for fast row access (plain or dictionary-encoded).
#[derive(Debug, Clone, Copy)]
pub enum StrView<'a> {
    /// Plain strings.
    Plain(&'a Utf8Array<i32>),
    /// Dictionary keys and values.
    Dict(&'a PrimitiveArray<i32>, &'a Utf8Array<i32>),
    /// Not a text column: every value reads as NULL.
    Missing,
}

impl<'a> StrView<'a> {
    /// The value at row `i`.
    #[inline]
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrView::Plain(a) => a.get(i),
            StrView::Dict(k, v) => v.get(usize::try_from(k.get(i)?).ok()?),
            StrView::Missing => None,
        }
    }
}

/// An integer column resolved once for fast row access.
#[derive(Debug, Clone, Copy)]
pub enum IntView<'a> {
    /// 64-bit.
    I64(&'a PrimitiveArray<i64>),
    /// 32-bit.
    I32(&'a PrimitiveArray<i32>),
    /// 16-bit.
    I16(&'a PrimitiveArray<i16>),
    /// Not an integer column.
    Missing,
}

impl IntView<'_> {
    /// The value at row `i`.
    #[inline]
    #[must_use]
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            IntView::I64(a) => a.get(i),
            IntView::I32(a) => a.get(i).map(i64::from),
            IntView::I16(a) => a.get(i).map(i64::from),
            IntView::Missing => None,
        }
    }
}

impl ColumnValues {
    /// This column as text, resolved once (use in loops over rows).
    #[must_use]
    pub fn str_view(&self) -> StrView<'_> {
        let a = self.0.as_any();
        if let Some(s) = a.downcast_ref::<Utf8Array<i32>>() {
            return StrView::Plain(s);
        }
        if let Some(d) = a.downcast_ref::<DictionaryArray<i32>>() {
            if let Some(v) = d.values().as_any().downcast_ref::<Utf8Array<i32>>() {
                return StrView::Dict(d.keys(), v);
            }
        }
        StrView::Missing
    }

    /// This column as integers, resolved once.
    #[must_use]
    pub fn int_view(&self) -> IntView<'_> {
        let a = self.0.as_any();
        if let Some(p) = a.downcast_ref::<PrimitiveArray<i64>>() {
            return IntView::I64(p);
        }
        if let Some(p) = a.downcast_ref::<PrimitiveArray<i32>>() {
            return IntView::I32(p);
        }
        a.downcast_ref::<PrimitiveArray<i16>>().map_or(IntView::Missing, IntView::I16)
    }

    /// This column as booleans, resolved once (`None` if it is not a boolean column).
    #[must_use]
    pub fn bool_view(&self) -> Option<&BooleanArray> {
        self.0.as_any().downcast_ref::<BooleanArray>()
    }
}

/// Rows of one row group of one file: the projected columns, in the requested order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RowGroup {
    /// The partition the file belongs to.
    pub partition: PartitionKey,
    /// The file (relative to the table root).
    pub path: Arc<str>,
    /// Projected columns, in the order asked for.
    pub columns: Vec<ColumnValues>,
    /// Rows in this group.
    pub rows: usize,
}

/// What to read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Data columns to read (partition columns come from [`RowGroup::partition`]).
    pub columns: Vec<String>,
    /// Only these partitions (all when `None`).
    pub partitions: Option<Vec<PartitionKey>>,
    /// Only rows whose `ts` may fall in `[start, end)` microseconds: files and row groups
    /// whose statistics exclude the range are skipped (rows inside are not filtered).
    pub ts_range: Option<(i64, i64)>,
}

impl ScanOptions {
    /// Reads `columns`.
    #[must_use]
    pub fn columns<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        ScanOptions { columns: columns.into_iter().map(Into::into).collect(), ..Default::default() }
    }

    /// Restricts to some partitions.
    #[must_use]
    pub fn in_partitions(mut self, partitions: Vec<PartitionKey>) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// Restricts to a `ts` range, `[start, end)` microseconds.
    #[must_use]
    pub fn ts_between(mut self, start: i64, end: i64) -> Self {
        self.ts_range = Some((start, end));
        self
    }
}

/// How much a scan read and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanStats {
    /// Files read.
    pub files_read: usize,
    /// Files skipped by partition or by their Delta `ts` statistics.
    pub files_skipped: usize,
    /// Row groups read.
    pub row_groups_read: usize,
    /// Row groups skipped by their Parquet `ts` statistics.
    pub row_groups_skipped: usize,
}

/// `2020-05-31T05:12:01.123Z` (Delta stats) to microseconds.
fn parse_iso_millis(s: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u16>().ok();
    let small = |r: std::ops::Range<usize>| n(r).and_then(|v| u8::try_from(v).ok());
    let t = loglake_parser::Timestamp::from_utc(
        i32::from(n(0..4)?),
        small(5..7)?,
        small(8..10)?,
        small(11..13)?,
        small(14..16)?,
        small(17..19)?,
    )?;
    let ms = if s.as_bytes().get(19) == Some(&b'.') { i64::from(n(20..23)?) } else { 0 };
    Some(t.unix_micros() + ms * 1000)
}

/// Whether a file's Delta stats allow rows in `[start, end)`.
fn file_may_match(add: &Add, (start, end): (i64, i64)) -> bool {
    let Some(stats) = add.stats.as_deref().and_then(|s| serde_json::from_str::<Json>(s).ok()) else {
        return true;
    };
    let lo = stats["minValues"]["ts"].as_str().and_then(parse_iso_millis);
    let hi = stats["maxValues"]["ts"].as_str().and_then(parse_iso_millis);
    match (lo, hi) {
        (Some(lo), Some(hi)) => lo < end && hi >= start,
        _ => true,
    }
}

impl Table {
    /// Reads the live files of `snapshot`, projected and pruned as `options` says, calling
    /// `each` with every row group read. Memory holds one file at a time.
    ///
    /// # Errors
    /// Storage errors, unreadable files (naming them), or a column the table does not have.
    pub fn scan(
        &self,
        snapshot: &Snapshot,
        options: &ScanOptions,
        mut each: impl FnMut(RowGroup) -> Result<(), CatalogError>,
    ) -> Result<ScanStats, CatalogError> {
        for c in &options.columns {
            if self.def().column_index(c).is_none() {
                return Err(CatalogError::Row(format!("table {} has no column `{c}`", self.def().path)));
            }
        }
        let mut stats = ScanStats::default();
        let ts_index = self.def().column_index("ts");
        for add in snapshot.files.values() {
            let dir = add.path.rsplit_once('/').map_or("", |(d, _)| d);
            let partition = PartitionKey::parse(dir)?;
            let wanted = options.partitions.as_ref().is_none_or(|ps| ps.contains(&partition));
            if !wanted || options.ts_range.is_some_and(|r| !file_may_match(add, r)) {
                stats.files_skipped += 1;
                continue;
            }
            stats.files_read += 1;
            let key = loglake_storage::ObjectKey::new(format!("{}/{}", self.def().path, add.path))?;
            let object = self.store().describe(&key);
            let bytes = self.store().get_bytes(&key)?;
            let mut cursor = Cursor::new(bytes);
            let metadata = read_metadata(&mut cursor).map_err(format_err(object.clone()))?;
            let schema = infer_schema(&metadata).map_err(format_err(object.clone()))?;
            let mut groups = Vec::new();
            for rg in metadata.row_groups {
                let keep = match (options.ts_range, ts_index) {
                    (Some((start, end)), Some(i)) => rg
                        .columns()
                        .get(i)
                        .and_then(|c| c.statistics())
                        .and_then(Result::ok)
                        .and_then(|s| {
                            let p = s.as_any().downcast_ref::<PrimitiveStatistics<i64>>()?;
                            Some(p.min_value? < end && p.max_value? >= start)
                        })
                        .unwrap_or(true),
                    _ => true,
                };
                if keep {
                    groups.push(rg);
                } else {
                    stats.row_groups_skipped += 1;
                }
            }
            let projected = schema.filter(|_, f| options.columns.contains(&f.name));
            let order: Vec<usize> = options
                .columns
                .iter()
                .filter_map(|c| projected.fields.iter().position(|f| f.name == *c))
                .collect();
            let path: Arc<str> = Arc::from(add.path.as_str());
            for chunk in FileReader::new(cursor, groups, projected, None, None, None) {
                let chunk = chunk.map_err(format_err(object.clone()))?;
                stats.row_groups_read += 1;
                let rows = chunk.len();
                let arrays = chunk.into_arrays();
                let columns = order.iter().map(|&i| ColumnValues(arrays[i].clone())).collect();
                each(RowGroup { partition, path: Arc::clone(&path), columns, rows })?;
            }
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_millis_parse() {
        assert_eq!(parse_iso_millis("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_iso_millis("2020-05-31T05:12:01.123Z"), Some(1_590_901_921_123_000));
        assert_eq!(parse_iso_millis("garbage"), None);
    }
}
