//! The typed errors of multistream-select and their mapping onto
//! [`ChainError`](chainp2p_core::ChainError) (through [`LayerError`]).

use chainp2p_core::{ErrorKind, Layer, LayerError};

/// The layer name used in every [`ChainError`](chainp2p_core::ChainError) of this crate.
pub const LAYER: &str = "multistream";

/// Everything that can go wrong while negotiating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultistreamError {
    /// A length prefix announced more than the limit (checked before anything is buffered).
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLong {
        /// The announced length (at least; the varint may not have been read to its end).
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A length prefix that is not a minimal unsigned varint, or that overflows.
    #[error("invalid length prefix: {0}")]
    InvalidVarint(&'static str),
    /// A message whose last byte is not `\n` (or an empty message).
    #[error("message did not have a trailing newline")]
    MissingNewline,
    /// A message whose text is not UTF-8.
    #[error("message is not valid UTF-8")]
    NotUtf8,
    /// The stream ended in the middle of a message.
    #[error("stream ended in the middle of a message ({buffered} bytes buffered)")]
    EofMidMessage {
        /// How many bytes of the partial message had arrived.
        buffered: usize,
    },
    /// The stream ended between messages, before the negotiation completed.
    #[error("stream ended before the negotiation completed")]
    Eof,
    /// More proposals (or `ls` requests) than [`crate::MultistreamConfig::max_attempts`].
    #[error("more than {max} negotiation attempts")]
    TooManyAttempts {
        /// The limit.
        max: usize,
    },
    /// The peer's first message was not `/multistream/1.0.0`.
    #[error("expected the header /multistream/1.0.0, got {got:?}")]
    WrongHeader {
        /// What the peer sent instead (lossy text, at most 64 bytes).
        got: String,
    },
    /// A well-formed message that is not allowed at this point.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(String),
    /// No protocol in common: every proposal was rejected, or the dialer gave up after our `na`.
    #[error("no protocol in common")]
    NegotiationFailed,
    /// The negotiation did not complete in time.
    #[error("negotiation did not complete within {0:?}")]
    Timeout(std::time::Duration),
    /// An `ls` response with more protocols than we accept.
    #[error("ls response lists more than {max} protocols")]
    LsResponseTooLarge {
        /// The limit.
        max: usize,
    },
    /// A malformed `ls` response.
    #[error("malformed ls response")]
    InvalidLsResponse,
    /// Local input we cannot send (no protocols, an id that is empty, has `\n`, or is too long).
    #[error("invalid local input: {0}")]
    InvalidInput(String),
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl LayerError for MultistreamError {
    fn layer(&self) -> Layer {
        Layer::named(LAYER)
    }

    /// The [`ErrorKind`] this error maps to.
    fn kind(&self) -> ErrorKind {
        match self {
            MultistreamError::MessageTooLong { .. }
            | MultistreamError::TooManyAttempts { .. }
            | MultistreamError::LsResponseTooLarge { .. } => ErrorKind::LimitExceeded,
            MultistreamError::InvalidVarint(_)
            | MultistreamError::MissingNewline
            | MultistreamError::NotUtf8
            | MultistreamError::WrongHeader { .. }
            | MultistreamError::UnexpectedMessage(_)
            | MultistreamError::InvalidLsResponse => ErrorKind::Protocol,
            MultistreamError::EofMidMessage { .. } | MultistreamError::Eof => ErrorKind::Closed,
            MultistreamError::NegotiationFailed => ErrorKind::NegotiationFailed,
            MultistreamError::Timeout(_) => ErrorKind::Timeout,
            MultistreamError::InvalidInput(_) => ErrorKind::InvalidInput,
            MultistreamError::Io(_) => ErrorKind::Io,
        }
    }

    /// An I/O error that carries a lower layer's [`ChainError`](chainp2p_core::ChainError)
    /// becomes that error, so the failing layer stays named.
    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        match self {
            MultistreamError::Io(e) => Ok(e),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::ChainError;

    #[test]
    fn maps_to_chain_error_with_layer_and_kind() {
        let e: ChainError = MultistreamError::MessageTooLong {
            len: 70000,
            max: 16383,
        }
        .into();
        assert_eq!(e.layer().as_str(), "multistream");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert_eq!(
            e.to_string(),
            "multistream: limit-exceeded: message of 70000 bytes exceeds the limit of 16383"
        );
        assert!(matches!(
            e.downcast_ref::<MultistreamError>(),
            Some(MultistreamError::MessageTooLong { len: 70000, .. })
        ));
        let f: ChainError = MultistreamError::NegotiationFailed.into();
        assert_eq!(f.kind(), ErrorKind::NegotiationFailed);
    }

    #[test]
    fn io_keeps_lower_layer() {
        let low = ChainError::new("noise", ErrorKind::Authentication, "bad").into_io();
        let e: ChainError = MultistreamError::Io(low).into();
        assert_eq!(e.layer().as_str(), "noise");
    }

    #[test]
    fn converted_errors_say_their_cause_once() {
        use chainp2p_core::{repeated_segment, report};
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let e = ChainError::from(MultistreamError::from(reset));
        assert_eq!(report(&e), "multistream: closed: peer reset");
        let e = ChainError::from(MultistreamError::WrongHeader { got: "x".into() });
        let text = report(&e);
        assert_eq!(repeated_segment(&text), None, "{text}");
    }
}
