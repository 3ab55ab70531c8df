//! Heap bytes per idle connection over the whole chain (in-memory transport, noise + yamux,
//! identify done, no open substream), ours beside rust-libp2p 0.57 in the same run, counted by
//! a counting global allocator.
//!
//! Both ends of every connection live in this process, so the figure is measured for a pair
//! (dialer + listener) and halved: "per side". N client nodes are built first and the heap is
//! read (baseline); then each dials the one listener and identifies it; after a settle time
//! the heap is read again. `(after - baseline) / N / 2` is the cost of one connection on one
//! side. Then the same for idle substreams on one connection (both ends together). Run:
//! `cargo bench -p chain-benches --bench idle_memory` (`IDLE_CONNS=N`, default 500).
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

    /// The same with secio + mplex (c-ipfs's security, the other muxer).
    fn secio_mplex() -> SwarmBuilder {
        node()
            .security([chainp2p_secio::SecioConfig::default()])
            .muxers([chainp2p_mplex::MplexConfig::default()])
    }

    /// Bytes per side of one idle connection (noise + yamux, or secio + mplex).
    pub async fn per_connection(n: usize, secio_and_mplex: bool) -> f64 {
        let make = if secio_and_mplex { secio_mplex } else { node };
        let server = make().build();
        let addr = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let peer = server.local_peer_id();
        let full: Multiaddr = format!("{addr}/p2p/{peer}").parse().unwrap();
        let clients: Vec<_> = (0..n).map(|_| make().build()).collect();
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

    /// Bytes per idle ping substream (both ends: the dialer's stream, the listener's stream and
    /// its ping handler's task waiting for the next ping), `s` of them on one connection.
    pub async fn per_stream(s: usize) -> f64 {
        let server = node().build();
        let addr = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let full: Multiaddr = format!("{addr}/p2p/{}", server.local_peer_id())
            .parse()
            .unwrap();
        let client = node().build();
        let conn = client.dial(&full).await.unwrap();
        let mut warm = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut warm).await.unwrap();
        tokio::time::sleep(SETTLE).await;
        let before = live_bytes(&ALLOC);
        let mut held = Vec::with_capacity(s);
        for _ in 0..s {
            let mut st = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
            chainp2p_ping::ping(&mut st).await.unwrap();
            held.push(st);
        }
        tokio::time::sleep(SETTLE).await;
        let after = live_bytes(&ALLOC);
        drop(held);
        client.shutdown().await;
        server.shutdown().await;
        (after as f64 - before as f64) / s as f64
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

    /// Bytes per idle substream of rust-libp2p (both ends: the dialer's `libp2p-stream`
    /// stream after one 32-byte echo, the listener's stream and its task waiting to read).
    pub async fn per_stream(s: usize) -> f64 {
        use futures::{AsyncReadExt, AsyncWriteExt};
        use libp2p::StreamProtocol;
        const ECHO: StreamProtocol = StreamProtocol::new("/idle-echo/1.0.0");
        fn stream_node() -> Swarm<libp2p_stream::Behaviour> {
            let key = identity::Keypair::generate_ed25519();
            let transport = MemoryTransport::default()
                .upgrade(Version::V1)
                .authenticate(noise::Config::new(&key).unwrap())
                .multiplex(yamux::Config::default())
                .boxed();
            Swarm::new(
                transport,
                libp2p_stream::Behaviour::new(),
                key.public().to_peer_id(),
                libp2p::swarm::Config::with_tokio_executor()
                    .with_idle_connection_timeout(Duration::from_secs(3600)),
            )
        }
        let mut server = stream_node();
        let mut incoming = server.behaviour().new_control().accept(ECHO).unwrap();
        let addr: Multiaddr = format!("/memory/{}", 1 + rand_port()).parse().unwrap();
        server.listen_on(addr.clone()).unwrap();
        let server_peer = *server.local_peer_id();
        let accept = tokio::spawn(async move {
            while let Some((_, mut st)) = incoming.next().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 32];
                    while let Ok(n) = st.read(&mut buf).await {
                        if n == 0 || st.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let server_task = tokio::spawn(async move {
            loop {
                server.select_next_some().await;
            }
        });
        let mut client = stream_node();
        let mut control = client.behaviour().new_control();
        client.dial(addr).unwrap();
        let client_task = tokio::spawn(async move {
            loop {
                client.select_next_some().await;
            }
        });
        let echo_once = async |control: &mut libp2p_stream::Control| {
            let mut st = loop {
                match control.open_stream(server_peer, ECHO).await {
                    Ok(st) => break st,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            st.write_all(&[7u8; 32]).await.unwrap();
            let mut back = [0u8; 32];
            st.read_exact(&mut back).await.unwrap();
            st
        };
        let _warm = echo_once(&mut control).await;
        tokio::time::sleep(SETTLE).await;
        let before = live_bytes(&ALLOC);
        let mut held = Vec::with_capacity(s);
        for _ in 0..s {
            held.push(echo_once(&mut control).await);
        }
        tokio::time::sleep(SETTLE).await;
        let after = live_bytes(&ALLOC);
        drop(held);
        for t in [accept, server_task, client_task] {
            t.abort();
        }
        (after as f64 - before as f64) / s as f64
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
    let ours = rt.block_on(ours::per_connection(n, false));
    let theirs = rt.block_on(theirs::per_connection(n));
    println!(
        "idle connection, heap bytes per side ({n} connections, noise + yamux + identify, in memory): \
         ours {ours:.0} B, rust-libp2p 0.57 {theirs:.0} B, ratio {:.2}",
        ours / theirs
    );
    let secio_mplex = rt.block_on(ours::per_connection(n, true));
    println!(
        "idle connection, heap bytes per side ({n} connections, secio + mplex + identify, in memory): \
         ours {secio_mplex:.0} B"
    );
    let ours = rt.block_on(ours::per_stream(n));
    let theirs = rt.block_on(theirs::per_stream(n));
    println!(
        "idle substream, heap bytes for both ends ({n} on one connection, after one exchange; ours a \
         ping stream with its handler task, theirs a libp2p-stream echo stream with its task): \
         ours {ours:.0} B, rust-libp2p 0.57 {theirs:.0} B, ratio {:.2}",
        ours / theirs
    );
}
