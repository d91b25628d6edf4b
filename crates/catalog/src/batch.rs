//! Rows for one data file, built column by column (arrow2 stays inside this module and
//! `parquet.rs`), with the statistics the Delta log records.
//!
//! Two ways in: [`BatchBuilder::push`] takes a row of [`Value`]s and checks it whole first
//! (a bad row adds nothing); [`BatchBuilder::row`] writes one typed value per column with no
//! intermediate row, for the ingest hot path. Dictionary columns keep their own hash table of
//! distinct values; a caller that caches its values (user agents, say) gives each one an id
//! from [`dict_id`] and passes it along ([`RowWriter::dict_id`]), so a value seen before is found
//! by its id, without hashing or comparing the text again.

use arrow2::array::{Array, BinaryArray, BooleanArray, DictionaryArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::Bitmap;
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, IntegerType, Schema, TimeUnit};
use arrow2::offset::OffsetsBuffer;
use arrow2::types::NativeType;
use hashbrown::HashTable;
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

/// The hash a dictionary column files a value under (xxh3, 64 bits).
#[inline]
fn dict_hash(value: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value)
}

/// A new value id for [`RowWriter::dict_id`]: unique in this process, never handed out twice,
/// so an id stands for one text wherever it is used.
#[must_use]
pub fn dict_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A caller's memo of one value's key in one dictionary column of the batch being built
/// ([`RowWriter::dict_memo`]): kept beside the value in the caller's own cache, it lets the
/// next row with that value skip the column's lookups. A memo made by another column or batch
/// is recognised (each dictionary column of each batch has its own serial) and refreshed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DictMemo {
    /// The serial of the dictionary column that gave `key`; 0 for none.
    serial: u64,
    key: u32,
}

/// A serial for a new dictionary column builder (never 0, never handed out twice).
fn dict_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Spreads an id over the hash table's bits (ids are sequential).
#[inline]
fn id_hash(id: u64) -> u64 {
    (id ^ (id >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A column outgrew what one file's arrays can address (2 GiB of values, or 2^31 distinct
/// dictionary values). Small on purpose: the push functions that return it are the hot path.
#[derive(Debug, Clone, Copy)]
struct Overflow(&'static str);

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Flags packed eight to a byte, the first one in the lowest bit (Arrow's bitmap layout).
fn pack_flags(flags: &[bool]) -> Vec<u8> {
    let mut out = Vec::with_capacity(flags.len().div_ceil(8));
    let mut chunks = flags.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        for (w, &f) in word.iter_mut().zip(c) {
            *w = u8::from(f);
        }
        // byte i (0 or 1) of the word lands on bit 56 + i of the product, without carries
        out.push((u64::from_le_bytes(word).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        out.push(rest.iter().enumerate().fold(0u8, |b, (i, &f)| b | (u8::from(f) << i)));
    }
    out
}

/// Flags collected a byte per row as an Arrow bitmap. Packed once, when the column is
/// finished: a push is one store, where a bitmap's is a read-modify-write of the byte the
/// previous row wrote.
fn bitmap(flags: &[bool]) -> Result<Bitmap, CatalogError> {
    Bitmap::try_new(pack_flags(flags), flags.len()).map_err(format_err("bitmap"))
}

/// A column's validity: nothing while every row so far has a value, a flag per row from its
/// first NULL on.
#[derive(Default)]
struct Validity(Option<Vec<bool>>);

impl Validity {
    #[inline(always)]
    fn push_valid(&mut self) {
        if let Some(v) = self.0.as_mut() {
            v.push(true);
        }
    }

    /// A NULL after `rows` rows; room for `capacity` rows when it is the column's first.
    #[inline(always)]
    fn push_null(&mut self, rows: usize, capacity: usize) {
        let v = self.0.get_or_insert_with(|| {
            let mut v = Vec::with_capacity(capacity.max(rows + 1));
            v.resize(rows, true);
            v
        });
        v.push(false);
    }

    fn finish(self) -> Result<Option<Bitmap>, CatalogError> {
        self.0.as_deref().map(bitmap).transpose()
    }
}

/// A fixed-width or boolean column: a value per row (a NULL holds the default) and validity.
#[derive(Default)]
struct Cells<T> {
    values: Vec<T>,
    validity: Validity,
}

impl<T: Copy + Default> Cells<T> {
    fn with_capacity(rows: usize) -> Self {
        Cells { values: Vec::with_capacity(rows), validity: Validity::default() }
    }

    #[inline(always)]
    fn push(&mut self, v: Option<T>) {
        match v {
            Some(x) => {
                self.values.push(x);
                self.validity.push_valid();
            }
            None => {
                self.validity.push_null(self.values.len(), self.values.capacity());
                self.values.push(T::default());
            }
        }
    }
}

impl<T: NativeType> Cells<T> {
    fn finish(self, data_type: DataType) -> Result<Box<dyn Array>, CatalogError> {
        Ok(PrimitiveArray::<T>::try_new(data_type, self.values.into(), self.validity.finish()?)
            .map_err(format_err("fixed-width column"))?
            .boxed())
    }
}

impl Cells<bool> {
    fn finish_bool(self) -> Result<Box<dyn Array>, CatalogError> {
        Ok(BooleanArray::try_new(DataType::Boolean, bitmap(&self.values)?, self.validity.finish()?)
            .map_err(format_err("boolean column"))?
            .boxed())
    }
}

/// A variable-length column (text or bytes): offsets into one data buffer, plus validity.
struct VarBuilder {
    /// Starts with the 0 offset: one more entry than rows.
    offsets: Vec<i32>,
    data: Vec<u8>,
    validity: Validity,
}

impl Default for VarBuilder {
    fn default() -> Self {
        VarBuilder { offsets: vec![0], data: Vec::new(), validity: Validity::default() }
    }
}

/// A finished variable-length column: offsets, values, validity.
type VarParts = (OffsetsBuffer<i32>, Vec<u8>, Option<Bitmap>);

/// Values one column may hold in one file (Arrow's 32-bit offsets).
const MAX_VALUES: usize = i32::MAX as usize;

impl VarBuilder {
    #[inline(always)]
    fn push_value(&mut self, b: &[u8]) -> Result<(), Overflow> {
        self.data.extend_from_slice(b);
        if self.data.len() > MAX_VALUES {
            return Err(Overflow("a column's values exceed 2 GiB in one file"));
        }
        self.offsets.push(self.data.len() as i32);
        self.validity.push_valid();
        Ok(())
    }

    #[inline(always)]
    fn push_null(&mut self) {
        self.validity.push_null(self.offsets.len() - 1, self.offsets.capacity());
        self.offsets.push(self.data.len() as i32);
    }

    #[inline(always)]
    fn push(&mut self, v: Option<&[u8]>) -> Result<(), Overflow> {
        match v {
            Some(b) => self.push_value(b),
            None => {
                self.push_null();
                Ok(())
            }
        }
    }

    fn parts(self) -> Result<VarParts, CatalogError> {
        let offsets = OffsetsBuffer::try_from(self.offsets).map_err(format_err("column offsets"))?;
        Ok((offsets, self.data, self.validity.finish()?))
    }

    fn finish_utf8(self) -> Result<Box<dyn Array>, CatalogError> {
        let (offsets, data, validity) = self.parts()?;
        Ok(Utf8Array::<i32>::try_new(DataType::Utf8, offsets, data.into(), validity)
            .map_err(format_err("text column"))?
            .boxed())
    }

    fn finish_binary(self) -> Result<Box<dyn Array>, CatalogError> {
        let (offsets, data, validity) = self.parts()?;
        Ok(BinaryArray::<i32>::try_new(DataType::Binary, offsets, data.into(), validity)
            .map_err(format_err("binary column"))?
            .boxed())
    }
}

/// A dictionary-encoded text column: one key per row and the distinct values in first-seen
/// order, found again through a hash table of their indices.
#[derive(Default)]
struct DictBuilder {
    keys: Vec<i32>,
    validity: Validity,
    offsets: Vec<i32>,
    data: Vec<u8>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
    /// Caller ids ([`dict_id`]) already resolved to a key.
    by_id: HashTable<(u64, u32)>,
    /// A direct-mapped cache in front of `by_id`: `(id + 1, key)`, 0 when empty.
    recent: Vec<(u64, u32)>,
    /// This column builder's [`DictMemo`] serial (0 only before `with_capacity_hint` sets it,
    /// and a memo never matches 0).
    serial: u64,
}

/// Slots of [`DictBuilder::recent`] (a power of two).
const RECENT: usize = 256;

impl DictBuilder {
    fn value<'d>(offsets: &[i32], data: &'d [u8], i: u32) -> &'d [u8] {
        let i = i as usize;
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        &data[start..end]
    }

    /// A value the caller identifies by a [`dict_id`].
    #[inline(always)]
    fn push_id(&mut self, value: &[u8], id: u64) -> Result<(), Overflow> {
        let key = self.key_of_id(value, id)?;
        self.push_key(key);
        Ok(())
    }

    /// The key of a value the caller identifies by a [`dict_id`], added on first sight.
    #[inline(always)]
    fn key_of_id(&mut self, value: &[u8], id: u64) -> Result<u32, Overflow> {
        if self.recent.is_empty() {
            // written out, not lazily zeroed: read-before-write of kernel zero pages costs a
            // copy-on-write fault and a TLB flush on every core
            self.recent.resize(RECENT, (0, 0));
        }
        let slot = (id as usize) & (RECENT - 1);
        let tagged = id.wrapping_add(1);
        let key = if self.recent[slot].0 == tagged {
            self.recent[slot].1
        } else {
            let h = id_hash(id);
            let key = match self.by_id.find(h, |e| e.0 == id) {
                Some(&(_, key)) => key,
                None => {
                    let key = self.key_of(value)?;
                    self.by_id.insert_unique(h, (id, key), |e| id_hash(e.0));
                    key
                }
            };
            self.recent[slot] = (tagged, key);
            key
        };
        debug_assert_eq!(Self::value(&self.offsets, &self.data, key), value, "dict_id reused");
        Ok(key)
    }

    /// A value with the caller's memo of its key: the memo's key when this builder made it,
    /// else [`key_of_id`](Self::key_of_id)'s, remembered in the memo.
    #[inline(always)]
    fn push_memo(&mut self, value: &str, id: u64, memo: &std::cell::Cell<DictMemo>) -> Result<(), Overflow> {
        let m = memo.get();
        let key = if m.serial == self.serial && self.serial != 0 {
            debug_assert_eq!(Self::value(&self.offsets, &self.data, m.key), value.as_bytes(), "stale memo");
            m.key
        } else {
            let key = self.key_of_id(value.as_bytes(), id)?;
            memo.set(DictMemo { serial: self.serial, key });
            key
        };
        self.push_key(key);
        Ok(())
    }

    /// Appends a row holding dictionary value `key`.
    #[inline(always)]
    fn push_key(&mut self, key: u32) {
        self.keys.push(key as i32);
        self.validity.push_valid();
    }

    /// The key of a value, added to the dictionary on first sight.
    fn key_of(&mut self, value: &[u8]) -> Result<u32, Overflow> {
        let hash = dict_hash(value);
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let (offsets, data) = (&self.offsets, &self.data);
        if let Some(&k) = self.table.find(hash, |&i| Self::value(offsets, data, i) == value) {
            return Ok(k);
        }
        let k = u32::try_from(self.hashes.len())
            .ok()
            .filter(|k| i32::try_from(*k).is_ok())
            .ok_or(Overflow("dictionary: too many distinct values"))?;
        self.data.extend_from_slice(value);
        let end = i32::try_from(self.data.len()).map_err(|_| Overflow("dictionary: values exceed 2 GiB"))?;
        self.offsets.push(end);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, k, |&i| hashes[i as usize]);
        Ok(k)
    }

    #[inline(always)]
    fn push(&mut self, value: &[u8]) -> Result<(), Overflow> {
        let key = self.key_of(value)?;
        self.push_key(key);
        Ok(())
    }

    #[inline(always)]
    fn push_null(&mut self) {
        self.validity.push_null(self.keys.len(), self.keys.capacity());
        self.keys.push(0);
    }

    fn finish(mut self) -> Result<Box<dyn Array>, CatalogError> {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let offsets = OffsetsBuffer::try_from(self.offsets).map_err(format_err("dictionary offsets"))?;
        let values = Utf8Array::<i32>::try_new(DataType::Utf8, offsets, self.data.into(), None)
            .map_err(format_err("dictionary values"))?;
        let keys = PrimitiveArray::<i32>::new(DataType::Int32, self.keys.into(), self.validity.finish()?);
        let dt = DataType::Dictionary(IntegerType::Int32, Box::new(DataType::Utf8), false);
        Ok(DictionaryArray::try_new(dt, keys, values.boxed()).map_err(format_err("dictionary"))?.boxed())
    }
}

#[allow(
    clippy::large_enum_variant,
    reason = "one builder per column, pushed to per row: no indirection on that path"
)]
enum Builder {
    Ts(Cells<i64>),
    I16(Cells<i16>),
    I32(Cells<i32>),
    I64(Cells<i64>),
    Bool(Cells<bool>),
    Utf8(VarBuilder),
    Dict(DictBuilder),
    Binary(VarBuilder),
    F64(Cells<f64>),
}

/// Per-column running statistics (Delta `stats`): null count and integer min/max.
#[derive(Debug, Clone, Copy)]
struct ColStats {
    nulls: u64,
    min: i64,
    max: i64,
}

impl Default for ColStats {
    fn default() -> Self {
        ColStats { nulls: 0, min: i64::MAX, max: i64::MIN }
    }
}

impl ColStats {
    /// Min and max when at least one integer was added.
    fn range(&self) -> Option<(i64, i64)> {
        (self.min <= self.max).then_some((self.min, self.max))
    }
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
    /// Set when a [`RowWriter`] got a value its column cannot hold: the columns may be
    /// misaligned, so [`finish`](Self::finish) refuses the batch.
    poisoned: Option<String>,
}

impl std::fmt::Debug for BatchBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchBuilder").field("table", &self.def.path).field("rows", &self.rows).finish()
    }
}

/// Writes one row, a typed value per column in the table's column order, without building the
/// row first (see [`BatchBuilder::row`]). Each call fills the next column; [`end`](Self::end)
/// closes the row.
///
/// A value that its column cannot hold (wrong type, NULL in a non-nullable column, an integer
/// out of range, too few or too many values) is a bug in the caller, never data: the row is
/// then reported by `end`, and the builder refuses to [`finish`](BatchBuilder::finish).
pub struct RowWriter<'b> {
    b: &'b mut BatchBuilder,
    col: usize,
}

impl std::fmt::Debug for RowWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowWriter").field("table", &self.b.def.path).field("column", &self.col).finish()
    }
}

impl RowWriter<'_> {
    #[cold]
    fn mismatch(&mut self, col: usize, what: &str) {
        if self.b.poisoned.is_none() {
            let name = self.b.def.columns.get(col).map_or("(past the last column)", |c| c.name);
            let ty = self.b.def.columns.get(col).map(|c| c.ty);
            self.b.poisoned = Some(format!("column {name} ({ty:?}) cannot hold {what}"));
        }
    }

    /// The next column and its statistics.
    #[inline(always)]
    fn next(&mut self) -> (usize, Option<(&mut Builder, &mut ColStats)>) {
        let i = self.col;
        self.col += 1;
        (i, self.b.cols.get_mut(i).zip(self.b.stats.get_mut(i)))
    }

    #[inline(always)]
    fn null_ok(&mut self, col: usize) -> bool {
        let ok = self.b.def.columns.get(col).is_some_and(|c| c.nullable);
        if !ok {
            self.mismatch(col, "NULL");
        }
        ok
    }

    /// An integer or timestamp (microseconds) value; `None` is NULL.
    #[inline(always)]
    pub fn int(&mut self, v: Option<i64>) -> &mut Self {
        let (i, col) = self.next();
        let Some((b, st)) = col else {
            self.mismatch(i, "an integer");
            return self;
        };
        let Some(x) = v else {
            st.nulls += 1;
            match b {
                Builder::Ts(a) | Builder::I64(a) => a.push(None),
                Builder::I16(a) => a.push(None),
                Builder::I32(a) => a.push(None),
                _ => {
                    self.mismatch(i, "an integer");
                    return self;
                }
            }
            self.null_ok(i);
            return self;
        };
        st.min = st.min.min(x);
        st.max = st.max.max(x);
        let fits = match b {
            Builder::Ts(a) | Builder::I64(a) => {
                a.push(Some(x));
                true
            }
            Builder::I16(a) => {
                let v = i16::try_from(x);
                a.push(Some(v.unwrap_or_default()));
                v.is_ok()
            }
            Builder::I32(a) => {
                let v = i32::try_from(x);
                a.push(Some(v.unwrap_or_default()));
                v.is_ok()
            }
            _ => false,
        };
        if !fits {
            self.mismatch(i, &format!("the integer {x}"));
        }
        self
    }

    /// A boolean; `None` is NULL.
    #[inline(always)]
    pub fn bool(&mut self, v: Option<bool>) -> &mut Self {
        let (i, col) = self.next();
        match col {
            Some((Builder::Bool(a), st)) => {
                st.nulls += u64::from(v.is_none());
                a.push(v);
                if v.is_none() {
                    self.null_ok(i);
                }
            }
            _ => self.mismatch(i, "a boolean"),
        }
        self
    }

    /// A float; `None` is NULL.
    #[inline(always)]
    pub fn float(&mut self, v: Option<f64>) -> &mut Self {
        let (i, col) = self.next();
        match col {
            Some((Builder::F64(a), st)) => {
                st.nulls += u64::from(v.is_none());
                a.push(v);
                if v.is_none() {
                    self.null_ok(i);
                }
            }
            _ => self.mismatch(i, "a float"),
        }
        self
    }

    /// Text, for a plain or a dictionary column; `None` is NULL.
    #[inline(always)]
    pub fn str(&mut self, v: Option<&str>) -> &mut Self {
        self.text(v.map(str::as_bytes), None)
    }

    /// Text given as the bytes of a `str` (a value the caller took apart as ASCII, such as a
    /// dotted quad), for a plain or a dictionary column; `None` is NULL. Saves the UTF-8 check
    /// of a value: [`finish`](BatchBuilder::finish) checks each text column whole, and bytes
    /// that are not UTF-8 make it fail.
    #[inline(always)]
    pub fn utf8(&mut self, v: Option<&[u8]>) -> &mut Self {
        self.text(v, None)
    }

    /// Text with the caller's id for it (from [`dict_id`]; the same id must always come with
    /// the same text). A dictionary column finds a value seen before by its id alone; a plain
    /// column ignores the id.
    #[inline(always)]
    pub fn dict_id(&mut self, v: Option<(&str, u64)>) -> &mut Self {
        match v {
            Some((s, id)) => self.text(Some(s.as_bytes()), Some(id)),
            None => self.text(None, None),
        }
    }

    /// [`dict_id`](Self::dict_id) with the caller's [`DictMemo`] for the value in this column
    /// (one memo per value and column, kept where the caller keeps the value): a dictionary
    /// column that made the memo takes the key from it without a lookup. A plain column
    /// ignores the id and the memo.
    #[inline(always)]
    pub fn dict_memo(&mut self, v: Option<(&str, u64, &std::cell::Cell<DictMemo>)>) -> &mut Self {
        let i = self.col;
        let pushed = match (v, self.b.cols.get_mut(i)) {
            (Some((s, id, memo)), Some(Builder::Dict(d))) => Some(d.push_memo(s, id, memo)),
            _ => None,
        };
        match pushed {
            Some(result) => {
                self.col += 1;
                if let Err(e) = result {
                    self.mismatch(i, e.0);
                }
                self
            }
            None => self.text(v.map(|(s, _, _)| s.as_bytes()), v.map(|(_, id, _)| id)),
        }
    }

    /// Text with the caller's id for it when it has one ([`dict_id`](Self::dict_id) then,
    /// [`str`](Self::str) otherwise).
    #[inline(always)]
    pub fn dict_opt(&mut self, v: Option<(&str, Option<u64>)>) -> &mut Self {
        match v {
            Some((s, id)) => self.text(Some(s.as_bytes()), id),
            None => self.text(None, None),
        }
    }

    #[inline(always)]
    fn text(&mut self, v: Option<&[u8]>, id: Option<u64>) -> &mut Self {
        let i = self.col;
        self.col += 1;
        let result = match (self.b.cols.get_mut(i), v) {
            (Some(Builder::Utf8(a)), Some(s)) => a.push_value(s),
            (Some(Builder::Dict(d)), Some(s)) => match id {
                Some(id) => d.push_id(s, id),
                None => d.push(s),
            },
            (Some(Builder::Utf8(a)), None) => {
                a.push_null();
                self.counted_null(i);
                Ok(())
            }
            (Some(Builder::Dict(d)), None) => {
                d.push_null();
                self.counted_null(i);
                Ok(())
            }
            _ => Err(Overflow("text")),
        };
        if let Err(e) = result {
            self.mismatch(i, e.0);
        }
        self
    }

    /// Counts a NULL of column `i` (and reports it if the column is not nullable).
    #[inline(always)]
    fn counted_null(&mut self, i: usize) {
        if let Some(st) = self.b.stats.get_mut(i) {
            st.nulls += 1;
        }
        self.null_ok(i);
    }

    /// Bytes, for a binary column; `None` is NULL.
    #[inline(always)]
    pub fn bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        let (i, col) = self.next();
        match col {
            Some((Builder::Binary(a), st)) => {
                st.nulls += u64::from(v.is_none());
                if let Err(e) = a.push(v) {
                    self.mismatch(i, &e.to_string());
                } else if v.is_none() {
                    self.null_ok(i);
                }
            }
            _ => self.mismatch(i, "bytes"),
        }
        self
    }

    /// Any [`Value`] (the generic path of [`BatchBuilder::push`]).
    pub fn value(&mut self, v: &Value<'_>) -> &mut Self {
        let ty = self.b.def.columns.get(self.col).map(|c| c.ty);
        match (v, ty) {
            (Value::Int(i), _) => self.int(Some(*i)),
            (Value::Bool(x), _) => self.bool(Some(*x)),
            (Value::Str(s), _) => self.str(Some(s)),
            (Value::Bytes(x), _) => self.bytes(Some(x)),
            (Value::Float(x), _) => self.float(Some(*x)),
            (Value::Null, Some(ColumnType::Bool)) => self.bool(None),
            (Value::Null, Some(ColumnType::Float64)) => self.float(None),
            (Value::Null, Some(ColumnType::Binary)) => self.bytes(None),
            (Value::Null, Some(ColumnType::Utf8 | ColumnType::DictUtf8)) => self.str(None),
            (Value::Null, _) => self.int(None),
        }
    }

    /// Closes the row.
    ///
    /// # Errors
    /// [`CatalogError::Row`] when a value did not fit its column or the row has the wrong
    /// number of values (the builder then refuses to finish).
    pub fn end(self) -> Result<(), CatalogError> {
        if self.col != self.b.cols.len() && self.b.poisoned.is_none() {
            self.b.poisoned = Some(format!("{} values for {} columns", self.col, self.b.cols.len()));
        }
        self.b.rows += 1;
        match &self.b.poisoned {
            None => Ok(()),
            Some(m) => Err(CatalogError::Row(m.clone())),
        }
    }
}

impl BatchBuilder {
    /// An empty batch for a table.
    #[must_use]
    pub fn new(def: &'static TableDef) -> Self {
        Self::with_capacity(def, 0)
    }

    /// An empty batch for a table with room for `rows` rows in its fixed-width columns, text
    /// offsets and dictionary keys (text bytes still grow as they come): a writer that knows
    /// about how many rows are coming saves the copies of growing each column by doubling.
    #[must_use]
    pub fn with_capacity(def: &'static TableDef, rows: usize) -> Self {
        Self::with_capacity_hint(def, rows, &[])
    }

    /// [`with_capacity`](Self::with_capacity), plus room for `rows × bytes_per_row[i]` bytes
    /// in each plain text or binary column `i`: the hint [`text_bytes_per_row`](Self::text_bytes_per_row)
    /// gives of an earlier batch of the same table. Missing entries reserve nothing; a hint too
    /// small costs a copy when the column outgrows it, one too large only address space
    /// (pages never written are never mapped in).
    #[must_use]
    pub fn with_capacity_hint(def: &'static TableDef, rows: usize, bytes_per_row: &[usize]) -> Self {
        let var = |i: usize| {
            let mut offsets = Vec::with_capacity(rows + 1);
            offsets.push(0);
            // never more than one file's column can hold, whatever the hint
            let bytes = bytes_per_row.get(i).map_or(0, |b| b.saturating_mul(rows)).min(MAX_VALUES);
            VarBuilder { offsets, data: Vec::with_capacity(bytes), validity: Validity::default() }
        };
        let cols = def
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.ty {
                ColumnType::Timestamp => Builder::Ts(Cells::with_capacity(rows)),
                ColumnType::Int16 => Builder::I16(Cells::with_capacity(rows)),
                ColumnType::Int32 => Builder::I32(Cells::with_capacity(rows)),
                ColumnType::Int64 => Builder::I64(Cells::with_capacity(rows)),
                ColumnType::Bool => Builder::Bool(Cells::with_capacity(rows)),
                ColumnType::Utf8 => Builder::Utf8(var(i)),
                ColumnType::DictUtf8 => Builder::Dict(DictBuilder {
                    keys: Vec::with_capacity(rows),
                    serial: dict_serial(),
                    ..DictBuilder::default()
                }),
                ColumnType::Binary => Builder::Binary(var(i)),
                ColumnType::Float64 => Builder::F64(Cells::with_capacity(rows)),
            })
            .collect();
        BatchBuilder {
            def,
            cols,
            stats: vec![ColStats::default(); def.columns.len()],
            rows: 0,
            poisoned: None,
        }
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

    /// Bytes per row so far in each plain text or binary column, rounded up, with a quarter
    /// more for the spread between batches (0 for other columns, and for all before the first
    /// row): the hint for [`with_capacity_hint`](Self::with_capacity_hint).
    #[must_use]
    pub fn text_bytes_per_row(&self) -> Vec<usize> {
        let rows = self.rows.max(1);
        self.cols
            .iter()
            .map(|c| match c {
                Builder::Utf8(v) | Builder::Binary(v) => v.data.len().div_ceil(rows) * 5 / 4,
                _ => 0,
            })
            .collect()
    }

    /// Starts a row written value by value (the fast path; see [`RowWriter`]).
    ///
    /// ```
    /// use loglake_catalog::{BatchBuilder, REJECTS};
    ///
    /// let mut b = BatchBuilder::new(&REJECTS);
    /// let mut row = b.row();
    /// row.str(Some("raw/a.log")).int(Some(7)).str(Some("bad_date")).int(None);
    /// row.bytes(Some(b"31/Feb/2020")).str(Some("31/Feb/2020"));
    /// row.end()?;
    /// assert_eq!(b.len(), 1);
    /// # Ok::<(), loglake_catalog::CatalogError>(())
    /// ```
    pub fn row(&mut self) -> RowWriter<'_> {
        RowWriter { b: self, col: 0 }
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
        let mut w = self.row();
        for v in row {
            w.value(v);
        }
        w.end()
    }

    /// The finished batch, rows sorted by the table's sort column (NULLs last, stable).
    ///
    /// # Errors
    /// [`CatalogError::Row`] if a [`RowWriter`] reported a bad row; [`CatalogError::Format`]
    /// if reordering fails.
    pub fn finish(self) -> Result<Batch, CatalogError> {
        if let Some(m) = self.poisoned {
            return Err(CatalogError::Row(m));
        }
        let mut arrays: Vec<Box<dyn Array>> = self
            .cols
            .into_iter()
            .zip(self.def.columns)
            .map(|(b, c)| {
                let ty = arrow_type(c.ty);
                Ok(match b {
                    Builder::Ts(a) | Builder::I64(a) => a.finish(ty)?,
                    Builder::I16(a) => a.finish(ty)?,
                    Builder::I32(a) => a.finish(ty)?,
                    Builder::Bool(a) => a.finish_bool()?,
                    Builder::Utf8(a) => a.finish_utf8()?,
                    Builder::Dict(d) => d.finish()?,
                    Builder::Binary(a) => a.finish_binary()?,
                    Builder::F64(a) => a.finish(ty)?,
                })
            })
            .collect::<Result<_, CatalogError>>()?;
        if let Some(i) = self.def.sort_by.and_then(|c| self.def.column_index(c)) {
            if let Some(keys) = arrays[i].as_any().downcast_ref::<PrimitiveArray<i64>>() {
                let sorted = match keys.validity() {
                    None => keys.values().windows(2).all(|w| w[0] <= w[1]),
                    Some(_) => keys.iter().collect::<Vec<_>>().windows(2).all(|w| match (w[0], w[1]) {
                        (Some(a), Some(b)) => a <= b,
                        (_, None) => true,
                        (None, Some(_)) => false,
                    }),
                };
                if !sorted {
                    let mut order: Vec<u32> = (0..u32::try_from(keys.len()).unwrap_or(u32::MAX)).collect();
                    order.sort_by_key(|&r| keys.get(r as usize).map_or((1, 0), |v| (0, v)));
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
            if let Some((lo, hi)) = st.range() {
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
    fn flags_pack_eight_to_a_byte_lowest_bit_first() {
        for len in 0..=67usize {
            for seed in [0u64, 0x9e37_79b9_7f4a_7c15, u64::MAX] {
                let flags: Vec<bool> =
                    (0..len).map(|i| (seed.rotate_left(i as u32 * 7) ^ i as u64) & 1 == 1).collect();
                let packed = pack_flags(&flags);
                assert_eq!(packed.len(), len.div_ceil(8), "len {len}");
                for (i, f) in flags.iter().enumerate() {
                    assert_eq!((packed[i / 8] >> (i % 8)) & 1, u8::from(*f), "len {len} bit {i}");
                }
                // bits past the last flag stay clear
                if len % 8 != 0 {
                    assert_eq!(packed[len / 8] >> (len % 8), 0, "len {len}");
                }
            }
        }
    }

    #[test]
    fn nulls_and_values_of_every_column_type_come_back_in_place() {
        use crate::schema::ACCESS_LOGS;
        use arrow2::array::{BooleanArray, PrimitiveArray};
        let def = &ACCESS_LOGS;
        // the first NULL of a column at row 0, inside the first byte, past it, or never
        let first_null = |c: usize| [0usize, 3, 11, 70][c % 4];
        // the timestamp (the sort column) never NULL: the rows stay in place
        let is_null = |c: usize, r: usize| {
            def.columns[c].nullable
                && def.columns[c].ty != ColumnType::Timestamp
                && r >= first_null(c)
                && (r * 5 + c) % 3 == 0
        };
        let rows = 45usize;
        let mut b = BatchBuilder::with_capacity(def, 16);
        for r in 0..rows {
            let cell = |c: usize| match def.columns[c].ty {
                _ if is_null(c, r) => Value::Null,
                ColumnType::Timestamp => Value::Int(1_590_000_000_000_000 + r as i64),
                ColumnType::Int64 | ColumnType::Int32 | ColumnType::Int16 => Value::Int((r * 3 + c) as i64),
                ColumnType::Bool => Value::Bool((r + c) % 2 == 0),
                _ => Value::Str(if r % 2 == 0 { "even" } else { "odd" }),
            };
            let row: Vec<Value<'_>> = (0..def.columns.len()).map(cell).collect();
            b.push(&row).unwrap();
        }
        let batch = b.finish().unwrap();
        for (c, col) in def.columns.iter().enumerate() {
            let a = &batch.chunk.arrays()[c];
            for r in 0..rows {
                let null = is_null(c, r);
                assert_eq!(a.is_null(r), null, "{} row {r}", col.name);
                if null {
                    continue;
                }
                let want = (r * 3 + c) as i64;
                match col.ty {
                    ColumnType::Int64 => {
                        assert_eq!(a.as_any().downcast_ref::<PrimitiveArray<i64>>().unwrap().value(r), want);
                    }
                    ColumnType::Int32 => {
                        let v = a.as_any().downcast_ref::<PrimitiveArray<i32>>().unwrap().value(r);
                        assert_eq!(i64::from(v), want, "{}", col.name);
                    }
                    ColumnType::Int16 => {
                        let v = a.as_any().downcast_ref::<PrimitiveArray<i16>>().unwrap().value(r);
                        assert_eq!(i64::from(v), want, "{}", col.name);
                    }
                    ColumnType::Bool => {
                        let v = a.as_any().downcast_ref::<BooleanArray>().unwrap().value(r);
                        assert_eq!(v, (r + c) % 2 == 0, "{} row {r}", col.name);
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn delta_stats_count_nulls_and_bound_integers_of_every_width() {
        use crate::schema::ACCESS_LOGS;
        let def = &ACCESS_LOGS;
        let mut b = BatchBuilder::new(def);
        let mut rows: Vec<Vec<Value<'_>>> = Vec::new();
        for r in 0..50i64 {
            rows.push(
                def.columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let c = c as i64;
                        if col.nullable && (r * 7 + c) % 5 == 0 {
                            return Value::Null;
                        }
                        match col.ty {
                            ColumnType::Timestamp | ColumnType::Int64 => {
                                Value::Int(1_590_000_000_000_000 - r * r * 977 + c)
                            }
                            ColumnType::Int32 | ColumnType::Int16 => Value::Int((r * 31 + c) % 600 - 300),
                            ColumnType::Bool => Value::Bool(r % 3 == 0),
                            _ => Value::Str("v"),
                        }
                    })
                    .collect(),
            );
        }
        for row in &rows {
            b.push(row).unwrap();
        }
        let stats: Json = serde_json::from_str(&b.finish().unwrap().delta_stats()).unwrap();
        for (c, col) in def.columns.iter().enumerate() {
            let present: Vec<i64> =
                rows.iter().filter_map(|r| if let Value::Int(v) = r[c] { Some(v) } else { None }).collect();
            let nulls = rows.iter().filter(|r| matches!(r[c], Value::Null)).count();
            assert_eq!(stats["nullCount"][col.name], nulls, "{}", col.name);
            match col.ty {
                ColumnType::Int64 | ColumnType::Int32 | ColumnType::Int16 => {
                    assert_eq!(stats["minValues"][col.name], *present.iter().min().unwrap(), "{}", col.name);
                    assert_eq!(stats["maxValues"][col.name], *present.iter().max().unwrap(), "{}", col.name);
                }
                ColumnType::Timestamp => {
                    let lo = present.iter().min().unwrap();
                    assert_eq!(stats["minValues"][col.name], iso_millis(*lo), "{}", col.name);
                }
                _ => assert!(stats["minValues"].get(col.name).is_none(), "{}", col.name),
            }
        }
    }

    #[test]
    fn capacity_changes_nothing_but_room() {
        let build = |b: &mut BatchBuilder| {
            for line in 1..=40 {
                reject(b, line);
            }
        };
        let mut plain = BatchBuilder::new(&REJECTS);
        build(&mut plain);
        let plain = plain.finish().unwrap();
        // too little room and too much give the same arrays and statistics
        for rows in [3, 1000] {
            let mut roomy = BatchBuilder::with_capacity(&REJECTS, rows);
            build(&mut roomy);
            let roomy = roomy.finish().unwrap();
            assert_eq!(roomy.chunk.arrays(), plain.chunk.arrays(), "capacity {rows}");
            assert_eq!(roomy.delta_stats(), plain.delta_stats());
        }
        // the text hint of a built batch, too small or too large, changes nothing either
        let mut hinted = BatchBuilder::new(&REJECTS);
        build(&mut hinted);
        let hint = hinted.text_bytes_per_row();
        let raw = REJECTS.column_index("raw_line").unwrap();
        assert!(hint[raw] > 0, "{hint:?}");
        assert_eq!(hint[REJECTS.column_index("source_line").unwrap()], 0, "not a text column");
        for (rows, scale) in [(3, 1), (1000, 1), (40, 0), (40, 100)] {
            let hint: Vec<usize> = hint.iter().map(|h| h * scale).collect();
            let mut roomy = BatchBuilder::with_capacity_hint(&REJECTS, rows, &hint);
            build(&mut roomy);
            assert!(
                scale < 100
                    || matches!(&roomy.cols[raw], Builder::Binary(v) if v.data.capacity() >= 40 * hint[raw]),
                "room reserved"
            );
            let roomy = roomy.finish().unwrap();
            assert_eq!(roomy.chunk.arrays(), plain.chunk.arrays(), "hint x{scale}, {rows} rows");
            assert_eq!(roomy.delta_stats(), plain.delta_stats());
        }
        assert!(BatchBuilder::new(&REJECTS).text_bytes_per_row().iter().all(|h| *h == 0));
    }

    #[test]
    fn utf8_bytes_are_text_and_bytes_that_are_not_utf8_fail_the_batch() {
        use crate::schema::ACCESS_LOGS;
        use arrow2::array::Utf8Array;
        let def = &ACCESS_LOGS;
        let client = def.column_index("client").unwrap();
        let method = def.column_index("method").unwrap();
        let build = |client_text: &[u8]| {
            let mut b = BatchBuilder::new(def);
            let row: Vec<Value<'_>> = def
                .columns
                .iter()
                .map(|c| match c.ty {
                    ColumnType::Timestamp | ColumnType::Int64 | ColumnType::Int32 | ColumnType::Int16 => {
                        Value::Int(1)
                    }
                    ColumnType::Bool => Value::Bool(true),
                    _ => Value::Str("x"),
                })
                .collect();
            let mut w = b.row();
            for (i, v) in row.iter().enumerate() {
                match i {
                    // a plain and a dictionary column, both from bytes
                    _ if i == client => w.utf8(Some(client_text)),
                    _ if i == method => w.utf8(Some(b"GET")),
                    _ => w.value(v),
                };
            }
            w.end().unwrap();
            b.finish()
        };
        let batch = build(b"192.0.2.7").unwrap();
        let arrays = batch.chunk.arrays();
        let plain = arrays[client].as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
        assert_eq!(plain.value(0), "192.0.2.7");
        let dict = arrays[method].as_any().downcast_ref::<DictionaryArray<i32>>().unwrap();
        let values = dict.values().as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
        assert_eq!(values.value(dict.keys().value(0) as usize), "GET");
        assert!(build(&[b'1', 0xff, b'2']).is_err(), "not UTF-8");
    }

    #[test]
    fn dict_memos_give_the_keys_lookups_give() {
        use std::cell::Cell;
        // values as a caller's cache holds them: text, id, one memo per column
        let objects: Vec<(String, u64, Cell<DictMemo>)> =
            (0..3).map(|i| (format!("raw/{i}.log"), dict_id(), Cell::default())).collect();
        let reasons: Vec<(String, u64, Cell<DictMemo>)> =
            (0..5).map(|i| (format!("reason_{i}"), dict_id(), Cell::default())).collect();
        let texts: Vec<(String, u64, Cell<DictMemo>)> =
            (0..2).map(|i| (format!("text {i}"), dict_id(), Cell::default())).collect();
        let pick = |v: &[(String, u64, Cell<DictMemo>)], i: usize| {
            let (t, id, _) = &v[i % v.len()];
            (t.clone(), *id)
        };
        let rows = |memo: bool, reverse: bool| {
            let mut b = BatchBuilder::new(&REJECTS);
            let lines: Vec<usize> = if reverse { (0..200).rev().collect() } else { (0..200).collect() };
            for line in lines {
                let (o, r, t) = (line * 7 % 3, line * 3 % 5, line % 2);
                let mut w = b.row();
                if memo {
                    fn m(e: &(String, u64, Cell<DictMemo>)) -> (&str, u64, &Cell<DictMemo>) {
                        (e.0.as_str(), e.1, &e.2)
                    }
                    w.dict_memo(Some(m(&objects[o])))
                        .int(Some(line as i64))
                        .dict_memo(Some(m(&reasons[r])))
                        .int(None)
                        .bytes(Some(b"raw"))
                        // a plain column ignores the memo
                        .dict_memo(Some(m(&texts[t])));
                } else {
                    let (ot, oid) = pick(&objects, o);
                    let (rt, rid) = pick(&reasons, r);
                    let (tt, _) = pick(&texts, t);
                    w.dict_id(Some((&ot, oid)))
                        .int(Some(line as i64))
                        .dict_id(Some((&rt, rid)))
                        .int(None)
                        .bytes(Some(b"raw"))
                        .str(Some(&tt));
                }
                w.end().unwrap();
            }
            b.finish().unwrap()
        };
        // each batch finds the memos of the one before (values first seen in another order,
        // so other keys) stale, and fills them anew
        for (round, reverse) in [false, true, false, false].into_iter().enumerate() {
            let plain = rows(false, reverse);
            let memoed = rows(true, reverse);
            assert_eq!(memoed.chunk.arrays(), plain.chunk.arrays(), "round {round}");
            assert_eq!(memoed.delta_stats(), plain.delta_stats());
            assert!(objects.iter().chain(&reasons).all(|(_, _, m)| m.get() != DictMemo::default()));
            assert!(texts.iter().all(|(_, _, m)| m.get() == DictMemo::default()), "plain column");
        }
    }

    #[test]
    fn iso_millis_formats() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_590_901_921_123_456), "2020-05-31T05:12:01.123Z");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999Z");
    }
}
