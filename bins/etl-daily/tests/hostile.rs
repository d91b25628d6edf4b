//! A catalogue of hostile inputs, each with its expected outcome. Every object is accounted for
//! (lines = rows + rejects, from the run report and from the lake itself), nothing panics, and
//! the only object-level failure is the truncated gzip, which is named.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use loglake_catalog::{ScanOptions, Table, ACCESS_LOGS};
use loglake_storage::Store;
use loglake_testkit::TempDir;
use serde_json::Value;

mod common;

const GOOD: &[u8] = br#"10.0.0.1 - - [31/May/2020:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "Mozilla/5.0""#;

/// A combined line with some fields replaced.
fn line(ts: &[u8], ip: &[u8], req: &[u8], status: &[u8], size: &[u8], ua: &[u8]) -> Vec<u8> {
    [ip, b" - - [", ts, b"] \"", req, b"\" ", status, b" ", size, b" \"-\" \"", ua, b"\""].concat()
}

fn with(f: impl Fn(&mut [&'static [u8]; 6])) -> Vec<u8> {
    let mut v: [&'static [u8]; 6] =
        [b"31/May/2020:10:00:00 +0000", b"10.0.0.1", b"GET /a HTTP/1.1", b"200", b"5", b"Mozilla/5.0"];
    f(&mut v);
    line(v[0], v[1], v[2], v[3], v[4], v[5])
}

fn lines(ls: &[Vec<u8>], end: &[u8]) -> Vec<u8> {
    ls.iter().flat_map(|l| [l.as_slice(), end].concat()).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// (object name, bytes, lines, rows, rejects by reason).
type Case = (&'static str, Vec<u8>, u64, u64, &'static [(&'static str, u64)]);

fn catalogue() -> Vec<Case> {
    let good = || GOOD.to_vec();
    let full = gzip(&lines(&vec![good(); 2000], b"\n"));
    let long_path: &'static [u8] =
        Box::leak([b"GET /".as_slice(), &vec![b'a'; 10 << 20], b" HTTP/1.1"].concat().into_boxed_slice());
    vec![
        // a gzip cut in half: the lines before the cut are kept, the last one cut mid-line
        // (how many depends on the compressor: checked apart, below)
        ("truncated.log.gz", full[..full.len() / 2].to_vec(), 0, 0, &[]),
        ("plain-named.log.gz", lines(&[good(), good(), good()], b"\n"), 3, 3, &[]),
        ("gzip-named.log", gzip(&lines(&[good(), good(), good()], b"\n")), 3, 3, &[]),
        ("zero-bytes.log", Vec::new(), 0, 0, &[]),
        (
            "whitespace.log",
            b"   \n\t\n\n".to_vec(),
            3,
            0,
            &[("empty_field", 1), ("empty_line", 1), ("truncated", 1)],
        ),
        ("ten-mb-line.log", lines(&[with(|v| v[2] = long_path), good()], b"\n"), 2, 2, &[]),
        (
            "nul-bytes.log",
            lines(
                &[
                    with(|v| {
                        v[2] = b"GET /a\x00b HTTP/1.1";
                        v[5] = b"ua\x00x";
                    }),
                    b"\x00\x00\x00".to_vec(),
                ],
                b"\n",
            ),
            2,
            1,
            &[("truncated", 1)],
        ),
        (
            "invalid-utf8.log",
            lines(
                &[
                    with(|v| {
                        v[1] = b"10.0.0.\xff";
                        v[2] = b"GET /\xff\xfe HTTP/1.1";
                        v[5] = b"\xffua";
                    }),
                    with(|v| v[5] = b"\xf0\x28\x8c\x28"),
                    // ident, user, query and referrer too
                    b"10.0.0.3 id\xff us\xfe [31/May/2020:10:00:00 +0000] \"GET /q?a=\xff HTTP/1.1\" 200 5 \"http://r\xc3(/\" \"ua\"".to_vec(),
                ],
                b"\n",
            ),
            3,
            3,
            &[],
        ),
        (
            "crlf-and-mixed.log",
            [good(), b"\r\n".to_vec(), good(), b"\n".to_vec(), good(), b"\r\n".to_vec()].concat(),
            3,
            3,
            &[],
        ),
        (
            "mixed-formats.log",
            lines(
                &[
                    good(),
                    br#"10.0.0.2 - - [31/May/2020:10:00:00 +0000] "GET /c HTTP/1.1" 200 7"#.to_vec(),
                    br#"{"ts": "2020-05-31T10:00:00Z", "path": "/json"}"#.to_vec(),
                    [b"vhost.example:80 ".as_slice(), GOOD].concat(),
                ],
                b"\n",
            ),
            4,
            2,
            &[("unexpected_text", 2)],
        ),
        (
            "timestamps.log",
            lines(
                &[
                    with(|v| v[0] = b"31/Dec/1969:23:59:59 +0000"), // before 1970: a row
                    with(|v| v[0] = b"31/Dec/9999:23:59:59 -0100"), // year 10000 in UTC
                    with(|v| v[0] = b"01/Jan/2500:00:00:00 +0000"), // far future: a row
                    with(|v| v[0] = b"30/Feb/2020:10:00:00 +0000"),
                    with(|v| v[0] = b"31/May/2020:10:00:00 +2400"),
                    with(|v| v[0] = b"31/May/2020:24:00:00 +0000"),
                    with(|v| v[0] = b"31/Foo/2020:10:00:00 +0000"),
                ],
                b"\n",
            ),
            7,
            2,
            &[("bad_date", 3), ("bad_offset", 1), ("time_out_of_range", 1)],
        ),
        (
            "status-and-bytes.log",
            lines(
                &[
                    with(|v| v[3] = b"-"),   // a row with NULL status
                    with(|v| v[3] = b"999"), // a row: three digits
                    with(|v| v[3] = b"20"),
                    with(|v| v[4] = b"+5"),
                    with(|v| v[4] = b"-5"),
                    with(|v| v[4] = b"99999999999999999999999"),
                    with(|v| v[4] = b"18446744073709551615"), // fits u64, not the long column
                ],
                b"\n",
            ),
            7,
            2,
            &[("bad_number", 3), ("bad_status", 1), ("bytes_out_of_range", 1)],
        ),
        (
            "ipv6.log",
            lines(
                &[
                    with(|v| v[1] = b"fe80::1%eth0"),
                    with(|v| v[1] = b"2001:db8::1"),
                    with(|v| v[1] = b"[2001:db8::2]"),
                    // seen again (the worker's cache), the same address written longhand, a name
                    with(|v| v[1] = b"fe80::1%eth0"),
                    with(|v| v[1] = b"2001:DB8:0:0::1"),
                    with(|v| v[1] = b"host.example"),
                ],
                b"\n",
            ),
            6,
            6,
            &[],
        ),
        (
            "control-chars.log",
            lines(
                &[
                    with(|v| v[2] = b"GET /a\x01b\x1b[31m HTTP/1.1"),
                    with(|v| v[2] = br"GET /a\x1bb HTTP/1.1"),
                ],
                b"\n",
            ),
            2,
            2,
            &[],
        ),
    ]
}

fn client_ips(store: &Store) -> Vec<Option<String>> {
    let t = Table::new(store, &ACCESS_LOGS);
    let mut ips = Vec::new();
    t.scan(&t.snapshot().unwrap(), &ScanOptions::columns(["source_object", "client_ip"]), |g| {
        let (obj, ip) = (g.columns[0].str_view(), g.columns[1].str_view());
        for i in 0..g.rows {
            if obj.get(i).unwrap().ends_with("ipv6.log") {
                ips.push(ip.get(i).map(str::to_owned));
            }
        }
        Ok(())
    })
    .unwrap();
    ips.sort();
    ips
}

#[test]
fn every_hostile_input_has_its_expected_outcome() {
    let dir = TempDir::new();
    let lake: &Path = &dir.0;
    let raw = lake.join("raw/access_logs/dt=2020-05-31");
    std::fs::create_dir_all(&raw).unwrap();
    let cases = catalogue();
    for (name, bytes, ..) in &cases {
        std::fs::write(raw.join(name), bytes).unwrap();
    }
    let report_path = lake.join("report.json");
    let out = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
        .args(["--lake", &lake.display().to_string(), "--date", "2020-05-31", "--segment-mib", "1"])
        .args(["--report", &report_path.display().to_string()])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // exit 1: the run completed, and one object (the truncated gzip) is named as incomplete
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("INCOMPLETE") && text.contains("truncated.log.gz"), "{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let objects: BTreeMap<String, &Value> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["object"].as_str().unwrap().rsplit('/').next().unwrap().to_owned(), o))
        .collect();
    assert_eq!(objects.len(), cases.len());
    let from_lake: BTreeMap<String, (u64, u64)> = common::lake_counts(&Store::local(lake))
        .into_iter()
        .map(|(object, counts)| (object.rsplit('/').next().unwrap().to_owned(), counts))
        .collect();
    for (name, _, lines, rows, rejects) in &cases {
        let o = objects[*name];
        if *name == "truncated.log.gz" {
            let (l, r) = (o["lines"].as_u64().unwrap(), o["rows"].as_u64().unwrap());
            assert!(l > 100 && l < 2000 && r == l - 1, "{name}: {o}");
            assert_eq!(from_lake.get(*name).copied(), Some((r, 1)), "{name}");
            assert!(o["error"].as_str().unwrap().contains("truncated gzip"), "{name}: {o}");
            continue;
        }
        let got_rejects: BTreeMap<&str, u64> = o["rejects"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_u64().unwrap()))
            .collect();
        let want_rejects: BTreeMap<&str, u64> = rejects.iter().copied().collect();
        assert_eq!(
            (o["lines"].as_u64(), o["rows"].as_u64()),
            (Some(*lines), Some(*rows)),
            "{name}: lines, rows"
        );
        assert_eq!(got_rejects, want_rejects, "{name}: rejects by reason");
        let (lake_rows, lake_rejects) = from_lake.get(*name).copied().unwrap_or_default();
        assert_eq!(lake_rows + lake_rejects, *lines, "{name}: every line is a row or a reject in the lake");
        assert_eq!(lake_rows, *rows, "{name}: rows in the lake");
        assert_eq!(o["error"].is_null(), *name != "truncated.log.gz", "{name}: {}", o["error"]);
    }
    // zone ids dropped, brackets removed, lowercase and shortest form: every IPv6 client has
    // a canonical client_ip, and a host name has none
    let want = [
        None,
        Some("2001:db8::1"),
        Some("2001:db8::1"),
        Some("2001:db8::2"),
        Some("fe80::1"),
        Some("fe80::1"),
    ];
    assert_eq!(client_ips(&Store::local(lake)), want.map(|w| w.map(str::to_owned)));
}
