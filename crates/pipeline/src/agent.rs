//! User-agent families from the uap-core regexes (vendored, version pinned in `ua/README.md`),
//! behind a per-worker cache: a day of logs has few distinct agents and many lines.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use ua_parser::{device, os, user_agent, Extractor, Regexes};

/// uap-core 0.18.0 `regexes.yaml`, as JSON.
const REGEXES: &str = include_str!("../ua/regexes.json");

/// Distinct agents kept per cache before it starts over (bounds memory on hostile input).
const CACHE_LIMIT: usize = 65_536;

/// Tokens that mark crawlers, monitors and HTTP tools that uap-core does not call `Spider`.
const BOT_TOKENS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "okhttp",
    "libwww",
    "zgrab",
    "masscan",
    "nmap",
    "censys",
    "facebookexternalhit",
    "headless",
    "nikto",
    "scanner",
];

/// The families of one user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Agent {
    /// Browser (user-agent) family: `Chrome`, `Firefox`, `Googlebot`, `curl`, ... or `Other`.
    pub browser: String,
    /// Operating-system family: `Windows`, `Mac OS X`, `iOS`, `Android`, `Linux`, ... or `Other`.
    pub os: String,
    /// Device family: `iPhone`, `iPad`, `Samsung SM-G930F`, `Spider` (crawlers), ... or `Other`
    /// (desktops and unknown devices).
    pub device: String,
    /// A crawler, monitor or HTTP tool: uap-core's `Spider` device, or a bot token in the agent.
    pub is_bot: bool,
}

fn extractor() -> &'static Extractor<'static> {
    static EXTRACTOR: OnceLock<Extractor<'static>> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        // the vendored file is checked by the tests; failing here would be a build defect
        let regexes: Regexes<'static> =
            serde_json::from_str(REGEXES).expect("vendored uap-core regexes.json is valid");
        // compiling ~1,000 regexes takes a few hundred ms: the three sets compile on their own
        // threads (the workers that need them wait anyway)
        let Regexes { user_agent_parsers, os_parsers, device_parsers } = regexes;
        std::thread::scope(|s| {
            let os = s.spawn(|| os::Builder::new().push_all(os_parsers).map(os::Builder::build));
            let dev = s.spawn(|| device::Builder::new().push_all(device_parsers).map(device::Builder::build));
            let ua = user_agent::Builder::new().push_all(user_agent_parsers).map(user_agent::Builder::build);
            let compiled = "vendored uap-core regexes compile";
            Extractor {
                ua: ua.expect(compiled).expect(compiled),
                os: os.join().expect(compiled).expect(compiled).expect(compiled),
                dev: dev.join().expect(compiled).expect(compiled).expect(compiled),
            }
        })
    })
}

/// Starts compiling the uap-core regexes in the background, so that they are ready (or
/// nearly) when the first user agent needs them.
pub(crate) fn prewarm_agents() {
    std::thread::spawn(|| {
        let _ = extractor();
    });
}

/// Classifies a user agent with uap-core (no cache; see [`AgentCache`]).
#[must_use]
pub fn classify_agent(ua: &str) -> Agent {
    let (browser, os, device) = extractor().extract(ua);
    let device = device.map_or_else(|| "Other".to_owned(), |d| d.device.into_owned());
    let lower = ua.to_ascii_lowercase();
    let is_bot = device == "Spider" || BOT_TOKENS.iter().any(|t| lower.contains(t));
    Agent {
        browser: browser.map_or_else(|| "Other".to_owned(), |b| b.family.into_owned()),
        os: os.map_or_else(|| "Other".to_owned(), |o| o.os.into_owned()),
        device,
        is_bot,
    }
}

/// A hasher for agent strings (xxh3: fast on long keys, and the cache is per worker and bounded).
#[derive(Default)]
struct Xxh3(xxhash_rust::xxh3::Xxh3Default);

impl std::hash::Hasher for Xxh3 {
    fn finish(&self) -> u64 {
        self.0.digest()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A per-worker cache in front of [`classify_agent`]. Not shared between threads on purpose:
/// no locks on the hot path.
#[derive(Default)]
pub struct AgentCache {
    map: HashMap<Box<str>, Agent, BuildHasherDefault<Xxh3>>,
}

impl std::fmt::Debug for AgentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentCache").field("entries", &self.map.len()).finish()
    }
}

impl AgentCache {
    /// The families of `ua`, computed once per distinct agent.
    pub fn classify(&mut self, ua: &str) -> &Agent {
        if !self.map.contains_key(ua) {
            if self.map.len() >= CACHE_LIMIT {
                self.map.clear();
            }
            self.map.insert(ua.into(), classify_agent(ua));
        }
        &self.map[ua]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_agents() {
        let ff = classify_agent("Mozilla/5.0 (X11; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0");
        assert_eq!((ff.browser.as_str(), ff.os.as_str(), ff.is_bot), ("Firefox", "Linux", false));
        let g = classify_agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        assert_eq!((g.browser.as_str(), g.device.as_str(), g.is_bot), ("Googlebot", "Spider", true));
        let m = classify_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Mobile/15E148 Safari/604.1");
        assert_eq!(
            (m.browser.as_str(), m.os.as_str(), m.device.as_str()),
            ("Mobile Safari", "iOS", "iPhone")
        );
        let e = classify_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0");
        assert_eq!((e.browser.as_str(), e.os.as_str(), e.is_bot), ("Edge", "Windows", false));
        assert!(classify_agent("curl/8.4.0").is_bot);
        assert!(classify_agent("python-requests/2.31.0").is_bot);
        let junk = classify_agent("\u{fffd}\u{0}junk");
        assert_eq!(
            (junk.browser.as_str(), junk.os.as_str(), junk.device.as_str()),
            ("Other", "Other", "Other")
        );
    }

    #[test]
    fn cache_returns_the_uncached_answer_and_stays_bounded() {
        let mut cache = AgentCache::default();
        let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
        assert_eq!(cache.classify(ua), &classify_agent(ua));
        assert_eq!(cache.classify(ua).os, "Mac OS X");
        for i in 0..(CACHE_LIMIT + 10) {
            let _ = cache.classify(&format!("agent-{i}"));
        }
        assert!(cache.map.len() <= CACHE_LIMIT);
    }
}
