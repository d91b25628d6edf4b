//! The daily tables of a date the run wrote whole come from states built while the rows were
//! written; they must equal the tables recomputed by reading the date back, and a date the
//! run did not write whole must be read back.

use std::collections::BTreeMap;
use std::process::Output;

use loglake_catalog::{
    Table, DAILY_REFERRERS, DAILY_STATUS, DAILY_TOP_PATHS, DAILY_TRAFFIC, DAILY_USER_AGENTS,
};
use loglake_storage::{ObjectKey, Store};
use loglake_testkit::TempDir;

mod common;
use common::{generated_day, generated_from, text};

fn etl(lake: &str, report: &std::path::Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let out = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
        .args(["--lake", lake, "--date", "2020-05-31", "--threads", "2", "--report"])
        .arg(report)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let r = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    (out, r)
}

/// Each daily table's version and files.
fn daily(store: &Store) -> BTreeMap<&'static str, (i64, Vec<String>)> {
    [&DAILY_TRAFFIC, &DAILY_TOP_PATHS, &DAILY_STATUS, &DAILY_USER_AGENTS, &DAILY_REFERRERS]
        .into_iter()
        .map(|def| {
            let s = Table::new(store, def).snapshot().unwrap();
            (def.name, (s.version, s.files.into_keys().collect()))
        })
        .collect()
}

/// Copies raw object `server-{i}` from one lake to another.
fn copy_raw(from: &Store, to: &Store, i: usize) {
    let key = ObjectKey::new(format!("raw/access_logs/dt=2020-05-31/server-{i}.log.gz")).unwrap();
    to.put_bytes(&key, &from.get_bytes(&key).unwrap()).unwrap();
}

#[test]
fn daily_tables_from_memory_equal_the_read_back_ones() {
    // a fresh lake with four servers (four zones, malformed lines, several segments each)
    let fresh_dir = TempDir::new();
    let fresh = fresh_dir.0.join("lake");
    let fresh_store = Store::local(&fresh);
    generated_day(&fresh_store, &[(1, 120), (2, -420), (3, 330), (4, 0)], 30_000, 0.01);

    // the lake under test gets three of them first
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    let lake_arg = lake.display().to_string();
    let report = dir.0.join("r.json");
    for i in 0..3 {
        copy_raw(&fresh_store, &store, i);
    }
    let (_, r) = etl(&lake_arg, &report, &["--segment-mib", "1"]);
    assert_eq!(r["daily_from_memory"], serde_json::json!(["2020-05-31"]), "{r}");
    assert_eq!(r["daily_read_back"], serde_json::json!([]), "{r}");
    let from_memory = daily(&store);

    // --aggregates-only reads the day back; identical tables mean identical files, so
    // every daily table is left as it was (no new version)
    let (_, r) = etl(&lake_arg, &report, &["--aggregates-only"]);
    assert_eq!(r["daily_read_back"], serde_json::json!(["2020-05-31"]), "{r}");
    assert_eq!(daily(&store), from_memory, "daily tables from memory differ from the read-back ones");

    // the fourth object arrives: the run writes only part of the day's rows, so the day is
    // read back, and the result is what one run over all four objects gives
    copy_raw(&fresh_store, &store, 3);
    let (_, r) = etl(&lake_arg, &report, &[]);
    assert_eq!(r["daily_read_back"], serde_json::json!(["2020-05-31"]), "{r}");
    assert_eq!(r["objects"].as_array().unwrap().iter().filter(|o| o["skipped"] == true).count(), 3, "{r}");
    let incremental: BTreeMap<_, _> = daily(&store).into_iter().map(|(k, (_, files))| (k, files)).collect();

    let (_, r) = etl(&fresh.display().to_string(), &report, &[]);
    assert_eq!(r["daily_from_memory"], serde_json::json!(["2020-05-31"]), "{r}");
    let whole: BTreeMap<_, _> = daily(&fresh_store).into_iter().map(|(k, (_, files))| (k, files)).collect();
    // the daily tables hold no source paths: file names carry a content hash, so equal names
    // are equal tables
    assert_eq!(incremental, whole, "read back after an incremental run vs one run over everything");
}

#[test]
fn segments_across_midnight_fill_both_days_states() {
    // noon to 11:00 the next day (UTC), small segments: the segments around midnight hold rows
    // of both dates, so a worker's rows switch day states inside a segment (with client
    // lookups still waiting for the first state)
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    let noon = loglake_parser::Timestamp::from_utc(2020, 5, 31, 12, 0, 0).unwrap();
    generated_from(&store, &[(5, 0), (6, 120)], 20_000, 0.01, noon);
    let lake_arg = lake.display().to_string();
    let report = dir.0.join("r.json");
    let both = serde_json::json!(["2020-05-31", "2020-06-01"]);
    let (_, r) = etl(&lake_arg, &report, &["--segment-mib", "1"]);
    assert_eq!(r["daily_from_memory"], both, "{r}");
    let from_memory = daily(&store);
    let (_, r) = etl(&lake_arg, &report, &["--aggregates-only"]);
    assert_eq!(r["daily_read_back"], both, "{r}");
    assert_eq!(daily(&store), from_memory, "daily tables from memory differ from the read-back ones");
}
