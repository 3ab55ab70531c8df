//! The one [`Config`] reaches every part of a node: a changed `k` is the bucket size of the
//! routing table, the result count of the lookups and the providers kept per key by the store;
//! an invalid config or a store opened with other settings is refused by `KadNode::new`. All
//! over the in-memory network of `common`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chainp2p_core::identity::PeerId;
use chainp2p_kad::handler::KadServer;
use chainp2p_kad::message::{KadPeer, Request};
use chainp2p_kad::proto::ConnectionType;
use chainp2p_kad::{
    Config, DefaultValidator, KadError, KadNetwork, KadNode, MemoryStore, Mode, NodeParams,
    RecordStore, StoreConfig,
};
use common::{within, Net};

const TIMEOUT: Duration = Duration::from_secs(1);
const K: usize = 4;

fn small_k() -> Config {
    Config::default().with_k(K).with_alpha(2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_k_is_the_bucket_size_of_the_routing_table() {
    within(60, async {
        let net = Net::build(40, TIMEOUT, |_| small_k());
        net.bootstrap_all().await;
        let mut full = 0;
        for node in &net.nodes {
            node.with_routing_table(|t| {
                assert_eq!(t.config().k, K);
                let mut per_bucket: HashMap<Option<usize>, usize> = HashMap::new();
                for e in t.iter() {
                    *per_bucket.entry(t.bucket_index(&e.hash)).or_default() += 1;
                }
                for (bucket, n) in per_bucket {
                    assert!(n <= K, "bucket {bucket:?} holds {n} > k peers");
                    full += usize::from(n == K);
                }
            });
        }
        // 40 nodes fill the far buckets (half the network shares bucket 0).
        assert!(full > 0, "no bucket reached k = {K}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_k_is_the_result_count_of_the_lookups() {
    within(60, async {
        let net = Net::build(30, TIMEOUT, |_| small_k());
        net.bootstrap_all().await;
        assert_eq!(net.nodes[0].config().query_config().k, K);
        let found = net.nodes[1].find_node(net.id(20)).await.unwrap();
        assert_eq!(found.len(), K, "{found:?}");
        assert_eq!(found[0].id, net.id(20));
        // The closer peers a server answers with are k too.
        let closer = net.nodes[2].closer_peers(b"some key", &net.id(0));
        assert!(closer.len() <= K);
    })
    .await;
}

#[test]
fn a_changed_k_is_the_providers_kept_per_key_by_the_store() {
    let me = PeerId::random();
    let config = Config::default().with_k(3).with_alpha(1);
    assert_eq!(config.store_config().max_providers_per_key, 3);
    let store: Arc<dyn RecordStore> = Arc::new(MemoryStore::new(Some(me), config.store_config()));
    let node = node(me, config, store.clone()).unwrap();
    let key = b"provided".to_vec();
    let addr: chainp2p_core::multiaddr::Multiaddr = "/ip4/10.0.0.1/tcp/4001".parse().unwrap();
    for _ in 0..5 {
        let from = PeerId::random();
        let providers = vec![KadPeer {
            id: from,
            addrs: vec![addr.clone()],
            connection: ConnectionType::Connected,
        }];
        let request = Request::AddProvider {
            key: key.clone(),
            providers,
        };
        node.handle(&from, None, request).unwrap();
    }
    let kept = store.providers(&key, SystemTime::now()).unwrap();
    assert_eq!(kept.len(), 3);
}

#[test]
fn invalid_configs_and_mismatched_stores_are_refused_by_the_node() {
    let me = PeerId::random();
    let store = |c: StoreConfig| Arc::new(MemoryStore::new(Some(me), c)) as Arc<dyn RecordStore>;
    for bad in [
        Config::default().with_k(0),
        Config::default().with_k(2), // alpha 3 > k 2: refused, not clamped
        Config::default().with_address_book_size(0),
    ] {
        let e = node(me, bad.clone(), store(bad.store_config())).unwrap_err();
        assert!(matches!(e, KadError::InvalidConfig(_)), "{bad:?}: {e}");
    }
    // A store opened with settings other than the config's.
    let config = Config::default().with_max_records(10);
    let e = node(me, config, store(StoreConfig::default())).unwrap_err();
    assert!(matches!(e, KadError::InvalidConfig(_)), "{e}");
    // The same, matching.
    let config = Config::default().with_max_records(10);
    node(me, config.clone(), store(config.store_config())).unwrap();
}

fn node(me: PeerId, config: Config, store: Arc<dyn RecordStore>) -> Result<KadNode, KadError> {
    KadNode::new(NodeParams {
        local: me,
        listen_addrs: Vec::new(),
        config,
        mode: Mode::Server,
        store,
        validator: Arc::new(DefaultValidator),
        network: Arc::new(NoNet),
    })
}

struct NoNet;

#[async_trait::async_trait]
impl KadNetwork for NoNet {
    async fn open_stream(
        &self,
        _: &PeerId,
        _: &[chainp2p_core::multiaddr::Multiaddr],
    ) -> Result<chainp2p_core::BoxStream, KadError> {
        Err(KadError::Closed)
    }
}
