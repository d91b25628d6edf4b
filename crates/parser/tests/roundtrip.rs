//! Property tests: a random record rendered the way Apache renders it parses back equal, and
//! arbitrary bytes never panic whatever the format.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

use loglake_parser::{lines, unescape, LogFormat, Parser, ParserConfig, Preset, Timestamp};
use proptest::prelude::*;

/// Apache's `ap_escape_logitem`: `"` and `\` escaped, control and non-ASCII bytes as `\xhh`.
fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => write!(s, "\\x{c:02x}").unwrap(),
        }
    }
    s
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `[dd/Mon/yyyy:HH:MM:SS +hhmm]` for a UTC instant shown in a zone.
fn clf_time(t: Timestamp) -> String {
    let off = i64::from(t.offset_minutes());
    let local = Timestamp::from_unix_micros(t.unix_micros() + off * 60_000_000, 0);
    let (y, m, d) = local.utc_date();
    let secs = local.unix_micros().div_euclid(1_000_000).rem_euclid(86_400);
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "[{d:02}/{}/{y:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}]",
        MONTHS[usize::from(m) - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off.abs() / 60,
        off.abs() % 60
    )
}

#[derive(Debug, Clone)]
struct Rec {
    ip: IpAddr,
    user: Option<String>,
    time: Timestamp,
    method: String,
    path: String,
    query: Option<String>,
    protocol: &'static str,
    status: u16,
    bytes: Option<u64>,
    referer: Option<Vec<u8>>,
    agent: Vec<u8>,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        any::<IpAddr>(),
        proptest::option::of("[a-z][a-z0-9_.@]{0,12}"),
        // years 1000..9999, whole seconds; offsets within a day
        (-30_610_224_000i64..253_402_214_400, -1439i16..=1439),
        "[A-Z]{1,8}",
        "/[a-zA-Z0-9/._~%-]{0,40}",
        proptest::option::of("[a-zA-Z0-9=&%._-]{0,30}"),
        prop_oneof![Just("HTTP/1.0"), Just("HTTP/1.1"), Just("HTTP/2.0"), Just("HTTP/2")],
        100u16..1000,
        proptest::option::of(any::<u64>()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..60)),
        proptest::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(
            |(ip, user, (secs, off), method, path, query, protocol, status, bytes, referer, agent)| Rec {
                ip,
                user,
                time: Timestamp::from_unix_micros(secs * 1_000_000, off),
                method,
                path,
                query,
                protocol,
                status,
                bytes,
                // "-" alone means absent, so a one-byte "-" referer cannot round-trip
                referer: referer.filter(|r| r != b"-"),
                agent,
            },
        )
}

fn render_combined(r: &Rec) -> String {
    let target = match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    };
    format!(
        "{} - {} {} \"{} {} {}\" {} {} \"{}\" \"{}\"",
        r.ip,
        r.user.as_deref().unwrap_or("-"),
        clf_time(r.time),
        r.method,
        escape(target.as_bytes()),
        r.protocol,
        r.status,
        r.bytes.map_or("-".to_owned(), |b| b.to_string()),
        r.referer.as_deref().map_or("-".to_owned(), escape),
        escape(&r.agent),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn combined_round_trip(r in rec()) {
        let line = render_combined(&r);
        let parser = Parser::preset(Preset::Combined);
        let p = parser.parse_line(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{line}: {e}")))?;
        prop_assert_eq!(p.client_ip(), Some(r.ip));
        prop_assert_eq!(p.user().map(Cow::into_owned), r.user.clone());
        prop_assert_eq!(p.time(), Some(r.time));
        prop_assert_eq!(p.method(), Some(r.method.as_str()));
        prop_assert_eq!(p.path().map(Cow::into_owned), Some(r.path.clone()));
        prop_assert_eq!(p.query().map(Cow::into_owned), r.query.clone());
        prop_assert_eq!(p.protocol(), Some(r.protocol));
        prop_assert_eq!(p.status(), Some(r.status));
        prop_assert_eq!(p.response_bytes(), r.bytes);
        prop_assert_eq!(p.referer_bytes().map(|b| unescape(b).into_owned()), r.referer.clone());
        let agent = p.user_agent_bytes().map(|b| unescape(b).into_owned()).unwrap_or_default();
        // an agent of exactly "-" reads as absent
        if r.agent != b"-" {
            prop_assert_eq!(agent, r.agent.clone());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let parsers = [
            ParserConfig::default()
                .fallback(LogFormat::preset(Preset::Common))
                .fallback(LogFormat::preset(Preset::VhostCombined))
                .allow_trailing_fields(true)
                .build(),
            Parser::new(LogFormat::parse("%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t %a %U%q %D %{ms}T %I %O").unwrap()),
            Parser::new(LogFormat::parse("%{usec}t %h \"%m %U%q %H\" %s").unwrap()),
        ];
        for parser in &parsers {
            for line in lines(&data) {
                if let Ok(r) = parser.parse_line(line.bytes()) {
                    // every accessor must be callable on whatever parsed
                    let _ = (r.client_ip(), r.path(), r.query(), r.user_agent(), r.request(), r.vhost(), r.port());
                    let _ = r.time().map(|t| t.to_string());
                } else {
                    prop_assert!(parser.parse_line(line.bytes()).unwrap_err().column() <= line.bytes().len());
                }
            }
        }
    }

    #[test]
    fn mutated_lines_never_panic(r in rec(), cut in any::<prop::sample::Index>(), junk in any::<u8>()) {
        let mut line = render_combined(&r).into_bytes();
        let i = cut.index(line.len());
        line[i] = junk;
        let parser = Parser::preset(Preset::Combined);
        let _ = parser.parse_line(&line);
        let _ = parser.parse_line(&line[..i]);
    }
}
