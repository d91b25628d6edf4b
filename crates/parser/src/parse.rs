//! The matcher: a [`LogFormat`] compiled into steps, run over each line with memchr.

use std::cell::Cell;
use std::sync::Arc;

use memchr::{memchr, memchr2, memmem};

use crate::error::{ErrorKind, ParseError};
use crate::format::{is_self_delimiting, Directive, Item, LogFormat, Preset, TimeFormat, TimeUnit};
use crate::record::{LogRecord, RequestParts, Slot, Span, NO_FIELD, SLOT_COUNT};
use crate::time::{parse_clf_time, parse_strftime, DateCache, StrftimeItem, TimeParts};

/// What a field's text is turned into.
#[derive(Debug, Clone)]
enum Kind {
    /// Any text; only its span is kept.
    Text,
    /// Text that never contains a space (hosts, ports, ids).
    Token,
    /// A token that may not be empty (addresses).
    Address,
    Status,
    ClfBytes,
    Bytes,
    BytesReceived,
    BytesSent,
    Duration(TimeUnit),
    ClfTime,
    Strftime(Vec<StrftimeItem>),
    Epoch(TimeUnit),
    Fraction(TimeUnit),
    RequestLine,
    Method,
    UrlPath,
    Query,
    Protocol,
}

impl Kind {
    fn never_has_spaces(&self) -> bool {
        !matches!(self, Kind::Text | Kind::RequestLine | Kind::UrlPath | Kind::Query)
    }
}

/// Where an unquoted field ends.
#[derive(Debug, Clone)]
enum Term {
    /// At the next literal, which is one byte.
    Byte(u8),
    /// At the next literal.
    Bytes(Box<[u8]>),
    /// At the end of the line.
    End,
}

#[derive(Debug, Clone)]
enum Scan {
    /// Inside `"..."`: ends at an unescaped quote that the closing literal follows.
    Quoted { close: Box<[u8]>, last: bool },
    /// Plain text up to the terminator.
    Until(Term),
    /// The field's own syntax says where it ends (time formats).
    SelfDelimited,
    /// `%U` directly followed by `%q`: up to the `?`, else up to the terminator after `%q`.
    PathBeforeQuery(Term),
}

#[derive(Debug, Clone)]
struct FieldStep {
    index: u8,
    kind: Kind,
    scan: Scan,
}

#[derive(Debug, Clone)]
enum Step {
    Literal(Box<[u8]>),
    Field(FieldStep),
}

/// One format, compiled.
#[derive(Debug, Clone)]
struct Program {
    steps: Vec<Step>,
    field_count: u8,
    slots: [u8; SLOT_COUNT],
    /// Time comes from directives other than a lone `%t`, so it is assembled from parts.
    general_time: bool,
    /// The steps are the Combined layout, which [`Parser::run_combined`] matches without the
    /// step interpreter.
    combined: bool,
}

/// Whether `steps` are the Combined layout: `%h %l %u %t "%r" %>s %b "%{..}i" "%{..}i"` with
/// any address directive first and any two headers (their slots come from the program).
fn is_combined_layout(steps: &[Step]) -> bool {
    fn lit(s: &Step, want: &[u8]) -> bool {
        matches!(s, Step::Literal(l) if **l == *want)
    }
    fn field(s: &Step, i: u8, kind: impl Fn(&Kind) -> bool, scan: impl Fn(&Scan) -> bool) -> bool {
        matches!(s, Step::Field(f) if f.index == i && kind(&f.kind) && scan(&f.scan))
    }
    fn until_space(s: &Scan) -> bool {
        matches!(s, Scan::Until(Term::Byte(b' ')))
    }
    fn quoted(close: &'static [u8], last: bool) -> impl Fn(&Scan) -> bool {
        move |s| matches!(s, Scan::Quoted { close: c, last: l } if **c == *close && *l == last)
    }
    let [h, s1, l, s2, u, s3, t, q1, r, q2, st, s4, b, q3, re, q4, ua, q5] = steps else {
        return false;
    };
    field(h, 0, |k| matches!(k, Kind::Address), until_space)
        && lit(s1, b" ")
        && field(l, 1, |k| matches!(k, Kind::Token), until_space)
        && lit(s2, b" ")
        && field(u, 2, |k| matches!(k, Kind::Token), until_space)
        && lit(s3, b" ")
        && field(t, 3, |k| matches!(k, Kind::ClfTime), |s| matches!(s, Scan::SelfDelimited))
        && lit(q1, b" \"")
        && field(r, 4, |k| matches!(k, Kind::RequestLine), quoted(b"\" ", false))
        && lit(q2, b"\" ")
        && field(st, 5, |k| matches!(k, Kind::Status), until_space)
        && lit(s4, b" ")
        // the size's scan stops at the first byte of ` "` (or a space): a space either way
        && field(b, 6, |k| matches!(k, Kind::ClfBytes), |s| {
            matches!(s, Scan::Until(Term::Bytes(t)) if **t == *b" \"")
        })
        && lit(q3, b" \"")
        && field(re, 7, |k| matches!(k, Kind::Text), quoted(b"\" \"", false))
        && lit(q4, b"\" \"")
        && field(ua, 8, |k| matches!(k, Kind::Text), quoted(b"\"", true))
        && lit(q5, b"\"")
}

fn slot_of(d: &Directive) -> Option<Slot> {
    Some(match d {
        Directive::RemoteHost => Slot::RemoteHost,
        Directive::ClientIp => Slot::ClientIp,
        Directive::LocalIp => Slot::LocalIp,
        Directive::RemoteLogname => Slot::Ident,
        Directive::RemoteUser => Slot::User,
        Directive::RequestLine => Slot::RequestLine,
        Directive::Method => Slot::Method,
        Directive::UrlPath => Slot::UrlPath,
        Directive::QueryString => Slot::Query,
        Directive::Protocol => Slot::Protocol,
        Directive::ServerName => Slot::ServerName,
        Directive::ServerNameUsed => Slot::ServerNameUsed,
        Directive::Port => Slot::Port,
        Directive::RequestHeader(h) if h.eq_ignore_ascii_case("referer") => Slot::Referer,
        Directive::RequestHeader(h) if h.eq_ignore_ascii_case("user-agent") => Slot::UserAgent,
        Directive::RequestHeader(h) if h.eq_ignore_ascii_case("x-forwarded-for") => Slot::ForwardedFor,
        Directive::RequestHeader(h) if h.eq_ignore_ascii_case("host") => Slot::HostHeader,
        _ => return None,
    })
}

fn kind_of(d: &Directive, strftime: &mut impl Iterator<Item = Vec<StrftimeItem>>) -> Kind {
    match d {
        Directive::RemoteHost | Directive::ClientIp | Directive::LocalIp => Kind::Address,
        Directive::Status => Kind::Status,
        Directive::BytesClf => Kind::ClfBytes,
        Directive::Bytes => Kind::Bytes,
        Directive::BytesReceived => Kind::BytesReceived,
        Directive::BytesSent => Kind::BytesSent,
        Directive::Duration(u) => Kind::Duration(*u),
        Directive::Time(TimeFormat::Clf) => Kind::ClfTime,
        Directive::Time(TimeFormat::Epoch(u)) => Kind::Epoch(*u),
        Directive::Time(TimeFormat::Fraction(u)) => Kind::Fraction(*u),
        Directive::Time(TimeFormat::Strftime(_)) => Kind::Strftime(strftime.next().unwrap_or_default()),
        Directive::RequestLine => Kind::RequestLine,
        Directive::Method => Kind::Method,
        Directive::UrlPath => Kind::UrlPath,
        Directive::QueryString => Kind::Query,
        Directive::Protocol => Kind::Protocol,
        Directive::RemoteLogname
        | Directive::RemoteUser
        | Directive::Port
        | Directive::ProcessId
        | Directive::KeepAlive
        | Directive::LogId
        | Directive::ConnectionStatus
        | Directive::ServerName
        | Directive::ServerNameUsed
        | Directive::BytesTransferred => Kind::Token,
        _ => Kind::Text,
    }
}

fn term_for(next: Option<&[u8]>) -> Term {
    match next {
        None => Term::End,
        Some([b]) => Term::Byte(*b),
        Some(n) => Term::Bytes(n.into()),
    }
}

impl Program {
    fn compile(format: &LogFormat) -> Program {
        let items = format.items();
        let mut strftime = format.strftime.clone().into_iter();
        let mut steps = Vec::with_capacity(items.len());
        let mut slots = [NO_FIELD; SLOT_COUNT];
        let mut index: u8 = 0;
        let mut clf_times = 0;
        let mut other_times = 0;
        for (i, item) in items.iter().enumerate() {
            match item {
                Item::Literal(l) => steps.push(Step::Literal(l.as_bytes().into())),
                Item::Field(spec) => {
                    let prev = i.checked_sub(1).and_then(|p| match &items[p] {
                        Item::Literal(l) => Some(l.as_bytes()),
                        Item::Field(_) => None,
                    });
                    let literal_at = |j: usize| match items.get(j) {
                        Some(Item::Literal(l)) => Some(l.as_bytes()),
                        _ => None,
                    };
                    let next = literal_at(i + 1);
                    let query_follows = matches!(
                        items.get(i + 1),
                        Some(Item::Field(f)) if f.directive == Directive::QueryString
                    );
                    let next_is_last = i + 2 == items.len();
                    let mut kind = kind_of(&spec.directive, &mut strftime);
                    let quoted = prev.is_some_and(|p| p.ends_with(b"\""))
                        && next.is_some_and(|n| n.starts_with(b"\""));
                    // a quoted token (e.g. "%u") may hold anything
                    if quoted && matches!(kind, Kind::Token) {
                        kind = Kind::Text;
                    }
                    let scan = if is_self_delimiting(&spec.directive) {
                        Scan::SelfDelimited
                    } else if query_follows {
                        Scan::PathBeforeQuery(term_for(literal_at(i + 2)))
                    } else if quoted {
                        Scan::Quoted { close: next.unwrap_or_default().into(), last: next_is_last }
                    } else {
                        Scan::Until(term_for(next))
                    };
                    match spec.directive {
                        Directive::Time(TimeFormat::Clf) => clf_times += 1,
                        Directive::Time(_) => other_times += 1,
                        _ => {}
                    }
                    if let Some(slot) = slot_of(&spec.directive) {
                        if slots[slot as usize] == NO_FIELD {
                            slots[slot as usize] = index;
                        }
                    }
                    steps.push(Step::Field(FieldStep { index, kind, scan }));
                    index += 1;
                }
            }
        }
        let general_time = other_times > 0 || clf_times > 1;
        let combined = !general_time && is_combined_layout(&steps);
        Program { steps, field_count: index, slots, general_time, combined }
    }
}

/// Builds a [`Parser`]: the main format, fallback formats, and leniency switches.
///
/// ```
/// use loglake_parser::{LogFormat, ParserConfig, Preset};
///
/// let parser = ParserConfig::default()                 // combined
///     .fallback(LogFormat::preset(Preset::Common))     // for lines without referer/agent
///     .allow_trailing_fields(true)                     // nginx-style extra fields
///     .build();
/// let r = parser.parse_line(br#"::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209"#)?;
/// assert_eq!(r.format_index(), 1);
/// # Ok::<(), loglake_parser::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ParserConfig {
    formats: Vec<LogFormat>,
    allow_trailing: bool,
}

impl Default for ParserConfig {
    /// The combined format, strict.
    fn default() -> Self {
        ParserConfig::new(LogFormat::preset(Preset::Combined))
    }
}

impl ParserConfig {
    /// A configuration for one format.
    #[must_use]
    pub fn new(format: LogFormat) -> Self {
        ParserConfig { formats: vec![format], allow_trailing: false }
    }

    /// Adds a format tried, in order, when the earlier ones do not match (at most 255 in all).
    #[must_use]
    pub fn fallback(mut self, format: LogFormat) -> Self {
        if self.formats.len() < usize::from(u8::MAX) {
            self.formats.push(format);
        }
        self
    }

    /// Accepts text after the last field (such as nginx's extra `"$http_x_forwarded_for"`) and
    /// keeps it in [`LogRecord::trailing`] instead of rejecting the line. Off by default.
    #[must_use]
    pub fn allow_trailing_fields(mut self, yes: bool) -> Self {
        self.allow_trailing = yes;
        self
    }

    /// Compiles the formats into a parser.
    #[must_use]
    pub fn build(&self) -> Parser {
        Parser {
            programs: self.formats.iter().map(Program::compile).collect(),
            formats: self.formats.clone().into(),
            allow_trailing: self.allow_trailing,
            date_cache: Cell::new(DateCache::default()),
        }
    }
}

/// A compiled access-log parser.
///
/// Cheap to clone (the compiled formats are shared): give each thread its own clone. It is
/// `Send` but not `Sync`, because it remembers the last date it decoded so consecutive lines
/// of the same day skip the calendar arithmetic.
///
/// ```
/// use loglake_parser::{LogFormat, Parser};
///
/// // paste the LogFormat from httpd.conf
/// let format = LogFormat::parse(r#"%v:%p %a %l %u %t \"%r\" %>s %O %D \"%{Referer}i\" \"%{User-Agent}i\""#)?;
/// let parser = Parser::new(format);
/// let r = parser.parse_line(br#"shop.example:443 2001:db8::1 - - [01/Mar/2024:10:00:00 +0000] "POST /cart HTTP/2.0" 201 512 1534 "-" "Mozilla/5.0""#)?;
/// assert_eq!(r.vhost().as_deref(), Some("shop.example"));
/// assert_eq!(r.port(), Some(443));
/// assert_eq!(r.duration_micros(), Some(1534));
/// assert_eq!(r.bytes_sent(), Some(512));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Parser {
    programs: Arc<[Program]>,
    formats: Arc<[LogFormat]>,
    allow_trailing: bool,
    date_cache: Cell<DateCache>,
}

impl Parser {
    /// A strict parser for one format.
    #[must_use]
    pub fn new(format: LogFormat) -> Self {
        ParserConfig::new(format).build()
    }

    /// A strict parser for a preset.
    #[must_use]
    pub fn preset(preset: Preset) -> Self {
        Self::new(LogFormat::preset(preset))
    }

    /// The formats, main one first.
    #[must_use]
    pub fn formats(&self) -> &[LogFormat] {
        &self.formats
    }

    /// Parses one line (a trailing `\n` or `\r\n` is ignored).
    ///
    /// # Errors
    /// A [`ParseError`] when no format matches; with fallbacks, the error of the format that
    /// got furthest into the line.
    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<LogRecord<'a>, ParseError> {
        let mut rec = LogRecord::default();
        self.parse_line_into(line, &mut rec)?;
        Ok(rec)
    }

    /// [`parse_line`](Self::parse_line) into a record the caller keeps: a loop over lines
    /// reuses one record instead of moving a new one (a few hundred bytes) out of each call.
    /// On success `rec` holds the line's record, the same one `parse_line` returns; on an
    /// error its contents mean nothing.
    ///
    /// ```
    /// use loglake_parser::{LogRecord, Parser, Preset};
    ///
    /// let parser = Parser::preset(Preset::Common);
    /// let lines: [&[u8]; 2] = [
    ///     br#"10.0.0.1 - - [31/May/2020:07:12:01 +0200] "GET / HTTP/1.1" 200 5"#,
    ///     b"garbage",
    /// ];
    /// let mut rec = LogRecord::default();
    /// assert!(parser.parse_line_into(lines[0], &mut rec).is_ok());
    /// assert_eq!((rec.status(), rec.path().as_deref()), (Some(200), Some("/")));
    /// assert!(parser.parse_line_into(lines[1], &mut rec).is_err());
    /// ```
    ///
    /// # Errors
    /// As [`parse_line`](Self::parse_line).
    pub fn parse_line_into<'a>(&self, line: &'a [u8], rec: &mut LogRecord<'a>) -> Result<(), ParseError> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Err(ParseError::new(ErrorKind::EmptyLine, 0));
        }
        let mut best: Option<ParseError> = None;
        for (i, program) in self.programs.iter().enumerate() {
            // at most 255 programs (see `fallback`)
            if program.combined && self.run_combined(program, i as u8, line, rec).is_some() {
                return Ok(());
            }
            match self.run(program, i as u8, line, rec) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if best.is_none_or(|b| e.column() > b.column()) {
                        best = Some(e);
                    }
                }
            }
        }
        Err(best.unwrap_or(ParseError::new(ErrorKind::UnexpectedText, 0)))
    }

    fn run<'a>(
        &self,
        program: &Program,
        format_index: u8,
        line: &'a [u8],
        rec: &mut LogRecord<'a>,
    ) -> Result<(), ParseError> {
        rec.reset(line, format_index, program.slots);
        rec.field_count = program.field_count;
        let mut parts = TimeParts::default();
        let mut pos = 0usize;
        for step in &program.steps {
            match step {
                Step::Literal(lit) => {
                    let rest = &line[pos..];
                    if !starts_with_short(rest, lit) {
                        let kind = if lit.starts_with(rest) {
                            ErrorKind::Truncated
                        } else {
                            ErrorKind::UnexpectedText
                        };
                        return Err(ParseError::new(kind, pos));
                    }
                    pos += lit.len();
                }
                Step::Field(f) => {
                    let end = match &f.scan {
                        Scan::Quoted { close, last } => self.scan_quoted(line, pos, close, *last)?,
                        Scan::Until(term) => scan_until(line, pos, term, f.kind.never_has_spaces()),
                        Scan::PathBeforeQuery(term) => {
                            let end = scan_until(line, pos, term, false);
                            memchr(b'?', &line[pos..end]).map_or(end, |q| pos + q)
                        }
                        Scan::SelfDelimited => {
                            self.parse_time_field(&f.kind, line, pos, rec, &mut parts, program.general_time)?
                        }
                    };
                    rec.spans[usize::from(f.index)] = Span::new(pos, end);
                    if !matches!(f.scan, Scan::SelfDelimited) {
                        interpret(&f.kind, line, pos, end, rec)?;
                    }
                    pos = end;
                }
            }
        }
        if pos != line.len() {
            if self.allow_trailing && line[pos] == b' ' {
                rec.trailing = Some(Span::new(pos + 1, line.len()));
            } else {
                return Err(ParseError::new(ErrorKind::TrailingData, pos));
            }
        }
        if program.general_time {
            rec.time = parts.finish().map_err(|k| ParseError::new(k, 0))?;
        }
        if rec.request.method.is_none() {
            request_from_parts(rec);
        }
        Ok(())
    }

    /// The Combined layout's usual line, matched field by field without the step interpreter:
    /// the same record [`run`](Self::run) makes of it. `None` for anything unusual (an error,
    /// trailing text, a status that is not three digits, a time not 26 bytes long), which
    /// then goes through `run` as before, so errors and their columns never differ.
    #[inline]
    fn run_combined<'a>(
        &self,
        program: &Program,
        format_index: u8,
        line: &'a [u8],
        rec: &mut LogRecord<'a>,
    ) -> Option<()> {
        rec.reset(line, format_index, program.slots);
        rec.field_count = program.field_count;
        // %h (not empty), %l, %u: each up to the next space
        let mut pos = 0;
        for field in 0..3 {
            let len = line[pos..].iter().position(|&c| c == b' ')?;
            if field == 0 && len == 0 {
                return None;
            }
            rec.spans[field] = Span::new(pos, pos + len);
            pos += len + 1;
        }
        // %t: `[dd/Mon/yyyy:HH:MM:SS +zzzz]`, then ` "`
        let time = line.get(pos..pos + 30)?;
        if time[0] != b'[' || time[27] != b']' || time[28..] != *b" \"" {
            return None;
        }
        let (micros, offset) = parse_clf_time(&time[1..27], &self.date_cache).ok()?;
        rec.time = Some(crate::Timestamp::from_unix_micros(micros, offset));
        rec.spans[3] = Span::new(pos, pos + 28);
        pos += 30;
        // "%r" then a space
        let end = self.scan_quoted(line, pos, b"\" ", false).ok()?;
        rec.spans[4] = Span::new(pos, end);
        rec.request = split_request(&line[pos..end], pos);
        pos = end + 2;
        // %>s: three digits and a space
        let status = line.get(pos..pos + 4)?;
        if status[3] != b' ' {
            return None;
        }
        rec.status = Some(three_digits(&status[..3])?);
        rec.spans[5] = Span::new(pos, pos + 3);
        pos += 4;
        // %b, then ` "`
        let len = line[pos..].iter().position(|&c| c == b' ')?;
        rec.response_bytes = optional_number(&line[pos..pos + len], pos).ok()?;
        rec.spans[6] = Span::new(pos, pos + len);
        pos += len;
        if line.get(pos..pos + 2)? != b" \"" {
            return None;
        }
        pos += 2;
        // "%{..}i" "%{..}i" and the end of the line
        let end = self.scan_quoted(line, pos, b"\" \"", false).ok()?;
        rec.spans[7] = Span::new(pos, end);
        pos = end + 3;
        let end = self.scan_quoted(line, pos, b"\"", true).ok()?;
        if end + 1 != line.len() {
            return None;
        }
        rec.spans[8] = Span::new(pos, end);
        Some(())
    }

    /// Ends a quoted field at an unescaped `"` followed by the closing literal.
    fn scan_quoted(&self, line: &[u8], start: usize, close: &[u8], last: bool) -> Result<usize, ParseError> {
        let mut i = start;
        while i < line.len() {
            let Some(off) = memchr2(b'"', b'\\', &line[i..]) else { break };
            let j = i + off;
            if line[j] == b'\\' {
                i = j + 2;
                continue;
            }
            let rest = &line[j..];
            if starts_with_short(rest, close) {
                let after = rest.get(close.len()).copied();
                // The last field ends at the line's end or at a space (then trailing text
                // follows). Elsewhere the closing literal is enough.
                if !last || after.is_none() || after == Some(b' ') {
                    return Ok(j);
                }
            }
            i = j + 1;
        }
        Err(ParseError::new(ErrorKind::UnterminatedQuote, start.saturating_sub(1)))
    }

    /// `%t` and `%{...}t`: parses the time and returns where the field ends.
    fn parse_time_field(
        &self,
        kind: &Kind,
        line: &[u8],
        pos: usize,
        rec: &mut LogRecord<'_>,
        parts: &mut TimeParts,
        general: bool,
    ) -> Result<usize, ParseError> {
        let rest = &line[pos..];
        match kind {
            Kind::ClfTime => {
                match rest.first() {
                    Some(b'[') => {}
                    Some(_) => return Err(ParseError::new(ErrorKind::UnexpectedText, pos)),
                    None => return Err(ParseError::new(ErrorKind::Truncated, pos)),
                }
                // `[dd/Mon/yyyy:HH:MM:SS +zzzz]` is 28 bytes; look there before searching
                let close = if rest.get(27) == Some(&b']') { Some(27) } else { memchr(b']', rest) };
                let Some(close) = close else {
                    return Err(ParseError::new(ErrorKind::InvalidTimestamp, pos + 1));
                };
                let (micros, offset) = parse_clf_time(&rest[1..close], &self.date_cache)
                    .map_err(|(k, at)| ParseError::new(k, pos + 1 + at))?;
                if general {
                    parts.set_epoch(micros, Some(offset));
                } else {
                    rec.time = Some(crate::Timestamp::from_unix_micros(micros, offset));
                }
                Ok(pos + close + 1)
            }
            Kind::Strftime(items) => parse_strftime(items, rest, parts)
                .map(|used| pos + used)
                .map_err(|(k, at)| ParseError::new(k, pos + at)),
            Kind::Epoch(unit) => {
                let len = digits_len(rest);
                let n = parse_u64(&rest[..len])
                    .and_then(|n| n.checked_mul(unit.micros()))
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or(ParseError::new(ErrorKind::InvalidTimestamp, pos))?;
                parts.set_epoch(n, None);
                Ok(pos + len)
            }
            Kind::Fraction(unit) => {
                let want = if *unit == TimeUnit::Millis { 3 } else { 6 };
                let len = digits_len(rest);
                let n = (len == want)
                    .then(|| parse_u64(&rest[..len]))
                    .flatten()
                    .ok_or(ParseError::new(ErrorKind::InvalidTimestamp, pos))?;
                // at most 6 digits
                parts.set_fraction((n * unit.micros()) as u32);
                Ok(pos + len)
            }
            _ => Ok(pos),
        }
    }
}

#[inline]
fn scan_until(line: &[u8], pos: usize, term: &Term, no_spaces: bool) -> usize {
    let rest = &line[pos..];
    if no_spaces {
        // Tokens are short (addresses, `-`, status, sizes): a plain loop beats memchr's setup.
        let stop = match term {
            Term::Byte(b) => *b,
            Term::Bytes(lit) => lit[0],
            Term::End => b' ',
        };
        return pos + rest.iter().position(|&c| c == stop || c == b' ').unwrap_or(rest.len());
    }
    let found = match term {
        Term::Byte(b) if no_spaces && *b != b' ' => memchr2(*b, b' ', rest),
        Term::Byte(b) => memchr(*b, rest),
        Term::Bytes(lit) if no_spaces => memchr2(lit[0], b' ', rest),
        Term::Bytes(lit) => memmem::find(rest, lit),
        Term::End if no_spaces => memchr(b' ', rest),
        Term::End => None,
    };
    pos + found.unwrap_or(rest.len())
}

/// `hay.starts_with(lit)` for the 1-3 byte literals of log formats, without a libc memcmp call.
#[inline]
fn starts_with_short(hay: &[u8], lit: &[u8]) -> bool {
    hay.len() >= lit.len() && hay.iter().zip(lit).all(|(a, b)| a == b)
}

fn digits_len(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// An unsigned decimal, no sign, no spaces, no overflow.
#[inline]
fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// A status: exactly three ASCII digits.
#[inline]
fn three_digits(v: &[u8]) -> Option<u16> {
    match v {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// A number or `-` (absent).
fn optional_number(b: &[u8], at: usize) -> Result<Option<u64>, ParseError> {
    if b == b"-" {
        return Ok(None);
    }
    parse_u64(b).map(Some).ok_or(ParseError::new(ErrorKind::InvalidNumber, at))
}

/// A duration, allowing a decimal fraction (`0.138` seconds, as nginx writes).
fn duration(b: &[u8], unit: TimeUnit, at: usize) -> Result<Option<u64>, ParseError> {
    if b == b"-" {
        return Ok(None);
    }
    let bad = ParseError::new(ErrorKind::InvalidNumber, at);
    let (int, frac) = match memchr(b'.', b) {
        Some(dot) => (&b[..dot], Some(&b[dot + 1..])),
        None => (b, None),
    };
    let whole = parse_u64(int).and_then(|n| n.checked_mul(unit.micros())).ok_or(bad)?;
    let Some(frac) = frac else {
        return Ok(Some(whole));
    };
    let f = parse_u64(frac).ok_or(bad)?;
    let scale = 10u64.checked_pow(u32::try_from(frac.len()).map_err(|_| bad)?).ok_or(bad)?;
    Ok(Some(whole + f.saturating_mul(unit.micros()) / scale))
}

fn interpret(
    kind: &Kind,
    line: &[u8],
    start: usize,
    end: usize,
    rec: &mut LogRecord<'_>,
) -> Result<(), ParseError> {
    let v = &line[start..end];
    match kind {
        Kind::Text | Kind::Token | Kind::Method | Kind::UrlPath | Kind::Query | Kind::Protocol => {}
        Kind::Address => {
            if v.is_empty() {
                return Err(ParseError::new(ErrorKind::EmptyField, start));
            }
        }
        Kind::Status => {
            rec.status = match (three_digits(v), v) {
                (Some(status), _) => Some(status),
                (None, b"-") => None,
                (None, []) => return Err(ParseError::new(ErrorKind::EmptyField, start)),
                (None, _) => return Err(ParseError::new(ErrorKind::InvalidStatus, start)),
            };
        }
        Kind::ClfBytes | Kind::Bytes => rec.response_bytes = optional_number(v, start)?,
        Kind::BytesReceived => rec.bytes_received = optional_number(v, start)?,
        Kind::BytesSent => rec.bytes_sent = optional_number(v, start)?,
        Kind::Duration(unit) => rec.duration_us = duration(v, *unit, start)?,
        Kind::RequestLine => rec.request = split_request(v, start),
        Kind::ClfTime | Kind::Strftime(_) | Kind::Epoch(_) | Kind::Fraction(_) => {}
    }
    Ok(())
}

/// RFC 9110 token characters (methods).
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// `HTTP/1.1`, `HTTP/2`, `HTTP/2.0`.
fn is_protocol(b: &[u8]) -> bool {
    let Some(v) = b.strip_prefix(b"HTTP/") else {
        return false;
    };
    match v {
        [d] => d.is_ascii_digit(),
        [d1, b'.', d2] => d1.is_ascii_digit() && d2.is_ascii_digit(),
        _ => false,
    }
}

/// Splits `METHOD target PROTOCOL`; an invalid request line leaves every part `None`.
fn split_request(v: &[u8], base: usize) -> RequestParts {
    let invalid = RequestParts::default();
    // the method and the protocol are short: plain loops beat memchr's setup here
    let Some(first_sp) = v.iter().position(|&c| c == b' ') else {
        return invalid;
    };
    let Some(last_sp) = v.iter().rposition(|&c| c == b' ') else {
        return invalid;
    };
    let method = &v[..first_sp];
    let protocol = &v[last_sp + 1..];
    if last_sp <= first_sp + 1
        || method.is_empty()
        || !method.iter().all(|&c| is_tchar(c))
        || !is_protocol(protocol)
    {
        return invalid;
    }
    let target_start = first_sp + 1;
    if v[target_start] == b' ' {
        return invalid;
    }
    let target = &v[target_start..last_sp];
    let (path, query) = match memchr(b'?', target) {
        Some(q) => (
            Span::new(base + target_start, base + target_start + q),
            Some(Span::new(base + target_start + q + 1, base + last_sp)),
        ),
        None => (Span::new(base + target_start, base + last_sp), None),
    };
    RequestParts {
        method: Some(Span::new(base, base + first_sp)),
        path: Some(path),
        query,
        protocol: Some(Span::new(base + last_sp + 1, base + v.len())),
    }
}

/// Without `%r`, the request comes from `%m`, `%U`, `%q` and `%H`.
fn request_from_parts(rec: &mut LogRecord<'_>) {
    let span_of = |rec: &LogRecord<'_>, slot: Slot| {
        let i = rec.slots[slot as usize];
        (i != NO_FIELD).then(|| rec.spans[usize::from(i)])
    };
    if rec.slots[Slot::RequestLine as usize] != NO_FIELD {
        return;
    }
    let method = span_of(rec, Slot::Method).filter(|s| {
        let b = s.get(&rec.line);
        !b.is_empty() && b.iter().all(|&c| is_tchar(c))
    });
    let path = span_of(rec, Slot::UrlPath).filter(|s| s.len() > 0 && s.get(&rec.line) != b"-");
    let query = span_of(rec, Slot::Query).and_then(|s| {
        let b = s.get(&rec.line);
        b.starts_with(b"?").then(|| Span::new(s.start() + 1, s.start() + s.len()))
    });
    let protocol = span_of(rec, Slot::Protocol).filter(|s| is_protocol(s.get(&rec.line)));
    rec.request = RequestParts { method, path, query, protocol };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_forms() {
        let ok = |s: &str| {
            let p = split_request(s.as_bytes(), 0);
            p.method.map(|m| {
                (
                    String::from_utf8_lossy(m.get(s.as_bytes())).into_owned(),
                    String::from_utf8_lossy(p.path.unwrap().get(s.as_bytes())).into_owned(),
                    p.query.map(|q| String::from_utf8_lossy(q.get(s.as_bytes())).into_owned()),
                    String::from_utf8_lossy(p.protocol.unwrap().get(s.as_bytes())).into_owned(),
                )
            })
        };
        assert_eq!(ok("GET / HTTP/1.1"), Some(("GET".into(), "/".into(), None, "HTTP/1.1".into())));
        assert_eq!(
            ok("GET /a?b=1&c HTTP/2"),
            Some(("GET".into(), "/a".into(), Some("b=1&c".into()), "HTTP/2".into()))
        );
        assert_eq!(ok("GET /a? HTTP/1.0").unwrap().2, Some(String::new()));
        assert_eq!(ok("GET /a b HTTP/1.0").unwrap().1, "/a b");
        for bad in [
            "-",
            "",
            r"\x16\x03\x01",
            "GET /",
            "GET  HTTP/1.1",
            "GET / FOO/1.1",
            "GET / HTTP/1.1.1",
            "G@T / HTTP/1.1",
            "GET  /x HTTP/1.1",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    /// Lines of the Combined layout, usual and unusual, for the fast-path comparison.
    const COMBINED_LINES: &[&str] = &[
        r#"192.0.2.7 - alice [31/May/2020:07:12:01 +0200] "GET /list?page=2 HTTP/1.1" 200 - "-" "curl/8.4.0""#,
        r#"10.0.0.1 - - [01/Jan/2021:00:00:00 -0700] "POST /cart HTTP/2.0" 201 512 "https://ex.com/a?b" "Mozilla/5.0 (X11)""#,
        r#"2001:db8::1%eth0 - - [29/Feb/2020:23:59:59 +0530] "GET /a\"b HTTP/1.0" 404 0 "-" "agent \"quoted\" \\ end""#,
        r#"host.example.com ident user [31/Dec/1999:23:59:59 +0000] "-" 408 - "-" "-""#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "\x16\x03\x01" 400 226 "-" "-""#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET /a b c HTTP/1.1" 200 18446744073709551615 "" """#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET / HTTP/1.1" 200 1 "-" "ua" trailing"#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET / HTTP/1.1" 200 1 "-" "ua""#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET / HTTP/1.1" - 1 "-" "ua""#,
        r#"192.0.2.9 - - [1/May/2020:07:12:01 +0200] "GET / HTTP/1.1" 200 1 "-" "ua""#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET / HTTP/1.1" 200 18446744073709551616 "-" "ua""#,
        r#"192.0.2.9 - - [31/May/2020:07:12:01 +0200] "GET /x" "y HTTP/1.1" 200 5 "-" "a" "b""#,
    ];

    /// A small deterministic generator (xorshift) for mutations.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// The fast path agrees with the step interpreter on every line it accepts, and accepts
    /// every usual line: the usual lines unchanged, and 60,000 mutations of them (bytes
    /// replaced, inserted, removed), under the strict and the trailing-field parsers.
    #[test]
    fn combined_fast_path_matches_the_interpreter() {
        let formats = [
            LogFormat::preset(Preset::Combined),
            LogFormat::parse(r#"%a %l %u %t "%r" %>s %b "%{User-Agent}i" "%{Referer}i""#).unwrap(),
        ];
        for format in formats {
            for trailing in [false, true] {
                let parser = ParserConfig::new(format.clone()).allow_trailing_fields(trailing).build();
                let program = &parser.programs[0];
                assert!(program.combined, "{format}: {:?}", program.steps);
                let check = |line: &[u8]| -> bool {
                    // both records start dirty, as a reused one does: filled (or half filled)
                    // from other lines first
                    let (mut fast, mut slow) = (LogRecord::default(), LogRecord::default());
                    for dirty in [COMBINED_LINES[0], COMBINED_LINES[COMBINED_LINES.len() - 1]] {
                        let _ = parser.run(program, 0, dirty.as_bytes(), &mut fast);
                        let _ = parser.run(program, 0, dirty.as_bytes(), &mut slow);
                    }
                    let accepted = parser.run_combined(program, 0, line, &mut fast).is_some();
                    let slow_result = parser.run(program, 0, line, &mut slow);
                    if accepted {
                        assert_eq!(
                            Ok(&fast),
                            slow_result.map(|()| &slow),
                            "{}",
                            String::from_utf8_lossy(line)
                        );
                    }
                    accepted
                };
                let accepted = COMBINED_LINES.iter().filter(|l| check(l.as_bytes())).count();
                // all but the trailing text, the `-` status, the short day, the overflowing size
                // and the line with a stray quote
                assert_eq!(accepted, COMBINED_LINES.len() - 5, "{format}");
                let alphabet = b" \"\\-[]/:+?0123456789aZ.%\t\xff";
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
                let mut taken = 0;
                for i in 0..60_000 {
                    let mut line = COMBINED_LINES[i % COMBINED_LINES.len()].as_bytes().to_vec();
                    for _ in 0..=rng.below(3) {
                        let at = rng.below(line.len());
                        let c = alphabet[rng.below(alphabet.len())];
                        match rng.below(3) {
                            0 => line[at] = c,
                            1 => line.insert(at, c),
                            _ => {
                                line.remove(at);
                            }
                        }
                        if line.is_empty() {
                            line.push(c);
                        }
                    }
                    taken += usize::from(check(&line));
                }
                // the comparison above means something only if many mutations stay usual
                assert!(taken > 10_000, "{taken} mutations took the fast path");
            }
        }
        // other layouts never take it
        for p in [Preset::Common, Preset::VhostCombined, Preset::CombinedIo] {
            assert!(!Parser::preset(p).programs[0].combined, "{p}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"+1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(duration(b"0.138", TimeUnit::Seconds, 0), Ok(Some(138_000)));
        assert_eq!(duration(b"2", TimeUnit::Millis, 0), Ok(Some(2_000)));
        assert!(duration(b"1.x", TimeUnit::Seconds, 0).is_err());
    }
}
