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
    encode_arrow_with(schema, chunk, total, opts, name, true)
}

/// [`encode_arrow`]; with `own_pages` flat and text dictionary columns are encoded by
/// [`crate::pages`], else every column by arrow2 (the tests compare the two).
pub(crate) fn encode_arrow_with(
    schema: &Schema,
    chunk: &Chunk<Box<dyn Array>>,
    total: usize,
    opts: &WriteOptions,
    name: &str,
    own_pages: bool,
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
        for ((array, ty), encoding) in chunk.arrays().iter().zip(&types).zip(&encodings) {
            let array = array.sliced(start.min(total), len);
            let ours = own_pages.then(|| {
                crate::pages::flat_pages(array.as_ref(), ty, opts.page_bytes)
                    .or_else(|| crate::pages::dict_pages(array.as_ref(), ty).map(|(p, st)| (p, Some(st))))
            });
            if let Some((pages, text)) = ours.flatten() {
                columns
                    .push(pages.into_iter().map(|p| compressor.compress(p)).collect::<Result<Vec<_>, _>>()?);
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
        let through_parquet2 = |page: Page, compression: CompressionOptions| {
            compress(page, Vec::new(), compression)
                .map_err(|e| CatalogError::Format { context: "compress a page".into(), source: Box::new(e) })
        };
        let Some(own) = self.own.as_mut() else {
            return through_parquet2(page, self.compression);
        };
        match page {
            Page::Data(p) if matches!(p.header(), DataPageHeader::V1(_)) => {
                let header = p.header().clone();
                let raw_len = p.buffer().len();
                let (compressed, codec) = own.squeeze(p.buffer())?;
                let rows = p.selected_rows.as_ref().map(|r| r.iter().map(|i| i.length).sum());
                Ok(CompressedPage::Data(CompressedDataPage::new(
                    header,
                    compressed,
                    codec,
                    raw_len,
                    p.descriptor,
                    rows,
                )))
            }
            Page::Dict(p) => {
                let (compressed, codec) = own.squeeze(&p.buffer)?;
                Ok(CompressedPage::Dict(CompressedDictPage::new(
                    compressed,
                    codec,
                    p.buffer.len(),
                    p.num_values,
                    p.is_sorted,
                )))
            }
            page => through_parquet2(page, self.compression),
        }
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
    use super::Codec;

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
