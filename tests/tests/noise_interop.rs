//! Interop: our `/noise` (crate `noise`) against rust-libp2p's libp2p-noise 0.47 over an
//! in-memory pipe, in both roles, checking the PeerId each side authenticates and moving data
//! both ways (including writes that span several noise frames).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::{HandlerContext, Role, SecurityHandler};
use common::security;
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade};
use libp2p::identity::Keypair;
use tokio_util::compat::TokioAsyncReadCompatExt;

const BOUND: Duration = Duration::from_secs(20);

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

async fn run(ours_role: Role, ours_key: Keypair, theirs_key: Keypair, len: usize) {
    let theirs_cfg = libp2p::noise::Config::new(&theirs_key).unwrap();
    let (ours, theirs) = security::handshake(
        &chainp2p_noise::NoiseConfig::new(),
        ours_role,
        &ours_key,
        &theirs_key,
        theirs_cfg,
        "/noise",
        256 * 1024,
    )
    .await;
    security::exchange_both_ways(ours, theirs, pattern(len, 3), pattern(len + 17, 5)).await;
}

#[tokio::test]
async fn we_dial_libp2p_noise() {
    let f = run(
        Role::Dialer,
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
        300_000,
    );
    tokio::time::timeout(BOUND, f).await.unwrap();
}

#[tokio::test]
async fn libp2p_noise_dials_us() {
    let f = run(
        Role::Listener,
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
        300_000,
    );
    tokio::time::timeout(BOUND, f).await.unwrap();
}

#[tokio::test]
async fn other_key_types_interoperate() {
    for (ours, theirs) in [
        (Keypair::generate_secp256k1(), Keypair::generate_ecdsa()),
        (Keypair::generate_ecdsa(), Keypair::generate_secp256k1()),
    ] {
        let f = run(Role::Dialer, ours.clone(), theirs.clone(), 70_000);
        tokio::time::timeout(BOUND, f).await.unwrap();
        let f = run(Role::Listener, ours, theirs, 70_000);
        tokio::time::timeout(BOUND, f).await.unwrap();
    }
}

/// Sends 64 MiB in 64 KiB writes from `w` to `r`; returns MiB/s.
async fn pump<W, R>(mut w: W, mut r: R) -> f64
where
    W: AsyncWrite + Unpin + Send + 'static,
    R: AsyncRead + Unpin,
{
    const TOTAL: usize = 64 * 1024 * 1024;
    let start = std::time::Instant::now();
    let writer = tokio::spawn(async move {
        let buf = vec![7u8; 64 * 1024];
        for _ in 0..TOTAL / buf.len() {
            w.write_all(&buf).await.unwrap();
        }
        w.flush().await.unwrap();
        w
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < TOTAL {
        let n = r.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got += n;
    }
    drop(writer.await.unwrap());
    TOTAL as f64 / (1024.0 * 1024.0) / start.elapsed().as_secs_f64()
}

/// Throughput of ours vs libp2p-noise over the same in-memory pipe (run with
/// `cargo test --release -p interop-tests --test noise_interop -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn noise_throughput_vs_libp2p() {
    let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    for round in 0..3 {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let ca = HandlerContext::new(Role::Dialer, Arc::new(ka.clone()));
        let cb = HandlerContext::new(Role::Listener, Arc::new(kb.clone()));
        let cfg = chainp2p_noise::NoiseConfig::new();
        let (x, y) = tokio::join!(
            cfg.secure(Box::new(a.compat()), &ca),
            cfg.secure(Box::new(b.compat()), &cb)
        );
        let ours = pump(x.unwrap().io, y.unwrap().io).await;

        let (a, b) = tokio::io::duplex(256 * 1024);
        let (x, y) = tokio::join!(
            libp2p::noise::Config::new(&ka)
                .unwrap()
                .upgrade_outbound(a.compat(), "/noise"),
            libp2p::noise::Config::new(&kb)
                .unwrap()
                .upgrade_inbound(b.compat(), "/noise")
        );
        let theirs = pump(x.unwrap().1, y.unwrap().1).await;

        let t = std::time::Instant::now();
        let n = 200;
        for _ in 0..n {
            let (a, b) = tokio::io::duplex(64 * 1024);
            let (x, y) = tokio::join!(
                cfg.secure(Box::new(a.compat()), &ca),
                cfg.secure(Box::new(b.compat()), &cb)
            );
            x.unwrap();
            y.unwrap();
        }
        let hs_ours = t.elapsed() / n;
        let (cfg_a, cfg_b) = (
            libp2p::noise::Config::new(&ka).unwrap(),
            libp2p::noise::Config::new(&kb).unwrap(),
        );
        let t = std::time::Instant::now();
        for _ in 0..n {
            let (a, b) = tokio::io::duplex(64 * 1024);
            let (x, y) = tokio::join!(
                cfg_a.clone().upgrade_outbound(a.compat(), "/noise"),
                cfg_b.clone().upgrade_inbound(b.compat(), "/noise")
            );
            x.unwrap();
            y.unwrap();
        }
        let hs_theirs = t.elapsed() / n;
        println!(
            "round {round}: throughput ours {ours:.0} MiB/s, libp2p-noise {theirs:.0} MiB/s; \
             handshake ours {hs_ours:?}, libp2p-noise {hs_theirs:?}"
        );
    }
}
