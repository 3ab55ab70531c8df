//! Announceable listen addresses: a listener bound to an unspecified address (`0.0.0.0`, `::`)
//! is reachable at every interface address of its family, so identify and Kademlia announce
//! those (as rust-libp2p and go-libp2p do), never the unspecified address itself.

use std::net::IpAddr;

use chainp2p_core::multiaddr::{Multiaddr, Protocol};

/// The addresses to announce for a listener bound at `bound`: `bound` itself unless its IP is
/// unspecified, else `bound` with each interface IP of the same family (link-local IPv6 left
/// out: it needs a zone to be dialed). Falls back to `bound` if interfaces cannot be listed.
pub(crate) fn announceable(bound: &Multiaddr) -> Vec<Multiaddr> {
    match if_addrs::get_if_addrs() {
        Ok(ifaces) => expand(bound, ifaces.iter().map(|i| i.ip())),
        Err(e) => {
            tracing::debug!(error = %e, "cannot list network interfaces");
            vec![bound.clone()]
        }
    }
}

/// [`announceable`] with the interface IPs given.
fn expand(bound: &Multiaddr, ips: impl Iterator<Item = IpAddr>) -> Vec<Multiaddr> {
    let v4 = match bound.iter().next() {
        Some(Protocol::Ip4(ip)) if ip.is_unspecified() => true,
        Some(Protocol::Ip6(ip)) if ip.is_unspecified() => false,
        _ => return vec![bound.clone()],
    };
    let mut out: Vec<Multiaddr> = Vec::new();
    for ip in ips {
        let proto = match ip {
            IpAddr::V4(a) if v4 => Protocol::Ip4(a),
            IpAddr::V6(a) if !v4 && (a.segments()[0] & 0xffc0) != 0xfe80 => Protocol::Ip6(a),
            _ => continue,
        };
        let addr: Multiaddr = std::iter::once(proto).chain(bound.iter().skip(1)).collect();
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    if out.is_empty() {
        out.push(bound.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_interface_addresses_of_their_family() {
        let ips: Vec<IpAddr> = vec![
            "127.0.0.1".parse().unwrap(),
            "192.168.1.7".parse().unwrap(),
            "::1".parse().unwrap(),
            "fe80::1".parse().unwrap(),
        ];
        let v4: Multiaddr = "/ip4/0.0.0.0/tcp/4001".parse().unwrap();
        let got = expand(&v4, ips.iter().copied());
        let want: Vec<Multiaddr> = vec![
            "/ip4/127.0.0.1/tcp/4001".parse().unwrap(),
            "/ip4/192.168.1.7/tcp/4001".parse().unwrap(),
        ];
        assert_eq!(got, want);
        let v6: Multiaddr = "/ip6/::/tcp/4001".parse().unwrap();
        let got = expand(&v6, ips.iter().copied());
        assert_eq!(got, vec!["/ip6/::1/tcp/4001".parse::<Multiaddr>().unwrap()]);
        let specific: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert_eq!(expand(&specific, ips.into_iter()), vec![specific.clone()]);
        // Nothing of the family: the bound address stays.
        assert_eq!(expand(&v6, std::iter::empty()), vec![v6.clone()]);
    }

    #[test]
    fn the_real_interfaces_include_loopback() {
        let got = announceable(&"/ip4/0.0.0.0/tcp/9".parse().unwrap());
        assert!(
            got.contains(&"/ip4/127.0.0.1/tcp/9".parse().unwrap()),
            "{got:?}"
        );
    }
}
