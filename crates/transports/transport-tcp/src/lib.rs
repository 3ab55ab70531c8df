//! `transport-tcp`: the bottom of the chain. It listens on and dials `/ip4|/ip6/<ip>/tcp/<port>`
//! multiaddrs (and dials `/dns|/dns4|/dns6/<host>/tcp/<port>`), and hands every connection up
//! as a [`chainp2p_core::BoxStream`] plus its local and remote addresses; multistream-select runs
//! on top of it.
//!
//! - [`addr`]: multiaddr <-> socket-address logic, no I/O ([`split_peer_id`], [`is_supported`]).
//! - [`transport`]: the tokio shell ([`TcpTransport`], [`TcpListener`], [`TcpConnection`]).
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is a [`TcpError`].
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod addr;
mod config;
mod error;
pub mod transport;

pub use addr::{is_supported, split_peer_id};
pub use config::TcpConfig;
pub use error::TcpError;
pub use transport::{TcpConnection, TcpListener, TcpTransport};

/// The layer name used in [`chainp2p_core::ChainError`]s of this crate.
pub const LAYER: &str = "tcp";
