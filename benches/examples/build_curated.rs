//! Builds a `curated/access_logs` table of one generated day: `build_curated LAKE_DIR ROWS`.
//! Used by `scripts/bench-aggregate.sh`.
#![allow(clippy::print_stdout, reason = "a bench tool prints what it built")]

use std::collections::BTreeMap;

use fakelog::LineFormat;
use loglake_benches::generated;
use loglake_catalog::{BatchBuilder, Date, PartitionKey, Table, ACCESS_LOGS};
use loglake_parser::{lines, Parser, Preset};

fn main() {
    let mut args = std::env::args().skip(1);
    let lake = args.next().unwrap_or_else(|| "/tmp/loglake-agg-bench".into());
    let rows: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let store = loglake_storage::Store::local(&lake);
    let table = Table::new(&store, &ACCESS_LOGS);
    let text = generated(LineFormat::Elf, rows);
    let parser = Parser::preset(Preset::Combined);
    let mut parts: BTreeMap<PartitionKey, BatchBuilder> = BTreeMap::new();
    let mut agents = loglake_pipeline::AgentCache::default();
    for l in lines(&text) {
        let Ok(r) = parser.parse_line(l.bytes()) else { continue };
        let Some(t) = r.time() else { continue };
        let (y, m, d) = t.utc_date();
        let Some(key) = Date::new(y as u16, m, d).and_then(|dt| PartitionKey::hour(dt, t.utc_hour())) else {
            continue;
        };
        let b = parts.entry(key).or_insert_with(|| BatchBuilder::new(&ACCESS_LOGS));
        loglake_pipeline::push_access_row(b, &r, "raw/bench.log.gz", l.number(), &mut agents).expect("row");
    }
    let files: Vec<_> = parts
        .into_iter()
        .map(|(k, b)| table.write_file(k, "bench", &b.finish().expect("batch")).expect("write"))
        .collect();
    table.commit_batch("bench", &files, serde_json::json!({"job": "bench"})).expect("commit");
    println!("built {lake}: {rows} rows in {} files", files.len());
}
