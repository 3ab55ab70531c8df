//! Kademlia on the swarm, in process over the in-memory transport (`/memory/N`): a DHT of server nodes speaking a mix of
//! security protocols and muxers, a client-mode node using it, and the identify-driven routing
//! table (only peers advertising our kad protocol enter it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chainp2p_core::{MuxerHandler, SecurityHandler};
use chainp2p_kad_swarm::kad::node::{KadNode, Mode};
use chainp2p_kad_swarm::{BuildWithKad, KadOptions, KadService};
use chainp2p_swarm::identity::{Keypair, PeerId};
use chainp2p_swarm::{Multiaddr, Swarm, SwarmBuilder};
use chainp2p_transport_memory::MemoryTransport;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn security(i: usize) -> Vec<Arc<dyn SecurityHandler>> {
    let noise: Arc<dyn SecurityHandler> = Arc::new(chainp2p_noise::NoiseConfig::new());
    let secio: Arc<dyn SecurityHandler> = Arc::new(chainp2p_secio::SecioConfig::new());
    if i.is_multiple_of(2) {
        vec![noise, secio]
    } else {
        vec![secio, noise]
    }
}

fn muxers(i: usize) -> Vec<Arc<dyn MuxerHandler>> {
    let yamux: Arc<dyn MuxerHandler> = Arc::new(chainp2p_yamux::YamuxConfig::default());
    let mplex: Arc<dyn MuxerHandler> = Arc::new(chainp2p_mplex::MplexConfig::default());
    if i.is_multiple_of(3) {
        vec![mplex, yamux]
    } else {
        vec![yamux, mplex]
    }
}

/// A builder on the in-memory transport.
fn node() -> SwarmBuilder {
    SwarmBuilder::new(Keypair::generate_ed25519()).transports([MemoryTransport::default()])
}

struct Peer {
    swarm: Swarm,
    kad: KadService,
    addr: Multiaddr,
}

impl Peer {
    fn node(&self) -> &KadNode {
        self.kad.node()
    }
    fn id(&self) -> PeerId {
        self.swarm.local_peer_id()
    }
}

async fn start(i: usize, mode: Mode) -> Peer {
    let builder = node().security(security(i)).muxers(muxers(i));
    let (swarm, kad) = builder
        .build_with_kad(KadOptions {
            mode,
            ..KadOptions::default()
        })
        .unwrap();
    let addr = swarm.listen(&"/memory/0".parse().unwrap()).await.unwrap();
    Peer { swarm, kad, addr }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn mixed_chain_dht_serves_every_operation_to_a_client() {
    timeout(LIMIT * 2, async {
        let mut servers = Vec::new();
        for i in 0..6 {
            servers.push(start(i, Mode::Server).await);
        }
        let seed = (servers[0].id(), vec![servers[0].addr.clone()]);
        for s in &servers[1..] {
            let size = s.node().bootstrap(vec![seed.clone()]).await.unwrap();
            assert!(size >= 1, "bootstrap found nobody");
        }
        // Every server learns every other one: from identify (connections) or answers.
        for s in &servers {
            s.node().bootstrap(vec![seed.clone()]).await.unwrap();
        }
        wait_until("full routing tables", || {
            servers.iter().all(|s| s.node().routing_table_len() == 5)
        })
        .await;

        let client = start(1, Mode::Client).await;
        client
            .node()
            .bootstrap(vec![(servers[0].id(), vec![servers[0].addr.clone()])])
            .await
            .unwrap();
        wait_until("the client knowing every server", || {
            client.node().routing_table_len() == 6
        })
        .await;

        // PUT from a server: stored at the five others; GET from the client through the DHT.
        let stored = servers[1]
            .node()
            .put_value(b"/v/colour".to_vec(), b"blue".to_vec())
            .await
            .unwrap();
        assert_eq!(stored, 5);
        let record = client
            .node()
            .get_value(b"/v/colour".to_vec(), 1)
            .await
            .unwrap()
            .expect("the record is found");
        assert_eq!(record.value, b"blue");
        assert!(client
            .node()
            .get_value(b"/v/absent".to_vec(), 1)
            .await
            .unwrap()
            .is_none());

        // PUT from the client: the client stores nothing for others but all servers hold it.
        let stored = client
            .node()
            .put_value(b"/v/shape".to_vec(), b"round".to_vec())
            .await
            .unwrap();
        assert_eq!(stored, 6);
        let now = std::time::SystemTime::now();
        for s in &servers {
            let r = s.node().store().get(b"/v/shape", now).unwrap().unwrap();
            assert_eq!(r.value, b"round");
        }

        // Providers: a server provides, the client finds it with its listen address.
        let sent = servers[4]
            .node()
            .provide(b"content".to_vec())
            .await
            .unwrap();
        assert_eq!(sent, 5);
        let providers = client
            .node()
            .get_providers(b"content".to_vec())
            .await
            .unwrap();
        let p = providers
            .iter()
            .find(|p| p.id == servers[4].id())
            .expect("the provider is listed");
        assert!(p.addrs.contains(&servers[4].addr), "{:?}", p.addrs);

        // FIND_NODE: the target first, with its address.
        let found = client.node().find_node(servers[3].id()).await.unwrap();
        assert_eq!(found[0].id, servers[3].id());
        assert!(found[0].addrs.contains(&servers[3].addr));

        // The client used every server but none took it into its routing table.
        for s in &servers {
            let listed = s
                .node()
                .with_routing_table(|t| t.entry(&client.id()).is_some());
            assert!(!listed, "a client-mode node entered a routing table");
        }
        for p in servers.iter().chain([&client]) {
            p.swarm.shutdown().await;
        }
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn only_peers_advertising_our_kad_protocol_enter_the_routing_table() {
    timeout(LIMIT, async {
        let server = start(0, Mode::Server).await;
        let other_server = start(1, Mode::Server).await;
        let plain = node().build();
        let lan = {
            let opts = KadOptions {
                config: chainp2p_kad_swarm::kad::Config::default()
                    .with_protocol("/ipfs/lan/kad/1.0.0"),
                ..KadOptions::default()
            };
            let (swarm, kad) = node().build_with_kad(opts).unwrap();
            (swarm, kad)
        };
        plain.dial(&server.addr).await.unwrap();
        lan.0.dial(&server.addr).await.unwrap();
        other_server.swarm.dial(&server.addr).await.unwrap();
        // Both sides identify each other: the kad server enters the table on both ends.
        wait_until("the kad server in the table", || {
            server
                .node()
                .with_routing_table(|t| t.entry(&other_server.id()).is_some())
                && other_server
                    .node()
                    .with_routing_table(|t| t.entry(&server.id()).is_some())
        })
        .await;
        // Give the other identifies time to land too, then check they were refused.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(server.node().routing_table_len(), 1);
        assert_eq!(lan.1.node().routing_table_len(), 0);
        // The entry carries the address the other server listens on, not its ephemeral port.
        let addrs = server.node().addrs_of(&other_server.id());
        assert!(addrs.contains(&other_server.addr), "{addrs:?}");
        for s in [&server.swarm, &other_server.swarm, &plain, &lan.0] {
            s.shutdown().await;
        }
    })
    .await
    .expect("test timed out");
}
