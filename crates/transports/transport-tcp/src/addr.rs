//! Multiaddr handling for TCP, without I/O: which addresses we dial or listen on, how they map
//! to socket addresses, and how the `/p2p/<id>` suffix is split off.

use std::net::{IpAddr, SocketAddr};

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::ChainError;

use crate::TcpError;

/// Which address family a `/dnsX` name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/dns`: either.
    Any,
    /// `/dns4`: IPv4 only.
    V4,
    /// `/dns6`: IPv6 only.
    V6,
}

impl Family {
    /// Whether `ip` is of this family.
    pub fn accepts(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// Where a dial goes, once the multiaddr is understood.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialTarget {
    /// A literal IP address and port.
    Socket(SocketAddr),
    /// A host name to resolve, the port, and the family the name may resolve to.
    Dns {
        /// The host name.
        host: String,
        /// The TCP port.
        port: u16,
        /// Allowed address family.
        family: Family,
    },
}

/// Splits a trailing `/p2p/<id>` (text name `/ipfs/<id>` too) off `addr`.
///
/// Returns the transport part and the peer id, if there was one. Fails with
/// [`chainp2p_core::ErrorKind::InvalidInput`] if nothing but the peer id is left (as
/// [`chainp2p_core::split_peer_id`], with this layer's [`TcpError::NoTransport`]).
pub fn split_peer_id(addr: &Multiaddr) -> Result<(Multiaddr, Option<PeerId>), ChainError> {
    chainp2p_core::split_peer_id(addr).map_err(|_| TcpError::NoTransport(addr.clone()).into())
}

/// Whether this transport can dial `addr`: `/ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>`,
/// optionally followed by `/p2p/<id>`.
pub fn is_supported(addr: &Multiaddr) -> bool {
    split_peer_id(addr).is_ok_and(|(rest, _)| dial_target(&rest).is_ok())
}

/// The dial target of an address without `/p2p` suffix (see [`split_peer_id`]).
pub fn dial_target(addr: &Multiaddr) -> Result<DialTarget, TcpError> {
    let mut it = addr.iter();
    let (first, second, third) = (it.next(), it.next(), it.next());
    let unsupported = |reason| TcpError::Unsupported {
        addr: addr.clone(),
        reason,
    };
    let port = match (second, third) {
        (Some(Protocol::Tcp(port)), None) => port,
        (Some(Protocol::Tcp(_)), Some(_)) => {
            return Err(unsupported("nothing may follow /tcp/<port>"))
        }
        _ => {
            return Err(unsupported(
                "expected /ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>",
            ))
        }
    };
    let dns = |host: std::borrow::Cow<'_, str>, family| DialTarget::Dns {
        host: host.into_owned(),
        port,
        family,
    };
    match first {
        Some(Protocol::Ip4(ip)) => Ok(DialTarget::Socket(SocketAddr::new(ip.into(), port))),
        Some(Protocol::Ip6(ip)) => Ok(DialTarget::Socket(SocketAddr::new(ip.into(), port))),
        Some(Protocol::Dns(host)) => Ok(dns(host, Family::Any)),
        Some(Protocol::Dns4(host)) => Ok(dns(host, Family::V4)),
        Some(Protocol::Dns6(host)) => Ok(dns(host, Family::V6)),
        _ => Err(unsupported(
            "expected /ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>",
        )),
    }
}

/// The socket address to listen on: `/ip4|/ip6/<ip>/tcp/<port>` (port 0 = any free port).
pub fn listen_target(addr: &Multiaddr) -> Result<SocketAddr, TcpError> {
    match dial_target(addr)? {
        DialTarget::Socket(sa) => Ok(sa),
        DialTarget::Dns { .. } => Err(TcpError::Unsupported {
            addr: addr.clone(),
            reason: "listening needs an IP address, not a host name",
        }),
    }
}

/// `/ip4|/ip6/<ip>/tcp/<port>` for a socket address; IPv4-mapped IPv6 addresses are shown as
/// IPv4.
pub fn to_multiaddr(sa: SocketAddr) -> Multiaddr {
    let ip = match sa.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let ip = match ip {
        IpAddr::V4(v4) => Protocol::Ip4(v4),
        IpAddr::V6(v6) => Protocol::Ip6(v6),
    };
    Multiaddr::empty().with(ip).with(Protocol::Tcp(sa.port()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::ErrorKind;

    fn ma(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn split_strips_p2p_and_old_ipfs_name() {
        let id = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
        for name in ["p2p", "ipfs"] {
            let (rest, peer) =
                split_peer_id(&ma(&format!("/ip4/1.2.3.4/tcp/5/{name}/{id}"))).unwrap();
            assert_eq!(rest, ma("/ip4/1.2.3.4/tcp/5"));
            assert_eq!(peer.unwrap().to_string(), id);
        }
        let (rest, peer) = split_peer_id(&ma("/ip4/1.2.3.4/tcp/5")).unwrap();
        assert_eq!((rest, peer), (ma("/ip4/1.2.3.4/tcp/5"), None));
        let err = split_peer_id(&ma(&format!("/p2p/{id}"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn dial_targets() {
        assert_eq!(
            dial_target(&ma("/ip4/127.0.0.1/tcp/4001")).unwrap(),
            DialTarget::Socket("127.0.0.1:4001".parse().unwrap())
        );
        assert_eq!(
            dial_target(&ma("/ip6/::1/tcp/80")).unwrap(),
            DialTarget::Socket("[::1]:80".parse().unwrap())
        );
        assert_eq!(
            dial_target(&ma("/dns4/example.com/tcp/443")).unwrap(),
            DialTarget::Dns {
                host: "example.com".into(),
                port: 443,
                family: Family::V4
            }
        );
    }

    #[test]
    fn unsupported_addresses_are_named() {
        for s in [
            "/ip4/127.0.0.1/udp/1",
            "/ip4/127.0.0.1",
            "/ip4/127.0.0.1/tcp/1/ws",
            "/p2p-circuit",
            "/ip4/127.0.0.1/tcp/1/p2p-circuit",
            "/dnsaddr/example.com/tcp/1",
            "/tcp/1",
        ] {
            let err = dial_target(&ma(s)).unwrap_err();
            assert!(matches!(err, TcpError::Unsupported { .. }), "{s}: {err}");
            assert!(err.to_string().contains(s), "{err}");
            assert!(!is_supported(&ma(s)), "{s}");
        }
        assert!(is_supported(&ma(
            "/dns/localhost/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        )));
        assert!(matches!(
            listen_target(&ma("/dns/localhost/tcp/1")),
            Err(TcpError::Unsupported { .. })
        ));
    }

    #[test]
    fn socket_addresses_become_multiaddrs() {
        assert_eq!(
            to_multiaddr("127.0.0.1:7".parse().unwrap()),
            ma("/ip4/127.0.0.1/tcp/7")
        );
        assert_eq!(
            to_multiaddr("[::1]:7".parse().unwrap()),
            ma("/ip6/::1/tcp/7")
        );
        assert_eq!(
            to_multiaddr("[::ffff:10.0.0.1]:7".parse().unwrap()),
            ma("/ip4/10.0.0.1/tcp/7")
        );
    }
}
