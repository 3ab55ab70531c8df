//! Two in-process swarms: the whole chain over loopback TCP once, then over the in-memory
//! transport (`/memory/N`): connection reuse, user protocols, events, and a listener that keeps
//! serving after bad peers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Next, StreamHandler};
use chainp2p_swarm::identity::Keypair;
use chainp2p_swarm::{Direction, Multiaddr, Swarm, SwarmBuilder, SwarmEvent};
use chainp2p_transport_memory::MemoryTransport;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

/// A user protocol: reads a line-free message until EOF and answers it reversed.
struct Reverse;

#[async_trait]
impl StreamHandler for Reverse {
    fn protocols(&self) -> Vec<String> {
        vec!["/test/reverse/1.0.0".into()]
    }

    async fn handle(
        &self,
        _p: &str,
        mut io: BoxStream,
        _ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        let mut buf = Vec::new();
        io.read_to_end(&mut buf)
            .await
            .map_err(|e| ChainError::from_io("reverse", e))?;
        buf.reverse();
        io.write_all(&buf)
            .await
            .map_err(|e| ChainError::from_io("reverse", e))?;
        io.close()
            .await
            .map_err(|e| ChainError::from_io("reverse", e))?;
        Ok(Next::Done)
    }
}

/// A builder on the in-memory transport.
fn node() -> SwarmBuilder {
    SwarmBuilder::new(Keypair::generate_ed25519()).transports([MemoryTransport::default()])
}

/// Builds and listens on `/memory/0` (or TCP if the builder has only the default transport);
/// returns the swarm and its address with `/p2p/`.
async fn listening(builder: SwarmBuilder) -> (Swarm, Multiaddr) {
    listening_on(builder, "/memory/0").await
}

async fn listening_on(builder: SwarmBuilder, addr: &str) -> (Swarm, Multiaddr) {
    let node = builder.build();
    let addr = node.listen(&addr.parse().unwrap()).await.unwrap();
    let full: Multiaddr = format!("{addr}/p2p/{}", node.local_peer_id())
        .parse()
        .unwrap();
    (node, full)
}

#[tokio::test]
async fn dial_ping_and_user_protocol_over_the_whole_chain() {
    timeout(LIMIT, async {
        // Over TCP: the whole chain, from the socket up.
        let (server, addr) = listening_on(
            SwarmBuilder::new(Keypair::generate_ed25519()).protocol(Arc::new(Reverse)),
            "/ip4/127.0.0.1/tcp/0",
        )
        .await;
        let mut server_events = server.subscribe();
        let client = SwarmBuilder::new(Keypair::generate_ed25519()).build();

        let conn = client.dial(&addr).await.unwrap();
        assert_eq!(conn.peer_id(), server.local_peer_id());
        assert_eq!(conn.direction(), Direction::Outbound);
        assert_eq!(
            conn.chain().protocols(),
            vec![
                "/multistream/1.0.0",
                "/noise",
                "/multistream/1.0.0",
                "/yamux/1.0.0"
            ]
        );

        let mut ping = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        let rtt = chainp2p_ping::ping(&mut ping).await.unwrap();
        assert!(rtt < Duration::from_secs(5));

        let mut s = conn.open_stream("/test/reverse/1.0.0").await.unwrap();
        s.write_all(b"chain").await.unwrap();
        s.close().await.unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"niahc");

        // The server saw an inbound connection from the client, with the same chain.
        loop {
            if let SwarmEvent::ConnectionEstablished {
                peer_id,
                direction,
                chain,
                ..
            } = server_events.recv().await.unwrap()
            {
                assert_eq!(peer_id, client.local_peer_id());
                assert_eq!(direction, Direction::Inbound);
                assert_eq!(chain.protocols()[1], "/noise");
                break;
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn one_connection_per_peer_is_reused() {
    timeout(LIMIT, async {
        let (_server, addr) = listening(node()).await;
        let client = node().build();
        let a = client.dial(&addr).await.unwrap();
        let b = client.dial(&addr).await.unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(client.connections().len(), 1);
        let mut s = client
            .open_stream(&a.peer_id(), chainp2p_ping::PROTOCOL)
            .await
            .unwrap();
        chainp2p_ping::ping(&mut s).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_protocol_is_refused_and_the_connection_lives_on() {
    timeout(LIMIT, async {
        let (_server, addr) = listening(node()).await;
        let client = node().build();
        let conn = client.dial(&addr).await.unwrap();
        let err = conn.open_stream("/nobody/speaks/this").await.err().unwrap();
        assert_eq!(err.layer().as_str(), "multistream");
        assert_eq!(err.kind(), ErrorKind::NegotiationFailed);
        let mut s = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut s).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn p2p_id_mismatch_is_an_authentication_error_naming_both_ids() {
    timeout(LIMIT, async {
        let (server, addr) = listening(node()).await;
        let other = Keypair::generate_ed25519().public().to_peer_id();
        let wrong: Multiaddr = addr
            .to_string()
            .replace(&server.local_peer_id().to_string(), &other.to_string())
            .parse()
            .unwrap();
        let client = node().build();
        let err = client.dial(&wrong).await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&other.to_string()) && text.contains(&server.local_peer_id().to_string()),
            "{text}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn listener_keeps_serving_after_garbage_and_silent_peers() {
    timeout(LIMIT, async {
        let (server, addr) = listening(node().upgrade_timeout(Duration::from_millis(500))).await;
        let mut events = server.subscribe();
        let raw_addr = server.listen_addrs()[0].clone();
        // A peer that speaks garbage, and one that never speaks.
        let raw = MemoryTransport::default();
        let mut garbage = raw.connect(&raw_addr).unwrap();
        garbage.io.write_all(&[0xff; 64]).await.unwrap();
        let _silent = raw.connect(&raw_addr).unwrap();

        let mut errors = Vec::new();
        while errors.len() < 2 {
            if let SwarmEvent::IncomingConnectionError { error, .. } = events.recv().await.unwrap()
            {
                errors.push(error);
            }
        }
        // Typed errors: the layer that failed, and the kind.
        assert!(
            errors.iter().any(|e| e.layer().as_str() == "multistream"),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.kind() == ErrorKind::Timeout),
            "{errors:?}"
        );

        // A good peer still gets through.
        let client = node().build();
        let conn = client.dial(&addr).await.unwrap();
        let mut s = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut s).await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn closing_a_connection_is_seen_by_both_sides() {
    timeout(LIMIT, async {
        let (server, addr) = listening(node()).await;
        let mut server_events = server.subscribe();
        let client = node().build();
        let conn = client.dial(&addr).await.unwrap();
        conn.close().await.unwrap();
        loop {
            if let SwarmEvent::ConnectionClosed { peer_id, .. } =
                server_events.recv().await.unwrap()
            {
                assert_eq!(peer_id, client.local_peer_id());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(client.connection(&server.local_peer_id()).is_none());
    })
    .await
    .unwrap();
}
