//! Feature extraction: a parsed line becomes a `curated/access_logs` row; a failed one a
//! `curated/rejects` row.
//!
//! The hot path writes each row column by column ([`loglake_catalog::RowWriter`]) and looks
//! the long, repetitive fields up by their raw bytes in per-worker caches: a user agent is
//! unescaped, UTF-8 checked, classified and hashed once per distinct value, and so is a
//! referrer with its host.

use std::borrow::Cow;
use std::cell::Cell;
use std::net::IpAddr;

use hashbrown::HashTable;
use loglake_aggregate::{PendingClients, PeriodState, RowFacts};
use loglake_catalog::{dict_id, BatchBuilder, CatalogError, DictMemo, Value, REJECTS};
use loglake_parser::{LogRecord, ParseError};

use crate::agent::{Agent, AgentCache};
use crate::anonymize::IpAnonymizer;

/// Distinct raw values a [`ByteCache`] keeps before it starts over (bounds memory on hostile
/// input: a flood of distinct agents costs time, never unbounded memory).
const BYTE_CACHE_LIMIT: usize = 65_536;

/// Values derived from a raw field, found again by the field's bytes: by their 128-bit hash
/// alone, one hash and no byte compare per lookup (the stored key would be a cache miss of its
/// own). Two of a cache's at most 65,536 keys share a hash with odds near 1e-29; the daily
/// states tell clients and agents apart the same way.
struct ByteCache<V> {
    table: HashTable<(u128, V)>,
}

impl<V> Default for ByteCache<V> {
    fn default() -> Self {
        ByteCache { table: HashTable::new() }
    }
}

impl<V> ByteCache<V> {
    /// The value of `key`, made by `make` on first sight.
    #[inline]
    fn get(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &V {
        let full = xxhash_rust::xxh3::xxh3_128(key);
        // the low bits of the 128-bit hash are uniform already
        let hash = full as u64;
        if self.table.len() >= BYTE_CACHE_LIMIT && self.table.find(hash, |(k, _)| *k == full).is_none() {
            self.table.clear();
        }
        match self.table.entry(hash, |(k, _)| *k == full, |(k, _)| *k as u64) {
            hashbrown::hash_table::Entry::Occupied(e) => &e.into_mut().1,
            hashbrown::hash_table::Entry::Vacant(e) => &e.insert((full, make())).into_mut().1,
        }
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

/// Text plus the id dictionary columns know it by ([`dict_id`]), and its key in the one
/// column it is written to, as last seen ([`DictMemo`]).
struct Tagged {
    text: Box<str>,
    id: u64,
    memo: Cell<DictMemo>,
}

impl Tagged {
    fn new(text: &str) -> Self {
        Tagged { id: dict_id(), text: text.into(), memo: Cell::default() }
    }

    fn memo(&self) -> (&str, u64, &Cell<DictMemo>) {
        (&self.text, self.id, &self.memo)
    }
}

/// A user agent as the row needs it: its text and its three families, each with an id.
struct AgentEntry {
    text: Tagged,
    /// The text's distinct-count key (visitors are distinct client + agent).
    distinct: u128,
    agent: Agent,
    browser: Tagged,
    os: Tagged,
    device: Tagged,
}

/// A referrer and its host.
struct ReferrerEntry {
    text: Tagged,
    host: Option<Tagged>,
}

/// What feature extraction keeps between rows of one worker: the user-agent cache and the
/// address anonymization of the run (`--anonymize-ip`).
#[derive(Default)]
#[non_exhaustive]
pub struct Features {
    /// User-agent families, cached per distinct agent.
    pub agents: AgentCache,
    /// Anonymize client addresses before they are written.
    pub anonymize: Option<IpAnonymizer>,
    raw_agents: ByteCache<AgentEntry>,
    referrers: ByteCache<ReferrerEntry>,
    /// Client fields other than dotted quads (IPv6, host names), parsed and printed once each.
    other_clients: ByteCache<Option<(IpAddr, Box<str>)>>,
    ip_text: String,
    /// Text bytes per row of the worker's last finished curated batch
    /// ([`BatchBuilder::text_bytes_per_row`]): room reserved in the next ones.
    pub(crate) text_hint: Vec<usize>,
}

impl std::fmt::Debug for Features {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Features")
            .field("agents", &self.agents)
            .field("anonymize", &self.anonymize)
            .field("raw_agents", &self.raw_agents.len())
            .field("referrers", &self.referrers.len())
            .field("other_clients", &self.other_clients.len())
            .finish()
    }
}

impl Features {
    /// Features that anonymize client addresses this way.
    #[must_use]
    pub fn with_anonymizer(anonymize: Option<IpAnonymizer>) -> Self {
        Features { anonymize, ..Features::default() }
    }
}

/// Static assets by extension (lowercase, without the dot).
const STATIC_EXT: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp", "woff",
    "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav", "pdf", "zip", "gz", "txt", "xml",
    "json",
];

/// Whether a path names a static asset (by its extension).
#[must_use]
pub fn is_static(path: &str) -> bool {
    is_static_bytes(path.as_bytes())
}

/// [`is_static`] on the path's bytes: the extension after the last `.` of the last segment,
/// compared without case.
fn is_static_bytes(path: &[u8]) -> bool {
    let last = match memchr::memrchr(b'/', path) {
        Some(i) => &path[i + 1..],
        None => path,
    };
    let Some(dot) = memchr::memrchr(b'.', last) else { return false };
    let ext = &last[dot + 1..];
    if ext.is_empty() || ext.len() > 5 {
        return false;
    }
    let mut lower = [0u8; 5];
    for (l, c) in lower.iter_mut().zip(ext) {
        *l = c.to_ascii_lowercase();
    }
    // integer compares against the packed list, not a memcmp call per same-length entry
    let key = ext_key(&lower[..ext.len()]);
    STATIC_KEYS.contains(&key)
}

/// An extension of at most 5 bytes and its length in one integer (distinct for distinct
/// extensions, NUL bytes included).
const fn ext_key(ext: &[u8]) -> u64 {
    let mut key = (ext.len() as u64) << 40;
    let mut i = 0;
    while i < ext.len() && i < 5 {
        key |= (ext[i] as u64) << (8 * i);
        i += 1;
    }
    key
}

/// [`STATIC_EXT`] as [`ext_key`]s.
const STATIC_KEYS: [u64; STATIC_EXT.len()] = {
    let mut keys = [0u64; STATIC_EXT.len()];
    let mut i = 0;
    while i < STATIC_EXT.len() {
        keys[i] = ext_key(STATIC_EXT[i].as_bytes());
        i += 1;
    }
    keys
};

/// The host of a referrer URL (`https://www.example.com:8443/x` → `www.example.com`), lowercased.
#[must_use]
pub fn referrer_host(referrer: &str) -> Option<String> {
    let rest = referrer.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..])?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The raw object rows come from, with its dictionary id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    name: &'a str,
    id: u64,
}

impl<'a> Source<'a> {
    pub(crate) fn new(name: &'a str) -> Self {
        Source { name, id: dict_id() }
    }
}

const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Values of the small dictionary columns that nearly every line has, with fixed ids, so
/// their columns find them by id: methods, protocols, status classes.
const COMMON_VALUES: [&str; 17] = [
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "HTTP/1.1", "HTTP/1.0",
    "HTTP/2.0", "1xx", "2xx", "3xx", "4xx", "5xx",
];

/// Where the status classes start in [`COMMON_VALUES`].
const FIRST_CLASS: usize = 12;

/// Status class `i` (0 for `1xx` .. 4 for `5xx`) with its fixed id, by index (no text lookup).
#[inline]
fn status_class(i: usize) -> Option<(&'static str, Option<u64>)> {
    let text = STATUS_CLASSES.get(i)?;
    debug_assert_eq!(COMMON_VALUES[FIRST_CLASS + i], *text);
    Some((text, Some(common_ids()[FIRST_CLASS + i])))
}

/// A logged method or protocol as text with its id: a [`COMMON_VALUES`] entry found by its
/// bytes (no UTF-8 pass), else the bytes checked as text (`None` when they are not).
#[inline]
fn common_bytes(value: &[u8]) -> Option<(&str, Option<u64>)> {
    match common_index(value) {
        Some(i) => Some((COMMON_VALUES[i], Some(common_ids()[i]))),
        None => std::str::from_utf8(value).ok().map(|s| (s, None)),
    }
}

fn common_ids() -> &'static [u64; COMMON_VALUES.len()] {
    static IDS: std::sync::OnceLock<[u64; COMMON_VALUES.len()]> = std::sync::OnceLock::new();
    IDS.get_or_init(|| std::array::from_fn(|_| dict_id()))
}

/// Where `value` is in [`COMMON_VALUES`].
#[inline]
fn common_index(value: &[u8]) -> Option<usize> {
    // a match compiles to a switch on the length and a compare or two, not a scan of the list
    let i = match value {
        b"GET" => Some(0),
        b"POST" => Some(1),
        b"HEAD" => Some(2),
        b"PUT" => Some(3),
        b"DELETE" => Some(4),
        b"OPTIONS" => Some(5),
        b"PATCH" => Some(6),
        b"CONNECT" => Some(7),
        b"TRACE" => Some(8),
        b"HTTP/1.1" => Some(9),
        b"HTTP/1.0" => Some(10),
        b"HTTP/2.0" => Some(11),
        b"1xx" => Some(12),
        b"2xx" => Some(13),
        b"3xx" => Some(14),
        b"4xx" => Some(15),
        b"5xx" => Some(16),
        _ => None,
    };
    debug_assert!(i.is_none_or(|i: usize| COMMON_VALUES[i].as_bytes() == value));
    i
}

/// Appends the `curated/access_logs` row of a parsed line.
///
/// # Errors
/// [`CatalogError::Row`] if a value does not fit the schema (a bug, never data).
pub fn push_access_row(
    b: &mut BatchBuilder,
    r: &LogRecord<'_>,
    source_object: &str,
    line: u64,
    features: &mut Features,
) -> Result<(), CatalogError> {
    write_access_row(b, r, Source::new(source_object), line, features, None)
}

/// A text field for its column and the daily states: its logged bytes when they are ASCII
/// without escapes (most paths and queries: no decoding pass and no UTF-8 check, since
/// [`BatchBuilder::finish`] checks each text column whole), else the bytes of `decoded`, the
/// field's decoded text. Either way the bytes of the text the field's accessor gives.
#[inline]
fn field_text<'r>(
    raw: Option<&'r [u8]>,
    decoded: impl FnOnce() -> Option<Cow<'r, str>>,
) -> Option<Cow<'r, [u8]>> {
    match raw {
        Some(b) if loglake_parser::is_plain_ascii(b) => Some(Cow::Borrowed(b)),
        _ => decoded().map(|t| match t {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }),
    }
}

/// [`push_access_row`], also adding the row to a daily aggregate state when one is given
/// (its client looked up later, with the other rows of `PendingClients`: see
/// [`PeriodState::add_deferred`]).
pub(crate) fn write_access_row(
    b: &mut BatchBuilder,
    r: &LogRecord<'_>,
    source: Source<'_>,
    line: u64,
    features: &mut Features,
    state: Option<(&mut PeriodState, &mut PendingClients)>,
) -> Result<(), CatalogError> {
    let Features { agents, anonymize, raw_agents, referrers, other_clients, ip_text, .. } = features;
    let (raw_client, v4) = (r.remote_host_bytes(), r.client_ipv4());
    let other = match (v4, raw_client) {
        (None, Some(raw)) => {
            other_clients.get(raw, || r.client_ip().map(|ip| (ip, ip.to_string().into_boxed_str()))).as_ref()
        }
        _ => None,
    };
    let parsed_ip = v4.map(IpAddr::V4).or(other.map(|(ip, _)| *ip));
    // a dotted quad is ASCII without escapes: its text is its bytes (no decoding pass, no
    // UTF-8 check: the column's is checked whole when the batch is finished)
    let mut client: Option<std::borrow::Cow<'_, str>> = match v4 {
        Some(_) => None,
        None => r.remote_host(),
    };
    let quad = v4.and(raw_client);
    let ip: Option<&[u8]> = match (anonymize.as_ref(), parsed_ip) {
        // the parser took the whole field as a dotted quad, which is its canonical text
        (None, Some(IpAddr::V4(_))) => quad,
        (None, Some(_)) => other.map(|(_, text)| text.as_bytes()),
        (None, None) => None,
        (Some(a), Some(ip)) => {
            *ip_text = a.ip(ip);
            client = Some(ip_text.clone().into());
            Some(ip_text.as_bytes())
        }
        (Some(a), None) => {
            client = client.and_then(|c| a.host(&c)).map(Into::into);
            None
        }
    };
    // the field's text unless it was a dotted quad kept as it is
    let client_text = client.as_deref().map(str::as_bytes).or(quad);
    let ua = r.user_agent_bytes().map(|raw| {
        raw_agents.get(raw, || {
            let text = r.user_agent().unwrap_or_default();
            let agent = agents.classify(&text).clone();
            AgentEntry {
                browser: Tagged::new(&agent.browser),
                os: Tagged::new(&agent.os),
                device: Tagged::new(&agent.device),
                agent,
                distinct: loglake_aggregate::distinct_key(&[text.as_bytes()]),
                text: Tagged::new(&text),
            }
        })
    });
    let referrer = r.referer_bytes().map(|raw| {
        referrers.get(raw, || {
            let text = r.referer().unwrap_or_default();
            ReferrerEntry { host: referrer_host(&text).as_deref().map(Tagged::new), text: Tagged::new(&text) }
        })
    });
    let (ident, user) = (r.ident(), r.user());
    // the logged bytes unless they hold escapes or bytes past ASCII (`field_text`)
    let path = field_text(r.path_bytes(), || r.path());
    let query = field_text(r.query_bytes(), || r.query());
    let method = r.method_bytes().and_then(common_bytes);
    let valid = r.is_valid_request();
    let request = if valid { None } else { r.request() };
    let t = r.time();
    let status = r.status();
    let class = status.and_then(|s| usize::from(s / 100).checked_sub(1)).and_then(status_class);
    let bytes = r.response_bytes().and_then(|b| i64::try_from(b).ok());
    let duration = r.duration_micros().and_then(|d| i64::try_from(d).ok());
    let vhost = r.vhost();
    let is_static = path.as_deref().map(is_static_bytes);
    let mut w = b.row();
    w.int(t.map(|t| t.unix_micros()))
        .int(t.map(|t| i64::from(t.offset_minutes())))
        .utf8(client_text)
        .utf8(ip)
        .str(ident.as_deref())
        .str(user.as_deref())
        .dict_opt(method)
        .utf8(path.as_deref())
        .utf8(query.as_deref())
        .dict_opt(r.protocol_bytes().and_then(common_bytes))
        .str(request.as_deref())
        .int(status.map(i64::from))
        .dict_opt(class)
        .int(bytes)
        .int(duration)
        .dict_memo(referrer.map(|e| e.text.memo()))
        .dict_memo(referrer.and_then(|e| e.host.as_ref()).map(Tagged::memo))
        .dict_memo(ua.map(|e| e.text.memo()))
        .dict_memo(ua.map(|e| e.browser.memo()))
        .dict_memo(ua.map(|e| e.os.memo()))
        .dict_memo(ua.map(|e| e.device.memo()))
        .bool(ua.map(|e| e.agent.is_bot))
        .bool(is_static)
        .str(vhost.as_deref())
        .dict_id(Some((source.name, source.id)))
        .int(Some(i64::try_from(line).unwrap_or(i64::MAX)));
    w.end()?;
    if let Some((state, pending)) = state {
        let mut f = RowFacts::default();
        f.client_ip = ip;
        f.user_agent = ua.map(|e| &*e.text.text);
        f.user_agent_hash = ua.map(|e| e.distinct);
        // a cache entry's id stands for its families and host (they never change)
        f.agent_id = ua.map(|e| e.text.id);
        f.referrer_id = referrer.map(|e| e.text.id);
        f.status = status.map(i64::from);
        f.bytes = bytes;
        f.method = method.map(|(m, _)| m);
        f.invalid_request = request.is_some();
        f.is_bot = ua.map(|e| e.agent.is_bot);
        f.duration_us = duration;
        f.path = path.as_deref();
        f.ua_browser = ua.map(|e| e.agent.browser.as_str());
        f.ua_os = ua.map(|e| e.agent.os.as_str());
        f.ua_device = ua.map(|e| e.agent.device.as_str());
        f.referrer_host = referrer.and_then(|e| e.host.as_ref()).map(|h| &*h.text);
        state.add_deferred(&f, pending);
    }
    Ok(())
}

/// Why a line is a reject.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Reason<'a> {
    /// The parser's error (its code and byte column).
    Parse(&'a ParseError),
    /// A line that parsed but cannot be placed (`no_time`, `time_out_of_range`).
    Other(&'static str),
}

/// Appends the `curated/rejects` row of a line that did not parse.
///
/// # Errors
/// [`CatalogError::Row`] (a bug, never data).
pub fn push_reject_row(
    b: &mut BatchBuilder,
    raw: &[u8],
    reason: Reason<'_>,
    source_object: &str,
    line: u64,
    anonymize: Option<&IpAnonymizer>,
) -> Result<(), CatalogError> {
    let raw = match anonymize {
        Some(a) => a.raw_line(raw),
        None => std::borrow::Cow::Borrowed(raw),
    };
    let raw = raw.as_ref();
    let text = String::from_utf8_lossy(raw);
    let (code, column) = match reason {
        Reason::Parse(e) => (e.code(), Some(e.column())),
        Reason::Other(code) => (code, None),
    };
    let row = [
        Value::Str(source_object),
        Value::Int(i64::try_from(line).unwrap_or(i64::MAX)),
        Value::Str(code),
        column.map_or(Value::Null, |c| Value::Int(i64::try_from(c).unwrap_or(i64::MAX))),
        Value::Bytes(raw),
        Value::Str(&text),
    ];
    debug_assert_eq!(row.len(), REJECTS.columns.len());
    b.push(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_text_is_the_decoded_text_and_borrows_plain_ascii() {
        let parser = loglake_parser::Parser::preset(loglake_parser::Preset::Common);
        for (request, borrowed) in [
            ("GET /index.html?q=1 HTTP/1.1", true),
            (r#"GET /a\"b?x=\\y HTTP/1.1"#, false),
            (r"GET /caf\xc3\xa9?q=\xff HTTP/1.1", false),
            // valid UTF-8 past ASCII: decoded, still borrowed from the line
            ("GET /caf\u{e9}?q=\u{fc} HTTP/1.1", true),
        ] {
            let line = format!(r#"10.0.0.1 - - [31/May/2020:07:12:01 +0200] "{request}" 200 5"#);
            let r = parser.parse_line(line.as_bytes()).unwrap();
            let path = field_text(r.path_bytes(), || r.path());
            let query = field_text(r.query_bytes(), || r.query());
            assert_eq!(path.as_deref(), r.path().as_deref().map(str::as_bytes), "{request}");
            assert_eq!(query.as_deref(), r.query().as_deref().map(str::as_bytes), "{request}");
            assert_eq!(
                matches!(path, Some(Cow::Borrowed(p)) if p == r.path_bytes().unwrap()),
                borrowed,
                "{request}"
            );
        }
    }

    #[test]
    fn canonical_ipv4_text_is_the_logged_text() {
        // the hot path stores a parsed IPv4 client's own text as client_ip
        for s in ["192.0.2.7", "10.0.0.1", "255.255.255.255", "0.0.0.0"] {
            assert_eq!(s.parse::<std::net::Ipv4Addr>().unwrap().to_string(), s);
        }
        for s in ["010.0.0.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4"] {
            assert!(s.parse::<std::net::Ipv4Addr>().is_err(), "{s}");
        }
    }

    #[test]
    fn byte_cache_is_bounded_and_returns_what_it_made() {
        let mut c: ByteCache<usize> = ByteCache::default();
        assert_eq!(*c.get(b"a", || 1), 1);
        assert_eq!(*c.get(b"a", || 2), 1, "made once");
        for i in 0..BYTE_CACHE_LIMIT + 10 {
            let key = format!("k{i}");
            assert_eq!(*c.get(key.as_bytes(), || i), i);
        }
        assert!(c.len() <= BYTE_CACHE_LIMIT);
    }

    /// `value` with its fixed id when it is one of [`COMMON_VALUES`].
    fn common(value: &str) -> (&str, Option<u64>) {
        (value, common_index(value.as_bytes()).map(|i| common_ids()[i]))
    }

    #[test]
    fn common_values_have_their_own_fixed_ids() {
        let ids: Vec<u64> = COMMON_VALUES.iter().map(|v| common(v).1.expect(v)).collect();
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), COMMON_VALUES.len());
        for (v, id) in COMMON_VALUES.iter().zip(&ids) {
            assert_eq!(common(v), (*v, Some(*id)), "stable");
        }
        for (i, class) in STATUS_CLASSES.iter().enumerate() {
            assert_eq!(status_class(i), Some(common(class)), "{class}");
        }
        assert_eq!(status_class(5), None);
        // one byte off, or a prefix or extension, is another value
        for v in COMMON_VALUES {
            for i in 0..v.len() {
                let mut b = v.as_bytes().to_vec();
                b[i] ^= 0x20;
                assert_eq!(common_index(&b), None, "{v} with byte {i} changed");
                assert_eq!(common_index(&v.as_bytes()[..i]), None, "{v}[..{i}]");
            }
            assert_eq!(common_index(format!("{v}\0").as_bytes()), None, "{v} + NUL");
        }
        assert_eq!(common("get").1, None);
        assert_eq!(common("HTTP/3").1, None);
        // by bytes: the same values and ids, other text as it stands, invalid UTF-8 as none
        for v in COMMON_VALUES {
            assert_eq!(common_bytes(v.as_bytes()), Some(common(v)), "{v}");
        }
        assert_eq!(common_bytes(b"PROPFIND"), Some(("PROPFIND", None)));
        assert_eq!(common_bytes(b"GE"), Some(("GE", None)));
        assert_eq!(common_bytes(b"G\xffT"), None);
    }

    #[test]
    fn static_assets() {
        assert!(is_static("/static/css/main.css"));
        assert!(is_static("/images/LOGO.PNG"));
        assert!(!is_static("/list"));
        assert!(!is_static("/apps/cart.jsp"));
        assert!(!is_static("/v1.2/items"));
        // every listed extension, in any case; a NUL or a sixth byte is not one of them
        for ext in STATIC_EXT {
            assert!(is_static(&format!("/a/b.{ext}")), "{ext}");
            assert!(is_static(&format!("/a/b.{}", ext.to_ascii_uppercase())), "{ext}");
            assert!(!is_static(&format!("/a/b.{ext}\0")), "{ext} with a NUL");
            assert!(
                !is_static(&format!("/a/b.x{ext}")) || STATIC_EXT.contains(&&*format!("x{ext}")),
                "x{ext}"
            );
        }
        assert!(!is_static("/a/b.j"));
        assert!(!is_static("/a/b."));
    }

    #[test]
    fn referrer_hosts() {
        assert_eq!(referrer_host("https://www.Example.com:8443/x?y").as_deref(), Some("www.example.com"));
        assert_eq!(referrer_host("http://user@host.io/").as_deref(), Some("host.io"));
        assert_eq!(referrer_host("http://[2001:db8::1]:80/").as_deref(), Some("2001:db8::1"));
        assert_eq!(referrer_host("-"), None);
        assert_eq!(
            referrer_host("android-app://com.google.android.gm/").as_deref(),
            Some("com.google.android.gm")
        );
    }
}
