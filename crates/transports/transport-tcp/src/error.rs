//! The transport's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{ErrorKind, Layer, LayerError};

use crate::LAYER;

/// What went wrong in the TCP transport. Carried as the source of a
/// [`ChainError`](chainp2p_core::ChainError) (through [`LayerError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TcpError {
    /// The address is not one this transport handles.
    #[error("unsupported address {addr}: {reason}")]
    Unsupported {
        /// The offending address.
        addr: Multiaddr,
        /// Why it is not supported.
        reason: &'static str,
    },
    /// The address has no transport part at all (e.g. a bare `/p2p/<id>`).
    #[error("address {0} has no transport part")]
    NoTransport(Multiaddr),
    /// The remote actively refused the connection (nothing listens there).
    #[error("connection refused by {0}")]
    Refused(Multiaddr),
    /// The dial did not complete within the configured deadline.
    #[error("dial to {addr} timed out after {timeout:?}")]
    DialTimeout {
        /// The address being dialed.
        addr: Multiaddr,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The host name resolved to no address of the wanted family.
    #[error("{0} resolved to no usable address")]
    NoAddresses(Multiaddr),
    /// Any other socket error, with the operation and address it concerned.
    #[error("{op} {addr}: {source}")]
    Io {
        /// What we were doing: `dial`, `listen on`, `accept on`, `resolve`, ...
        op: &'static str,
        /// The address concerned.
        addr: Multiaddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl LayerError for TcpError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
        match self {
            TcpError::Unsupported { .. } => ErrorKind::Unsupported,
            TcpError::NoTransport(_) => ErrorKind::InvalidInput,
            TcpError::Refused(_) | TcpError::NoAddresses(_) => ErrorKind::Io,
            TcpError::DialTimeout { .. } => ErrorKind::Timeout,
            TcpError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Io,
            },
        }
    }
}

impl TcpError {
    /// A socket error of operation `op` on `addr`; a refusal becomes [`TcpError::Refused`].
    pub(crate) fn io(op: &'static str, addr: &Multiaddr, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::ConnectionRefused {
            TcpError::Refused(addr.clone())
        } else {
            TcpError::Io {
                op,
                addr: addr.clone(),
                source,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report, ChainError};

    #[test]
    fn converted_errors_say_their_cause_once() {
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4101".parse().unwrap();
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = ChainError::from(TcpError::io("dial", &addr, reset));
        assert_eq!(e.layer().as_str(), "tcp");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(matches!(
            e.downcast_ref::<TcpError>(),
            Some(TcpError::Io { op: "dial", .. })
        ));
        let text = report(&e);
        assert_eq!(text, "tcp: io: dial /ip4/127.0.0.1/tcp/4101: peer reset");
        assert_eq!(repeated_segment(&text), None, "{text}");
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = ChainError::from(TcpError::io("dial", &addr, refused));
        assert!(matches!(
            e.downcast_ref::<TcpError>(),
            Some(TcpError::Refused(_))
        ));
        assert_eq!(repeated_segment(&report(&e)), None);
    }
}
