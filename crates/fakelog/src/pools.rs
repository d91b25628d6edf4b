//! The value pools lines are drawn from: clients, user agents, referrers, resources.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::rng::Rng;

/// The original generator's resources, drawn uniformly.
pub(crate) const RESOURCES: [&str; 8] = [
    "/list",
    "/wp-content",
    "/wp-admin",
    "/explore",
    "/search/tag/list",
    "/app/main/posts",
    "/posts/posts/explore",
    "/apps/cart.jsp?appID=",
];

/// Static assets (our addition, so `is_static` has something to find).
pub(crate) const STATIC: [&str; 10] = [
    "/favicon.ico",
    "/robots.txt",
    "/static/css/main.css",
    "/static/js/app.js",
    "/static/js/vendor.min.js",
    "/images/logo.png",
    "/images/banner.jpg",
    "/fonts/inter.woff2",
    "/static/img/sprite.svg",
    "/wp-content/uploads/2020/05/photo.webp",
];

const WORDS: [&str; 40] = [
    "alpha", "beta", "cloud", "data", "delta", "echo", "field", "forest", "garden", "harbor", "island",
    "jungle", "lemon", "market", "meadow", "nebula", "ocean", "orbit", "pepper", "quartz", "river", "summit",
    "tiger", "valley", "willow", "blog", "posts", "category", "tags", "index", "home", "about", "search",
    "login", "app", "list", "explore", "news", "shop", "cart",
];
const TLDS: [&str; 8] = ["com", "com", "com", "net", "org", "biz", "info", "io"];
const SEARCH: [&str; 8] = [
    "https://www.google.com/search?q=",
    "https://www.bing.com/search?q=",
    "https://duckduckgo.com/?q=",
    "https://search.yahoo.com/search?p=",
    "https://www.google.de/search?q=",
    "https://yandex.ru/search/?text=",
    "https://www.baidu.com/s?wd=",
    "https://www.google.co.uk/search?q=",
];
const TERMS: [&str; 8] = [
    "apache+logs",
    "parquet",
    "cheap+flights",
    "weather",
    "rust+lang",
    "caf%C3%A9+near+me",
    "news",
    "log+analysis",
];

const BOTS: [&str; 16] = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "curl/7.68.0",
    "curl/8.4.0",
    "Wget/1.21.2",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Apache-HttpClient/4.5.13 (Java/1.8.0_292)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
];

/// Everything a generator draws from, built once per seed.
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    pub(crate) clients: Vec<String>,
    /// browser families in the original's order: firefox, chrome, safari, ie, opera
    pub(crate) browsers: [Vec<String>; 5],
    pub(crate) bots: Vec<&'static str>,
    pub(crate) sites: Vec<String>,
}

impl Pools {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x70_6f6f_6c73);
        Pools {
            clients: clients(&mut rng),
            browsers: browsers(&mut rng),
            bots: BOTS.to_vec(),
            sites: sites(&mut rng),
        }
    }
}

/// 40,000 public-looking IPv4 and 2,000 IPv6 addresses, shuffled.
fn clients(rng: &mut Rng) -> Vec<String> {
    let mut v4 = BTreeSet::new();
    while v4.len() < 40_000 {
        let a = rng.range(1, 223) as u8;
        let b = rng.range(0, 255) as u8;
        let private = a == 10 || a == 127 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168);
        if !private {
            v4.insert([a, b, rng.range(0, 255) as u8, rng.range(1, 254) as u8]);
        }
    }
    let prefixes: [u32; 6] = [0x2a02_c7f0, 0x2600_1700, 0x2001_4860, 0x2a03_2880, 0x2607_f8b0, 0x2804_0000];
    let mut v6 = BTreeSet::new();
    while v6.len() < 2_000 {
        let hi = u128::from(*rng.pick(&prefixes)) << 96;
        let low = if rng.chance(0.3) {
            u128::from(rng.range(1, 0xffff))
        } else {
            u128::from(rng.next_u64()) << 32 | u128::from(rng.next_u64() as u32)
        };
        v6.insert(std::net::Ipv6Addr::from(hi | low));
    }
    let mut all: Vec<String> = v4
        .into_iter()
        .map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}"))
        .chain(v6.into_iter().map(|a| a.to_string()))
        .collect();
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i + 1));
    }
    all
}

fn browsers(rng: &mut Rng) -> [Vec<String>; 5] {
    let os = [
        "Windows NT 10.0; Win64; x64",
        "Windows NT 6.1; Win64; x64",
        "Macintosh; Intel Mac OS X 10_15_7",
        "Macintosh; Intel Mac OS X 11_2_3",
        "X11; Linux x86_64",
        "X11; Ubuntu; Linux x86_64",
    ];
    let android = ["Linux; Android 10; K", "Linux; Android 11; SM-G991B", "Linux; Android 12; Pixel 6"];
    let mut firefox = Vec::new();
    let mut chrome = Vec::new();
    for _ in 0..24 {
        let v = rng.range(60, 125);
        firefox.push(format!("Mozilla/5.0 ({}; rv:{v}.0) Gecko/20100101 Firefox/{v}.0", rng.pick(&os)));
        let build = format!("{}.0.{}.{}", rng.range(70, 124), rng.range(3000, 6400), rng.range(10, 250));
        chrome.push(format!(
            "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{build} Safari/537.36",
            rng.pick(&os)
        ));
        if rng.chance(0.4) {
            chrome.push(format!(
                "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{build} Mobile Safari/537.36",
                rng.pick(&android)
            ));
        }
    }
    let mut safari = Vec::new();
    for v in ["13.1.2", "14.1.2", "15.6.1", "16.5", "17.0"] {
        safari.push(format!(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} Safari/605.1.15"
        ));
        safari.push(format!(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1"
        ));
    }
    let ie = vec![
        "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko".to_owned(),
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)".to_owned(),
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; .NET CLR 2.0.50727)".to_owned(),
    ];
    let mut opera = vec!["Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18".to_owned()];
    for _ in 0..6 {
        let v = rng.range(60, 105);
        opera.push(format!(
            "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.{}.{} Safari/537.36 OPR/{v}.0.{}.{}",
            rng.pick(&os),
            v + 14,
            rng.range(3000, 6000),
            rng.range(10, 200),
            rng.range(1000, 4000),
            rng.range(10, 200)
        ));
    }
    [firefox, chrome, safari, ie, opera]
}

/// faker-like sites for referrers (`http://www.word.tld/`).
fn sites(rng: &mut Rng) -> Vec<String> {
    (0..300)
        .map(|_| {
            let mut s = String::new();
            let scheme = if rng.chance(0.5) { "https" } else { "http" };
            let www = if rng.chance(0.6) { "www." } else { "" };
            let _ =
                write!(s, "{scheme}://{www}{}{}.{}/", rng.pick(&WORDS), rng.pick(&WORDS), rng.pick(&TLDS));
            s
        })
        .collect()
}

/// A referrer: `-`, an own-site page, a search engine, or a faker-like URI.
pub(crate) fn referrer(rng: &mut Rng, pools: &Pools, out: &mut Vec<u8>) {
    let x = rng.unit();
    if x < 0.3 {
        out.push(b'-');
    } else if x < 0.55 {
        out.extend_from_slice(b"https://shop.example.com");
        out.extend_from_slice(rng.pick(&RESOURCES[..7]).as_bytes());
    } else if x < 0.7 {
        out.extend_from_slice(rng.pick(&SEARCH).as_bytes());
        out.extend_from_slice(rng.pick(&TERMS).as_bytes());
    } else {
        out.extend_from_slice(rng.pick(&pools.sites).as_bytes());
        out.extend_from_slice(rng.pick(&WORDS).as_bytes());
        out.extend_from_slice(b".html");
    }
}

pub(crate) fn query_word(rng: &mut Rng) -> &'static str {
    WORDS[rng.below(WORDS.len())]
}
