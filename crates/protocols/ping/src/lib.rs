//! `ping`: `/ipfs/ping/1.0.0`, an application protocol on a muxed substream.
//!
//! The dialer writes 32 random bytes, the listener echoes them, the dialer checks the echo and
//! measures the round trip; the dialer may repeat on the same stream and closes its write side
//! when done. No framing at all.
//!
//! - [`PingHandler`]: the listener side, a [`chainp2p_core::StreamHandler`].
//! - [`ping`] / [`ping_with_timeout`]: one ping on an already-negotiated stream.
//! - [`protocol`]: the payload and echo check, no I/O.
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is a [`PingError`].
//!
//! The listener side serving one substream and the client pinging it:
//!
//! ```
//! use std::sync::Arc;
//! use chainp2p_core::{identity::Keypair, BoxStream, HandlerContext, Role, StreamHandler};
//! use tokio_util::compat::TokioAsyncReadCompatExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // An in-memory pipe stands in for a negotiated substream.
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let (mut client, server): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
//! let ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
//! let handler = chainp2p_ping::PingHandler::default();
//! let serve = handler.handle(chainp2p_ping::PROTOCOL, server, ctx);
//! let ping = async {
//!     let rtt = chainp2p_ping::ping(&mut client).await;
//!     drop(client); // the stream ends: the handler returns
//!     rtt
//! };
//! let (served, rtt) = tokio::join!(serve, ping);
//! assert!(rtt.unwrap() < std::time::Duration::from_secs(5));
//! assert!(served.is_ok());
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod client;
mod config;
mod error;
mod handler;
pub mod protocol;

pub use client::{ping, ping_with_timeout};
pub use config::{PingConfig, DEFAULT_PING_TIMEOUT};
pub use error::PingError;
pub use handler::PingHandler;
pub use protocol::{PING_SIZE, PROTOCOL};

/// The layer name used in [`chainp2p_core::ChainError`]s of this crate.
pub const LAYER: &str = "ping";
