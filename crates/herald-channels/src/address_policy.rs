//! Which addresses outbound calls may reach: one policy for every HTTP provider and for SMTP.
//! Loopback, private, link-local, shared, documentation, benchmarking, multicast and reserved
//! ranges are refused, and so is any IPv6 form that carries an IPv4 address (mapped,
//! compatible, NAT64, 6to4, Teredo) when that address is refused. Pure: the resolver and the
//! SMTP connector apply it to the addresses they actually connect to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an outbound call may not connect to `ip`.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                   // "this network" 0/8
        || a == 10                           // private 10/8
        || (a == 100 && (b & 0xC0) == 64)    // shared (CGNAT) 100.64/10
        || a == 127                          // loopback 127/8
        || (a == 169 && b == 254)            // link-local 169.254/16 (cloud metadata)
        || (a == 172 && (b & 0xF0) == 16)    // private 172.16/12
        || (a == 192 && b == 0 && c == 0)    // IETF protocol assignments 192.0.0/24
        || (a == 192 && b == 0 && c == 2)    // documentation 192.0.2/24
        || (a == 192 && b == 88 && c == 99)  // 6to4 relay anycast 192.88.99/24
        || (a == 192 && b == 168)            // private 192.168/16
        || (a == 198 && (b & 0xFE) == 18)    // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation 198.51.100/24
        || (a == 203 && b == 0 && c == 113)  // documentation 203.0.113/24
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xFE00) == 0xFC00 // unique local fc00::/7
        || (s[0] & 0xFFC0) == 0xFE80 // link-local fe80::/10
        || (s[0] & 0xFFC0) == 0xFEC0 // site-local (deprecated) fec0::/10
        || (s[0] & 0xFF00) == 0xFF00 // multicast ff00::/8
        || (s[0] == 0x2001 && s[1] == 0x0DB8) // documentation 2001:db8::/32
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] < 0x0200 && s[1] != 0) // IETF protocol assignments 2001::/23 (bar Teredo)
}

/// The IPv4 address an IPv6 address carries, in the forms that route to it: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`),
/// 6to4 (`2002:AABB:CCDD::/16`) and Teredo (`2001:0::/32`, the client address inverted).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(from(s[6], s[7])); // compatible (not :: or ::1)
    }
    if s[0] == 0x0064 && s[1] == 0xFF9B && (s[2..6] == [0; 4] || s[2] == 1) {
        return Some(from(s[6], s[7])); // NAT64
    }
    if s[0] == 0x2002 {
        return Some(from(s[1], s[2])); // 6to4
    }
    if s[0] == 0x2001 && s[1] == 0 {
        return Some(from(!s[6], !s[7])); // Teredo client
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(addr: &str) -> bool {
        forbidden(addr.parse().unwrap())
    }

    #[test]
    fn every_private_or_special_ipv4_range_is_refused() {
        for addr in [
            "0.0.0.0",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.9.9.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(refused(addr), "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "198.17.0.1",
            "198.20.0.1",
            "203.0.114.1",
            "2606:4700::1111",
            "2400:3200::1",
            "2001:4860:4860::8888",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(addr), "{addr}");
        }
    }

    #[test]
    fn every_private_or_special_ipv6_range_is_refused() {
        for addr in ["::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "2001:db8::1", "100::1"] {
            assert!(refused(addr), "{addr}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_a_private_ipv4_are_judged_by_it() {
        for addr in [
            "::ffff:127.0.0.1",                     // mapped
            "::ffff:169.254.169.254",               // mapped metadata
            "::10.0.0.1",                           // compatible
            "::127.0.0.1",                          // compatible loopback
            "64:ff9b::a00:1",                       // NAT64 of 10.0.0.1
            "64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
            "64:ff9b:1::a9fe:a9fe",                 // local-use NAT64 of 169.254.169.254
            "2002:c0a8:101::1",                     // 6to4 of 192.168.1.1
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo of 127.0.0.1 (inverted)
        ] {
            assert!(refused(addr), "{addr}");
        }
    }
}
