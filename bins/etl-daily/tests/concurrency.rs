//! Two `etl-daily` runs on the same date at once, and readers while they commit: the log stays
//! consistent, nothing is duplicated, and the tables equal one clean run.

use std::collections::BTreeMap;
use std::path::Path;

use loglake_catalog::{ScanOptions, Table, ACCESS_LOGS, REJECTS};
use loglake_storage::Store;
use loglake_testkit::TempDir;

mod common;

fn raw_day(lake: &Path) {
    let objects = [(50, 0), (51, 0), (52, 0), (53, 0)];
    common::generated_day(&Store::local(lake), &objects, 6_000, 0.005);
}

fn tables(lake: &Path) -> BTreeMap<&'static str, Vec<String>> {
    common::tables(&Store::local(lake))
}

/// Rows of a table (from the snapshot's files) and the distinct (object, line) pairs among them.
fn rows_and_distinct(lake: &Path, def: &'static loglake_catalog::TableDef) -> (usize, usize) {
    let store = Store::local(lake);
    let t = Table::new(&store, def);
    let snap = t.snapshot().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut rows = 0;
    t.scan(&snap, &ScanOptions::columns(["source_object", "source_line"]), |g| {
        let (obj, line) = (g.columns[0].str_view(), g.columns[1].int_view());
        for i in 0..g.rows {
            rows += 1;
            seen.insert((obj.get(i).unwrap().to_owned(), line.get(i).unwrap()));
        }
        Ok(())
    })
    .unwrap();
    (rows, seen.len())
}

fn etl(lake: &Path, bin: &str, extra: &[&str]) -> std::process::Command {
    let mut c = loglake_testkit::cli_command(bin);
    c.args(["--lake", &lake.display().to_string(), "--date", "2020-05-31"]).args(extra);
    c
}

#[test]
fn two_runs_at_once_then_readers_see_each_line_once() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    raw_day(&lake);
    let bin = env!("CARGO_BIN_EXE_etl-daily");
    let clean = etl(&lake, bin, &["--segment-mib", "1"]).output().unwrap();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    let expected = tables(&lake);
    std::fs::remove_dir_all(lake.join("curated")).unwrap();
    std::fs::remove_dir_all(lake.join("agg")).unwrap();

    for round in 0..3 {
        let a = etl(&lake, bin, &["--segment-mib", "1"]).spawn().unwrap();
        let b = etl(&lake, bin, &["--segment-mib", "1"]).spawn().unwrap();
        // a reader replaying the log while both commit: every snapshot it sees is consistent
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let (mut a, mut b) = (a, b);
        loop {
            let (rows, distinct) = rows_and_distinct(&lake, &ACCESS_LOGS);
            assert_eq!(rows, distinct, "round {round}: a reader saw a line twice");
            let done = a.try_wait().unwrap().is_some() && b.try_wait().unwrap().is_some();
            if done || std::time::Instant::now() > deadline {
                break;
            }
        }
        for (name, child) in [("a", a), ("b", b)] {
            let out = child.wait_with_output().unwrap();
            // both succeed (the loser of a commit race retries), or one says why it stopped
            assert!(
                out.status.success() || String::from_utf8_lossy(&out.stderr).contains("conflict"),
                "round {round} run {name}: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(tables(&lake), expected, "round {round}: tables differ from one clean run");
        for def in [&ACCESS_LOGS, &REJECTS] {
            let (rows, distinct) = rows_and_distinct(&lake, def);
            assert_eq!(rows, distinct, "round {round}: {} holds a line twice", def.name);
        }
        // the next round starts over from the raw zone
        std::fs::remove_dir_all(lake.join("curated")).unwrap();
        std::fs::remove_dir_all(lake.join("agg")).unwrap();
    }
}
