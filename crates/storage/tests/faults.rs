//! Faults between the S3 client and a real server, injected by a TCP proxy: operations
//! succeed through retries, or fail with a clear error once retries run out — and a lost
//! response to a conditional write is reported as uncertain, then resolved.

use std::time::{Duration, Instant};

use loglake_storage::{ObjectKey, PutOutcome, StorageError, Store};
use loglake_testkit::proxy::{Fault, Proxy};

fn key(s: &str) -> ObjectKey {
    ObjectKey::new(s).unwrap()
}

/// A bucket with one object, and a store that reaches it through a fresh proxy.
fn setup(max_attempts: u32) -> (Proxy, Store, Store) {
    let bucket = loglake_testkit::unique("faults");
    loglake_testkit::create_bucket(&bucket);
    let direct = loglake_testkit::s3_store_on(
        &bucket,
        &loglake_testkit::s3_options(&format!("http://{}", loglake_testkit::s3_addr())),
    );
    direct.put_bytes(&key("raw/a.log"), b"payload\n").unwrap();
    let proxy = Proxy::start(loglake_testkit::s3_addr());
    let mut opts = loglake_testkit::s3_options(&proxy.endpoint());
    opts.max_attempts = max_attempts;
    let via_proxy = loglake_testkit::s3_store_on(&bucket, &opts);
    (proxy, via_proxy, direct)
}

#[test]
fn latency_is_only_slower() {
    let (proxy, store, _) = setup(4);
    proxy.push([Fault::Delay(Duration::from_millis(300))]);
    let t = Instant::now();
    assert_eq!(store.get_bytes(&key("raw/a.log")).unwrap(), b"payload\n");
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn closed_connections_are_retried() {
    let (proxy, store, _) = setup(4);
    proxy.push([Fault::Close, Fault::Close]);
    assert_eq!(store.get_bytes(&key("raw/a.log")).unwrap(), b"payload\n");
    assert!(proxy.connections() >= 3, "two refused connections, then one that worked");
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let (proxy, store, direct) = setup(4);
    proxy.push([Fault::Respond(503, "SlowDown"), Fault::Respond(500, "InternalError")]);
    store.put_bytes(&key("raw/b.log"), b"written through faults").unwrap();
    assert_eq!(direct.get_bytes(&key("raw/b.log")).unwrap(), b"written through faults");
    proxy.push([Fault::Respond(503, "SlowDown")]);
    assert_eq!(store.list("raw/").unwrap().len(), 2);
}

#[test]
fn responses_cut_short_are_retried() {
    let (proxy, store, _) = setup(4);
    proxy.push([Fault::CutResponse(20), Fault::CutResponse(0)]);
    assert_eq!(store.get_bytes(&key("raw/a.log")).unwrap(), b"payload\n");
}

#[test]
fn requests_cut_short_are_retried() {
    let (proxy, store, direct) = setup(4);
    proxy.push([Fault::CutRequest(10), Fault::CutRequest(300)]);
    store.put_bytes(&key("raw/c.log"), &vec![b'c'; 100_000]).unwrap();
    assert_eq!(direct.get_bytes(&key("raw/c.log")).unwrap().len(), 100_000);
    assert!(proxy.connections() >= 3);
}

#[test]
fn slow_responses_time_out_and_are_retried() {
    let bucket = loglake_testkit::unique("timeouts");
    loglake_testkit::create_bucket(&bucket);
    let proxy = Proxy::start(loglake_testkit::s3_addr());
    let mut opts = loglake_testkit::s3_options(&proxy.endpoint());
    opts.read_timeout = Duration::from_millis(500);
    let store = loglake_testkit::s3_store_on(&bucket, &opts);
    proxy.push([Fault::Delay(Duration::from_millis(1500))]);
    let t = Instant::now();
    store.put_bytes(&key("raw/t.log"), b"eventually").unwrap();
    assert!(t.elapsed() >= Duration::from_millis(500), "the first attempt waited for its timeout");
    assert_eq!(store.get_bytes(&key("raw/t.log")).unwrap(), b"eventually");
}

#[test]
fn retries_run_out_with_a_clear_error() {
    let (proxy, store, _) = setup(3);
    proxy.set_default(Fault::Respond(503, "SlowDown"));
    let err = store.get_bytes(&key("raw/a.log")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StorageError::S3 { status: Some(503), .. }), "{msg}");
    assert!(msg.contains("/lake/raw/a.log") && msg.contains("SlowDown"), "{msg}");
    assert_eq!(proxy.connections(), 3, "exactly max_attempts tries");

    let (proxy, store, _) = setup(2);
    proxy.set_default(Fault::Close);
    let err = store.list("raw/").unwrap_err();
    assert!(err.to_string().starts_with("S3 ListObjectsV2 s3://"), "{err}");
}

#[test]
fn lost_response_to_a_conditional_write_is_uncertain_then_resolved() {
    // the first PutObject reaches the server and stores the object; its response is lost;
    // the retry then finds the object present. That 412 is about our own write.
    let (proxy, store, direct) = setup(4);
    let k = key("_delta_log/00000000000000000000.json");
    let ours = br#"{"commitInfo":{"txnId":"writer-a-1"}}"#;
    proxy.push([Fault::CutResponse(0)]);
    assert_eq!(store.put_if_absent(&k, ours).unwrap(), PutOutcome::Uncertain);
    assert_eq!(direct.get_bytes(&k).unwrap(), ours);

    // resolved by reading back: ours
    let k2 = key("_delta_log/00000000000000000001.json");
    proxy.push([Fault::CutResponse(0)]);
    assert!(store.put_if_absent_resolved(&k2, ours).unwrap());

    // resolved by reading back: another writer's
    let k3 = key("_delta_log/00000000000000000002.json");
    direct.put_if_absent(&k3, b"theirs").unwrap();
    proxy.push([Fault::CutResponse(0)]);
    assert!(!store.put_if_absent_resolved(&k3, ours).unwrap());
    assert_eq!(direct.get_bytes(&k3).unwrap(), b"theirs");

    // without a lost response a conflict is a plain "already exists"
    assert_eq!(store.put_if_absent(&k3, ours).unwrap(), PutOutcome::AlreadyExists);
    // and a throttled first attempt does not make the outcome uncertain
    let k4 = key("_delta_log/00000000000000000003.json");
    proxy.push([Fault::Respond(503, "SlowDown")]);
    assert_eq!(store.put_if_absent(&k4, ours).unwrap(), PutOutcome::Created);
}
