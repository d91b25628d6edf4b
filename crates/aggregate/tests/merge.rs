//! Merging partial states in any split and order equals the one-pass state.

use loglake_aggregate::{PendingClients, PeriodState, RowFacts, PENDING_ROWS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Row {
    ip: Option<u8>,
    ua: Option<u8>,
    status: Option<i64>,
    bytes: Option<i64>,
    method: Option<u8>,
    bot: Option<bool>,
    duration: Option<i64>,
    path: Option<u8>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::of(0u8..20),
        proptest::option::of(0u8..5),
        proptest::option::of(prop_oneof![
            Just(200i64),
            Just(301),
            Just(404),
            Just(500),
            Just(101),
            Just(999)
        ]),
        proptest::option::of(0i64..100_000),
        proptest::option::of(0u8..7),
        proptest::option::of(any::<bool>()),
        proptest::option::of(1i64..5_000_000),
        proptest::option::of(0u8..6),
    )
        .prop_map(|(ip, ua, status, bytes, method, bot, duration, path)| Row {
            ip,
            ua,
            status,
            bytes,
            method,
            bot,
            duration,
            path,
        })
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

fn add(state: &mut PeriodState, r: &Row) {
    add_to(state, r, None);
}

/// Adds a row with [`PeriodState::add`], or with `add_deferred` when `pending` is given.
fn add_to(state: &mut PeriodState, r: &Row, pending: Option<&mut PendingClients>) {
    let ip = r.ip.map(|i| format!("10.0.0.{i}"));
    let ua = r.ua.map(|u| format!("agent-{u}"));
    let path = r.path.map(|p| format!("/p{p}"));
    let mut f = RowFacts::default();
    f.client_ip = ip.as_deref().map(str::as_bytes);
    f.user_agent = ua.as_deref();
    f.status = r.status;
    f.bytes = r.bytes;
    f.method = r.method.map(|m| METHODS[usize::from(m)]);
    f.invalid_request = r.method.is_none();
    f.is_bot = r.bot;
    f.duration_us = r.duration;
    f.path = path.as_deref().map(str::as_bytes);
    match pending {
        Some(p) => state.add_deferred(&f, p),
        None => state.add(&f),
    }
}

fn summary(s: &PeriodState) -> String {
    let t = &s.traffic;
    let mut paths: Vec<_> =
        s.paths().into_iter().map(|(k, v)| (k.clone(), v.requests, v.bytes, v.clients)).collect();
    paths.sort();
    let mut agents: Vec<_> =
        s.agents().into_iter().map(|(k, v)| (k.clone(), v.requests, v.clients)).collect();
    agents.sort();
    format!(
        "{} {} {:?} {} {:?} {} {} {} {:?} {:?} {:?} {:?} {:?}",
        t.requests,
        t.bytes,
        t.status,
        t.bots,
        t.methods,
        t.invalid,
        s.clients(),
        s.visitors(),
        [0.5, 0.95, 0.99].map(|q| t.bytes_quantile(q)),
        [0.5, 0.99].map(|q| t.duration_quantile(q)),
        paths,
        agents,
        s.statuses(),
    )
}

/// Distinct counts against a plain set-based count of the same rows.
#[test]
fn distinct_counts_match_sets() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut state = PeriodState::default();
    let mut clients = BTreeSet::new();
    let mut visitors = BTreeSet::new();
    let mut per_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // enough rows that the pair buffer is sorted into the distinct run several times
    for i in 0..300_000u64 {
        let ip = format!("10.{}.{}.{}", i % 7, (i / 7) % 250, (i * 31) % 211);
        let ua = format!("agent-{}", (i * 13) % 17);
        let path = format!("/p{}", (i * 7) % 23);
        let mut f = RowFacts::default();
        f.client_ip = Some(ip.as_bytes());
        f.user_agent = Some(&ua);
        f.path = Some(path.as_bytes());
        state.add(&f);
        clients.insert(ip.clone());
        visitors.insert((ip.clone(), ua));
        per_path.entry(path).or_default().insert(ip);
    }
    assert_eq!(state.clients(), clients.len() as u64);
    assert_eq!(state.visitors(), visitors.len() as u64);
    let got: BTreeMap<String, u64> =
        state.paths().into_iter().map(|(k, c)| (k.clone().unwrap_or_default(), c.clients)).collect();
    let want: BTreeMap<String, u64> = per_path.into_iter().map(|(k, v)| (k, v.len() as u64)).collect();
    assert_eq!(got, want);
}

/// Merging large states (every pair kind's buffer full at once, so the merge sorts them all
/// in) gives the state that all their rows give in one.
#[test]
fn large_merges_equal_one_state() {
    let (mut a, mut b, mut all) = (PeriodState::default(), PeriodState::default(), PeriodState::default());
    // about 400k distinct clients, so every kind's pairs are distinct and each state holds
    // some 200k of them: the merge's buffers are full in all four kinds at once
    for i in 0..400_000u64 {
        let ip = format!("10.{}.{}.{}", i % 251, (i / 251) % 241, (i / 60_491) % 250);
        let ua = format!("agent-{}", i % 1009);
        let family = format!("family-{}", i % 31);
        let path = format!("/p{}", i % 997);
        let host = format!("r{}.example", i % 89);
        let mut f = RowFacts::default();
        f.client_ip = Some(ip.as_bytes());
        f.user_agent = Some(&ua);
        f.ua_browser = Some(&family);
        f.path = Some(path.as_bytes());
        f.referrer_host = Some(&host);
        f.status = Some(200);
        if i % 2 == 0 {
            a.add(&f);
        } else {
            b.add(&f);
        }
        all.add(&f);
    }
    let mut unsorted = a.clone();
    a.merge(&b);
    a.compact();
    all.compact();
    assert_eq!(summary(&a), summary(&all));
    // the same merge with every pair left to the parallel compact
    unsorted.merge_unsorted(&b);
    unsorted.compact();
    assert_eq!(summary(&unsorted), summary(&all));
    let referrers = |s: &PeriodState| {
        let mut r: Vec<_> =
            s.referrers().into_iter().map(|(k, c)| (k.clone(), c.requests, c.clients)).collect();
        r.sort();
        r
    };
    assert_eq!(referrers(&a), referrers(&all));
    assert!(a.clients() > 390_000, "{}", a.clients());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Client lookups deferred in batches give the state `add` gives, whatever the number of
    /// rows (below, at and past a batch) and wherever rows lack a client.
    #[test]
    fn deferred_clients_equal_direct_adds(rows in proptest::collection::vec(row(), 0..(3 * PENDING_ROWS + 5))) {
        let mut direct = PeriodState::default();
        let mut deferred = PeriodState::default();
        let mut pending = PendingClients::default();
        for r in &rows {
            add(&mut direct, r);
            add_to(&mut deferred, r, Some(&mut pending));
        }
        let waiting = rows.iter().filter(|r| r.ip.is_some()).count() % PENDING_ROWS;
        prop_assert_eq!(pending.is_empty(), waiting == 0);
        deferred.resolve(&mut pending);
        prop_assert!(pending.is_empty());
        prop_assert_eq!(summary(&deferred), summary(&direct));
    }

    #[test]
    fn any_split_any_order(rows in proptest::collection::vec(row(), 0..300), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6), order in any::<u64>()) {
        let mut whole = PeriodState::default();
        for r in &rows {
            add(&mut whole, r);
        }
        // split at random points into parts, build each alone, merge in a shuffled order
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(rows.len() + 1)).collect();
        points.push(0);
        points.push(rows.len());
        points.sort_unstable();
        let mut parts: Vec<PeriodState> = points
            .windows(2)
            .map(|w| {
                let mut s = PeriodState::default();
                for r in &rows[w[0]..w[1]] {
                    add(&mut s, r);
                }
                s
            })
            .collect();
        let n = parts.len();
        for i in (1..n).rev() {
            parts.swap(i, (order as usize).wrapping_mul(i + 7) % (i + 1));
        }
        let mut merged = PeriodState::default();
        for p in &parts {
            merged.merge(p);
        }
        prop_assert_eq!(summary(&merged), summary(&whole));
        // merges that leave every pair to one parallel compact (etl-daily's last merge), read
        // before and after that compact
        let mut unsorted = PeriodState::default();
        for p in &parts {
            unsorted.merge_unsorted(p);
        }
        prop_assert_eq!(summary(&unsorted), summary(&whole));
        unsorted.compact();
        prop_assert_eq!(summary(&unsorted), summary(&whole));
        // and merging is associative: (a+b)+c == a+(b+c)
        if parts.len() >= 3 {
            let mut left = parts[0].clone();
            left.merge(&parts[1]);
            left.merge(&parts[2]);
            let mut bc = parts[1].clone();
            bc.merge(&parts[2]);
            let mut right = parts[0].clone();
            right.merge(&bc);
            prop_assert_eq!(summary(&left), summary(&right));
        }
    }
}
