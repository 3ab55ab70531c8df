//! End to end with mplex: `chain-node --muxer mplex` against a rust-libp2p 0.57 peer that speaks only
//! `libp2p-mplex` 0.44 (TCP on 127.0.0.1, noise). Both directions: a rust peer pings, identifies and
//! perfs a `chain-node listen --muxer mplex`, and `chain-node ping|identify|inspect|perf --muxer mplex`
//! dial a rust mplex listener. The chain printed by chain-node must name `/mplex/6.7.0`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use common::muxer::{MuxPeer, RustMuxer};
use common::node::{run_node, NodeProcess};
use common::peer_id_from_seed;
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;

const MPLEX: &str = "/mplex/6.7.0";
const WAIT: Duration = Duration::from_secs(15);
const RUN: Duration = Duration::from_secs(30);
/// Perf transfer each way: enough to cross many mplex frames and buffers, small enough for a dev build.
const PERF_BYTES: u64 = 16 * 1024 * 1024;

fn protocols(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

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

        let mut rust = MuxPeer::spawn(32, RustMuxer::Mplex, &[])?;
        rust.dial(addr).await?;
        ensure!(
            rust.wait_connected(node_id, WAIT).await?,
            "rust should be the dialer"
        );

        let rust_id = rust.peer_id.to_string();
        let conn = node
            .wait_json("the inbound connection event", WAIT, |v| {
                (v["event"] == "connection" && v["peer_id"] == rust_id.as_str()).then(|| v.clone())
            })
            .await?;
        ensure!(conn["direction"] == "inbound", "connection event: {conn}");
        let chain = protocols(&conn["chain"]);
        ensure!(
            chain == ["/multistream/1.0.0", "/noise", "/multistream/1.0.0", MPLEX],
            "connection event chain: {conn}"
        );

        let rtt = rust.wait_ping(node_id, WAIT).await?;
        ensure!(rtt < Duration::from_secs(5), "implausible RTT {rtt:?}");
        let info = rust.wait_identified(node_id, WAIT).await?;
        ensure!(
            info.public_key.to_peer_id() == node_id,
            "identify public key does not match the peer id"
        );
        for want in ["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/perf/1.0.0"] {
            ensure!(
                info.protocols.iter().any(|p| p.as_ref() == want),
                "identify protocols {:?} lack {want}",
                info.protocols
            );
        }

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
async fn rust_mplex_listener(seed: u64) -> Result<(MuxPeer, String)> {
    let mut rust = MuxPeer::spawn(seed, RustMuxer::Mplex, &[])?;
    let addr = rust.listen().await?;
    Ok((rust, addr.to_string()))
}

/// `chain-node inspect --muxer mplex` and `chain-node ping --muxer mplex` against a rust mplex listener.
#[tokio::test]
async fn node_with_muxer_mplex_inspects_and_pings_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut rust, addr) = rust_mplex_listener(33).await?;

        let out = run_node(&["inspect", &addr, "--json", "--muxer", "mplex"], RUN).await?;
        out.expect_success("chain-node inspect --muxer mplex")?;
        let lines = out.ops("inspect");
        let [line] = lines.as_slice() else {
            bail!("expected one inspect line, got {:?}", out.json);
        };
        let layers: Vec<(String, String)> = line["chain"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|l| {
                (
                    l["layer"].as_str().unwrap_or_default().to_string(),
                    l["protocol"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
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
        let pings = out.ops("ping");
        ensure!(
            pings.len() == 3,
            "expected 3 ping lines, got {:?}",
            out.json
        );
        for p in &pings {
            ensure!(
                p["peer_id"] == rust.peer_id.to_string().as_str(),
                "ping line {p}"
            );
            ensure!(
                p["rtt_us"].as_u64().is_some_and(|r| r < 5_000_000),
                "ping line without a plausible rtt_us: {p}"
            );
        }
        let dialer = rust
            .wait_connected(peer_id_from_seed(34), Duration::from_secs(5))
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
        let ids = out.ops("identify");
        let [id] = ids.as_slice() else {
            bail!("expected one identify line, got {:?}", out.json);
        };
        ensure!(id["peer_id"] == rust.peer_id.to_string().as_str(), "{id}");
        let agent = id["agent_version"].as_str().unwrap_or_default();
        ensure!(agent.starts_with("rust-libp2p/"), "agent_version {agent:?}");
        let protocols = protocols(&id["protocols"]);
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
        let lines = out.ops("perf");
        let [line] = lines.as_slice() else {
            bail!("expected one perf line, got {:?}", out.json);
        };
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
        let mut rust = MuxPeer::spawn(38, RustMuxer::Yamux, &[])?;
        let addr = rust.listen().await?.to_string();
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
