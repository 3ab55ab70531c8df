//! The duplex byte stream every layer reads from and writes to.

use futures::io::{AsyncRead, AsyncWrite};

/// A duplex byte stream: what a TCP connection, a secured channel and a muxed substream all are.
///
/// The traits are the `futures` I/O traits, so the layers run on any executor; the TCP
/// transport adapts tokio sockets to them.
pub trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncStream for T {}

/// An owned, type-erased [`AsyncStream`]: the unit passed from one handler to the next.
pub type BoxStream = Box<dyn AsyncStream>;
