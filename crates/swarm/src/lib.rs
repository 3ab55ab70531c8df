//! `chainp2p-swarm`: the thin composition of the chain of stream handlers.
//!
//! The chain is data: transports at the bottom, then a list of **stages**, each a
//! multistream-select negotiation over a list of handlers in preference order. By default the
//! stages are `[security, muxer]` = `[[/noise], [/yamux/1.0.0]]`, so a TCP connection runs
//! `tcp -> multistream -> noise -> multistream -> yamux`, and every substream of the muxer runs
//! `multistream -> {ping, identify, your protocol}` from the table of application handlers.
//! Swapping yamux for another muxer is one line ([`SwarmBuilder::muxers`]); a transport whose
//! connections arrive secured and muxed (QUIC) skips the stages.
//!
//! The swarm itself depends on `chainp2p-core` and `chainp2p-multistream` only. The default
//! chain comes from default features, each pulling in one crate:
//!
//! | feature | what it adds |
//! |---|---|
//! | `tcp` | the default transport, [`SwarmBuilder::tcp`] |
//! | `noise` | `/noise` as the default security |
//! | `yamux` | `/yamux/1.0.0` as the default muxer |
//! | `ping` | serves `/ipfs/ping/1.0.0` |
//! | `identify` | serves `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`, [`Swarm::identify_pushes`] |
//! | `rsa` | peers with RSA identities are accepted (libp2p-identity's `rsa`, with ring) |
//! | `metrics` | Prometheus metrics into a user's registry, [`SwarmBuilder::metrics`] |
//!
//! With `default-features = false` every slot starts empty: give it a transport, a security
//! and a muxer. Kademlia on a swarm is the `chainp2p-kad-swarm` crate.
//!
//! The swarm owns every task it starts ([`Swarm::spawn`]); [`Swarm::shutdown`] closes every
//! connection at once and ends every task within one deadline.
//!
//! An application needs one `use` line, the [`prelude`]. Two nodes in one process, a
//! protocol of our own (a [`Protocol`], here a closure) and a stream opened to it:
//!
//! ```
//! use chainp2p_swarm::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ChainError> {
//! let server = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .serve_fn("/echo/1.0.0", |mut stream, _peer| async move {
//!         let mut buf = Vec::new();
//!         stream.read_to_end(&mut buf).await?; // an io::Error is welcome here
//!         stream.write_all(&buf).await?;
//!         stream.close().await
//!     })
//!     .build();
//! let addr = server.listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap()).await?;
//!
//! let client = SwarmBuilder::new(Keypair::generate_ed25519()).build();
//! let conn = client.dial(&addr).await?;
//! println!("chain: {}", conn.chain()); // which protocol each layer picked
//! let rtt = ping::ping(&mut conn.open_stream(ping::PROTOCOL).await?).await?;
//! assert!(rtt < std::time::Duration::from_secs(5));
//!
//! let mut stream = conn.open_stream("/echo/1.0.0").await?;
//! stream.write_all(b"hello").await?;
//! stream.close().await?;
//! let mut echoed = Vec::new();
//! stream.read_to_end(&mut echoed).await?;
//! assert_eq!(echoed, b"hello");
//! client.shutdown().await;
//! server.shutdown().await;
//! # Ok(()) }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod activity;
mod addrs;
mod admission;
mod builder;
mod conn_manager;
mod connection;
mod event;
mod limits;
#[cfg(feature = "metrics")]
mod metrics;
mod node;
pub mod prelude;
mod protocol;
mod resources;
mod upgrade;

pub use builder::{SwarmBuilder, DEFAULT_EVENT_CAPACITY};
pub use conn_manager::ConnectionManagerConfig;
pub use connection::{Connection, Direction};
pub use event::SwarmEvent;
pub use limits::{total_memory, ResourceLimits};
pub use node::{Swarm, WeakSwarm};
pub use protocol::{Protocol, ProtocolFn, ProtocolHandler};
pub use resources::{ResourceUsage, LOG_INTERVAL};

pub use async_trait::async_trait;
pub use chainp2p_core::identity;
pub use chainp2p_core::multiaddr::{self, Multiaddr};
pub use chainp2p_core::{BoxStream, ChainError, NegotiatedChain, StreamHandler};
#[cfg(feature = "metrics")]
pub use prometheus_client;

/// The error layer name of this crate.
pub(crate) const LAYER: &str = "swarm";
