//! `etl-daily` end to end: committed sample logs, a truncated gzip, a rerun, a reprocess, late
//! data — on a local lake and on S3 (the test server) — with the accounting checked from the lake.

use std::io::Write;
use std::process::Output;

use loglake_catalog::{Table, ACCESS_LOGS, DAILY_TRAFFIC, REJECTS};
use loglake_storage::{ObjectKey, Store};
use loglake_testkit::{TempDir, SECRET};

mod common;
use common::{lake_counts, text};

fn etl(args: &[&str]) -> Output {
    loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily")).args(args).output().unwrap()
}

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(loglake_testkit::workspace_root().join("testdata/logs").join(name)).unwrap()
}

fn truncated_gzip() -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..20_000 {
        writeln!(
            e,
            "10.0.0.{} - - [31/May/2020:10:{:02}:00 +0000] \"GET /t/{i} HTTP/1.1\" 200 {i} \"-\" \"x\"",
            i % 250,
            i % 60
        )
        .unwrap();
    }
    let gz = e.finish().unwrap();
    gz[..gz.len() / 2].to_vec()
}

fn put(store: &Store, key: &str, data: &[u8]) {
    store.put_bytes(&ObjectKey::new(key).unwrap(), data).unwrap();
}

fn scenario(store: &Store, lake_args: &[&str]) {
    put(store, "raw/access_logs/dt=2020-05-31/combined.log", &testdata("combined.log"));
    put(store, "raw/access_logs/dt=2020-05-31/mixed-malformed.log", &testdata("mixed-malformed.log"));
    put(store, "raw/access_logs/dt=2020-05-31/multi-member.log", &testdata("multi-member.log"));
    put(store, "raw/access_logs/dt=2020-05-31/cut.log.gz", &truncated_gzip());
    let dir = TempDir::new();
    let report = dir.0.join("r.json");
    let report_arg = report.display().to_string();
    let mut args = lake_args.to_vec();
    args.extend(["--date", "2020-05-31", "--report", &report_arg]);

    let out = etl(&args);
    // the truncated object is named and fails the run, after everything readable is committed
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("INCOMPLETE") && text(&out).contains("cut.log.gz"), "{}", text(&out));
    assert!(!text(&out).contains(SECRET));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let by_name = |n: &str| {
        r["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["object"].as_str().unwrap().ends_with(n))
            .unwrap()
            .clone()
    };
    assert_eq!(
        (by_name("/combined.log")["lines"].as_u64(), by_name("/combined.log")["rows"].as_u64()),
        (Some(7), Some(7))
    );
    let mixed = by_name("mixed-malformed.log");
    // the default (not --strict) also accepts the cut-off user agent line as a common record
    // with trailing text; the other 6 bad lines are one reject of each reason
    assert_eq!((mixed["lines"].as_u64(), mixed["rows"].as_u64()), (Some(10), Some(4)));
    assert_eq!(mixed["rejects"].as_object().unwrap().len(), 6, "one of each reason: {mixed}");
    assert_eq!(by_name("multi-member.log")["rows"].as_u64(), Some(7));
    let cut = by_name("cut.log.gz");
    assert!(cut["error"].as_str().unwrap().contains("corrupt or truncated gzip"), "{cut}");
    assert!(cut["lines"].as_u64().unwrap() > 1000, "the readable part is kept: {cut}");

    // nothing lost: lines read = rows + rejects for every object, counted in the lake
    let counts = lake_counts(store);
    for o in r["objects"].as_array().unwrap() {
        let name = o["object"].as_str().unwrap();
        let (rows, rejects) = counts.get(name).copied().unwrap_or_default();
        assert_eq!(rows + rejects, o["lines"].as_u64().unwrap(), "{name}");
        assert_eq!(rows, o["rows"].as_u64().unwrap(), "{name}");
    }
    // the +0200 line at 07:12:01 local is in hour 05 UTC; the -0700 one in hour 05 too
    assert!(r["touched_hours"].as_array().unwrap().iter().any(|h| h == "2020-05-31T05"));

    // a rerun skips every object and changes nothing
    let v_before = Table::new(store, &ACCESS_LOGS).snapshot().unwrap().version;
    let again = etl(&args);
    assert!(text(&again).contains("4 skipped"), "{}", text(&again));
    assert_eq!(Table::new(store, &ACCESS_LOGS).snapshot().unwrap().version, v_before);
    // --reprocess rebuilds to the same files
    let mut re = args.clone();
    re.push("--reprocess");
    let _ = etl(&re);
    let snap = Table::new(store, &ACCESS_LOGS).snapshot().unwrap();
    assert_eq!(lake_counts(store), counts, "reprocess gives identical tables");
    assert_eq!(snap.version, v_before, "reprocessing the same inputs commits nothing");

    // late data: a file arriving on 06-01 with 05-31 events lands in 05-31 and changes its day
    let daily_before = Table::new(store, &DAILY_TRAFFIC).snapshot().unwrap();
    put(
        store,
        "raw/access_logs/dt=2020-06-01/late.log",
        b"192.0.2.99 - - [31/May/2020:23:59:59 +0000] \"GET /late HTTP/1.1\" 200 9 \"-\" \"late\"\n",
    );
    let mut late_args = lake_args.to_vec();
    late_args.extend(["--date", "2020-06-01"]);
    let out = etl(&late_args);
    assert!(out.status.success(), "{}", text(&out));
    let snap = Table::new(store, &ACCESS_LOGS).snapshot().unwrap();
    assert!(snap.files.keys().any(|k| k.starts_with("dt=2020-05-31/hour=23/")), "late row in its event hour");
    let daily_after = Table::new(store, &DAILY_TRAFFIC).snapshot().unwrap();
    assert_ne!(daily_before.files, daily_after.files, "the 05-31 daily row was recomputed");
}

#[test]
fn local_lake() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    let lake_arg = lake.display().to_string();
    scenario(&store, &["--lake", &lake_arg]);
}

#[test]
fn s3_lake() {
    let store = loglake_testkit::s3_store();
    let loglake_storage::Location::S3 { bucket, prefix } = store.location().clone() else { unreachable!() };
    let url = format!("s3://{bucket}/{prefix}");
    let endpoint = format!("http://{}", loglake_testkit::s3_addr());
    scenario(&store, &["--lake", &url, "--s3-endpoint", &endpoint]);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake").display().to_string();
    let endpoint = format!("http://{}", loglake_testkit::s3_addr());
    let missing_bucket = format!("s3://{}/lake", loglake_testkit::unique("nobucket"));
    // a port nothing listens on
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for (args, says) in [
        (vec!["--lake", &lake], "--date"),
        (vec!["--lake", &lake, "--date", "2020-13-01"], "2020-13-01"),
        (vec!["--lake", &lake, "--date", "2020-02-30"], "2020-02-30"),
        (vec!["--lake", &lake, "--date", "2020-05-31", "--format", "%h %Q"], "%Q"),
        (vec!["--lake", &lake, "--date", "2020-05-31", "--shard", "4/4"], "shard"),
        (vec!["--lake", &lake, "--date", "2020-05-31", "--compression", "lz4"], "lz4"),
        (vec!["--lake", &missing_bucket, "--s3-endpoint", &endpoint, "--date", "2020-05-31"], "bucket"),
        (
            vec!["--lake", "s3://loglake-test-bucket/lake", "--s3-endpoint", &dead, "--date", "2020-05-31"],
            "s3://loglake-test-bucket/lake",
        ),
    ] {
        let out = etl(&args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(says), "{args:?}: the error should name {says}: {all}");
        // one error line (retries before it are logged as warnings: visible, never silent)
        let errors =
            all.lines().filter(|l| l.starts_with("etl-daily: error") || l.starts_with("error:")).count();
        assert_eq!(errors, 1, "{args:?}: one error line: {all}");
        assert!(
            all.lines().all(|l| !l.contains('\u{1b}')),
            "{args:?}: no colour codes off a terminal: {all}"
        );
        assert!(!all.contains(SECRET) && !all.contains("panicked"), "{args:?}: {all}");
    }
    // no credentials at all: a clear error, not a hang or a panic
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_etl-daily"))
        .args(["--lake", "s3://loglake-test-bucket/lake", "--s3-endpoint", &endpoint, "--date", "2020-05-31"])
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("HOME", &dir.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).to_lowercase().contains("credential"), "{}", text(&out));
}

#[test]
fn snappy_files_hold_the_same_rows() {
    let dir = TempDir::new();
    let lake = dir.0.join("lake");
    let store = Store::local(&lake);
    common::generated_day(&store, &[(3, 0), (4, 120)], 5_000, 0.01);
    let lake_arg = lake.display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["--lake", lake_arg.as_str(), "--date", "2020-05-31"];
        args.extend(extra);
        let out = etl(&args);
        assert!(out.status.success(), "{}", text(&out));
        let files = common::tables(&store);
        let rows = [&ACCESS_LOGS, &REJECTS].map(|def| common::table_rows(&store, def));
        let bytes: u64 = store.list("curated/").unwrap().iter().map(|m| m.size).sum();
        common::clear_tables(&store);
        (files, rows, bytes)
    };
    let (zstd_files, zstd_rows, zstd_bytes) = run(&[]);
    let (snappy_files, snappy_rows, snappy_bytes) = run(&["--compression", "snappy"]);
    assert!(zstd_rows[0].len() > 9_000 && !zstd_rows[1].is_empty(), "{}", zstd_rows[1].len());
    assert_eq!(snappy_rows, zstd_rows, "the same rows and rejects, whatever the codec");
    assert_ne!(snappy_files["access_logs"], zstd_files["access_logs"], "other bytes, other file names");
    assert!(snappy_bytes > zstd_bytes, "snappy {snappy_bytes} B vs zstd {zstd_bytes} B");
    let (level9_files, level9_rows, _) = run(&["--compression", "zstd:9"]);
    assert_eq!(level9_rows, zstd_rows);
    assert_ne!(level9_files["access_logs"], zstd_files["access_logs"]);
}
