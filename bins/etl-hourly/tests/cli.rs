//! `etl-hourly` end to end on a small curated table: report, idempotent rerun, errors.

use std::process::{Command, Output};

use loglake_catalog::{BatchBuilder, PartitionKey, Table, ACCESS_LOGS};
use loglake_parser::{Parser, Preset};
use loglake_testkit::TempDir;

fn etl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etl-hourly")).args(args).env_remove("LOGLAKE_LAKE").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn hourly_run_report_rerun_and_errors() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = loglake_storage::Store::local(&lake);
    let mut agents = loglake_pipeline::Features::default();
    let table = Table::new(&store, &ACCESS_LOGS);
    let parser = Parser::preset(Preset::Combined);
    let mut b = BatchBuilder::new(&ACCESS_LOGS);
    for (i, line) in [
        "192.0.2.1 - - [31/May/2020:07:10:00 +0200] \"GET / HTTP/1.1\" 200 100 \"-\" \"curl/8.4.0\"",
        "192.0.2.2 - - [31/May/2020:05:20:00 +0000] \"POST /api HTTP/1.1\" 500 - \"-\" \"Mozilla/5.0\"",
    ]
    .iter()
    .enumerate()
    {
        let r = parser.parse_line(line.as_bytes()).unwrap();
        loglake_pipeline::push_access_row(&mut b, &r, "raw/x.log", i as u64 + 1, &mut agents).unwrap();
    }
    let hour5 = PartitionKey::hour("2020-05-31".parse().unwrap(), 5).unwrap();
    let f = table.write_file(hour5, "raw/x.log", &b.finish().unwrap()).unwrap();
    table.commit_batch("raw/x.log", &[f], serde_json::json!({})).unwrap();

    let lake_arg = lake.display().to_string();
    let report = dir.0.join("report.json");
    let report_arg = report.display().to_string();
    let out = etl(&["--lake", &lake_arg, "--date", "2020-05-31", "--with-daily", "--report", &report_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("24 hour(s)") && text(&out).contains("agg/hourly_traffic committed"),
        "{}",
        text(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["hours"].as_array().unwrap().len(), 24);
    assert_eq!(json["hourly_traffic"]["committed"], true);
    assert_eq!(json["daily"]["daily_traffic"]["committed"], true);
    // the hour with both requests, and 23 rows of zeros
    let hourly = Table::new(&store, &loglake_catalog::HOURLY_TRAFFIC).snapshot().unwrap();
    assert_eq!(hourly.files.len(), 24);
    assert_eq!(hourly.num_records(), 24);

    let again = etl(&["--lake", &lake_arg, "--hour", "2020-05-31T05"]);
    assert!(text(&again).contains("unchanged"), "{}", text(&again));

    for args in [
        vec!["--lake", &lake_arg],
        vec!["--lake", &lake_arg, "--hour", "2020-05-31T25"],
        vec!["--lake", &lake_arg, "--date", "2020-02-30"],
        vec!["--lake", "s3://BAD", "--date", "2020-05-31"],
    ] {
        let out = etl(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}
