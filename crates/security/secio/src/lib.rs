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
