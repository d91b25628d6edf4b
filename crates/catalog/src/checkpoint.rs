//! Delta checkpoints: the table state at a version as one Parquet file of actions
//! (`protocol`, `metaData`, one `add` per live file), so readers skip replaying old commits.

use std::collections::BTreeMap;
use std::io::Cursor;

use arrow2::array::{
    Array, BooleanArray, ListArray, MapArray, MutableBooleanArray, MutablePrimitiveArray, MutableUtf8Array,
    PrimitiveArray, StructArray, Utf8Array,
};
use arrow2::bitmap::Bitmap;
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema};
use arrow2::offset::Offsets;

use crate::delta::{Add, Format, MetaData, PartitionValues, Protocol, Snapshot};
use crate::error::{format_err, CatalogError};

fn utf8() -> DataType {
    DataType::Utf8
}

fn map_type() -> DataType {
    let entries = Field::new(
        "key_value",
        DataType::Struct(vec![Field::new("key", utf8(), false), Field::new("value", utf8(), true)]),
        false,
    );
    DataType::Map(Box::new(entries), false)
}

fn list_type() -> DataType {
    DataType::List(Box::new(Field::new("element", utf8(), true)))
}

fn add_fields() -> Vec<Field> {
    vec![
        Field::new("path", utf8(), true),
        Field::new("partitionValues", map_type(), true),
        Field::new("size", DataType::Int64, true),
        Field::new("modificationTime", DataType::Int64, true),
        Field::new("dataChange", DataType::Boolean, true),
        Field::new("stats", utf8(), true),
        Field::new("tags", map_type(), true),
    ]
}

fn remove_fields() -> Vec<Field> {
    vec![
        Field::new("path", utf8(), true),
        Field::new("deletionTimestamp", DataType::Int64, true),
        Field::new("dataChange", DataType::Boolean, true),
        Field::new("extendedFileMetadata", DataType::Boolean, true),
        Field::new("partitionValues", map_type(), true),
        Field::new("size", DataType::Int64, true),
    ]
}

fn metadata_fields() -> Vec<Field> {
    vec![
        Field::new("id", utf8(), true),
        Field::new("name", utf8(), true),
        Field::new("description", utf8(), true),
        Field::new(
            "format",
            DataType::Struct(vec![
                Field::new("provider", utf8(), true),
                Field::new("options", map_type(), true),
            ]),
            true,
        ),
        Field::new("schemaString", utf8(), true),
        Field::new("partitionColumns", list_type(), true),
        Field::new("configuration", map_type(), true),
        Field::new("createdTime", DataType::Int64, true),
    ]
}

fn protocol_fields() -> Vec<Field> {
    vec![
        Field::new("minReaderVersion", DataType::Int32, true),
        Field::new("minWriterVersion", DataType::Int32, true),
    ]
}

fn txn_fields() -> Vec<Field> {
    vec![
        Field::new("appId", utf8(), true),
        Field::new("version", DataType::Int64, true),
        Field::new("lastUpdated", DataType::Int64, true),
    ]
}

/// The checkpoint schema of the Delta protocol (the action types we use).
pub(crate) fn schema() -> Schema {
    Schema::from(vec![
        Field::new("txn", DataType::Struct(txn_fields()), true),
        Field::new("add", DataType::Struct(add_fields()), true),
        Field::new("remove", DataType::Struct(remove_fields()), true),
        Field::new("metaData", DataType::Struct(metadata_fields()), true),
        Field::new("protocol", DataType::Struct(protocol_fields()), true),
    ])
}

fn strings<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Box<dyn Array> {
    let mut a = MutableUtf8Array::<i32>::new();
    for v in values {
        a.push(v);
    }
    let a: Utf8Array<i32> = a.into();
    a.boxed()
}

fn longs(values: impl IntoIterator<Item = Option<i64>>) -> Box<dyn Array> {
    let mut a = MutablePrimitiveArray::<i64>::new();
    for v in values {
        a.push(v);
    }
    PrimitiveArray::<i64>::from(a).boxed()
}

fn ints(values: impl IntoIterator<Item = Option<i32>>) -> Box<dyn Array> {
    let mut a = MutablePrimitiveArray::<i32>::new();
    for v in values {
        a.push(v);
    }
    PrimitiveArray::<i32>::from(a).boxed()
}

fn bools(values: impl IntoIterator<Item = Option<bool>>) -> Box<dyn Array> {
    let mut a = MutableBooleanArray::new();
    for v in values {
        a.push(v);
    }
    BooleanArray::from(a).boxed()
}

fn maps(values: &[Option<BTreeMap<String, Option<String>>>]) -> Result<Box<dyn Array>, CatalogError> {
    let lengths = values.iter().map(|m| m.as_ref().map_or(0, BTreeMap::len));
    let offsets = Offsets::<i32>::try_from_lengths(lengths).map_err(format_err("checkpoint map offsets"))?;
    let keys = strings(values.iter().flatten().flat_map(|m| m.keys().map(|k| Some(k.as_str()))));
    let vals = strings(values.iter().flatten().flat_map(|m| m.values().map(Option::as_deref)));
    let DataType::Map(entries, _) = map_type() else { unreachable!("map_type is a map") };
    let entries_array = StructArray::try_new(entries.data_type.clone(), vec![keys, vals], None)
        .map_err(format_err("checkpoint map entries"))?;
    let validity = Bitmap::from_iter(values.iter().map(Option::is_some));
    Ok(MapArray::try_new(map_type(), offsets.into(), entries_array.boxed(), Some(validity))
        .map_err(format_err("checkpoint map"))?
        .boxed())
}

fn structure(
    fields: Vec<Field>,
    children: Vec<Box<dyn Array>>,
    present: &[bool],
) -> Result<Box<dyn Array>, CatalogError> {
    Ok(StructArray::try_new(
        DataType::Struct(fields),
        children,
        Some(Bitmap::from_iter(present.iter().copied())),
    )
    .map_err(format_err("checkpoint struct"))?
    .boxed())
}

/// The checkpoint rows of a snapshot: protocol, metadata, then one `add` per live file.
pub(crate) fn chunk(snap: &Snapshot) -> Result<(Chunk<Box<dyn Array>>, usize), CatalogError> {
    let adds: Vec<&Add> = snap.files.values().collect();
    let n = 2 + adds.len();
    let none = vec![false; n];
    let row_of = |i: usize| i.checked_sub(2).map(|j| adds[j]);

    // txn and remove: all NULL
    let txn = structure(
        txn_fields(),
        vec![strings(vec![None; n]), longs(vec![None; n]), longs(vec![None; n])],
        &none,
    )?;
    let remove = structure(
        remove_fields(),
        vec![
            strings(vec![None; n]),
            longs(vec![None; n]),
            bools(vec![None; n]),
            bools(vec![None; n]),
            maps(&vec![None; n])?,
            longs(vec![None; n]),
        ],
        &none,
    )?;

    let add_present: Vec<bool> = (0..n).map(|i| i >= 2).collect();
    let add = structure(
        add_fields(),
        vec![
            strings((0..n).map(|i| row_of(i).map(|a| a.path.as_str()))),
            maps(&(0..n).map(|i| row_of(i).map(|a| a.partition_values.clone())).collect::<Vec<_>>())?,
            longs((0..n).map(|i| row_of(i).map(|a| a.size))),
            longs((0..n).map(|i| row_of(i).map(|a| a.modification_time))),
            bools((0..n).map(|i| row_of(i).map(|a| a.data_change))),
            strings((0..n).map(|i| row_of(i).and_then(|a| a.stats.as_deref()))),
            maps(
                &(0..n)
                    .map(|i| {
                        row_of(i)
                            .and_then(|a| a.tags.as_ref())
                            .map(|t| t.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect())
                    })
                    .collect::<Vec<_>>(),
            )?,
        ],
        &add_present,
    )?;

    let md = snap.metadata.as_ref();
    let md_at = |i: usize| (i == 1).then_some(md).flatten();
    let md_present: Vec<bool> = (0..n).map(|i| md_at(i).is_some()).collect();
    let format = structure(
        vec![Field::new("provider", utf8(), true), Field::new("options", map_type(), true)],
        vec![
            strings((0..n).map(|i| md_at(i).map(|m| m.format.provider.as_str()))),
            maps(
                &(0..n)
                    .map(|i| {
                        md_at(i).map(|m| {
                            m.format.options.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()
                        })
                    })
                    .collect::<Vec<_>>(),
            )?,
        ],
        &md_present,
    )?;
    let cols: Vec<&[String]> =
        (0..n).map(|i| md_at(i).map_or(&[][..], |m| m.partition_columns.as_slice())).collect();
    let offsets = Offsets::<i32>::try_from_lengths(cols.iter().map(|c| c.len()))
        .map_err(format_err("checkpoint list"))?;
    let partition_columns = ListArray::<i32>::try_new(
        list_type(),
        offsets.into(),
        strings(cols.iter().flat_map(|c| c.iter().map(|s| Some(s.as_str())))),
        Some(Bitmap::from_iter(md_present.iter().copied())),
    )
    .map_err(format_err("checkpoint list"))?
    .boxed();
    let metadata = structure(
        metadata_fields(),
        vec![
            strings((0..n).map(|i| md_at(i).map(|m| m.id.as_str()))),
            strings((0..n).map(|i| md_at(i).and_then(|m| m.name.as_deref()))),
            strings((0..n).map(|i| md_at(i).and_then(|m| m.description.as_deref()))),
            format,
            strings((0..n).map(|i| md_at(i).map(|m| m.schema_string.as_str()))),
            partition_columns,
            maps(
                &(0..n)
                    .map(|i| {
                        md_at(i).map(|m| {
                            m.configuration.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()
                        })
                    })
                    .collect::<Vec<_>>(),
            )?,
            longs((0..n).map(|i| md_at(i).and_then(|m| m.created_time))),
        ],
        &md_present,
    )?;

    let p_at = |i: usize| (i == 0).then_some(snap.protocol).flatten();
    let protocol = structure(
        protocol_fields(),
        vec![
            ints((0..n).map(|i| p_at(i).map(|p| p.min_reader_version))),
            ints((0..n).map(|i| p_at(i).map(|p| p.min_writer_version))),
        ],
        &(0..n).map(|i| p_at(i).is_some()).collect::<Vec<_>>(),
    )?;
    Ok((Chunk::new(vec![txn, add, remove, metadata, protocol]), n))
}

// ---------------------------------------------------------------- reading

fn child<'a>(s: &'a StructArray, name: &str) -> Option<&'a dyn Array> {
    s.fields().iter().position(|f| f.name == name).map(|i| s.values()[i].as_ref())
}

fn str_at(a: Option<&dyn Array>, i: usize) -> Option<String> {
    let a = a?.as_any().downcast_ref::<Utf8Array<i32>>()?;
    a.get(i).map(str::to_owned)
}

fn i64_at(a: Option<&dyn Array>, i: usize) -> Option<i64> {
    a?.as_any().downcast_ref::<PrimitiveArray<i64>>()?.get(i)
}

fn i32_at(a: Option<&dyn Array>, i: usize) -> Option<i32> {
    a?.as_any().downcast_ref::<PrimitiveArray<i32>>()?.get(i)
}

fn bool_at(a: Option<&dyn Array>, i: usize) -> Option<bool> {
    a?.as_any().downcast_ref::<BooleanArray>()?.get(i)
}

fn map_at(a: Option<&dyn Array>, i: usize) -> Option<PartitionValues> {
    let m = a?.as_any().downcast_ref::<MapArray>()?;
    if m.is_null(i) {
        return None;
    }
    let entries = m.field().as_any().downcast_ref::<StructArray>()?;
    let (start, end) = m.offsets().start_end(i);
    let keys = entries.values()[0].as_ref();
    let vals = entries.values()[1].as_ref();
    Some((start..end).filter_map(|j| Some((str_at(Some(keys), j)?, str_at(Some(vals), j)))).collect())
}

fn list_at(a: Option<&dyn Array>, i: usize) -> Option<Vec<String>> {
    let l = a?.as_any().downcast_ref::<ListArray<i32>>()?;
    if l.is_null(i) {
        return None;
    }
    let (start, end) = l.offsets().start_end(i);
    Some((start..end).filter_map(|j| str_at(Some(l.values().as_ref()), j)).collect())
}

/// `dt=2020-05-31/hour=05/part-x.parquet` → `{dt: 2020-05-31, hour: 5}`.
fn partition_values_from_path(path: &str) -> Option<PartitionValues> {
    let dir = path.rsplit_once('/')?.0;
    crate::table::PartitionKey::parse(dir).ok().map(|k| k.values())
}

/// Reads a checkpoint (ours or another Delta writer's) into a snapshot at `version`.
pub(crate) fn read(bytes: &[u8], version: i64, object: &str) -> Result<Snapshot, CatalogError> {
    use arrow2::io::parquet::read::{infer_schema, read_metadata, FileReader};
    let mut cursor = Cursor::new(bytes);
    let metadata = read_metadata(&mut cursor).map_err(format_err(object))?;
    let schema = infer_schema(&metadata).map_err(format_err(object))?;
    let names: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let reader = FileReader::new(cursor, metadata.row_groups, schema, None, None, None);
    let mut snap = Snapshot { version, ..Snapshot::empty() };
    for chunk in reader {
        let chunk = chunk.map_err(format_err(object))?;
        let column = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| chunk.arrays()[i].as_any().downcast_ref::<StructArray>())
        };
        let (add, meta, proto) = (column("add"), column("metaData"), column("protocol"));
        for i in 0..chunk.len() {
            if let Some(p) = proto.filter(|p| p.is_valid(i)) {
                snap.protocol = Some(Protocol {
                    min_reader_version: i32_at(child(p, "minReaderVersion"), i).unwrap_or(1),
                    min_writer_version: i32_at(child(p, "minWriterVersion"), i).unwrap_or(2),
                });
            }
            if let Some(m) = meta.filter(|m| m.is_valid(i)) {
                let format = child(m, "format").and_then(|f| f.as_any().downcast_ref::<StructArray>());
                snap.metadata = Some(MetaData {
                    id: str_at(child(m, "id"), i).unwrap_or_default(),
                    name: str_at(child(m, "name"), i),
                    description: str_at(child(m, "description"), i),
                    format: Format {
                        provider: format
                            .and_then(|f| str_at(child(f, "provider"), i))
                            .unwrap_or_else(|| "parquet".into()),
                        options: format
                            .and_then(|f| map_at(child(f, "options"), i))
                            .map(|o| o.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
                            .unwrap_or_default(),
                    },
                    schema_string: str_at(child(m, "schemaString"), i).unwrap_or_default(),
                    partition_columns: list_at(child(m, "partitionColumns"), i).unwrap_or_default(),
                    configuration: map_at(child(m, "configuration"), i)
                        .map(|o| o.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
                        .unwrap_or_default(),
                    created_time: i64_at(child(m, "createdTime"), i),
                });
            }
            if let Some(a) = add.filter(|a| a.is_valid(i)) {
                let Some(path) = str_at(child(a, "path"), i) else {
                    return Err(CatalogError::Log {
                        object: object.to_owned(),
                        message: format!("row {i}: add without path"),
                    });
                };
                // arrow2 0.18 cannot read Parquet maps back (it sees list<struct> with NULL
                // keys); our paths carry the partition values, so take them from there
                let partition_values = map_at(child(a, "partitionValues"), i)
                    .filter(|m| !m.is_empty())
                    .or_else(|| partition_values_from_path(&path))
                    .unwrap_or_default();
                let entry = Add {
                    path: path.clone(),
                    partition_values,
                    size: i64_at(child(a, "size"), i).unwrap_or(0),
                    modification_time: i64_at(child(a, "modificationTime"), i).unwrap_or(0),
                    data_change: bool_at(child(a, "dataChange"), i).unwrap_or(true),
                    stats: str_at(child(a, "stats"), i),
                    tags: map_at(child(a, "tags"), i)
                        .map(|t| t.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()),
                };
                snap.files.insert(path, entry);
            }
        }
    }
    if snap.protocol.is_none() || snap.metadata.is_none() {
        return Err(CatalogError::Log {
            object: object.to_owned(),
            message: "checkpoint without protocol or metaData".into(),
        });
    }
    Ok(snap)
}
