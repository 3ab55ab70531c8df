//! The DHT's answers tell the truth, over TCP on loopback: a bootstrap that reached nobody and a
//! put that stored nowhere are errors, and a put right after `KadService::dial` stores at the
//! dialed peer (it is in the routing table when `dial` returns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_kad_swarm::kad::node::{Mode, NodeError};
use chainp2p_kad_swarm::{BuildWithKad, DialError, KadOptions, KadService};
use chainp2p_swarm::identity::{Keypair, PeerId};
use chainp2p_swarm::{Multiaddr, Swarm, SwarmBuilder};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

async fn kad_node(mode: Mode) -> (Swarm, KadService, Multiaddr) {
    let (swarm, kad) = SwarmBuilder::new(Keypair::generate_ed25519())
        .build_with_kad(KadOptions {
            mode,
            ..KadOptions::default()
        })
        .unwrap();
    let addr = swarm
        .listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .await
        .unwrap();
    (swarm, kad, addr)
}

#[tokio::test]
async fn bootstrap_to_a_dead_peer_is_an_error() {
    timeout(LIMIT, async {
        // A port nobody listens on any more.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dead: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
        let (swarm, kad, _) = kad_node(Mode::Client).await;
        let err = kad
            .node()
            .bootstrap(vec![(PeerId::random(), vec![dead])])
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::BootstrapReachedNobody { tried: 1 }),
            "{err}"
        );
        assert_eq!(kad.node().routing_table_len(), 0);
        swarm.shutdown().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn bootstrap_to_a_peer_without_kad_is_an_error() {
    timeout(LIMIT, async {
        // A live swarm that does not serve kad.
        let plain = SwarmBuilder::new(Keypair::generate_ed25519()).build();
        let addr = plain
            .listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        let (swarm, kad, _) = kad_node(Mode::Client).await;
        let err = kad
            .node()
            .bootstrap(vec![(plain.local_peer_id(), vec![addr.clone()])])
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::BootstrapReachedNobody { tried: 1 }),
            "{err}"
        );
        // And `dial` says so instead of leaving the table empty silently.
        let err = kad.dial(&addr).await.unwrap_err();
        assert!(
            matches!(&err, DialError::NotKadServer { peer, .. } if *peer == plain.local_peer_id()),
            "{err}"
        );
        assert_eq!(kad.node().routing_table_len(), 0);
        swarm.shutdown().await;
        plain.shutdown().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn put_with_an_empty_routing_table_is_an_error() {
    timeout(LIMIT, async {
        let (swarm, kad, _) = kad_node(Mode::Server).await;
        let err = kad
            .node()
            .put_value(b"/v/nowhere".to_vec(), b"x".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, NodeError::StoredNowhere { key, tried: 0 } if key == b"/v/nowhere"),
            "{err}"
        );
        let err = kad.node().provide(b"nowhere".to_vec()).await.unwrap_err();
        assert!(matches!(err, NodeError::ProvidedNowhere { .. }), "{err}");
        swarm.shutdown().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn put_right_after_dial_stores_at_the_dialed_peer() {
    timeout(LIMIT, async {
        let (server_swarm, server, addr) = kad_node(Mode::Server).await;
        for round in 0..8 {
            let (swarm, client, _) = kad_node(Mode::Client).await;
            let peer = client.dial(&addr).await.unwrap();
            assert_eq!(peer, server_swarm.local_peer_id());
            let key = format!("/v/round-{round}").into_bytes();
            let stored = client
                .node()
                .put_value(key.clone(), b"v".to_vec())
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert!(stored >= 1, "round {round}: stored at {stored}");
            let now = std::time::SystemTime::now();
            let held = server.node().store().get(&key, now).unwrap();
            assert_eq!(held.map(|r| r.value), Some(b"v".to_vec()), "round {round}");
            swarm.shutdown().await;
        }
        server_swarm.shutdown().await;
    })
    .await
    .unwrap();
}
