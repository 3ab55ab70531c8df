//! Heap bytes per idle connection over the whole chain (in-memory transport, noise + yamux,
//! identify done, no open substream), ours beside rust-libp2p 0.57 in the same run, counted by
//! a counting global allocator.
//!
//! Both ends of every connection live in this process, so the figure is measured for a pair
//! (dialer + listener) and halved: "per side". N client nodes are built first and the heap is
//! read (baseline); then each dials the one listener and identifies it; after a settle time
//! the heap is read again. `(after - baseline) / N / 2` is the cost of one connection on one
//! side. Run: `cargo bench -p chain-benches --bench idle_memory` (`IDLE_CONNS=N`, default 500).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chain_benches::alloc::{counting, live_bytes, Counting};
use futures::StreamExt;

#[global_allocator]
static ALLOC: Counting = counting();

/// Time given to connections to settle (identify answered, buffers drained) before reading.
const SETTLE: Duration = Duration::from_millis(1500);

fn conns() -> usize {
    std::env::var("IDLE_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

mod ours {
    use super::*;
    use chainp2p_swarm::identity::Keypair;
    use chainp2p_swarm::{Multiaddr, ResourceLimits, SwarmBuilder};
    use chainp2p_transport_memory::MemoryTransport;

    fn node() -> SwarmBuilder {
        // Hundreds of connections to one node on purpose.
        SwarmBuilder::new(Keypair::generate_ed25519())
            .transports([MemoryTransport::default()])
            .resource_limits(ResourceLimits::unlimited())
    }

    /// Bytes per side of one idle connection.
    pub async fn per_connection(n: usize) -> f64 {
        let server = node().build();
        let addr = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let peer = server.local_peer_id();
        let full: Multiaddr = format!("{addr}/p2p/{peer}").parse().unwrap();
        let clients: Vec<_> = (0..n).map(|_| node().build()).collect();
        tokio::time::sleep(SETTLE).await;
        let before = live_bytes(&ALLOC);
        for c in &clients {
            c.dial(&full).await.unwrap();
            c.identify(&peer).await.unwrap();
        }
        tokio::time::sleep(SETTLE).await;
        assert_eq!(server.connections().len(), n, "every connection held");
        let after = live_bytes(&ALLOC);
        for c in &clients {
            c.shutdown().await;
        }
        server.shutdown().await;
        (after as f64 - before as f64) / n as f64 / 2.0
    }
}

mod theirs {
    use super::*;
    use libp2p::core::transport::MemoryTransport;
    use libp2p::core::upgrade::Version;
    use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
    use libp2p::{identify, identity, noise, ping, yamux, Multiaddr, Swarm, Transport};

    #[derive(NetworkBehaviour)]
    struct Behaviour {
        identify: identify::Behaviour,
        ping: ping::Behaviour,
    }

    fn node() -> Swarm<Behaviour> {
        let key = identity::Keypair::generate_ed25519();
        let transport = MemoryTransport::default()
            .upgrade(Version::V1)
            .authenticate(noise::Config::new(&key).unwrap())
            .multiplex(yamux::Config::default())
            .boxed();
        let behaviour = Behaviour {
            identify: identify::Behaviour::new(identify::Config::new(
                "/ipfs/id/1.0.0".into(),
                key.public(),
            )),
            ping: ping::Behaviour::default(),
        };
        let peer = key.public().to_peer_id();
        Swarm::new(
            transport,
            behaviour,
            peer,
            libp2p::swarm::Config::with_tokio_executor()
                .with_idle_connection_timeout(Duration::from_secs(3600)),
        )
    }

    /// Bytes per side of one idle connection.
    pub async fn per_connection(n: usize) -> f64 {
        let mut server = node();
        let port = 1 + rand_port();
        let addr: Multiaddr = format!("/memory/{port}").parse().unwrap();
        server.listen_on(addr.clone()).unwrap();
        let (count_tx, mut count_rx) = tokio::sync::mpsc::unbounded_channel();
        let server_task = tokio::spawn(async move {
            loop {
                if let SwarmEvent::ConnectionEstablished { .. } = server.select_next_some().await {
                    let _ = count_tx.send(());
                }
            }
        });
        let mut clients: Vec<_> = (0..n).map(|_| node()).collect();
        tokio::time::sleep(SETTLE).await;
        let before = live_bytes(&ALLOC);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for mut c in clients.drain(..) {
            c.dial(addr.clone()).unwrap();
            let done = done_tx.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    if let SwarmEvent::Behaviour(BehaviourEvent::Identify(
                        identify::Event::Received { .. },
                    )) = c.select_next_some().await
                    {
                        let _ = done.send(());
                    }
                }
            }));
        }
        for _ in 0..n {
            tokio::time::timeout(Duration::from_secs(60), done_rx.recv())
                .await
                .expect("rust-libp2p identify within 60 s");
            tokio::time::timeout(Duration::from_secs(60), count_rx.recv())
                .await
                .expect("rust-libp2p connection within 60 s");
        }
        tokio::time::sleep(SETTLE).await;
        let after = live_bytes(&ALLOC);
        for t in tasks {
            t.abort();
        }
        server_task.abort();
        (after as f64 - before as f64) / n as f64 / 2.0
    }

    fn rand_port() -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64 % 1_000_000_000)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a small N then.
    let n = if std::env::args().any(|a| a == "--bench") {
        conns()
    } else {
        20
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ours = rt.block_on(ours::per_connection(n));
    let theirs = rt.block_on(theirs::per_connection(n));
    println!(
        "idle connection, heap bytes per side ({n} connections, noise + yamux + identify, in memory): \
         ours {ours:.0} B, rust-libp2p 0.57 {theirs:.0} B, ratio {:.2}",
        ours / theirs
    );
}
