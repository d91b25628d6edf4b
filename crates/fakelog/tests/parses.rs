//! Generated logs parse 100%, exactly the injected bad lines are rejected, and the
//! distributions are the original generator's.

use std::collections::BTreeMap;
use std::io::Read;

use fakelog::{write_file, BadKind, Config, Generator, LineFormat, LineKind, Output, Step};
use loglake_parser::{lines, ErrorKind, Parser, Preset, Timestamp};

fn start() -> Timestamp {
    Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap()
}

#[test]
fn clean_output_parses_completely() {
    for (format, preset) in [(LineFormat::Elf, Preset::Combined), (LineFormat::Clf, Preset::Common)] {
        let cfg = Config { seed: 5, start: start(), format, tz_offset_minutes: 330, ..Config::default() };
        let mut g = Generator::new(&cfg);
        let mut buf = Vec::new();
        for _ in 0..50_000 {
            assert_eq!(g.next_line(&mut buf), LineKind::Good);
        }
        let parser = Parser::preset(preset);
        let mut n = 0;
        for line in lines(&buf) {
            let r = parser.parse_line(line.bytes()).unwrap_or_else(|e| {
                panic!("line {}: {e}: {}", line.number(), String::from_utf8_lossy(line.bytes()))
            });
            assert!(r.client_ip().is_some() && r.is_valid_request());
            assert_eq!(r.time().unwrap().offset_minutes(), 330);
            n += 1;
        }
        assert_eq!(n, 50_000);
    }
}

#[test]
fn exactly_the_injected_lines_are_rejected() {
    let cfg = Config { seed: 11, start: start(), bad_ratio: 0.05, ..Config::default() };
    let mut g = Generator::new(&cfg);
    let mut buf = Vec::new();
    let kinds: Vec<LineKind> = (0..40_000).map(|_| g.next_line(&mut buf)).collect();
    // the strict combined parser: a truncated line never parses, as it loses at least the
    // closing quote of the user agent
    let parser = Parser::preset(Preset::Combined);
    let mut seen: BTreeMap<BadKind, usize> = BTreeMap::new();
    let mut count = 0;
    for (line, kind) in lines(&buf).zip(&kinds) {
        count += 1;
        let result = parser.parse_line(line.bytes());
        match kind {
            LineKind::Good => assert!(result.is_ok(), "line {}: {result:?}", line.number()),
            LineKind::Bad(k) => {
                let e = result.expect_err("injected bad line parsed");
                *seen.entry(*k).or_default() += 1;
                let expected = match k {
                    BadKind::Empty => Some(ErrorKind::EmptyLine),
                    BadKind::BadDate => Some(ErrorKind::InvalidDate),
                    BadKind::BadOffset => Some(ErrorKind::InvalidOffset),
                    BadKind::BadStatus => Some(ErrorKind::InvalidStatus),
                    BadKind::MissingField => Some(ErrorKind::UnexpectedText),
                    _ => None,
                };
                if let Some(want) = expected {
                    assert_eq!(e.kind(), want, "line {}", line.number());
                }
            }
        }
    }
    assert_eq!(count, kinds.len(), "every generated line is one line");
    assert_eq!(seen.len(), BadKind::ALL.len(), "every kind injected: {seen:?}");
    let bad: usize = seen.values().sum();
    assert!((1_700..2_300).contains(&bad), "{bad}");
}

#[test]
fn distributions_match_the_original() {
    let cfg = Config { seed: 3, start: start(), ..Config::default() };
    let mut g = Generator::new(&cfg);
    let mut buf = Vec::new();
    let n = 100_000;
    for _ in 0..n {
        g.next_line(&mut buf);
    }
    let parser = Parser::preset(Preset::Combined);
    let mut verbs: BTreeMap<String, usize> = BTreeMap::new();
    let mut status: BTreeMap<u16, usize> = BTreeMap::new();
    let (mut bytes_sum, mut bytes_n, mut v6) = (0u64, 0u64, 0);
    let mut prev = start().unix_micros();
    let mut clients = std::collections::HashSet::new();
    for line in lines(&buf) {
        let r = parser.parse_line(line.bytes()).unwrap();
        *verbs.entry(r.method().unwrap().to_owned()).or_default() += 1;
        *status.entry(r.status().unwrap()).or_default() += 1;
        if let Some(b) = r.response_bytes() {
            bytes_sum += b;
            bytes_n += 1;
        }
        v6 += usize::from(r.client_ip().unwrap().is_ipv6());
        clients.insert(r.client_ip().unwrap());
        let t = r.time().unwrap().unix_micros();
        let step = (t - prev) / 1_000_000;
        assert!((30..=300).contains(&step), "step {step}");
        prev = t;
    }
    let share = |c: usize| c as f64 / n as f64;
    for (verb, p) in [("GET", 0.6), ("POST", 0.1), ("DELETE", 0.1), ("PUT", 0.2)] {
        assert!((share(verbs[verb]) - p).abs() < 0.01, "{verb}: {verbs:?}");
    }
    for (code, p) in [(200, 0.9), (404, 0.04), (500, 0.02), (301, 0.04)] {
        assert!((share(status[&code]) - p).abs() < 0.01, "{code}: {status:?}");
    }
    let mean = bytes_sum as f64 / bytes_n as f64;
    assert!((mean - 5000.0).abs() < 2.0, "{mean}");
    assert!(v6 > 0 && clients.len() > 10_000, "v6 {v6} clients {}", clients.len());
}

#[test]
#[expect(clippy::disallowed_types, reason = "checks the file with flate2's own multi-member decoder")]
fn multi_member_gzip_holds_every_line() {
    let dir = std::env::temp_dir().join(format!("fakelog-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = Config {
        seed: 2,
        start: start(),
        step: Step::Span { hours: 24.0, lines: 10_000 },
        ..Config::default()
    };
    let mut g = Generator::new(&cfg);
    let report = write_file(&mut g, &dir, Some("web1"), 10_000, Output::Gz { members: 4, level: 1 }).unwrap();
    let path = report.path.unwrap();
    assert!(path.file_name().unwrap().to_str().unwrap().starts_with("web1_access_log_20200531-"));
    let raw = std::fs::read(&path).unwrap();
    // four members: four gzip headers
    let headers = raw.windows(3).filter(|w| *w == [0x1f, 0x8b, 0x08]).count();
    assert!(headers >= 4, "{headers}");
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut text).unwrap();
    assert_eq!(lines(&text).count(), 10_000);
    assert_eq!(report.lines, 10_000);
    assert_eq!(report.bytes, text.len() as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}
