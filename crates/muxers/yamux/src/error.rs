//! The crate's typed error, and its mapping onto the stack's
//! [`ChainError`](chainp2p_core::ChainError) (through [`LayerError`]).

use chainp2p_core::{ErrorKind, Layer, LayerError};

/// Layer name used in every [`ChainError`](chainp2p_core::ChainError) this crate returns.
pub const LAYER: &str = "yamux";

/// Everything that can go wrong in a yamux session or on one of its streams.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YamuxError {
    /// A frame header carried a version other than 0.
    #[error("unsupported yamux version {0}")]
    UnknownVersion(u8),
    /// A frame header carried an unknown frame type.
    #[error("unknown yamux frame type {0}")]
    UnknownType(u8),
    /// A data frame body was larger than our limit (refused before allocating).
    #[error("data frame body of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced body length.
        len: u32,
        /// Our limit.
        max: usize,
    },
    /// The peer sent more data on a stream than the window we granted.
    #[error("stream {id}: peer sent {len} bytes with only {credit} bytes of window")]
    WindowExceeded {
        /// The stream.
        id: u32,
        /// The body length received.
        len: u32,
        /// The credit the peer had left.
        credit: u32,
    },
    /// A window update would grow our send window beyond `u32::MAX` (the peer granted credit
    /// it cannot have meant).
    #[error("stream {id}: window update of {delta} on a send window of {window} overflows u32")]
    WindowOverflow {
        /// The stream.
        id: u32,
        /// Our send window before the update.
        window: u32,
        /// The announced delta.
        delta: u32,
    },
    /// The peer opened a stream with an id of our parity (or id 0).
    #[error("SYN for stream {0} with the wrong id parity (both endpoints in the same role?)")]
    WrongParity(u32),
    /// The peer opened a stream whose id already exists.
    #[error("SYN for stream {0}, which already exists")]
    DuplicateStream(u32),
    /// The stream was reset (by the peer or by us).
    #[error("stream {0} was reset")]
    StreamReset(u32),
    /// A write after our own FIN.
    #[error("stream {0}: write after close")]
    WriteAfterClose(u32),
    /// An operation named a stream the session does not know.
    #[error("unknown stream {0}")]
    UnknownStream(u32),
    /// Opening a stream after either side sent GoAway.
    #[error("session is going away: no new streams")]
    GoingAway,
    /// All stream ids of our parity are used up.
    #[error("stream ids exhausted")]
    StreamIdsExhausted,
    /// The connection ended (EOF or local close) while this operation needed it.
    #[error("connection closed")]
    ConnectionClosed,
    /// The connection reached EOF in the middle of a frame (truncated input, not a clean end).
    #[error("connection closed in the middle of a frame ({buffered} bytes of it received)")]
    UnexpectedEof {
        /// Bytes of the incomplete frame that had arrived.
        buffered: usize,
    },
    /// A keep-alive ping stayed unanswered for `keepalive_timeout`: the peer or the path is dead.
    #[error("keep-alive ping unanswered for {0:?}")]
    KeepAliveTimeout(std::time::Duration),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

impl LayerError for YamuxError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The stack-wide kind of this error.
    fn kind(&self) -> ErrorKind {
        match self {
            YamuxError::UnknownVersion(_)
            | YamuxError::UnknownType(_)
            | YamuxError::WrongParity(_)
            | YamuxError::DuplicateStream(_)
            | YamuxError::WindowOverflow { .. } => ErrorKind::Protocol,
            YamuxError::FrameTooLarge { .. } | YamuxError::WindowExceeded { .. } => {
                ErrorKind::LimitExceeded
            }
            YamuxError::StreamReset(_)
            | YamuxError::WriteAfterClose(_)
            | YamuxError::UnknownStream(_)
            | YamuxError::GoingAway
            | YamuxError::ConnectionClosed
            | YamuxError::UnexpectedEof { .. } => ErrorKind::Closed,
            YamuxError::KeepAliveTimeout(_) => ErrorKind::Timeout,
            YamuxError::StreamIdsExhausted => ErrorKind::LimitExceeded,
            YamuxError::Io(_) => ErrorKind::Io,
            YamuxError::InvalidConfig(_) => ErrorKind::InvalidInput,
        }
    }
}

impl YamuxError {
    /// Whether the peer broke the protocol (we answer with GoAway(protocol error)).
    pub fn is_protocol_violation(&self) -> bool {
        matches!(self.kind(), ErrorKind::Protocol | ErrorKind::LimitExceeded)
            && !matches!(self, YamuxError::StreamIdsExhausted)
    }
}

impl From<std::io::Error> for YamuxError {
    fn from(e: std::io::Error) -> Self {
        YamuxError::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report, ChainError};

    #[test]
    fn converted_errors_say_their_cause_once() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = ChainError::from(YamuxError::from(reset));
        assert_eq!(e.layer().as_str(), "yamux");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(matches!(
            e.downcast_ref::<YamuxError>(),
            Some(YamuxError::Io(_))
        ));
        let text = report(&e);
        assert_eq!(text, "yamux: io: i/o error: peer reset");
        assert_eq!(repeated_segment(&text), None, "{text}");
        // Through an `io::Error` (as a stream returns it) and back: still once.
        let back = ChainError::from_io("multistream", YamuxError::StreamIdsExhausted.into_io());
        assert_eq!(back.layer().as_str(), "yamux");
        assert_eq!(back.kind(), ErrorKind::LimitExceeded);
        assert_eq!(repeated_segment(&report(&back)), None);
    }
}
