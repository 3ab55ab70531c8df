//! End to end with mplex: `chain-node --muxer mplex` against a rust-libp2p 0.57 peer that speaks only
//! `libp2p-mplex` 0.44 (TCP on 127.0.0.1, noise). Both directions: a rust peer pings, identifies and
//! perfs a `chain-node listen --muxer mplex`, and `chain-node ping|identify|inspect|perf --muxer mplex`
//! dial a rust mplex listener. The chain printed by chain-node must name `/mplex/6.7.0`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use anyhow::{ensure, Result};
use common::node::{inspect_layers, json_strs, run_node, NodeProcess};
use common::peer_id_from_seed;
use common::rust_peer::{RustMuxer, RustPeer};
use libp2p::{Multiaddr, PeerId};

const MPLEX: &str = "/mplex/6.7.0";
const WAIT: Duration = Duration::from_secs(15);
const RUN: Duration = Duration::from_secs(30);
/// Perf transfer each way: enough to cross many mplex frames and buffers, small enough for a dev build.
const PERF_BYTES: u64 = 16 * 1024 * 1024;

/// `chain-node listen --muxer mplex`; rust (mplex only) dials it: connection chain, ping, identify and
/// a perf run each way of [`PERF_BYTES`].
#[tokio::test]
async fn rust_mplex_dials_listener_with_muxer_mplex() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut node = NodeProcess::spawn(&[
            "listen",
            "--json",
            "--seed",
            "31",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--muxer",
            "mplex",
            "--timeout",
            "55",
        ])?;
        let (peer_id, addr) = node.listening().await?;
        let node_id: PeerId = peer_id.parse()?;
        ensure!(node_id == peer_id_from_seed(31), "--seed 31 gave {node_id}");
        let addr: Multiaddr = addr.parse()?;

        let mut rust = RustPeer::spawn_muxed(32, RustMuxer::Mplex)?;
        rust.dial(addr).await?;
        ensure!(
            rust.wait_connected_strict(node_id, WAIT).await?,
            "rust should be the dialer"
        );

        node.expect_inbound_connection(&rust.peer_id.to_string(), MPLEX, WAIT)
            .await?;

        rust.expect_ping_and_identify(
            node_id,
            WAIT,
            &["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/perf/1.0.0"],
        )
        .await?;

        let stats = rust.perf(node_id, PERF_BYTES, PERF_BYTES).await?;
        ensure!(stats.upload == PERF_BYTES, "uploaded {}", stats.upload);
        ensure!(
            stats.download == PERF_BYTES,
            "downloaded {} of {PERF_BYTES} (rust-libp2p reads a reset stream as EOF); listener stderr:\n{}",
            stats.download,
            node.stderr()
        );
        eprintln!(
            "perf rust(mplex)->chain-node: 2 x {PERF_BYTES} B in {:.2} s",
            stats.elapsed.as_secs_f64()
        );
        ensure!(
            node.is_running(),
            "listener exited during the test: {}",
            node.stderr()
        );
        Ok(())
    })
    .await?
}

/// A rust peer that speaks only mplex, listening on 127.0.0.1, and its `/p2p/` address.
async fn rust_mplex_listener(seed: u64) -> Result<(RustPeer, String)> {
    let (rust, addr) = RustPeer::listener(seed, RustMuxer::Mplex).await?;
    Ok((rust, addr.to_string()))
}

/// `chain-node inspect --muxer mplex` and `chain-node ping --muxer mplex` against a rust mplex listener.
#[tokio::test]
async fn node_with_muxer_mplex_inspects_and_pings_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut rust, addr) = rust_mplex_listener(33).await?;

        let out = run_node(&["inspect", &addr, "--json", "--muxer", "mplex"], RUN).await?;
        out.expect_success("chain-node inspect --muxer mplex")?;
        let line = out.one("inspect")?;
        let layers = inspect_layers(line);
        ensure!(
            layers.iter().any(|(k, p)| k == "muxer" && p == MPLEX),
            "inspect chain lacks the mplex muxer: {line}"
        );
        ensure!(
            layers.iter().any(|(k, p)| k == "security" && p == "/noise"),
            "inspect chain lacks noise: {line}"
        );

        let out = run_node(
            &[
                "ping", &addr, "--count", "3", "--json", "--seed", "34", "--muxer", "mplex",
            ],
            RUN,
        )
        .await?;
        out.expect_success("chain-node ping --muxer mplex")?;
        out.expect_pings(3, &rust.peer_id.to_string())?;
        let dialer = rust
            .wait_connected_strict(peer_id_from_seed(34), Duration::from_secs(5))
            .await?;
        ensure!(!dialer, "rust should have seen an inbound connection");
        Ok(())
    })
    .await?
}

/// `chain-node identify --muxer mplex` against a rust mplex listener.
#[tokio::test]
async fn node_with_muxer_mplex_identifies_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (rust, addr) = rust_mplex_listener(35).await?;
        let out = run_node(&["identify", &addr, "--json", "--muxer", "mplex"], RUN).await?;
        out.expect_success("chain-node identify --muxer mplex")?;
        let id = out.one("identify")?;
        ensure!(id["peer_id"] == rust.peer_id.to_string().as_str(), "{id}");
        let agent = id["agent_version"].as_str().unwrap_or_default();
        ensure!(agent.starts_with("rust-libp2p/"), "agent_version {agent:?}");
        let protocols = json_strs(&id["protocols"]);
        ensure!(
            protocols.iter().any(|p| p == "/perf/1.0.0"),
            "protocols {protocols:?} lack /perf/1.0.0"
        );
        Ok(())
    })
    .await?
}

/// `chain-node perf --muxer mplex` against the rust perf server over mplex: exact counts on both sides.
#[tokio::test]
async fn node_with_muxer_mplex_perf_against_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut rust, addr) = rust_mplex_listener(36).await?;
        let n = PERF_BYTES.to_string();
        let out = run_node(
            &[
                "perf",
                &addr,
                "--upload",
                &n,
                "--download",
                &n,
                "--json",
                "--seed",
                "37",
                "--muxer",
                "mplex",
                "--timeout",
                "50",
            ],
            Duration::from_secs(55),
        )
        .await?;
        out.expect_success("chain-node perf --muxer mplex")?;
        let line = out.one("perf")?;
        ensure!(line["upload_bytes"].as_u64() == Some(PERF_BYTES), "{line}");
        ensure!(
            line["download_bytes"].as_u64() == Some(PERF_BYTES),
            "{line}"
        );
        let served = rust
            .wait_perf_served(peer_id_from_seed(37), Duration::from_secs(10))
            .await?;
        ensure!(
            served.upload == PERF_BYTES && served.download == PERF_BYTES,
            "rust server saw {served:?}"
        );
        eprintln!(
            "perf chain-node->rust(mplex): {line}, process wall {:.2} s",
            out.elapsed.as_secs_f64()
        );
        Ok(())
    })
    .await?
}

/// Asking `chain-node` for mplex against a rust peer that speaks only yamux fails cleanly.
#[tokio::test]
async fn node_with_muxer_mplex_against_yamux_only_rust_fails_cleanly() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (_rust, addr) = RustPeer::listener(38, RustMuxer::Yamux).await?;
        let addr = addr.to_string();
        let out = run_node(
            &["ping", &addr, "--count", "1", "--json", "--muxer", "mplex"],
            RUN,
        )
        .await?;
        let err = out.expect_error("chain-node ping --muxer mplex against a yamux-only peer")?;
        ensure!(!err.is_empty());
        Ok(())
    })
    .await?
}
