//! A parsed line: spans into the line plus the few values worth decoding eagerly.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::escape::decode_text;
use crate::format::MAX_FIELDS;
use crate::time::Timestamp;

/// A byte range of the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// Lines are capped below 4 GiB by the caller's buffers; longer ranges saturate.
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span { start: u32::try_from(start).unwrap_or(u32::MAX), end: u32::try_from(end).unwrap_or(u32::MAX) }
    }

    #[inline]
    pub(crate) fn get(self, line: &[u8]) -> &[u8] {
        line.get(self.start as usize..self.end as usize).unwrap_or_default()
    }

    #[inline]
    pub(crate) fn start(self) -> usize {
        self.start as usize
    }

    #[inline]
    pub(crate) fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

/// Well-known fields whose position a format fixes; the record keeps their field index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    RemoteHost,
    ClientIp,
    LocalIp,
    Ident,
    User,
    RequestLine,
    Method,
    UrlPath,
    Query,
    Protocol,
    Referer,
    UserAgent,
    ServerName,
    ServerNameUsed,
    Port,
    ForwardedFor,
    HostHeader,
}

pub(crate) const SLOT_COUNT: usize = 17;
pub(crate) const NO_FIELD: u8 = u8::MAX;

/// The parts of the request line, as spans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RequestParts {
    pub(crate) method: Option<Span>,
    pub(crate) path: Option<Span>,
    pub(crate) query: Option<Span>,
    pub(crate) protocol: Option<Span>,
}

/// One parsed access-log line.
///
/// A record borrows the line: fields are byte ranges of it, so parsing allocates nothing.
/// Text accessors come in pairs: `foo_bytes()` gives the bytes exactly as logged, and `foo()`
/// gives text with Apache's escapes (`\"`, `\\`, `\xhh`) undone and invalid UTF-8 replaced —
/// borrowed from the line when nothing had to change. `-` (Apache's "absent") is `None`.
/// [`into_owned`](Self::into_owned) copies the line once for records that must outlive it.
///
/// ```
/// use loglake_parser::{Parser, Preset};
///
/// let parser = Parser::preset(Preset::Combined);
/// let line = br#"192.0.2.7 - alice [31/May/2020:07:12:01 +0200] "GET /list?page=2 HTTP/1.1" 200 - "-" "curl/8.4.0""#;
/// let r = parser.parse_line(line)?;
/// assert_eq!(r.client_ip(), Some("192.0.2.7".parse()?));
/// assert_eq!(r.user().as_deref(), Some("alice"));
/// assert_eq!(r.time().unwrap().to_string(), "2020-05-31T05:12:01Z");
/// assert_eq!((r.method(), r.path().as_deref(), r.query().as_deref()), (Some("GET"), Some("/list"), Some("page=2")));
/// assert_eq!((r.status(), r.response_bytes()), (Some(200), None));
/// assert_eq!(r.referer(), None);
/// assert_eq!(r.user_agent().as_deref(), Some("curl/8.4.0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord<'a> {
    pub(crate) line: Cow<'a, [u8]>,
    pub(crate) spans: [Span; MAX_FIELDS],
    pub(crate) field_count: u8,
    pub(crate) format_index: u8,
    pub(crate) slots: [u8; SLOT_COUNT],
    pub(crate) trailing: Option<Span>,
    pub(crate) time: Option<Timestamp>,
    pub(crate) status: Option<u16>,
    pub(crate) response_bytes: Option<u64>,
    pub(crate) bytes_received: Option<u64>,
    pub(crate) bytes_sent: Option<u64>,
    pub(crate) duration_us: Option<u64>,
    pub(crate) request: RequestParts,
}

/// `None` for an absent field or Apache's `-`.
#[inline]
fn present(b: &[u8]) -> Option<&[u8]> {
    (b != b"-").then_some(b)
}

/// An empty record: no line, no fields. What [`Parser::parse_line_into`](crate::Parser::parse_line_into)
/// starts from and fills.
impl Default for LogRecord<'_> {
    fn default() -> Self {
        LogRecord {
            line: Cow::Borrowed(&[]),
            spans: [Span::default(); MAX_FIELDS],
            field_count: 0,
            format_index: 0,
            slots: [NO_FIELD; SLOT_COUNT],
            trailing: None,
            time: None,
            status: None,
            response_bytes: None,
            bytes_received: None,
            bytes_sent: None,
            duration_us: None,
            request: RequestParts::default(),
        }
    }
}

impl<'a> LogRecord<'a> {
    /// Makes this the empty record of `line` for the format `format_index`.
    #[inline]
    pub(crate) fn reset(&mut self, line: &'a [u8], format_index: u8, slots: [u8; SLOT_COUNT]) {
        *self = LogRecord { line: Cow::Borrowed(line), format_index, slots, ..LogRecord::default() };
    }

    /// Copies the line so the record no longer borrows it.
    #[must_use]
    pub fn into_owned(self) -> LogRecord<'static> {
        LogRecord { line: Cow::Owned(self.line.into_owned()), ..self }
    }

    /// The whole line, as parsed (without its line ending).
    #[must_use]
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// Which format of the parser matched: 0 for the main one, 1.. for fallbacks in order.
    #[must_use]
    pub fn format_index(&self) -> usize {
        usize::from(self.format_index)
    }

    /// Number of fields of the matched format.
    #[must_use]
    pub fn field_count(&self) -> usize {
        usize::from(self.field_count)
    }

    /// The bytes of the `i`-th field of the matched format, exactly as logged (quotes removed).
    ///
    /// The order is that of [`crate::LogFormat::fields`]; this reaches every directive,
    /// including headers, cookies and environment variables.
    #[must_use]
    pub fn field(&self, i: usize) -> Option<&[u8]> {
        (i < self.field_count()).then(|| self.spans[i].get(&self.line))
    }

    /// Text after the last field, when the parser allows trailing fields (leading space removed).
    #[must_use]
    pub fn trailing(&self) -> Option<&[u8]> {
        self.trailing.map(|s| s.get(&self.line))
    }

    #[inline]
    pub(crate) fn slot_bytes(&self, slot: Slot) -> Option<&[u8]> {
        let i = self.slots[slot as usize];
        (i != NO_FIELD).then(|| self.spans[usize::from(i)].get(&self.line))
    }

    fn slot_text(&self, slot: Slot) -> Option<Cow<'_, str>> {
        self.slot_bytes(slot).and_then(present).map(decode_text)
    }

    fn part(&self, span: Option<Span>) -> Option<&[u8]> {
        span.map(|s| s.get(&self.line))
    }

    /// The time of the request (`%t` or `%{...}t`).
    #[must_use]
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }

    /// The final status (`%>s`; `%s`), `None` for `-`.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Response size without headers (`%b` / `%B`); `None` for `-`, never 0 for it.
    #[must_use]
    pub fn response_bytes(&self) -> Option<u64> {
        self.response_bytes
    }

    /// Bytes received including headers (`%I`).
    #[must_use]
    pub fn bytes_received(&self) -> Option<u64> {
        self.bytes_received
    }

    /// Bytes sent including headers (`%O`).
    #[must_use]
    pub fn bytes_sent(&self) -> Option<u64> {
        self.bytes_sent
    }

    /// Time taken to serve the request in microseconds (`%D`, `%T`, `%{ms}T`, `%{us}T`).
    #[must_use]
    pub fn duration_micros(&self) -> Option<u64> {
        self.duration_us
    }

    /// The client address field (`%a`, else `%h`) as logged: an IP address or a host name.
    #[must_use]
    pub fn remote_host_bytes(&self) -> Option<&[u8]> {
        self.slot_bytes(Slot::ClientIp).or_else(|| self.slot_bytes(Slot::RemoteHost)).and_then(present)
    }

    /// The client address field as text.
    #[must_use]
    pub fn remote_host(&self) -> Option<Cow<'_, str>> {
        self.remote_host_bytes().map(decode_text)
    }

    /// The client address as an IP (IPv4, or IPv6 with an optional `%zone`); `None` for host
    /// names and garbage.
    #[must_use]
    pub fn client_ip(&self) -> Option<IpAddr> {
        parse_ip(self.remote_host_bytes()?)
    }

    /// The client address when it is a dotted quad: [`client_ip`](Self::client_ip)'s IPv4
    /// case, without trying the slower IPv6 parse.
    #[must_use]
    pub fn client_ipv4(&self) -> Option<Ipv4Addr> {
        parse_ipv4(self.remote_host_bytes()?)
    }

    /// The local address (`%A`) as an IP.
    #[must_use]
    pub fn local_ip(&self) -> Option<IpAddr> {
        parse_ip(self.slot_bytes(Slot::LocalIp)?)
    }

    /// The identd logname (`%l`), almost always `-` and so `None`.
    #[must_use]
    pub fn ident(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::Ident)
    }

    /// The authenticated user (`%u`).
    #[must_use]
    pub fn user(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::User)
    }

    /// The request line as logged (`%r`), including invalid ones such as TLS handshakes.
    #[must_use]
    pub fn request_bytes(&self) -> Option<&[u8]> {
        self.slot_bytes(Slot::RequestLine)
    }

    /// The request line as text.
    #[must_use]
    pub fn request(&self) -> Option<Cow<'_, str>> {
        self.request_bytes().map(decode_text)
    }

    /// Whether the request line is `METHOD target HTTP/x[.y]`. A record with an invalid request
    /// line (`-`, TLS bytes, junk) is still a record; its method, path and protocol are `None`.
    #[must_use]
    pub fn is_valid_request(&self) -> bool {
        self.request.method.is_some() && self.request.path.is_some()
    }

    /// The request method (`%r` or `%m`) as logged (an HTTP token: ASCII).
    #[must_use]
    pub fn method_bytes(&self) -> Option<&[u8]> {
        self.part(self.request.method)
    }

    /// The request method (`%r` or `%m`), validated as an HTTP token.
    #[must_use]
    pub fn method(&self) -> Option<&str> {
        self.method_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The request path (`%r` or `%U`) as logged, without the query string.
    #[must_use]
    pub fn path_bytes(&self) -> Option<&[u8]> {
        self.part(self.request.path)
    }

    /// The request path as text (Apache escapes undone; percent-encoding kept).
    #[must_use]
    pub fn path(&self) -> Option<Cow<'_, str>> {
        self.path_bytes().map(decode_text)
    }

    /// The query string without its `?` (`%r` or `%q`); `None` when there was no `?`.
    #[must_use]
    pub fn query_bytes(&self) -> Option<&[u8]> {
        self.part(self.request.query)
    }

    /// The query string as text.
    #[must_use]
    pub fn query(&self) -> Option<Cow<'_, str>> {
        self.query_bytes().map(decode_text)
    }

    /// The protocol (`HTTP/1.1`; from `%r` or `%H`) as logged.
    #[must_use]
    pub fn protocol_bytes(&self) -> Option<&[u8]> {
        self.part(self.request.protocol)
    }

    /// The protocol (`HTTP/1.1`; from `%r` or `%H`).
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.protocol_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The `Referer` request header as logged.
    #[must_use]
    pub fn referer_bytes(&self) -> Option<&[u8]> {
        self.slot_bytes(Slot::Referer).and_then(present)
    }

    /// The `Referer` request header as text.
    #[must_use]
    pub fn referer(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::Referer)
    }

    /// The `User-Agent` request header as logged.
    #[must_use]
    pub fn user_agent_bytes(&self) -> Option<&[u8]> {
        self.slot_bytes(Slot::UserAgent).and_then(present)
    }

    /// The `User-Agent` request header as text.
    #[must_use]
    pub fn user_agent(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::UserAgent)
    }

    /// The virtual host (`%v`, else `%V`, else the `Host` request header).
    #[must_use]
    pub fn vhost(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::ServerName)
            .or_else(|| self.slot_text(Slot::ServerNameUsed))
            .or_else(|| self.slot_text(Slot::HostHeader))
    }

    /// The server port (`%p`).
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        std::str::from_utf8(self.slot_bytes(Slot::Port)?).ok()?.parse().ok()
    }

    /// The `X-Forwarded-For` request header, when the format logs it.
    #[must_use]
    pub fn forwarded_for(&self) -> Option<Cow<'_, str>> {
        self.slot_text(Slot::ForwardedFor)
    }
}

/// A dotted quad exactly as `Ipv4Addr`'s parser takes it (four decimal octets of 1-3 digits,
/// no leading zeros, at most 255), without going through `str` first: most client fields are
/// IPv4, and this runs once per line. `None` means "not a dotted quad", not "not an address".
#[inline]
fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    // octet by octet, its up to three digits unrolled: a few compares a byte
    let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10);
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        let mut v = u16::from(digit(i)?);
        i += 1;
        // a leading zero (octal to some parsers) is an octet of its own
        if v != 0 {
            if let Some(d) = digit(i) {
                v = v * 10 + u16::from(d);
                i += 1;
                if let Some(d) = digit(i) {
                    v = v * 10 + u16::from(d);
                    i += 1;
                }
            }
        }
        *octet = u8::try_from(v).ok()?;
        if n < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

/// IPv4, IPv6, and IPv6 with a zone (`fe80::1%eth0`, the zone is dropped).
pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(b) {
        return Some(IpAddr::V4(v4));
    }
    let s = std::str::from_utf8(b).ok()?;
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // `[2001:db8::1]`, as some proxies write IPv6 clients
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (addr, zone) = s.split_once('%')?;
    let valid_zone =
        !zone.is_empty() && zone.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c));
    if !valid_zone {
        return None;
    }
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_ipv6_clients() {
        assert_eq!(parse_ip(b"[2001:db8::2]"), "2001:db8::2".parse().ok());
        assert_eq!(parse_ip(b"[10.0.0.1]"), None);
        assert_eq!(parse_ip(b"fe80::1%eth0"), "fe80::1".parse().ok());
    }

    #[test]
    fn the_ipv4_fast_path_agrees_with_std() {
        let cases = [
            "0.0.0.0",
            "1.2.3.4",
            "255.255.255.255",
            "10.0.0.1",
            "192.168.100.200",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.a",
            "1.2.3.-4",
            "999.1.1.1",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.0000",
            "0.0.0.00",
        ];
        for c in cases {
            assert_eq!(parse_ipv4(c.as_bytes()), c.parse::<Ipv4Addr>().ok(), "{c}");
        }
        for i in 0..=1000u32 {
            let c = format!("{}.{}.{}.{}", i % 300, i * 7 % 260, i * 13 % 256, i * 31 % 257);
            assert_eq!(parse_ipv4(c.as_bytes()), c.parse::<Ipv4Addr>().ok(), "{c}");
        }
        // strings of digits, dots and a stray byte, of every length the fast path looks at
        let alphabet = b"0012255..9x";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut valid = 0;
        for _ in 0..200_000 {
            let len = 6 + (next() % 11) as usize;
            let c: String =
                (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char).collect();
            let want = c.parse::<Ipv4Addr>().ok();
            valid += usize::from(want.is_some());
            assert_eq!(parse_ipv4(c.as_bytes()), want, "{c}");
        }
        assert!(valid > 250, "{valid} valid addresses among the random strings");
    }

    #[test]
    fn ip_forms() {
        assert_eq!(parse_ip(b"10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(parse_ip(b"::1"), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip(b"fe80::1%eth0"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_ip(b"fe80::1%"), None);
        assert_eq!(parse_ip(b"10.0.0.1%eth0"), None);
        assert_eq!(parse_ip(b"example.com"), None);
        assert_eq!(parse_ip(b"\xff\xfe"), None);
        assert_eq!(parse_ip(b"256.1.1.1"), None);
    }
}
