//! The resource manager at work: every limit crossed refuses the newcomer with a clear error
//! (a connection closed before its handshake, a dial or open failing with `LimitExceeded`
//! naming the scope, a substream reset) while the peers already admitted are served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Next, StreamHandler};
use chainp2p_swarm::identity::Keypair;
use chainp2p_swarm::{Connection, Multiaddr, ResourceLimits, Swarm, SwarmBuilder};
use chainp2p_transport_memory::MemoryTransport;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::io::AsyncReadExt as _;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);
const ECHO: &str = "/test/echo/1.0.0";

/// Echoes until EOF: a substream that stays open as long as its opener wants.
struct Echo;

#[async_trait]
impl StreamHandler for Echo {
    fn protocols(&self) -> Vec<String> {
        vec![ECHO.into()]
    }

    async fn handle(
        &self,
        _p: &str,
        mut io: BoxStream,
        _ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        let mut buf = [0u8; 256];
        loop {
            let n = io
                .read(&mut buf)
                .await
                .map_err(|e| ChainError::from_io("echo", e))?;
            if n == 0 {
                break;
            }
            io.write_all(&buf[..n])
                .await
                .map_err(|e| ChainError::from_io("echo", e))?;
        }
        io.close()
            .await
            .map_err(|e| ChainError::from_io("echo", e))?;
        Ok(Next::Done)
    }
}

fn node(limits: ResourceLimits) -> SwarmBuilder {
    SwarmBuilder::new(Keypair::generate_ed25519())
        .transports([MemoryTransport::default()])
        .protocol(std::sync::Arc::new(Echo))
        .resource_limits(limits)
}

async fn listening(limits: ResourceLimits) -> (Swarm, Multiaddr) {
    let node = node(limits).build();
    let addr = node.listen(&"/memory/0".parse().unwrap()).await.unwrap();
    (node, addr)
}

/// One round trip on a new echo substream.
async fn echo(conn: &Connection) -> Result<(), String> {
    let mut s = conn.open_stream(ECHO).await.map_err(|e| e.to_string())?;
    s.write_all(b"ping").await.map_err(|e| e.to_string())?;
    let mut back = [0u8; 4];
    s.read_exact(&mut back).await.map_err(|e| e.to_string())?;
    (&back == b"ping").then_some(()).ok_or("wrong echo".into())
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within 4 s: {what}");
}

#[tokio::test]
async fn inbound_connections_over_the_limit_are_refused_and_the_admitted_are_served() {
    timeout(LIMIT, async {
        let limits = ResourceLimits {
            max_inbound_connections: 2,
            ..ResourceLimits::default()
        };
        let (server, addr) = listening(limits).await;
        let clients: Vec<Swarm> = (0..3)
            .map(|_| node(ResourceLimits::default()).build())
            .collect();
        let a = clients[0].dial(&addr).await.unwrap();
        let b = clients[1].dial(&addr).await.unwrap();
        let third = clients[2].dial(&addr).await;
        assert!(
            third.is_err(),
            "the third connection is closed before its handshake"
        );
        let usage = server.resource_usage();
        assert_eq!((usage.inbound, usage.refused_connections), (2, 1));
        echo(&a).await.unwrap();
        echo(&b).await.unwrap();
        // A slot given back admits the next one.
        a.close().await.unwrap();
        wait_for("the closed connection's slot back", || {
            server.resource_usage().inbound == 1
        })
        .await;
        let c = clients[2].dial(&addr).await.unwrap();
        echo(&c).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_peer_over_its_connection_limit_is_refused_after_the_handshake() {
    timeout(LIMIT, async {
        let limits = ResourceLimits {
            max_connections_per_peer: 2,
            ..ResourceLimits::default()
        };
        let (server, addr) = listening(limits).await;
        let client = node(ResourceLimits::default()).build();
        let other = node(ResourceLimits::default()).build();
        // Without `/p2p/` every dial is a new connection to the same peer.
        let first = client.dial(&addr).await.unwrap();
        let _second = client.dial(&addr).await.unwrap();
        let _third = client.dial(&addr).await;
        wait_for("the third connection refused", || {
            server.resource_usage().refused_connections == 1
        })
        .await;
        assert_eq!(server.resource_usage().connections, 2);
        echo(&first).await.unwrap();
        let o = other.dial(&addr).await.unwrap();
        echo(&o).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn outbound_dials_and_opens_over_a_limit_fail_with_limit_exceeded() {
    timeout(LIMIT, async {
        let (_server, addr) = listening(ResourceLimits::default()).await;
        let (_server2, addr2) = listening(ResourceLimits::default()).await;
        let client = node(ResourceLimits {
            max_connections: 1,
            max_streams_per_peer: 2,
            ..ResourceLimits::default()
        })
        .build();
        let conn = client.dial(&addr).await.unwrap();
        let e = client.dial(&addr2).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
        assert!(e.to_string().contains("system connections"), "{e}");
        let _s1 = conn.open_stream(ECHO).await.unwrap();
        let _s2 = conn.open_stream(ECHO).await.unwrap();
        let e = conn.open_stream(ECHO).await.err().expect("refused");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
        assert!(e.to_string().contains("peer streams"), "{e}");
        drop(_s1);
        echo(&conn).await.unwrap();
        assert_eq!(client.resource_usage().refused_streams, 1);
        assert_eq!(client.resource_usage().refused_connections, 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn inbound_substreams_over_a_protocol_limit_are_reset_the_others_served() {
    timeout(LIMIT, async {
        let limits = ResourceLimits {
            max_streams_per_protocol_per_peer: 2,
            ..ResourceLimits::default()
        };
        let (server, addr) = listening(limits).await;
        let client = node(ResourceLimits::default()).build();
        let conn = client.dial(&addr).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = conn.open_stream(ECHO).await.unwrap();
            s.write_all(b"x").await.unwrap();
            let mut one = [0u8; 1];
            s.read_exact(&mut one).await.unwrap();
            held.push(s);
        }
        // The third is negotiated, then refused by the protocol scope: reset, no echo.
        let refused = async {
            let mut s = conn.open_stream(ECHO).await.map_err(|e| e.to_string())?;
            s.write_all(b"y").await.map_err(|e| e.to_string())?;
            let mut one = [0u8; 1];
            match s.read(&mut one).await {
                Ok(1) => Ok("echoed".to_owned()),
                Ok(_) => Err("eof".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        }
        .await;
        assert!(
            refused.is_err(),
            "the third substream is refused, got {refused:?}"
        );
        assert_eq!(server.resource_usage().refused_streams, 1);
        // The held ones still echo; ping (another protocol) is served meanwhile.
        for s in &mut held {
            s.write_all(b"z").await.unwrap();
            let mut one = [0u8; 1];
            s.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"z");
        }
        let mut p = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut p).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stalled_handshakes_over_the_per_ip_limit_are_closed_at_once() {
    timeout(LIMIT, async {
        let node = SwarmBuilder::new(Keypair::generate_ed25519())
            .resource_limits(ResourceLimits {
                max_pending_per_ip: 1,
                ..ResourceLimits::default()
            })
            .build();
        let addr = node
            .listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let port = match addr.iter().nth(1) {
            Some(chainp2p_core::multiaddr::Protocol::Tcp(p)) => p,
            other => panic!("no tcp port in {addr}: {other:?}"),
        };
        let from = |ip: &str| {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            async move {
                let sock = tokio::net::TcpSocket::new_v4().unwrap();
                sock.bind((ip, 0).into()).unwrap();
                sock.connect(([127, 0, 0, 1], port).into()).await.unwrap()
            }
        };
        // One silent handshake from 127.0.0.2 is held (pending) ...
        let _stalled = from("127.0.0.2").await;
        wait_for("the first stalled handshake pending", || {
            node.resource_usage().pending == 1
        })
        .await;
        // ... a second from the same address is closed at once ...
        let mut second = from("127.0.0.2").await;
        let mut buf = [0u8; 64];
        let n = timeout(Duration::from_secs(3), second.read(&mut buf))
            .await
            .expect("closed at once, not after the handshake timeout");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        assert_eq!(node.resource_usage().refused_connections, 1);
        // ... while a well-behaved peer from another address gets through.
        let client = SwarmBuilder::new(Keypair::generate_ed25519()).build();
        let conn = client.dial(&addr).await.unwrap();
        let mut p = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut p).await.unwrap();
    })
    .await
    .unwrap();
}

const SINK: &str = "/test/sink/1.0.0";

/// Reads to EOF, answers with the byte count.
struct Sink;

#[async_trait]
impl StreamHandler for Sink {
    fn protocols(&self) -> Vec<String> {
        vec![SINK.into()]
    }

    async fn handle(
        &self,
        _p: &str,
        mut io: BoxStream,
        _ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = io
                .read(&mut buf)
                .await
                .map_err(|e| ChainError::from_io("sink", e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        io.write_all(&total.to_be_bytes())
            .await
            .map_err(|e| ChainError::from_io("sink", e))?;
        io.close()
            .await
            .map_err(|e| ChainError::from_io("sink", e))?;
        Ok(Next::Done)
    }
}

#[tokio::test]
async fn receive_windows_grow_within_the_memory_limit_and_give_it_back() {
    timeout(LIMIT, async {
        const CAP: u64 = 768 * 1024;
        // A 1 MiB receive window is 768 KiB above yamux's 256 KiB: reserved from the memory
        // limit when the stream opens (halved on refusal), whatever the RTT. Growth by
        // auto-tuning needs window updates within 2×RTT, which an in-memory pipe's
        // microsecond RTT rarely allows (the tuning itself is tested sans-IO in yamux).
        let server = SwarmBuilder::new(Keypair::generate_ed25519())
            .transports([MemoryTransport::default()])
            .muxers([chainp2p_yamux::YamuxConfig::default().with_receive_window(1 << 20)])
            .protocol(std::sync::Arc::new(Sink))
            .resource_limits(ResourceLimits {
                memory: CAP,
                ..ResourceLimits::default()
            })
            .build();
        let addr = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let client = node(ResourceLimits::default()).build();
        let conn = client.dial(&addr).await.unwrap();
        let mut peak = 0;
        let total: u64 = 64 << 20;
        let mut s = conn.open_stream(SINK).await.unwrap();
        let chunk = vec![7u8; 256 * 1024];
        let mut sent = 0;
        while sent < total {
            s.write_all(&chunk).await.unwrap();
            sent += chunk.len() as u64;
            let used = server.resource_usage().memory_reserved;
            assert!(used <= CAP, "{used} reserved over the {CAP} limit");
            peak = peak.max(used);
        }
        s.close().await.unwrap();
        let mut count = [0u8; 8];
        s.read_exact(&mut count).await.unwrap();
        assert_eq!(u64::from_be_bytes(count), total, "every byte arrived");
        assert!(peak > 0, "the window grew (reserved {peak} at most)");
        drop(s);
        conn.close().await.unwrap();
        wait_for("the reservation given back", || {
            server.resource_usage().memory_reserved == 0
        })
        .await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_connection_manager_trims_to_the_low_mark_keeping_protected_and_busy_peers() {
    timeout(LIMIT, async {
        let server = node(ResourceLimits::default())
            .connection_manager(Some(chainp2p_swarm::ConnectionManagerConfig {
                low: 2,
                high: 4,
                grace: Duration::from_millis(300),
            }))
            .build();
        let addr = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let clients: Vec<Swarm> = (0..6)
            .map(|_| node(ResourceLimits::default()).build())
            .collect();
        let mut conns = Vec::new();
        for c in &clients {
            conns.push(c.dial(&addr).await.unwrap());
        }
        server.protect(clients[0].local_peer_id());
        let mut busy = conns[1].open_stream(ECHO).await.unwrap();
        busy.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        busy.read_exact(&mut one).await.unwrap();
        assert_eq!(
            server.all_connections().len(),
            6,
            "nothing trimmed in the grace period"
        );
        wait_for("trimmed to the low mark", || {
            server.all_connections().len() == 2
        })
        .await;
        let kept: Vec<_> = server
            .all_connections()
            .iter()
            .map(|c| c.peer_id())
            .collect();
        assert!(
            kept.contains(&clients[0].local_peer_id()),
            "the protected peer stays"
        );
        assert!(
            kept.contains(&clients[1].local_peer_id()),
            "the busy peer stays"
        );
        // The busy stream still works; a trimmed client can come back (in a new grace period).
        busy.write_all(b"y").await.unwrap();
        busy.read_exact(&mut one).await.unwrap();
        wait_for("the trimmed client saw its close", || {
            clients[5].connections().is_empty()
        })
        .await;
        let again = clients[5].dial(&addr).await.unwrap();
        echo(&again).await.unwrap();
    })
    .await
    .unwrap();
}
