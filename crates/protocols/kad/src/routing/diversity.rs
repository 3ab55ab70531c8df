//! IP-diversity groups for the routing table, after go-libp2p-kbucket's `peerdiversity`: a
//! public IPv4 address belongs to its /16, a public IPv6 address to its /32. Non-public
//! addresses (loopback, private, link-local, unique-local, unspecified, …) have no group and are
//! exempt from the limits, or local networks could not form.

use chainp2p_core::multiaddr::Multiaddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP group: a public IPv4 /16 or IPv6 /32 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpGroup {
    /// The first two octets of a public IPv4 address.
    V4([u8; 2]),
    /// The first four octets of a public IPv6 address.
    V6([u8; 4]),
}

/// The group of an IP address, `None` if the address is not public (exempt).
pub fn ip_group(ip: IpAddr) -> Option<IpGroup> {
    match ip {
        IpAddr::V4(v4) => v4_group(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_group(v4),
            None => v6_group(v6),
        },
    }
}

fn v4_group(ip: Ipv4Addr) -> Option<IpGroup> {
    let o = ip.octets();
    let exempt = ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64); // 100.64/10 carrier-grade NAT
    (!exempt).then_some(IpGroup::V4([o[0], o[1]]))
}

fn v6_group(ip: Ipv6Addr) -> Option<IpGroup> {
    let s = ip.segments();
    let exempt = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
        || (s[0] == 0x2001 && s[1] == 0x0db8); // documentation
    let o = ip.octets();
    (!exempt).then_some(IpGroup::V6([o[0], o[1], o[2], o[3]]))
}

/// The distinct groups of the public IP addresses among `addrs` (in order of appearance).
pub fn groups_of(addrs: &[Multiaddr]) -> Vec<IpGroup> {
    let mut out = Vec::new();
    for a in addrs {
        if let Some(g) = a.iter().find_map(|p| match p {
            chainp2p_core::multiaddr::Protocol::Ip4(ip) => ip_group(IpAddr::V4(ip)),
            chainp2p_core::multiaddr::Protocol::Ip6(ip) => ip_group(IpAddr::V6(ip)),
            _ => None,
        }) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_ranges() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "169.254.1.1",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "0.0.0.0",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(ip_group(s.parse().unwrap()), None, "{s}");
        }
    }

    #[test]
    fn public_groups() {
        assert_eq!(
            ip_group("8.8.4.4".parse().unwrap()),
            Some(IpGroup::V4([8, 8]))
        );
        assert_eq!(
            ip_group("172.32.0.1".parse().unwrap()),
            Some(IpGroup::V4([172, 32]))
        );
        assert_eq!(
            ip_group("2a01:4f8:1:2::1".parse().unwrap()),
            Some(IpGroup::V6([0x2a, 0x01, 0x04, 0xf8]))
        );
        let addrs: Vec<Multiaddr> = vec![
            "/ip4/1.2.3.4/tcp/1".parse().unwrap(),
            "/ip4/1.2.9.9/tcp/2".parse().unwrap(),
            "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
            "/dns4/example.com/tcp/1".parse().unwrap(),
        ];
        assert_eq!(groups_of(&addrs), vec![IpGroup::V4([1, 2])]);
    }
}
