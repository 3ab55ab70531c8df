//! Ping's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::{ChainError, ErrorKind};

use crate::LAYER;

/// What went wrong in a ping exchange. Carried as the source of a [`ChainError`].
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// The echo differs from what we sent.
    #[error("echo does not match the ping sent")]
    Mismatch,
    /// The stream ended in the middle of a 32-byte ping or echo.
    #[error("stream ended after {got} of 32 bytes")]
    Truncated {
        /// Bytes received before the end.
        got: usize,
    },
    /// No echo (dialer) or no next ping (listener) within the deadline.
    #[error("no {what} within {after:?}")]
    Timeout {
        /// `echo` or `ping`.
        what: &'static str,
        /// The deadline that passed.
        after: Duration,
    },
}

impl PingError {
    /// The [`ErrorKind`] this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PingError::Mismatch => ErrorKind::Protocol,
            PingError::Truncated { .. } => ErrorKind::Closed,
            PingError::Timeout { .. } => ErrorKind::Timeout,
        }
    }
}

impl From<PingError> for ChainError {
    fn from(e: PingError) -> Self {
        ChainError::with_source(LAYER, e.kind(), e)
    }
}

/// An I/O error seen by ping (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}
