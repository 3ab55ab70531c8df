//! End to end: `chain-node` dials a rust-libp2p 0.57 listener (TCP on 127.0.0.1, noise + yamux) with its
//! `ping`, `identify`, `inspect` and `perf` subcommands, and checks the JSON each prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use anyhow::{ensure, Result};
use common::node::{inspect_layers, json_strs, run_node, NodeOutput};
use common::rust_peer::{RustMuxer, RustPeer, RUST_PROTOCOL_VERSION};
use common::PERF_BYTES;
use libp2p::Multiaddr;

const RUN: Duration = Duration::from_secs(30);

/// A rust peer (noise + yamux) listening on 127.0.0.1 and its full `/ip4/…/tcp/…/p2p/…` address.
async fn rust_listener(seed: u64) -> Result<(RustPeer, Multiaddr)> {
    RustPeer::listener(seed, RustMuxer::Yamux).await
}

/// Runs `chain-node OP <addr> ARGS...` against a new rust listener of `seed` and checks it exited 0;
/// returns the rust peer, its address and chain-node's output.
async fn node_op_against_rust(
    seed: u64,
    op: &str,
    args: &[&str],
) -> Result<(RustPeer, String, NodeOutput)> {
    let (rust, addr) = rust_listener(seed).await?;
    let addr = addr.to_string();
    let argv: Vec<&str> = [op, addr.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let out = run_node(&argv, RUN).await?;
    out.expect_success(&format!("chain-node {op}"))?;
    Ok((rust, addr, out))
}

/// `chain-node ping ADDR --count 3`: three RTT lines from the right peer; rust sees an inbound connection.
#[tokio::test]
async fn node_pings_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut rust, _, out) =
            node_op_against_rust(11, "ping", &["--count", "3", "--json", "--seed", "22"]).await?;
        out.expect_pings(3, &rust.peer_id.to_string())?;
        let dialer = rust
            .wait_connected(common::peer_id_from_seed(22), Duration::from_secs(5))
            .await?;
        ensure!(
            !dialer,
            "rust should have seen an inbound connection from chain-node --seed 22"
        );
        Ok(())
    })
    .await?
}

/// `chain-node identify ADDR`: rust's identify info comes back intact.
#[tokio::test]
async fn node_identifies_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (rust, addr_s, out) =
            node_op_against_rust(12, "identify", &["--json", "--seed", "21"]).await?;
        let id = out.one("identify")?;
        ensure!(id["peer_id"] == rust.peer_id.to_string().as_str(), "{id}");
        ensure!(id["protocol_version"] == RUST_PROTOCOL_VERSION, "{id}");
        let agent = id["agent_version"].as_str().unwrap_or_default();
        ensure!(agent.starts_with("rust-libp2p/"), "agent_version {agent:?}");
        let protocols = json_strs(&id["protocols"]);
        for want in ["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"] {
            ensure!(
                protocols.iter().any(|p| p == want),
                "protocols {protocols:?} lack {want}"
            );
        }
        // rust reports its listen address; the tcp part must be there.
        let tcp_part: String = addr_s.split("/p2p/").next().unwrap_or_default().to_string();
        let listen = json_strs(&id["listen_addrs"]);
        ensure!(
            listen.iter().any(|a| a.starts_with(&tcp_part)),
            "listen_addrs {listen:?} lack {tcp_part}"
        );
        let observed = id["observed_addr"].as_str().unwrap_or_default();
        ensure!(
            observed.starts_with("/ip4/127.0.0.1/tcp/"),
            "observed_addr {observed:?}"
        );
        Ok(())
    })
    .await?
}

/// `chain-node inspect ADDR`: the three layers, with noise and yamux negotiated.
#[tokio::test]
async fn node_inspects_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (rust, _, out) = node_op_against_rust(13, "inspect", &["--json"]).await?;
        let line = out.one("inspect")?;
        ensure!(
            line["peer_id"] == rust.peer_id.to_string().as_str(),
            "{line}"
        );
        let layers = inspect_layers(line);
        ensure!(layers.len() == 3, "chain: {line}");
        ensure!(layers[0].0 == "transport", "{line}");
        ensure!(layers[0].1.starts_with("/ip4/127.0.0.1/tcp/"), "{line}");
        ensure!(layers[1] == ("security".into(), "/noise".into()), "{line}");
        ensure!(
            layers[2] == ("muxer".into(), "/yamux/1.0.0".into()),
            "{line}"
        );
        ensure!(
            line["chain"]
                .as_array()
                .is_some_and(|chain| chain.iter().all(|l| l["us"].as_u64().is_some())),
            "every layer needs a duration in us: {line}"
        );
        Ok(())
    })
    .await?
}

/// Explicit `--security /noise --muxer /yamux/1.0.0` works; asking for a muxer rust lacks fails cleanly.
#[tokio::test]
async fn node_protocol_lists_against_rust() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let explicit = [
            "--count",
            "1",
            "--json",
            "--security",
            "/noise",
            "--muxer",
            "/yamux/1.0.0",
        ];
        let (_rust, addr_s, out) = node_op_against_rust(14, "ping", &explicit).await?;
        ensure!(out.ops("ping").len() == 1, "{:?}", out.json);

        let out = run_node(
            &[
                "ping",
                &addr_s,
                "--count",
                "1",
                "--json",
                "--muxer",
                "/mplex/6.7.0",
            ],
            RUN,
        )
        .await?;
        out.expect_error("chain-node ping with a muxer rust does not speak")?;
        Ok(())
    })
    .await?
}

/// `chain-node perf` against the rust perf server: 64 MiB each way, exact counts on both sides.
#[tokio::test]
async fn node_perf_against_rust_64mib_each_way() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(110), async {
        let (mut rust, addr) = rust_listener(15).await?;
        let addr_s = addr.to_string();
        let n = PERF_BYTES.to_string();
        let out = run_node(
            &[
                "perf", &addr_s, "--upload", &n, "--download", &n, "--json", "--seed", "25",
                "--timeout", "100",
            ],
            Duration::from_secs(105),
        )
        .await?;
        out.expect_success("chain-node perf")?;
        let line = out.one("perf")?;
        ensure!(line["upload_bytes"].as_u64() == Some(PERF_BYTES), "{line}");
        ensure!(line["download_bytes"].as_u64() == Some(PERF_BYTES), "{line}");
        let secs = line["seconds"].as_f64().unwrap_or(0.0);
        let mbit = line["mbit_per_s"].as_f64().unwrap_or(0.0);
        ensure!(secs > 0.0 && mbit > 0.0, "{line}");
        let served = rust
            .wait_perf_served(common::peer_id_from_seed(25), Duration::from_secs(10))
            .await?;
        ensure!(served.upload == PERF_BYTES, "rust server received {} bytes", served.upload);
        ensure!(served.download == PERF_BYTES, "rust server sent {} bytes", served.download);
        eprintln!(
            "perf chain-node->rust: 2 x {PERF_BYTES} bytes, chain-node says {secs:.2} s / {mbit:.1} Mbit/s, \
             process wall {:.2} s",
            out.elapsed.as_secs_f64()
        );
        Ok(())
    })
    .await?
}
