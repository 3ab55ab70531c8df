//! `yamux`: the yamux stream muxer (`/yamux/1.0.0`), the layer above security in the chain
//! (`tcp -> multistream -> noise -> multistream -> yamux -> {ping, identify, perf}`): it turns
//! one secured connection into many substreams, each with its own flow control.
//!
//! - [`codec`]: the 12-byte frame header and a `Decoder`/`Encoder` (sans-IO).
//! - [`session`]: the sans-IO session state machine (streams, windows, ping, GoAway).
//! - [`YamuxConfig`]: limits with documented defaults; it is also the
//!   `chain_core::MuxerHandler` (client = dialer = odd stream ids).
//! - [`YamuxMuxer`] / [`YamuxStream`]: the async shell (`chain_core::Muxer`), driven by the
//!   future returned beside it, which owns the socket.
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

pub use codec::{Flags, Frame, FrameCodec, FrameType, GoAwayCode, Header};
pub use config::{YamuxConfig, DEFAULT_MAX_FRAME_BODY, DEFAULT_WINDOW};
pub use error::{YamuxError, LAYER};
pub use handler::{start, DriverFuture, YamuxMuxer, PROTOCOL};
pub use session::{Event, Mode, ReadOutcome, Session, Stats, StreamId, Termination};
pub use stream::YamuxStream;
