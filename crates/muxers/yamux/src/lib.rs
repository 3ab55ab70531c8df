//! `yamux`: the yamux stream muxer (`/yamux/1.0.0`), the layer above security in the chain
//! (`tcp -> multistream -> noise -> multistream -> yamux -> {ping, identify, perf}`): it turns
//! one secured connection into many substreams, each with its own flow control.
//!
//! - [`codec`]: the 12-byte frame header and the frame codec (sans-IO).
//! - [`session`]: the sans-IO session state machine (streams, half-close / reset, windows and
//!   their RTT-based auto-tuning, keep-alive pings, GoAway). No sockets, no clock: time is
//!   passed in (`handle_timeout(now)` / `poll_timeout()`).
//! - [`YamuxConfig`]: limits with documented defaults; it is also the
//!   `chainp2p_core::MuxerHandler` (client = dialer = odd stream ids).
//! - [`YamuxMuxer`] / [`YamuxStream`]: the async shell (`chainp2p_core::Muxer`), driven by the
//!   future returned beside it, which owns the socket, keeps reading while a write waits, and
//!   sleeps (a `futures-timer` delay) until the session's next keep-alive deadline.
//!
//! Defaults in short: 256 KiB initial window per stream, auto-tuned up to 16 MiB per stream
//! within a 256 MiB growth budget per connection; 1 MiB largest accepted data frame; 512
//! inbound streams (excess refused with RST); 256 unacknowledged outbound streams; an RTT ping
//! at start and every 10 s, and a session ends if one stays unanswered for 30 s. Bad input
//! ends the session with GoAway(protocol error) and a specific [`YamuxError`]; frames for
//! unknown streams are ignored and counted ([`Stats`]). Old peers (c-ipfs) that answer a SYN
//! with a WindowUpdate lacking ACK are accepted.
//!
//! Runtime-agnostic: no tokio in the dependency tree, any executor drives the session. Feature
//! `tokio-codec` (off by default) adds `tokio_util`'s `Decoder`/`Encoder` impls to
//! [`FrameCodec`].
//!
//! Two sessions over an in-memory pipe (no swarm): the client opens a substream, the server
//! accepts it and reads; each session's I/O runs in its driver future:
//!
//! ```
//! use chainp2p_core::{BoxStream, Muxer};
//! use chainp2p_yamux::{start, Mode, YamuxConfig};
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use tokio_util::compat::TokioAsyncReadCompatExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let (a, b): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
//! let (client, client_driver) = start(a, Mode::Client, YamuxConfig::default()).unwrap();
//! let (server, server_driver) = start(b, Mode::Server, YamuxConfig::default()).unwrap();
//! tokio::spawn(client_driver);
//! tokio::spawn(server_driver);
//!
//! let mut out = client.open_stream().await.unwrap();
//! out.write_all(b"over yamux").await.unwrap();
//! out.close().await.unwrap(); // half-close: FIN
//! let mut inbound = server.accept_stream().await.unwrap().unwrap();
//! let mut got = Vec::new();
//! inbound.read_to_end(&mut got).await.unwrap();
//! assert_eq!(got, b"over yamux");
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod body_pool;
pub mod codec;
mod config;
mod driver;
mod error;
mod handler;
mod read_buffer;
pub mod session;
mod shared;
mod stream;
mod stream_state;

pub use codec::{Flags, Frame, FrameCodec, FrameType, GoAwayCode, Header, SliceFrame};
pub use config::{
    Dialect, YamuxConfig, DEFAULT_MAX_CONNECTION_WINDOW, DEFAULT_MAX_FRAME_BODY,
    DEFAULT_MAX_STREAM_WINDOW, DEFAULT_WINDOW,
};
pub use error::{YamuxError, LAYER};
pub use handler::{start, start_with_budget, DriverFuture, YamuxMuxer, PROTOCOL};
pub use session::{
    Event, Mode, ReadOutcome, Session, Stats, StreamId, Termination, FIN_HOLD, MAX_HELD_FINS,
};
pub use stream::YamuxStream;
