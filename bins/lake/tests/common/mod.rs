//! A lake for the `lake` tests, built by the real jobs.

use std::path::Path;

use loglake_catalog::Date;
use loglake_parser::{LogFormat, ParserConfig, Preset};
use loglake_pipeline::{run_daily, run_hourly, DailyOptions};

/// A lake with one day of the committed sample logs, ingested and aggregated.
pub(crate) fn lake(dir: &Path) -> Date {
    let raw = dir.join("raw/access_logs/dt=2020-05-31");
    std::fs::create_dir_all(&raw).unwrap();
    let logs = loglake_testkit::workspace_root().join("testdata/logs");
    for f in ["combined.log", "mixed-malformed.log", "multi-member.log"] {
        std::fs::copy(logs.join(f), raw.join(f)).unwrap();
    }
    let store = loglake_storage::Store::local(dir);
    let date: Date = "2020-05-31".parse().unwrap();
    let parser =
        ParserConfig::new(LogFormat::preset(Preset::Combined)).fallback(LogFormat::preset(Preset::Common));
    run_daily(&store, &DailyOptions::new(vec![date], parser)).unwrap();
    let hours: Vec<(Date, u8)> = (0..24).map(|h| (date, h)).collect();
    run_hourly(&store, &hours, false, 1000).unwrap();
    date
}
