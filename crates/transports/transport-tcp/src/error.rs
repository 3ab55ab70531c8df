//! The transport's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{ChainError, ErrorKind};

use crate::LAYER;

/// What went wrong in the TCP transport. Carried as the source of a [`ChainError`].
#[derive(Debug, thiserror::Error)]
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

impl TcpError {
    /// The [`ErrorKind`] this error maps to.
    pub fn kind(&self) -> ErrorKind {
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

impl From<TcpError> for ChainError {
    fn from(e: TcpError) -> Self {
        ChainError::with_source(LAYER, e.kind(), e)
    }
}
