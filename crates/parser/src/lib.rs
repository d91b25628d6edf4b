//! Zero-copy parser for Apache access-log lines.
//!
//! # Brief overview
//!
//! Compile a format once — a [`Preset`] (`common`, `combined`, `vhost_common`,
//! `vhost_combined`, `combinedio`) or any Apache `LogFormat` string pasted from httpd.conf —
//! into a [`Parser`], then call [`Parser::parse_line`] on each line's bytes. You get a
//! [`LogRecord`] that borrows the line (no allocation per line) or a small `Copy`
//! [`ParseError`] with a stable reason [`code`](ParseError::code) and the byte column where
//! parsing stopped. Use [`lines`] to split a buffer into lines. A hot loop can call
//! [`Parser::parse_line_into`] instead, which fills one record the caller keeps.
//!
//! ```
//! use loglake_parser::{lines, LogFormat, ParserConfig, Preset};
//!
//! let log = b"203.0.113.9 - - [31/May/2020:07:12:01 +0200] \"GET /list?page=2 HTTP/1.1\" 200 5043 \"-\" \"Mozilla/5.0\"\n\
//! 203.0.113.9 - - [31/May/2020:07:12:03 +0200] \"-\" 408 -\n\
//! this is not a log line\n";
//!
//! let parser = ParserConfig::new(LogFormat::parse(r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\""#)?)
//!     .fallback(LogFormat::preset(Preset::Common))
//!     .build();
//! let mut ok = 0;
//! for line in lines(log) {
//!     match parser.parse_line(line.bytes()) {
//!         Ok(record) => {
//!             ok += 1;
//!             assert_eq!(record.time().unwrap().utc_date(), (2020, 5, 31));
//!             if !record.is_valid_request() {
//!                 // `"-"` is kept as a record: no method or path, the raw request kept
//!                 assert_eq!(record.request_bytes(), Some(&b"-"[..]));
//!                 assert_eq!(record.response_bytes(), None); // `-` is absent, never 0
//!             }
//!         }
//!         Err(e) => assert_eq!((line.number(), e.code()), (3, "unexpected_text")),
//!     }
//! }
//! assert_eq!(ok, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Bytes and text
//!
//! Input is bytes and is never assumed to be UTF-8. Accessors ending in `_bytes` return the
//! field exactly as logged; the others return `Cow<str>` with Apache's escapes (`\"`, `\\`,
//! `\xhh`, ...) undone and invalid UTF-8 replaced by U+FFFD, borrowed from the line when
//! nothing had to change. Method and protocol are validated ASCII and come as `&str`.
//!
//! # Formats
//!
//! docs/parser.md lists every supported directive. An unsupported directive is an error when
//! the format is compiled ([`FormatError`]), naming the directive and its position — never a
//! surprise at parse time.
//!
//! # Performance
//!
//! Fields are found with memchr; the `%t` date (`dd/Mon/yyyy`) of the previous line is
//! remembered so consecutive lines of one day skip the calendar math. Give each thread its
//! own [`Parser`] clone. nom is used to compile formats and never appears in the API.

mod error;
mod escape;
mod format;
mod lines;
mod parse;
mod record;
mod stats;
mod time;

pub use error::{ErrorKind, ParseError};
pub use escape::{is_plain_ascii, plain_ascii, unescape};
pub use format::{
    Directive, FieldSpec, FormatError, FormatErrorKind, Item, LogFormat, Preset, Redirect, TimeFormat,
    TimeUnit, MAX_FIELDS,
};
pub use lines::{lines, split_complete, Line, Lines};
pub use parse::{Parser, ParserConfig};
pub use record::LogRecord;
pub use stats::ParseStats;
pub use time::Timestamp;
