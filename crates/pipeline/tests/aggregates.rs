//! The aggregate tables against an oracle: DuckDB computing the same from the curated Parquet.
//! Also: reruns give identical tables, and late rows change only their hour and day.

use std::collections::BTreeMap;
use std::process::Command;

use fakelog::{Config, Generator, LineFormat, Step};
use loglake_aggregate::{refresh_days, refresh_hours};
use loglake_catalog::{BatchBuilder, CommitOutcome, Date, PartitionKey, Table, ACCESS_LOGS, HOURLY_TRAFFIC};
use loglake_parser::{lines, LogFormat, ParserConfig, Preset, Timestamp};
use loglake_pipeline::push_access_row;
use loglake_storage::Store;
use loglake_testkit::TempDir;
use serde_json::json;

/// Parses `text` and commits its rows to the curated table as one batch (a mini etl-daily).
fn ingest(store: &Store, source: &str, text: &[u8]) {
    let parser = ParserConfig::default()
        .fallback(LogFormat::preset(Preset::Common))
        .fallback(LogFormat::preset(Preset::VhostCombined))
        .allow_trailing_fields(true)
        .build();
    let table = Table::new(store, &ACCESS_LOGS);
    let mut parts: BTreeMap<PartitionKey, BatchBuilder> = BTreeMap::new();
    let mut agents = loglake_pipeline::Features::default();
    for line in lines(text) {
        let Ok(r) = parser.parse_line(line.bytes()) else { continue };
        let t = r.time().unwrap();
        let (y, m, d) = t.utc_date();
        let dt = Date::new(u16::try_from(y).unwrap(), m, d).unwrap();
        let key = PartitionKey::hour(dt, t.utc_hour()).unwrap();
        let b = parts.entry(key).or_insert_with(|| BatchBuilder::new(&ACCESS_LOGS));
        push_access_row(b, &r, source, line.number(), &mut agents).unwrap();
    }
    let files: Vec<_> =
        parts.into_iter().map(|(k, b)| table.write_file(k, source, &b.finish().unwrap()).unwrap()).collect();
    table.commit_batch(source, &files, json!({"job": "test"})).unwrap();
}

fn generated(seed: u64, tz: i16, lines: u64) -> Vec<u8> {
    let start = Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap();
    let cfg = Config {
        seed,
        start,
        format: LineFormat::Elf,
        step: Step::Span { hours: 23.0, lines },
        tz_offset_minutes: tz,
        bad_ratio: 0.01,
    };
    let mut g = Generator::new(&cfg);
    let mut buf = Vec::new();
    for _ in 0..lines {
        g.next_line(&mut buf);
    }
    buf
}

/// Runs the DuckDB oracle over a lake and asserts it agrees.
fn assert_oracle_agrees(lake: &std::path::Path) {
    let python = loglake_testkit::workspace_root().join(".venv/bin/python");
    assert!(python.exists(), "the oracle needs .venv: run `bash scripts/test-env.sh` (or scripts/test.sh)");
    let out = Command::new(&python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle.py"))
        .arg(lake)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every count exact"));
}

fn day() -> Date {
    "2020-05-31".parse().unwrap()
}

fn all_hours() -> Vec<(Date, u8)> {
    (0..24).map(|h| (day(), h)).collect()
}

#[expect(
    clippy::disallowed_types,
    reason = "reads the one gzipped corpus file; the pipeline's reader is not built yet"
)]
fn read_corpus(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let raw = std::fs::read(path).unwrap();
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return raw;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
    out
}

/// Every (date, hour) the curated table has rows for.
fn curated_hours(store: &Store) -> Vec<(Date, u8)> {
    let snap = Table::new(store, &ACCESS_LOGS).snapshot().unwrap();
    let mut hours: Vec<(Date, u8)> = snap
        .files
        .keys()
        .filter_map(|p| PartitionKey::parse(p.rsplit_once('/')?.0).ok())
        .map(|k| (k.dt, k.hour.unwrap()))
        .collect();
    hours.sort_unstable();
    hours.dedup();
    hours
}

#[test]
fn aggregates_match_duckdb_on_the_shared_corpus() {
    let corpus = loglake_testkit::workspace_root().join("../shared/corpus");
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the shared corpus is missing at {}", corpus.display());
    for f in &files {
        ingest(&store, &f.display().to_string(), &read_corpus(f));
    }
    let hours = curated_hours(&store);
    assert!(hours.len() > 50, "{} hours", hours.len());
    refresh_hours(&store, &hours, "test").unwrap();
    let mut dates: Vec<Date> = hours.iter().map(|(d, _)| *d).collect();
    dates.dedup();
    refresh_days(&store, &dates, 1000, "test").unwrap();
    assert_oracle_agrees(&lake);
}

#[test]
fn aggregates_match_duckdb_and_reruns_change_nothing() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    ingest(&store, "raw/a.log", &generated(1, 120, 20_000));
    ingest(&store, "raw/b.log", &generated(2, -420, 15_000));
    let testdata = loglake_testkit::workspace_root().join("testdata/logs/combined.log");
    ingest(&store, "raw/combined.log", &std::fs::read(testdata).unwrap());

    assert!(matches!(refresh_hours(&store, &all_hours(), "test").unwrap(), CommitOutcome::Committed { .. }));
    let daily = refresh_days(&store, &[day()], 1000, "test").unwrap();
    assert_eq!(daily.len(), 5);

    assert_oracle_agrees(&lake);

    // a rerun over the same curated rows commits nothing
    assert!(matches!(refresh_hours(&store, &all_hours(), "test").unwrap(), CommitOutcome::Unchanged { .. }));
    for (def, outcome) in refresh_days(&store, &[day()], 1000, "test").unwrap() {
        assert!(matches!(outcome, CommitOutcome::Unchanged { .. }), "{}: {outcome:?}", def.path);
    }

    // late data for 05:xx: only that hour's row changes
    let before = Table::new(&store, &HOURLY_TRAFFIC).snapshot().unwrap();
    let late =
        b"198.51.100.9 - - [31/May/2020:05:30:00 +0000] \"GET /late HTTP/1.1\" 200 7 \"-\" \"late-agent\"\n";
    ingest(&store, "raw/late.log", late);
    refresh_hours(&store, &all_hours(), "test").unwrap();
    let after = Table::new(&store, &HOURLY_TRAFFIC).snapshot().unwrap();
    let changed: Vec<&String> = after.files.keys().filter(|k| !before.files.contains_key(*k)).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("dt=2020-05-31/hour=05/"), "{changed:?}");
}
