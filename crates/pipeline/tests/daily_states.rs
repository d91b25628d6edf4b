//! `run_daily`'s daily tables from in-memory states: however often the workers' states are
//! merged into the shared ones (here after every segment), the tables equal those of a run
//! with the default threshold and those read back from the table.

use std::collections::BTreeMap;
use std::io::Write;

use fakelog::{Config, Generator, LineFormat, Step};
use loglake_catalog::{
    Date, Table, DAILY_REFERRERS, DAILY_STATUS, DAILY_TOP_PATHS, DAILY_TRAFFIC, DAILY_USER_AGENTS,
};
use loglake_parser::{LogFormat, ParserConfig, Preset, Timestamp};
use loglake_pipeline::{run_daily, DailyOptions};
use loglake_storage::{ObjectKey, Store};
use loglake_testkit::TempDir;

fn raw_day(store: &Store) {
    for (i, (seed, tz)) in [(11u64, 120i16), (12, -300), (13, 0)].into_iter().enumerate() {
        let cfg = Config {
            seed,
            start: Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap(),
            format: LineFormat::Elf,
            step: Step::Span { hours: 23.0, lines: 20_000 },
            tz_offset_minutes: tz,
            bad_ratio: 0.01,
        };
        let mut g = Generator::new(&cfg);
        let mut text = Vec::new();
        for _ in 0..20_000 {
            g.next_line(&mut text);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let key = ObjectKey::new(format!("raw/access_logs/dt=2020-05-31/s{i}.log.gz")).unwrap();
        store.put_bytes(&key, &gz.finish().unwrap()).unwrap();
    }
}

fn daily_files(store: &Store) -> BTreeMap<&'static str, Vec<String>> {
    [&DAILY_TRAFFIC, &DAILY_TOP_PATHS, &DAILY_STATUS, &DAILY_USER_AGENTS, &DAILY_REFERRERS]
        .into_iter()
        .map(|def| (def.name, Table::new(store, def).snapshot().unwrap().files.into_keys().collect()))
        .collect()
}

fn options(flush_pairs: usize) -> DailyOptions {
    let parser = ParserConfig::new(LogFormat::preset(Preset::Combined))
        .fallback(LogFormat::preset(Preset::Common))
        .allow_trailing_fields(true);
    let mut o = DailyOptions::new(vec!["2020-05-31".parse::<Date>().unwrap()], parser);
    // small segments: many segments per object, so states meet in every order
    o.segment_bytes = 256 << 10;
    o.daily_flush_pairs = flush_pairs;
    o
}

#[test]
fn flushed_states_give_the_same_daily_tables() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut tables = Vec::new();
    for flush in [1, usize::MAX] {
        let dir = TempDir::new();
        let store = Store::local(dir.0.join("lake"));
        raw_day(&store);
        let report = pool.install(|| run_daily(&store, &options(flush))).unwrap();
        assert_eq!(report.daily_from_memory.len(), 1, "{:?}", report.daily_read_back);
        assert!(report.rows() > 50_000);
        tables.push(daily_files(&store));

        // reading the day back gives the same files: the commit is a no-op
        let mut again = options(flush);
        again.aggregates_only = true;
        let before: Vec<i64> = [&DAILY_TRAFFIC, &DAILY_REFERRERS]
            .iter()
            .map(|d| Table::new(&store, d).snapshot().unwrap().version)
            .collect();
        let r = pool.install(|| run_daily(&store, &again)).unwrap();
        assert_eq!(r.daily_read_back.len(), 1);
        let after: Vec<i64> = [&DAILY_TRAFFIC, &DAILY_REFERRERS]
            .iter()
            .map(|d| Table::new(&store, d).snapshot().unwrap().version)
            .collect();
        assert_eq!(before, after, "read-back tables differ from the in-memory ones (flush {flush})");
        assert_eq!(daily_files(&store), tables[tables.len() - 1]);
    }
    assert_eq!(tables[0], tables[1], "states merged after every segment vs never");
}

/// States merged after every segment, with more workers than the work keeps busy: the tables
/// equal a one-thread run's. A worker waiting inside a rayon join runs queued segments
/// meanwhile, on the same thread; those must neither wait for the day states that thread
/// holds (a deadlock that once left `etl-daily --threads 3` asleep for good) nor lose rows.
/// The deadlock needs a steal at the wrong moment, so this run may miss it (the unit test
/// `a_segment_that_finds_its_slot_held_...` in daily.rs reproduces the re-entry itself); a
/// hang fails the test after 10 minutes instead of stalling the suite.
#[test]
fn merging_states_while_workers_idle_never_deadlocks() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut runs = Vec::new();
        for threads in [1, 6, 6, 6] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let dir = TempDir::new();
            let store = Store::local(dir.0.join("lake"));
            raw_day(&store);
            let report = pool.install(|| run_daily(&store, &options(1))).unwrap();
            assert_eq!(report.daily_from_memory.len(), 1, "{:?}", report.daily_read_back);
            runs.push((threads, report.rows(), daily_files(&store)));
        }
        tx.send(runs).unwrap();
    });
    let runs = rx
        .recv_timeout(std::time::Duration::from_secs(600))
        .expect("run_daily did not finish within 10 minutes (deadlocked?) or panicked");
    let (_, rows, tables) = &runs[0];
    assert!(*rows > 50_000);
    for (threads, r, t) in &runs[1..] {
        assert_eq!((r, t), (rows, tables), "{threads} threads vs 1");
    }
}
