//! The typed errors of the secio layer, and how they map onto [`chainp2p_core::ChainError`].

use std::time::Duration;

use chainp2p_core::identity::{DecodingError, PeerId};
use chainp2p_core::{ErrorKind, Layer, LayerError};

/// The layer name used in [`ChainError`](chainp2p_core::ChainError)s from this crate.
pub const LAYER: &str = "secio";

/// Which of the three negotiated algorithm lists an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgorithmList {
    /// The key exchanges (`P-256,P-384,P-521`).
    Exchanges,
    /// The ciphers (`AES-256,AES-128`).
    Ciphers,
    /// The hashes (`SHA256,SHA512`).
    Hashes,
}

impl std::fmt::Display for AlgorithmList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AlgorithmList::Exchanges => "exchanges",
            AlgorithmList::Ciphers => "ciphers",
            AlgorithmList::Hashes => "hashes",
        })
    }
}

/// Everything that can go wrong in the secio layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecioError {
    /// The remote's signature over the proposals and its ephemeral key does not verify.
    #[error("bad exchange signature from {peer}")]
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
    /// The two proposals share no algorithm in one of the lists.
    #[error("no common algorithm in {which}: ours {ours:?}, theirs {theirs:?}")]
    NoCommonAlgorithm {
        /// The list without a common entry.
        which: AlgorithmList,
        /// Our proposed list.
        ours: String,
        /// The remote's proposed list.
        theirs: String,
    },
    /// The remote's ephemeral key is not an uncompressed point on the negotiated curve.
    #[error("invalid ephemeral public key for {curve} ({len} bytes)")]
    InvalidCurvePoint {
        /// The negotiated curve.
        curve: &'static str,
        /// Length of the received key.
        len: usize,
    },
    /// A frame's MAC does not match (wrong keys or tampered frame).
    #[error("frame MAC mismatch")]
    MacFailure,
    /// A frame is shorter than its MAC.
    #[error("frame of {len} bytes is shorter than the {mac}-byte MAC")]
    ShortFrame {
        /// The frame length.
        len: usize,
        /// The MAC length.
        mac: usize,
    },
    /// The first encrypted frame is not exactly our nonce.
    #[error("nonce check failed: the first encrypted frame ({len} bytes) is not our nonce")]
    WrongNonce {
        /// Length of the received first frame.
        len: usize,
    },
    /// The remote's first frame verified only with the stripped shared secret, but our
    /// fixed-width nonce echo had already gone out after the ambiguous-width wait: the remote
    /// (go- or py-libp2p style) cannot read it.
    #[error(
        "the peer strips leading zero bytes of the ECDH secret but answered after our \
         fixed-width nonce echo had gone out (raise SecioConfig::with_ambiguous_width_wait)"
    )]
    SecretWidthMismatch,
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
    /// A frame is longer than allowed.
    #[error("secio frame of {len} bytes exceeds the limit of {max}")]
    Oversize {
        /// The announced or attempted length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The remote's RSA identity key is larger than we verify (go-libp2p CVE-2023-39533).
    #[error("RSA identity key of {bits} bits exceeds the limit of {max} bits")]
    RsaKeyTooLarge {
        /// The modulus size.
        bits: usize,
        /// The limit.
        max: usize,
    },
    /// Both proposals hash to the same order: we are talking to ourselves.
    #[error("talking to self (identical key and nonce on both sides)")]
    TalkingToSelf,
    /// The handshake did not complete within the configured time.
    #[error("handshake did not complete within {0:?}")]
    HandshakeTimeout(Duration),
    /// A handshake message is not a valid protobuf.
    #[error("cannot decode a handshake message: {0}")]
    Decode(#[from] prost::DecodeError),
    /// A required handshake field is missing or malformed.
    #[error("handshake message field {0} is missing or malformed")]
    BadField(&'static str),
    /// The remote's identity key cannot be decoded or is of an unsupported type.
    #[error("invalid or unsupported identity key: {0}")]
    InvalidKey(#[from] DecodingError),
    /// Our own identity key could not sign.
    #[error("signing with the local identity key failed: {0}")]
    Signing(String),
    /// The stream failed earlier; it stays failed.
    #[error("the secio stream failed earlier")]
    Failed,
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl LayerError for SecioError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The layer-independent kind of this error.
    fn kind(&self) -> ErrorKind {
        match self {
            SecioError::BadSignature { .. } | SecioError::PeerIdMismatch { .. } => {
                ErrorKind::Authentication
            }
            SecioError::NoCommonAlgorithm { .. } => ErrorKind::NegotiationFailed,
            SecioError::InvalidCurvePoint { .. }
            | SecioError::MacFailure
            | SecioError::ShortFrame { .. }
            | SecioError::WrongNonce { .. }
            | SecioError::SecretWidthMismatch
            | SecioError::TalkingToSelf
            | SecioError::Decode(_)
            | SecioError::BadField(_) => ErrorKind::Protocol,
            SecioError::FrameTruncated { .. } | SecioError::ClosedDuringHandshake => {
                ErrorKind::Closed
            }
            SecioError::Oversize { .. } | SecioError::RsaKeyTooLarge { .. } => {
                ErrorKind::LimitExceeded
            }
            SecioError::HandshakeTimeout(_) => ErrorKind::Timeout,
            SecioError::InvalidKey(_) => ErrorKind::Unsupported,
            SecioError::Signing(_) => ErrorKind::InvalidInput,
            SecioError::Failed | SecioError::Io(_) => ErrorKind::Io,
        }
    }

    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            SecioError::Io(e) => Ok(e),
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
        let e = ChainError::from(SecioError::from(bad_key));
        assert_eq!(e.layer().as_str(), "secio");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(matches!(
            e.downcast_ref::<SecioError>(),
            Some(SecioError::InvalidKey(_))
        ));
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
        // A plain I/O error is this layer's, said once; a lower layer's passes through.
        chainp2p_framing::testing::assert_io_errors_said_once("secio", SecioError::from);
    }
}
