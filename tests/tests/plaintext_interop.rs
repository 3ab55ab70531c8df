//! Interop: our `/plaintext/2.0.0` (crate `plaintext`) against rust-libp2p's libp2p-plaintext
//! (the one libp2p 0.57 ships) over an in-memory pipe, in both roles and with Ed25519 and
//! secp256k1 identities, checking the PeerId each side learns and moving bytes both ways.
//! (rust-libp2p caps the Exchange message at 100 bytes, so RSA and ECDSA identities, whose
//! messages are larger, cannot use plaintext with it at all.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chain_core::{BoxStream, ErrorKind, HandlerContext, Role, SecurityHandler};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade};
use libp2p::identity::Keypair;
use tokio_util::compat::TokioAsyncReadCompatExt;

const BOUND: Duration = Duration::from_secs(20);
const PROTOCOL: &str = "/plaintext/2.0.0";

/// Writes `send` while reading `expect_len` bytes on the same stream; returns what was read.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    send: Vec<u8>,
    expect_len: usize,
) -> Vec<u8> {
    let (mut r, mut w) = io.split();
    let mut got = vec![0u8; expect_len];
    tokio::join!(
        async {
            w.write_all(&send).await.unwrap();
            w.flush().await.unwrap();
        },
        async { r.read_exact(&mut got).await.unwrap() }
    );
    got
}

async fn run(ours_role: Role, ours_key: Keypair, theirs_key: Keypair) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let ours_io: BoxStream = Box::new(a.compat());
    let theirs_io = b.compat();
    let mut ctx = HandlerContext::new(ours_role, Arc::new(ours_key.clone()));
    if ours_role == Role::Dialer {
        ctx.remote_peer = Some(theirs_key.public().to_peer_id());
    }
    let cfg = plaintext::PlaintextConfig::new();
    let theirs_cfg = libp2p::plaintext::Config::new(&theirs_key);
    let theirs = async move {
        match ours_role {
            Role::Dialer => theirs_cfg.upgrade_inbound(theirs_io, PROTOCOL).await,
            Role::Listener => theirs_cfg.upgrade_outbound(theirs_io, PROTOCOL).await,
        }
    };
    let (ours, theirs) = tokio::join!(cfg.secure(ours_io, &ctx), theirs);
    let ours = ours.unwrap();
    let (their_view, their_stream) = theirs.unwrap();
    assert_eq!(ours.remote_peer, theirs_key.public().to_peer_id());
    assert_eq!(ours.remote_key, theirs_key.public());
    assert_eq!(their_view, ours_key.public().to_peer_id());

    let to_them: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let to_us: Vec<u8> = (0..70_001u32).map(|i| (i % 241) as u8).collect();
    let (got_them, got_us) = tokio::join!(
        exchange(their_stream, to_us.clone(), to_them.len()),
        exchange(ours.io, to_them.clone(), to_us.len())
    );
    assert_eq!(got_them, to_them, "bytes they received from us");
    assert_eq!(got_us, to_us, "bytes we received from them");
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
        let cfg = plaintext::PlaintextConfig::new();
        let (ours, _theirs) = tokio::join!(cfg.secure(Box::new(a.compat()), &ctx), theirs);
        let err = ours.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    })
    .await
    .unwrap();
}
