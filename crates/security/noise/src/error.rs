//! The typed errors of the noise layer, and how they map onto [`chainp2p_core::ChainError`].

use std::time::Duration;

use chainp2p_core::identity::{DecodingError, PeerId};
use chainp2p_core::{ErrorKind, Layer, LayerError};

/// The layer name used in [`ChainError`](chainp2p_core::ChainError)s from this crate.
pub const LAYER: &str = "noise";

/// Everything that can go wrong in the noise layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NoiseError {
    /// The remote's identity signature over its static key does not verify.
    #[error("bad identity signature over the static noise key from {peer}")]
    BadSignature {
        /// The peer the (unverified) identity key claims (boxed: keeps the error small).
        peer: Box<PeerId>,
    },
    /// The remote authenticated as a different peer than the one we expected.
    #[error("peer id mismatch: expected {expected}, but the remote authenticated as {actual}")]
    PeerIdMismatch {
        /// The peer we dialed (boxed: keeps the error small).
        expected: Box<PeerId>,
        /// The peer that authenticated.
        actual: Box<PeerId>,
    },
    /// The remote's identity key cannot be decoded or is of an unsupported type (e.g. RSA).
    #[error("invalid or unsupported identity key: {0}")]
    InvalidKey(#[from] DecodingError),
    /// Our own identity key could not sign.
    #[error("signing with the local identity key failed: {0}")]
    Signing(String),
    /// The handshake payload is not a valid protobuf.
    #[error("cannot decode the handshake payload: {0}")]
    Decode(#[from] prost::DecodeError),
    /// A required payload field is missing.
    #[error("handshake payload lacks {0}")]
    MissingField(&'static str),
    /// The initiator's first message carried a payload (it must be empty).
    #[error("first handshake message carries a {len}-byte payload; it must be empty")]
    NonEmptyMsg1Payload {
        /// The payload length.
        len: usize,
    },
    /// The connection ended in the middle of a frame.
    #[error("connection closed mid-frame: have {have} of {need} bytes")]
    FrameTruncated {
        /// Bytes of the frame (header included) received.
        have: usize,
        /// Bytes the frame needs (header included).
        need: usize,
    },
    /// The connection ended cleanly before the handshake completed.
    #[error("connection closed during the handshake")]
    ClosedDuringHandshake,
    /// A frame or message is longer than allowed at this point.
    #[error("noise message of {len} bytes exceeds the limit of {max}")]
    Oversize {
        /// The announced or attempted length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The handshake did not complete within the configured time.
    #[error("handshake did not complete within {0:?}")]
    HandshakeTimeout(Duration),
    /// A message failed authentication (wrong key, tampered, or shorter than a tag).
    #[error("cannot decrypt a noise message (authentication tag mismatch)")]
    Decrypt,
    /// Any other failure of the noise state machine (e.g. a bad DH point, nonce exhaustion).
    #[error("noise protocol error: {0}")]
    Snow(String),
    /// The stream failed earlier; it stays failed.
    #[error("the noise stream failed earlier")]
    Failed,
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<snow::Error> for NoiseError {
    fn from(e: snow::Error) -> Self {
        match e {
            snow::Error::Decrypt => NoiseError::Decrypt,
            other => NoiseError::Snow(other.to_string()),
        }
    }
}

impl LayerError for NoiseError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The layer-independent kind of this error.
    fn kind(&self) -> ErrorKind {
        match self {
            NoiseError::BadSignature { .. } | NoiseError::PeerIdMismatch { .. } => {
                ErrorKind::Authentication
            }
            NoiseError::InvalidKey(_) => ErrorKind::Unsupported,
            NoiseError::Signing(_) => ErrorKind::InvalidInput,
            NoiseError::Decode(_)
            | NoiseError::MissingField(_)
            | NoiseError::NonEmptyMsg1Payload { .. }
            | NoiseError::Decrypt
            | NoiseError::Snow(_) => ErrorKind::Protocol,
            NoiseError::FrameTruncated { .. } | NoiseError::ClosedDuringHandshake => {
                ErrorKind::Closed
            }
            NoiseError::Oversize { .. } => ErrorKind::LimitExceeded,
            NoiseError::HandshakeTimeout(_) => ErrorKind::Timeout,
            NoiseError::Failed | NoiseError::Io(_) => ErrorKind::Io,
        }
    }

    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            NoiseError::Io(e) => Ok(e),
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
        let e = ChainError::from(NoiseError::from(bad_key));
        assert_eq!(e.layer().as_str(), "noise");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(matches!(
            e.downcast_ref::<NoiseError>(),
            Some(NoiseError::InvalidKey(_))
        ));
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
        // A plain I/O error is this layer's, said once; a lower layer's passes through.
        chainp2p_framing::testing::assert_io_errors_said_once("noise", NoiseError::from);
    }
}
