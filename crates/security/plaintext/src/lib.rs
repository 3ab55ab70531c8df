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
//!
//! The key exchange between two identities over an in-memory pipe, then bytes (in the clear)
//! one way:
//!
//! ```
//! use chainp2p_core::{identity::Keypair, Role, SecurityHandler};
//! use chainp2p_framing::testing::{boxed_pipe, ctx};
//! use chainp2p_plaintext::PlaintextConfig;
//! use futures::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (alice, bob) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
//! let (a, b) = boxed_pipe(); // an in-memory stand-in for a TCP socket
//! let config = PlaintextConfig::new();
//! let (dialer, listener) = (ctx(Role::Dialer, &alice), ctx(Role::Listener, &bob));
//! let (d, l) = tokio::join!(config.secure(a, &dialer), config.secure(b, &listener));
//! let (mut d, mut l) = (d.unwrap(), l.unwrap());
//! assert_eq!(d.remote_peer, bob.public().to_peer_id()); // each side authenticated the other
//! assert_eq!(l.remote_peer, alice.public().to_peer_id());
//!
//! d.io.write_all(b"over plaintext").await.unwrap();
//! d.io.flush().await.unwrap();
//! let mut got = [0u8; 14];
//! l.io.read_exact(&mut got).await.unwrap();
//! assert_eq!(&got, b"over plaintext");
//! # }
//! ```
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
