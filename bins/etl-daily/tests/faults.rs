//! Storage faults between `etl-daily` and the S3 test server (a fault-injecting proxy): resets,
//! 500/503 answers, latency, cut responses. The job either succeeds through its retries or
//! fails with a one-line error; either way a rerun converges to the tables of a fault-free run.

use std::time::Duration;

use loglake_testkit::proxy::{Fault, Proxy};

mod common;
use common::{clear_tables, generated_day, tables, text};

/// Every fault kind, spread between passing connections.
fn schedule() -> Vec<Fault> {
    let faults = [
        Fault::Close,
        Fault::Respond(503, "SlowDown"),
        Fault::Delay(Duration::from_millis(300)),
        Fault::Respond(500, "InternalError"),
        Fault::CutResponse(120),
        Fault::CutRequest(64),
    ];
    let mut out = Vec::new();
    for round in 0..4 {
        for (i, f) in faults.iter().enumerate() {
            out.push(*f);
            out.extend(std::iter::repeat_n(Fault::Pass, (i + round) % 3));
        }
    }
    out
}

#[test]
fn a_run_through_faults_succeeds_or_fails_cleanly_and_a_rerun_converges() {
    let store = loglake_testkit::s3_store();
    let loglake_storage::Location::S3 { bucket, prefix } = store.location().clone() else { unreachable!() };
    let url = format!("s3://{bucket}/{prefix}");
    let etl = |endpoint: &str| {
        loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily"))
            .args(["--lake", &url, "--s3-endpoint", endpoint, "--date", "2020-05-31", "--threads", "2"])
            .output()
            .unwrap()
    };
    let direct = format!("http://{}", loglake_testkit::s3_addr());
    generated_day(&store, &[(300, 0), (301, 0), (302, 0)], 2_000, 0.01);
    let clean = etl(&direct);
    assert!(clean.status.success(), "{}", text(&clean));
    let expected = tables(&store);
    assert!(!expected["access_logs"].is_empty() && !expected["daily_traffic"].is_empty());

    let mut injected = 0;
    for (name, faults, default) in [
        ("mixed faults, then a healthy server", schedule(), Fault::Pass),
        ("a server that keeps answering 503", Vec::new(), Fault::Respond(503, "SlowDown")),
        ("a server that keeps resetting connections", Vec::new(), Fault::Close),
    ] {
        clear_tables(&store);
        let proxy = Proxy::start(loglake_testkit::s3_addr());
        injected += faults.iter().filter(|f| **f != Fault::Pass).count();
        proxy.push(faults);
        proxy.set_default(default);
        let out = etl(&proxy.endpoint());
        let code = out.status.code();
        // never a panic (101) or a signal; failures are one line that names the cause
        assert!(matches!(code, Some(0..=2)), "{name}: exit {code:?}: {}", text(&out));
        if code != Some(0) {
            let all = text(&out);
            let errors = all.lines().filter(|l| l.starts_with("etl-daily: error")).count();
            assert_eq!(errors, 1, "{name}: one error line expected: {all}");
            assert!(!text(&out).contains(loglake_testkit::SECRET), "{name}: secret in output");
        }
        if default != Fault::Pass {
            assert_ne!(code, Some(0), "{name}: cannot succeed against a failing server");
            injected += proxy.connections();
        }
        drop(proxy);
        let rerun = etl(&direct);
        assert!(rerun.status.success(), "{name}: rerun: {}", text(&rerun));
        assert_eq!(tables(&store), expected, "{name}: rerun did not converge to the fault-free tables");
    }
    assert!(injected >= 24, "only {injected} faults injected");
}
