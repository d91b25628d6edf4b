//! The secret key never appears in logs or errors, even at TRACE level and through failures;
//! and retries are visible as `tracing` warnings. (Own test binary: it installs the global
//! subscriber, which the SDK's worker threads need.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use loglake_storage::{ObjectKey, Store};
use loglake_testkit::proxy::{Fault, Proxy};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn secret_never_logged_and_retries_visible() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let bucket = loglake_testkit::unique("secrets");
    loglake_testkit::create_bucket(&bucket);
    let proxy = Proxy::start(loglake_testkit::s3_addr());
    let store: Store = loglake_testkit::s3_store_on(&bucket, &loglake_testkit::s3_options(&proxy.endpoint()));
    let k = ObjectKey::new("raw/x.log").unwrap();
    let mut errors = Vec::new();
    proxy.push([Fault::Respond(503, "SlowDown"), Fault::Close]);
    store.put_bytes(&k, b"data").unwrap();
    store.get_bytes(&k).unwrap();
    errors.push(store.get_bytes(&ObjectKey::new("raw/missing").unwrap()).unwrap_err());
    proxy.set_default(Fault::Respond(403, "AccessDenied"));
    errors.push(store.list("raw/").unwrap_err());
    errors.push(store.put_bytes(&k, b"x").unwrap_err());
    let shown: String = errors.iter().map(|e| format!("{e}\n{e:?}\n")).collect();
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();

    assert!(logs.len() > 1000, "the capture works: {} bytes", logs.len());
    assert!(logs.contains("retrying S3 request"), "retries are visible as warnings");
    assert!(shown.contains("AccessDenied"), "{shown}");
    for text in [&logs, &shown] {
        assert!(!text.contains(loglake_testkit::SECRET), "the secret key leaked");
        // nor a recognisable piece of it
        assert!(!text.contains("never+printed"), "part of the secret key leaked");
    }
}
