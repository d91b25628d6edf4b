//! Scale-out: four `etl-daily --shard i/4` processes at once against the S3 test server, then
//! `--aggregates-only`, give exactly the tables of one single-process run.

mod common;
use common::{clear_tables, generated_day, tables, text};

#[test]
fn four_concurrent_shards_then_aggregates_equal_one_process() {
    let store = loglake_testkit::s3_store();
    let loglake_storage::Location::S3 { bucket, prefix } = store.location().clone() else { unreachable!() };
    let url = format!("s3://{bucket}/{prefix}");
    let endpoint = format!("http://{}", loglake_testkit::s3_addr());
    let etl = |extra: &[&str]| {
        let mut c = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"));
        c.args(["--lake", &url, "--s3-endpoint", &endpoint, "--date", "2020-05-31", "--threads", "1"])
            .args(extra);
        c
    };
    let zones = [0, 60, -240, 330, 540, -420, 120, -180];
    let objects: Vec<(u64, i16)> = zones.iter().enumerate().map(|(i, &tz)| (100 + i as u64, tz)).collect();
    generated_day(&store, &objects, 3_000, 0.005);

    let single = etl(&[]).output().unwrap();
    assert!(single.status.success(), "{}", text(&single));
    let expected = tables(&store);
    assert!(expected["access_logs"].iter().filter(|f| f.contains("dt=2020-05-31")).count() > 8);
    assert!(!expected["daily_traffic"].is_empty() && !expected["rejects"].is_empty());

    // the same lake path again, without the tables
    clear_tables(&store);
    assert!(tables(&store).values().all(Vec::is_empty));

    let children: Vec<_> = (0..4)
        .map(|i| etl(&["--shard", &format!("{i}/4")]).stdout(std::process::Stdio::piped()).spawn().unwrap())
        .collect();
    let mut objects = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let summary = String::from_utf8_lossy(&out.stdout).into_owned();
        objects += summary
            .split(" object(s)")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .unwrap()
            .parse::<u32>()
            .unwrap();
    }
    assert_eq!(objects, 8, "every object in exactly one shard");
    // shards do not build the daily tables; the final step does
    assert!(tables(&store)["daily_traffic"].is_empty());
    let agg = etl(&["--aggregates-only"]).output().unwrap();
    assert!(agg.status.success(), "{}", text(&agg));
    assert_eq!(tables(&store), expected, "sharded tables differ from a single-process run");
}

#[test]
fn shard_syntax_is_checked() {
    for bad in ["4/4", "1/0", "x/2", "3"] {
        let out = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
            .args(["--lake", "/nonexistent", "--date", "2020-05-31", "--shard", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(text(&out).contains("shard"), "{bad}: {}", text(&out));
    }
}
