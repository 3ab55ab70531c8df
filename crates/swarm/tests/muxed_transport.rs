//! The transport seam for connections that arrive already secured and muxed (as QUIC's will):
//! a test transport that runs noise and yamux itself over the memory transport and hands the
//! swarm a `MuxedConnection`. The swarm must skip its own stages, record the transport's steps,
//! check the dialed `/p2p/` id, and serve substreams as on any other connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chainp2p_core::identity::Keypair;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{
    ChainError, ChainStep, HandlerContext, LayerKind, Listener, MuxedConnection, MuxerHandler,
    Role, SecurityHandler, Transport, TransportConnection, TransportIo,
};
use chainp2p_swarm::{Swarm, SwarmBuilder, SwarmEvent};
use chainp2p_transport_memory::MemoryTransport;
use futures::StreamExt;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

/// Memory connections secured with noise and muxed with yamux inside the transport.
struct SecuredMemory {
    key: Arc<Keypair>,
    memory: MemoryTransport,
}

impl SecuredMemory {
    async fn upgrade(
        key: Arc<Keypair>,
        role: Role,
        conn: TransportConnection,
    ) -> Result<TransportConnection, ChainError> {
        let TransportIo::Raw(io) = conn.io else {
            panic!("the memory transport hands over raw streams");
        };
        let ctx = HandlerContext::new(role, key);
        let secured = chainp2p_noise::NoiseConfig::new().secure(io, &ctx).await?;
        let (muxer, driver) = chainp2p_yamux::YamuxConfig::default()
            .multiplex(secured.io, &ctx)
            .await?;
        let step = |protocol: &str| ChainStep {
            kind: LayerKind::Muxer,
            protocol: protocol.to_owned(),
            role,
            elapsed: Duration::ZERO,
            details: vec![("by".to_owned(), "transport".to_owned())],
        };
        Ok(TransportConnection {
            local_addr: conn.local_addr,
            remote_addr: conn.remote_addr,
            io: TransportIo::Muxed(MuxedConnection {
                remote_peer: secured.remote_peer,
                remote_key: secured.remote_key,
                muxer,
                driver,
                steps: vec![step("/test/secured-memory")],
            }),
        })
    }
}

#[async_trait]
impl Transport for SecuredMemory {
    fn name(&self) -> &'static str {
        "secured-memory"
    }

    fn handles(&self, addr: &Multiaddr) -> bool {
        self.memory.handles(addr)
    }

    async fn listen(&self, addr: &Multiaddr) -> Result<Listener, ChainError> {
        let inner = self.memory.listen(addr).await?;
        let key = self.key.clone();
        let incoming = inner.incoming.then(move |conn| {
            let key = key.clone();
            async move { Self::upgrade(key, Role::Listener, conn?).await }
        });
        Ok(Listener {
            local_addr: inner.local_addr,
            incoming: Box::pin(incoming),
        })
    }

    async fn dial(&self, addr: &Multiaddr) -> Result<TransportConnection, ChainError> {
        let conn = self.memory.dial(addr).await?;
        Self::upgrade(self.key.clone(), Role::Dialer, conn).await
    }
}

fn node(key: Keypair) -> Swarm {
    let transport = SecuredMemory {
        key: Arc::new(key.clone()),
        memory: MemoryTransport::default(),
    };
    // No security and no muxer in the stages: a muxed transport needs none.
    SwarmBuilder::new(key)
        .transports([transport])
        .security(Vec::<chainp2p_noise::NoiseConfig>::new())
        .muxers(Vec::<chainp2p_yamux::YamuxConfig>::new())
        .build()
}

#[tokio::test]
async fn a_muxed_transport_goes_straight_to_the_substreams() {
    timeout(LIMIT, async {
        let server = node(Keypair::generate_ed25519());
        let bound = server.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let addr: Multiaddr = format!("{bound}/p2p/{}", server.local_peer_id())
            .parse()
            .unwrap();
        let mut events = server.observe();
        let client = node(Keypair::generate_ed25519());
        let conn = client.dial(&addr).await.unwrap();
        assert_eq!(conn.peer_id(), server.local_peer_id());
        let kinds: Vec<LayerKind> = conn.chain().steps().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [LayerKind::Transport, LayerKind::Muxer],
            "{}",
            conn.chain()
        );
        assert_eq!(conn.chain().steps()[1].protocol, "/test/secured-memory");
        // Substreams work as on any connection: ping over it.
        let mut s = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut s).await.unwrap();
        // The listener saw it, with the same two-step chain.
        loop {
            if let Some(SwarmEvent::ConnectionEstablished { peer_id, chain, .. }) =
                events.recv().await
            {
                assert_eq!(peer_id, client.local_peer_id());
                assert_eq!(chain.steps().len(), 2, "{chain}");
                break;
            }
        }
        // A dial naming another peer is refused after the transport's handshake.
        let other = Keypair::generate_ed25519().public().to_peer_id();
        let wrong: Multiaddr = format!("{bound}/p2p/{other}").parse().unwrap();
        let fresh = node(Keypair::generate_ed25519());
        let e = fresh.dial(&wrong).await.unwrap_err();
        assert_eq!(e.kind(), chainp2p_core::ErrorKind::Authentication, "{e}");
    })
    .await
    .unwrap();
}
