//! `secio`: the `/secio/1.0.0` security layer of the chain (tcp -> multistream -> **secio** ->
//! multistream -> yamux), the deprecated libp2p handshake that c-ipfs/c-libp2p still speak.
//!
//! Both sides send a Propose (16-byte nonce, identity key, algorithm lists) at once; the
//! hashes of key and nonce decide whose preferences win; each side then sends an Exchange
//! (ephemeral ECDH point signed together with both proposals), the shared secret is stretched
//! into per-direction AES-CTR + HMAC keys, and each side's first encrypted frame echoes the
//! other's nonce. After that every frame is `u32 length ‖ AES-CTR ciphertext ‖ HMAC`.
//!
//! Layout: [`codec`] (framing), [`proto`] (the protobuf messages, mirroring `spipe.proto`),
//! [`algo`] (names and selection), [`ecdh`], [`stretch`], [`cipher`] (per-direction frame
//! crypto), [`keysize`] (the RSA size limit), [`handshake`] (the sans-IO state machine) and
//! its [`Session`] (the derived keys and the nonce check), [`SecioStream`] (the async encrypted
//! stream), [`SecioConfig`] (lists, limits, and the
//! [`chainp2p_core::SecurityHandler`] implementation), [`SecioError`].
//!
//! Shared-secret width: go- and py-libp2p strip leading zero bytes of the ECDH secret, the
//! others do not; by default we learn which from the peer's first encrypted frame (see
//! [`SharedSecretWidth::Auto`]).
//!
//! The Propose/Exchange handshake between two identities over an in-memory pipe, then bytes
//! encrypted one way (the chosen cipher and hash are in the chain record's details):
//!
//! ```
//! use chainp2p_core::{identity::Keypair, Role, SecurityHandler};
//! use chainp2p_framing::testing::{boxed_pipe, ctx};
//! use chainp2p_secio::SecioConfig;
//! use futures::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (alice, bob) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
//! let (a, b) = boxed_pipe(); // an in-memory stand-in for a TCP socket
//! let config = SecioConfig::new();
//! let (dialer, listener) = (ctx(Role::Dialer, &alice), ctx(Role::Listener, &bob));
//! let (d, l) = tokio::join!(config.secure(a, &dialer), config.secure(b, &listener));
//! let (mut d, mut l) = (d.unwrap(), l.unwrap());
//! assert_eq!(d.remote_peer, bob.public().to_peer_id()); // each side authenticated the other
//! assert_eq!(l.remote_peer, alice.public().to_peer_id());
//! assert!(d.details.iter().any(|(k, _)| k == "cipher"));
//! d.io.write_all(b"over secio").await.unwrap();
//! d.io.flush().await.unwrap();
//! let mut got = [0u8; 10];
//! l.io.read_exact(&mut got).await.unwrap();
//! assert_eq!(&got, b"over secio");
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod algo;
pub mod cipher;
pub mod codec;
mod config;
pub mod ecdh;
mod error;
pub mod handshake;
pub mod keysize;
pub mod proto;
mod session;
mod stream;
pub mod stretch;
mod upgrade;
#[cfg(test)]
mod width_tests;

pub use algo::{Cipher, HashAlgo, KeyAgreement};
pub use config::{
    SecioConfig, DEFAULT_AMBIGUOUS_WIDTH_WAIT, DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_MAX_HANDSHAKE_MESSAGE, DEFAULT_READ_BUFFER,
};
pub use ecdh::SharedSecretWidth;
pub use error::{AlgorithmList, SecioError, LAYER};
pub use handshake::{Chosen, Handshake, Session, NONCE_LEN};
pub use stream::SecioStream;
pub use upgrade::RemoteInfo;

/// The multistream protocol id of this layer.
pub const PROTOCOL: &str = "/secio/1.0.0";
