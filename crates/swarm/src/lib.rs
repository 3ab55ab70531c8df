//! `swarm`: the thin composition of the chain of stream handlers.
//!
//! The chain is data: a list of **stages**, each a multistream-select negotiation over a list of
//! [`StreamHandler`]s in preference order. By default the stages are `[security, muxer]` =
//! `[[/noise], [/yamux/1.0.0]]`, so a TCP connection runs
//! `tcp -> multistream -> noise -> multistream -> yamux`, and every substream of the muxer runs
//! `multistream -> {ping, identify, perf, your protocol}` from the table of application handlers.
//! Swapping yamux for another muxer is one line ([`SwarmBuilder::muxers`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use swarm::{SwarmBuilder, identity::Keypair};
//!
//! # async fn demo() -> Result<(), chain_core::ChainError> {
//! let node = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .protocol(Arc::new(perf::PerfHandler::default()))      // serve /perf/1.0.0 too
//!     .build();
//! let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap()).await?;
//! println!("listening on {addr}/p2p/{}", node.local_peer_id());
//!
//! let conn = node.dial(&"/ip4/127.0.0.1/tcp/4001".parse().unwrap()).await?;
//! println!("chain: {}", conn.chain());                     // which protocol each layer picked
//! let mut stream = conn.open_stream(ping::PROTOCOL).await?;
//! let rtt = ping::ping(&mut stream).await?;
//! println!("{} answered in {rtt:?}", conn.peer_id());
//! # Ok(()) }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod activity;
mod addrs;
mod builder;
mod connection;
mod dht;
mod event;
mod node;
mod upgrade;

pub use builder::SwarmBuilder;
pub use connection::{Connection, Direction};
pub use dht::{KadOptions, KadService, SwarmNetwork};
pub use event::SwarmEvent;
pub use node::Swarm;

pub use chain_core::identity;
pub use chain_core::multiaddr::Multiaddr;
pub use chain_core::{BoxStream, ChainError, NegotiatedChain, StreamHandler};
pub use kad;

/// The error layer name of this crate.
pub(crate) const LAYER: &str = "swarm";
