//! `chain-core`: the shared vocabulary of the connection stack, and nothing else.
//!
//! A connection is handled by a **chain of stream handlers** (see c-libp2p's design note,
//! `swarm/HowConnectionsWork.txt` at <https://github.com/Agorise/c-libp2p>): each handler is
//! named by the protocol id(s) it answers to, is given a duplex byte stream plus a
//! [`HandlerContext`], and returns what the next layer works on ([`Next`]): an upgraded byte
//! stream (a security layer), a muxed session yielding substreams (a muxer), or nothing further
//! (an application protocol). Multistream-select sits between the layers and picks which handler
//! runs; the `swarm` crate holds the chain as data (lists of handlers) and walks it.
//!
//! This crate holds no protocol code: the [`StreamHandler`] trait, the [`Muxer`] and
//! [`SecurityHandler`]/[`MuxerHandler`] traits that let security and muxer crates plug in, the
//! byte-stream type [`BoxStream`], the negotiated-chain record [`NegotiatedChain`], and the one
//! error type [`ChainError`] that names the failing layer and the cause (a layer crate's typed
//! error becomes one through [`LayerError`]).
//!
//! A layer in a few lines: an application handler with its typed error, run on an in-memory
//! stream (the swarm runs it on a negotiated substream):
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use chainp2p_core::identity::Keypair;
//! use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Layer, LayerError};
//! use chainp2p_core::{Next, Role, StreamHandler};
//! use futures::AsyncWriteExt;
//!
//! /// The layer's typed error: it names the layer and its kind, `?` makes a `ChainError`.
//! #[derive(Debug, thiserror::Error)]
//! enum HelloError {
//!     #[error("greeting of {0} bytes is too long")]
//!     TooLong(usize),
//! }
//! impl LayerError for HelloError {
//!     fn layer(&self) -> Layer { Layer::named("hello") }
//!     fn kind(&self) -> ErrorKind { ErrorKind::LimitExceeded }
//! }
//!
//! /// Writes a greeting on every stream negotiated for `/hello/1.0.0`.
//! struct Hello;
//! #[async_trait]
//! impl StreamHandler for Hello {
//!     fn protocols(&self) -> Vec<String> { vec!["/hello/1.0.0".into()] }
//!     async fn handle(&self, _: &str, mut io: BoxStream, ctx: HandlerContext)
//!         -> Result<Next, ChainError> {
//!         let greeting = format!("hello as {:?}", ctx.role);
//!         if greeting.len() > 64 {
//!             Err(HelloError::TooLong(greeting.len()))?;
//!         }
//!         io.write_all(greeting.as_bytes()).await?; // an io::Error becomes a ChainError too
//!         Ok(Next::Done) // an application protocol: nothing runs above it
//!     }
//! }
//!
//! futures::executor::block_on(async {
//!     let ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
//!     let io: BoxStream = Box::new(futures::io::Cursor::new(Vec::new()));
//!     assert!(matches!(Hello.handle("/hello/1.0.0", io, ctx).await, Ok(Next::Done)));
//! });
//! let err = ChainError::from(HelloError::TooLong(99));
//! assert_eq!(err.to_string(), "hello: limit-exceeded: greeting of 99 bytes is too long");
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod chain;
mod context;
mod error;
mod handler;
mod io;
mod memory;
mod muxer;
pub mod transport;

pub use chain::{ChainStep, LayerKind, NegotiatedChain};
pub use context::{HandlerContext, PeerFraming, Role};
pub use error::{repeated_segment, report, ChainError, ErrorKind, Layer, LayerError, IO_LAYER};
pub use handler::{
    MuxerHandler, MuxerLayer, Next, SecuredStream, SecurityHandler, SecurityLayer, StreamHandler,
};
pub use io::{AsyncStream, BoxStream};
pub use memory::MemoryBudget;
pub use muxer::Muxer;
pub use transport::{
    split_peer_id, Incoming, Listener, MuxedConnection, Transport, TransportConnection, TransportIo,
};

/// Re-exported so that layer crates and users name the same identity types. Ed25519 keys and
/// peer ids always; secp256k1, ECDSA and RSA keys with this crate's features of those names.
pub use libp2p_identity as identity;
/// Re-exported so that layer crates and users name the same address type.
pub use multiaddr;
