//! The one error type of the stack: which layer failed, what kind of failure, and the cause.

use std::borrow::Cow;
use std::fmt;

/// The layer an error comes from: `"tcp"`, `"multistream"`, `"noise"`, `"yamux"`, `"ping"`, …
///
/// A name rather than a closed enum, so a new layer crate needs no change here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Layer(Cow<'static, str>);

impl Layer {
    /// A layer named by a static string.
    pub const fn named(name: &'static str) -> Self {
        Layer(Cow::Borrowed(name))
    }

    /// A layer named at run time (e.g. a user's protocol id).
    pub fn owned(name: impl Into<String>) -> Self {
        Layer(Cow::Owned(name.into()))
    }

    /// The layer's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&'static str> for Layer {
    fn from(s: &'static str) -> Self {
        Layer::named(s)
    }
}

/// What kind of failure happened, independent of the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The underlying I/O failed (reset, broken pipe, refused).
    Io,
    /// A deadline passed (dial, handshake, negotiation, request).
    Timeout,
    /// The peer sent bytes that break the protocol (bad framing, bad varint, unknown type).
    Protocol,
    /// The peer crossed one of our limits (message length, frame size, window, attempts).
    LimitExceeded,
    /// The peer could not be authenticated (bad signature, unexpected PeerId).
    Authentication,
    /// No protocol both sides support.
    NegotiationFailed,
    /// The connection or stream ended before the exchange completed.
    Closed,
    /// Something we do not support (an address, a key type, a protocol).
    Unsupported,
    /// Local input was invalid (configuration, command line, address).
    InvalidInput,
}

impl ErrorKind {
    /// Lower-case, hyphenated name, e.g. `limit-exceeded`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::LimitExceeded => "limit-exceeded",
            ErrorKind::Authentication => "authentication",
            ErrorKind::NegotiationFailed => "negotiation-failed",
            ErrorKind::Closed => "closed",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid-input",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type SharedError = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error of some layer of the chain.
///
/// Displays as `layer: kind: message`, e.g. `multistream: limit-exceeded: message of 70000
/// bytes exceeds the limit of 16383`. The layer crate's own typed error, when there is one, is
/// kept and can be recovered with [`ChainError::downcast_ref`].
///
/// Every cause is said once: the message already is the typed cause's display, so
/// [`source`](std::error::Error::source) skips the cause and returns *its* source (a reporter
/// that walks the chain, as `anyhow`'s `{:#}` does, prints each segment once).
///
/// Cheap to clone (the typed cause is shared), so events and shared dials can carry it.
#[derive(Debug, Clone)]
pub struct ChainError {
    layer: Layer,
    kind: ErrorKind,
    message: String,
    source: Option<SharedError>,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.layer, self.kind, self.message)
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The cause's own display is `message`; what lies below it is new.
        let cause: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        cause.source()
    }
}

/// The display of `err` and of every error below it, joined by `": "` the way `anyhow`'s
/// `{:#}` joins them: what a user reads.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

/// The first segment (split at `": "`) that `message` says twice in a row or twice at all,
/// if any: a message that repeats itself says a cause more than once.
pub fn repeated_segment(message: &str) -> Option<&str> {
    let segments: Vec<&str> = message.split(": ").map(str::trim).collect();
    segments
        .iter()
        .enumerate()
        .find(|(i, s)| !s.is_empty() && segments.iter().skip(i + 1).any(|t| t == *s))
        .map(|(_, s)| *s)
}

impl ChainError {
    /// An error with a message and no typed cause.
    pub fn new(layer: impl Into<Layer>, kind: ErrorKind, message: impl Into<String>) -> Self {
        ChainError {
            layer: layer.into(),
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error whose message is the display of a typed cause, kept as the source.
    pub fn with_source<E>(layer: impl Into<Layer>, kind: ErrorKind, cause: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        ChainError {
            layer: layer.into(),
            kind,
            message: cause.to_string(),
            source: Some(std::sync::Arc::new(cause)),
        }
    }

    /// Wraps an I/O error seen by `layer`. If the I/O error carries a [`ChainError`] of a
    /// lower layer (as our streams' errors do), that error is returned unchanged, so the
    /// layer that really failed stays named. Timeouts and EOF map to their kinds.
    pub fn from_io(layer: impl Into<Layer>, err: std::io::Error) -> Self {
        if err.get_ref().is_some_and(|inner| inner.is::<ChainError>()) {
            if let Some(inner) = err.into_inner() {
                if let Ok(chain) = inner.downcast::<ChainError>() {
                    return *chain;
                }
            }
            return ChainError::new(layer, ErrorKind::Io, "i/o error");
        }
        let kind = match err.kind() {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => ErrorKind::Closed,
            _ => ErrorKind::Io,
        };
        ChainError::with_source(layer, kind, err)
    }

    /// A timeout of `layer` while doing `what`.
    pub fn timeout(layer: impl Into<Layer>, what: impl fmt::Display) -> Self {
        ChainError::new(layer, ErrorKind::Timeout, format!("timed out: {what}"))
    }

    /// Converts into an `std::io::Error` that carries this error, for `AsyncRead`/`AsyncWrite`
    /// implementations; [`ChainError::from_io`] recovers it.
    pub fn into_io(self) -> std::io::Error {
        let kind = match self.kind {
            ErrorKind::Timeout => std::io::ErrorKind::TimedOut,
            ErrorKind::Closed => std::io::ErrorKind::ConnectionReset,
            ErrorKind::Protocol | ErrorKind::LimitExceeded => std::io::ErrorKind::InvalidData,
            ErrorKind::Unsupported => std::io::ErrorKind::Unsupported,
            ErrorKind::InvalidInput => std::io::ErrorKind::InvalidInput,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, self)
    }

    /// The failing layer.
    pub fn layer(&self) -> &Layer {
        &self.layer
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable cause, without layer and kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The layer crate's typed error, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.source.as_ref().and_then(|s| s.downcast_ref::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("frame of {0} bytes is too large")]
    struct TooLarge(usize);

    #[test]
    fn display_names_layer_kind_and_cause() {
        let e = ChainError::with_source("yamux", ErrorKind::LimitExceeded, TooLarge(9));
        assert_eq!(
            e.to_string(),
            "yamux: limit-exceeded: frame of 9 bytes is too large"
        );
        assert_eq!(e.layer().as_str(), "yamux");
        assert!(matches!(e.downcast_ref::<TooLarge>(), Some(TooLarge(9))));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused by /ip4/127.0.0.1/tcp/4101")]
    struct Refused(#[source] std::io::Error);

    #[test]
    fn a_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let io_text = io.to_string();
        let e = ChainError::with_source("tcp", ErrorKind::Io, Refused(io));
        let text = report(&e);
        assert_eq!(
            text,
            format!("tcp: io: connection refused by /ip4/127.0.0.1/tcp/4101: {io_text}")
        );
        assert_eq!(repeated_segment(&text), None, "{text}");
        // Wrapped in an I/O error and back, then reported: still once.
        let back = ChainError::from_io("multistream", e.into_io());
        assert_eq!(repeated_segment(&report(&back)), None);
        assert!(back.downcast_ref::<Refused>().is_some());
        // The checker itself finds a repetition.
        assert_eq!(repeated_segment("tcp: io: x by y: x by y"), Some("x by y"));
    }

    #[test]
    fn io_round_trip_keeps_the_lower_layer() {
        let low = ChainError::new("noise", ErrorKind::Authentication, "bad signature");
        let io = low.into_io();
        let back = ChainError::from_io("multistream", io);
        assert_eq!(back.layer().as_str(), "noise");
        assert_eq!(back.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn plain_io_errors_map_to_kinds() {
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(ChainError::from_io("tcp", eof).kind(), ErrorKind::Closed);
        let t = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(ChainError::from_io("tcp", t).kind(), ErrorKind::Timeout);
    }
}
