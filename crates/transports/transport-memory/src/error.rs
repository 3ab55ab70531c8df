//! The transport's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{ChainError, ErrorKind};

use crate::LAYER;

/// What went wrong in the memory transport. Carried as the source of a [`ChainError`] of
/// layer [`LAYER`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryError {
    /// The address is not `/memory/N` (optionally followed by `/p2p/<id>`).
    #[error("unsupported address {addr}: {reason}")]
    Unsupported {
        /// The offending address.
        addr: Multiaddr,
        /// Why it is not supported.
        reason: &'static str,
    },
    /// Something (a listener, or a dialer's ephemeral port) already holds this port.
    #[error("address /memory/{0} already in use")]
    AddrInUse(u64),
    /// Nobody listens on this port.
    #[error("connection refused by /memory/{0}")]
    Refused(u64),
    /// The listener's accept queue is full: it has `backlog` connections not yet accepted.
    #[error("connection refused by /memory/{port}: accept backlog of {backlog} is full")]
    BacklogFull {
        /// The port dialed.
        port: u64,
        /// The listener's backlog.
        backlog: usize,
    },
    /// Every non-zero port is taken (practically impossible: there are 2^64 - 1 of them).
    #[error("no free /memory port left")]
    NoFreePort,
}

impl MemoryError {
    /// The [`ErrorKind`] this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MemoryError::Unsupported { .. } => ErrorKind::Unsupported,
            MemoryError::AddrInUse(_) | MemoryError::Refused(_) | MemoryError::NoFreePort => {
                ErrorKind::Io
            }
            MemoryError::BacklogFull { .. } => ErrorKind::LimitExceeded,
        }
    }
}

impl From<MemoryError> for ChainError {
    fn from(e: MemoryError) -> Self {
        ChainError::with_source(LAYER, e.kind(), e)
    }
}
