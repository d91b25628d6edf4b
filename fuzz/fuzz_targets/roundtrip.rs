//! Round trip: a Combined line written from arbitrary field values parses back to exactly those
//! values (the property, not just "no panic").
#![no_main]

use libfuzzer_sys::{arbitrary, fuzz_target};
use loglake_parser::{Parser, Preset};

#[derive(Debug, arbitrary::Arbitrary)]
struct Fields {
    ip: [u8; 4],
    method: u8,
    path: Vec<u8>,
    query: Option<Vec<u8>>,
    status: u16,
    bytes: Option<u32>,
    referrer: Vec<u8>,
    agent: Vec<u8>,
    day: u8,
    second: u32,
    offset_minutes: i16,
}

/// Printable bytes without the characters the format itself uses in that field.
fn clean(v: &[u8], banned: &[u8]) -> String {
    v.iter().map(|&c| if c.is_ascii_graphic() && !banned.contains(&c) { c as char } else { 'x' }).collect()
}

fuzz_target!(|f: Fields| {
    let method = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"][usize::from(f.method) % 6];
    let path = format!("/{}", clean(&f.path, b"?\"\\"));
    let query = f.query.as_deref().map(|q| clean(q, b"\"\\"));
    let status = 100 + f.status % 500;
    let referrer = format!("http://r/{}", clean(&f.referrer, b"\"\\"));
    let agent = format!("ua {}", clean(&f.agent, b"\"\\"));
    let day = 1 + u32::from(f.day) % 28;
    let (h, m, s) = ((f.second / 3600) % 24, (f.second / 60) % 60, f.second % 60);
    let off = i32::from(f.offset_minutes) % (14 * 60);
    let sign = if off < 0 { '-' } else { '+' };
    let zone = format!("{sign}{:02}{:02}", off.abs() / 60, off.abs() % 60);
    let [a, b, c, d] = f.ip;
    let target = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let size = f.bytes.map_or_else(|| "-".to_owned(), |b| b.to_string());
    let line = format!(
        "{a}.{b}.{c}.{d} - - [{day:02}/May/2020:{h:02}:{m:02}:{s:02} {zone}] \"{method} {target} HTTP/1.1\" {status} {size} \"{referrer}\" \"{agent}\""
    );
    let r = Parser::preset(Preset::Combined).parse_line(line.as_bytes()).expect("a well-formed line parses");
    assert_eq!(r.client_ip().map(|i| i.to_string()), Some(format!("{a}.{b}.{c}.{d}")));
    assert_eq!(r.method(), Some(method));
    assert_eq!(r.path().as_deref(), Some(path.as_str()));
    assert_eq!(r.query().as_deref(), query.as_deref().or(None));
    assert_eq!(r.status(), Some(status));
    assert_eq!(r.response_bytes(), f.bytes.map(u64::from));
    assert_eq!(r.referer().as_deref(), Some(referrer.as_str()));
    assert_eq!(r.user_agent().as_deref(), Some(agent.as_str()));
    let t = r.time().expect("time");
    assert_eq!(i32::from(t.offset_minutes()), off);
});
