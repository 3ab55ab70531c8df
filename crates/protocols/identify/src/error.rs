//! Identify's typed errors and their mapping onto [`chainp2p_core::ErrorKind`].

use std::time::Duration;

use chainp2p_core::identity::PeerId;
use chainp2p_core::{ChainError, ErrorKind, Layer, LayerError};

use crate::LAYER;

/// What went wrong in an identify exchange. Carried as the source of a [`ChainError`] (through
/// [`LayerError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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

impl LayerError for IdentifyError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
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

    /// An I/O error becomes the [`ChainError`] the stream's own I/O errors become
    /// ([`ChainError::from_io`]): a lower layer's error stays named.
    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            IdentifyError::Io(e) => Ok(e),
            other => Err(other),
        }
    }
}

/// An I/O error seen by identify (a lower layer's error stays named).
pub(crate) fn io_err(e: std::io::Error) -> ChainError {
    ChainError::from_io(LAYER, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report};

    #[test]
    fn converted_errors_say_their_cause_once() {
        // A variant that shows and wraps a cause.
        let bad_key =
            chainp2p_core::identity::PublicKey::try_decode_protobuf(b"not a key").unwrap_err();
        let e = ChainError::from(IdentifyError::from(bad_key));
        assert_eq!(e.layer().as_str(), "identify");
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(matches!(
            e.downcast_ref::<IdentifyError>(),
            Some(IdentifyError::BadPublicKey(_))
        ));
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
        // The codec's `Io` variant is the same as `io_err`.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = ChainError::from(IdentifyError::from(reset));
        assert_eq!(report(&e), "identify: closed: peer reset");
        // An I/O error of the stream: this layer's, its kind mapped, said once.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        assert_eq!(report(&io_err(reset)), "identify: closed: peer reset");
        let low = ChainError::new("yamux", ErrorKind::Closed, "stream 3 was reset").into_io();
        assert_eq!(report(&io_err(low)), "yamux: closed: stream 3 was reset");
    }
}
