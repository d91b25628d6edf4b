//! Feature extraction: a parsed line becomes a `curated/access_logs` row; a failed one a
//! `curated/rejects` row.

use loglake_catalog::{BatchBuilder, CatalogError, Value, ACCESS_LOGS, REJECTS};
use loglake_parser::{LogRecord, ParseError};

use crate::agent::AgentCache;
use crate::anonymize::IpAnonymizer;

/// What feature extraction keeps between rows of one worker: the user-agent cache and the
/// address anonymization of the run (`--anonymize-ip`).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Features {
    /// User-agent families, cached per distinct agent.
    pub agents: AgentCache,
    /// Anonymize client addresses before they are written.
    pub anonymize: Option<IpAnonymizer>,
}

impl Features {
    /// Features that anonymize client addresses this way.
    #[must_use]
    pub fn with_anonymizer(anonymize: Option<IpAnonymizer>) -> Self {
        Features { agents: AgentCache::default(), anonymize }
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
    let last = path.rsplit('/').next().unwrap_or(path);
    last.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.len() <= 5 && STATIC_EXT.iter().any(|s| s.eq_ignore_ascii_case(ext)))
}

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
    let parsed_ip = r.client_ip();
    let (mut client, ident, user) = (r.remote_host(), r.ident(), r.user());
    let ip = match (&features.anonymize, parsed_ip) {
        (None, ip) => ip.map(|i| i.to_string()),
        (Some(a), Some(ip)) => {
            let masked = a.ip(ip);
            client = Some(masked.clone().into());
            Some(masked)
        }
        (Some(a), None) => {
            client = client.and_then(|c| a.host(&c)).map(Into::into);
            None
        }
    };
    let agents = &mut features.agents;
    let (path, query, request) = (r.path(), r.query(), r.request());
    let (referrer, agent, vhost) = (r.referer(), r.user_agent(), r.vhost());
    let ref_host = referrer.as_deref().and_then(referrer_host);
    let ua = agent.as_deref().map(|a| agents.classify(a));
    let t = r.time();
    let status = r.status();
    let class = status
        .and_then(|s| ["1xx", "2xx", "3xx", "4xx", "5xx"].get(usize::from(s / 100).checked_sub(1)?).copied());
    fn s(x: Option<&str>) -> Value<'_> {
        x.map_or(Value::Null, Value::Str)
    }
    let n = |x: Option<i64>| x.map_or(Value::Null, Value::Int);
    let row = [
        n(t.map(|t| t.unix_micros())),
        n(t.map(|t| i64::from(t.offset_minutes()))),
        s(client.as_deref()),
        s(ip.as_deref()),
        s(ident.as_deref()),
        s(user.as_deref()),
        s(r.method()),
        s(path.as_deref()),
        s(query.as_deref()),
        s(r.protocol()),
        if r.is_valid_request() { Value::Null } else { s(request.as_deref()) },
        n(status.map(i64::from)),
        s(class),
        n(r.response_bytes().and_then(|b| i64::try_from(b).ok())),
        n(r.duration_micros().and_then(|d| i64::try_from(d).ok())),
        s(referrer.as_deref()),
        s(ref_host.as_deref()),
        s(agent.as_deref()),
        s(ua.map(|a| a.browser.as_str())),
        s(ua.map(|a| a.os.as_str())),
        s(ua.map(|a| a.device.as_str())),
        ua.map_or(Value::Null, |a| Value::Bool(a.is_bot)),
        path.as_deref().map_or(Value::Null, |p| Value::Bool(is_static(p))),
        s(vhost.as_deref()),
        Value::Str(source_object),
        Value::Int(i64::try_from(line).unwrap_or(i64::MAX)),
    ];
    debug_assert_eq!(row.len(), ACCESS_LOGS.columns.len());
    b.push(&row)
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
    fn static_assets() {
        assert!(is_static("/static/css/main.css"));
        assert!(is_static("/images/LOGO.PNG"));
        assert!(!is_static("/list"));
        assert!(!is_static("/apps/cart.jsp"));
        assert!(!is_static("/v1.2/items"));
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
