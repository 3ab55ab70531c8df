//! Ping's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::{ChainError, ErrorKind, Layer, LayerError};

use crate::LAYER;

/// What went wrong in a ping exchange. Carried as the source of a [`ChainError`] (through
/// [`LayerError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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

impl LayerError for PingError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
        match self {
            PingError::Mismatch => ErrorKind::Protocol,
            PingError::Truncated { .. } => ErrorKind::Closed,
            PingError::Timeout { .. } => ErrorKind::Timeout,
        }
    }
}

/// An I/O error seen by ping (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report};

    #[test]
    fn converted_errors_say_their_cause_once() {
        let e = ChainError::from(PingError::Truncated { got: 7 });
        assert_eq!(e.layer().as_str(), "ping");
        assert_eq!(e.kind(), ErrorKind::Closed);
        assert!(matches!(
            e.downcast_ref::<PingError>(),
            Some(PingError::Truncated { got: 7 })
        ));
        let text = report(&e);
        assert_eq!(text, "ping: closed: stream ended after 7 of 32 bytes");
        assert_eq!(repeated_segment(&text), None, "{text}");
        // An I/O error of the stream: this layer's, its kind mapped, said once.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        assert_eq!(report(&io_err(reset)), "ping: closed: peer reset");
        let low = ChainError::new("yamux", ErrorKind::Closed, "stream 3 was reset").into_io();
        assert_eq!(report(&io_err(low)), "yamux: closed: stream 3 was reset");
    }
}
