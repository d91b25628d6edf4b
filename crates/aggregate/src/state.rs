//! Mergeable partial states: built per row group (or thread), combined in any order.
//!
//! # How distinct counts stay cheap
//!
//! The exact distinct counts (clients, visitors, and the clients of each path, agent family and
//! referrer host) are what costs: a day of 4 M requests holds millions of distinct (group,
//! client) pairs, and a hash-set insert per pair and row is a cache miss each time. Here every
//! client, user agent and group gets a small id in the state, and each row adds four (group,
//! client) pairs, one of each kind. While a kind's groups times its clients are few enough
//! (512 KiB of bits), its pairs are bits in a table, a row of client bits per group: a pair is
//! one bit set in place, and counting a group's clients is counting its row's bits. Past
//! that, a kind's pairs are 64-bit keys (`tag | group | client`) appended to a buffer, which
//! is radix-sorted and deduplicated when it fills (sequential memory traffic only) and merged
//! into the sorted run of distinct pairs; counting the distinct clients of a group is then
//! counting a run of keys. Merging two states maps the other's ids through their keys (client
//! and agent hashes, group names).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hashbrown::{Equivalent, HashMap};

use sketches_ddsketch::{Config, DDSketch};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

/// The hash a distinct count keys a value by (xxh3, 128 bits: a collision among a billion
/// values has a probability near 1e-21, so counts are exact in practice).
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
    /// `client_ip`, as the bytes of its text (only hashed: the distinct count's key).
    pub client_ip: Option<&'a [u8]>,
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
    /// `path`, as the bytes of its text (valid UTF-8; taken as it is when it is a new group).
    pub path: Option<&'a [u8]>,
    /// `ua_browser`.
    pub ua_browser: Option<&'a str>,
    /// `ua_os`.
    pub ua_os: Option<&'a str>,
    /// `ua_device`.
    pub ua_device: Option<&'a str>,
    /// `referrer_host`.
    pub referrer_host: Option<&'a str>,
    /// `distinct_key(&[user_agent or ""])`, when the caller has it cached (it is computed from
    /// `user_agent` otherwise).
    pub user_agent_hash: Option<u128>,
    /// A caller's id for this row's `(ua_browser, ua_os, ua_device, is_bot)`: the same id must
    /// always come with the same four values (a cache entry's id, say). The state then finds
    /// the agent group by the id instead of hashing and comparing the four values.
    pub agent_id: Option<u64>,
    /// A caller's id for this row's `referrer_host`, with the same rule as `agent_id`.
    pub referrer_id: Option<u64>,
}

fn sketch() -> DDSketch {
    DDSketch::new(Config::defaults())
}

/// Slots of a [`Sketch`]'s memo (a power of two).
const MEMO_SLOTS: usize = 256;

/// A percentile sketch with a direct-mapped memo of `(value, count)` in front: a value seen in
/// its slot just before is counted there, and reaches the sketch with its count
/// (`add_with_count`) when another value takes the slot or the sketch is read. Response sizes
/// repeat a lot, and a sketch add costs a logarithm. Integer values give the same counts, sum,
/// min and max either way; the bins are the same unless the sketch collapses its lowest bins
/// (values spanning over 17 orders of magnitude), where the order of adds matters.
#[derive(Clone)]
struct Sketch {
    sketch: DDSketch,
    /// `(value, count)`; a count of 0 is an empty slot.
    memo: Vec<(i64, u64)>,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch { sketch: sketch(), memo: Vec::new() }
    }
}

impl Sketch {
    #[inline]
    fn add(&mut self, v: i64) {
        if self.memo.is_empty() {
            self.memo.resize(MEMO_SLOTS, (0, 0));
        }
        // by the low bits: sizes within a 256-byte window never share a slot
        let slot = &mut self.memo[v as usize & (MEMO_SLOTS - 1)];
        if slot.0 == v {
            slot.1 += 1;
        } else {
            let (old, n) = std::mem::replace(slot, (v, 1));
            self.sketch.add_with_count(old as f64, n);
        }
    }

    /// The sketch with the memo's counts in it.
    fn full(&self) -> std::borrow::Cow<'_, DDSketch> {
        if self.memo.iter().all(|m| m.1 == 0) {
            return std::borrow::Cow::Borrowed(&self.sketch);
        }
        let mut s = self.sketch.clone();
        for &(v, n) in &self.memo {
            s.add_with_count(v as f64, n);
        }
        std::borrow::Cow::Owned(s)
    }

    fn merge(&mut self, o: &Sketch) {
        // sketches built with the same config always merge
        let _ = self.sketch.merge(&o.full());
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        self.full().quantile(q).ok().flatten()
    }
}

/// Counts, sums and percentile sketches for a period (its distinct counts live in the
/// [`PeriodState`]).
#[derive(Clone, Default)]
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
    bytes_sketch: Sketch,
    duration_sketch: Sketch,
}

impl std::fmt::Debug for Traffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traffic")
            .field("requests", &self.requests)
            .field("bytes", &self.bytes)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The method slot of a request: GET, POST, PUT, DELETE, HEAD, other.
fn method_slot(m: &str) -> usize {
    match m {
        "GET" => 0,
        "POST" => 1,
        "PUT" => 2,
        "DELETE" => 3,
        "HEAD" => 4,
        _ => 5,
    }
}

impl Traffic {
    /// Adds one row's counts, sums and sketch values.
    fn add(&mut self, r: &RowFacts<'_>) {
        self.requests += 1;
        if let Some(b) = r.bytes {
            self.bytes += b.max(0).unsigned_abs();
            self.bytes_sketch.add(b);
        }
        if let Some(class) =
            r.status.and_then(|s| usize::try_from(s / 100).ok()).filter(|c| (1..=5).contains(c))
        {
            self.status[class - 1] += 1;
        }
        self.bots += u64::from(r.is_bot == Some(true));
        match r.method {
            Some(m) => self.methods[method_slot(m)] += 1,
            None if !r.invalid_request => self.methods[5] += 1,
            None => {}
        }
        self.invalid += u64::from(r.invalid_request);
        if let Some(d) = r.duration_us {
            self.duration_sketch.add(d);
        }
    }

    /// Adds another partial state (associative and commutative).
    fn merge(&mut self, o: &Traffic) {
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
        self.bytes_sketch.merge(&o.bytes_sketch);
        self.duration_sketch.merge(&o.duration_sketch);
    }

    /// A percentile (0-1) of response bytes; `None` without sizes.
    #[must_use]
    pub fn bytes_quantile(&self, q: f64) -> Option<f64> {
        self.bytes_sketch.quantile(q)
    }

    /// A percentile (0-1) of time to serve, µs; `None` without durations.
    #[must_use]
    pub fn duration_quantile(&self, q: f64) -> Option<f64> {
        self.duration_sketch.quantile(q)
    }
}

/// Per-path counts for the top-paths table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathCounts {
    /// Requests.
    pub requests: u64,
    /// Sum of response bytes.
    pub bytes: u64,
    /// 4xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Distinct client IPs (filled in by [`PeriodState::paths`]).
    pub clients: u64,
}

/// Requests and distinct clients of a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// Requests.
    pub requests: u64,
    /// Distinct client IPs (filled in when read from the state).
    pub clients: u64,
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

/// `n` copies of `v`, written out. `vec![0; n]` gets lazily zeroed pages from the kernel, and
/// a table that is read before it is written (a hash table probing empty slots) then takes a
/// copy-on-write fault per page, each one a TLB flush on every core the process runs on:
/// measured at a quarter of `etl-hourly`'s time with two threads.
fn written<T: Clone>(n: usize, v: T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    out.resize(n, v);
    out
}

/// 128-bit hashes (clients, user agents) → dense ids: open addressing with 16-byte slots, so a
/// lookup touches one cache line of a table half the size a `(u128, u32)` slot would need
/// (this table is probed once or twice per row). A slot holds 96 bits of the key, which tell
/// keys apart (two of a million keys share them with odds near 1e-17); the full keys stay in
/// `keys` for merging.
#[derive(Debug, Clone, Default)]
struct HashIds {
    /// `(low 64 bits, next 32 bits, id + 1)`; id 0 marks an empty slot. Length a power of two,
    /// at most half full.
    slots: Vec<(u64, u32, u32)>,
    keys: Vec<u128>,
}

impl HashIds {
    #[inline]
    fn id(&mut self, key: u128) -> u32 {
        if self.keys.len() * 2 >= self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let (lo, mid) = (key as u64, (key >> 64) as u32);
        // the low bits of a 128-bit hash are uniform already
        let mut i = lo as usize & mask;
        loop {
            let (l, m, id) = self.slots[i];
            if id == 0 {
                let new = u32::try_from(self.keys.len()).unwrap_or(u32::MAX - 1);
                self.slots[i] = (lo, mid, new + 1);
                self.keys.push(key);
                return new;
            }
            if l == lo && m == mid {
                return id - 1;
            }
            i = (i + 1) & mask;
        }
    }

    /// Room for `more` new keys without growing (so slots touched now stay where they are).
    fn reserve(&mut self, more: usize) {
        while (self.keys.len() + more) * 2 >= self.slots.len() {
            self.grow();
        }
    }

    /// Loads the first slot each key probes, so that the cache misses of a batch of lookups
    /// overlap instead of coming one per [`id`](Self::id) call.
    fn touch(&self, keys: impl Iterator<Item = u128>) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut seen = 0u32;
        for key in keys {
            if let Some(slot) = self.slots.get(key as u64 as usize & mask) {
                seen ^= slot.2;
            }
        }
        std::hint::black_box(seen);
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        self.slots = written(size, (0, 0, 0));
        let mask = size - 1;
        for (id, key) in self.keys.iter().enumerate() {
            let mut i = *key as u64 as usize & mask;
            while self.slots[i].2 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (*key as u64, (*key >> 64) as u32, u32::try_from(id + 1).unwrap_or(u32::MAX));
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Caller ids ([`RowFacts::agent_id`]) → group ids, for the groups a caller names by id.
#[derive(Debug, Clone, Default)]
struct IdGroups {
    map: HashMap<u64, u32, GroupHasher>,
}

/// Group keys (paths, agent families, referrer hosts) → dense ids, with their counts.
#[derive(Debug, Clone)]
struct GroupIds<K, C> {
    ids: Groups<K, u32>,
    keys: Vec<K>,
    counts: Vec<C>,
}

impl<K, C> Default for GroupIds<K, C> {
    fn default() -> Self {
        GroupIds { ids: Groups::default(), keys: Vec::new(), counts: Vec::new() }
    }
}

impl<K: Hash + Eq + Clone, C: Default> GroupIds<K, C> {
    /// The id of a key given by reference, created on first sight.
    #[inline]
    fn id_of<Q: Hash + Equivalent<K>>(&mut self, q: &Q, owned: impl FnOnce() -> K) -> u32 {
        let next = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let (keys, counts) = (&mut self.keys, &mut self.counts);
        *self
            .ids
            .raw_entry_mut()
            .from_key(q)
            .or_insert_with(|| {
                let k = owned();
                keys.push(k.clone());
                counts.push(C::default());
                (k, next)
            })
            .1
    }

    /// The id of an owned key (merging).
    fn id_owned(&mut self, k: &K) -> u32 {
        if let Some(&id) = self.ids.get(k) {
            return id;
        }
        let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.ids.insert(k.clone(), id);
        self.keys.push(k.clone());
        self.counts.push(C::default());
        id
    }

    /// Adds `other`'s keys and counts (`add` adds one count to another); the ids of its keys
    /// here, by its ids.
    fn merge(&mut self, other: &GroupIds<K, C>, add: impl Fn(&mut C, &C)) -> Vec<u32> {
        other
            .keys
            .iter()
            .zip(&other.counts)
            .map(|(k, counts)| {
                let id = self.id_owned(k);
                add(&mut self.counts[id as usize], counts);
                id
            })
            .collect()
    }
}

/// Text group keys (paths, referrer hosts) → dense ids, with their counts, found by the text's
/// 128-bit hash in a [`HashIds`]: one probe of a 16-byte slot and no string compare (the
/// stored text would be a cache miss of its own), the way clients and agents are told apart.
#[derive(Debug, Clone)]
struct TextIds<C> {
    ids: HashIds,
    keys: Vec<Option<String>>,
    counts: Vec<C>,
}

impl<C> Default for TextIds<C> {
    fn default() -> Self {
        TextIds { ids: HashIds::default(), keys: Vec::new(), counts: Vec::new() }
    }
}

/// The 128-bit key of a group's text, by its bytes (no text has one of its own).
#[inline]
fn text_hash(text: Option<&[u8]>) -> u128 {
    text.map_or(u128::MAX, xxh3_128)
}

impl<C: Default> TextIds<C> {
    /// The id of a text, created on first sight.
    #[inline]
    fn id_of(&mut self, text: Option<&str>) -> u32 {
        self.id_hashed(text_hash(text.map(str::as_bytes)), || text.map(str::to_owned))
    }

    /// [`id_of`](Self::id_of) for a text given as its bytes (the same hash, so the same id).
    #[inline]
    fn id_of_bytes(&mut self, text: Option<&[u8]>) -> u32 {
        self.id_hashed(text_hash(text), || text.map(|t| String::from_utf8_lossy(t).into_owned()))
    }

    /// The id of the text whose [`text_hash`] is `hash`; `owned` makes the text on first sight.
    #[inline]
    fn id_hashed(&mut self, hash: u128, owned: impl FnOnce() -> Option<String>) -> u32 {
        let id = self.ids.id(hash);
        if id as usize == self.keys.len() {
            self.keys.push(owned());
            self.counts.push(C::default());
        }
        id
    }

    /// Adds `other`'s texts and counts (`add` adds one count to another); the ids of its
    /// texts here, by its ids.
    fn merge(&mut self, other: &TextIds<C>, add: impl Fn(&mut C, &C)) -> Vec<u32> {
        let texts = other.ids.keys.iter().zip(&other.keys).zip(&other.counts);
        texts
            .map(|((hash, text), counts)| {
                let id = self.id_hashed(*hash, || text.clone());
                add(&mut self.counts[id as usize], counts);
                id
            })
            .collect()
    }
}

/// Pair kinds: which of a state's four pair sets a key belongs to.
const VISITOR: u64 = 0;
const PATH: u64 = 1;
const AGENT: u64 = 2;
const REFERRER: u64 = 3;

/// Group ids use 30 bits of a pair key (a billion distinct groups per period); larger ids
/// share the last one (counts of those groups then merge).
const GROUP_MASK: u64 = (1 << 30) - 1;

#[inline]
fn pair(tag: u64, group: u32, client: u32) -> u64 {
    tag << 62 | (u64::from(group) & GROUP_MASK) << 32 | u64::from(client)
}

#[inline]
fn unpair(key: u64) -> (u64, u32, u32) {
    (key >> 62, ((key >> 32) & GROUP_MASK) as u32, key as u32)
}

/// Keys buffered before they are sorted into the distinct run, at least.
const PENDING_MIN: usize = 1 << 16;

/// Bits needed for ids below `n`.
fn id_bits(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// Widest radix-sort digit: a pass counts into and scatters over at most 2^11 buckets.
const RADIX_BITS: u32 = 11;

/// Sorts 64-bit keys: least-significant-digit radix over the bits some key varies in.
fn radix_sort(v: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    let (mut or, mut and) = (0u64, !0u64);
    for &x in v.iter() {
        or |= x;
        and &= x;
    }
    radix_sort_varying(v, scratch, or ^ and);
}

/// [`radix_sort`] of keys that differ only in the bits set in `varying` (the OR of every
/// key's XOR with any other; more bits are fine, fewer are not). The span from the lowest to
/// the highest varying bit is cut into as few digits as [`RADIX_BITS`] allows, all of one
/// width: 24 bits sort in three passes of 8-bit digits, not two of 11 and one of 2. Over a
/// buffer larger than the cache a pass costs by its buckets (each a write stream), so
/// narrower digits for the same number of passes sort faster (docs/performance.md, "Pair
/// sorts").
fn radix_sort_varying(v: &mut Vec<u64>, scratch: &mut Vec<u64>, varying: u64) {
    if v.len() < 64 {
        v.sort_unstable();
        return;
    }
    if varying == 0 {
        // every key is the same
        return;
    }
    let lo = varying.trailing_zeros();
    let bits = 64 - varying.leading_zeros() - lo;
    let passes = bits.div_ceil(RADIX_BITS);
    let width = bits.div_ceil(passes);
    let mask = (1u64 << width) - 1;
    // every slot is written by a pass before it is read: a kept buffer's old keys stay (only
    // room it lacks is zeroed)
    scratch.resize(v.len(), 0);
    let mut buckets = [0usize; 1 << RADIX_BITS];
    let counts = &mut buckets[..1 << width];
    for pass in 0..passes {
        // below the highest varying bit, so below 64
        let shift = lo + pass * width;
        if (varying >> shift) & mask == 0 {
            continue;
        }
        counts.fill(0);
        for &x in v.iter() {
            counts[((x >> shift) & mask) as usize] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in v.iter() {
            let d = ((x >> shift) & mask) as usize;
            scratch[counts[d]] = x;
            counts[d] += 1;
        }
        std::mem::swap(v, scratch);
    }
}

/// Field widths of the pair keys of one state: packing `tag | group | client` into just the
/// bits the state's ids need keeps the keys' order and leaves the radix sort fewer digits.
#[derive(Debug, Clone, Copy)]
struct Widths {
    group: u32,
    client: u32,
}

impl Widths {
    fn fits(self) -> bool {
        2 + self.group + self.client <= 64
    }

    #[inline]
    fn pack(self, key: u64) -> u64 {
        let (tag, group, client) = unpair(key);
        (tag << self.group | u64::from(group)) << self.client | u64::from(client)
    }

    #[inline]
    fn unpack(self, packed: u64) -> u64 {
        let client = (packed & ((1u64 << self.client) - 1)) as u32;
        let rest = packed >> self.client;
        let group = (rest & ((1u64 << self.group) - 1)) as u32;
        pair(rest >> self.group, group, client)
    }
}

/// Most 64-bit words a kind's pairs may take as bits ([`Pairs::bits`]): 512 KiB, half a core's
/// L2 cache here. Each pair sets a bit at random in the table; in a larger one those stores
/// miss the cache, and 2 MiB (the anchors' visitors: 222 agents times 52,500 clients) cost
/// more than sorting keys (docs/performance.md, "Pairs as bits").
const DENSE_WORDS: usize = 1 << 16;

/// Distinct pairs of one kind, in one of two forms.
///
/// - As bits, while the kind's groups times its clients fit [`DENSE_WORDS`]: one row of bits
///   per group, one bit per client id, so a pair is one bit set in place and its repeats cost
///   nothing more. Few groups seen by tens of thousands of clients (agent families, a site's
///   handful of paths) stay here.
/// - As sorted keys, once the bits would take more: a sorted run without duplicates, plus keys
///   not sorted in yet. The buffers a compaction needs are kept and reused, so memory settles
///   at a few times the distinct count instead of churning through fresh allocations.
///
/// A kind starts as bits and turns to keys at most once (the bits become the sorted run).
#[derive(Debug, Clone)]
struct Pairs {
    /// The bits form: `row_words` words per group, bit `client % 64` of word `group *
    /// row_words + client / 64`. Empty once the kind holds keys (or before its first pair).
    bits: Vec<u64>,
    /// Group rows in `bits`.
    rows: usize,
    /// Words per group row in `bits`: a power of two, so clients below `row_words * 64` fit.
    row_words: usize,
    /// Whether the pairs are sorted keys (`unique`, `pending`) instead of bits.
    keyed: bool,
    /// Most words `bits` may take before the pairs turn to keys ([`DENSE_WORDS`]).
    dense_words: usize,
    unique: Vec<u64>,
    pending: Vec<u64>,
    /// Radix-sort scratch and the next distinct run, reused across compactions.
    scratch: Vec<u64>,
    spare: Vec<u64>,
}

impl Default for Pairs {
    fn default() -> Self {
        Pairs::with_dense_words(DENSE_WORDS)
    }
}

impl Pairs {
    /// Pairs that turn to keys past `dense_words` words of bits (0: keys from the start).
    fn with_dense_words(dense_words: usize) -> Self {
        Pairs {
            bits: Vec::new(),
            rows: 0,
            row_words: 1,
            keyed: dense_words == 0,
            dense_words,
            unique: Vec::new(),
            pending: Vec::new(),
            scratch: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Adds the pair `(group, client)`.
    #[inline]
    fn insert(&mut self, group: u32, client: u32) {
        if !self.keyed {
            let (g, c) = (group as usize, client as usize);
            if (g < self.rows && c < self.row_words << 6) || self.make_room(g, c) {
                self.bits[g * self.row_words + (c >> 6)] |= 1 << (c & 63);
                return;
            }
        }
        self.pending.push(pair(0, group, client));
    }

    /// Grows the bits to hold `(group, client)`: rows up to `group`, rows wide enough for
    /// `client`. Past [`dense_words`](Self::dense_words) the pairs turn to keys instead, and
    /// this returns false.
    #[cold]
    fn make_room(&mut self, group: usize, client: usize) -> bool {
        let rows = self.rows.max(group + 1);
        let row_words = self.row_words.max(((client >> 6) + 1).next_power_of_two());
        let words = rows.checked_mul(row_words).filter(|w| *w <= self.dense_words);
        let Some(words) = words else {
            self.turn_to_keys();
            return false;
        };
        if row_words != self.row_words {
            // each row moves to its place in the wider layout
            let mut wider = written(words, 0u64);
            for (g, row) in self.bits.chunks_exact(self.row_words).enumerate() {
                wider[g * row_words..][..row.len()].copy_from_slice(row);
            }
            self.bits = wider;
            self.row_words = row_words;
        } else {
            self.bits.resize(words, 0);
        }
        self.rows = rows;
        true
    }

    /// Turns the bits into the sorted run of keys: for good, the bits would grow too large.
    fn turn_to_keys(&mut self) {
        let mut unique = Vec::with_capacity(self.bits.iter().map(|w| w.count_ones() as usize).sum());
        self.for_each_bit(|g, c| unique.push(pair(0, g, c)));
        self.unique = unique;
        self.bits = Vec::new();
        self.rows = 0;
        self.keyed = true;
    }

    /// Calls `f(group, client)` for every pair the bits hold, in key order.
    fn for_each_bit(&self, mut f: impl FnMut(u32, u32)) {
        for (g, row) in self.bits.chunks_exact(self.row_words).enumerate() {
            for (i, &word) in row.iter().enumerate() {
                let mut w = word;
                while w != 0 {
                    let c = i * 64 + w.trailing_zeros() as usize;
                    // ids are u32s: group and client came in as such
                    f(g as u32, c as u32);
                    w &= w - 1;
                }
            }
        }
    }

    /// Calls `f(group, client)` for every pair, in no particular order, repeats included
    /// while keys are pending.
    fn for_each(&self, mut f: impl FnMut(u32, u32)) {
        if self.keyed {
            for key in self.unique.iter().chain(&self.pending) {
                let (_, group, client) = unpair(*key);
                f(group, client);
            }
        } else {
            self.for_each_bit(f);
        }
    }

    /// The words the pairs hold (keys or words of bits; 8 bytes each).
    fn words(&self) -> usize {
        self.unique.len() + self.pending.len() + self.bits.len()
    }

    /// The distinct pairs in all; each group's are added to `groups` (groups past its end are
    /// left out).
    fn count(&self, widths: Widths, groups: &mut [u64]) -> u64 {
        if !self.keyed {
            let mut total = 0;
            for (g, row) in self.bits.chunks_exact(self.row_words).enumerate() {
                let n: u64 = row.iter().map(|w| u64::from(w.count_ones())).sum();
                if let Some(c) = groups.get_mut(g) {
                    *c += n;
                }
                total += n;
            }
            return total;
        }
        let keys = self.sorted(widths);
        for key in keys.iter() {
            if let Some(n) = groups.get_mut(unpair(*key).1 as usize) {
                *n += 1;
            }
        }
        keys.len() as u64
    }

    /// Whether the pending keys should be sorted in now.
    #[inline]
    fn full(&self) -> bool {
        self.pending.len() >= PENDING_MIN.max(self.unique.len())
    }

    /// Sorts the pending keys into the distinct run.
    fn compact(&mut self, widths: Widths) {
        if self.pending.is_empty() {
            return;
        }
        if widths.fits() {
            // packed keys sort in fewer digits; unpacked again as their repeats are dropped
            let (mut or, mut and) = (0u64, !0u64);
            for k in &mut self.pending {
                *k = widths.pack(*k);
                or |= *k;
                and &= *k;
            }
            radix_sort_varying(&mut self.pending, &mut self.scratch, or ^ and);
            dedup_sorted(&mut self.pending, |k| widths.unpack(k));
        } else {
            radix_sort(&mut self.pending, &mut self.scratch);
            dedup_sorted(&mut self.pending, |k| k);
        }
        merge_sorted(&self.unique, &self.pending, &mut self.spare);
        std::mem::swap(&mut self.unique, &mut self.spare);
        self.pending.clear();
    }

    /// The distinct keys, sorted (a sorted copy when keys are pending), of pairs held as keys.
    fn sorted(&self, widths: Widths) -> Cow<'_, [u64]> {
        debug_assert!(self.keyed || self.bits.is_empty(), "pairs held as bits have no keys");
        if self.pending.is_empty() {
            return Cow::Borrowed(&self.unique);
        }
        let mut copy = self.clone();
        copy.compact(widths);
        Cow::Owned(copy.unique)
    }
}

/// Maps sorted keys by `f` (an order-keeping map: [`Widths::unpack`]) and drops repeats, in
/// place, without a branch on the keys: each key is written where the next distinct one goes,
/// and the write stays unless it repeats the one before (a sorted buffer of pair keys repeats
/// at random, so `Vec::dedup`'s branch missed often).
fn dedup_sorted(v: &mut Vec<u64>, f: impl Fn(u64) -> u64) {
    let mut k = 0;
    let mut last = 0;
    for i in 0..v.len() {
        let x = f(v[i]);
        v[k] = x;
        k += usize::from((k == 0) | (x != last));
        last = x;
    }
    v.truncate(k);
}

/// The union of two sorted runs without duplicates, into `out` (cleared first). Without a
/// branch on the keys: each step appends the smaller key and moves past it in either run or
/// both (the keys of the two runs interleave at random, so a branch per key missed about
/// every other time). Appended, not written into a buffer sized for both runs: most keys of
/// a late merge are in both, and zeroing room for them cost 64 MB of peak memory at 4x the
/// anchors' day (docs/performance.md, "Pair sorts").
fn merge_sorted(a: &[u64], b: &[u64], out: &mut Vec<u64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Per-path counts without the distinct clients (those are pairs).
#[derive(Debug, Clone, Copy, Default)]
struct PathTotals {
    requests: u64,
    bytes: u64,
    status_4xx: u64,
    status_5xx: u64,
}

/// Status codes counted in a dense table (all real ones); others go to a map.
const DENSE_STATUS: usize = 1000;

/// Everything the hourly and daily tables need for one period.
#[derive(Debug, Clone, Default)]
pub struct PeriodState {
    /// Counts, sums and percentiles.
    pub traffic: Traffic,
    clients: HashIds,
    agents_text: HashIds,
    paths: TextIds<PathTotals>,
    agents: GroupIds<AgentKey, u64>,
    referrers: TextIds<u64>,
    agent_ids: IdGroups,
    referrer_ids: IdGroups,
    status_dense: Vec<(u64, u64)>,
    status_other: BTreeMap<Option<i64>, (u64, u64)>,
    /// Distinct pairs of each kind, indexed by [`VISITOR`], [`PATH`], [`AGENT`], [`REFERRER`]
    /// (their keys carry the kind as 0: each kind sorts on its own).
    pairs: [Pairs; 4],
}

/// Rows whose client and visitor ids [`PeriodState::add_deferred`] left to look up later,
/// together, by [`PeriodState::resolve`].
///
/// A day's client table is larger than a core's cache, so looking a client up misses it about
/// once per row; one row at a time, each miss waits alone. Looked up [`PENDING_ROWS`] at a
/// time, the misses overlap. The ids come out the same, in the same order.
#[derive(Debug, Default)]
pub struct PendingClients {
    rows: Vec<PendingRow>,
}

/// Rows a [`PendingClients`] holds before [`PeriodState::add_deferred`] resolves them.
pub const PENDING_ROWS: usize = 64;

#[derive(Debug, Clone, Copy)]
struct PendingRow {
    client: u128,
    agent_text: u128,
    /// The row's path, agent-family and referrer groups.
    groups: (u32, u32, u32),
}

impl PendingClients {
    /// Whether no row waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The distinct counts of a state, resolved in one pass over its pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Distinct {
    visitors: u64,
    paths: Vec<u64>,
    agents: Vec<u64>,
    referrers: Vec<u64>,
}

impl PeriodState {
    /// The widths the state's ids need in a pair key of a kind.
    fn widths(&self, kind: u64) -> Widths {
        let groups = match kind {
            VISITOR => self.agents_text.len(),
            PATH => self.paths.keys.len(),
            AGENT => self.agents.keys.len(),
            _ => self.referrers.keys.len(),
        };
        Widths { group: id_bits(groups).min(30), client: id_bits(self.clients.len()) }
    }

    /// Sorts buffered pair keys into the distinct runs when a buffer is full.
    #[inline]
    fn maybe_compact(&mut self) {
        for kind in [VISITOR, PATH, AGENT, REFERRER] {
            if self.pairs[kind as usize].full() {
                let widths = self.widths(kind);
                self.pairs[kind as usize].compact(widths);
            }
        }
    }

    /// The hashes a row's client and visitor ids are found by (none without a client address).
    #[inline]
    fn client_keys(r: &RowFacts<'_>) -> Option<(u128, u128)> {
        let ip = r.client_ip?;
        let ua = r.user_agent_hash.unwrap_or_else(|| xxh3_128(r.user_agent.unwrap_or("").as_bytes()));
        Some((xxh3_128(ip), ua))
    }

    /// The client and visitor ids of a row (none without a client address).
    #[inline]
    fn client(&mut self, r: &RowFacts<'_>) -> Option<u32> {
        let (client, ua) = Self::client_keys(r)?;
        Some(self.client_of(client, ua))
    }

    /// The client id of a row's client hash, its visitor pair added.
    #[inline]
    fn client_of(&mut self, client: u128, ua: u128) -> u32 {
        let client = self.clients.id(client);
        let agent = self.agents_text.id(ua);
        self.pairs[VISITOR as usize].insert(agent, client);
        client
    }

    /// The pairs of a row's client with its path, agent-family and referrer groups.
    #[inline]
    fn group_pairs(&mut self, client: u32, (path, agent, referrer): (u32, u32, u32)) {
        self.pairs[PATH as usize].insert(path, client);
        self.pairs[AGENT as usize].insert(agent, client);
        self.pairs[REFERRER as usize].insert(referrer, client);
    }

    /// Adds one row to the traffic measures only (requests, sums, percentiles, distinct
    /// clients and visitors): what the hourly table needs.
    pub fn add_traffic(&mut self, r: &RowFacts<'_>) {
        self.traffic.add(r);
        self.client(r);
        self.maybe_compact();
    }

    /// Adds one row: traffic, and the per-path, status, agent-family and referrer groups.
    pub fn add(&mut self, r: &RowFacts<'_>) {
        self.traffic.add(r);
        let client = self.client(r);
        let groups = self.groups(r);
        if let Some(c) = client {
            self.group_pairs(c, groups);
        }
        self.maybe_compact();
    }

    /// [`add`](Self::add), except that the row's client and visitor ids are looked up later,
    /// with those of other rows ([`PendingClients`]): when `pending` holds [`PENDING_ROWS`]
    /// rows, or by [`resolve`](Self::resolve). Until then the state does not count the
    /// waiting rows' clients, visitors and group pairs: resolve before reading or merging it,
    /// and into this state only (a `PendingClients` belongs to one state at a time).
    pub fn add_deferred(&mut self, r: &RowFacts<'_>, pending: &mut PendingClients) {
        self.traffic.add(r);
        let groups = self.groups(r);
        if let Some((client, agent_text)) = Self::client_keys(r) {
            pending.rows.push(PendingRow { client, agent_text, groups });
            if pending.rows.len() >= PENDING_ROWS {
                self.resolve(pending);
            }
        }
    }

    /// Looks up the clients and visitors of the rows `pending` holds (added by
    /// [`add_deferred`](Self::add_deferred) to this state), in their order, and empties it.
    pub fn resolve(&mut self, pending: &mut PendingClients) {
        if pending.rows.is_empty() {
            return;
        }
        self.clients.reserve(pending.rows.len());
        self.clients.touch(pending.rows.iter().map(|r| r.client));
        for row in pending.rows.drain(..) {
            let client = self.client_of(row.client, row.agent_text);
            self.group_pairs(client, row.groups);
        }
        self.maybe_compact();
    }

    /// Counts a row's path, status, agent-family and referrer groups; returns their ids.
    #[inline]
    fn groups(&mut self, r: &RowFacts<'_>) -> (u32, u32, u32) {
        let bytes = r.bytes.map_or(0, |b| b.max(0).unsigned_abs());
        let path = self.paths.id_of_bytes(r.path);
        let p = &mut self.paths.counts[path as usize];
        p.requests += 1;
        p.bytes += bytes;
        let class = r.status.map(|s| s / 100);
        p.status_4xx += u64::from(class == Some(4));
        p.status_5xx += u64::from(class == Some(5));
        match r.status.and_then(|s| usize::try_from(s).ok()).filter(|s| *s < DENSE_STATUS) {
            Some(s) => {
                if self.status_dense.is_empty() {
                    self.status_dense = written(DENSE_STATUS, (0, 0));
                }
                let e = &mut self.status_dense[s];
                e.0 += 1;
                e.1 += bytes;
            }
            None => {
                let e = self.status_other.entry(r.status).or_default();
                e.0 += 1;
                e.1 += bytes;
            }
        }
        let agent = match r.agent_id.and_then(|id| self.agent_ids.map.get(&id).copied()) {
            Some(g) => g,
            None => {
                let key = AgentRef(r.ua_browser, r.ua_os, r.ua_device, r.is_bot);
                let g = self.agents.id_of(&key, || key.to_owned_key());
                if let Some(id) = r.agent_id {
                    self.agent_ids.map.insert(id, g);
                }
                g
            }
        };
        self.agents.counts[agent as usize] += 1;
        let referrer = match r.referrer_id.and_then(|id| self.referrer_ids.map.get(&id).copied()) {
            Some(g) => g,
            None => {
                let g = self.referrers.id_of(r.referrer_host);
                if let Some(id) = r.referrer_id {
                    self.referrer_ids.map.insert(id, g);
                }
                g
            }
        };
        self.referrers.counts[referrer as usize] += 1;
        (path, agent, referrer)
    }

    /// Adds another partial state (associative and commutative), on the calling thread: it
    /// starts no rayon work, so it may run under a lock. Its pairs are sorted in only as far
    /// as the buffers' bounds require; [`compact`](Self::compact) before reading many counts.
    pub fn merge(&mut self, o: &PeriodState) {
        self.merge_unsorted(o);
        // sorted in as far as the buffers' bounds require, here: callers merge under locks
        // (etl-daily's shared day states), where a rayon join could start work that waits for
        // the same lock; `compact` sorts the rest, in parallel, before the counts are read
        self.maybe_compact();
    }

    /// [`merge`](Self::merge) without sorting any pairs in: the other state's pairs wait in
    /// this one's buffers, however many, until [`compact`](Self::compact) sorts all four kinds
    /// in parallel (a kind held as bits gets its bits set at once). For a caller that holds no
    /// lock and merges states just before reading them (etl-daily's last merge, when the
    /// workers are done and a sequential sort would leave cores idle). The counts are the same
    /// either way.
    pub fn merge_unsorted(&mut self, o: &PeriodState) {
        self.traffic.merge(&o.traffic);
        let clients: Vec<u32> = o.clients.keys.iter().map(|k| self.clients.id(*k)).collect();
        let agents_text: Vec<u32> = o.agents_text.keys.iter().map(|k| self.agents_text.id(*k)).collect();
        let paths = self.paths.merge(&o.paths, |p, c| {
            p.requests += c.requests;
            p.bytes += c.bytes;
            p.status_4xx += c.status_4xx;
            p.status_5xx += c.status_5xx;
        });
        let agents = self.agents.merge(&o.agents, |a, b| *a += b);
        let referrers = self.referrers.merge(&o.referrers, |a, b| *a += b);
        if !o.status_dense.is_empty() {
            if self.status_dense.is_empty() {
                self.status_dense = written(DENSE_STATUS, (0, 0));
            }
            for (a, b) in self.status_dense.iter_mut().zip(&o.status_dense) {
                a.0 += b.0;
                a.1 += b.1;
            }
        }
        for (k, (n, b)) in &o.status_other {
            let s = self.status_other.entry(*k).or_default();
            s.0 += n;
            s.1 += b;
        }
        let ids = |map: &[u32], i: u32| map.get(i as usize).copied().unwrap_or(i);
        for kind in [VISITOR, PATH, AGENT, REFERRER] {
            let groups: &[u32] = match kind {
                VISITOR => &agents_text,
                PATH => &paths,
                AGENT => &agents,
                _ => &referrers,
            };
            let (theirs, ours) = (&o.pairs[kind as usize], &mut self.pairs[kind as usize]);
            if ours.keyed {
                ours.pending.reserve(theirs.unique.len() + theirs.pending.len());
            }
            theirs.for_each(|group, client| ours.insert(ids(groups, group), ids(&clients, client)));
        }
    }

    /// Sorts every buffered pair into the distinct runs (the four kinds in parallel), so
    /// reading the distinct counts costs one pass (they are correct either way; without this
    /// each read sorts a copy).
    pub fn compact(&mut self) {
        let widths = [VISITOR, PATH, AGENT, REFERRER].map(|k| self.widths(k));
        let [v, p, a, r] = &mut self.pairs;
        rayon::join(
            || rayon::join(|| v.compact(widths[0]), || p.compact(widths[1])),
            || rayon::join(|| a.compact(widths[2]), || r.compact(widths[3])),
        );
    }

    /// A state whose pair kinds turn from bits to keys past `words` words (0: keys throughout).
    #[cfg(test)]
    fn with_dense_words(words: usize) -> Self {
        PeriodState { pairs: std::array::from_fn(|_| Pairs::with_dense_words(words)), ..Default::default() }
    }

    /// Pair keys the state holds (its distinct runs and buffers, and the words of the kinds
    /// held as bits; 8 bytes each, and for keys about as many again in reusable buffers): a
    /// measure of its memory.
    #[must_use]
    pub fn pair_keys(&self) -> usize {
        self.pairs.iter().map(Pairs::words).sum()
    }

    /// Distinct client addresses.
    #[must_use]
    pub fn clients(&self) -> u64 {
        self.clients.len() as u64
    }

    /// Distinct (client address, user agent) pairs.
    #[must_use]
    pub fn visitors(&self) -> u64 {
        self.distinct().visitors
    }

    fn distinct(&self) -> Distinct {
        /// Distinct clients per group: a run of keys per group in the sorted pairs, or the
        /// bits of a group's row.
        fn per_group(state: &PeriodState, kind: u64, groups: usize) -> Vec<u64> {
            let mut counts = vec![0; groups];
            state.pairs[kind as usize].count(state.widths(kind), &mut counts);
            counts
        }
        Distinct {
            visitors: self.pairs[VISITOR as usize].count(self.widths(VISITOR), &mut []),
            paths: per_group(self, PATH, self.paths.keys.len()),
            agents: per_group(self, AGENT, self.agents.keys.len()),
            referrers: per_group(self, REFERRER, self.referrers.keys.len()),
        }
    }

    /// Requests and bytes per status (`None`: no status).
    #[must_use]
    pub fn statuses(&self) -> BTreeMap<Option<i64>, (u64, u64)> {
        let mut out = self.status_other.clone();
        for (s, e) in self.status_dense.iter().enumerate() {
            if e.0 > 0 {
                out.insert(i64::try_from(s).ok(), *e);
            }
        }
        out
    }

    /// Every path with its counts and distinct clients.
    #[must_use]
    pub fn paths(&self) -> Vec<(&Option<String>, PathCounts)> {
        let d = self.distinct();
        self.paths
            .keys
            .iter()
            .zip(&self.paths.counts)
            .zip(d.paths)
            .map(|((k, c), clients)| {
                let counts = PathCounts {
                    requests: c.requests,
                    bytes: c.bytes,
                    status_4xx: c.status_4xx,
                    status_5xx: c.status_5xx,
                    clients,
                };
                (k, counts)
            })
            .collect()
    }

    /// Every user-agent family with its requests and distinct clients.
    #[must_use]
    pub fn agents(&self) -> Vec<(&AgentKey, GroupCounts)> {
        let d = self.distinct();
        self.agents
            .keys
            .iter()
            .zip(&self.agents.counts)
            .zip(d.agents)
            .map(|((k, n), clients)| (k, GroupCounts { requests: *n, clients }))
            .collect()
    }

    /// Every referrer host with its requests and distinct clients.
    #[must_use]
    pub fn referrers(&self) -> Vec<(&Option<String>, GroupCounts)> {
        let d = self.distinct();
        self.referrers
            .keys
            .iter()
            .zip(&self.referrers.counts)
            .zip(d.referrers)
            .map(|((k, n), clients)| (k, GroupCounts { requests: *n, clients }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketch_memo_counts_every_value_and_merges_pending_ones() {
        // sizes that repeat, share memo slots (v and v + 256), are zero, negative or large
        let values: Vec<i64> = (0..5_000i64)
            .map(|i| match i % 7 {
                0 => 5_000 + i % 90,
                1 => 5_000 + i % 90 + 256,
                2 => 0,
                3 => -(i % 13),
                4 => 1 << (i % 40),
                _ => (i * 7_919) % 100_003,
            })
            .collect();
        let plain = |vs: &[i64]| {
            let mut d = sketch();
            for &v in vs {
                d.add(v as f64);
            }
            d
        };
        let memo = |vs: &[i64]| {
            let mut s = Sketch::default();
            for &v in vs {
                s.add(v);
            }
            s
        };
        let same = |a: &DDSketch, b: &Sketch, what: &str| {
            let b = b.full();
            assert_eq!(a.count(), b.count(), "{what}");
            assert_eq!(a.sum(), b.sum(), "{what}");
            assert_eq!((a.min(), a.max()), (b.min(), b.max()), "{what}");
            for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0] {
                assert_eq!(a.quantile(q).unwrap(), b.quantile(q).unwrap(), "{what} q {q}");
            }
        };
        let whole = memo(&values);
        assert!(whole.memo.iter().any(|m| m.1 > 1), "values wait in the memo");
        same(&plain(&values), &whole, "one sketch");
        // both sides of a merge with values still in their memos
        let (a, b) = values.split_at(2_345);
        let mut merged = memo(a);
        merged.merge(&memo(b));
        same(&plain(&values), &merged, "merged");
        assert_eq!(merged.quantile(0.5), plain(&values).quantile(0.5).unwrap());
    }

    #[test]
    fn radix_sort_sorts() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut v: Vec<u64> = (0..10_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // mostly small ids, like pair keys, and some full-width values
                if i % 3 == 0 {
                    x
                } else {
                    pair(x & 3, (x >> 8) as u32 & 0xfff, (x >> 20) as u32 & 0xffff)
                }
            })
            .collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        // a scratch buffer kept from a longer sort, its stale keys (all above the new ones) in place
        let mut scratch = vec![u64::MAX; 12_345];
        let mut shorter = v[..5_000].to_vec();
        let mut shorter_expected = shorter.clone();
        shorter_expected.sort_unstable();
        radix_sort(&mut v, &mut Vec::new());
        assert_eq!(v, expected);
        radix_sort(&mut shorter, &mut scratch);
        assert_eq!(shorter, shorter_expected);
        // and the scratch of that sort, shorter than the next input
        radix_sort(&mut v, &mut scratch);
        assert_eq!(v, expected);
    }

    #[test]
    fn radix_sort_takes_any_span_of_bits() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut scratch = Vec::new();
        // spans of 1 to 64 bits, at low and high offsets, and keys all alike
        for (bits, offset) in [(1, 0), (2, 62), (8, 3), (12, 0), (23, 7), (24, 0), (33, 31), (64, 0)] {
            let mut v: Vec<u64> = (0..5_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let span = if bits == 64 { x } else { x & ((1u64 << bits) - 1) };
                    span << offset | 0x5
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            radix_sort(&mut v, &mut scratch);
            assert_eq!(v, expected, "{bits} bits from bit {offset}");
        }
        let mut same = vec![42u64; 1_000];
        radix_sort(&mut same, &mut scratch);
        assert_eq!(same, vec![42u64; 1_000]);
    }

    #[test]
    fn merge_and_dedup_make_the_set_union() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        // a buffer kept from a longer merge, its stale keys in place
        let mut out = vec![7u64; 3_000];
        for round in 0..200 {
            let range = [4, 50, 1_000, u64::MAX][round % 4];
            let mut a: Vec<u64> = (0..next(600)).map(|_| next(range)).collect();
            a.sort_unstable();
            a.dedup();
            let mut b: Vec<u64> = (0..next(900)).map(|_| next(range)).collect();
            b.sort_unstable();
            // mapped on the way, by an order-keeping map
            let f = |k: u64| k >> 1;
            let mut expected: Vec<u64> = a.iter().copied().chain(b.iter().map(|&k| f(k))).collect();
            expected.sort_unstable();
            expected.dedup();
            dedup_sorted(&mut b, f);
            assert!(b.windows(2).all(|w| w[0] < w[1]), "round {round}: deduplicated");
            merge_sorted(&a, &b, &mut out);
            assert_eq!(out, expected, "round {round}");
        }
        merge_sorted(&[], &[], &mut out);
        assert!(out.is_empty());
        let mut b = vec![0, 0, 3, 3, 9];
        dedup_sorted(&mut b, |k| k);
        assert_eq!(b, [0, 3, 9]);
        merge_sorted(&[0, 3, 4], &b, &mut out);
        assert_eq!(out, [0, 3, 4, 9]);
        let mut one = vec![5, 5, 5];
        dedup_sorted(&mut one, |k| k);
        assert_eq!(one, [5]);
    }

    #[test]
    fn pairs_count_each_key_once() {
        let widths = Widths { group: 4, client: 17 };
        let mut p = Pairs::with_dense_words(0);
        for round in 0..3u32 {
            for i in 0..(PENDING_MIN as u32 * 2) {
                p.pending.push(pair(u64::from(i % 3), i % 11, i % 50_000 + round));
                if p.full() {
                    p.compact(widths);
                }
            }
        }
        let all = p.sorted(widths);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let mut expected: Vec<u64> = (0..3u32)
            .flat_map(|round| {
                (0..(PENDING_MIN as u32 * 2)).map(move |i| pair(u64::from(i % 3), i % 11, i % 50_000 + round))
            })
            .collect();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(all.as_ref(), expected.as_slice());
    }

    /// The pairs `(group, client)` of a pseudo-random sequence: groups below `groups`, clients
    /// below `clients`, with repeats, new ids mostly in first-seen order (as states assign them).
    fn random_pairs(n: usize, groups: u32, clients: u32, seed: u64) -> Vec<(u32, u32)> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|i| {
                // ids grow with the sequence, as a state hands them out
                let seen = |max: u32| u64::from(max).min(1 + i as u64 / 3);
                ((next() % seen(groups)) as u32, (next() % seen(clients)) as u32)
            })
            .collect()
    }

    /// Distinct clients per group, and in all, of `pairs` (the expected counts).
    fn expected_counts(pairs: &[(u32, u32)], groups: usize) -> (Vec<u64>, u64) {
        let set: std::collections::BTreeSet<(u32, u32)> = pairs.iter().copied().collect();
        let mut per = vec![0; groups];
        for (g, _) in &set {
            per[*g as usize] += 1;
        }
        (per, set.len() as u64)
    }

    #[test]
    fn pairs_as_bits_and_as_keys_count_alike() {
        // clients past one word, then past many (rows widen), groups added one by one; budgets
        // that keep bits, turn to keys midway (each at its own point), or use keys throughout
        for (groups, clients, n) in [(3, 40, 200), (7, 5_000, 30_000), (300, 2_000, 40_000)] {
            let pairs = random_pairs(n, groups, clients, u64::from(groups) * 31 + u64::from(clients));
            let (per, total) = expected_counts(&pairs, groups as usize);
            let widths = Widths { group: id_bits(groups as usize), client: id_bits(clients as usize) };
            for budget in [0, 1, 8, 64, 1_000, DENSE_WORDS] {
                let mut p = Pairs::with_dense_words(budget);
                let mut turned = None;
                for (i, (g, c)) in pairs.iter().enumerate() {
                    p.insert(*g, *c);
                    if p.full() {
                        p.compact(widths);
                    }
                    if p.keyed && turned.is_none() {
                        turned = Some(i);
                    }
                    assert!(p.bits.len() <= budget, "bits stay within {budget} words");
                }
                let what =
                    format!("{groups} groups, {clients} clients, {budget} words (keys from {turned:?})");
                let mut counts = vec![0; groups as usize];
                assert_eq!(p.count(widths, &mut counts), total, "{what}");
                assert_eq!(counts, per, "{what}");
                // every pair comes out once through for_each after a compact
                p.compact(widths);
                let mut all = Vec::new();
                p.for_each(|g, c| all.push((g, c)));
                all.sort_unstable();
                let mut want = pairs.clone();
                want.sort_unstable();
                want.dedup();
                assert_eq!(all, want, "{what}");
            }
        }
    }

    #[test]
    fn bits_turn_to_sorted_keys_past_their_budget() {
        let mut p = Pairs::with_dense_words(4);
        // 2 rows of 2 words: clients below 128
        for (g, c) in [(1, 100), (0, 5), (1, 3), (0, 127), (0, 5)] {
            p.insert(g, c);
        }
        assert!(!p.keyed);
        assert_eq!((p.rows, p.row_words, p.bits.len()), (2, 2, 4));
        // a third row would take 6 words
        p.insert(2, 0);
        assert!(p.keyed && p.bits.is_empty());
        assert_eq!(p.unique, [pair(0, 0, 5), pair(0, 0, 127), pair(0, 1, 3), pair(0, 1, 100)]);
        assert_eq!(p.pending, [pair(0, 2, 0)]);
        // a client past the row's width widens rows that fit
        let mut q = Pairs::with_dense_words(8);
        q.insert(0, 1);
        q.insert(1, 64);
        q.insert(1, 200);
        assert_eq!((q.rows, q.row_words), (2, 4));
        let mut seen = Vec::new();
        q.for_each(|g, c| seen.push((g, c)));
        assert_eq!(seen, [(0, 1), (1, 64), (1, 200)]);
    }

    #[test]
    fn states_with_pairs_in_either_form_merge_alike() {
        // three states over one stream of rows, each with its own budget: kinds in bits, kinds
        // turned to keys, keys throughout; merged in every pairing, they count alike
        let rows: Vec<(String, String, String, String)> = (0..6_000u64)
            .map(|i| {
                let j = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                (
                    format!("10.0.{}.{}", j % 7, j % 150),
                    format!("agent-{}", j % 13),
                    format!("/p{}", j % 40),
                    format!("r{}.example", j % 9),
                )
            })
            .collect();
        let fill = |budget: usize, part: std::ops::Range<usize>| {
            let mut s = PeriodState::with_dense_words(budget);
            for (ip, ua, path, host) in &rows[part] {
                s.add(&RowFacts {
                    client_ip: Some(ip.as_bytes()),
                    user_agent: Some(ua),
                    ua_browser: Some(ua),
                    path: Some(path.as_bytes()),
                    referrer_host: Some(host),
                    ..RowFacts::default()
                });
            }
            s
        };
        let counts = |s: &PeriodState| {
            let mut paths: Vec<_> = s.paths().into_iter().map(|(k, c)| (k.clone(), c.clients)).collect();
            let mut agents: Vec<_> = s.agents().into_iter().map(|(k, c)| (k.clone(), c.clients)).collect();
            let mut refs: Vec<_> = s.referrers().into_iter().map(|(k, c)| (k.clone(), c.clients)).collect();
            paths.sort();
            agents.sort();
            refs.sort();
            (s.clients(), s.visitors(), paths, agents, refs)
        };
        let whole = counts(&fill(0, 0..rows.len()));
        assert_eq!(whole, counts(&fill(DENSE_WORDS, 0..rows.len())));
        assert_eq!(whole.0, 1_050);
        // 300 words: the referrers' 9 rows of 32 words stay bits, the other kinds turn to keys
        let mixed = fill(300, 0..rows.len());
        assert_eq!(mixed.pairs.iter().map(|p| p.keyed).collect::<Vec<_>>(), [true, true, true, false]);
        assert_eq!(counts(&mixed), whole);
        for a in [0, 3, 300, DENSE_WORDS] {
            for b in [0, 3, 300, DENSE_WORDS] {
                let mut x = fill(a, 0..2_500);
                let y = fill(b, 2_500..rows.len());
                let mut z = x.clone();
                x.merge(&y);
                assert_eq!(counts(&x), whole, "merge of {a} and {b} words");
                z.merge_unsorted(&y);
                z.compact();
                assert_eq!(counts(&z), whole, "unsorted merge of {a} and {b} words");
            }
        }
    }

    #[test]
    fn packed_keys_keep_their_order() {
        let w = Widths { group: 5, client: 9 };
        let keys = [pair(0, 0, 0), pair(0, 0, 511), pair(0, 1, 0), pair(1, 0, 3), pair(3, 31, 511)];
        for k in keys {
            assert_eq!(w.unpack(w.pack(k)), k);
        }
        assert!(keys.windows(2).all(|k| w.pack(k[0]) < w.pack(k[1])));
        assert_eq!(id_bits(0), 0);
        assert_eq!(id_bits(1), 0);
        assert_eq!(id_bits(2), 1);
        assert_eq!(id_bits(52_500), 16);
    }

    #[test]
    fn hash_ids_are_dense_and_stable() {
        let mut ids = HashIds::default();
        let keys: Vec<u128> =
            (1..=10_000u128).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)).collect();
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(ids.id(*k) as usize, n);
        }
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(ids.id(*k) as usize, n);
        }
        assert_eq!(ids.len(), keys.len());
        assert_eq!(ids.id(0), 10_000, "a zero key is a key like any other");
    }

    #[test]
    fn text_ids_tell_texts_apart_and_merge_by_text() {
        let mut a = TextIds::<u64>::default();
        let texts = [Some("/"), None, Some(""), Some("/a"), Some("/")];
        let ids: Vec<u32> = texts.iter().map(|t| a.id_of(*t)).collect();
        assert_eq!(ids, [0, 1, 2, 3, 0], "first-seen order; no text and empty text differ");
        assert_eq!(a.keys, [Some("/".into()), None, Some(String::new()), Some("/a".into())]);
        for id in ids {
            a.counts[id as usize] += 1;
        }
        let mut b = TextIds::<u64>::default();
        for t in [Some("/b"), Some("/a"), None] {
            let id = b.id_of(t);
            b.counts[id as usize] += 10;
        }
        // b's ids 0, 1, 2 are a's new 4 and its 3 and 1
        assert_eq!(a.merge(&b, |x, y| *x += y), [4, 3, 1]);
        assert_eq!(a.keys[4].as_deref(), Some("/b"));
        assert_eq!(a.counts, [2, 11, 1, 11, 10]);
        assert_eq!(a.id_of(Some("/b")), 4, "a merged text is found by its text");
    }

    #[test]
    fn pair_keys_round_trip() {
        for (t, g, c) in [(0, 0, 0), (3, 5, u32::MAX), (1, (1 << 30) - 1, 7), (2, 12, 1 << 20)] {
            assert_eq!(unpair(pair(t, g, c)), (t, g, c));
        }
    }
}
