//! The client address behind reverse proxies. The rate limits count per client address, so
//! which address that is decides who shares a limit with whom:
//!
//! - the peer (the TCP connection's far end) is the client, unless it is a trusted proxy;
//! - when the peer is a trusted proxy, the client is the right-most `X-Forwarded-For` entry
//!   that is not itself a trusted proxy. Each proxy appends the address it got the request
//!   from, so entries right of that one were written by proxies we trust and everything
//!   left of it was written by the client and can be anything;
//! - `X-Forwarded-For` from a peer that is not a trusted proxy is never read: anyone can
//!   send one, and believing it would let a client pick a fresh address per request.
//!
//! Walking right to left, an entry that is not an address ends the walk: the last address
//! read (the hop that wrote the garbage, or the peer) is the client, since nothing left of it
//! can be vouched for. When every entry is a trusted proxy, the left-most one is the client.
//! Entries may carry a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some proxies write.
//! The `Forwarded` header (RFC 7239) is not read.

use axum::http::HeaderValue;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An address block: an IP with a prefix length (`10.0.0.0/8`, `fd00::/8`); a plain IP is
/// a block of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

/// Why a `--trusted-proxies` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    #[error("`{0}` is not an IP address or a CIDR block (like 10.0.0.0/8 or fd00::/8)")]
    InvalidAddress(String),
    #[error("`{0}` has a prefix length that is not a number from 0 to 32 (IPv4) or 128 (IPv6)")]
    InvalidPrefix(String),
}

impl IpNetError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            IpNetError::InvalidAddress(_) => "invalid_address",
            IpNetError::InvalidPrefix(_) => "invalid_prefix",
        }
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    // The host part is the low `width - prefix` bits of a `width`-bit address.
    let host_bits = u32::from(width - prefix);
    let host = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    !host
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if ip.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let (net, width) = bits(self.network);
        let (addr, _) = bits(ip);
        let mask = mask(self.prefix, width);
        addr & mask == net & mask
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network = addr.parse::<IpAddr>().map_err(|_| IpNetError::InvalidAddress(text.to_owned()))?.to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| IpNetError::InvalidPrefix(text.to_owned()))?,
        };
        Ok(IpNet { network, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`); none by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client address of a request from `peer` with these `X-Forwarded-For` header
    /// values (in the order received); see the module comment for the rules.
    pub fn client_ip<'a>(&self, peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a HeaderValue>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        // Several header lines are one list, in order.
        let entries: Vec<Option<IpAddr>> = forwarded_for
            .into_iter()
            .flat_map(|value| match value.to_str() {
                Ok(text) => text.split(',').map(parse_entry).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .collect();
        let mut client = peer;
        for entry in entries.into_iter().rev() {
            let Some(ip) = entry else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(IpNet::to_string).collect();
        f.write_str(&list.join(","))
    }
}

fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok())?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn client(trusted: &TrustedProxies, peer: &str, headers: &[&[u8]]) -> IpAddr {
        let values: Vec<HeaderValue> = headers.iter().map(|h| HeaderValue::from_bytes(h).unwrap()).collect();
        trusted.client_ip(ip(peer), &values)
    }

    #[test]
    fn blocks_parse_and_contain_what_they_should() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.255.1.2")) && !net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "an IPv4-mapped peer is its IPv4 address");
        let one: IpNet = " 192.0.2.1 ".parse().unwrap();
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")) && !v6.contains(ip("fe80::1")) && !v6.contains(ip("10.0.0.1")));
        let everything: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("203.0.113.9")) && !everything.contains(ip("::1")));
        assert!("::/0".parse::<IpNet>().unwrap().contains(ip("2001:db8::1")));
        assert!("::1".parse::<IpNet>().unwrap().contains(ip("::1")));
        // An address with host bits set still names its block.
        assert!("192.0.2.77/24".parse::<IpNet>().unwrap().contains(ip("192.0.2.1")));
    }

    #[test]
    fn bad_blocks_are_refused_with_a_code() {
        for (text, code) in [
            ("", "invalid_address"),
            ("proxy.example", "invalid_address"),
            ("10.0.0/8", "invalid_address"),
            ("10.0.0.0/33", "invalid_prefix"),
            ("fd00::/129", "invalid_prefix"),
            ("10.0.0.0/x", "invalid_prefix"),
            ("10.0.0.0/", "invalid_prefix"),
        ] {
            assert_eq!(text.parse::<IpNet>().unwrap_err().code(), code, "{text:?}");
        }
    }

    #[test]
    fn the_header_of_an_untrusted_peer_is_ignored() {
        assert_eq!(client(&TrustedProxies::default(), "198.51.100.1", &[b"203.0.113.5"]), ip("198.51.100.1"));
        assert_eq!(client(&proxies(&["10.0.0.1"]), "198.51.100.1", &[b"203.0.113.5"]), ip("198.51.100.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
        assert_eq!(client(&trusted, "127.0.0.1", &[b"203.0.113.5"]), ip("203.0.113.5"));
        // The client's own claims are left of what our proxies appended.
        assert_eq!(client(&trusted, "127.0.0.1", &[b"1.1.1.1, 203.0.113.5, 10.0.0.2"]), ip("203.0.113.5"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"garbage, 203.0.113.5"]), ip("203.0.113.5"));
        // Several header lines are one list.
        assert_eq!(client(&trusted, "10.0.0.3", &[b"1.1.1.1", b"2001:db8::5,fd00::7"]), ip("2001:db8::5"));
        // Ports and brackets, and an IPv4-mapped peer.
        assert_eq!(client(&trusted, "::ffff:127.0.0.1", &[b"203.0.113.5:4711"]), ip("203.0.113.5"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"[2001:db8::9]:443"]), ip("2001:db8::9"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"[2001:db8::9]"]), ip("2001:db8::9"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"::ffff:203.0.113.5"]), ip("203.0.113.5"));
    }

    #[test]
    fn a_trusted_peer_without_a_usable_entry_is_the_client_or_the_last_good_hop() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(client(&trusted, "127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b""]), ip("127.0.0.1"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"unknown"]), ip("127.0.0.1"));
        assert_eq!(client(&trusted, "127.0.0.1", &[b"\xff\xfe"]), ip("127.0.0.1"), "not UTF-8");
        // Garbage written between two of our proxies: the hop that wrote it is the client.
        assert_eq!(client(&trusted, "127.0.0.1", &[b"203.0.113.5, nonsense, 10.0.0.9"]), ip("10.0.0.9"));
        // Every entry is one of ours: the left-most is the furthest hop known.
        assert_eq!(client(&trusted, "127.0.0.1", &[b"10.0.0.8, 10.0.0.9"]), ip("10.0.0.8"));
    }
}
