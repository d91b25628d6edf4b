//! Apache `LogFormat` strings: presets, directives and the compiler front end.
//!
//! A format string is lexed with nom into literals and `%` directives. The result is a
//! [`LogFormat`]: an inspectable list of [`Item`]s that [`crate::Parser`] turns into a
//! matching program. Nothing here runs per log line.

use std::fmt;
use std::str::FromStr;

use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_till, take_till1};
use nom::character::complete::{anychar, char, digit1};
use nom::combinator::{map, map_res, value};
use nom::multi::fold_many0;
use nom::sequence::{delimited, preceded};
use nom::IResult;

use crate::time::{compile_strftime, StrftimeItem};

/// The most fields one format may hold (a record keeps their spans inline, without allocating).
pub const MAX_FIELDS: usize = 32;

/// Named formats that ship with Apache httpd (and Debian's `vhost_combined`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// `%h %l %u %t "%r" %>s %b` — the Common Log Format.
    Common,
    /// `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"` — the Combined Log Format.
    Combined,
    /// `%v %h %l %u %t "%r" %>s %b` — Common with the virtual host first.
    VhostCommon,
    /// `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"` — Debian's default.
    VhostCombined,
    /// `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O` — Combined plus `mod_logio`.
    CombinedIo,
}

impl Preset {
    /// Every preset, in documentation order.
    pub const ALL: [Preset; 5] =
        [Preset::Common, Preset::Combined, Preset::VhostCommon, Preset::VhostCombined, Preset::CombinedIo];

    /// The nickname used in httpd.conf and on our command lines (`combined`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Common => "common",
            Preset::Combined => "combined",
            Preset::VhostCommon => "vhost_common",
            Preset::VhostCombined => "vhost_combined",
            Preset::CombinedIo => "combinedio",
        }
    }

    /// The `LogFormat` string of the preset.
    #[must_use]
    pub const fn format_string(self) -> &'static str {
        match self {
            Preset::Common => r#"%h %l %u %t "%r" %>s %b"#,
            Preset::Combined => r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#,
            Preset::VhostCommon => r#"%v %h %l %u %t "%r" %>s %b"#,
            Preset::VhostCombined => r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#,
            Preset::CombinedIo => r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O"#,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| FormatError::new(FormatErrorKind::UnknownPreset, 0, s.trim()))
    }
}

/// What a `%` directive logs. Names follow the `mod_log_config` documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Directive {
    /// `%a` (`%{c}a`: the peer address of the connection): client IP address.
    ClientIp,
    /// `%A`: local IP address.
    LocalIp,
    /// `%b`: response size without headers, `-` for zero bytes.
    BytesClf,
    /// `%B`: response size without headers.
    Bytes,
    /// `%{Name}C`: a cookie of the request.
    Cookie(String),
    /// `%{Name}e`: an environment variable.
    Env(String),
    /// `%f`: file name.
    Filename,
    /// `%h` (`%{c}h`): remote host name or address.
    RemoteHost,
    /// `%H`: request protocol.
    Protocol,
    /// `%{Name}i`: a request header.
    RequestHeader(String),
    /// `%k`: keep-alive requests handled on this connection.
    KeepAlive,
    /// `%l`: remote logname (identd), usually `-`.
    RemoteLogname,
    /// `%L`: request log id.
    LogId,
    /// `%m`: request method.
    Method,
    /// `%{Name}n`: a note from another module.
    Note(String),
    /// `%{Name}o`: a response header.
    ResponseHeader(String),
    /// `%p`, `%{canonical|local|remote}p`: a port.
    Port,
    /// `%P`, `%{pid|tid|hextid}P`: process or thread id.
    ProcessId,
    /// `%q`: query string, with its leading `?`, or empty.
    QueryString,
    /// `%r`: first line of the request.
    RequestLine,
    /// `%R`: handler that produced the response.
    Handler,
    /// `%s`, `%<s`, `%>s`: status.
    Status,
    /// `%t`, `%{format}t`: time the request was received (or ended, with `end:`).
    Time(TimeFormat),
    /// `%D`, `%T`, `%{s|ms|us}T`: time taken to serve the request.
    Duration(TimeUnit),
    /// `%u`: remote user from HTTP authentication.
    RemoteUser,
    /// `%U`: URL path, without the query string.
    UrlPath,
    /// `%v`: canonical server name of the virtual host.
    ServerName,
    /// `%V`: server name according to `UseCanonicalName`.
    ServerNameUsed,
    /// `%X`: connection status when the response completed (`X`, `+`, `-`).
    ConnectionStatus,
    /// `%I` (`mod_logio`): bytes received, with headers.
    BytesReceived,
    /// `%O` (`mod_logio`): bytes sent, with headers.
    BytesSent,
    /// `%S` (`mod_logio`): bytes transferred, received plus sent.
    BytesTransferred,
    /// `%{Name}^ti`: a request trailer.
    RequestTrailer(String),
    /// `%{Name}^to`: a response trailer.
    ResponseTrailer(String),
    /// `%{Name}x` (`mod_ssl`): an SSL variable such as `SSL_PROTOCOL`.
    SslVariable(String),
}

/// How a time directive renders the time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeFormat {
    /// `%t`: `[10/Oct/2000:13:55:36 -0700]`, brackets included.
    Clf,
    /// `%{sec}t`, `%{msec}t`, `%{usec}t`: time since the epoch.
    Epoch(TimeUnit),
    /// `%{msec_frac}t`, `%{usec_frac}t`: the sub-second part, zero-padded.
    Fraction(TimeUnit),
    /// `%{...}t` with strftime conversions (the supported subset is in docs/parser.md).
    Strftime(String),
}

/// The unit of a duration or epoch time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Millis,
    /// Microseconds.
    Micros,
}

impl TimeUnit {
    /// Microseconds in one unit.
    #[must_use]
    pub const fn micros(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1_000_000,
            TimeUnit::Millis => 1_000,
            TimeUnit::Micros => 1,
        }
    }
}

/// Which request of an internally redirected chain a directive reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Redirect {
    /// `%<x`: the original request.
    Original,
    /// `%>x`: the final request.
    Final,
}

/// One `%` directive with its modifiers, as written in the format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FieldSpec {
    /// What the field logs.
    pub directive: Directive,
    /// `%400,501{User-agent}i`: status codes the field is logged for (else `-`).
    pub conditions: Vec<u16>,
    /// `%!200,304{Referer}i`: the conditions are negated.
    pub negated: bool,
    /// `%<s` / `%>s`.
    pub redirect: Option<Redirect>,
    /// The directive as written, e.g. `%>s` or `%{Referer}i`.
    pub text: String,
    /// Character position of the `%` in the format string.
    pub position: usize,
}

/// A piece of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// Text that appears verbatim in every line.
    Literal(String),
    /// A field.
    Field(FieldSpec),
}

/// A compiled Apache `LogFormat`: the items of the format, checked.
///
/// ```
/// use loglake_parser::{LogFormat, Preset};
///
/// let custom = LogFormat::parse(r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\""#)?;
/// assert_eq!(custom.fields().count(), 9);
/// let combined = LogFormat::preset(Preset::Combined);
/// assert!(custom.fields().map(|f| &f.directive).eq(combined.fields().map(|f| &f.directive)));
/// # Ok::<(), loglake_parser::FormatError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogFormat {
    source: String,
    items: Vec<Item>,
    pub(crate) strftime: Vec<Vec<StrftimeItem>>,
}

impl LogFormat {
    /// Compiles a format string as written after `LogFormat` in httpd.conf.
    ///
    /// Accepts the string with or without httpd.conf's escaping (`\"` and `"` are the same),
    /// and also a whole pasted `LogFormat "..." nickname` line.
    ///
    /// # Errors
    /// A [`FormatError`] naming the directive and its character position when the format uses
    /// an unsupported directive, an unterminated `%{`, or two fields with nothing between them.
    pub fn parse(format: &str) -> Result<Self, FormatError> {
        let source = strip_logformat_line(format);
        let items = lex(source)?;
        let mut strftime = Vec::new();
        let mut fields = 0usize;
        for item in &items {
            if let Item::Field(spec) = item {
                fields += 1;
                if fields > MAX_FIELDS {
                    return Err(FormatError::new(FormatErrorKind::TooManyFields, spec.position, &spec.text));
                }
                if let Directive::Time(TimeFormat::Strftime(f)) = &spec.directive {
                    let compiled = compile_strftime(f).map_err(|(offset, conv)| {
                        FormatError::new(
                            FormatErrorKind::UnsupportedTimeConversion(conv),
                            spec.position + 2 + offset,
                            &spec.text,
                        )
                    })?;
                    strftime.push(compiled);
                }
            }
        }
        if fields == 0 {
            return Err(FormatError::new(FormatErrorKind::NoFields, 0, source));
        }
        check_adjacent_fields(&items)?;
        Ok(LogFormat { source: source.to_owned(), items, strftime })
    }

    /// The format of a preset.
    #[must_use]
    pub fn preset(preset: Preset) -> Self {
        // The preset strings are constants covered by tests.
        Self::parse(preset.format_string()).unwrap_or_else(|e| unreachable!("preset {preset}: {e}"))
    }

    /// A preset by name (`combined`, `common`, ...) or else a format string.
    ///
    /// This is what a `--format` flag should call.
    ///
    /// # Errors
    /// As [`LogFormat::parse`].
    pub fn named_or_parse(name_or_format: &str) -> Result<Self, FormatError> {
        match name_or_format.parse::<Preset>() {
            Ok(p) => Ok(Self::preset(p)),
            Err(_) => Self::parse(name_or_format),
        }
    }

    /// The format string this was compiled from.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Literals and fields, in order.
    #[must_use]
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The fields, in order; a record's [`crate::LogRecord::field`] index follows this order.
    pub fn fields(&self) -> impl Iterator<Item = &FieldSpec> + '_ {
        self.items.iter().filter_map(|i| match i {
            Item::Field(f) => Some(f),
            Item::Literal(_) => None,
        })
    }
}

impl FromStr for LogFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::named_or_parse(s)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Why a format string did not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// A `%` directive we do not know (or that needs a `{Name}` it lacks).
    #[error("unsupported directive")]
    UnsupportedDirective,
    /// `%{` without the closing `}`.
    #[error("unterminated `%{{`")]
    UnterminatedBrace,
    /// The format ends with a lone `%`.
    #[error("lone `%` at the end of the format")]
    DanglingPercent,
    /// Two fields with no literal between them, where the first has no fixed end.
    #[error("field directly followed by another field with nothing to separate them")]
    AmbiguousFields,
    /// More than [`MAX_FIELDS`] fields.
    #[error("more than {MAX_FIELDS} fields")]
    TooManyFields,
    /// A strftime conversion inside `%{...}t` that we do not support.
    #[error("unsupported time conversion `%{0}`")]
    UnsupportedTimeConversion(char),
    /// The format has no `%` directive at all.
    #[error("the format has no fields")]
    NoFields,
    /// Not a known preset name.
    #[error("unknown preset (expected one of common, combined, vhost_common, vhost_combined, combinedio)")]
    UnknownPreset,
}

/// A format string that did not compile: what, where (character position), and the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: `{text}` at position {position}")]
pub struct FormatError {
    kind: FormatErrorKind,
    position: usize,
    text: String,
}

impl FormatError {
    fn new(kind: FormatErrorKind, position: usize, text: &str) -> Self {
        FormatError { kind, position, text: text.to_owned() }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &FormatErrorKind {
        &self.kind
    }

    /// Character position in the format string (0-based) of the offending directive.
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    /// The offending directive (or text) as written.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Accepts `LogFormat "..." nick` pasted whole; returns the quoted format.
fn strip_logformat_line(s: &str) -> &str {
    let t = s.trim();
    let Some(rest) = t.strip_prefix("LogFormat") else {
        return s;
    };
    let rest = rest.trim_start();
    if rest.len() == t.len() - "LogFormat".len() || !rest.starts_with('"') {
        return s;
    }
    let body = &rest[1..];
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return &body[..i],
            _ => escaped = false,
        }
    }
    s
}

// ---------------------------------------------------------------- lexer (nom)

#[derive(Default)]
struct Modifiers<'a> {
    negated: bool,
    redirect: Option<Redirect>,
    conditions: Vec<u16>,
    arg: Option<&'a str>,
}

#[derive(Clone)]
enum Modifier<'a> {
    Not,
    Redirect(Redirect),
    Condition(u16),
    Comma,
    Arg(&'a str),
}

fn modifier(i: &str) -> IResult<&str, Modifier<'_>> {
    alt((
        value(Modifier::Not, char('!')),
        value(Modifier::Redirect(Redirect::Original), char('<')),
        value(Modifier::Redirect(Redirect::Final), char('>')),
        value(Modifier::Comma, char(',')),
        map_res(digit1, |d: &str| d.parse::<u16>().map(Modifier::Condition)),
        map(delimited(char('{'), take_till(|c| c == '}'), char('}')), Modifier::Arg),
    ))(i)
}

fn modifiers(i: &str) -> IResult<&str, Modifiers<'_>> {
    fold_many0(modifier, Modifiers::default, |mut acc, m| {
        match m {
            Modifier::Not => acc.negated = true,
            Modifier::Redirect(r) => acc.redirect = Some(r),
            Modifier::Condition(c) => acc.conditions.push(c),
            Modifier::Comma => {}
            Modifier::Arg(a) => acc.arg = Some(a),
        }
        acc
    })(i)
}

/// The directive name after the modifiers: one character, or `^ti` / `^to`.
fn directive_name(i: &str) -> IResult<&str, &str> {
    alt((tag("^ti"), tag("^to"), nom::bytes::complete::take(1usize)))(i)
}

fn literal_run(i: &str) -> IResult<&str, &str> {
    take_till1(|c| c == '%' || c == '\\')(i)
}

fn escape(i: &str) -> IResult<&str, char> {
    map(preceded(char('\\'), anychar), |c| match c {
        'n' => '\n',
        't' => '\t',
        other => other,
    })(i)
}

fn lex(source: &str) -> Result<Vec<Item>, FormatError> {
    let mut items: Vec<Item> = Vec::new();
    let mut literal = String::new();
    let mut rest = source;
    let pos_of = |rest: &str| source[..source.len() - rest.len()].chars().count();
    while !rest.is_empty() {
        if let Ok((r, text)) = literal_run(rest) {
            literal.push_str(text);
            rest = r;
            continue;
        }
        if rest.starts_with('\\') {
            match escape(rest) {
                Ok((r, c)) => {
                    literal.push(c);
                    rest = r;
                }
                Err(_) => {
                    // a lone trailing backslash is literal text
                    literal.push('\\');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        // a directive
        let start = rest;
        let position = pos_of(start);
        let after_pct = &rest[1..];
        if after_pct.is_empty() {
            return Err(FormatError::new(FormatErrorKind::DanglingPercent, position, "%"));
        }
        let (r, mods) = modifiers(after_pct).unwrap_or((after_pct, Modifiers::default()));
        if r.starts_with('{') {
            let text = is_not::<_, _, nom::error::Error<&str>>("%")(start).map_or(start, |(_, t)| t);
            return Err(FormatError::new(FormatErrorKind::UnterminatedBrace, position, text));
        }
        let Ok((r, name)) = directive_name(r) else {
            return Err(FormatError::new(FormatErrorKind::DanglingPercent, position, start));
        };
        let text = &start[..start.len() - r.len()];
        rest = r;
        if name == "%" {
            literal.push('%');
            continue;
        }
        let directive = resolve(name, mods.arg)
            .ok_or_else(|| FormatError::new(FormatErrorKind::UnsupportedDirective, position, text))?;
        if !literal.is_empty() {
            items.push(Item::Literal(std::mem::take(&mut literal)));
        }
        items.push(Item::Field(FieldSpec {
            directive,
            conditions: mods.conditions,
            negated: mods.negated,
            redirect: mods.redirect,
            text: text.to_owned(),
            position,
        }));
    }
    if !literal.is_empty() {
        items.push(Item::Literal(literal));
    }
    Ok(items)
}

fn resolve(name: &str, arg: Option<&str>) -> Option<Directive> {
    let named = |f: fn(String) -> Directive| arg.filter(|a| !a.is_empty()).map(|a| f(a.to_owned()));
    let plain = |d: Directive, allowed: &[&str]| match arg {
        None => Some(d),
        Some(a) if allowed.contains(&a) => Some(d),
        Some(_) => None,
    };
    match name {
        "a" => plain(Directive::ClientIp, &["c"]),
        "A" => plain(Directive::LocalIp, &[]),
        "b" => plain(Directive::BytesClf, &[]),
        "B" => plain(Directive::Bytes, &[]),
        "C" => named(Directive::Cookie),
        "D" => plain(Directive::Duration(TimeUnit::Micros), &[]),
        "e" => named(Directive::Env),
        "f" => plain(Directive::Filename, &[]),
        "h" => plain(Directive::RemoteHost, &["c"]),
        "H" => plain(Directive::Protocol, &[]),
        "i" => named(Directive::RequestHeader),
        "k" => plain(Directive::KeepAlive, &[]),
        "l" => plain(Directive::RemoteLogname, &[]),
        "L" => plain(Directive::LogId, &["c"]),
        "m" => plain(Directive::Method, &[]),
        "n" => named(Directive::Note),
        "o" => named(Directive::ResponseHeader),
        "p" => plain(Directive::Port, &["canonical", "local", "remote"]),
        "P" => plain(Directive::ProcessId, &["pid", "tid", "hextid"]),
        "q" => plain(Directive::QueryString, &[]),
        "r" => plain(Directive::RequestLine, &[]),
        "R" => plain(Directive::Handler, &[]),
        "s" => plain(Directive::Status, &[]),
        "t" => Some(Directive::Time(time_format(arg))),
        "T" => match arg {
            None | Some("s") => Some(Directive::Duration(TimeUnit::Seconds)),
            Some("ms") => Some(Directive::Duration(TimeUnit::Millis)),
            Some("us") => Some(Directive::Duration(TimeUnit::Micros)),
            Some(_) => None,
        },
        "u" => plain(Directive::RemoteUser, &[]),
        "U" => plain(Directive::UrlPath, &[]),
        "v" => plain(Directive::ServerName, &[]),
        "V" => plain(Directive::ServerNameUsed, &[]),
        "x" => named(Directive::SslVariable),
        "X" => plain(Directive::ConnectionStatus, &[]),
        "I" => plain(Directive::BytesReceived, &[]),
        "O" => plain(Directive::BytesSent, &[]),
        "S" => plain(Directive::BytesTransferred, &[]),
        "^ti" => named(Directive::RequestTrailer),
        "^to" => named(Directive::ResponseTrailer),
        _ => None,
    }
}

fn time_format(arg: Option<&str>) -> TimeFormat {
    let Some(arg) = arg else {
        return TimeFormat::Clf;
    };
    let f = arg.strip_prefix("begin:").or_else(|| arg.strip_prefix("end:")).unwrap_or(arg);
    match f {
        "sec" => TimeFormat::Epoch(TimeUnit::Seconds),
        "msec" => TimeFormat::Epoch(TimeUnit::Millis),
        "usec" => TimeFormat::Epoch(TimeUnit::Micros),
        "msec_frac" => TimeFormat::Fraction(TimeUnit::Millis),
        "usec_frac" => TimeFormat::Fraction(TimeUnit::Micros),
        other => TimeFormat::Strftime(other.to_owned()),
    }
}

/// Fields that end by themselves (their text has a fixed shape) may touch the next field.
pub(crate) fn is_self_delimiting(d: &Directive) -> bool {
    matches!(d, Directive::Time(_))
}

fn check_adjacent_fields(items: &[Item]) -> Result<(), FormatError> {
    for pair in items.windows(2) {
        if let [Item::Field(a), Item::Field(b)] = pair {
            // `%U%q` is Apache's own idiom: the path ends where the `?` starts
            let path_query = a.directive == Directive::UrlPath && b.directive == Directive::QueryString;
            if !is_self_delimiting(&a.directive) && !path_query {
                return Err(FormatError::new(
                    FormatErrorKind::AmbiguousFields,
                    b.position,
                    &format!("{}{}", a.text, b.text),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directives(f: &str) -> Vec<Directive> {
        LogFormat::parse(f).unwrap().fields().map(|s| s.directive.clone()).collect()
    }

    #[test]
    fn presets_compile() {
        for p in Preset::ALL {
            let f = LogFormat::preset(p);
            assert!(f.fields().count() >= 7, "{p}");
            assert_eq!(p.name().parse::<Preset>().unwrap(), p);
        }
    }

    #[test]
    fn escaped_and_plain_quotes_are_the_same() {
        let a = LogFormat::parse(r#"%h \"%r\" %>s"#).unwrap();
        let b = LogFormat::parse(r#"%h "%r" %>s"#).unwrap();
        assert_eq!(a.items()[1], Item::Literal(" \"".into()));
        assert_eq!(a.items()[1], b.items()[1]);
        assert_eq!(a.items()[3], b.items()[3]);
    }

    #[test]
    fn pasted_logformat_line() {
        let f = LogFormat::parse(
            r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined"#,
        )
        .unwrap();
        assert_eq!(f.fields().count(), 9);
    }

    #[test]
    fn every_documented_directive() {
        let all = "%a %{c}a %A %b %B %D %h %{c}h %H %I %k %l %L %m %O %p %{remote}p %P %{tid}P %q";
        assert_eq!(directives(all).len(), 20);
        let more = "%r %s %>s %<s %t %T %u %U %v %V %X %S %f %R";
        assert_eq!(directives(more).len(), 14);
        let named = "%{X}i %{X}o %{X}e %{X}n %{X}C %{X}x %{X}^ti %{X}^to %{ms}T %{us}T %{sec}t";
        assert_eq!(
            directives(named),
            vec![
                Directive::RequestHeader("X".into()),
                Directive::ResponseHeader("X".into()),
                Directive::Env("X".into()),
                Directive::Note("X".into()),
                Directive::Cookie("X".into()),
                Directive::SslVariable("X".into()),
                Directive::RequestTrailer("X".into()),
                Directive::ResponseTrailer("X".into()),
                Directive::Duration(TimeUnit::Millis),
                Directive::Duration(TimeUnit::Micros),
                Directive::Time(TimeFormat::Epoch(TimeUnit::Seconds)),
            ]
        );
    }

    #[test]
    fn modifiers_are_parsed() {
        let f = LogFormat::parse("%!200,304{Referer}i %400,501{User-agent}i %<s").unwrap();
        let specs: Vec<_> = f.fields().collect();
        assert!(specs[0].negated);
        assert_eq!(specs[0].conditions, vec![200, 304]);
        assert!(!specs[1].negated);
        assert_eq!(specs[1].conditions, vec![400, 501]);
        assert_eq!(specs[2].redirect, Some(Redirect::Original));
        assert_eq!(specs[2].text, "%<s");
    }

    #[test]
    fn percent_and_escapes_are_literals() {
        let f = LogFormat::parse(r"%h 100%% \t%s").unwrap();
        assert_eq!(f.items()[1], Item::Literal(" 100% \t".into()));
    }

    #[test]
    fn unsupported_directive_names_itself_and_position() {
        let e = LogFormat::parse("%h %l %Z %s").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::UnsupportedDirective);
        assert_eq!(e.position(), 6);
        assert_eq!(e.text(), "%Z");
        assert_eq!(e.to_string(), "unsupported directive: `%Z` at position 6");
        let e = LogFormat::parse("%h %{Referer}").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::DanglingPercent);
        let e = LogFormat::parse("%h %i").unwrap_err();
        assert_eq!((e.kind(), e.text()), (&FormatErrorKind::UnsupportedDirective, "%i"));
        let e = LogFormat::parse("%h %{Referer").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::UnterminatedBrace);
        let e = LogFormat::parse("%h %").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::DanglingPercent);
        let e = LogFormat::parse("%{%Q}t").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::UnsupportedTimeConversion('Q'));
        assert_eq!(e.position(), 2);
        let e = LogFormat::parse("%{nope}p").unwrap_err();
        assert_eq!(e.text(), "%{nope}p");
    }

    #[test]
    fn ambiguous_and_empty_formats_are_rejected() {
        let e = LogFormat::parse("%h%l").unwrap_err();
        assert_eq!(e.kind(), &FormatErrorKind::AmbiguousFields);
        assert!(LogFormat::parse("%t%h").is_ok());
        assert_eq!(LogFormat::parse("plain").unwrap_err().kind(), &FormatErrorKind::NoFields);
        let many = "%h ".repeat(MAX_FIELDS + 1);
        assert_eq!(LogFormat::parse(&many).unwrap_err().kind(), &FormatErrorKind::TooManyFields);
    }

    #[test]
    fn named_or_parse() {
        assert_eq!(LogFormat::named_or_parse("combined").unwrap(), LogFormat::preset(Preset::Combined));
        assert!(LogFormat::named_or_parse("%h %s").is_ok());
        assert!(LogFormat::named_or_parse("nonsense").is_err());
    }
}
