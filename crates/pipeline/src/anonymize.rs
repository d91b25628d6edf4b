//! `--anonymize-ip`: client addresses that never reach the lake in full.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How client addresses are anonymized before they are written.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpAnonymizer {
    /// Keep the network: IPv4 to its /24 (`203.0.113.77` → `203.0.113.0`), IPv6 to its /48
    /// (`2001:db8:1:2::5` → `2001:db8:1::`). Still valid addresses, still groupable by network.
    Truncate,
    /// HMAC-SHA256 of the canonical address under a secret key, the first 16 bytes as 32 hex
    /// characters: stable across runs and days (distinct counts stay exact) but not reversible
    /// without the key. Host names are hashed the same way.
    Keyed(Vec<u8>),
}

impl std::fmt::Debug for IpAnonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IpAnonymizer::Truncate => f.write_str("Truncate"),
            // never print the key
            IpAnonymizer::Keyed(_) => f.write_str("Keyed(<redacted>)"),
        }
    }
}

impl IpAnonymizer {
    /// The anonymized form of an address.
    #[must_use]
    pub fn ip(&self, ip: IpAddr) -> String {
        match self {
            IpAnonymizer::Truncate => match ip {
                IpAddr::V4(v4) => {
                    let [a, b, c, _] = v4.octets();
                    Ipv4Addr::new(a, b, c, 0).to_string()
                }
                IpAddr::V6(v6) => {
                    let s = v6.segments();
                    Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
                }
            },
            IpAnonymizer::Keyed(_) => self.hash(ip.to_string().as_bytes()),
        }
    }

    /// The anonymized form of a client field that is not an IP (a host name): hashed with a
    /// key, dropped (`None`) when truncating, since a name has no network part to keep.
    #[must_use]
    pub fn host(&self, host: &str) -> Option<String> {
        match self {
            IpAnonymizer::Truncate => None,
            IpAnonymizer::Keyed(_) => Some(self.hash(host.as_bytes())),
        }
    }

    fn hash(&self, data: &[u8]) -> String {
        let IpAnonymizer::Keyed(key) = self else { return String::new() };
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { return String::new() };
        mac.update(data);
        mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A raw line with its first field replaced when that field is a client address (what the
    /// common formats start with); other bytes are kept as they are.
    #[must_use]
    pub fn raw_line<'a>(&self, raw: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let end = raw.iter().position(|&c| c == b' ').unwrap_or(raw.len());
        let first = std::str::from_utf8(&raw[..end]).ok().and_then(|s| s.parse::<IpAddr>().ok());
        match first {
            Some(ip) => {
                let mut out = self.ip(ip).into_bytes();
                out.extend_from_slice(&raw[end..]);
                std::borrow::Cow::Owned(out)
            }
            None => std::borrow::Cow::Borrowed(raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_network() {
        let t = IpAnonymizer::Truncate;
        assert_eq!(t.ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
        assert_eq!(t.ip("2001:db8:1:2::5".parse().unwrap()), "2001:db8:1::");
        assert_eq!(t.host("client.example.com"), None);
        assert_eq!(&*t.raw_line(b"10.1.2.3 - - [x] junk"), b"10.1.2.0 - - [x] junk");
        assert_eq!(&*t.raw_line(b"junk line"), b"junk line");
    }

    #[test]
    fn keyed_hash_is_stable_per_key_and_hides_the_key() {
        let a = IpAnonymizer::Keyed(b"k1".to_vec());
        let b = IpAnonymizer::Keyed(b"k2".to_vec());
        let ip: IpAddr = "203.0.113.77".parse().unwrap();
        assert_eq!(a.ip(ip), a.ip(ip));
        assert_ne!(a.ip(ip), b.ip(ip));
        assert_eq!(a.ip(ip).len(), 32);
        assert!(!a.ip(ip).contains("203"));
        assert_eq!(format!("{a:?}"), "Keyed(<redacted>)");
    }
}
