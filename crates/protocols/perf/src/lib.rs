//! `perf`: `/perf/1.0.0`, a throughput benchmark run on a muxed substream.
//!
//! The client writes the number of bytes it wants back (u64 big-endian), uploads any number of
//! bytes, closes its write side; only then does the server send the requested bytes and close.
//! It lets a client demand work, so it should not be served by public nodes by default.
//!
//! - [`PerfHandler`]: the server side, a [`chainp2p_core::StreamHandler`].
//! - [`run`]: the client side, returning a [`PerfReport`].
//! - [`protocol`]: the request header and the shared zero buffer, no I/O.
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is a [`PerfError`].
//!
//! The listener side serving one substream and the client measuring 64 KiB up, 32 KiB down:
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
//! let handler = chainp2p_perf::PerfHandler::new(chainp2p_perf::PerfConfig::default());
//! let serve = handler.handle(chainp2p_perf::PROTOCOL, server, ctx);
//! let run = chainp2p_perf::run(&mut client, 64 * 1024, 32 * 1024);
//! let (served, report) = tokio::join!(serve, run);
//! let report = report.unwrap();
//! assert_eq!((report.upload_bytes, report.download_bytes), (64 * 1024, 32 * 1024));
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
mod report;
mod stream;

pub use client::run;
pub use config::PerfConfig;
pub use error::PerfError;
pub use handler::{PerfHandler, Served};
pub use protocol::PROTOCOL;
pub use report::PerfReport;

/// The layer name used in [`chainp2p_core::ChainError`]s of this crate.
pub const LAYER: &str = "perf";
