//! Identify's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::identity::PeerId;
use chainp2p_core::{ChainError, ErrorKind};

use crate::LAYER;

/// What went wrong in an identify exchange. Carried as the source of a [`ChainError`].
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    /// A message is longer than the limit.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Announced (or, for our own message, encoded) length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The peer sent more messages than the limit.
    #[error("more than {max} messages on one stream")]
    TooManyMessages {
        /// The limit.
        max: usize,
    },
    /// The uvarint length prefix is invalid (over-long or not minimal).
    #[error("bad length prefix: {0}")]
    BadLengthPrefix(unsigned_varint::decode::Error),
    /// The protobuf does not decode.
    #[error("malformed Identify protobuf: {0}")]
    Malformed(#[from] prost::DecodeError),
    /// The stream ended inside a message.
    #[error("stream ended inside a message ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the unfinished message.
        buffered: usize,
    },
    /// The stream ended without any message.
    #[error("stream ended without an Identify message")]
    NoMessage,
    /// The message has no `publicKey`.
    #[error("Identify message without publicKey")]
    MissingPublicKey,
    /// The `publicKey` does not decode.
    #[error("bad publicKey: {0}")]
    BadPublicKey(#[from] chainp2p_core::identity::DecodingError),
    /// The `publicKey` is not the one of the peer we are connected to.
    #[error("publicKey belongs to {got}, expected {expected}")]
    PeerMismatch {
        /// The authenticated peer (boxed: keeps the error small).
        expected: Box<PeerId>,
        /// The PeerId of the key sent.
        got: Box<PeerId>,
    },
    /// Our own message cannot be made small enough (e.g. a huge agent version).
    #[error("our own message of {len} bytes cannot be trimmed below {max}")]
    OwnMessageTooLarge {
        /// Encoded length after trimming all addresses and protocols.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The exchange did not finish in time.
    #[error("no complete exchange within {0:?}")]
    Timeout(Duration),
    /// The handler was asked to run a protocol id it does not serve.
    #[error("unknown protocol {0}")]
    UnknownProtocol(String),
    /// An I/O error inside the codec.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl IdentifyError {
    /// The [`ErrorKind`] this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            IdentifyError::MessageTooLarge { .. } | IdentifyError::TooManyMessages { .. } => {
                ErrorKind::LimitExceeded
            }
            IdentifyError::BadLengthPrefix(_)
            | IdentifyError::Malformed(_)
            | IdentifyError::NoMessage
            | IdentifyError::MissingPublicKey
            | IdentifyError::BadPublicKey(_) => ErrorKind::Protocol,
            IdentifyError::Truncated { .. } => ErrorKind::Closed,
            IdentifyError::PeerMismatch { .. } => ErrorKind::Authentication,
            IdentifyError::OwnMessageTooLarge { .. } => ErrorKind::InvalidInput,
            IdentifyError::Timeout(_) => ErrorKind::Timeout,
            IdentifyError::UnknownProtocol(_) => ErrorKind::Unsupported,
            IdentifyError::Io(_) => ErrorKind::Io,
        }
    }
}

impl From<IdentifyError> for ChainError {
    fn from(e: IdentifyError) -> Self {
        ChainError::with_source(LAYER, e.kind(), e)
    }
}

/// An I/O error seen by identify (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}
