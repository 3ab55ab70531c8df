//! The typed errors of the plaintext layer, and how they map onto [`chainp2p_core::ChainError`].

use std::time::Duration;

use chainp2p_core::identity::{DecodingError, ParseError, PeerId};
use chainp2p_core::{ErrorKind, Layer, LayerError};

/// The layer name used in [`ChainError`](chainp2p_core::ChainError)s from this crate.
pub const LAYER: &str = "plaintext";

/// Everything that can go wrong in the plaintext handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlaintextError {
    /// The `Exchange` message is not a valid protobuf.
    #[error("cannot decode the Exchange message: {0}")]
    Decode(#[from] prost::DecodeError),
    /// A required `Exchange` field is absent.
    #[error("Exchange message lacks {0}")]
    MissingField(&'static str),
    /// The remote's public key cannot be decoded or is of an unsupported type.
    #[error("invalid or unsupported public key: {0}")]
    InvalidKey(#[from] DecodingError),
    /// The remote's `id` field is not a PeerId.
    #[error("invalid peer id: {0}")]
    InvalidPeerId(#[from] ParseError),
    /// The `id` the remote sent is not the PeerId of the public key it sent.
    #[error("the remote claims peer id {claimed} but its public key is that of {derived}")]
    IdKeyMismatch {
        /// The `id` field (boxed: keeps the error small).
        claimed: Box<PeerId>,
        /// The PeerId derived from the `pubkey` field.
        derived: Box<PeerId>,
    },
    /// The remote is a different peer than the one we dialed.
    #[error("peer id mismatch: expected {expected}, but the remote is {actual}")]
    PeerIdMismatch {
        /// The peer we dialed.
        expected: Box<PeerId>,
        /// The peer that answered.
        actual: Box<PeerId>,
    },
    /// The announced message length is above the limit.
    #[error("Exchange message of {len} bytes exceeds the limit of {max}")]
    Oversize {
        /// The announced length (saturated at `usize::MAX` for absurd varints).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The length prefix is not a valid unsigned varint (over-long or not minimal).
    #[error("malformed length prefix")]
    BadLengthPrefix,
    /// The connection ended in the middle of the message.
    #[error("connection closed mid-message: have {have} of {need} bytes")]
    Truncated {
        /// Bytes received (prefix included).
        have: usize,
        /// Bytes the message needs (prefix included), as far as known.
        need: usize,
    },
    /// The connection ended before the remote sent anything.
    #[error("connection closed before the remote's Exchange message")]
    ClosedDuringHandshake,
    /// The handshake did not complete in time.
    #[error("handshake did not complete within {0:?}")]
    HandshakeTimeout(Duration),
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl LayerError for PlaintextError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The layer-independent kind of this error.
    fn kind(&self) -> ErrorKind {
        match self {
            PlaintextError::IdKeyMismatch { .. } | PlaintextError::PeerIdMismatch { .. } => {
                ErrorKind::Authentication
            }
            PlaintextError::InvalidKey(_) => ErrorKind::Unsupported,
            PlaintextError::Decode(_)
            | PlaintextError::MissingField(_)
            | PlaintextError::InvalidPeerId(_)
            | PlaintextError::BadLengthPrefix => ErrorKind::Protocol,
            PlaintextError::Oversize { .. } => ErrorKind::LimitExceeded,
            PlaintextError::Truncated { .. } | PlaintextError::ClosedDuringHandshake => {
                ErrorKind::Closed
            }
            PlaintextError::HandshakeTimeout(_) => ErrorKind::Timeout,
            PlaintextError::Io(_) => ErrorKind::Io,
        }
    }

    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            PlaintextError::Io(e) => Ok(e),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::{repeated_segment, report, ChainError};

    #[test]
    fn converted_errors_say_their_cause_once() {
        // A variant that shows and wraps a cause.
        let bad_key =
            chainp2p_core::identity::PublicKey::try_decode_protobuf(b"not a key").unwrap_err();
        let e = ChainError::from(PlaintextError::from(bad_key));
        assert_eq!(e.layer().as_str(), "plaintext");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(matches!(
            e.downcast_ref::<PlaintextError>(),
            Some(PlaintextError::InvalidKey(_))
        ));
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
        // A plain I/O error is this layer's, said once; a lower layer's passes through.
        chainp2p_framing::testing::assert_io_errors_said_once("plaintext", PlaintextError::from);
    }
}
