//! The crate's typed error, and its mapping onto the stack's [`ChainError`].

use chainp2p_core::{ChainError, ErrorKind};

use crate::session::StreamId;

/// Layer name used in every [`ChainError`] this crate returns.
pub const LAYER: &str = "mplex";

/// Everything that can go wrong in an mplex session or on one of its streams.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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

impl MplexError {
    /// The stack-wide kind of this error.
    pub fn kind(&self) -> ErrorKind {
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

    /// Wraps into the stack's error, layer `"mplex"`, keeping `self` as the source.
    pub fn into_chain(self) -> ChainError {
        let kind = self.kind();
        ChainError::with_source(LAYER, kind, self)
    }

    /// Wraps into an `std::io::Error` carrying the [`ChainError`], for `AsyncRead`/`AsyncWrite`.
    pub fn into_io(self) -> std::io::Error {
        self.into_chain().into_io()
    }
}

impl From<std::io::Error> for MplexError {
    fn from(e: std::io::Error) -> Self {
        MplexError::Io(e.to_string())
    }
}
