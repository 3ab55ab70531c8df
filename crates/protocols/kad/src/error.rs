//! The wire layer's typed errors ([`KadError`]) and their mapping onto [`chainp2p_core::ErrorKind`]
//! under the layer name [`LAYER`] (`"kad"`).

use std::time::Duration;

use chainp2p_core::identity::PeerId;
use chainp2p_core::{ErrorKind, Layer, LayerError};

use crate::proto::MessageType;

/// The layer name in [`ChainError`](chainp2p_core::ChainError)s of this crate.
pub const LAYER: &str = "kad";

/// What went wrong on a Kademlia stream. Carried as the source of a
/// [`ChainError`](chainp2p_core::ChainError) (through [`LayerError`]; an [`KadError::Io`] that
/// carries a lower layer's error, e.g. a yamux reset, passes that error through unchanged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KadError {
    /// A message is longer than the limit; refused from its length prefix, before its body is
    /// read or any buffer is allocated for it.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Announced (or, for our own message, encoded) length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The uvarint length prefix is invalid (over-long, overflowing or not minimal).
    #[error("invalid uvarint length prefix: {0}")]
    InvalidVarint(unsigned_varint::decode::Error),
    /// The protobuf does not decode (prost).
    #[error("malformed protobuf: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The protobuf does not decode (our bounded field walker).
    #[error("malformed protobuf: {0}")]
    Malformed(&'static str),
    /// The message's `type` is none of the six known ones.
    #[error("unknown message type {0}")]
    UnknownMessageType(i32),
    /// A PUT_VALUE whose record key differs from the message key, or a response record under
    /// another key than the one asked for.
    #[error("record under the wrong key")]
    WrongKey,
    /// A PUT_VALUE (request or response) without a record.
    #[error("PUT_VALUE without a record")]
    MissingRecord,
    /// A request that needs a key came with an empty one.
    #[error("{0} with an empty key")]
    EmptyKey(MessageType),
    /// A key longer than the limit.
    #[error("key of {len} bytes exceeds the limit of {max}")]
    KeyTooLarge {
        /// The key's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An ADD_PROVIDER none of whose provider peers decodes.
    #[error("ADD_PROVIDER without a valid provider peer")]
    NoValidProvider,
    /// A response of another type than the request, or a response to a request that has none.
    #[error("unexpected response: sent {sent}, got {got}")]
    UnexpectedResponse {
        /// The request's type.
        sent: MessageType,
        /// The response's type.
        got: MessageType,
    },
    /// The exchange (or the wait for the next request) did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A peer opened more concurrent inbound streams than allowed; the new one is refused.
    #[error("peer {peer:?} has {max} inbound kad streams open already")]
    TooManyInboundRequests {
        /// The peer, when authenticated (boxed: keeps the error small).
        peer: Option<Box<PeerId>>,
        /// The limit.
        max: usize,
    },
    /// An inbound stream on a connection whose remote peer is not authenticated.
    #[error("inbound kad stream from an unauthenticated peer")]
    UnauthenticatedPeer,
    /// The stream ended inside a message.
    #[error("stream ended inside a message ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes of the message received.
        got: usize,
        /// Bytes announced.
        expected: usize,
    },
    /// The stream ended before the response came.
    #[error("stream closed before the response")]
    Closed,
    /// Our own message cannot be encoded within the limit.
    #[error("our own message of {len} bytes exceeds the limit of {max}")]
    OwnMessageTooLarge {
        /// Encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The handler was asked to run a protocol id it does not serve.
    #[error("unknown protocol {0}")]
    UnknownProtocol(String),
    /// The configuration is inconsistent.
    #[error("invalid kad config: {0}")]
    InvalidConfig(String),
    /// The server turned the request down (e.g. a PUT_VALUE its validator or store refused, or
    /// a worse record than the one it holds); the stream is reset, as go and rust-libp2p do.
    #[error("request refused: {0}")]
    Refused(String),
    /// An I/O error of the stream.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl LayerError for KadError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
        match self {
            KadError::MessageTooLarge { .. }
            | KadError::KeyTooLarge { .. }
            | KadError::TooManyInboundRequests { .. } => ErrorKind::LimitExceeded,
            KadError::InvalidVarint(_)
            | KadError::Decode(_)
            | KadError::Malformed(_)
            | KadError::UnknownMessageType(_)
            | KadError::WrongKey
            | KadError::MissingRecord
            | KadError::EmptyKey(_)
            | KadError::NoValidProvider
            | KadError::UnexpectedResponse { .. } => ErrorKind::Protocol,
            KadError::Timeout(_) => ErrorKind::Timeout,
            KadError::UnauthenticatedPeer => ErrorKind::Authentication,
            KadError::Truncated { .. } | KadError::Closed => ErrorKind::Closed,
            KadError::OwnMessageTooLarge { .. } | KadError::InvalidConfig(_) => {
                ErrorKind::InvalidInput
            }
            KadError::UnknownProtocol(_) => ErrorKind::Unsupported,
            KadError::Refused(_) => ErrorKind::Protocol,
            KadError::Io(_) => ErrorKind::Io,
        }
    }

    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            KadError::Io(e) => Ok(e),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::ChainError;

    #[test]
    fn chain_error_names_layer_kind_and_cause() {
        let e = ChainError::from(KadError::MessageTooLarge { len: 9, max: 4 });
        assert_eq!(e.layer().as_str(), "kad");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert!(matches!(
            e.downcast_ref::<KadError>(),
            Some(KadError::MessageTooLarge { len: 9, max: 4 })
        ));
        assert_eq!(
            ChainError::from(KadError::WrongKey).to_string(),
            "kad: protocol: record under the wrong key"
        );
    }

    #[test]
    fn io_errors_keep_the_lower_layer() {
        let low = ChainError::new("yamux", ErrorKind::Closed, "stream reset").into_io();
        let e = ChainError::from(KadError::Io(low));
        assert_eq!(e.layer().as_str(), "yamux");
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(
            ChainError::from(KadError::Io(eof)).kind(),
            ErrorKind::Closed
        );
    }

    #[test]
    fn converted_errors_say_their_cause_once() {
        use chainp2p_core::{repeated_segment, report};
        use prost::Message as _;
        // A variant that shows and wraps a cause.
        let bad = crate::proto::Record::decode(&[0xff_u8][..]).unwrap_err();
        let e = ChainError::from(KadError::from(bad));
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(matches!(
            e.downcast_ref::<KadError>(),
            Some(KadError::Decode(_))
        ));
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
        // An I/O error carrying a lower layer's error: that error, once.
        let low = ChainError::new("yamux", ErrorKind::Closed, "stream 3 was reset").into_io();
        let text = report(&ChainError::from(KadError::Io(low)));
        assert_eq!(text, "yamux: closed: stream 3 was reset");
    }
}
