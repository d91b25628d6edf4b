//! Writing a [`Batch`] as a Parquet file (arrow2 + parquet2), with usable statistics.
//!
//! parquet2 0.17 writes min/max statistics but leaves the footer's `column_orders` unset; the
//! Parquet spec then calls min/max undefined, and pyarrow reports `has_min_max = False`, so
//! engines cannot prune row groups. After parquet2 finishes a file we rewrite its footer through
//! the thrift metadata it returns, with `TYPE_ORDER` for every column.
//!
//! The rewrite also normalizes maps: arrow2 writes a map as `MAP { repeated group map {
//! required group key_value { key, value } } }`, one level more than the Parquet spec's
//! `MAP { repeated group key_value { key, value } }`, and Delta readers reject it. A required
//! group adds no repetition or definition level, so dropping the extra level in the footer's
//! schema (and in the column paths) describes the very same pages the standard way.
//!
//! The same rewrite mends two more arrow2 0.18 / parquet2 0.17 defects. For dictionary-encoded
//! columns arrow2 records the null count of the dictionary values (always 0) instead of the
//! rows'; a reader trusting that would skip row groups for `col IS NULL`. And both compare
//! texts by their common prefix only (`"v9"` and `"v99"` compare equal), so a text column's
//! min/max may leave out values the row group holds, and a reader would skip a group for
//! `col = 'v99'` that has such rows. We put true per-row-group null counts and bytewise
//! min/max of every text column in the footer (flat columns' pages come from
//! [`crate::pages`], whose page statistics are right; dictionary columns' column-index
//! references are dropped, their page statistics being arrow2's), so no reader can use a
//! wrong count or bound.

use std::path::Path;

use arrow2::array::{Array, DictionaryArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Schema};
use arrow2::io::parquet::write::{
    array_to_columns, compress, to_parquet_type, transverse, CompressedDataPage, CompressedPage,
    CompressionOptions, DynIter, DynStreamingIterator, Encoding, FallibleStreamingIterator, FileWriter, Page,
    ParquetType, Version, WriteOptions as PqOptions, ZstdLevel,
};
use parquet2::compression::Compression;
use parquet2::page::{CompressedDictPage, DataPageHeader};
use parquet_format_safe::thrift::protocol::TCompactOutputProtocol;
use parquet_format_safe::{ColumnOrder, ConvertedType, FieldRepetitionType, FileMetaData, TypeDefinedOrder};

use crate::batch::{arrow_schema, Batch};
use crate::error::{format_err, CatalogError};
use crate::pages::TextStats;

/// Compression codec for data pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// zstd at a level (1-22).
    Zstd(i32),
    /// snappy.
    Snappy,
    /// none.
    Uncompressed,
}

impl std::str::FromStr for Codec {
    type Err = String;

    /// `zstd` (level 1), `zstd:N` (N in 1..=22), `snappy` or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad compression `{s}`: expected zstd, zstd:N (1-22), snappy or none");
        match s.trim().to_ascii_lowercase().as_str() {
            "zstd" => Ok(Codec::Zstd(1)),
            "snappy" => Ok(Codec::Snappy),
            "none" | "uncompressed" => Ok(Codec::Uncompressed),
            other => {
                let level: i32 = other.strip_prefix("zstd:").ok_or_else(bad)?.parse().map_err(|_| bad())?;
                if (1..=22).contains(&level) {
                    Ok(Codec::Zstd(level))
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl std::fmt::Display for Codec {
    /// The form [`FromStr`](std::str::FromStr) reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Codec::Zstd(level) => write!(f, "zstd:{level}"),
            Codec::Snappy => f.write_str("snappy"),
            Codec::Uncompressed => f.write_str("none"),
        }
    }
}

/// How data files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Page compression (default zstd level 1: on these pages level 3 costs about a quarter
    /// more CPU for files under 1% smaller).
    pub codec: Codec,
    /// Rows per row group (default 262,144).
    pub row_group_rows: usize,
    /// Target data page size in bytes (default 1 MiB).
    pub page_bytes: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { codec: Codec::Zstd(1), row_group_rows: 256 * 1024, page_bytes: 1024 * 1024 }
    }
}

/// Writes `batch` to a local file; returns its size in bytes.
///
/// # Errors
/// [`CatalogError::Format`] or [`CatalogError::Io`] naming the file.
pub fn write_parquet(batch: &Batch, path: &Path, opts: &WriteOptions) -> Result<u64, CatalogError> {
    let name = path.display().to_string();
    let bytes = encode_parquet(batch, opts, &name)?;
    std::fs::write(path, &bytes).map_err(|source| CatalogError::Io { path: name, source })?;
    Ok(bytes.len() as u64)
}

/// Encodes `batch` as a complete Parquet file in memory (`name` is for errors).
pub(crate) fn encode_parquet(
    batch: &Batch,
    opts: &WriteOptions,
    name: &str,
) -> Result<Vec<u8>, CatalogError> {
    encode_arrow(&arrow_schema(batch.def), &batch.chunk, batch.len(), opts, name)
}

/// Encodes one chunk of arrays (any schema, nested included) as a Parquet file in memory.
pub(crate) fn encode_arrow(
    schema: &Schema,
    chunk: &Chunk<Box<dyn Array>>,
    total: usize,
    opts: &WriteOptions,
    name: &str,
) -> Result<Vec<u8>, CatalogError> {
    encode_arrow_with(schema, chunk, total, opts, name, true, true)
}

/// [`encode_arrow`]; with `own_pages` flat and text dictionary columns are encoded by
/// [`crate::pages`], else every column by arrow2, and with `twins` (and `own_pages`) equal
/// text columns share pages ([`text_twins`]). The tests compare the files each way.
pub(crate) fn encode_arrow_with(
    schema: &Schema,
    chunk: &Chunk<Box<dyn Array>>,
    total: usize,
    opts: &WriteOptions,
    name: &str,
    own_pages: bool,
    twins: bool,
) -> Result<Vec<u8>, CatalogError> {
    let compression = match opts.codec {
        Codec::Zstd(level) => {
            let level = ZstdLevel::try_new(level).map_err(|e| CatalogError::Format {
                context: format!("{name}: zstd level {level}"),
                source: Box::new(e),
            })?;
            CompressionOptions::Zstd(Some(level))
        }
        Codec::Snappy => CompressionOptions::Snappy,
        Codec::Uncompressed => CompressionOptions::Uncompressed,
    };
    let options = PqOptions {
        write_statistics: true,
        compression,
        version: Version::V1,
        data_pagesize_limit: Some(opts.page_bytes),
    };
    let encodings: Vec<Vec<Encoding>> = schema
        .fields
        .iter()
        .map(|f| {
            transverse(&f.data_type, |dt| match dt {
                DataType::Dictionary(..) => Encoding::RleDictionary,
                _ => Encoding::Plain,
            })
        })
        .collect();
    let step = opts.row_group_rows.max(1);
    let types: Vec<ParquetType> =
        schema.fields.iter().map(to_parquet_type).collect::<Result<_, _>>().map_err(format_err(name))?;
    let mut writer = FileWriter::try_new(Vec::with_capacity(1 << 20), schema.clone(), options)
        .map_err(format_err(name))?;
    let mut compressor = PageCompressor::new(opts.codec, compression, name)?;
    // footer statistics to mend, per row group and leaf column
    let mut fixes: Vec<Vec<Option<FooterFix>>> = Vec::new();
    for start in (0..total.max(1)).step_by(step) {
        let len = step.min(total - start.min(total));
        let mut columns = Vec::new();
        let mut group_fixes = Vec::new();
        let arrays: Vec<Box<dyn Array>> =
            chunk.arrays().iter().map(|a| a.sliced(start.min(total), len)).collect();
        // a text column equal to an earlier one (`client_ip` is `client` for every dotted
        // quad) takes that column's compressed pages instead of encoding them again
        let twins = if own_pages && twins { text_twins(&arrays, &types) } else { vec![None; arrays.len()] };
        let mut kept: Vec<Option<(Vec<KeptPage>, Option<TextStats>)>> = Vec::new();
        kept.resize_with(arrays.len(), || None);
        for (i, ((array, ty), encoding)) in arrays.into_iter().zip(&types).zip(&encodings).enumerate() {
            if let (Some((pages, text)), ParquetType::PrimitiveType(pt)) =
                (twins[i].and_then(|j| kept[j].as_ref()), ty)
            {
                columns.push(pages.iter().map(|p| p.for_column(pt)).collect());
                #[cfg(test)]
                REUSED_PAGES.with(|n| n.set(n.get() + pages.len()));
                group_fixes.push(text.clone().map(|stats| FooterFix { stats, drop_column_index: false }));
                continue;
            }
            let ours = own_pages.then(|| {
                crate::pages::flat_pages(array.as_ref(), ty, opts.page_bytes)
                    .or_else(|| crate::pages::dict_pages(array.as_ref(), ty).map(|(p, st)| (p, Some(st))))
            });
            if let Some((pages, text)) = ours.flatten() {
                let keep = twins.contains(&Some(i));
                let mut compressed = Vec::with_capacity(pages.len());
                let mut copies = Vec::new();
                for page in pages {
                    let (page, copy) = compressor.compress_kept(page, keep)?;
                    compressed.push(page);
                    copies.extend(copy);
                }
                columns.push(compressed);
                if keep && copies.len() == columns.last().map_or(0, Vec::len) {
                    kept[i] = Some((copies, text.clone()));
                }
                // our page statistics are right: the column index stays
                group_fixes.push(text.map(|stats| FooterFix { stats, drop_column_index: false }));
                continue;
            }
            let mut dict =
                dict_stats(array.as_ref()).map(|stats| FooterFix { stats, drop_column_index: true });
            for pages in array_to_columns(array, ty.clone(), options, encoding).map_err(format_err(name))? {
                let compressed = pages
                    .map(|page| compressor.compress(page.map_err(format_err(name))?))
                    .collect::<Result<Vec<CompressedPage>, CatalogError>>()?;
                columns.push(compressed);
                group_fixes.push(dict.take());
            }
        }
        fixes.push(group_fixes);
        let group =
            DynIter::new(columns.into_iter().map(|pages| {
                Ok(DynStreamingIterator::new(Pages { pages: pages.into_iter(), current: None }))
            }));
        writer.write(group).map_err(format_err(name))?;
    }
    writer.end(None).map_err(format_err(name))?;
    let (mut file, metadata) = writer.into_inner_and_metadata();
    rewrite_footer(&mut file, metadata, &fixes, name)?;
    Ok(file)
}

#[cfg(test)]
thread_local! {
    /// Pages this thread wrote again for a twin column (the tests check that it happens).
    static REUSED_PAGES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// For each column, the earlier column it equals when both are flat text columns of the same
/// Parquet type (name aside): their pages would be byte for byte the same.
fn text_twins(arrays: &[Box<dyn Array>], types: &[ParquetType]) -> Vec<Option<usize>> {
    let text = |i: usize| match (&types[i], arrays[i].as_any().downcast_ref::<Utf8Array<i32>>()) {
        (ParquetType::PrimitiveType(pt), Some(a)) => Some((pt, a)),
        _ => None,
    };
    (0..arrays.len())
        .map(|i| {
            let (pt, a) = text(i)?;
            (0..i).find(|&j| {
                text(j).is_some_and(|(qt, b)| {
                    pt.physical_type == qt.physical_type
                        && pt.logical_type == qt.logical_type
                        && pt.converted_type == qt.converted_type
                        && pt.field_info.repetition == qt.field_info.repetition
                        && same_text(a, b)
                })
            })
        })
        .collect()
}

/// Whether two text arrays hold the same values and NULLs (their buffers may differ).
fn same_text(a: &Utf8Array<i32>, b: &Utf8Array<i32>) -> bool {
    let (ao, bo) = (a.offsets().buffer(), b.offsets().buffer());
    let (a0, b0) = (ao.first().copied().unwrap_or(0), bo.first().copied().unwrap_or(0));
    let (an, bn) = (ao.last().copied().unwrap_or(0), bo.last().copied().unwrap_or(0));
    if a.len() != b.len() || an - a0 != bn - b0 {
        return false;
    }
    let same_validity = match (a.validity(), b.validity()) {
        (None, None) => true,
        (x, y) => {
            let bits = |v: Option<&arrow2::bitmap::Bitmap>, n: usize| -> Vec<bool> {
                v.map_or_else(|| vec![true; n], |v| v.iter().collect())
            };
            bits(x, a.len()) == bits(y, b.len())
        }
    };
    same_validity
        && ao.iter().map(|o| o - a0).eq(bo.iter().map(|o| o - b0))
        && a.values().get(a0.unsigned_abs() as usize..an.unsigned_abs() as usize)
            == b.values().get(b0.unsigned_abs() as usize..bn.unsigned_abs() as usize)
}

/// A page compressed by our own codec, in parts: written as it is, and kept to be written
/// again for an equal column ([`text_twins`]).
#[derive(Clone)]
struct KeptPage {
    page: KeptKind,
    compressed: Vec<u8>,
    codec: Compression,
    raw_len: usize,
}

#[derive(Clone)]
enum KeptKind {
    Data { header: DataPageHeader, rows: Option<usize>, descriptor: Box<parquet2::metadata::Descriptor> },
    Dict { num_values: usize, is_sorted: bool },
}

impl KeptPage {
    fn into_page(self) -> CompressedPage {
        match self.page {
            KeptKind::Data { header, rows, descriptor } => CompressedPage::Data(CompressedDataPage::new(
                header,
                self.compressed,
                self.codec,
                self.raw_len,
                *descriptor,
                rows,
            )),
            KeptKind::Dict { num_values, is_sorted } => CompressedPage::Dict(CompressedDictPage::new(
                self.compressed,
                self.codec,
                self.raw_len,
                num_values,
                is_sorted,
            )),
        }
    }

    /// The page again, for column `pt`.
    fn for_column(&self, pt: &parquet2::schema::types::PrimitiveType) -> CompressedPage {
        let mut page = self.clone();
        if let KeptKind::Data { descriptor, .. } = &mut page.page {
            descriptor.primitive_type = pt.clone();
        }
        page.into_page()
    }
}

/// A column chunk's compressed pages, handed to the file writer one at a time.
struct Pages {
    pages: std::vec::IntoIter<CompressedPage>,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for Pages {
    type Item = CompressedPage;
    type Error = arrow2::error::Error;

    fn advance(&mut self) -> Result<(), Self::Error> {
        self.current = self.pages.next();
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
    }
}

/// Compresses the pages of one file. parquet2 builds a new streaming zstd context for every
/// page (allocating and clearing its tables each time), and a new snappy encoder and a zeroed
/// output buffer of the worst-case size for each; this keeps one zstd context, or one snappy
/// encoder and one scratch buffer, for the file and compresses each page in one call.
struct PageCompressor {
    /// `None`: every page goes through parquet2 (no compression).
    own: Option<OwnCodec>,
    compression: CompressionOptions,
}

/// The per-file state of a codec [`PageCompressor`] runs itself.
enum OwnCodec {
    Zstd(zstd::bulk::Compressor<'static>),
    Snappy { encoder: Box<snap::raw::Encoder>, scratch: Vec<u8> },
}

impl OwnCodec {
    /// One page's bytes compressed, and the codec to record.
    fn squeeze(&mut self, bytes: &[u8]) -> Result<(Vec<u8>, Compression), CatalogError> {
        match self {
            OwnCodec::Zstd(z) => {
                let out = z
                    .compress(bytes)
                    .map_err(|e| CatalogError::Format { context: "zstd".into(), source: Box::new(e) })?;
                Ok((out, Compression::Zstd))
            }
            OwnCodec::Snappy { encoder, scratch } => {
                // the scratch buffer is zeroed once per size, not once per page
                let max = snap::raw::max_compress_len(bytes.len());
                if scratch.len() < max {
                    scratch.resize(max, 0);
                }
                let n = encoder
                    .compress(bytes, scratch)
                    .map_err(|e| CatalogError::Format { context: "snappy".into(), source: Box::new(e) })?;
                Ok((scratch[..n].to_vec(), Compression::Snappy))
            }
        }
    }
}

impl PageCompressor {
    fn new(codec: Codec, compression: CompressionOptions, name: &str) -> Result<Self, CatalogError> {
        let own = match codec {
            Codec::Zstd(level) => Some(OwnCodec::Zstd(zstd::bulk::Compressor::new(level).map_err(|e| {
                CatalogError::Format { context: format!("{name}: zstd level {level}"), source: Box::new(e) }
            })?)),
            Codec::Snappy => {
                Some(OwnCodec::Snappy { encoder: Box::new(snap::raw::Encoder::new()), scratch: Vec::new() })
            }
            Codec::Uncompressed => None,
        };
        Ok(PageCompressor { own, compression })
    }

    fn compress(&mut self, page: Page) -> Result<CompressedPage, CatalogError> {
        self.compress_kept(page, false).map(|(page, _)| page)
    }

    /// Compresses a page; with `keep`, also returns a copy to write again for an equal column
    /// ([`text_twins`]), unless the page went through parquet2.
    fn compress_kept(
        &mut self,
        page: Page,
        keep: bool,
    ) -> Result<(CompressedPage, Option<KeptPage>), CatalogError> {
        let through_parquet2 = |page: Page, compression: CompressionOptions| {
            compress(page, Vec::new(), compression)
                .map(|page| (page, None))
                .map_err(|e| CatalogError::Format { context: "compress a page".into(), source: Box::new(e) })
        };
        let Some(own) = self.own.as_mut() else {
            return through_parquet2(page, self.compression);
        };
        let page = match page {
            Page::Data(p) if matches!(p.header(), DataPageHeader::V1(_)) => {
                let (compressed, codec) = own.squeeze(p.buffer())?;
                let rows = p.selected_rows.as_ref().map(|r| r.iter().map(|i| i.length).sum());
                let raw_len = p.buffer().len();
                let header = p.header().clone();
                let page = KeptKind::Data { header, rows, descriptor: Box::new(p.descriptor) };
                KeptPage { page, compressed, codec, raw_len }
            }
            Page::Dict(p) => {
                let (compressed, codec) = own.squeeze(&p.buffer)?;
                let page = KeptKind::Dict { num_values: p.num_values, is_sorted: p.is_sorted };
                KeptPage { page, compressed, codec, raw_len: p.buffer.len() }
            }
            page => return through_parquet2(page, self.compression),
        };
        let copy = keep.then(|| page.clone());
        Ok((page.into_page(), copy))
    }
}

/// Rewrites arrow2's three-level map groups into the standard two-level form (see module docs).
fn normalize_maps(metadata: &mut FileMetaData) {
    let schema = &mut metadata.schema;
    let mut dropped: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i + 2 < schema.len() {
        let is_map = schema[i].converted_type == Some(ConvertedType::MAP);
        let wrapper = &schema[i + 1];
        let entries = &schema[i + 2];
        if is_map
            && wrapper.num_children == Some(1)
            && wrapper.repetition_type == Some(FieldRepetitionType::REPEATED)
            && entries.num_children == Some(2)
            && entries.repetition_type == Some(FieldRepetitionType::REQUIRED)
        {
            let wrapper = schema.remove(i + 1);
            schema[i + 1].repetition_type = Some(FieldRepetitionType::REPEATED);
            dropped.push((wrapper.name, schema[i + 1].name.clone()));
        }
        i += 1;
    }
    if dropped.is_empty() {
        return;
    }
    for group in &mut metadata.row_groups {
        for chunk in &mut group.columns {
            if let Some(md) = chunk.meta_data.as_mut() {
                let path = &mut md.path_in_schema;
                let mut j = 0;
                while j + 1 < path.len() {
                    if dropped.iter().any(|(w, e)| path[j] == *w && path[j + 1] == *e) {
                        path.remove(j);
                    }
                    j += 1;
                }
            }
        }
    }
    // the embedded arrow schema describes arrow2's layout; readers derive types from the
    // Parquet schema without it
    if let Some(kv) = metadata.key_value_metadata.as_mut() {
        kv.retain(|e| e.key != "ARROW:schema");
    }
}

/// A text column chunk's statistics as the footer should state them (see the module docs),
/// and whether its column index must go (a dictionary column's, whose page statistics arrow2
/// wrote).
struct FooterFix {
    stats: TextStats,
    drop_column_index: bool,
}

/// [`TextStats`] of a text dictionary column: over the values its rows use.
fn dict_stats(array: &dyn Array) -> Option<TextStats> {
    let dict = array.as_any().downcast_ref::<DictionaryArray<i32>>()?;
    let values = dict.values().as_any().downcast_ref::<Utf8Array<i32>>()?;
    let mut used = vec![false; values.len()];
    for (i, &k) in dict.keys().values().iter().enumerate() {
        if dict.is_valid(i) {
            if let Some(u) = usize::try_from(k).ok().and_then(|k| used.get_mut(k)) {
                *u = true;
            }
        }
    }
    Some(TextStats::of_used(values, &used, array.null_count()))
}

/// Replaces the footer of a finished Parquet file (in memory) with `metadata` plus column
/// orders.
fn rewrite_footer(
    file: &mut Vec<u8>,
    mut metadata: FileMetaData,
    fixes: &[Vec<Option<FooterFix>>],
    name: &str,
) -> Result<(), CatalogError> {
    // the root schema element has children; the childless ones are the leaf columns
    let leaves = metadata.schema.iter().filter(|e| e.num_children.unwrap_or(0) == 0).count();
    metadata.column_orders = Some(vec![ColumnOrder::TYPEORDER(TypeDefinedOrder {}); leaves]);
    normalize_maps(&mut metadata);
    for (group, fixes) in metadata.row_groups.iter_mut().zip(fixes) {
        for (chunk, fix) in group.columns.iter_mut().zip(fixes) {
            let Some(fix) = fix else { continue };
            if let Some(stats) = chunk.meta_data.as_mut().and_then(|m| m.statistics.as_mut()) {
                stats.null_count = Some(fix.stats.nulls);
                stats.min_value.clone_from(&fix.stats.min);
                stats.max_value.clone_from(&fix.stats.max);
                (stats.min, stats.max) = (None, None);
            }
            if fix.drop_column_index {
                chunk.column_index_offset = None;
                chunk.column_index_length = None;
            }
        }
    }
    let bad =
        |message: &str| CatalogError::Format { context: name.to_owned(), source: message.to_owned().into() };
    let len = file.len();
    if len < 12 || &file[len - 4..] != b"PAR1" {
        return Err(bad("no PAR1 footer"));
    }
    let old = u32::from_le_bytes([file[len - 8], file[len - 7], file[len - 6], file[len - 5]]) as usize;
    let footer_start = len.checked_sub(8 + old).ok_or_else(|| bad("footer longer than the file"))?;
    file.truncate(footer_start);
    {
        let mut protocol = TCompactOutputProtocol::new(&mut *file);
        metadata
            .write_to_out_protocol(&mut protocol)
            .map_err(|e| CatalogError::Format { context: format!("{name}: footer"), source: Box::new(e) })?;
    }
    let new_len = u32::try_from(file.len() - footer_start).map_err(|_| bad("footer too large"))?;
    file.extend_from_slice(&new_len.to_le_bytes());
    file.extend_from_slice(b"PAR1");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{encode_arrow_with, text_twins, to_parquet_type, Codec, WriteOptions};
    use crate::batch::{arrow_schema, BatchBuilder, Value};
    use crate::schema::ACCESS_LOGS;
    use arrow2::array::Utf8Array;

    /// `access_logs` rows whose `client` and `client_ip` (columns 2 and 3) come from `ip`.
    fn clients(rows: usize, ip: impl Fn(usize) -> (Option<String>, Option<String>)) -> crate::Batch {
        let mut b = BatchBuilder::new(&ACCESS_LOGS);
        for r in 0..rows {
            let (client, client_ip) = ip(r);
            let mut row = vec![Value::Null; ACCESS_LOGS.columns.len()];
            row[0] = Value::Int(1_590_000_000_000_000 + r as i64);
            for (i, col) in ACCESS_LOGS.columns.iter().enumerate() {
                if !col.nullable && i > 0 {
                    row[i] = match col.ty {
                        crate::schema::ColumnType::Utf8 | crate::schema::ColumnType::DictUtf8 => {
                            Value::Str("x")
                        }
                        crate::schema::ColumnType::Bool => Value::Bool(false),
                        _ => Value::Int(r as i64),
                    };
                }
            }
            row[2] = client.as_deref().map_or(Value::Null, Value::Str);
            row[3] = client_ip.as_deref().map_or(Value::Null, Value::Str);
            b.push(&row).unwrap();
        }
        b.finish().unwrap()
    }

    fn quad(r: usize) -> Option<String> {
        (r % 11 != 3).then(|| format!("10.{}.{}.{}", r % 7, r % 251, r % 13))
    }

    fn twins_of(batch: &crate::Batch) -> Vec<Option<usize>> {
        let types: Vec<_> =
            arrow_schema(batch.def).fields.iter().map(|f| to_parquet_type(f).unwrap()).collect();
        text_twins(batch.chunk.arrays(), &types)
    }

    #[test]
    fn equal_text_columns_share_their_pages_and_the_file_is_unchanged() {
        let same = clients(5000, |r| (quad(r), quad(r)));
        assert_eq!(twins_of(&same)[3], Some(2), "client_ip equals client");
        // one byte, one NULL, or the length of one value apart: not twins
        let byte =
            clients(5000, |r| (quad(r), quad(r).map(|q| if r == 4321 { q.replace('.', ",") } else { q })));
        let null = clients(5000, |r| (quad(r), if r == 17 { None } else { quad(r) }));
        let shifted = clients(5000, |r| (quad(r), quad(r).map(|q| if r == 0 { format!("{q}0") } else { q })));
        for (what, b) in [("a byte", &byte), ("a NULL", &null), ("a length", &shifted)] {
            assert_eq!(twins_of(b)[3], None, "{what} apart");
        }
        for (rows_per_group, page_bytes) in [(256 * 1024, 1 << 20), (1000, 2000), (777, 64)] {
            for codec in [Codec::Snappy, Codec::Zstd(1), Codec::Uncompressed] {
                let opts = WriteOptions { codec, row_group_rows: rows_per_group, page_bytes };
                let schema = arrow_schema(same.def);
                let encode = |twins| {
                    encode_arrow_with(&schema, &same.chunk, same.len(), &opts, "t", true, twins).unwrap()
                };
                let before = super::REUSED_PAGES.with(std::cell::Cell::get);
                let shared = encode(true);
                let reused = super::REUSED_PAGES.with(std::cell::Cell::get) - before;
                // pages compressed by parquet2 (no codec) are not kept
                assert_eq!(reused > 0, codec != Codec::Uncompressed, "{codec}: {reused} pages reused");
                let apart = encode(false);
                assert!(shared == apart, "{codec} {rows_per_group} {page_bytes}: the files differ");
                // and read back, both columns are what was written
                let mut cursor = std::io::Cursor::new(&shared);
                let meta = arrow2::io::parquet::read::read_metadata(&mut cursor).unwrap();
                let arrow = arrow2::io::parquet::read::infer_schema(&meta).unwrap();
                let groups = arrow2::io::parquet::read::FileReader::new(
                    cursor,
                    meta.row_groups,
                    arrow,
                    None,
                    None,
                    None,
                );
                let mut at = 0;
                for group in groups {
                    let arrays = group.unwrap().into_arrays();
                    let n = arrays[0].len();
                    for c in [2, 3] {
                        let got = arrays[c].as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
                        let want: Vec<Option<String>> = (at..at + n).map(quad).collect();
                        assert_eq!(got.iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>(), want);
                    }
                    at += n;
                }
                assert_eq!(at, same.len());
            }
        }
    }

    #[test]
    fn codec_names_round_trip() {
        for (text, codec) in [
            ("zstd", Codec::Zstd(1)),
            ("ZSTD:9", Codec::Zstd(9)),
            ("snappy", Codec::Snappy),
            ("none", Codec::Uncompressed),
        ] {
            let parsed: Codec = text.parse().unwrap();
            assert_eq!(parsed, codec, "{text}");
            assert_eq!(parsed.to_string().parse::<Codec>().unwrap(), codec);
        }
        for bad in ["", "zstd:0", "zstd:23", "zstd:x", "lz4", "gzip"] {
            let err = bad.parse::<Codec>().unwrap_err();
            assert!(err.contains("expected zstd"), "{bad}: {err}");
        }
    }
}
