//! Shared inputs for the criterion benches: seeded generated logs, never committed.

use fakelog::{Config, Generator, LineFormat, Step};
use loglake_parser::Timestamp;

/// `lines` generated lines (with `\n`) of one format, seed 42, one day from 2020-05-31.
#[must_use]
pub fn generated(format: LineFormat, lines: u64) -> Vec<u8> {
    let start = Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap_or(Timestamp::from_unix_micros(0, 0));
    let cfg = Config {
        seed: 42,
        start,
        format,
        step: Step::Span { hours: 24.0, lines },
        tz_offset_minutes: 120,
        bad_ratio: 0.0,
    };
    let mut g = Generator::new(&cfg);
    let mut buf = Vec::with_capacity(lines as usize * 260);
    for _ in 0..lines {
        g.next_line(&mut buf);
    }
    buf
}

/// Writes a committed one-day `curated/access_logs` table of `rows` generated lines (one file
/// per hour partition) under `lake`; returns the number of files.
///
/// # Panics
/// On any write error (bench setup, never user input).
#[must_use]
pub fn build_curated(lake: &std::path::Path, rows: u64) -> usize {
    use std::collections::BTreeMap;

    use loglake_catalog::{BatchBuilder, Date, PartitionKey, Table, ACCESS_LOGS};
    use loglake_parser::{lines, Parser, Preset};

    let store = loglake_storage::Store::local(lake);
    let table = Table::new(&store, &ACCESS_LOGS);
    let text = generated(LineFormat::Elf, rows);
    let parser = Parser::preset(Preset::Combined);
    let mut parts: BTreeMap<PartitionKey, BatchBuilder> = BTreeMap::new();
    let mut agents = loglake_pipeline::Features::default();
    for l in lines(&text) {
        let Ok(r) = parser.parse_line(l.bytes()) else { continue };
        let Some(t) = r.time() else { continue };
        let (y, m, d) = t.utc_date();
        let date = u16::try_from(y).ok().and_then(|y| Date::new(y, m, d));
        let Some(key) = date.and_then(|dt| PartitionKey::hour(dt, t.utc_hour())) else { continue };
        let b = parts.entry(key).or_insert_with(|| BatchBuilder::new(&ACCESS_LOGS));
        loglake_pipeline::push_access_row(b, &r, "raw/bench.log.gz", l.number(), &mut agents).expect("row");
    }
    let files: Vec<_> = parts
        .into_iter()
        .map(|(k, b)| table.write_file(k, "bench", &b.finish().expect("batch")).expect("write"))
        .collect();
    table.commit_batch("bench", &files, serde_json::json!({"job": "bench"})).expect("commit");
    files.len()
}
