//! `mplex`: the mplex stream muxer (`/mplex/6.7.0`), a swap-in for yamux above security in the
//! chain (`tcp -> multistream -> noise -> multistream -> mplex -> {ping, identify, perf}`): it
//! turns one secured connection into many substreams. mplex has no flow control and no
//! GoAway; unread data per stream is bounded by [`MplexConfig::max_buffer_per_stream`],
//! streams waiting for `accept` by [`MplexConfig::max_pending_accept`], and
//! [`OverflowBehaviour`] says what crossing them does (default: backpressure on the whole
//! connection for a reader that is alive, a reset after 5 s for one that is stuck).
//!
//! - [`codec`]: varint frame header, the seven flags, a `Decoder`/`Encoder` (sans-IO).
//! - [`session`]: the sans-IO session state machine (streams keyed by number *and* opener).
//! - [`MplexConfig`]: limits with documented defaults; it is also the
//!   `chainp2p_core::MuxerHandler` (ids do not depend on the role).
//! - [`MplexMuxer`] / [`MplexStream`]: the async shell (`chainp2p_core::Muxer`), driven by the
//!   future returned beside it, which owns the socket (spawn it on tokio: the
//!   [`OverflowBehaviour::BlockThenReset`] timer is tokio's).
//!
//! Wire choices: NewStream is named by the decimal stream number (as go/js do); received names
//! are ignored. Closing the session sends nothing (mplex has no GoAway): no new streams,
//! queued frames are flushed, the socket is closed; the peer's streams that were not closed
//! end with [`MplexError::SessionClosed`] after their buffered data.
//!
//! Two sessions over an in-memory pipe (no swarm): one side opens a substream, the other
//! accepts it and reads; each session's I/O runs in its driver future:
//!
//! ```
//! use chainp2p_core::{BoxStream, Muxer};
//! use chainp2p_mplex::{start, MplexConfig};
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use tokio_util::compat::TokioAsyncReadCompatExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let (a, b): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
//! let (dialer, dialer_driver) = start(a, MplexConfig::default()).unwrap();
//! let (listener, listener_driver) = start(b, MplexConfig::default()).unwrap();
//! tokio::spawn(dialer_driver);
//! tokio::spawn(listener_driver);
//!
//! let mut out = dialer.open_stream().await.unwrap();
//! out.write_all(b"over mplex").await.unwrap();
//! out.close().await.unwrap(); // half-close: CloseInitiator
//! let mut inbound = listener.accept_stream().await.unwrap().unwrap();
//! let mut got = Vec::new();
//! inbound.read_to_end(&mut got).await.unwrap();
//! assert_eq!(got, b"over mplex");
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod codec;
mod config;
mod driver;
mod error;
mod handler;
pub mod session;
mod shared;
mod stream;
mod stream_state;

pub use codec::{Flag, Frame, FrameCodec, FrameKind};
pub use config::{MplexConfig, OverflowBehaviour, DEFAULT_RESET_TIMEOUT, MAX_FRAME_BODY};
pub use error::{MplexError, LAYER};
pub use handler::{start, DriverFuture, MplexMuxer, PROTOCOL};
pub use session::{
    Endpoint, Event, ReadOutcome, Session, Stats, StreamId, Termination, STREAM_STATE_SIZE,
};
pub use stream::MplexStream;
