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
