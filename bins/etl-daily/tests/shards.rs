//! Scale-out: four `etl-daily --shard i/4` processes at once against the S3 test server, then
//! `--aggregates-only`, give exactly the tables of one single-process run.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Output;

use loglake_catalog::{Table, TABLES};
use loglake_storage::{ObjectKey, Store};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every table's committed files (names carry a content hash: equal names, equal bytes).
fn tables(store: &Store) -> BTreeMap<&'static str, Vec<String>> {
    TABLES
        .iter()
        .map(|def| (def.name, Table::new(store, def).snapshot().unwrap().files.into_keys().collect()))
        .collect()
}

/// Eight gzip objects of generated logs in different zones, 0.5% malformed lines.
fn raw_day(store: &Store) {
    let start = loglake_parser::Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap();
    for i in 0..8u64 {
        let cfg = fakelog::Config {
            seed: 100 + i,
            start,
            tz_offset_minutes: [0, 60, -240, 330, 540, -420, 120, -180][i as usize],
            bad_ratio: 0.005,
            step: fakelog::Step::Span { hours: 23.0, lines: 3_000 },
            ..fakelog::Config::default()
        };
        let mut g = fakelog::Generator::new(&cfg);
        let mut text = Vec::new();
        for _ in 0..3_000 {
            g.next_line(&mut text);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let key = ObjectKey::new(format!("raw/access_logs/dt=2020-05-31/server-{i}.log.gz")).unwrap();
        store.put_bytes(&key, &gz.finish().unwrap()).unwrap();
    }
}

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
    raw_day(&store);

    let single = etl(&[]).output().unwrap();
    assert!(single.status.success(), "{}", text(&single));
    let expected = tables(&store);
    assert!(expected["access_logs"].iter().filter(|f| f.contains("dt=2020-05-31")).count() > 8);
    assert!(!expected["daily_traffic"].is_empty() && !expected["rejects"].is_empty());

    // the same lake path again, without the tables (rows name their source object, lake path included)
    for top in ["curated/", "agg/"] {
        let keys: Vec<ObjectKey> = store.list(top).unwrap().into_iter().map(|m| m.key).collect();
        store.delete_many(&keys).unwrap();
    }
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
