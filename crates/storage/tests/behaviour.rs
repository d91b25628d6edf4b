//! One behavioural suite, run against both backends: the local directory and S3 (HTTP to a
//! real S3-compatible server on 127.0.0.1).

use std::io::{self, Read, Write};
use std::sync::{Arc, Barrier};

use loglake_storage::{Compression, ObjectKey, PutOutcome, StorageError, Store};

fn key(s: &str) -> ObjectKey {
    ObjectKey::new(s).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn decoded(store: &Store, k: &ObjectKey) -> io::Result<(Compression, Vec<u8>)> {
    let mut r = store.open_decoded(k).map_err(io::Error::other)?;
    let mut out = Vec::new();
    r.read_to_end(&mut out)?;
    Ok((r.compression(), out))
}

/// Deterministic filler that does not compress to nothing.
fn filler(n: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

loglake_testkit::suite!(round_trip_with_spaces_and_unicode, |store| {
    let k = key("raw/access_logs/dt=2020-05-31/web 1 – ü.log");
    store.put_bytes(&k, b"hello\n").unwrap();
    assert_eq!(store.get_bytes(&k).unwrap(), b"hello\n");
    let meta = store.head(&k).unwrap().expect("object exists");
    assert_eq!((meta.key.clone(), meta.size), (k.clone(), 6));
    assert!(!meta.etag.is_empty() && meta.modified.is_some());
    let listed = store.list("raw/access_logs/").unwrap();
    assert_eq!(listed, vec![meta.clone()]);
    // replacing changes the etag
    store.put_bytes(&k, b"hello again\n").unwrap();
    let again = store.head(&k).unwrap().unwrap();
    assert_ne!(again.etag, meta.etag);
    assert_eq!(again.size, 12);
});

loglake_testkit::suite!(zero_byte_objects, |store| {
    let k = key("raw/empty.log");
    store.put_bytes(&k, b"").unwrap();
    assert_eq!(store.head(&k).unwrap().unwrap().size, 0);
    assert_eq!(store.get_bytes(&k).unwrap(), b"");
    assert_eq!(decoded(store, &k).unwrap(), (Compression::None, Vec::new()));
});

loglake_testkit::suite!(listing_follows_pagination_past_1000_keys, |store| {
    let keys: Vec<ObjectKey> = (0..1234).map(|i| key(&format!("many/k{i:05}"))).collect();
    std::thread::scope(|s| {
        for chunk in keys.chunks(160) {
            s.spawn(move || {
                for k in chunk {
                    store.put_bytes(k, b"x").unwrap();
                }
            });
        }
    });
    store.put_bytes(&key("other/k"), b"y").unwrap();
    let listed: Vec<ObjectKey> = store.list("many/").unwrap().into_iter().map(|m| m.key).collect();
    assert_eq!(listed, keys, "every key, sorted, nothing from other prefixes");
    assert_eq!(store.list("").unwrap().len(), 1235);
    assert_eq!(store.list("many/k0000").unwrap().len(), 10);
    // batch delete (S3 deletes 1000 per request)
    store.delete_many(&keys).unwrap();
    assert!(store.list("many/").unwrap().is_empty());
    assert_eq!(store.list("").unwrap().len(), 1);
});

loglake_testkit::suite!(missing_objects_and_prefixes, |store| {
    let k = key("raw/nope.log");
    assert_eq!(store.head(&k).unwrap(), None);
    let err = store.get_bytes(&k).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("raw/nope.log"), "the error names the object: {err}");
    let err = store.open_decoded(&k).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(store.list("raw/").unwrap().is_empty());
    store.delete_many(&[k]).unwrap();
});

loglake_testkit::suite!(ranged_reads, |store| {
    let k = key("r/data.bin");
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    store.put_bytes(&k, &data).unwrap();
    assert_eq!(store.get_range(&k, 100..200).unwrap(), &data[100..200]);
    assert_eq!(store.get_range(&k, 9_990..20_000).unwrap(), &data[9_990..]);
    assert!(store.get_range(&k, 20_000..30_000).unwrap().is_empty());
    assert!(store.get_range(&k, 5..5).unwrap().is_empty());
    assert!(store.get_range(&key("r/missing"), 0..10).unwrap_err().is_not_found());
});

loglake_testkit::suite!(put_if_absent_has_one_winner, |store| {
    let k = key("_delta_log/00000000000000000000.json");
    assert_eq!(store.put_if_absent(&k, b"first").unwrap(), PutOutcome::Created);
    assert_eq!(store.put_if_absent(&k, b"second").unwrap(), PutOutcome::AlreadyExists);
    assert_eq!(store.get_bytes(&k).unwrap(), b"first");
    // eight racing writers: exactly one creates the object, and its bytes are what is stored
    let k = key("_delta_log/00000000000000000001.json");
    let barrier = Arc::new(Barrier::new(8));
    let outcomes: Vec<(usize, PutOutcome)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (barrier, k) = (Arc::clone(&barrier), k.clone());
                s.spawn(move || {
                    barrier.wait();
                    (i, store.put_if_absent(&k, format!("writer {i}").as_bytes()).unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> =
        outcomes.iter().filter(|(_, o)| *o == PutOutcome::Created).map(|(i, _)| *i).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_eq!(store.get_bytes(&k).unwrap(), format!("writer {}", winners[0]).as_bytes());
    assert!(outcomes.iter().all(|(_, o)| matches!(o, PutOutcome::Created | PutOutcome::AlreadyExists)));
    // no temporary files are visible
    assert_eq!(store.list("_delta_log/").unwrap().len(), 2);
});

loglake_testkit::suite!(large_objects_stream_and_multipart, |store| {
    // 11 MiB with 5 MiB parts: three parts on S3; a streaming temp file on disk
    let k = key("big/object.bin");
    let data = filler(11 * 1024 * 1024 + 17);
    assert_eq!(store.put_reader(&k, &mut &data[..]).unwrap(), data.len() as u64);
    let mut back = Vec::new();
    store.open_raw(&k).unwrap().read_to_end(&mut back).unwrap();
    assert!(back == data, "round trip");
    let meta = store.head(&k).unwrap().unwrap();
    assert_eq!(meta.size, data.len() as u64);
    if matches!(store.location(), loglake_storage::Location::S3 { .. }) {
        assert!(meta.etag.ends_with("-3"), "a multipart ETag: {}", meta.etag);
    }
    assert!(store.pending_multipart_uploads("big/").unwrap().is_empty());
});

/// A source that fails after `ok` bytes.
struct Failing {
    ok: usize,
    sent: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent >= self.ok {
            return Err(io::Error::other("source disk went away"));
        }
        let n = buf.len().min(self.ok - self.sent);
        buf[..n].fill(b'z');
        self.sent += n;
        Ok(n)
    }
}

loglake_testkit::suite!(failed_uploads_leave_nothing, |store| {
    let k = key("big/failed.bin");
    let err = store.put_reader(&k, &mut Failing { ok: 7 * 1024 * 1024, sent: 0 }).unwrap_err();
    assert!(err.to_string().contains("big/failed.bin"), "{err}");
    if matches!(store.location(), loglake_storage::Location::S3 { .. }) {
        assert!(matches!(err, StorageError::UploadAborted { .. }), "{err}");
    }
    assert_eq!(store.head(&k).unwrap(), None);
    assert!(store.pending_multipart_uploads("big/").unwrap().is_empty(), "no orphan parts");
    assert!(store.list("big/").unwrap().is_empty(), "no temp files");
});

loglake_testkit::suite!(decoding_goes_by_content_not_name, |store| {
    let text = b"line one\nline two\n";
    let mut two_members = gzip(b"line one\n");
    two_members.extend(gzip(b"line two\n"));
    let cases = [
        ("plain.log", text.to_vec(), Compression::None),
        ("multi.log.gz", two_members.clone(), Compression::Gzip),
        ("gzip-named-plain.log.gz", text.to_vec(), Compression::None),
        ("plain-named-gzip.log", two_members, Compression::Gzip),
    ];
    for (name, bytes, want) in cases {
        let k = key(&format!("raw/{name}"));
        store.put_bytes(&k, &bytes).unwrap();
        assert_eq!(decoded(store, &k).unwrap(), (want, text.to_vec()), "{name}");
    }
});

loglake_testkit::suite!(truncated_gzip_is_a_clear_error, |store| {
    let body: Vec<u8> = (0..100_000).flat_map(|i: u32| format!("line {i}\n").into_bytes()).collect();
    let gz = gzip(&body);
    let k = key("raw/cut.log.gz");
    store.put_bytes(&k, &gz[..gz.len() / 2]).unwrap();
    let err = decoded(store, &k).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("raw/cut.log.gz") && msg.contains("corrupt or truncated gzip"), "{msg}");
});

loglake_testkit::suite!(keys_cannot_escape_the_root, |store| {
    for bad in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a"] {
        assert!(matches!(ObjectKey::new(bad), Err(StorageError::InvalidKey { .. })), "{bad}");
    }
    for bad in ["../", "/abs", "a/../"] {
        assert!(matches!(store.list(bad), Err(StorageError::InvalidKey { .. })), "{bad}");
    }
    let base = key("raw");
    assert!(base.join("../../etc").is_err());
});

loglake_testkit::suite!(copy_and_identical, |store| {
    let dir = loglake_testkit::TempDir::new();
    let path = dir.0.join("upload.log");
    std::fs::write(&path, b"same bytes\n").unwrap();
    let k = key("raw/dt=2020-05-31/upload.log");
    assert!(!store.is_identical(&k, &path).unwrap());
    store.put_file(&k, &path).unwrap();
    assert!(store.is_identical(&k, &path).unwrap());
    std::fs::write(&path, b"diff bytes\n").unwrap();
    assert!(!store.is_identical(&k, &path).unwrap(), "same size, other bytes");
    let copy = key("raw/dt=2020-06-01/copy of upload.log");
    store.copy(&k, &copy).unwrap();
    assert_eq!(store.get_bytes(&copy).unwrap(), b"same bytes\n");
    assert!(store.copy(&key("raw/none"), &copy).unwrap_err().to_string().contains("raw/none"));
});

#[test]
fn a_missing_bucket_is_named() {
    let opts = loglake_testkit::s3_options(&format!("http://{}", loglake_testkit::s3_addr()));
    let store = loglake_testkit::s3_store_on("no-such-bucket-here", &opts);
    let err = store.check().unwrap_err();
    assert!(matches!(err, StorageError::NoSuchBucket { .. }), "{err}");
    assert_eq!(err.to_string(), "s3://no-such-bucket-here: no such bucket");
    let err = store.list("raw/").unwrap_err();
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");
    let err = store.get_bytes(&key("raw/x")).unwrap_err();
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");
    let err = store.put_bytes(&key("raw/x"), b"1").unwrap_err();
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");
}

#[test]
fn an_s3_location_needs_a_runtime() {
    let loc = loglake_storage::Location::parse("s3://bucket-x/p").unwrap();
    let err = Store::open(&loc, &loglake_storage::S3Options::default(), None).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}
