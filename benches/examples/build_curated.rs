//! Builds a `curated/access_logs` table of one generated day: `build_curated LAKE_DIR ROWS`.
//! Used by `scripts/bench-aggregate.sh`.
#![allow(clippy::print_stdout, reason = "a bench tool prints what it built")]

fn main() {
    let mut args = std::env::args().skip(1);
    let lake = args.next().unwrap_or_else(|| "/tmp/loglake-agg-bench".into());
    let rows: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let files = loglake_benches::build_curated(std::path::Path::new(&lake), rows);
    println!("built {lake}: {rows} rows in {files} files");
}
