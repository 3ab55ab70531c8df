//! Shared helpers of the secio integration tests: in-memory pipes, contexts, identities of
//! every type, raw frame I/O and a hand-driven secio peer for building malicious counterparts.
#![allow(dead_code, unused_imports)]

use std::future::Future;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::ChainError;
pub use chainp2p_framing::testing::{boxed_pipe, ctx, raw_pipe};
use chainp2p_secio::{Handshake, SecioConfig, SecioError, Session};
use tokio::io::DuplexStream;

/// Upper bound for every test.
pub const BOUND: Duration = Duration::from_secs(20);

/// Runs `f` and checks it ended within [`BOUND`].
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    chainp2p_framing::testing::bounded(BOUND, f).await
}

/// The typed secio cause of `e` (which must name the secio layer).
pub fn secio_err(e: &ChainError) -> &SecioError {
    chainp2p_framing::testing::typed_cause(e, chainp2p_secio::LAYER)
}

/// The RSA-2048 test identity (tests/fixtures/rsa2048.pk8, made with `openssl genpkey`).
pub fn rsa_key() -> Keypair {
    let mut der = include_bytes!("../fixtures/rsa2048.pk8").to_vec();
    Keypair::rsa_from_pkcs8(&mut der).unwrap()
}

/// One identity of every supported key type, with its name.
pub fn all_key_types() -> Vec<(&'static str, Keypair)> {
    vec![
        ("ed25519", Keypair::generate_ed25519()),
        ("secp256k1", Keypair::generate_secp256k1()),
        ("ecdsa", Keypair::generate_ecdsa()),
        ("rsa2048", rsa_key()),
    ]
}

/// Writes one `u32`-length-prefixed frame.
pub async fn write_frame(io: &mut DuplexStream, msg: &[u8]) {
    chainp2p_framing::testing::write_frame::<4>(io, msg).await
}

/// Reads one `u32`-length-prefixed frame.
pub async fn read_frame(io: &mut DuplexStream) -> Vec<u8> {
    chainp2p_framing::testing::read_frame::<4>(io).await
}

/// Seals `plain` with the session's encoder as one frame (header included).
pub fn seal(session: &mut Session, plain: &[u8]) -> Vec<u8> {
    let mac = session.encoder.mac_len();
    let mut frame = vec![0u8; 4 + plain.len() + mac];
    frame[..4].copy_from_slice(&((plain.len() + mac) as u32).to_be_bytes());
    frame[4..4 + plain.len()].copy_from_slice(plain);
    session.encoder.seal_in_place(&mut frame[4..]).unwrap();
    frame
}

/// A well-behaved peer up to the keys: sends Propose and Exchange, reads ours, and returns
/// the session without doing the nonce check (the caller decides how to misbehave then).
pub async fn manual_peer(raw: &mut DuplexStream, key: &Keypair, cfg: &SecioConfig) -> Session {
    let mut hs = Handshake::new(cfg, key, None);
    write_frame(raw, hs.local_proposal()).await;
    let theirs = read_frame(raw).await;
    let exchange = hs.on_proposal(&theirs).unwrap();
    write_frame(raw, &exchange).await;
    let theirs = read_frame(raw).await;
    hs.on_exchange(&theirs).unwrap()
}
