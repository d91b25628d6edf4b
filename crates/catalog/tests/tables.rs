//! Tables end to end: batches, replaces, reruns, races — and real engines (delta-rs, pyarrow,
//! DuckDB) reading what we wrote.

use std::process::Command;

use loglake_catalog::{
    BatchBuilder, CatalogError, CommitOutcome, PartitionKey, Table, Value, ACCESS_LOGS, REJECTS,
};
use loglake_storage::Store;
use loglake_testkit::TempDir;
use serde_json::json;

const BASE: i64 = 1_590_901_200_000_000; // 2020-05-31T05:00:00Z

/// An `access_logs` row with the given time (µs after 05:00Z), status and bytes.
fn push(b: &mut BatchBuilder, offset_us: i64, status: i64, bytes: Option<i64>, line: i64) {
    let mut row = vec![Value::Null; ACCESS_LOGS.columns.len()];
    let set = |row: &mut Vec<Value<'static>>, name: &str, v: Value<'static>| {
        row[ACCESS_LOGS.column_index(name).unwrap()] = v;
    };
    set(&mut row, "ts", Value::Int(BASE + offset_us));
    set(&mut row, "tz_offset_minutes", Value::Int(120));
    set(&mut row, "client", Value::Str("192.0.2.7"));
    set(&mut row, "client_ip", Value::Str("192.0.2.7"));
    set(&mut row, "method", Value::Str("GET"));
    set(&mut row, "path", Value::Str("/list"));
    set(&mut row, "protocol", Value::Str("HTTP/1.1"));
    set(&mut row, "status", Value::Int(status));
    set(&mut row, "status_class", Value::Str(if status < 400 { "2xx" } else { "4xx" }));
    set(&mut row, "bytes", bytes.map_or(Value::Null, Value::Int));
    set(&mut row, "is_bot", Value::Bool(false));
    set(&mut row, "is_static", Value::Bool(false));
    set(&mut row, "source_object", Value::Str("raw/access_logs/dt=2020-05-31/a.log"));
    set(&mut row, "source_line", Value::Int(line));
    b.push(&row).unwrap();
}

fn day() -> loglake_catalog::Date {
    "2020-05-31".parse().unwrap()
}

fn hour(h: u8) -> PartitionKey {
    PartitionKey::hour(day(), h).unwrap()
}

const HOUR_US: i64 = 3_600_000_000;

/// Writes a batch's rows per hour and commits them.
fn commit(table: &Table, batch: &str, rows: &[(i64, i64, Option<i64>)]) -> CommitOutcome {
    let mut files = Vec::new();
    for h in [5u8, 6] {
        let mut b = BatchBuilder::new(&ACCESS_LOGS);
        for (i, (off, status, bytes)) in rows.iter().enumerate() {
            if (off / HOUR_US) as u8 + 5 == h {
                push(&mut b, *off, *status, *bytes, i as i64 + 1);
            }
        }
        if !b.is_empty() {
            files.push(table.write_file(hour(h), batch, &b.finish().unwrap()).unwrap());
        }
    }
    table.commit_batch(batch, &files, json!({"job": "test", "lines": rows.len()})).unwrap()
}

fn a_v1() -> Vec<(i64, i64, Option<i64>)> {
    // out of order on purpose: files are sorted by ts
    vec![
        (600_000_000, 200, Some(10)),
        (1_000_000, 200, Some(20)),
        (3_599_000_000, 404, None),
        (HOUR_US + 5, 200, Some(1)),
        (HOUR_US + 9, 200, Some(2)),
    ]
}

fn a_v2() -> Vec<(i64, i64, Option<i64>)> {
    vec![(1_000_000, 200, Some(20)), (3_599_000_000, 404, None)]
}

fn b_rows() -> Vec<(i64, i64, Option<i64>)> {
    vec![(HOUR_US + 100, 200, Some(100)), (HOUR_US + 200, 200, Some(200))]
}

#[test]
fn batches_replace_and_rerun_idempotently() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS);
    assert!(matches!(
        commit(&table, "a", &a_v1()),
        CommitOutcome::Committed { version: 1, added: 2, removed: 0 }
    ));
    assert!(matches!(
        commit(&table, "b", &b_rows()),
        CommitOutcome::Committed { version: 2, added: 1, removed: 0 }
    ));
    // rerunning a batch with the same rows changes nothing
    assert_eq!(commit(&table, "b", &b_rows()), CommitOutcome::Unchanged { version: 2 });
    // replacing a batch is one commit that removes its old files and adds the new one
    assert!(matches!(
        commit(&table, "a", &a_v2()),
        CommitOutcome::Committed { version: 3, added: 1, removed: 2 }
    ));
    let snap = table.snapshot().unwrap();
    assert_eq!(snap.version, 3);
    assert_eq!(snap.num_records(), 4);
    assert_eq!(snap.files.len(), 2);
    // removed files are gone from storage, so plain Parquet readers agree with the log
    let data: Vec<_> =
        store.list("curated/access_logs/dt=").unwrap().into_iter().map(|m| m.key.to_string()).collect();
    assert_eq!(data.len(), 2, "{data:?}");
    assert!(data.iter().all(|k| snap.files.contains_key(k.trim_start_matches("curated/access_logs/"))));
    let history = table.history().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[3].1["loglake"]["info"]["lines"], 2);
}

#[test]
fn racing_writers_of_different_batches_both_commit() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS);
    table.create_if_missing().unwrap();
    let outcomes: Vec<CommitOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let table = table.clone();
                s.spawn(move || commit(&table, &format!("batch-{i}"), &b_rows()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut versions: Vec<i64> = outcomes
        .iter()
        .map(|o| match o {
            CommitOutcome::Committed { version, .. } => *version,
            other => panic!("{other:?}"),
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [1, 2, 3, 4], "one commit per version, none lost");
    assert_eq!(table.snapshot().unwrap().num_records(), 8);
}

#[test]
fn racing_replaces_of_one_batch_never_merge() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS);
    commit(&table, "a", &a_v1());
    // six writers replace batch "a" at once, each with different rows
    let barrier = std::sync::Barrier::new(6);
    let results: Vec<(String, Result<CommitOutcome, CatalogError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (table, barrier) = (table.clone(), &barrier);
                s.spawn(move || {
                    let mut b = BatchBuilder::new(&ACCESS_LOGS);
                    push(&mut b, 1_000 + i, 200, Some(i), 1);
                    let staged = table.write_file(hour(5), "a", &b.finish().unwrap()).unwrap();
                    barrier.wait();
                    (
                        staged.path().to_owned(),
                        table.commit_batch("a", std::slice::from_ref(&staged), json!({})),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let committed: Vec<&String> = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(CommitOutcome::Committed { .. })))
        .map(|(p, _)| p)
        .collect();
    for (_, r) in &results {
        assert!(
            matches!(r, Ok(CommitOutcome::Committed { .. }) | Err(CatalogError::Conflict { .. })),
            "{r:?}"
        );
    }
    assert!(!committed.is_empty());
    // the batch holds exactly one writer's file: the last committed one, never a mix
    let snap = table.snapshot().unwrap();
    let live: Vec<&str> = snap.batch_files("a").map(|a| a.path.as_str()).collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert!(committed.iter().any(|p| p.as_str() == live[0]));
    assert_eq!(snap.version, 1 + committed.len() as i64, "one version per successful commit");
}

#[test]
fn a_gap_in_the_log_is_refused_naming_the_file() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS);
    commit(&table, "a", &a_v1());
    commit(&table, "a", &a_v2());
    store
        .delete_many(&[loglake_storage::ObjectKey::new(
            "curated/access_logs/_delta_log/00000000000000000001.json",
        )
        .unwrap()])
        .unwrap();
    let err = table.snapshot().unwrap_err();
    assert!(matches!(err, CatalogError::Log { .. }), "{err}");
    assert!(err.to_string().contains("00000000000000000002.json"), "{err}");
}

#[test]
fn orphans_of_a_crashed_run_are_found_and_vacuumed() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS);
    commit(&table, "a", &a_v1());
    // a run that wrote a data file and died before its commit
    let mut b = BatchBuilder::new(&ACCESS_LOGS);
    push(&mut b, 5, 200, Some(5), 1);
    let staged = table.write_file(hour(5), "crashed", &b.finish().unwrap()).unwrap();
    let before = table.snapshot().unwrap();
    assert!(!before.files.contains_key(staged.path()), "the table did not change");
    assert!(
        table.orphans(std::time::Duration::from_secs(3600)).unwrap().is_empty(),
        "too young to be an orphan"
    );
    let orphans = table.orphans(std::time::Duration::ZERO).unwrap();
    assert_eq!(orphans.len(), 1);
    assert!(orphans[0].as_str().ends_with(staged.path()));
    store.delete_many(&orphans).unwrap();
    assert!(table.orphans(std::time::Duration::ZERO).unwrap().is_empty());
    assert_eq!(table.snapshot().unwrap(), before, "vacuum never touches live files or the log");
    // with removed files kept, a replace leaves them for vacuum
    let keeping = Table::new(&store, &ACCESS_LOGS).keep_removed_files(true);
    commit(&keeping, "a", &a_v2());
    assert_eq!(keeping.orphans(std::time::Duration::ZERO).unwrap().len(), 2, "the replaced files");
    let parts = Table::partitions(&before);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts["dt=2020-05-31/hour=05"].rows, 3);
}

#[test]
fn checkpoints_give_the_same_snapshot_as_replay() {
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let table = Table::new(&store, &ACCESS_LOGS).with_checkpoint_interval(3);
    for i in 0..7 {
        let rows = if i % 2 == 0 { a_v1() } else { b_rows() };
        commit(&table, &format!("batch-{i}"), &rows);
    }
    commit(&table, "batch-0", &a_v2());
    let with_checkpoint = table.snapshot().unwrap();
    assert_eq!(with_checkpoint.version, 8);
    let pointer = store
        .get_bytes(
            &loglake_storage::ObjectKey::new("curated/access_logs/_delta_log/_last_checkpoint").unwrap(),
        )
        .unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&pointer).unwrap()["version"], 6);
    // the same state by replaying every JSON commit
    store
        .delete_many(&[
            loglake_storage::ObjectKey::new("curated/access_logs/_delta_log/_last_checkpoint").unwrap()
        ])
        .unwrap();
    let replayed = table.snapshot().unwrap();
    assert_eq!(replayed.files.len(), 10);
    // the same files with the same partition values, sizes and stats (our checkpoint reader
    // does not get the informational `tags` back; batch membership comes from the file names)
    let strip = |s: &loglake_catalog::Snapshot| {
        let mut s = s.clone();
        s.files.values_mut().for_each(|a| a.tags = None);
        s
    };
    assert_eq!(strip(&with_checkpoint), strip(&replayed));
    for batch in ["batch-0", "batch-1", "batch-6"] {
        assert_eq!(
            with_checkpoint.batch_files(batch).count(),
            replayed.batch_files(batch).count(),
            "{batch}"
        );
    }
}

#[test]
fn scans_project_and_prune() {
    use loglake_catalog::{ScanOptions, WriteOptions};
    let dir = TempDir::new();
    let store = Store::local(dir.0.join("lake"));
    let mut small_groups = WriteOptions::default();
    small_groups.row_group_rows = 1;
    let table = Table::new(&store, &ACCESS_LOGS).with_options(small_groups);
    commit(&table, "a", &a_v1());
    commit(&table, "b", &b_rows());
    let snap = table.snapshot().unwrap();
    let scan = |opts: &ScanOptions| {
        let mut rows = Vec::new();
        let stats = table
            .scan(&snap, opts, |g| {
                assert_eq!(g.columns.len(), opts.columns.len());
                for i in 0..g.rows {
                    rows.push((
                        g.partition.hour,
                        g.columns[0].int(i).unwrap(),
                        g.columns[1].int(i),
                        g.columns[2].str(i).map(str::to_owned),
                    ));
                }
                Ok(())
            })
            .unwrap();
        rows.sort_unstable();
        (rows, stats)
    };
    let all = ScanOptions::columns(["ts", "bytes", "method"]);
    let (rows, stats) = scan(&all);
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0], (Some(5), BASE + 1_000_000, Some(20), Some("GET".to_owned())));
    assert_eq!(rows.iter().filter(|r| r.2.is_none()).count(), 1, "NULL bytes stay NULL");
    assert_eq!((stats.files_read, stats.row_groups_read), (3, 7));

    let (rows, stats) = scan(&all.clone().in_partitions(vec![hour(6)]));
    assert_eq!(rows.len(), 4);
    assert_eq!((stats.files_read, stats.files_skipped), (2, 1));

    // the first ten minutes of 05:00: hour-06 files skipped by Delta stats, row groups by Parquet stats
    let (rows, stats) = scan(&all.clone().ts_between(BASE, BASE + 600_000_001));
    assert_eq!(stats.files_skipped, 2);
    assert_eq!(stats.row_groups_skipped, 1, "the 05:59:59 row's group");
    assert_eq!(rows.iter().map(|r| r.1 - BASE).collect::<Vec<_>>(), [1_000_000, 600_000_000]);

    assert!(table.scan(&snap, &ScanOptions::columns(["nope"]), |_| Ok(())).is_err());
}

#[test]
fn commits_work_on_s3() {
    let store = loglake_testkit::s3_store();
    let table = Table::new(&store, &ACCESS_LOGS);
    commit(&table, "a", &a_v1());
    commit(&table, "a", &a_v2());
    let snap = table.snapshot().unwrap();
    assert_eq!((snap.version, snap.num_records(), snap.files.len()), (2, 2, 1));
    assert_eq!(store.list("curated/access_logs/dt=").unwrap().len(), 1, "the replaced files were deleted");
}

#[test]
fn real_engines_read_the_tables() {
    let python = loglake_testkit::workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the interop test needs .venv: run `bash scripts/test-env.sh` (or scripts/test.sh)"
    );
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    let table = Table::new(&store, &ACCESS_LOGS).with_checkpoint_interval(2);
    use loglake_catalog::{Codec, WriteOptions};
    // partition b and the rejects are written with snappy (`--compression snappy`), the rest
    // with the default zstd: every engine below reads both codecs
    let mut snappy = WriteOptions::default();
    snappy.codec = Codec::Snappy;
    commit(&table, "a", &a_v1());
    commit(&table.clone().with_options(snappy), "b", &b_rows());
    commit(&table, "a", &a_v2());
    // a checkpoint was written at version 2; drop the JSON commits it covers, so every reader
    // below has to read our checkpoint Parquet to get the table right
    let old: Vec<_> = (0..=2)
        .map(|v| {
            loglake_storage::ObjectKey::new(format!("curated/access_logs/_delta_log/{v:020}.json")).unwrap()
        })
        .collect();
    store.delete_many(&old).unwrap();
    assert_eq!(table.snapshot().unwrap().num_records(), 4);
    let rejects = Table::new(&store, &REJECTS).with_options(snappy);
    let mut r = BatchBuilder::new(&REJECTS);
    r.push(&[
        Value::Str("raw/a.log"),
        Value::Int(3),
        Value::Str("bad_date"),
        Value::Int(16),
        Value::Bytes(b"\xff\x00 not utf-8"),
        Value::Str("\u{fffd}\u{0} not utf-8"),
    ])
    .unwrap();
    let f = rejects.write_file(PartitionKey::day(day()), "a", &r.finish().unwrap()).unwrap();
    rejects.commit_batch("a", &[f], json!({})).unwrap();

    let mut access_cols: Vec<&str> = ACCESS_LOGS.columns.iter().map(|c| c.name).collect();
    access_cols.extend(["dt", "hour"]);
    let mut reject_cols: Vec<&str> = REJECTS.columns.iter().map(|c| c.name).collect();
    reject_cols.push("dt");
    let from = "read_parquet('{glob}', hive_partitioning = true)";
    let expected = json!({
        "curated/access_logs": {
            "version": 3, "rows": 4, "files": 2, "columns": access_cols, "glob": "dt=*/hour=*/*.parquet",
            "codecs": ["SNAPPY", "ZSTD"],
            "ts_type": "timestamp[us, tz=UTC]",
            "queries": [
                {"sql": format!("SELECT CAST(hour AS INTEGER) AS h, count(*), sum(bytes) FROM {from} GROUP BY h ORDER BY h"),
                 "rows": [["5", "2", "20"], ["6", "2", "300"]]},
                {"sql": format!("SELECT epoch_us(min(ts)), epoch_us(max(ts)), count(*) - count(bytes) FROM {from}"),
                 "rows": [[(BASE + 1_000_000).to_string(), (BASE + HOUR_US + 200).to_string(), "1"]]},
                {"sql": format!("SELECT CAST(dt AS VARCHAR), min(status), max(status) FROM {from} GROUP BY dt"),
                 "rows": [["2020-05-31", "200", "404"]]},
            ],
        },
        "curated/rejects": {
            "version": 1, "rows": 1, "files": 1, "columns": reject_cols, "glob": "dt=*/*.parquet",
            "codecs": ["SNAPPY"],
            "queries": [
                {"sql": format!("SELECT reason, source_line, octet_length(raw_line) FROM {from}"),
                 "rows": [["bad_date", "3", "12"]]},
            ],
        },
    });
    let mut expected = expected;
    expected["duckdb_ddl"] = json!(loglake_catalog::ddl(
        loglake_catalog::Engine::DuckDb,
        lake.to_str().unwrap(),
        &[ACCESS_LOGS, REJECTS]
    ));
    let exp_path = dir.0.join("expected.json");
    std::fs::write(&exp_path, serde_json::to_vec_pretty(&expected).unwrap()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop.py");
    let out = Command::new(&python).arg(script).arg(&lake).arg(&exp_path).env("TZ", "UTC").output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
