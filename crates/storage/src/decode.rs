//! Decompression by content: gzip (every member of a concatenated file) when the bytes start
//! with the gzip magic, plain text otherwise — whatever the object's name says.
#![expect(clippy::disallowed_types, reason = "the one module allowed to name flate2's decoders")]

use std::io::{self, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::error::StorageError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUF: usize = 256 * 1024;

/// How an object's bytes were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip, one or more members.
    Gzip,
}

type Source<R> = BufReader<io::Chain<io::Cursor<Vec<u8>>, R>>;

enum Inner<R: Read> {
    Plain(Source<R>),
    Gzip(Box<MultiGzDecoder<Source<R>>>),
}

/// A reader that yields an object's decoded bytes; errors name the object.
///
/// Memory is bounded by two 256 KiB buffers whatever the object's size.
///
/// ```
/// use std::io::{Read, Write};
/// use loglake_storage::{DecodedReader, Compression};
///
/// // two gzip members, as `cat a.gz b.gz` makes
/// let mut gz = Vec::new();
/// for part in [&b"line 1\n"[..], b"line 2\n"] {
///     let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
///     e.write_all(part)?;
///     gz.extend(e.finish()?);
/// }
/// let mut r = DecodedReader::new(&gz[..], "logs.txt")?;   // the name does not matter
/// assert_eq!(r.compression(), Compression::Gzip);
/// let mut text = String::new();
/// r.read_to_string(&mut text)?;
/// assert_eq!(text, "line 1\nline 2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DecodedReader<R: Read> {
    inner: Inner<R>,
    object: String,
    decoded: u64,
}

impl<R: Read> std::fmt::Debug for DecodedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedReader")
            .field("object", &self.object)
            .field("compression", &self.compression())
            .field("decoded", &self.decoded)
            .finish()
    }
}

impl<R: Read> DecodedReader<R> {
    /// Sniffs the first bytes of `raw` and decodes accordingly; `object` names it in errors.
    ///
    /// # Errors
    /// [`StorageError::Io`] when the first bytes cannot be read.
    pub fn new(mut raw: R, object: &str) -> Result<Self, StorageError> {
        // read the first two bytes, however the source splits its reads
        let mut head = [0u8; 2];
        let mut n = 0;
        while n < 2 {
            match raw.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(StorageError::Io { op: "read", object: object.to_owned(), source })
                }
            }
        }
        let is_gzip = head[..n] == GZIP_MAGIC;
        let buf = BufReader::with_capacity(BUF, io::Cursor::new(head[..n].to_vec()).chain(raw));
        let inner = if is_gzip { Inner::Gzip(Box::new(MultiGzDecoder::new(buf))) } else { Inner::Plain(buf) };
        Ok(DecodedReader { inner, object: object.to_owned(), decoded: 0 })
    }

    /// What the content turned out to be.
    #[must_use]
    pub fn compression(&self) -> Compression {
        match self.inner {
            Inner::Plain(_) => Compression::None,
            Inner::Gzip(_) => Compression::Gzip,
        }
    }

    /// Decoded bytes read so far.
    #[must_use]
    pub fn decoded_bytes(&self) -> u64 {
        self.decoded
    }
}

impl<R: Read> Read for DecodedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let result = match &mut self.inner {
            Inner::Plain(r) => r.read(out),
            Inner::Gzip(r) => r.read(out),
        };
        match result {
            Ok(n) => {
                self.decoded += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(source) => {
                // an error that already names the object (from the transport) passes through
                if source.get_ref().is_some_and(|inner| inner.is::<StorageError>()) {
                    return Err(source);
                }
                let err = match self.inner {
                    Inner::Gzip(_) => StorageError::Decode {
                        object: self.object.clone(),
                        decoded_bytes: self.decoded,
                        source,
                    },
                    Inner::Plain(_) => StorageError::Io { op: "read", object: self.object.clone(), source },
                };
                Err(err.into_io())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(raw: &[u8]) -> Result<(Compression, Vec<u8>), io::Error> {
        let mut r = DecodedReader::new(raw, "obj").unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok((r.compression(), out))
    }

    #[test]
    fn plain_passes_through() {
        assert_eq!(decode(b"hello\n").unwrap(), (Compression::None, b"hello\n".to_vec()));
        assert_eq!(decode(b"").unwrap(), (Compression::None, Vec::new()));
        assert_eq!(decode(b"\x1f").unwrap(), (Compression::None, b"\x1f".to_vec()));
    }

    #[test]
    fn every_member_is_decoded() {
        let mut raw = gzip(b"a\n");
        raw.extend(gzip(b""));
        raw.extend(gzip(b"b\n"));
        assert_eq!(decode(&raw).unwrap(), (Compression::Gzip, b"a\nb\n".to_vec()));
    }

    #[test]
    fn truncated_gzip_is_an_error_naming_the_object() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let raw = gzip(&data);
        for cut in [10, raw.len() / 2, raw.len() - 4] {
            let err = decode(&raw[..cut]).unwrap_err();
            let inner = err.get_ref().and_then(|e| e.downcast_ref::<StorageError>()).expect("a StorageError");
            assert!(matches!(inner, StorageError::Decode { .. }), "{inner}");
            assert!(inner.to_string().starts_with("obj: corrupt or truncated gzip"), "{inner}");
        }
    }
}
