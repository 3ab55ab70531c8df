//! Interop: our `/plaintext/2.0.0` (crate `plaintext`) against rust-libp2p's libp2p-plaintext
//! (the one libp2p 0.57 ships) over an in-memory pipe, in both roles and with Ed25519 and
//! secp256k1 identities, checking the PeerId each side learns and moving bytes both ways.
//! (rust-libp2p caps the Exchange message at 100 bytes, so RSA and ECDSA identities, whose
//! messages are larger, cannot use plaintext with it at all.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::{ErrorKind, HandlerContext, Role, SecurityHandler};
use common::security;
use libp2p::core::upgrade::InboundConnectionUpgrade;
use libp2p::identity::Keypair;
use tokio_util::compat::TokioAsyncReadCompatExt;

const BOUND: Duration = Duration::from_secs(20);
const PROTOCOL: &str = "/plaintext/2.0.0";

async fn run(ours_role: Role, ours_key: Keypair, theirs_key: Keypair) {
    let theirs_cfg = libp2p::plaintext::Config::new(&theirs_key);
    let (ours, theirs) = security::handshake(
        &chainp2p_plaintext::PlaintextConfig::new(),
        ours_role,
        &ours_key,
        &theirs_key,
        theirs_cfg,
        PROTOCOL,
        64 * 1024,
    )
    .await;
    let to_them: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let to_us: Vec<u8> = (0..70_001u32).map(|i| (i % 241) as u8).collect();
    security::exchange_both_ways(ours, theirs, to_them, to_us).await;
}

#[tokio::test]
async fn we_dial_rust_libp2p() {
    tokio::time::timeout(
        BOUND,
        run(
            Role::Dialer,
            Keypair::generate_ed25519(),
            Keypair::generate_ed25519(),
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn rust_libp2p_dials_us() {
    tokio::time::timeout(
        BOUND,
        run(
            Role::Listener,
            Keypair::generate_secp256k1(),
            Keypair::generate_ed25519(),
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn secp256k1_on_both_sides() {
    tokio::time::timeout(
        BOUND,
        run(
            Role::Dialer,
            Keypair::generate_secp256k1(),
            Keypair::generate_secp256k1(),
        ),
    )
    .await
    .unwrap();
}

/// rust-libp2p does not check whom it dialed inside plaintext; we do: dialing an expected peer
/// and meeting another one fails with an authentication error on our side.
#[tokio::test]
async fn we_refuse_a_rust_peer_that_is_not_the_one_we_dialed() {
    tokio::time::timeout(BOUND, async {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let ours_key = Keypair::generate_ed25519();
        let theirs_key = Keypair::generate_ed25519();
        let mut ctx = HandlerContext::new(Role::Dialer, Arc::new(ours_key));
        ctx.remote_peer = Some(Keypair::generate_ed25519().public().to_peer_id());
        let theirs =
            libp2p::plaintext::Config::new(&theirs_key).upgrade_inbound(b.compat(), PROTOCOL);
        let cfg = chainp2p_plaintext::PlaintextConfig::new();
        let (ours, _theirs) = tokio::join!(cfg.secure(Box::new(a.compat()), &ctx), theirs);
        let err = ours.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    })
    .await
    .unwrap();
}
