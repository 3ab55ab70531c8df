//! `Config::with_ipfs_records` on the swarm, in process over the in-memory transport: DHT
//! servers that store only `/pk/` and `/ipns/` records refuse a `/foo/` record, take a real
//! IPNS record (made by the JS `ipns` package: `chainp2p-kad`'s `tests/fixtures/ipns/`) and
//! hand it back byte for byte to a GET through the DHT, and refuse an expired one and an older
//! one once they hold a newer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chainp2p_core::{MuxerHandler, SecurityHandler};
use chainp2p_kad_swarm::kad::node::{KadNode, Mode, NodeError};
use chainp2p_kad_swarm::kad::store::StoreError;
use chainp2p_kad_swarm::kad::Config;
use chainp2p_kad_swarm::{BuildWithKad, KadOptions, KadService};
use chainp2p_swarm::identity::{Keypair, PeerId};
use chainp2p_swarm::{Multiaddr, Swarm, SwarmBuilder};
use chainp2p_transport_memory::MemoryTransport;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// One of the JS-made fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../kad/tests/fixtures/ipns")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
    fn seed(&self) -> (PeerId, Vec<Multiaddr>) {
        (self.id(), vec![self.addr.clone()])
    }
}

async fn start(mode: Mode, ipfs_records: bool) -> Peer {
    let (swarm, kad) = SwarmBuilder::new(Keypair::generate_ed25519())
        .transports([MemoryTransport::default()])
        .security(vec![
            Arc::new(chainp2p_noise::NoiseConfig::new()) as Arc<dyn SecurityHandler>
        ])
        .muxers(vec![
            Arc::new(chainp2p_yamux::YamuxConfig::default()) as Arc<dyn MuxerHandler>
        ])
        .build_with_kad(KadOptions {
            config: Config::default().with_ipfs_records(ipfs_records),
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
async fn ipfs_record_servers_refuse_foo_and_serve_a_real_ipns_record_intact() {
    timeout(LIMIT * 2, async {
        let mut servers = Vec::new();
        for _ in 0..3 {
            servers.push(start(Mode::Server, true).await);
        }
        for s in &servers[1..] {
            s.node().bootstrap(vec![servers[0].seed()]).await.unwrap();
        }
        servers[0].node().bootstrap(vec![servers[1].seed()]).await.unwrap();
        wait_until("full routing tables", || {
            servers.iter().all(|s| s.node().routing_table_len() == 2)
        })
        .await;
        // A client that checks nothing itself, so that its records reach the servers.
        let lax = start(Mode::Client, false).await;
        lax.node().bootstrap(vec![servers[0].seed()]).await.unwrap();
        wait_until("the client knowing every server", || {
            lax.node().routing_table_len() == 3
        })
        .await;

        // A /foo/ record: every server refuses it.
        let err = lax
            .node()
            .put_value(b"/foo/bar".to_vec(), b"baz".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::StoredNowhere { .. }),
            "{err}"
        );
        let now = SystemTime::now();
        for s in &servers {
            assert_eq!(s.node().store().get(b"/foo/bar", now).unwrap(), None);
        }
        // A client with the flag refuses it before sending.
        let strict = start(Mode::Client, true).await;
        strict.node().bootstrap(vec![servers[1].seed()]).await.unwrap();
        let err = strict
            .node()
            .put_value(b"/foo/bar".to_vec(), b"baz".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::Store(StoreError::Invalid(ref why)) if why.contains("only /pk/ and /ipns/")),
            "{err}"
        );

        // The real IPNS record (V1+V2, Ed25519) under its binary routing key: taken by all.
        let name = fixture("ed25519.name");
        let record = fixture("ed25519-v1v2.ipns-record");
        let stored = lax
            .node()
            .put_value(name.clone(), record.clone())
            .await
            .unwrap();
        assert_eq!(stored, 3);
        for s in &servers {
            assert_eq!(s.node().store().get(&name, now).unwrap().unwrap().value, record);
        }
        // Fetched back through the DHT by the other client, byte for byte.
        let got = strict.node().get_value(name.clone(), 1).await.unwrap().unwrap();
        assert_eq!(got.key, name);
        assert_eq!(got.value, record);

        // A newer record (sequence 2) replaces it; the older one then no longer does.
        let newer = fixture("ed25519-v2.ipns-record");
        assert_eq!(lax.node().put_value(name.clone(), newer.clone()).await.unwrap(), 3);
        let err = lax.node().put_value(name.clone(), record).await.unwrap_err();
        assert!(matches!(err, NodeError::StoredNowhere { .. }), "{err}");
        // An expired or tampered record is refused by every server.
        for bad in ["ed25519-expired.ipns-record", "ed25519-bad-signature-v2.ipns-record"] {
            let err = lax
                .node()
                .put_value(name.clone(), fixture(bad))
                .await
                .unwrap_err();
            assert!(matches!(err, NodeError::StoredNowhere { .. }), "{bad}: {err}");
        }
        for s in &servers {
            assert_eq!(s.node().store().get(&name, now).unwrap().unwrap().value, newer);
        }
        // A /pk/ record (the protobuf public key under /pk/ + its multihash) is taken too.
        let (pk_key, pk_value) = (fixture("pk-rsa.key"), fixture("pk-rsa.value"));
        assert_eq!(lax.node().put_value(pk_key.clone(), pk_value.clone()).await.unwrap(), 3);
        let got = strict.node().get_value(pk_key, 1).await.unwrap().unwrap();
        assert_eq!(got.value, pk_value);
    })
    .await
    .unwrap();
}
