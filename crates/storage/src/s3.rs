//! The Amazon S3 backend (aws-sdk-s3), for AWS and S3-compatible stores.
//!
//! Calls block the calling thread on the tokio runtime handle the store was opened with; the
//! library never creates a runtime. Object bodies stream through a bounded channel.

use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError as SdkBoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use bytes::{Buf, Bytes};
use md5::{Digest, Md5};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::error::StorageError;
use crate::location::ObjectKey;
use crate::store::{ObjectMeta, PutOutcome};

/// S3 requires parts of at least 5 MiB (except the last).
const MIN_PART: usize = 5 * 1024 * 1024;

/// An access key pair given explicitly (for S3-compatible stores and tests). The secret never
/// appears in `Debug` output, logs or errors.
#[derive(Clone)]
pub struct StaticCredentials {
    /// Access key id (not secret).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// How to reach S3. The defaults use the standard AWS chain for region and credentials
/// (environment, profile, SSO, EC2 instance role).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3Options {
    /// Region; `None` resolves it from the environment/profile/instance.
    pub region: Option<String>,
    /// A custom endpoint (`http://127.0.0.1:9000`) for S3-compatible stores.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); `None`: on when an endpoint is set.
    pub path_style: Option<bool>,
    /// Explicit credentials instead of the default chain.
    pub credentials: Option<StaticCredentials>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for one read on the socket.
    pub read_timeout: Duration,
    /// Attempts per request, retries included (throttling, 5xx, timeouts, resets).
    pub max_attempts: u32,
    /// First retry backoff; later ones grow exponentially with jitter.
    pub initial_backoff: Duration,
    /// Objects at least this large are uploaded in parts (at least 5 MiB).
    pub multipart_threshold: usize,
    /// Size of each part after the first (at least 5 MiB).
    pub part_size: usize,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            region: None,
            endpoint: None,
            path_style: None,
            credentials: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            multipart_threshold: 16 * 1024 * 1024,
            part_size: 16 * 1024 * 1024,
        }
    }
}

/// Logs every retry of every S3 request as a `tracing` warning.
#[derive(Debug)]
struct RetryLogger;

impl Intercept for RetryLogger {
    fn name(&self) -> &'static str {
        "LoglakeRetryLogger"
    }

    fn read_before_attempt(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, RequestAttempts::attempts);
        if attempt > 1 {
            let req = ctx.request();
            tracing::warn!(attempt, method = req.method(), uri = req.uri(), "retrying S3 request");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct S3Backend {
    client: Client,
    bucket: String,
    prefix: String,
    handle: Handle,
    threshold: usize,
    part_size: usize,
    max_attempts: u32,
    backoff: Duration,
}

/// Percent-encodes a key for `x-amz-copy-source` (everything but unreserved characters and `/`).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads until `buf` holds `want` bytes or the reader ends.
fn read_chunk(r: &mut dyn Read, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(want.min(64 * 1024 * 1024));
    r.take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

impl S3Backend {
    pub(crate) fn connect(bucket: &str, prefix: &str, opts: &S3Options, handle: Handle) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(opts.max_attempts.max(1))
                    .with_initial_backoff(opts.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(opts.connect_timeout)
                    .read_timeout(opts.read_timeout)
                    .build(),
            );
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &opts.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(c) = &opts.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                None,
                None,
                "loglake-static",
            ));
        }
        let shared = handle.block_on(loader.load());
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(opts.path_style.unwrap_or(opts.endpoint.is_some()))
            .interceptor(RetryLogger)
            .build();
        S3Backend {
            client: Client::from_conf(config),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            handle,
            threshold: opts.multipart_threshold.max(MIN_PART),
            part_size: opts.part_size.max(MIN_PART),
            max_attempts: opts.max_attempts.max(1),
            backoff: opts.initial_backoff,
        }
    }

    fn full(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn show(&self, key: &str) -> String {
        let full = self.full(key);
        format!("s3://{}/{}", self.bucket, full.trim_end_matches('/'))
    }

    fn err<E>(
        &self,
        op: &'static str,
        key: &str,
        e: SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e.code().map(str::to_owned);
        match code.as_deref() {
            Some("NoSuchBucket") => return StorageError::NoSuchBucket { bucket: self.bucket.clone() },
            Some("NoSuchKey") => return StorageError::NotFound { object: self.show(key) },
            _ => {}
        }
        StorageError::S3 { op, object: self.show(key), status, code, source: Box::new(e) }
    }

    pub(crate) fn check(&self) -> Result<(), StorageError> {
        let r = self.handle.block_on(self.client.head_bucket().bucket(&self.bucket).send());
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                Err(StorageError::NoSuchBucket { bucket: self.bucket.clone() })
            }
            Err(e) => Err(self.err("HeadBucket", "", e)),
        }
    }

    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        let root = if self.prefix.is_empty() { String::new() } else { format!("{}/", self.prefix) };
        self.handle.block_on(async {
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{root}{prefix}"))
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("ListObjectsV2", prefix, e))?;
                for obj in page.contents() {
                    let Some(full) = obj.key() else { continue };
                    let rel = full.strip_prefix(&root).unwrap_or(full);
                    let key = match ObjectKey::new(rel) {
                        Ok(k) => k,
                        Err(e) => {
                            tracing::warn!(error = %e, "skipping an object whose key is not a valid lake key");
                            continue;
                        }
                    };
                    let modified = obj.last_modified().map(|t| {
                        UNIX_EPOCH + Duration::new(u64::try_from(t.secs()).unwrap_or(0), t.subsec_nanos())
                    });
                    out.push(ObjectMeta {
                        key,
                        size: obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                        etag: obj.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
                        modified,
                    });
                }
            }
            Ok(out)
        })
    }

    pub(crate) fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError> {
        let r = self
            .handle
            .block_on(self.client.head_object().bucket(&self.bucket).key(self.full(key.as_str())).send());
        match r {
            Ok(o) => Ok(Some(ObjectMeta {
                key: key.clone(),
                size: o.content_length().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
                modified: o.last_modified().map(|t| {
                    SystemTime::UNIX_EPOCH
                        + Duration::new(u64::try_from(t.secs()).unwrap_or(0), t.subsec_nanos())
                }),
            })),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(self.err("HeadObject", key.as_str(), e)),
        }
    }

    pub(crate) fn open(&self, key: &ObjectKey) -> Result<S3Reader, StorageError> {
        let resp = self
            .handle
            .block_on(self.client.get_object().bucket(&self.bucket).key(self.full(key.as_str())).send())
            .map_err(|e| self.err("GetObject", key.as_str(), e))?;
        // a few chunks in flight: memory stays bounded however large the object is
        let (tx, rx) = mpsc::channel(8);
        let object = self.show(key.as_str());
        let mut body = resp.body;
        self.handle.spawn(async move {
            loop {
                match body.next().await {
                    None => break,
                    Some(Ok(chunk)) => {
                        if tx.send(Ok(chunk)).await.is_err() {
                            break; // the reader was dropped
                        }
                    }
                    Some(Err(e)) => {
                        let err = StorageError::S3 {
                            op: "GetObject (body)",
                            object,
                            status: None,
                            code: None,
                            source: Box::new(e),
                        };
                        let _ = tx.send(Err(err)).await;
                        break;
                    }
                }
            }
        });
        Ok(S3Reader { rx, current: Bytes::new() })
    }

    pub(crate) fn get_range(&self, key: &ObjectKey, start: u64, end: u64) -> Result<Vec<u8>, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let r = self.handle.block_on(async {
            let resp = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.full(key.as_str()))
                .range(format!("bytes={start}-{}", end - 1))
                .send()
                .await;
            match resp {
                Ok(o) => {
                    o.body.collect().await.map(|b| b.into_bytes().to_vec()).map_err(|e| StorageError::S3 {
                        op: "GetObject (range body)",
                        object: self.show(key.as_str()),
                        status: None,
                        code: None,
                        source: Box::new(e),
                    })
                }
                // a range past the end is empty, as on local disk
                Err(e) if e.code() == Some("InvalidRange") => Ok(Vec::new()),
                Err(e) => Err(self.err("GetObject", key.as_str(), e)),
            }
        });
        r
    }

    fn put_object(&self, key: &ObjectKey, data: Vec<u8>) -> Result<(), StorageError> {
        self.handle
            .block_on(
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(self.full(key.as_str()))
                    .body(ByteStream::from(data))
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.err("PutObject", key.as_str(), e))
    }

    /// Single request below the threshold, multipart above it; a failed multipart upload is
    /// aborted so no parts are left behind (and billed).
    pub(crate) fn put(&self, key: &ObjectKey, data: &mut dyn Read) -> Result<u64, StorageError> {
        let io_err = |source| StorageError::Io {
            op: "read upload source for",
            object: self.show(key.as_str()),
            source,
        };
        let first = read_chunk(data, self.threshold).map_err(io_err)?;
        if first.len() < self.threshold {
            let n = first.len() as u64;
            self.put_object(key, first)?;
            return Ok(n);
        }
        let full = self.full(key.as_str());
        let upload_id = self
            .handle
            .block_on(self.client.create_multipart_upload().bucket(&self.bucket).key(&full).send())
            .map_err(|e| self.err("CreateMultipartUpload", key.as_str(), e))?
            .upload_id()
            .unwrap_or_default()
            .to_owned();
        let result = self.upload_parts(key, &upload_id, first, data);
        match result {
            Ok(n) => Ok(n),
            Err(e) => {
                let aborted = self.handle.block_on(
                    self.client
                        .abort_multipart_upload()
                        .bucket(&self.bucket)
                        .key(&full)
                        .upload_id(&upload_id)
                        .send(),
                );
                if let Err(abort) = aborted {
                    tracing::error!(object = %self.show(key.as_str()), upload_id, error = %DisplayErrorContext(&abort),
                        "could not abort a failed multipart upload; its parts remain until a lifecycle rule removes them");
                }
                Err(StorageError::UploadAborted { object: self.show(key.as_str()), source: Box::new(e) })
            }
        }
    }

    fn upload_parts(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        first: Vec<u8>,
        data: &mut dyn Read,
    ) -> Result<u64, StorageError> {
        let full = self.full(key.as_str());
        let mut parts = Vec::new();
        let mut chunk = first;
        let mut total = 0u64;
        let mut number = 1i32;
        loop {
            total += chunk.len() as u64;
            let etag = self
                .handle
                .block_on(
                    self.client
                        .upload_part()
                        .bucket(&self.bucket)
                        .key(&full)
                        .upload_id(upload_id)
                        .part_number(number)
                        .body(ByteStream::from(chunk))
                        .send(),
                )
                .map_err(|e| self.err("UploadPart", key.as_str(), e))?
                .e_tag()
                .unwrap_or_default()
                .to_owned();
            parts.push(CompletedPart::builder().e_tag(etag).part_number(number).build());
            chunk = read_chunk(data, self.part_size).map_err(|source| StorageError::Io {
                op: "read upload source for",
                object: self.show(key.as_str()),
                source,
            })?;
            if chunk.is_empty() {
                break;
            }
            number += 1;
        }
        self.handle
            .block_on(
                self.client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&full)
                    .upload_id(upload_id)
                    .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                    .send(),
            )
            .map_err(|e| self.err("CompleteMultipartUpload", key.as_str(), e))?;
        Ok(total)
    }

    /// `PutObject` with `If-None-Match: *`, retried by hand (SDK retries off for this call) so
    /// that a retry after a possibly-stored attempt is known: its 412 is then `Uncertain`.
    pub(crate) fn put_if_absent(&self, key: &ObjectKey, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let mut maybe_stored = false;
        let mut backoff = self.backoff;
        for attempt in 1..=self.max_attempts {
            let r = self.handle.block_on(
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(self.full(key.as_str()))
                    .if_none_match("*")
                    .body(ByteStream::from(data.to_vec()))
                    .customize()
                    .config_override(
                        aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled()),
                    )
                    .send(),
            );
            let Err(e) = r else {
                return Ok(PutOutcome::Created);
            };
            let status = e.raw_response().map(|r| r.status().as_u16());
            if status == Some(412) {
                return Ok(if maybe_stored { PutOutcome::Uncertain } else { PutOutcome::AlreadyExists });
            }
            // 409 ConditionalRequestConflict: a concurrent conditional write; try again
            let retryable = matches!(status, None | Some(409 | 429 | 500..=599));
            if !retryable || attempt == self.max_attempts {
                return Err(self.err("PutObject (if absent)", key.as_str(), e));
            }
            // only a refusal that says "not stored" (throttling, conflict) keeps the outcome known
            maybe_stored |= !matches!(status, Some(409 | 429 | 503));
            tracing::warn!(
                attempt,
                object = %self.show(key.as_str()),
                status,
                error = %DisplayErrorContext(&e),
                "retrying conditional PutObject"
            );
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
        unreachable!("the loop returns on its last attempt")
    }

    pub(crate) fn delete_many(&self, keys: &[ObjectKey]) -> Result<(), StorageError> {
        for batch in keys.chunks(1000) {
            let build_err = |e: aws_sdk_s3::error::BuildError| StorageError::S3 {
                op: "DeleteObjects",
                object: self.show(batch[0].as_str()),
                status: None,
                code: None,
                source: Box::new(e),
            };
            let ids = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(self.full(k.as_str())).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(build_err)?;
            let delete = Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(build_err)?;
            let out = self
                .handle
                .block_on(self.client.delete_objects().bucket(&self.bucket).delete(delete).send())
                .map_err(|e| self.err("DeleteObjects", batch[0].as_str(), e))?;
            if let Some(first) = out.errors().first() {
                let key = first.key().unwrap_or_default();
                return Err(StorageError::S3 {
                    op: "DeleteObjects",
                    object: format!("s3://{}/{key}", self.bucket),
                    status: None,
                    code: first.code().map(str::to_owned),
                    source: format!(
                        "{} of {} deletes failed: {}",
                        out.errors().len(),
                        batch.len(),
                        first.message().unwrap_or("no message")
                    )
                    .into(),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        let source = format!("{}/{}", self.bucket, url_encode(&self.full(from.as_str())));
        self.handle
            .block_on(
                self.client
                    .copy_object()
                    .bucket(&self.bucket)
                    .copy_source(source)
                    .key(self.full(to.as_str()))
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.err("CopyObject", from.as_str(), e))
    }

    /// Multipart uploads started under `prefix` and neither completed nor aborted.
    pub(crate) fn pending_uploads(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let out = self
            .handle
            .block_on(
                self.client.list_multipart_uploads().bucket(&self.bucket).prefix(self.full(prefix)).send(),
            )
            .map_err(|e| self.err("ListMultipartUploads", prefix, e))?;
        Ok(out.uploads().iter().filter_map(|u| u.key().map(str::to_owned)).collect())
    }

    /// The `ETag` S3 gives `data` when we upload it (MD5, or MD5 of part MD5s with `-N`).
    pub(crate) fn expected_etag(&self, data: &mut dyn Read) -> io::Result<String> {
        let first = read_chunk(data, self.threshold)?;
        if first.len() < self.threshold {
            return Ok(hex(&Md5::digest(&first)));
        }
        let mut digests = Md5::digest(&first).to_vec();
        let mut parts = 1;
        loop {
            let chunk = read_chunk(data, self.part_size)?;
            if chunk.is_empty() {
                break;
            }
            digests.extend_from_slice(&Md5::digest(&chunk));
            parts += 1;
        }
        Ok(format!("{}-{parts}", hex(&Md5::digest(&digests))))
    }
}

/// Reads an S3 object body as it streams in.
pub(crate) struct S3Reader {
    rx: mpsc::Receiver<Result<Bytes, StorageError>>,
    current: Bytes,
}

impl Read for S3Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e.into_io()),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_encoding() {
        assert_eq!(url_encode("a/b c/ü+x.log"), "a/b%20c/%C3%BC%2Bx.log");
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let c = StaticCredentials { access_key_id: "AKID".into(), secret_access_key: "s3cr3t".into() };
        let shown = format!("{c:?} {:?}", S3Options { credentials: Some(c.clone()), ..S3Options::default() });
        assert!(!shown.contains("s3cr3t") && shown.contains("AKID"), "{shown}");
    }
}
