//! The crate's typed error, and its mapping onto the stack's
//! [`ChainError`](chainp2p_core::ChainError) (through [`LayerError`]).

use chainp2p_core::{ErrorKind, Layer, LayerError};

use crate::session::StreamId;

/// Layer name used in every [`ChainError`](chainp2p_core::ChainError) this crate returns.
pub const LAYER: &str = "mplex";

/// Everything that can go wrong in an mplex session or on one of its streams.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MplexError {
    /// A frame announced a body larger than our limit (refused before allocating).
    #[error("frame body of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced body length.
        len: u64,
        /// Our limit.
        max: usize,
    },
    /// A header or length varint was longer than 9 bytes or not minimally encoded.
    #[error("invalid varint: {0}")]
    InvalidVarint(&'static str),
    /// A header carried flag 7, which mplex does not define.
    #[error("unknown mplex flag {0}")]
    UnknownFlag(u8),
    /// The connection ended in the middle of a frame.
    #[error("connection ended in the middle of a frame")]
    EofMidFrame,
    /// The peer sent NewStream for an id it already has open.
    #[error("NewStream for remote stream {0}, which is already open")]
    DuplicateStream(u64),
    /// The peer sent more unread data on a stream than `max_buffer_per_stream`: the stream was
    /// reset; the reader sees this after the bytes buffered before the overflow.
    #[error("stream {id}: more than {limit} unread bytes buffered; stream reset")]
    BufferOverflow {
        /// The stream.
        id: StreamId,
        /// The limit crossed.
        limit: usize,
    },
    /// The stream was reset (by the peer or by us).
    #[error("stream {0} was reset")]
    StreamReset(StreamId),
    /// A write after our own Close.
    #[error("stream {0}: write after close")]
    WriteAfterClose(StreamId),
    /// An operation named a stream the session does not know.
    #[error("unknown stream {0}")]
    UnknownStream(StreamId),
    /// All stream ids (2^60) are used up.
    #[error("stream ids exhausted")]
    StreamIdsExhausted,
    /// The session ended (peer EOF or our close) while this operation needed it.
    #[error("session closed")]
    SessionClosed,
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

impl LayerError for MplexError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The stack-wide kind of this error.
    fn kind(&self) -> ErrorKind {
        match self {
            MplexError::InvalidVarint(_)
            | MplexError::UnknownFlag(_)
            | MplexError::DuplicateStream(_) => ErrorKind::Protocol,
            MplexError::FrameTooLarge { .. }
            | MplexError::BufferOverflow { .. }
            | MplexError::StreamIdsExhausted => ErrorKind::LimitExceeded,
            MplexError::EofMidFrame
            | MplexError::StreamReset(_)
            | MplexError::WriteAfterClose(_)
            | MplexError::UnknownStream(_)
            | MplexError::SessionClosed => ErrorKind::Closed,
            MplexError::Io(_) => ErrorKind::Io,
            MplexError::InvalidConfig(_) => ErrorKind::InvalidInput,
        }
    }
}

impl From<std::io::Error> for MplexError {
    fn from(e: std::io::Error) -> Self {
        MplexError::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report, ChainError};

    #[test]
    fn converted_errors_say_their_cause_once() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = ChainError::from(MplexError::from(reset));
        assert_eq!(e.layer().as_str(), "mplex");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(matches!(
            e.downcast_ref::<MplexError>(),
            Some(MplexError::Io(_))
        ));
        let text = report(&e);
        assert_eq!(text, "mplex: io: i/o error: peer reset");
        assert_eq!(repeated_segment(&text), None, "{text}");
        // Through an `io::Error` (as a stream returns it) and back: still once.
        let back = ChainError::from_io("multistream", MplexError::StreamIdsExhausted.into_io());
        assert_eq!(back.layer().as_str(), "mplex");
        assert_eq!(back.kind(), ErrorKind::LimitExceeded);
        assert_eq!(repeated_segment(&report(&back)), None);
    }
}
