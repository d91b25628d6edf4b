//! Rows for one data file, built column by column (arrow2 stays inside this module and
//! `parquet.rs`), with the statistics the Delta log records.

use arrow2::array::{
    Array, MutableArray, MutableBinaryArray, MutableBooleanArray, MutableDictionaryArray,
    MutablePrimitiveArray, MutableUtf8Array, PrimitiveArray, TryPush,
};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, IntegerType, Schema, TimeUnit};
use serde_json::{json, Map, Value as Json};

use crate::error::{format_err, CatalogError};
use crate::schema::{ColumnType, TableDef};

/// One cell of a row being added.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// NULL.
    Null,
    /// Any integer or timestamp (microseconds) column.
    Int(i64),
    /// A boolean column.
    Bool(bool),
    /// A text column.
    Str(&'a str),
    /// A binary column.
    Bytes(&'a [u8]),
    /// A float column.
    Float(f64),
}

#[allow(
    clippy::large_enum_variant,
    reason = "one builder per column, pushed to per row: no indirection on that path"
)]
enum Builder {
    Ts(MutablePrimitiveArray<i64>),
    I16(MutablePrimitiveArray<i16>),
    I32(MutablePrimitiveArray<i32>),
    I64(MutablePrimitiveArray<i64>),
    Bool(MutableBooleanArray),
    Utf8(MutableUtf8Array<i32>),
    Dict(MutableDictionaryArray<i32, MutableUtf8Array<i32>>),
    Binary(MutableBinaryArray<i32>),
    F64(MutablePrimitiveArray<f64>),
}

/// Per-column running statistics (Delta `stats`): null count and integer min/max.
#[derive(Debug, Clone, Copy, Default)]
struct ColStats {
    nulls: u64,
    min: Option<i64>,
    max: Option<i64>,
}

pub(crate) fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".to_owned())),
        ColumnType::Int16 => DataType::Int16,
        ColumnType::Int32 => DataType::Int32,
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Utf8 => DataType::Utf8,
        ColumnType::DictUtf8 => DataType::Dictionary(IntegerType::Int32, Box::new(DataType::Utf8), false),
        ColumnType::Binary => DataType::Binary,
        ColumnType::Float64 => DataType::Float64,
    }
}

/// The arrow schema of a table's data files.
pub(crate) fn arrow_schema(def: &TableDef) -> Schema {
    Schema::from(
        def.columns.iter().map(|c| Field::new(c.name, arrow_type(c.ty), c.nullable)).collect::<Vec<_>>(),
    )
}

/// Rows of one table, added one at a time; [`finish`](Self::finish) sorts them and yields a
/// [`Batch`] ready to be written as one Parquet file.
pub struct BatchBuilder {
    def: &'static TableDef,
    cols: Vec<Builder>,
    stats: Vec<ColStats>,
    rows: usize,
}

impl std::fmt::Debug for BatchBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchBuilder").field("table", &self.def.path).field("rows", &self.rows).finish()
    }
}

impl BatchBuilder {
    /// An empty batch for a table.
    #[must_use]
    pub fn new(def: &'static TableDef) -> Self {
        let cols = def
            .columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Timestamp => Builder::Ts(MutablePrimitiveArray::new().to(arrow_type(c.ty))),
                ColumnType::Int16 => Builder::I16(MutablePrimitiveArray::new()),
                ColumnType::Int32 => Builder::I32(MutablePrimitiveArray::new()),
                ColumnType::Int64 => Builder::I64(MutablePrimitiveArray::new()),
                ColumnType::Bool => Builder::Bool(MutableBooleanArray::new()),
                ColumnType::Utf8 => Builder::Utf8(MutableUtf8Array::new()),
                ColumnType::DictUtf8 => Builder::Dict(MutableDictionaryArray::new()),
                ColumnType::Binary => Builder::Binary(MutableBinaryArray::new()),
                ColumnType::Float64 => Builder::F64(MutablePrimitiveArray::new()),
            })
            .collect();
        BatchBuilder { def, cols, stats: vec![ColStats::default(); def.columns.len()], rows: 0 }
    }

    /// Rows added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Adds a row: one value per column, in the table's column order.
    ///
    /// # Errors
    /// [`CatalogError::Row`] when the row has the wrong width, a value has the wrong type, a
    /// non-nullable column gets NULL, or an integer does not fit its column. Nothing is added
    /// then.
    pub fn push(&mut self, row: &[Value<'_>]) -> Result<(), CatalogError> {
        if row.len() != self.cols.len() {
            return Err(CatalogError::Row(format!("{} values for {} columns", row.len(), self.cols.len())));
        }
        // check everything first so a bad row adds nothing
        for (c, v) in self.def.columns.iter().zip(row) {
            let ok = match (c.ty, v) {
                (_, Value::Null) => c.nullable,
                (ColumnType::Int16, Value::Int(i)) => i16::try_from(*i).is_ok(),
                (ColumnType::Int32, Value::Int(i)) => i32::try_from(*i).is_ok(),
                (ColumnType::Timestamp | ColumnType::Int64, Value::Int(_))
                | (ColumnType::Bool, Value::Bool(_))
                | (ColumnType::Utf8 | ColumnType::DictUtf8, Value::Str(_))
                | (ColumnType::Binary, Value::Bytes(_))
                | (ColumnType::Float64, Value::Float(_)) => true,
                _ => false,
            };
            if !ok {
                return Err(CatalogError::Row(format!("column {} ({:?}) cannot hold {v:?}", c.name, c.ty)));
            }
        }
        for ((b, st), v) in self.cols.iter_mut().zip(&mut self.stats).zip(row) {
            match v {
                Value::Null => st.nulls += 1,
                Value::Int(i) => {
                    st.min = Some(st.min.map_or(*i, |m| m.min(*i)));
                    st.max = Some(st.max.map_or(*i, |m| m.max(*i)));
                }
                _ => {}
            }
            // types were checked above; the conversions cannot fail
            match (b, v) {
                (Builder::Ts(a) | Builder::I64(a), Value::Int(i)) => a.push(Some(*i)),
                (Builder::Ts(a) | Builder::I64(a), _) => a.push(None),
                (Builder::I16(a), Value::Int(i)) => a.push(i16::try_from(*i).ok()),
                (Builder::I16(a), _) => a.push(None),
                (Builder::I32(a), Value::Int(i)) => a.push(i32::try_from(*i).ok()),
                (Builder::I32(a), _) => a.push(None),
                (Builder::Bool(a), Value::Bool(x)) => a.push(Some(*x)),
                (Builder::Bool(a), _) => a.push(None),
                (Builder::Utf8(a), Value::Str(s)) => a.push(Some(*s)),
                (Builder::Utf8(a), _) => a.push::<&str>(None),
                (Builder::Dict(a), Value::Str(s)) => {
                    a.try_push(Some(*s)).map_err(|e| CatalogError::Row(format!("dictionary: {e}")))?;
                }
                (Builder::Dict(a), _) => a.push_null(),
                (Builder::Binary(a), Value::Bytes(x)) => a.push(Some(*x)),
                (Builder::Binary(a), _) => a.push::<&[u8]>(None),
                (Builder::F64(a), Value::Float(x)) => a.push(Some(*x)),
                (Builder::F64(a), _) => a.push(None),
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The finished batch, rows sorted by the table's sort column (NULLs last, stable).
    ///
    /// # Errors
    /// [`CatalogError::Format`] if reordering fails.
    pub fn finish(self) -> Result<Batch, CatalogError> {
        let mut arrays: Vec<Box<dyn Array>> = self
            .cols
            .into_iter()
            .map(|b| match b {
                Builder::Ts(mut a) | Builder::I64(mut a) => a.as_box(),
                Builder::I16(mut a) => a.as_box(),
                Builder::I32(mut a) => a.as_box(),
                Builder::Bool(mut a) => a.as_box(),
                Builder::Utf8(mut a) => a.as_box(),
                Builder::Dict(mut a) => a.as_box(),
                Builder::Binary(mut a) => a.as_box(),
                Builder::F64(mut a) => a.as_box(),
            })
            .collect();
        if let Some(i) = self.def.sort_by.and_then(|c| self.def.column_index(c)) {
            if let Some(keys) = arrays[i].as_any().downcast_ref::<PrimitiveArray<i64>>() {
                let mut order: Vec<u32> = (0..u32::try_from(keys.len()).unwrap_or(u32::MAX)).collect();
                order.sort_by_key(|&r| keys.get(r as usize).map_or((1, 0), |v| (0, v)));
                let sorted = order.windows(2).all(|w| w[0] < w[1]);
                if !sorted {
                    let idx = PrimitiveArray::<u32>::from_vec(order);
                    arrays = arrays
                        .iter()
                        .map(|a| arrow2::compute::take::take(a.as_ref(), &idx))
                        .collect::<Result<_, _>>()
                        .map_err(format_err("sort rows"))?;
                }
            }
        }
        Ok(Batch { def: self.def, chunk: Chunk::new(arrays), stats: self.stats, rows: self.rows })
    }
}

/// Finished rows for one data file.
pub struct Batch {
    pub(crate) def: &'static TableDef,
    pub(crate) chunk: Chunk<Box<dyn Array>>,
    stats: Vec<ColStats>,
    rows: usize,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("table", &self.def.path).field("rows", &self.rows).finish()
    }
}

/// `2020-05-31T05:12:01.123Z`, as Delta stats write timestamps (milliseconds).
pub(crate) fn iso_millis(micros: i64) -> String {
    let t = loglake_parser::Timestamp::from_unix_micros(micros.div_euclid(1000) * 1000, 0);
    let (y, m, d) = t.utc_date();
    let secs = micros.div_euclid(1_000_000).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        micros.div_euclid(1000).rem_euclid(1000)
    )
}

impl Batch {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Delta `stats` JSON: `numRecords`, and per column `nullCount`, plus `minValues` /
    /// `maxValues` for integer and timestamp columns (timestamps widened to whole
    /// milliseconds, so pruning never skips a matching file).
    #[must_use]
    pub fn delta_stats(&self) -> String {
        let (mut min, mut max, mut nulls) = (Map::new(), Map::new(), Map::new());
        for (c, st) in self.def.columns.iter().zip(&self.stats) {
            nulls.insert(c.name.to_owned(), json!(st.nulls));
            if let (Some(lo), Some(hi)) = (st.min, st.max) {
                let (lo, hi): (Json, Json) = match c.ty {
                    ColumnType::Timestamp => {
                        (json!(iso_millis(lo)), json!(iso_millis(hi.saturating_add(999) / 1000 * 1000)))
                    }
                    _ => (json!(lo), json!(hi)),
                };
                min.insert(c.name.to_owned(), lo);
                max.insert(c.name.to_owned(), hi);
            }
        }
        json!({"numRecords": self.rows, "minValues": min, "maxValues": max, "nullCount": nulls}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::REJECTS;

    fn reject(b: &mut BatchBuilder, line: i64) {
        b.push(&[
            Value::Str("s3://b/raw/x.log"),
            Value::Int(line),
            Value::Str("bad_date"),
            Value::Null,
            Value::Bytes(b"\xff raw"),
            Value::Str("\u{fffd} raw"),
        ])
        .unwrap();
    }

    #[test]
    fn rows_are_type_checked_and_counted() {
        let mut b = BatchBuilder::new(&REJECTS);
        reject(&mut b, 2);
        reject(&mut b, 1);
        assert!(b.push(&[Value::Null; 6]).is_err(), "non-nullable NULL");
        assert!(b.push(&[Value::Int(1)]).is_err(), "wrong width");
        let bad_type =
            [Value::Int(1), Value::Int(1), Value::Str("r"), Value::Null, Value::Bytes(b""), Value::Str("")];
        assert!(b.push(&bad_type).is_err());
        assert_eq!(b.len(), 2);
        let batch = b.finish().unwrap();
        let stats: Json = serde_json::from_str(&batch.delta_stats()).unwrap();
        assert_eq!(stats["numRecords"], 2);
        assert_eq!(stats["minValues"]["source_line"], 1);
        assert_eq!(stats["maxValues"]["source_line"], 2);
        assert_eq!(stats["nullCount"]["byte_column"], 2);
    }

    #[test]
    fn iso_millis_formats() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_590_901_921_123_456), "2020-05-31T05:12:01.123Z");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999Z");
    }
}
