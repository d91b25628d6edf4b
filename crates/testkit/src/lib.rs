//! Test harness shared by loglake's test suites: a real S3-compatible server (moto) on
//! 127.0.0.1, a tokio runtime, temporary lakes, and a fault-injecting TCP proxy.
//!
//! The server is `LOGLAKE_S3_ENDPOINT` when set (`scripts/test.sh` starts one for the whole
//! run), else a `moto_server` from `.venv` that each test binary starts on a free port.

pub mod proxy;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use loglake_storage::{Location, S3Options, StaticCredentials, Store};

/// The secret key every test client uses; tests assert it never shows up in logs or errors.
pub const SECRET: &str = "loglakeTESTsecretKEY/never+printed0123456789";

/// A runtime shared by the tests of one binary (tests run on plain threads and block on it).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The workspace root (where `.venv` lives).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// One HTTP/1.1 request without a body; returns (status, body).
pub fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the S3 server");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let status = resp.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// The S3 server's address: `LOGLAKE_S3_ENDPOINT` (set by scripts/test.sh) or a moto server
/// this test binary starts on a free port and stops when it exits.
pub fn s3_addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("LOGLAKE_S3_ENDPOINT") {
            let hostport = endpoint.trim_start_matches("http://").trim_end_matches('/');
            return hostport.parse().unwrap_or_else(|_| panic!("LOGLAKE_S3_ENDPOINT={endpoint}: want http://IP:PORT"));
        }
        let moto = std::env::var_os("LOGLAKE_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"));
        assert!(
            moto.exists(),
            "the S3 tests need moto's server at {} — run `bash scripts/test-env.sh` (or the whole \
             suite with `bash scripts/test.sh`), or set LOGLAKE_S3_ENDPOINT to a running S3-compatible server",
            moto.display()
        );
        let port = free_port();
        // the shell stops moto when this test process is gone (tests have no global teardown)
        let script = format!(
            "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
             while kill -0 {} 2>/dev/null; do sleep 1; done; kill $child",
            moto.display(),
            std::process::id()
        );
        #[allow(clippy::zombie_processes, reason = "the watchdog shell outlives this process on purpose")]
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(addr).is_ok() && http(addr, "GET", "/moto-api/").0 != 0 {
                break addr;
            }
            assert!(Instant::now() < deadline, "moto_server did not start on {addr} within 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// A loglake binary ready to run against the test S3 server: test credentials, a region, no
/// instance-metadata lookups, and no `LOGLAKE_LAKE` from the caller's environment.
#[must_use]
pub fn cli_command(binary: &str) -> Command {
    let mut c = Command::new(binary);
    c.env("AWS_ACCESS_KEY_ID", "AKIDLOGLAKETEST")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("LOGLAKE_LAKE");
    c
}

/// A fresh bucket name.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates a bucket on the S3 server (moto does not check signatures: a plain PUT will do).
pub fn create_bucket(name: &str) {
    let (status, body) = http(s3_addr(), "PUT", &format!("/{name}"));
    assert_eq!(status, 200, "create bucket {name}: {body}");
}

/// Client options for the test server (or a proxy in front of it).
pub fn s3_options(endpoint: &str) -> S3Options {
    let mut o = S3Options::default();
    o.region = Some("us-east-1".into());
    o.endpoint = Some(endpoint.to_owned());
    o.path_style = Some(true);
    o.credentials =
        Some(StaticCredentials { access_key_id: "AKIDLOGLAKETEST".into(), secret_access_key: SECRET.into() });
    o.max_attempts = 4;
    o.initial_backoff = Duration::from_millis(20);
    o.connect_timeout = Duration::from_secs(2);
    o.read_timeout = Duration::from_secs(5);
    o.multipart_threshold = 5 * 1024 * 1024;
    o.part_size = 5 * 1024 * 1024;
    o
}

/// A store on a new bucket of the test server, under a prefix.
pub fn s3_store() -> Store {
    let bucket = unique("lake");
    create_bucket(&bucket);
    s3_store_on(&bucket, &s3_options(&format!("http://{}", s3_addr())))
}

/// A store on an existing bucket with the given options.
pub fn s3_store_on(bucket: &str, opts: &S3Options) -> Store {
    let location = Location::parse(&format!("s3://{bucket}/lake")).unwrap();
    Store::open(&location, opts, Some(runtime().handle().clone())).unwrap()
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TempDir {
    /// A new empty directory under the system temp dir.
    #[must_use]
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(unique("loglake-storage-test"));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store on a new temporary directory (kept alive by the returned guard).
pub fn local_store() -> (Store, TempDir) {
    let dir = TempDir::new();
    (Store::local(dir.0.join("lake")), dir)
}

/// Runs one test body against both backends: `suite!(name, |store| { ... });`
#[macro_export]
macro_rules! suite {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports, reason = "not every body needs every import")]
            use super::*;

            #[test]
            fn local() {
                let (store, _dir) = $crate::local_store();
                let $store = &store;
                $body
            }

            #[test]
            fn s3() {
                let store = $crate::s3_store();
                let $store = &store;
                $body
            }
        }
    };
}
