//! Apache's log escapes (`ap_escape_logitem`): `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\v`, `\xhh`.

use std::borrow::Cow;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undoes Apache's escapes; borrows when the input has no backslash.
///
/// Unknown escapes (`\q`) and a trailing lone backslash are kept as written.
///
/// ```
/// use loglake_parser::unescape;
///
/// assert_eq!(unescape(br#"say \"hi\" \x16\x03"#).as_ref(), b"say \"hi\" \x16\x03");
/// assert!(matches!(unescape(b"plain"), std::borrow::Cow::Borrowed(_)));
/// ```
#[must_use]
pub fn unescape(b: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', b) else {
        return Cow::Borrowed(b);
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    while i < b.len() {
        let c = b[i];
        if c != b'\\' || i + 1 == b.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let (byte, used) = match b[i + 1] {
            b'"' => (b'"', 2),
            b'\\' => (b'\\', 2),
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b't' => (b'\t', 2),
            b'b' => (0x08, 2),
            b'v' => (0x0b, 2),
            b'x' => match (b.get(i + 2).copied().and_then(hex), b.get(i + 3).copied().and_then(hex)) {
                (Some(h), Some(l)) => (h << 4 | l, 4),
                _ => (b'\\', 1),
            },
            _ => (b'\\', 1),
        };
        out.push(byte);
        i += used;
    }
    Cow::Owned(out)
}

/// The bytes as text when they are ASCII without a backslash: then a field's decoded text
/// is its bytes as they stand ([`LogRecord`](crate::LogRecord)'s text accessors borrow it),
/// and callers holding raw field bytes can use them without decoding.
#[must_use]
#[inline]
pub fn plain_ascii(b: &[u8]) -> Option<&str> {
    if !is_plain_ascii(b) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

/// Whether the bytes are ASCII without a backslash, so that their decoded text is the bytes
/// as they stand: [`plain_ascii`] without making a `&str` (which costs a second, UTF-8 pass).
/// For callers that store text as bytes and check it elsewhere. Eight bytes at a time.
///
/// ```
/// use loglake_parser::is_plain_ascii;
///
/// assert!(is_plain_ascii(b"/index.html?q=1"));
/// assert!(!is_plain_ascii(br#"say \"hi\""#)); // an escape
/// assert!(!is_plain_ascii("/café".as_bytes()));
/// ```
#[must_use]
#[inline]
pub fn is_plain_ascii(b: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    const BACKSLASHES: u64 = 0x5c5c_5c5c_5c5c_5c5c;
    let mut chunks = b.chunks_exact(8);
    let mut flags = 0u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        // a byte of `x` is zero where `w` holds a backslash; `(x - 1) & !x` sets its high bit
        let x = w ^ BACKSLASHES;
        flags |= w | (x.wrapping_sub(ONES) & !x);
    }
    flags & HIGH == 0 && !chunks.remainder().iter().any(|&c| c >= 0x80 || c == b'\\')
}

/// Unescaped, lossily decoded text; borrowed when the bytes are valid UTF-8 without escapes.
#[inline]
pub(crate) fn decode_text(b: &[u8]) -> Cow<'_, str> {
    // ASCII fields without escapes (addresses, paths, queries) are most fields
    if let Some(s) = plain_ascii(b) {
        return Cow::Borrowed(s);
    }
    match unescape(b) {
        // `from_utf8` has an ASCII fast path that `from_utf8_lossy` lacks: try it first
        Cow::Borrowed(b) => std::str::from_utf8(b).map_or_else(|_| String::from_utf8_lossy(b), Cow::Borrowed),
        Cow::Owned(v) => Cow::Owned(match String::from_utf8(v) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape() {
        assert_eq!(unescape(br#"\"\\\n\r\t\b\v\x41\x7e"#).as_ref(), b"\"\\\n\r\t\x08\x0bA~");
        assert_eq!(unescape(br"\q \x4 \xZZ end\").as_ref(), br"\q \x4 \xZZ end\");
    }

    #[test]
    fn plain_ascii_finds_every_high_byte_and_backslash() {
        for len in 0..40 {
            let base = vec![b'a'; len];
            assert_eq!(plain_ascii(&base), Some(std::str::from_utf8(&base).unwrap()));
            assert!(is_plain_ascii(&base));
            for at in 0..len {
                for bad in [b'\\', 0x80, 0xff, 0xc3] {
                    let mut b = base.clone();
                    b[at] = bad;
                    assert_eq!(plain_ascii(&b), None, "len {len} byte {bad:#x} at {at}");
                    assert!(!is_plain_ascii(&b), "len {len} byte {bad:#x} at {at}");
                }
                // bytes next to a backslash's value are plain
                for ok in [0x5b, 0x5d, 0x4c, 0x6c, 0x7f, 0x00, 0x1c] {
                    let mut b = base.clone();
                    b[at] = ok;
                    assert!(plain_ascii(&b).is_some(), "len {len} byte {ok:#x} at {at}");
                    assert!(is_plain_ascii(&b), "len {len} byte {ok:#x} at {at}");
                }
            }
        }
    }

    #[test]
    fn decode_borrows_when_it_can() {
        assert!(matches!(decode_text(b"ok"), Cow::Borrowed("ok")));
        assert_eq!(decode_text(b"caf\xc3\xa9"), "café");
        assert_eq!(decode_text(b"bad\xff"), "bad\u{fffd}");
        assert_eq!(decode_text(br"\xff\x41"), "\u{fffd}A");
    }
}
