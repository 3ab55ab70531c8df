//! Shared harness of the end-to-end tests between our `chain-node` program and rust-libp2p 0.57.
//!
//! - [`rust_peer`]: a rust-libp2p 0.57 swarm (TCP + noise + yamux; ping, identify, `/perf/1.0.0` over
//!   `libp2p-stream`) driven in a tokio task, with an event history the tests wait on.
//! - [`node`]: locating and running the `chain-node` binary (long-running `listen` with a kill-on-drop guard,
//!   one-shot subcommands with their exit status, JSON stdout and stderr).
//! - [`perf`]: the `/perf/1.0.0` client and server over a raw stream.
//! - [`muxer`]: a rust peer with a chosen muxer and per-stream byte patterns.
//! - [`security`]: one handshake of our security handler against a rust-libp2p upgrade, and a
//!   two-way exchange over it.
//!
//! Every test file uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod muxer;
pub mod node;
pub mod perf;
pub mod rust_kad;
pub mod rust_peer;
pub mod security;

use libp2p::identity::Keypair;
use libp2p::PeerId;

/// The Ed25519 keypair of `--seed N`: the 32-byte secret is N little-endian in bytes 0–7, zeros after
/// (the convention of rust-libp2p test peers).
pub fn keypair_from_seed(seed: u64) -> Keypair {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&seed.to_le_bytes());
    Keypair::ed25519_from_bytes(secret).expect("32 bytes is a valid ed25519 secret")
}

/// The PeerId rust-libp2p derives for `--seed N`.
pub fn peer_id_from_seed(seed: u64) -> PeerId {
    keypair_from_seed(seed).public().to_peer_id()
}

/// 64 MiB: the perf transfer size of the interop tests.
pub const PERF_BYTES: u64 = 64 * 1024 * 1024;
