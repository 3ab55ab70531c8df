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
pub use error::{repeated_segment, report, ChainError, ErrorKind, Layer, LayerError};
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
