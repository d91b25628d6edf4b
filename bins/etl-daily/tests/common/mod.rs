//! Helpers shared by the `etl-daily` test binaries.
#![allow(dead_code, reason = "each test binary uses a part of these helpers")]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Output;

use loglake_catalog::{ScanOptions, Table, ACCESS_LOGS, REJECTS, TABLES};
use loglake_storage::{ObjectKey, Store};

/// stdout and stderr of a finished command.
pub(crate) fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every table's committed files (names carry a content hash: equal names, equal bytes).
pub(crate) fn tables(store: &Store) -> BTreeMap<&'static str, Vec<String>> {
    TABLES
        .iter()
        .map(|def| (def.name, Table::new(store, def).snapshot().unwrap().files.into_keys().collect()))
        .collect()
}

/// Removes every table, keeping the raw zone (the next run starts from the same lake path:
/// rows name their source object, lake path included).
pub(crate) fn clear_tables(store: &Store) {
    for top in ["curated/", "agg/"] {
        let keys: Vec<ObjectKey> = store.list(top).unwrap().into_iter().map(|m| m.key).collect();
        store.delete_many(&keys).unwrap();
    }
}

/// One gzip object per `(seed, zone offset in minutes)` under `raw/access_logs/dt=2020-05-31/`,
/// `lines` generated lines each over 23 hours of 2020-05-31 UTC, `bad_ratio` malformed.
pub(crate) fn generated_day(store: &Store, objects: &[(u64, i16)], lines: u64, bad_ratio: f64) {
    let start = loglake_parser::Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap();
    generated_from(store, objects, lines, bad_ratio, start);
}

/// [`generated_day`], the 23 hours starting at `start` (still under `dt=2020-05-31/`).
pub(crate) fn generated_from(
    store: &Store,
    objects: &[(u64, i16)],
    lines: u64,
    bad_ratio: f64,
    start: loglake_parser::Timestamp,
) {
    for (i, &(seed, tz_offset_minutes)) in objects.iter().enumerate() {
        let cfg = fakelog::Config {
            seed,
            start,
            tz_offset_minutes,
            bad_ratio,
            step: fakelog::Step::Span { hours: 23.0, lines },
            ..fakelog::Config::default()
        };
        let mut g = fakelog::Generator::new(&cfg);
        let mut text = Vec::new();
        for _ in 0..lines {
            g.next_line(&mut text);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let key = ObjectKey::new(format!("raw/access_logs/dt=2020-05-31/server-{i}.log.gz")).unwrap();
        store.put_bytes(&key, &gz.finish().unwrap()).unwrap();
    }
}

/// Every row of a table, each cell formatted by its column type (NULL as `∅`), sorted: equal
/// lists, equal table contents whatever the files look like.
pub(crate) fn table_rows(store: &Store, def: &'static loglake_catalog::TableDef) -> Vec<String> {
    use loglake_catalog::ColumnType as T;
    let t = Table::new(store, def);
    let mut rows = Vec::new();
    let names: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
    t.scan(&t.snapshot().unwrap(), &ScanOptions::columns(names), |g| {
        for i in 0..g.rows {
            let cells: Vec<String> = def
                .columns
                .iter()
                .zip(&g.columns)
                .map(|(c, v)| {
                    let cell = match c.ty {
                        T::Utf8 | T::DictUtf8 => v.str(i).map(str::to_owned),
                        T::Bool => v.bool(i).map(|b| b.to_string()),
                        T::Binary => v.bytes(i).map(|b| format!("{b:?}")),
                        T::Float64 => v.float(i).map(|f| f.to_string()),
                        _ => v.int(i).map(|n| n.to_string()),
                    };
                    cell.unwrap_or_else(|| "∅".to_owned())
                })
                .collect();
            rows.push(cells.join("|"));
        }
        Ok(())
    })
    .unwrap();
    rows.sort();
    rows
}

/// (rows, rejects) per source object, read back from the lake itself.
pub(crate) fn lake_counts(store: &Store) -> BTreeMap<String, (u64, u64)> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (def, reject) in [(&ACCESS_LOGS, false), (&REJECTS, true)] {
        let t = Table::new(store, def);
        t.scan(&t.snapshot().unwrap(), &ScanOptions::columns(["source_object"]), |g| {
            let col = g.columns[0].str_view();
            for i in 0..g.rows {
                let e = out.entry(col.get(i).unwrap().to_owned()).or_default();
                if reject {
                    e.1 += 1;
                } else {
                    e.0 += 1;
                }
            }
            Ok(())
        })
        .unwrap();
    }
    out
}
