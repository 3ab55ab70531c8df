//! Floods against `chain-node listen` over loopback, with limits set on its command line: a
//! well-behaved peer's pings are answered throughout, the newcomers over a limit are refused
//! (counted in `{"event":"stats"}`), and the node's memory stays bounded.
//!
//! - connections: thousands of silent TCP connections (stalled handshakes) from one address
//!   and from many (127.0.0.2 … 127.0.0.201), then hundreds of full handshakes from distinct
//!   peers;
//! - substreams: one connection opening thousands of ping substreams and never closing them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use chainp2p_swarm::identity::Keypair;
use chainp2p_swarm::{Multiaddr, ResourceLimits, Swarm, SwarmBuilder};
use common::node::NodeProcess;
use serde_json::Value;

/// RSS of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn flooder() -> Swarm {
    // The attacker lifts its own limits; the node's are what is tested.
    SwarmBuilder::new(Keypair::generate_ed25519())
        .resource_limits(ResourceLimits::unlimited())
        .connection_manager(None)
        .build()
}

/// Starts the node with small limits and `--stats`.
async fn node() -> Result<(NodeProcess, Multiaddr, SocketAddr)> {
    let mut node = NodeProcess::spawn(&[
        "listen",
        "--json",
        "--memory",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--max-connections",
        "96",
        "--max-inbound",
        "64",
        "--max-pending",
        "32",
        "--max-pending-per-ip",
        "4",
        "--max-streams-per-peer",
        "512",
        "--memory-limit",
        "67108864",
        "--stats",
        "0.5",
        "--timeout",
        "30",
    ])?;
    let (_, addr) = node.listening().await?;
    let addr: Multiaddr = addr.parse()?;
    let port = addr
        .iter()
        .find_map(|p| match p {
            chainp2p_core::multiaddr::Protocol::Tcp(p) => Some(p),
            _ => None,
        })
        .context("no tcp port")?;
    Ok((node, addr, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// A well-behaved peer pinging every 100 ms until `stop`; counts answers and the worst RTT.
fn pinger(
    good: Swarm,
    addr: Multiaddr,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<Result<Duration>> {
    tokio::spawn(async move {
        let conn = good.dial(&addr).await?;
        let mut worst = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let mut s = tokio::time::timeout(
                Duration::from_secs(5),
                conn.open_stream(chainp2p_ping::PROTOCOL),
            )
            .await
            .context("ping stream not open within 5 s")??;
            tokio::time::timeout(Duration::from_secs(5), chainp2p_ping::ping(&mut s))
                .await
                .context("ping not answered within 5 s")??;
            worst = worst.max(started.elapsed());
            answered.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(worst)
    })
}

/// Opens `n` silent TCP connections from `ip` (kept open), as fast as they connect.
async fn silent(ip: Ipv4Addr, to: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        let Ok(sock) = tokio::net::TcpSocket::new_v4() else {
            break;
        };
        if sock.bind(SocketAddr::new(IpAddr::V4(ip), 0)).is_err() {
            break;
        }
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), sock.connect(to)).await {
            out.push(s);
        }
    }
    out
}

/// A `stats` line printed at least 0.6 s after the call (older ones, still queued, skipped:
/// the node prints one every 0.5 s).
async fn stats(node: &mut NodeProcess) -> Result<Value> {
    let fresh_after = Instant::now() + Duration::from_millis(600);
    loop {
        let seen = node
            .seen_lines()
            .iter()
            .filter(|v| v["event"] == "stats")
            .count();
        let mut n = 0;
        let line = node
            .wait_json("a stats line", Duration::from_secs(5), |v| {
                if v["event"] != "stats" {
                    return None;
                }
                n += 1;
                (n > seen).then(|| v.clone())
            })
            .await?;
        if Instant::now() >= fresh_after {
            return Ok(line);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_floods_are_refused_while_a_good_peer_is_served() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        let (mut node, addr, sock) = node().await?;
        let pid = node.pid().context("no pid")?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let good = pinger(flooder(), addr.clone(), stop.clone(), answered.clone());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let baseline = rss(pid);

        // 1. Silent connections from one address: 4 pending at most, the rest closed at once.
        let one = silent(Ipv4Addr::new(127, 0, 0, 1), sock, 1500).await;
        // 2. From 200 addresses: 32 pending in total.
        let mut many = Vec::new();
        for i in 2..202u8 {
            many.extend(silent(Ipv4Addr::new(127, 0, 0, i), sock, 5).await);
        }
        let s = stats(&mut node).await?;
        ensure!(
            s["pending"].as_u64() <= Some(32),
            "pending over its limit: {s}"
        );
        ensure!(
            s["inbound"].as_u64() <= Some(64),
            "inbound over its limit: {s}"
        );
        ensure!(
            s["refused"]["connections"].as_u64() >= Some(1500 - 4 + 1000 - 32 - 64),
            "the silent flood was refused: {s}"
        );
        drop((one, many));

        // 3. Full handshakes from 150 distinct peers, one after the other (at once, the
        //    per-IP handshake limit would refuse most of them first): 64 inbound at most,
        //    the good peer's connection among them.
        let peers: Vec<Swarm> = (0..150).map(|_| flooder()).collect();
        let mut ok = 0;
        for p in &peers {
            if p.dial(&addr).await.is_ok() {
                ok += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let s = stats(&mut node).await?;
        ensure!(
            s["inbound"].as_u64() <= Some(64),
            "inbound over its limit: {s}"
        );
        ensure!(
            (56..=63).contains(&ok),
            "{ok} of 150 peers got through; 63 fit beside the good peer"
        );
        let grown = rss(pid).saturating_sub(baseline);
        ensure!(
            grown < 64 << 20,
            "RSS grew by {grown} bytes during the flood (memory limit 64 MiB)"
        );

        stop.store(true, Ordering::Relaxed);
        let worst = good.await??;
        ensure!(
            answered.load(Ordering::Relaxed) >= 5,
            "the good peer's pings were answered throughout"
        );
        eprintln!(
            "flood: {} pings answered, worst {worst:?}; RSS +{} kB; last stats {s}",
            answered.load(Ordering::Relaxed),
            grown / 1000
        );
        for p in &peers {
            p.shutdown().await;
        }
        Ok(())
    })
    .await
    .context("flood test over 120 s")?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substream_flood_is_reset_over_the_limits_and_the_connection_serves_on() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        let (mut node, addr, _) = node().await?;
        let pid = node.pid().context("no pid")?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let good = pinger(flooder(), addr.clone(), stop.clone(), answered.clone());
        let baseline = rss(pid);

        let bad = flooder();
        let conn = bad.dial(&addr).await?;
        // 3,000 ping substreams, negotiated and never closed; over 256 per protocol and peer
        // the node resets them.
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..3000 {
            match tokio::time::timeout(
                Duration::from_secs(5),
                conn.open_stream(chainp2p_ping::PROTOCOL),
            )
            .await
            {
                Ok(Ok(mut s)) => {
                    // One ping each: a refused substream fails here.
                    match tokio::time::timeout(Duration::from_secs(5), chainp2p_ping::ping(&mut s))
                        .await
                    {
                        Ok(Ok(_)) => held.push(s),
                        _ => refused += 1,
                    }
                }
                _ => refused += 1,
            }
        }
        let s = stats(&mut node).await?;
        ensure!(
            held.len() <= 256,
            "{} ping substreams kept by one peer (limit 256 per protocol and peer)",
            held.len()
        );
        ensure!(refused >= 3000 - 256, "{refused} refused");
        ensure!(
            s["refused"]["streams"].as_u64() >= Some(1),
            "refusals counted: {s}"
        );
        ensure!(
            s["streams"].as_u64() <= Some(512 + 8),
            "streams bounded: {s}"
        );
        // The flooder's own connection still serves its admitted substreams.
        for s in held.iter_mut().take(10) {
            chainp2p_ping::ping(s).await?;
        }
        let grown = rss(pid).saturating_sub(baseline);
        ensure!(grown < 64 << 20, "RSS grew by {grown} bytes");
        stop.store(true, Ordering::Relaxed);
        good.await??;
        ensure!(
            answered.load(Ordering::Relaxed) >= 3,
            "good pings answered throughout"
        );
        // Dropping them gives the slots back.
        drop(held);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let s = stats(&mut node).await?;
        ensure!(s["streams"].as_u64() <= Some(8), "slots given back: {s}");
        eprintln!(
            "stream flood: {refused} refused, RSS +{} kB, stats {s}",
            grown / 1000
        );
        Ok(())
    })
    .await
    .context("stream flood test over 120 s")?
}
