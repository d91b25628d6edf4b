//! Mergeable partial states: built per row group (or thread), combined in any order.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hashbrown::{Equivalent, HashMap};

use sketches_ddsketch::{Config, DDSketch};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

/// The hasher of [`DistinctSet`]: keys are already 128-bit hashes, so it just takes 64 of
/// their bits.
#[derive(Debug, Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        // 64 bits of a 128-bit hash are uniformly distributed already
        self.0 = v as u64;
    }
}

/// A set of distinct values, held as 128-bit hashes (xxh3): exact for any realistic count
/// (a collision among a billion values has a probability near 1e-21).
pub type DistinctSet = HashSet<u128, BuildHasherDefault<PassThrough>>;

/// The hash a distinct set holds for a value.
#[must_use]
pub fn distinct_key(parts: &[&[u8]]) -> u128 {
    if let [one] = parts {
        return xxh3_128(one);
    }
    // streaming: no buffer per row
    let mut h = Xxh3::new();
    for p in parts {
        h.update(p);
        h.update(&[0]);
    }
    h.digest128()
}

/// What one row contributes (the curated columns the aggregates read).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RowFacts<'a> {
    /// `client_ip`.
    pub client_ip: Option<&'a str>,
    /// `user_agent`.
    pub user_agent: Option<&'a str>,
    /// `status`.
    pub status: Option<i64>,
    /// `bytes`.
    pub bytes: Option<i64>,
    /// `method`.
    pub method: Option<&'a str>,
    /// `request_raw` is set (the request line was not a valid request).
    pub invalid_request: bool,
    /// `is_bot`.
    pub is_bot: Option<bool>,
    /// `duration_us`.
    pub duration_us: Option<i64>,
    /// `path`.
    pub path: Option<&'a str>,
    /// `ua_browser`.
    pub ua_browser: Option<&'a str>,
    /// `ua_os`.
    pub ua_os: Option<&'a str>,
    /// `ua_device`.
    pub ua_device: Option<&'a str>,
    /// `referrer_host`.
    pub referrer_host: Option<&'a str>,
}

fn sketch() -> DDSketch {
    DDSketch::new(Config::defaults())
}

/// Counts, sums, exact distinct sets and percentile sketches for a period.
#[derive(Clone)]
pub struct Traffic {
    /// Requests.
    pub requests: u64,
    /// Sum of response bytes.
    pub bytes: u64,
    /// Requests by status class 1xx..5xx.
    pub status: [u64; 5],
    /// Bot requests.
    pub bots: u64,
    /// Requests by method: GET, POST, PUT, DELETE, HEAD, other.
    pub methods: [u64; 6],
    /// Requests with an invalid request line.
    pub invalid: u64,
    /// Distinct client IPs.
    pub clients: DistinctSet,
    /// Distinct (client IP, user agent).
    pub visitors: DistinctSet,
    bytes_sketch: DDSketch,
    duration_sketch: DDSketch,
}

impl std::fmt::Debug for Traffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traffic")
            .field("requests", &self.requests)
            .field("bytes", &self.bytes)
            .field("status", &self.status)
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            requests: 0,
            bytes: 0,
            status: [0; 5],
            bots: 0,
            methods: [0; 6],
            invalid: 0,
            clients: DistinctSet::default(),
            visitors: DistinctSet::default(),
            bytes_sketch: sketch(),
            duration_sketch: sketch(),
        }
    }
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "HEAD"];

impl Traffic {
    /// Adds one row.
    pub fn add(&mut self, r: &RowFacts<'_>) {
        self.requests += 1;
        if let Some(b) = r.bytes {
            self.bytes += b.max(0).unsigned_abs();
            self.bytes_sketch.add(b as f64);
        }
        if let Some(class) =
            r.status.and_then(|s| usize::try_from(s / 100).ok()).filter(|c| (1..=5).contains(c))
        {
            self.status[class - 1] += 1;
        }
        self.bots += u64::from(r.is_bot == Some(true));
        match r.method {
            Some(m) => self.methods[METHODS.iter().position(|x| *x == m).unwrap_or(5)] += 1,
            None if !r.invalid_request => self.methods[5] += 1,
            None => {}
        }
        self.invalid += u64::from(r.invalid_request);
        if let Some(ip) = r.client_ip {
            self.clients.insert(distinct_key(&[ip.as_bytes()]));
            self.visitors.insert(distinct_key(&[ip.as_bytes(), r.user_agent.unwrap_or("").as_bytes()]));
        }
        if let Some(d) = r.duration_us {
            self.duration_sketch.add(d as f64);
        }
    }

    /// Adds another partial state (associative and commutative).
    pub fn merge(&mut self, o: &Traffic) {
        self.requests += o.requests;
        self.bytes += o.bytes;
        for (a, b) in self.status.iter_mut().zip(o.status) {
            *a += b;
        }
        self.bots += o.bots;
        for (a, b) in self.methods.iter_mut().zip(o.methods) {
            *a += b;
        }
        self.invalid += o.invalid;
        self.clients.extend(&o.clients);
        self.visitors.extend(&o.visitors);
        // sketches built with the same config always merge
        let _ = self.bytes_sketch.merge(&o.bytes_sketch);
        let _ = self.duration_sketch.merge(&o.duration_sketch);
    }

    /// A percentile (0-1) of response bytes; `None` without sizes.
    #[must_use]
    pub fn bytes_quantile(&self, q: f64) -> Option<f64> {
        self.bytes_sketch.quantile(q).ok().flatten()
    }

    /// A percentile (0-1) of time to serve, µs; `None` without durations.
    #[must_use]
    pub fn duration_quantile(&self, q: f64) -> Option<f64> {
        self.duration_sketch.quantile(q).ok().flatten()
    }
}

/// Per-path counts for the top-paths table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathCounts {
    /// Requests.
    pub requests: u64,
    /// Sum of response bytes.
    pub bytes: u64,
    /// 4xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Distinct client IPs.
    pub clients: DistinctSet,
}

/// Requests and distinct clients of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// Requests.
    pub requests: u64,
    /// Distinct client IPs.
    pub clients: DistinctSet,
}

/// `(browser, os, device, is_bot)`.
pub type AgentKey = (Option<String>, Option<String>, Option<String>, Option<bool>);

/// The hasher of the group maps (paths, agents, referrers): multiply-rotate over 8-byte words
/// (the `FxHash` scheme). Fast on short keys; the keys are our own data, not an attack surface
/// worth `SipHash` (a skewed key set costs time, never correctness).
#[derive(Debug, Default, Clone, Copy)]
pub struct GroupHash(u64);

impl Hasher for GroupHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w) ^ (rest.len() as u64) << 59).wrapping_mul(K);
        }
    }
}

/// Builds [`GroupHash`]ers.
pub type GroupHasher = BuildHasherDefault<GroupHash>;

/// Rows grouped by a key, looked up with borrowed text (no allocation for groups seen before).
pub type Groups<K, V> = HashMap<K, V, GroupHasher>;

/// A borrowed `Option<String>` key. Its derived `Hash` equals the owned key's: `Option<&str>`
/// and `Option<String>` hash alike.
#[derive(Hash)]
struct TextRef<'a>(Option<&'a str>);

impl Equivalent<Option<String>> for TextRef<'_> {
    fn equivalent(&self, key: &Option<String>) -> bool {
        self.0 == key.as_deref()
    }
}

/// A borrowed [`AgentKey`], hashing like it (tuples and tuple structs hash field by field).
#[derive(Hash)]
struct AgentRef<'a>(Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<bool>);

impl Equivalent<AgentKey> for AgentRef<'_> {
    fn equivalent(&self, k: &AgentKey) -> bool {
        self.0 == k.0.as_deref() && self.1 == k.1.as_deref() && self.2 == k.2.as_deref() && self.3 == k.3
    }
}

impl AgentRef<'_> {
    fn to_owned_key(&self) -> AgentKey {
        (self.0.map(str::to_owned), self.1.map(str::to_owned), self.2.map(str::to_owned), self.3)
    }
}

/// The group of `key`, created empty on first sight.
fn text_group<'m, V: Default>(map: &'m mut Groups<Option<String>, V>, key: Option<&str>) -> &'m mut V {
    map.raw_entry_mut().from_key(&TextRef(key)).or_insert_with(|| (key.map(str::to_owned), V::default())).1
}

/// Everything the hourly and daily tables need for one period.
#[derive(Debug, Clone, Default)]
pub struct PeriodState {
    /// Traffic measures.
    pub traffic: Traffic,
    /// Per path.
    pub paths: Groups<Option<String>, PathCounts>,
    /// Per status: (requests, bytes).
    pub statuses: BTreeMap<Option<i64>, (u64, u64)>,
    /// Per user-agent family.
    pub agents: Groups<AgentKey, GroupCounts>,
    /// Per referrer host.
    pub referrers: Groups<Option<String>, GroupCounts>,
}

impl PeriodState {
    /// Adds one row.
    pub fn add(&mut self, r: &RowFacts<'_>) {
        self.traffic.add(r);
        let client = r.client_ip.map(|ip| distinct_key(&[ip.as_bytes()]));
        let bytes = r.bytes.map_or(0, |b| b.max(0).unsigned_abs());
        let p = text_group(&mut self.paths, r.path);
        p.requests += 1;
        p.bytes += bytes;
        let class = r.status.map(|s| s / 100);
        p.status_4xx += u64::from(class == Some(4));
        p.status_5xx += u64::from(class == Some(5));
        let s = self.statuses.entry(r.status).or_default();
        s.0 += 1;
        s.1 += bytes;
        let key = AgentRef(r.ua_browser, r.ua_os, r.ua_device, r.is_bot);
        let a = self
            .agents
            .raw_entry_mut()
            .from_key(&key)
            .or_insert_with(|| (key.to_owned_key(), GroupCounts::default()))
            .1;
        a.requests += 1;
        let f = text_group(&mut self.referrers, r.referrer_host);
        f.requests += 1;
        if let Some(c) = client {
            p.clients.insert(c);
            a.clients.insert(c);
            f.clients.insert(c);
        }
    }

    /// Adds another partial state (associative and commutative).
    pub fn merge(&mut self, o: &PeriodState) {
        self.traffic.merge(&o.traffic);
        for (k, v) in &o.paths {
            let p = self.paths.entry(k.clone()).or_default();
            p.requests += v.requests;
            p.bytes += v.bytes;
            p.status_4xx += v.status_4xx;
            p.status_5xx += v.status_5xx;
            p.clients.extend(&v.clients);
        }
        for (k, (n, b)) in &o.statuses {
            let s = self.statuses.entry(*k).or_default();
            s.0 += n;
            s.1 += b;
        }
        for (k, v) in &o.agents {
            let a = self.agents.entry(k.clone()).or_default();
            a.requests += v.requests;
            a.clients.extend(&v.clients);
        }
        for (k, v) in &o.referrers {
            let a = self.referrers.entry(k.clone()).or_default();
            a.requests += v.requests;
            a.clients.extend(&v.clients);
        }
    }
}
