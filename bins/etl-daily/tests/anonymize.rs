//! `--anonymize-ip`: no full client address reaches the lake, and the hash key is never printed.

use std::path::Path;

use loglake_catalog::{ScanOptions, Table, ACCESS_LOGS, REJECTS};
use loglake_storage::Store;
use loglake_testkit::TempDir;

const KEY: &str = "k3y-that-must-never-be-logged-0123";

fn lake_with_raw(dir: &Path) -> std::path::PathBuf {
    let lake = dir.join("lake");
    let raw = lake.join("raw/access_logs/dt=2020-05-31");
    std::fs::create_dir_all(&raw).unwrap();
    let logs = loglake_testkit::workspace_root().join("testdata/logs");
    for f in ["combined.log", "mixed-malformed.log"] {
        std::fs::copy(logs.join(f), raw.join(f)).unwrap();
    }
    // a reject that starts with an address, and an IPv6 client
    std::fs::write(
        raw.join("extra.log"),
        "198.51.100.77 - - [31/May/2020:10:00:00 +0000] \"GET /x HTTP/1.1\" 200 oops\n\
         2001:db8:1:2::5 - - [31/May/2020:10:00:01 +0000] \"GET /y HTTP/1.1\" 200 5 \"-\" \"ua\"\n",
    )
    .unwrap();
    lake
}

/// Every value of some text/binary columns of a table.
fn values(lake: &Path, def: &'static loglake_catalog::TableDef, columns: &[&'static str]) -> Vec<Vec<u8>> {
    let store = Store::local(lake);
    let t = Table::new(&store, def);
    let mut out = Vec::new();
    t.scan(&t.snapshot().unwrap(), &ScanOptions::columns(columns.iter().copied()), |g| {
        for c in &g.columns {
            for i in 0..g.rows {
                if let Some(s) = c.str(i) {
                    out.push(s.as_bytes().to_vec());
                } else if let Some(b) = c.bytes(i) {
                    out.push(b.to_vec());
                }
            }
        }
        Ok(())
    })
    .unwrap();
    out
}

fn run(lake: &Path, extra: &[&str]) -> String {
    let out = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
        .args(["--lake", &lake.display().to_string(), "--date", "2020-05-31"])
        .args(extra)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn truncate_keeps_networks_only() {
    let dir = TempDir::new();
    let lake = lake_with_raw(&dir.0);
    run(&lake, &["--anonymize-ip", "truncate"]);
    let ips = values(&lake, &ACCESS_LOGS, &["client_ip"]);
    assert!(ips.len() > 10);
    for ip in &ips {
        let ip = String::from_utf8_lossy(ip);
        assert!(ip.ends_with(".0") || ip.ends_with("::"), "not truncated: {ip}");
    }
    assert!(ips.iter().any(|ip| ip == b"2001:db8:1::"));
    for v in values(&lake, &ACCESS_LOGS, &["client"]) {
        assert!(!v.windows(13).any(|w| w == b"198.51.100.77"), "{}", String::from_utf8_lossy(&v));
    }
    let raw = values(&lake, &REJECTS, &["raw_line", "raw_text"]);
    assert!(raw.iter().any(|l| l.starts_with(b"198.51.100.0 ")), "the reject's address is truncated");
    assert!(!raw.iter().any(|l| l.starts_with(b"198.51.100.77")));
}

#[test]
fn keyed_hash_hides_addresses_and_the_key() {
    let dir = TempDir::new();
    let lake = lake_with_raw(&dir.0);
    let key_file = dir.0.join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let logs =
        run(&lake, &["--anonymize-ip", "hash", "--anonymize-key-file", &key_file.display().to_string()]);
    assert!(!logs.contains(KEY), "the key appeared in the output or the trace logs");
    let ips = values(&lake, &ACCESS_LOGS, &["client_ip", "client"]);
    assert!(ips.len() > 10);
    for v in &ips {
        assert!(
            v.len() == 32 && v.iter().all(u8::is_ascii_hexdigit),
            "not a hash: {}",
            String::from_utf8_lossy(v)
        );
    }
    // stable: a second lake with the same key gets the same tokens
    let again = TempDir::new();
    let lake2 = lake_with_raw(&again.0);
    run(&lake2, &["--anonymize-ip", "hash", "--anonymize-key-file", &key_file.display().to_string()]);
    let mut a = values(&lake, &ACCESS_LOGS, &["client_ip"]);
    let mut b = values(&lake2, &ACCESS_LOGS, &["client_ip"]);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn hash_without_a_good_key_is_refused() {
    let dir = TempDir::new();
    let lake = lake_with_raw(&dir.0);
    let short = dir.0.join("short");
    std::fs::write(&short, "abc").unwrap();
    for args in [
        vec!["--anonymize-ip", "hash"],
        vec!["--anonymize-ip", "hash", "--anonymize-key-file", short.to_str().unwrap()],
    ] {
        let out = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
            .args(["--lake", &lake.display().to_string(), "--date", "2020-05-31"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!lake.join("curated").exists(), "{args:?}: nothing may be written without anonymization");
    }
}
