//! `transport-tcp`: the bottom of the chain. It listens on and dials `/ip4|/ip6/<ip>/tcp/<port>`
//! multiaddrs (and dials `/dns|/dns4|/dns6/<host>/tcp/<port>`), and hands every connection up
//! as a [`chainp2p_core::BoxStream`] plus its local and remote addresses; multistream-select runs
//! on top of it.
//!
//! - [`addr`]: multiaddr <-> socket-address logic, no I/O ([`split_peer_id`], [`is_supported`]).
//! - [`transport`]: the tokio shell ([`TcpTransport`], [`TcpListener`], [`TcpConnection`]).
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is a [`TcpError`].
//!
//! A listener on loopback (port 0: any free port) and a dial to it, bytes one way:
//!
//! ```
//! use chainp2p_transport_tcp::{TcpConfig, TcpTransport};
//! use futures::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tcp = TcpTransport::new(TcpConfig::default());
//! let listener = tcp.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
//! let mut dialed = tcp.dial(&listener.local_addr()).await?;
//! let mut accepted = listener.accept().await?;
//! assert_eq!(accepted.remote_addr, dialed.local_addr);
//! dialed.io.write_all(b"over tcp").await?;
//! let mut got = [0u8; 8];
//! accepted.io.read_exact(&mut got).await?;
//! assert_eq!(&got, b"over tcp");
//! # Ok(()) }
//! ```
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
