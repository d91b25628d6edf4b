//! Crashes: `etl-daily` dies like `kill -9` at named points (`LOGLAKE_CRASH_AT`, an abort with
//! no cleanup) and at random moments (a real SIGKILL); after each, a plain rerun must give
//! exactly the tables of a clean run, and after a vacuum no file outside the log is left
//! for plain-Parquet readers to see.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use loglake_catalog::{Table, TABLES};
use loglake_storage::Store;
use loglake_testkit::TempDir;

mod common;
use common::text;

/// The named crash points of the daily job, in the order it reaches them.
const POINTS: [&str; 5] =
    ["mid-object", "before-commit", "between-commits", "after-commits", "before-aggregates"];

fn etl(lake: &Path) -> Command {
    let mut c = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"));
    // small segments so that every object is several units of parallel work
    c.args(["--lake", &lake.display().to_string(), "--date", "2020-05-31", "--segment-mib", "1"]);
    c
}

/// Three gzip objects of generated logs (0.5% malformed, zones 0, +0200, -0500) in a lake's
/// raw zone.
fn raw_day(lake: &Path) {
    common::generated_day(&Store::local(lake), &[(7, 0), (8, 120), (9, -300)], 12_000, 0.005);
}

/// Every table's committed files.
fn tables(lake: &Path) -> BTreeMap<&'static str, Vec<String>> {
    common::tables(&Store::local(lake))
}

/// Parquet files a reader globbing the table folders would see.
fn visible_parquet(lake: &Path) -> usize {
    fn walk(p: &Path, n: &mut usize) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() && name != "_delta_log" {
                walk(&path, n);
            } else if name.ends_with(".parquet") && !name.starts_with(['.', '_']) {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    for top in ["curated", "agg"] {
        walk(&lake.join(top), &mut n);
    }
    n
}

/// A clean run in `dir/lake` (the lake path is part of the rows: `source_object`), then the
/// lake is removed so each scenario starts from the same path.
fn clean_run(dir: &TempDir) -> BTreeMap<&'static str, Vec<String>> {
    let lake = fresh_lake(dir);
    let out = etl(&lake).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = tables(&lake);
    assert!(
        t["access_logs"].len() > 3 && !t["rejects"].is_empty() && !t["daily_traffic"].is_empty(),
        "{t:?}"
    );
    t
}

/// `dir/lake` holding only the raw day.
fn fresh_lake(dir: &TempDir) -> std::path::PathBuf {
    let lake = dir.0.join("lake");
    let _ = std::fs::remove_dir_all(&lake);
    raw_day(&lake);
    lake
}

/// A rerun converges to the clean tables; vacuum leaves only committed files visible.
fn assert_recovers(lake: &Path, clean: &BTreeMap<&'static str, Vec<String>>, what: &str) {
    let out = etl(lake).output().unwrap();
    assert!(out.status.success(), "rerun after {what}: {}", text(&out));
    let got = tables(lake);
    for (table, files) in clean {
        let extra: Vec<_> = got[table].iter().filter(|f| !files.contains(f)).take(3).collect();
        let missing: Vec<_> = files.iter().filter(|f| !got[table].contains(f)).take(3).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{table} after {what} + rerun differs from a clean run: extra {extra:?}, missing {missing:?}"
        );
    }
    // what `lake vacuum --min-age-minutes 0` does
    let store = Store::local(lake);
    for def in TABLES {
        store.delete_many(&Table::new(&store, def).orphans(Duration::ZERO).unwrap()).unwrap();
    }
    let committed: usize = clean.values().map(Vec::len).sum();
    assert_eq!(visible_parquet(lake), committed, "uncommitted files visible after {what} + rerun + vacuum");
}

#[test]
fn a_rerun_after_a_crash_at_any_named_point_equals_a_clean_run() {
    let dir = TempDir::new();
    let clean = clean_run(&dir);
    for point in POINTS {
        let lake = fresh_lake(&dir);
        let out = etl(&lake).env("LOGLAKE_CRASH_AT", point).output().unwrap();
        assert!(!out.status.success(), "the run did not crash at {point}: {}", text(&out));
        assert_eq!(out.status.code(), None, "killed by a signal at {point}: {}", text(&out));
        assert_recovers(&lake, &clean, point);
    }
}

#[test]
fn a_rerun_after_sigkill_at_random_moments_equals_a_clean_run() {
    let dir = TempDir::new();
    let clean = clean_run(&dir);
    let mut killed = 0;
    for delay_ms in [20, 80, 200, 400, 700, 1000, 1500] {
        let lake = fresh_lake(&dir);
        let mut child = etl(&lake).stdout(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        assert_recovers(&lake, &clean, &format!("SIGKILL after {delay_ms} ms"));
    }
    assert!(killed >= 2, "the job finished before most kills ({killed} killed): make the input bigger");
}

/// One small object per step, each ingested by its own run (one commit per table per run).
fn step_object(lake: &Path, step: u64) {
    let dir = lake.join("raw/access_logs/dt=2020-05-31");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = fakelog::Config {
        seed: 900 + step,
        start: loglake_parser::Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap(),
        bad_ratio: 0.02,
        step: fakelog::Step::Span { hours: 20.0, lines: 300 },
        ..fakelog::Config::default()
    };
    let prefix = format!("step{step:02}");
    fakelog::write_files(&[cfg], &dir, Some(&prefix), 300, fakelog::Output::Gz { members: 1, level: 1 })
        .unwrap();
}

#[test]
fn a_crash_while_writing_a_checkpoint_then_rerun_equals_a_clean_history() {
    // checkpoints are written every 10 commits: 12 runs of one new object each cross one
    const STEPS: u64 = 12;
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    for step in 0..STEPS {
        step_object(&lake, step);
        let out = etl(&lake).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let clean = tables(&lake);
    assert!(lake.join("curated/access_logs/_delta_log/_last_checkpoint").exists());

    std::fs::remove_dir_all(&lake).unwrap();
    let mut crashed = 0;
    for step in 0..STEPS {
        step_object(&lake, step);
        let out = etl(&lake).env("LOGLAKE_CRASH_AT", "checkpoint").output().unwrap();
        if !out.status.success() {
            assert_eq!(out.status.code(), None, "killed by a signal: {}", text(&out));
            crashed += 1;
            let again = etl(&lake).output().unwrap();
            assert!(again.status.success(), "rerun after a checkpoint crash: {}", text(&again));
        }
    }
    assert!(crashed >= 1, "no run reached a checkpoint");
    let got = tables(&lake);
    assert_eq!(got, clean, "tables after a checkpoint crash differ from a clean history");
}
