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
//! use chainp2p_swarm::{SwarmBuilder, identity::Keypair};
//!
//! # async fn demo() -> Result<(), chainp2p_core::ChainError> {
//! let node = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .protocol(Arc::new(chainp2p_perf::PerfHandler::default()))      // serve /perf/1.0.0 too
//!     .build();
//! let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap()).await?;
//! println!("listening on {addr}/p2p/{}", node.local_peer_id());
//!
//! let conn = node.dial(&"/ip4/127.0.0.1/tcp/4001".parse().unwrap()).await?;
//! println!("chain: {}", conn.chain());                     // which protocol each layer picked
//! let mut stream = conn.open_stream(chainp2p_ping::PROTOCOL).await?;
//! let rtt = chainp2p_ping::ping(&mut stream).await?;
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

pub use chainp2p_core::identity;
pub use chainp2p_core::multiaddr::Multiaddr;
pub use chainp2p_core::{BoxStream, ChainError, NegotiatedChain, StreamHandler};
pub use chainp2p_kad as kad;

/// The error layer name of this crate.
pub(crate) const LAYER: &str = "swarm";
