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
//! The same rewrite mends another arrow2 0.18 defect: for dictionary-encoded columns it
//! records the null count of the dictionary values (always 0) instead of the rows'. A reader
//! trusting that would skip row groups for `col IS NULL`. We put the true per-row-group null
//! count in the footer and drop those columns' column-index references (their page-level null
//! counts are wrong the same way), so no reader can use a wrong count.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Schema};
use arrow2::io::parquet::write::{
    transverse, CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version,
    WriteOptions as PqOptions, ZstdLevel,
};
use parquet_format_safe::thrift::protocol::TCompactOutputProtocol;
use parquet_format_safe::{ColumnOrder, ConvertedType, FieldRepetitionType, FileMetaData, TypeDefinedOrder};

use crate::batch::{arrow_schema, Batch};
use crate::error::{format_err, CatalogError};

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

/// How data files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Page compression (default zstd level 3).
    pub codec: Codec,
    /// Rows per row group (default 262,144).
    pub row_group_rows: usize,
    /// Target data page size in bytes (default 1 MiB).
    pub page_bytes: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { codec: Codec::Zstd(3), row_group_rows: 256 * 1024, page_bytes: 1024 * 1024 }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CatalogError + '_ {
    move |source| CatalogError::Io { path: path.display().to_string(), source }
}

/// Writes `batch` to a local file; returns its size in bytes.
///
/// # Errors
/// [`CatalogError::Format`] or [`CatalogError::Io`] naming the file.
pub fn write_parquet(batch: &Batch, path: &Path, opts: &WriteOptions) -> Result<u64, CatalogError> {
    write_arrow(&arrow_schema(batch.def), &batch.chunk, batch.len(), path, opts)
}

/// Writes one chunk of arrays (any schema, nested included) as a Parquet file.
pub(crate) fn write_arrow(
    schema: &Schema,
    chunk: &Chunk<Box<dyn Array>>,
    total: usize,
    path: &Path,
    opts: &WriteOptions,
) -> Result<u64, CatalogError> {
    let name = path.display().to_string();
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
    // true null counts of dictionary columns, per row group
    let dict_nulls: Vec<Vec<Option<i64>>> = (0..total.max(1))
        .step_by(step)
        .map(|start| {
            let len = step.min(total - start.min(total));
            chunk
                .arrays()
                .iter()
                .map(|a| {
                    matches!(a.data_type(), DataType::Dictionary(..)).then(|| {
                        i64::try_from(a.sliced(start.min(total), len).null_count()).unwrap_or(i64::MAX)
                    })
                })
                .collect()
        })
        .collect();
    let groups = (0..total.max(1)).step_by(step).map(|start| {
        let len = step.min(total - start.min(total));
        let arrays = chunk.arrays().iter().map(|a| a.sliced(start.min(total), len)).collect::<Vec<_>>();
        Ok(Chunk::new(arrays))
    });
    let row_groups =
        RowGroupIterator::try_new(groups, schema, options, encodings).map_err(format_err(name.clone()))?;
    // parquet2 writes page headers and pages one small write at a time: buffer them
    let file = std::io::BufWriter::with_capacity(1 << 20, File::create(path).map_err(io_err(path))?);
    let mut writer = FileWriter::try_new(file, schema.clone(), options).map_err(format_err(name.clone()))?;
    for group in row_groups {
        writer.write(group.map_err(format_err(name.clone()))?).map_err(format_err(name.clone()))?;
    }
    writer.end(None).map_err(format_err(name.clone()))?;
    let (file, metadata) = writer.into_inner_and_metadata();
    file.into_inner().map_err(|e| e.into_error()).map_err(io_err(path))?;
    rewrite_footer(path, metadata, &dict_nulls)
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

/// Replaces the footer of a finished Parquet file with `metadata` plus column orders.
fn rewrite_footer(
    path: &Path,
    mut metadata: FileMetaData,
    dict_nulls: &[Vec<Option<i64>>],
) -> Result<u64, CatalogError> {
    // the root schema element has children; the childless ones are the leaf columns
    let leaves = metadata.schema.iter().filter(|e| e.num_children.unwrap_or(0) == 0).count();
    metadata.column_orders = Some(vec![ColumnOrder::TYPEORDER(TypeDefinedOrder {}); leaves]);
    normalize_maps(&mut metadata);
    for (group, nulls) in metadata.row_groups.iter_mut().zip(dict_nulls) {
        for (chunk, n) in group.columns.iter_mut().zip(nulls) {
            let Some(n) = n else { continue };
            if let Some(stats) = chunk.meta_data.as_mut().and_then(|m| m.statistics.as_mut()) {
                stats.null_count = Some(*n);
            }
            chunk.column_index_offset = None;
            chunk.column_index_length = None;
        }
    }
    let mut f = OpenOptions::new().read(true).write(true).open(path).map_err(io_err(path))?;
    let len = f.seek(SeekFrom::End(0)).map_err(io_err(path))?;
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).map_err(io_err(path))?;
    f.read_exact(&mut tail).map_err(io_err(path))?;
    if &tail[4..] != b"PAR1" {
        return Err(CatalogError::Format {
            context: path.display().to_string(),
            source: "no PAR1 footer".into(),
        });
    }
    let old = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let footer_start = len - 8 - old;
    let mut encoded = Vec::new();
    {
        let mut protocol = TCompactOutputProtocol::new(&mut encoded);
        metadata.write_to_out_protocol(&mut protocol).map_err(|e| CatalogError::Format {
            context: format!("{}: footer", path.display()),
            source: Box::new(e),
        })?;
    }
    let new_len = u32::try_from(encoded.len()).map_err(|_| CatalogError::Format {
        context: path.display().to_string(),
        source: "footer too large".into(),
    })?;
    f.set_len(footer_start).map_err(io_err(path))?;
    f.seek(SeekFrom::Start(footer_start)).map_err(io_err(path))?;
    f.write_all(&encoded).map_err(io_err(path))?;
    f.write_all(&new_len.to_le_bytes()).map_err(io_err(path))?;
    f.write_all(b"PAR1").map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(footer_start + encoded.len() as u64 + 8)
}
