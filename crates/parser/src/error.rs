//! Why a line did not parse.

use std::fmt;

/// The reason a line was rejected. Each kind has a stable [`code`](ErrorKind::code) for the
/// rejects table; the codes never change meaning (new kinds may be added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is empty (or only a `\r`).
    EmptyLine,
    /// The separator text the format expects (a space, `"`, `[`...) is not there.
    UnexpectedText,
    /// The line ends before the format does.
    Truncated,
    /// A quoted field has no closing quote.
    UnterminatedQuote,
    /// A time field does not have the shape of its format.
    InvalidTimestamp,
    /// A time field has the right shape but names no real date or time (30 Feb, month `Foo`,
    /// hour 24).
    InvalidDate,
    /// A zone offset outside `-2359..+2359`, or malformed.
    InvalidOffset,
    /// A status that is not three digits (or `-`).
    InvalidStatus,
    /// A numeric field (bytes, duration, port, ...) that is not an unsigned integer in range.
    InvalidNumber,
    /// A field that may not be empty is empty.
    EmptyField,
    /// Text after the last field of the format.
    TrailingData,
}

impl ErrorKind {
    /// Every kind, for documentation and exhaustive tests.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::EmptyLine,
        ErrorKind::UnexpectedText,
        ErrorKind::Truncated,
        ErrorKind::UnterminatedQuote,
        ErrorKind::InvalidTimestamp,
        ErrorKind::InvalidDate,
        ErrorKind::InvalidOffset,
        ErrorKind::InvalidStatus,
        ErrorKind::InvalidNumber,
        ErrorKind::EmptyField,
        ErrorKind::TrailingData,
    ];

    /// A stable, machine-readable reason (snake case), e.g. `bad_timestamp`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::EmptyLine => "empty_line",
            ErrorKind::UnexpectedText => "unexpected_text",
            ErrorKind::Truncated => "truncated",
            ErrorKind::UnterminatedQuote => "unterminated_quote",
            ErrorKind::InvalidTimestamp => "bad_timestamp",
            ErrorKind::InvalidDate => "bad_date",
            ErrorKind::InvalidOffset => "bad_offset",
            ErrorKind::InvalidStatus => "bad_status",
            ErrorKind::InvalidNumber => "bad_number",
            ErrorKind::EmptyField => "empty_field",
            ErrorKind::TrailingData => "trailing_data",
        }
    }

    const fn message(self) -> &'static str {
        match self {
            ErrorKind::EmptyLine => "empty line",
            ErrorKind::UnexpectedText => "unexpected text where the format expects a separator",
            ErrorKind::Truncated => "line ends before the format does",
            ErrorKind::UnterminatedQuote => "quoted field has no closing quote",
            ErrorKind::InvalidTimestamp => "malformed timestamp",
            ErrorKind::InvalidDate => "timestamp names no real date or time",
            ErrorKind::InvalidOffset => "invalid zone offset",
            ErrorKind::InvalidStatus => "status is not three digits",
            ErrorKind::InvalidNumber => "number expected",
            ErrorKind::EmptyField => "empty field",
            ErrorKind::TrailingData => "text after the last field",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A line that did not parse: the kind and the byte column (0-based) where parsing stopped.
///
/// Small and `Copy`: building one costs nothing on the hot path.
///
/// ```
/// use loglake_parser::{ErrorKind, Parser, Preset};
///
/// let parser = Parser::preset(Preset::Common);
/// let err = parser.parse_line(b"127.0.0.1 - - [31/Feb/2020:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5")
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidDate);
/// assert_eq!(err.code(), "bad_date");
/// assert_eq!(err.column(), 15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{kind} at byte {column}")]
pub struct ParseError {
    kind: ErrorKind,
    column: u32,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, column: usize) -> Self {
        ParseError { kind, column: u32::try_from(column).unwrap_or(u32::MAX) }
    }

    /// Why the line was rejected.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable reason code of [`kind`](Self::kind).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Byte offset in the line (0-based) where parsing stopped.
    #[must_use]
    pub const fn column(&self) -> usize {
        self.column as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for k in ErrorKind::ALL {
            assert!(seen.insert(k.code()), "{k:?}");
            assert!(k.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
