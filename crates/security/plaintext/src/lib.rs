//! `plaintext`: the `/plaintext/2.0.0` security layer of the chain (tcp -> multistream ->
//! **plaintext** -> multistream -> yamux). Each side sends one `Exchange { id, pubkey }`
//! (uvarint-length-prefixed protobuf) at once; each checks that the `id` is the PeerId of the
//! `pubkey`, and a dialer that knows whom it dialed checks that too. Afterwards the raw stream
//! *is* the "secured" stream: **nothing is signed or encrypted**, so this authenticates nothing
//! against an active attacker. It exists for tests, benchmarks and peers that speak nothing else
//! (rust-libp2p's `libp2p-plaintext` speaks it).
//!
//! Layout: [`codec`] (framing, bounded length), [`proto`] (the `Exchange` message),
//! [`handshake`] (sans-IO: our message, checks on theirs), [`PlaintextConfig`] (limits, the
//! async shell and the [`chainp2p_core::SecurityHandler`] implementation), [`PlaintextError`].
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod codec;
mod config;
mod error;
pub mod handshake;
pub mod proto;
mod upgrade;

pub use config::{PlaintextConfig, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_MESSAGE_LEN};
pub use error::{PlaintextError, LAYER};
pub use handshake::RemoteIdentity;

/// The multistream protocol id of this layer.
pub const PROTOCOL: &str = "/plaintext/2.0.0";
