//! The `lake` binary end to end: upload to a local lake and to S3 (the test server), parse.

use std::path::Path;
use std::process::Output;

use loglake_testkit::{create_bucket, s3_addr, unique, TempDir, SECRET};

fn lake(args: &[&str]) -> Output {
    loglake_testkit::cli_command(env!("CARGO_BIN_EXE_lake")).args(args).output().expect("run lake")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn sample_files(dir: &Path) -> Vec<String> {
    let a = dir.join("web1_access_log_20200531-125656.log");
    let b = dir.join("web2_access_log_20200601-000102.log");
    std::fs::write(&a, "127.0.0.1 - - [31/May/2020:12:56:56 +0000] \"GET / HTTP/1.0\" 200 5\n").unwrap();
    std::fs::write(&b, "127.0.0.1 - - [01/Jun/2020:00:01:02 +0000] \"GET / HTTP/1.0\" 200 5\n").unwrap();
    vec![a.display().to_string(), b.display().to_string()]
}

#[test]
fn upload_to_a_local_lake_then_rerun_skips() {
    let dir = TempDir::new();
    let files = sample_files(&dir.0);
    let lake_dir = dir.0.join("lake");
    let lake_arg = lake_dir.display().to_string();
    let mut args = vec!["upload", "--lake", &lake_arg];
    args.extend(files.iter().map(String::as_str));
    let out = lake(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 uploaded, 0 skipped"), "{}", text(&out));
    assert!(lake_dir.join("raw/access_logs/dt=2020-05-31/web1_access_log_20200531-125656.log").is_file());
    assert!(lake_dir.join("raw/access_logs/dt=2020-06-01/web2_access_log_20200601-000102.log").is_file());
    let again = lake(&args);
    assert!(text(&again).contains("0 uploaded, 2 skipped"), "{}", text(&again));
}

#[test]
fn upload_to_s3() {
    let bucket = unique("cli");
    create_bucket(&bucket);
    let dir = TempDir::new();
    let files = sample_files(&dir.0);
    let endpoint = format!("http://{}", s3_addr());
    let lake_url = format!("s3://{bucket}/lake");
    let mut args = vec!["upload", "--lake", &lake_url, "--s3-endpoint", &endpoint, "--date", "2020-07-04"];
    args.extend(files.iter().map(String::as_str));
    let out = lake(&args);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "s3://{bucket}/lake/raw/access_logs/dt=2020-07-04/web1_access_log_20200531-125656.log"
        )),
        "{t}"
    );
    let again = lake(&args);
    assert!(text(&again).contains("0 uploaded, 2 skipped"), "{}", text(&again));
    assert!(!t.contains(SECRET) && !text(&again).contains(SECRET));
}

#[test]
fn errors_are_one_line_with_exit_2() {
    let endpoint = format!("http://{}", s3_addr());
    let dir = TempDir::new();
    let files = sample_files(&dir.0);
    let cases: Vec<Vec<&str>> = vec![
        vec!["upload", "--lake", "s3://no-such-bucket-zz/x", "--s3-endpoint", &endpoint, &files[0]],
        vec!["upload", "--lake", "s3://BAD/x", &files[0]],
        vec!["upload", "--lake", "/tmp/x", "/no/such/file.log"],
        vec!["parse", "--format", "%h %Z", &files[0]],
    ];
    for args in cases {
        let out = lake(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("lake: error:"), "{args:?}: {err}");
        assert!(!err.contains(SECRET));
    }
    let out = lake(&["upload", "--lake", "/tmp/x", "--date", "2020-02-30", &files[0]]);
    assert_eq!(out.status.code(), Some(2), "a bad --date is refused by the flag parser");
}

#[test]
fn testdata_parses_as_documented() {
    let root = loglake_testkit::workspace_root().join("testdata/logs");
    let file = |n: &str| root.join(n).display().to_string();
    let (combined, mixed, multi) =
        (file("combined.log"), file("mixed-malformed.log"), file("multi-member.log"));
    let out = lake(&["parse", "--format", "combined", "--fallback", "common", &combined, &mixed, &multi]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    let total = t.split("== total").nth(1).expect("a total section");
    for expected in [
        "lines                24",
        "accepted             17",
        "rejected              7",
        "invalid request lines 4",
        "format 1             1",
    ] {
        assert!(total.contains(expected), "missing `{expected}` in:\n{total}");
    }
    for code in [
        "empty_line",
        "bad_date",
        "bad_offset",
        "bad_status",
        "bad_number",
        "unterminated_quote",
        "unexpected_text",
    ] {
        assert!(total.contains(&format!("{code:<20}         1")), "{code} once:\n{total}");
    }
    // the gzip named .log holds the same 7 lines as combined.log
    let per_file: Vec<&str> = t.split("== ").collect();
    let multi_section = per_file.iter().find(|s| s.contains("multi-member.log")).unwrap();
    assert!(multi_section.contains("accepted              7"), "{multi_section}");
}

#[test]
fn table_admin_commands() {
    use loglake_catalog::{BatchBuilder, PartitionKey, Table, Value, REJECTS};
    let dir = TempDir::new();
    let lake_dir = dir.0.join("lake");
    let store = loglake_storage::Store::local(&lake_dir);
    let table = Table::new(&store, &REJECTS);
    let day = PartitionKey::day("2020-05-31".parse().unwrap());
    for batch in ["raw/a.log", "raw/b.log"] {
        let mut rows = BatchBuilder::new(&REJECTS);
        rows.push(&[
            Value::Str(batch),
            Value::Int(1),
            Value::Str("truncated"),
            Value::Int(3),
            Value::Bytes(b"x"),
            Value::Str("x"),
        ])
        .unwrap();
        let f = table.write_file(day, batch, &rows.finish().unwrap()).unwrap();
        table.commit_batch(batch, &[f], serde_json::json!({})).unwrap();
    }
    // an uncommitted file, as a crashed run leaves
    let mut rows = BatchBuilder::new(&REJECTS);
    rows.push(&[
        Value::Str("c"),
        Value::Int(1),
        Value::Str("truncated"),
        Value::Null,
        Value::Bytes(b"y"),
        Value::Str("y"),
    ])
    .unwrap();
    table.write_file(day, "crashed", &rows.finish().unwrap()).unwrap();

    let lake_arg = lake_dir.display().to_string();
    let out = lake(&["tables", "--lake", &lake_arg]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with("curated/rejects")
            && l.split_whitespace().collect::<Vec<_>>() == ["curated/rejects", "2", "2", "2", "1"]),
        "{t}"
    );
    assert!(t.lines().any(|l| l.starts_with("curated/access_logs") && l.trim_end().ends_with('-')), "{t}");
    let t = text(&lake(&["partitions", "rejects", "--lake", &lake_arg]));
    assert!(
        t.contains("dt=2020-05-31") && t.lines().nth(1).unwrap().split_whitespace().nth(2) == Some("2"),
        "{t}"
    );
    let t = text(&lake(&["history", "curated/rejects", "--lake", &lake_arg]));
    assert_eq!(t.lines().count(), 3, "{t}");
    assert!(t.contains("CREATE TABLE") && t.contains("raw/b.log"), "{t}");
    let out = lake(&["history", "nope", "--lake", &lake_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no table `nope`"));
    let t = text(&lake(&["ddl", "--engine", "athena", "--lake", "s3://bkt/lake"]));
    assert!(
        t.contains("'projection.hour.digits' = '2'") && t.contains("s3://bkt/lake/curated/rejects"),
        "{t}"
    );
    let t = text(&lake(&["vacuum", "--lake", &lake_arg, "--min-age-minutes", "0", "--dry-run"]));
    assert!(t.contains("1 orphan file(s) (dry run"), "{t}");
    let t = text(&lake(&["vacuum", "--lake", &lake_arg, "--min-age-minutes", "0"]));
    assert!(t.contains("1 orphan file(s) deleted"), "{t}");
    let t = text(&lake(&["vacuum", "--lake", &lake_arg, "--min-age-minutes", "0"]));
    assert!(t.contains("0 orphan file(s)"), "{t}");
}
