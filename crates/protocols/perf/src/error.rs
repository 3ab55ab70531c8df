//! Perf's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use chainp2p_core::{ChainError, ErrorKind, Layer, LayerError};

use crate::LAYER;

/// What went wrong in a perf run. Carried as the source of a [`ChainError`] (through
/// [`LayerError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PerfError {
    /// The stream ended inside the 8-byte request header.
    #[error("stream ended after {got} of 8 request-header bytes")]
    TruncatedRequest {
        /// Header bytes received.
        got: usize,
    },
    /// The client asked for more than the server's cap.
    #[error("client asked for {requested} bytes, the limit is {limit}")]
    RequestTooLarge {
        /// Bytes asked for.
        requested: u64,
        /// [`crate::PerfConfig::max_download`].
        limit: u64,
    },
    /// The server closed before sending everything asked for.
    #[error("server sent {got} of the {expected} bytes asked for")]
    ShortDownload {
        /// Bytes received.
        got: u64,
        /// Bytes asked for.
        expected: u64,
    },
    /// The server sent more than asked for.
    #[error("server sent more than the {expected} bytes asked for")]
    LongDownload {
        /// Bytes asked for.
        expected: u64,
    },
}

impl LayerError for PerfError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
        match self {
            PerfError::TruncatedRequest { .. } | PerfError::ShortDownload { .. } => {
                ErrorKind::Closed
            }
            PerfError::RequestTooLarge { .. } => ErrorKind::LimitExceeded,
            PerfError::LongDownload { .. } => ErrorKind::Protocol,
        }
    }
}

/// An I/O error seen by perf (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report};

    #[test]
    fn converted_errors_say_their_cause_once() {
        let e = ChainError::from(PerfError::ShortDownload {
            got: 1,
            expected: 2,
        });
        assert_eq!(e.layer().as_str(), "perf");
        assert_eq!(e.kind(), ErrorKind::Closed);
        assert!(matches!(
            e.downcast_ref::<PerfError>(),
            Some(PerfError::ShortDownload {
                got: 1,
                expected: 2
            })
        ));
        let text = report(&e);
        assert_eq!(text, "perf: closed: server sent 1 of the 2 bytes asked for");
        assert_eq!(repeated_segment(&text), None, "{text}");
        // An I/O error of the stream: this layer's, its kind mapped, said once.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        assert_eq!(report(&io_err(reset)), "perf: closed: peer reset");
        let low = ChainError::new("yamux", ErrorKind::Closed, "stream 3 was reset").into_io();
        assert_eq!(report(&io_err(low)), "yamux: closed: stream 3 was reset");
    }
}
