//! End to end: a rust-libp2p 0.57 peer dials `chain-node listen` (TCP on 127.0.0.1, noise + yamux) and runs
//! ping, identify and a 64 MiB each-way perf against it; the listener reports the inbound connection and the
//! negotiated chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use common::node::NodeProcess;
use common::rust_peer::RustPeer;
use common::{peer_id_from_seed, PERF_BYTES};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

const NODE_SEED: u64 = 1;
const WAIT: Duration = Duration::from_secs(15);

/// Starts `chain-node listen --json --seed 1` and returns it with its parsed address and PeerId.
async fn start_listener(extra: &[&str]) -> Result<(NodeProcess, Multiaddr, PeerId)> {
    let seed = NODE_SEED.to_string();
    let mut args = vec![
        "listen",
        "--json",
        "--seed",
        &seed,
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--timeout",
        "120",
    ];
    args.extend_from_slice(extra);
    let mut node = NodeProcess::spawn(&args)?;
    let (peer_id, addr) = node.listening().await?;
    let addr: Multiaddr = addr.parse()?;
    let peer_id: PeerId = peer_id.parse()?;
    ensure!(
        peer_id == peer_id_from_seed(NODE_SEED),
        "--seed 1 gave {peer_id}, rust-libp2p derives {}",
        peer_id_from_seed(NODE_SEED)
    );
    ensure!(
        addr.iter().last() == Some(Protocol::P2p(peer_id)),
        "listening addr {addr} does not end in /p2p/{peer_id}"
    );
    ensure!(
        addr.iter().next() == Some(Protocol::Ip4([127, 0, 0, 1].into())),
        "listening addr {addr} is not on 127.0.0.1"
    );
    Ok((node, addr, peer_id))
}

/// Rust dials our listener: ping RTT, identify info, and our `connection` event with the full chain.
#[tokio::test]
async fn rust_dials_listener_ping_identify_and_chain() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut node, addr, node_id) = start_listener(&[]).await?;
        let mut rust = RustPeer::spawn(2)?;
        rust.dial(addr.clone()).await?;

        let dialer = rust.wait_connected(node_id, WAIT).await?;
        ensure!(dialer, "rust should be the dialer");

        let info = rust
            .expect_ping_and_identify(node_id, WAIT, &["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"])
            .await?;
        ensure!(!info.agent_version.is_empty(), "empty agent_version");
        ensure!(!info.protocol_version.is_empty(), "empty protocol_version");
        let tcp_addr: Multiaddr = addr
            .iter()
            .filter(|p| !matches!(p, Protocol::P2p(_)))
            .collect();
        ensure!(
            info.listen_addrs.iter().any(|a| a
                .iter()
                .filter(|p| !matches!(p, Protocol::P2p(_)))
                .collect::<Multiaddr>()
                == tcp_addr),
            "identify listen_addrs {:?} lack {tcp_addr}",
            info.listen_addrs
        );
        ensure!(
            info.observed_addr.iter().next() == Some(Protocol::Ip4([127, 0, 0, 1].into())),
            "observed_addr {} is not the rust peer's 127.0.0.1 address",
            info.observed_addr
        );

        node.expect_inbound_connection(&rust.peer_id.to_string(), "/yamux/1.0.0", WAIT)
            .await?;
        Ok(())
    })
    .await?
}

/// Rust runs a 64 MiB up / 64 MiB down `/perf/1.0.0` against our listener; byte counts are exact.
#[tokio::test]
async fn rust_perf_against_listener_64mib_each_way() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(110), async {
        let (mut node, addr, node_id) = start_listener(&[]).await?;
        let mut rust = RustPeer::spawn(3)?;
        rust.dial(addr).await?;
        rust.wait_connected(node_id, WAIT).await?;

        let start = Instant::now();
        let stats = rust.perf(node_id, PERF_BYTES, PERF_BYTES).await?;
        let secs = start.elapsed().as_secs_f64();
        ensure!(stats.upload == PERF_BYTES, "uploaded {}", stats.upload);
        ensure!(
            stats.download == PERF_BYTES,
            "downloaded {} bytes, asked for {PERF_BYTES}",
            stats.download
        );
        eprintln!(
            "perf rust->chain-node: 2 x {PERF_BYTES} bytes in {secs:.2} s ({:.1} Mbit/s total)",
            (2 * PERF_BYTES) as f64 * 8.0 / secs / 1e6
        );

        // The listener serves /perf/1.0.0, so it must say so in identify.
        let info = rust.wait_identified(node_id, WAIT).await?;
        ensure!(
            info.protocols.iter().any(|p| p.as_ref() == "/perf/1.0.0"),
            "chain-node serves /perf/1.0.0 but identify lists {:?}",
            info.protocols
        );
        // The connection is still usable and the listener still alive.
        ensure!(
            node.is_running(),
            "listener exited during perf: {}",
            node.stderr()
        );
        Ok(())
    })
    .await?
}
