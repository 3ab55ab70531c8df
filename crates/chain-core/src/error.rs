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
///
/// Non-exhaustive: new kinds may be added, so a `match` needs a `_ =>` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
/// [`source`](std::error::Error::source) skips the cause and returns *its* source, and skips
/// that too while the message already ends with its display (a variant displayed as
/// `"…: {0}"` whose `{0}` is also its source). A reporter that walks the chain, as `anyhow`'s
/// `{:#}` does, prints each segment once.
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
        // The cause's own display is `message`; what lies below it is new, unless the cause's
        // display already ends with it (a `"…: {0}"` variant whose `{0}` is also its source).
        let cause: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        let mut next = cause.source();
        while let Some(below) = next {
            if !says_at_end(&self.message, &below.to_string()) {
                break;
            }
            next = below.source();
        }
        next
    }
}

/// Whether `message` is `text` or ends with the segment `": text"`.
fn says_at_end(message: &str, text: &str) -> bool {
    match message.strip_suffix(text) {
        Some(head) => head.is_empty() || head.ends_with(": "),
        None => false,
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

/// A layer crate's typed error: the one way it becomes a [`ChainError`].
///
/// A layer crate implements this for its error enum (naming the layer and mapping each variant
/// to an [`ErrorKind`]); `?`, `.into()` and `ChainError::from` then convert through the blanket
/// `From<E: LayerError> for ChainError`, which keeps the typed error as the cause (recoverable
/// with [`ChainError::downcast_ref`]) and says it once.
///
/// ```
/// use chainp2p_core::{ChainError, ErrorKind, Layer, LayerError};
///
/// #[derive(Debug, thiserror::Error)]
/// enum DemoError {
///     #[error("frame too large")]
///     TooLarge,
///     #[error("i/o error: {0}")]
///     Io(#[from] std::io::Error),
/// }
///
/// impl LayerError for DemoError {
///     fn layer(&self) -> Layer {
///         Layer::named("demo")
///     }
///     fn kind(&self) -> ErrorKind {
///         match self {
///             DemoError::TooLarge => ErrorKind::LimitExceeded,
///             DemoError::Io(_) => ErrorKind::Io,
///         }
///     }
///     fn into_io_cause(self) -> Result<std::io::Error, Self> {
///         match self {
///             DemoError::Io(e) => Ok(e),
///             other => Err(other),
///         }
///     }
/// }
///
/// let e = ChainError::from(DemoError::TooLarge);
/// assert_eq!(e.to_string(), "demo: limit-exceeded: frame too large");
/// ```
pub trait LayerError: std::error::Error + Send + Sync + Sized + 'static {
    /// The layer name (`"yamux"`, `"noise"`, …).
    fn layer(&self) -> Layer;

    /// The layer-independent kind of this error.
    fn kind(&self) -> ErrorKind;

    /// The I/O error of the stream below, if this error is only that (an `Io` variant), else
    /// `Err(self)`. The default (no such variant) is `Err(self)`.
    ///
    /// An I/O error returned here becomes a [`ChainError`] through [`ChainError::from_io`]: if
    /// it carries a lower layer's [`ChainError`] that error passes through unchanged (the layer
    /// that really failed stays named), and timeouts and EOF map to their kinds.
    fn into_io_cause(self) -> Result<std::io::Error, Self> {
        Err(self)
    }

    /// Into a [`ChainError`] of [`layer`](LayerError::layer) and [`kind`](LayerError::kind)
    /// with `self` as the typed cause; an [`into_io_cause`](LayerError::into_io_cause) goes
    /// through [`ChainError::from_io`] instead. There should be no need to override this.
    fn into_chain_error(self) -> ChainError {
        let layer = self.layer();
        match self.into_io_cause() {
            Ok(io) => ChainError::from_io(layer, io),
            Err(typed) => {
                let kind = typed.kind();
                ChainError::with_source(layer, kind, typed)
            }
        }
    }

    /// Into an `std::io::Error`, for `AsyncRead`/`AsyncWrite` implementations: an
    /// [`into_io_cause`](LayerError::into_io_cause) is returned as it is, anything else carries
    /// the [`ChainError`] (recovered by [`ChainError::from_io`]).
    fn into_io(self) -> std::io::Error {
        match self.into_io_cause() {
            Ok(io) => io,
            Err(typed) => typed.into_chain_error().into_io(),
        }
    }
}

impl<E: LayerError> From<E> for ChainError {
    fn from(e: E) -> Self {
        e.into_chain_error()
    }
}

/// The layer named by an I/O error that came through `?` without a layer of its own
/// (`From<std::io::Error> for ChainError`).
pub const IO_LAYER: &str = "io";

/// `?` on an I/O error in code that returns `ChainError` (an application's or a test's): the
/// same as [`ChainError::from_io`] with the layer [`IO_LAYER`], so an I/O error that carries a
/// lower layer's `ChainError` (a muxer reset, a noise failure) comes back as that error, and a
/// bare one is kind `Io`, `Timeout` or `Closed` with the I/O error as its cause. A layer crate
/// names itself with `from_io` instead.
impl From<std::io::Error> for ChainError {
    fn from(err: std::io::Error) -> Self {
        ChainError::from_io(IO_LAYER, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_mark_on_io_keeps_the_lower_layer_or_names_io() {
        fn bare() -> Result<(), ChainError> {
            Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "eof",
            ))?
        }
        let err = bare().unwrap_err();
        assert_eq!(err.layer().as_str(), IO_LAYER);
        assert_eq!(err.kind(), ErrorKind::Closed);

        fn carried() -> Result<(), ChainError> {
            Err(ChainError::new("yamux", ErrorKind::Protocol, "bad frame").into_io())?
        }
        let err = carried().unwrap_err();
        assert_eq!(err.layer().as_str(), "yamux");
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(err.message(), "bad frame");
    }

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

    #[derive(Debug, thiserror::Error)]
    enum DemoError {
        #[error("frame of {0} bytes is too large")]
        TooLarge(usize),
        #[error("dial of /ip4/127.0.0.1/tcp/4101 failed")]
        Dial(#[source] std::io::Error),
        #[error("i/o error: {0}")]
        Io(#[from] std::io::Error),
    }

    impl LayerError for DemoError {
        fn layer(&self) -> Layer {
            Layer::named("demo")
        }
        fn kind(&self) -> ErrorKind {
            match self {
                DemoError::TooLarge(_) => ErrorKind::LimitExceeded,
                DemoError::Dial(_) | DemoError::Io(_) => ErrorKind::Io,
            }
        }
        fn into_io_cause(self) -> Result<std::io::Error, Self> {
            match self {
                DemoError::Io(e) => Ok(e),
                other => Err(other),
            }
        }
    }

    #[test]
    fn layer_errors_convert_with_layer_kind_and_typed_cause() {
        let e = ChainError::from(DemoError::TooLarge(9));
        assert_eq!(e.layer().as_str(), "demo");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert!(matches!(
            e.downcast_ref::<DemoError>(),
            Some(DemoError::TooLarge(9))
        ));
        assert_eq!(
            e.to_string(),
            "demo: limit-exceeded: frame of 9 bytes is too large"
        );
        assert_eq!(repeated_segment(&report(&e)), None);

        // A wrapped cause is said once.
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused_text = refused.to_string();
        let e: ChainError = DemoError::Dial(refused).into();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(matches!(
            e.downcast_ref::<DemoError>(),
            Some(DemoError::Dial(_))
        ));
        let text = report(&e);
        assert_eq!(
            text,
            format!("demo: io: dial of /ip4/127.0.0.1/tcp/4101 failed: {refused_text}")
        );
        assert_eq!(repeated_segment(&text), None, "{text}");

        // `?` converts too.
        fn fails() -> Result<(), ChainError> {
            Err(DemoError::TooLarge(1))?;
            Ok(())
        }
        assert_eq!(fails().map_err(|e| e.kind()), Err(ErrorKind::LimitExceeded));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("inner detail")]
    struct Inner(#[source] Refused);

    #[derive(Debug, thiserror::Error)]
    enum ShowsItsSource {
        #[error("cannot decode: {0}")]
        Decode(#[from] Inner),
    }

    #[test]
    fn a_source_the_message_already_shows_is_skipped() {
        let e = ChainError::with_source(
            "demo",
            ErrorKind::Protocol,
            ShowsItsSource::from(Inner(Refused(std::io::Error::other("deep")))),
        );
        let text = report(&e);
        // `Inner` is in the message already; what lies below it (not shown) is reported once.
        assert_eq!(
            text,
            "demo: protocol: cannot decode: inner detail: connection refused by /ip4/127.0.0.1/tcp/4101: deep"
        );
        assert_eq!(repeated_segment(&text), None, "{text}");
        assert!(!says_at_end("a: xinner", "inner"));
        assert!(says_at_end("inner", "inner"));
    }

    #[test]
    fn io_causes_pass_a_lower_layer_through() {
        let lower = ChainError::new("tcp", ErrorKind::Closed, "reset").into_io();
        let e = ChainError::from(DemoError::Io(lower));
        assert_eq!(e.layer().as_str(), "tcp");
        assert_eq!(e.kind(), ErrorKind::Closed);
        // A plain I/O error is this layer's, with the I/O kind mapped.
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let e = ChainError::from(DemoError::Io(eof));
        assert_eq!(e.layer().as_str(), "demo");
        assert_eq!(e.kind(), ErrorKind::Closed);
        assert_eq!(repeated_segment(&report(&e)), None);
        // into_io: an I/O cause as it is, anything else carries the ChainError.
        let plain = std::io::Error::other("x");
        assert_eq!(DemoError::Io(plain).into_io().to_string(), "x");
        let back = ChainError::from_io("other", DemoError::TooLarge(3).into_io());
        assert_eq!(back.layer().as_str(), "demo");
        assert!(back.downcast_ref::<DemoError>().is_some());
    }
}
