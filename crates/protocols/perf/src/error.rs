//! Perf's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use chainp2p_core::{ChainError, ErrorKind};

use crate::LAYER;

/// What went wrong in a perf run. Carried as the source of a [`ChainError`].
#[derive(Debug, thiserror::Error)]
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

impl PerfError {
    /// The [`ErrorKind`] this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PerfError::TruncatedRequest { .. } | PerfError::ShortDownload { .. } => {
                ErrorKind::Closed
            }
            PerfError::RequestTooLarge { .. } => ErrorKind::LimitExceeded,
            PerfError::LongDownload { .. } => ErrorKind::Protocol,
        }
    }
}

impl From<PerfError> for ChainError {
    fn from(e: PerfError) -> Self {
        ChainError::with_source(LAYER, e.kind(), e)
    }
}

/// An I/O error seen by perf (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}
