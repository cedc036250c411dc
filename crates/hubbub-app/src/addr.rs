//! Which addresses the server's own outgoing requests (link previews, Web Push) may
//! connect to: only globally reachable unicast ones.
//!
//! Refused: unspecified (`0.0.0.0/8`, `::`), loopback (`127.0.0.0/8`, `::1`), private
//! (RFC 1918: `10/8`, `172.16/12`, `192.168/16`), CGNAT (`100.64/10`), link-local
//! (`169.254/16`, `fe80::/10`), multicast (`224/4`, `ff00::/8`), broadcast, the IETF,
//! documentation, benchmarking and reserved blocks (`192.0.0/24`, `192.0.2/24`,
//! `198.18/15`, `198.51.100/24`, `203.0.113/24`, `240/4`), IPv6 unique-local (`fc00::/7`),
//! site-local (`fec0::/10`), documentation (`2001:db8::/32`), discard (`100::/64`) and
//! Teredo (`2001::/32`). An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`,
//! compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by that IPv4
//! address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an outgoing request may connect to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                    // "this network", unspecified
        || a == 10                              // RFC 1918
        || a == 127                             // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 169 && b == 254)               // link-local
        || (a == 172 && (16..32).contains(&b))  // RFC 1918
        || (a == 192 && b == 168)               // RFC 1918
        || (a == 192 && b == 0 && c == 0)       // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)       // documentation
        || (a == 198 && (b == 18 || b == 19))   // benchmarking
        || (a == 198 && b == 51 && c == 100)    // documentation
        || (a == 203 && b == 0 && c == 113)     // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0] & 0xff00 == 0xff00                               // multicast
        || s[0] & 0xfe00 == 0xfc00                               // unique local
        || s[0] & 0xffc0 == 0xfe80                               // link-local
        || s[0] & 0xffc0 == 0xfec0                               // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)                    // documentation
        || (s[0] == 0x2001 && s[1] == 0)                         // Teredo
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
        || s[0] == 0) // the rest of ::/16: reserved
}

/// The IPv4 address an IPv6 one stands for, where it has one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; not :: and ::1)
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(low),
        // NAT64
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80f::200e",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(allowed(ip), "{ip}");
        }
    }

    #[test]
    fn loopback_unspecified_and_this_network_are_refused() {
        for ip in ["127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "::1", "::"] {
            assert!(!allowed(ip), "{ip}");
        }
    }

    #[test]
    fn rfc1918_private_ranges_are_refused() {
        for ip in ["10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "192.168.255.255"] {
            assert!(!allowed(ip), "{ip}");
        }
    }

    #[test]
    fn link_local_cgnat_multicast_and_broadcast_are_refused() {
        for ip in [
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
        ] {
            assert!(!allowed(ip), "{ip}");
        }
    }

    #[test]
    fn reserved_and_documentation_ranges_are_refused() {
        for ip in ["192.0.0.8", "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9"] {
            assert!(!allowed(ip), "{ip}");
        }
    }

    #[test]
    fn ipv6_ula_link_local_multicast_and_others_are_refused() {
        for ip in [
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "100::1",
            "::2:0",
        ] {
            assert!(!allowed(ip), "{ip}");
        }
    }

    #[test]
    fn ipv4_mapped_and_embedded_forms_are_judged_by_their_ipv4_address() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:192.168.1.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "::ffff:224.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "2002:7f00:0001::1",
            "2002:c0a8:0101::1",
            "::ffff:7f00:1",
        ] {
            assert!(!allowed(ip), "{ip}");
        }
        assert!(allowed("64:ff9b::8.8.8.8"));
    }
}
