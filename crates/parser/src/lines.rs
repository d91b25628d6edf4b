//! Splitting a buffer into lines: `\n` and `\r\n`, a last line without newline, empty lines kept.

use memchr::{memchr, memrchr};

/// One line of a buffer, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    number: u64,
    bytes: &'a [u8],
    crlf: bool,
}

impl<'a> Line<'a> {
    /// 1-based line number (counted from the iterator's first number).
    #[must_use]
    pub const fn number(&self) -> u64 {
        self.number
    }

    /// The line's bytes, without `\n` or `\r\n`.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the line ended with `\r\n`.
    #[must_use]
    pub const fn crlf(&self) -> bool {
        self.crlf
    }

    /// Whether the line is empty (empty lines are reported, never skipped).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Iterator over the lines of a buffer (memchr-backed).
///
/// ```
/// use loglake_parser::lines;
///
/// let v: Vec<_> = lines(b"a\r\n\nb").map(|l| (l.number(), l.bytes())).collect();
/// assert_eq!(v, [(1, &b"a"[..]), (2, &b""[..]), (3, &b"b"[..])]);
/// ```
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
    next_number: u64,
}

/// The lines of `buf`, numbered from 1.
#[must_use]
pub fn lines(buf: &[u8]) -> Lines<'_> {
    Lines::starting_at(buf, 1)
}

impl<'a> Lines<'a> {
    /// The lines of `buf`, the first numbered `first` (for chunks of a larger object).
    #[must_use]
    pub fn starting_at(buf: &'a [u8], first: u64) -> Self {
        Lines { buf, pos: 0, next_number: first }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let (raw, advance) = match memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        let (bytes, crlf) = match raw.strip_suffix(b"\r") {
            Some(b) => (b, true),
            None => (raw, false),
        };
        let number = self.next_number;
        self.next_number += 1;
        Some(Line { number, bytes, crlf })
    }
}

/// Splits a streaming buffer after its last `\n`: (complete lines, the partial rest to carry
/// into the next read). With no `\n`, everything is the rest.
///
/// ```
/// use loglake_parser::split_complete;
///
/// assert_eq!(split_complete(b"a\nb\nc"), (&b"a\nb\n"[..], &b"c"[..]));
/// ```
#[must_use]
pub fn split_complete(buf: &[u8]) -> (&[u8], &[u8]) {
    match memrchr(b'\n', buf) {
        Some(i) => buf.split_at(i + 1),
        None => (&buf[..0], buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(b: &[u8]) -> Vec<(u64, Vec<u8>, bool)> {
        lines(b).map(|l| (l.number(), l.bytes().to_vec(), l.crlf())).collect()
    }

    #[test]
    fn endings() {
        assert!(collect(b"").is_empty());
        assert_eq!(collect(b"\n"), vec![(1, vec![], false)]);
        assert_eq!(collect(b"a\nb\n"), vec![(1, b"a".to_vec(), false), (2, b"b".to_vec(), false)]);
        assert_eq!(collect(b"a\r\nb"), vec![(1, b"a".to_vec(), true), (2, b"b".to_vec(), false)]);
        assert_eq!(collect(b"\r\n\r\n").len(), 2);
        assert_eq!(collect(b"a\rb\n"), vec![(1, b"a\rb".to_vec(), false)]);
    }

    #[test]
    fn numbering_from_an_offset() {
        let n: Vec<u64> = Lines::starting_at(b"x\ny\n", 41).map(|l| l.number()).collect();
        assert_eq!(n, vec![41, 42]);
    }

    #[test]
    fn split_complete_cases() {
        assert_eq!(split_complete(b""), (&b""[..], &b""[..]));
        assert_eq!(split_complete(b"abc"), (&b""[..], &b"abc"[..]));
        assert_eq!(split_complete(b"abc\n"), (&b"abc\n"[..], &b""[..]));
    }
}
