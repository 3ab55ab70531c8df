//! The node's maintenance over the in-memory network of `common` (every `open_stream` is a
//! `tokio::io::duplex` pair served by the target's `KadHandler`; a dead node accepts streams
//! and never answers): store expiry, re-announcing provider records and published records,
//! and a refresh refilling a routing table after peers died.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chainp2p_core::identity::PeerId;
use chainp2p_kad::node::MaintenanceConfig;
use chainp2p_kad::store::{ProviderRecord, Record};
use chainp2p_kad::Config;
use common::{within, Net};

const TIMEOUT: Duration = Duration::from_millis(100);

fn record(key: &[u8], publisher: PeerId, expires: SystemTime) -> Record {
    Record {
        key: key.to_vec(),
        value: b"v".to_vec(),
        publisher: Some(publisher),
        expires,
    }
}

#[tokio::test]
async fn expire_store_purges_expired_records_and_providers() {
    within(10, async {
        let net = Net::new(1, TIMEOUT);
        let node = &net.nodes[0];
        let store = node.store().clone();
        let now = SystemTime::now();
        let other = PeerId::random();
        store
            .put(record(b"short", other, now + Duration::from_secs(10)), now)
            .unwrap();
        store
            .put(record(b"long", other, now + Duration::from_secs(3600)), now)
            .unwrap();
        store
            .add_provider(
                ProviderRecord {
                    key: b"content".to_vec(),
                    provider: other,
                    addrs: vec![],
                    expires: now + Duration::from_secs(10),
                },
                now,
            )
            .unwrap();
        // Nothing has expired yet.
        assert_eq!(node.expire_store(), 0);
        assert_eq!(store.stats().records, 2);
        // 20 s later: one record and the provider record go, the long-lived record stays.
        assert_eq!(node.expire_store_at(now + Duration::from_secs(20)), 2);
        let stats = store.stats();
        assert_eq!((stats.records, stats.provider_records), (1, 0));
        let later = now + Duration::from_secs(20);
        assert!(store.get(b"long", later).unwrap().is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_task_sweeps_the_store_and_stops_on_drop() {
    within(10, async {
        let net = Net::new(1, TIMEOUT);
        let node = &net.nodes[0];
        let store = node.store().clone();
        let cfg = MaintenanceConfig {
            expiry_interval: Duration::from_millis(20),
            ..MaintenanceConfig::default()
        };
        let handle = node.spawn_maintenance_with(cfg.clone());
        assert_eq!(handle.tasks(), 4);
        assert!(handle.is_running());
        let now = SystemTime::now();
        store
            .put(
                record(b"a", PeerId::random(), now + Duration::from_millis(50)),
                now,
            )
            .unwrap();
        // The sweep purges it (stats count expired records until purged).
        let mut purged = false;
        for _ in 0..200 {
            if store.stats().records == 0 {
                purged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(purged, "expired record not purged by the maintenance task");

        // Dropped: no more sweeps.
        drop(handle);
        let now = SystemTime::now();
        store
            .put(
                record(b"b", PeerId::random(), now + Duration::from_millis(30)),
                now,
            )
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(store.stats().records, 1, "a sweep ran after the drop");

        // Disabled duties start no task.
        let none = MaintenanceConfig {
            refresh_interval: Duration::ZERO,
            expiry_interval: Duration::ZERO,
            provider_republish_interval: Some(Duration::ZERO),
            record_republish_interval: Duration::ZERO,
            ..MaintenanceConfig::default()
        };
        assert_eq!(node.spawn_maintenance_with(none).tasks(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_records_are_reannounced_to_the_k_closest() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        net.bootstrap(1..30).await;
        let key = b"provided-content".to_vec();
        let me = net.id(5);
        assert!(net.nodes[5].provide(key.clone()).await.unwrap() >= 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let holders = |net: &Net| -> Vec<usize> {
            (0..30)
                .filter(|&i| i != 5)
                .filter(|&i| {
                    net.nodes[i]
                        .store()
                        .providers(&key, SystemTime::now())
                        .unwrap()
                        .iter()
                        .any(|p| p.provider == me)
                })
                .collect()
        };
        assert!(!holders(&net).is_empty());
        // The records vanish from every other store (as after their expiry).
        for i in (0..30).filter(|&i| i != 5) {
            net.nodes[i].store().remove_provider(&key, &me).unwrap();
        }
        assert!(holders(&net).is_empty());

        assert_eq!(net.nodes[5].republish_providers().await, 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let got = holders(&net);
        let truth = net.closest(&key, 20, 5);
        assert!(got.len() >= 15, "re-announced to {} peers only", got.len());
        assert!(
            got.iter().all(|i| truth.contains(i)),
            "re-announced outside the 20 closest: {got:?} vs {truth:?}"
        );
        // Another node finds the provider again.
        let found = net.nodes[17].get_providers(key.clone()).await.unwrap();
        assert!(found.iter().any(|p| p.id == me));
        // A node providing nothing re-announces nothing.
        assert_eq!(net.nodes[6].republish_providers().await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_records_are_stored_again_at_the_k_closest() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        net.bootstrap(1..30).await;
        let key = b"/v/mine".to_vec();
        assert!(
            net.nodes[3]
                .put_value(key.clone(), b"x".to_vec())
                .await
                .unwrap()
                >= 1
        );
        assert_eq!(net.nodes[3].published_keys(), vec![key.clone()]);
        for i in (0..30).filter(|&i| i != 3) {
            net.nodes[i].store().remove(&key).unwrap();
        }
        assert_eq!(net.nodes[3].republish_records().await, 1);
        let now = SystemTime::now();
        let holders: Vec<usize> = (0..30)
            .filter(|&i| i != 3 && net.nodes[i].store().get(&key, now).unwrap().is_some())
            .collect();
        let truth = net.closest(&key, 20, 3);
        assert!(
            holders.len() >= 15,
            "stored at {} peers only",
            holders.len()
        );
        assert!(holders.iter().all(|i| truth.contains(i)));
        // Once our own copy is gone, the key is forgotten.
        net.nodes[3].store().remove(&key).unwrap();
        assert_eq!(net.nodes[3].republish_records().await, 0);
        assert!(net.nodes[3].published_keys().is_empty());
    })
    .await;
}

/// Paused tokio time: the requests to dead peers time out without waiting in real time.
#[tokio::test(start_paused = true)]
async fn refresh_refills_the_table_after_peers_die() {
    within(600, refill_scenario(false)).await;
}

/// The same through the periodic task: the first refresh runs one interval after the start.
#[tokio::test(start_paused = true)]
async fn periodic_refresh_refills_the_table_after_peers_die() {
    within(3600, refill_scenario(true)).await;
}

/// A node's table after ten of its peers died and fifteen newcomers joined unnoticed, then one
/// refresh (one-shot, or by the maintenance task when `periodic`).
async fn refill_scenario(periodic: bool) {
    let net = Net::new(40, TIMEOUT);
    let x = 1;
    net.peer(x).quiet.store(true, Ordering::SeqCst);
    // It joins last of the first 25, so its lookups meet all of them.
    net.bootstrap(2..25).await;
    net.bootstrap(1..2).await;
    let before = net.nodes[x].routing_table_len();
    assert!(before >= 20, "table of {before} after bootstrap");
    // Ten of its peers die; fifteen newcomers join without it noticing.
    let known: Vec<usize> = (2..25)
        .filter(|&i| net.nodes[x].with_routing_table(|t| t.entry(&net.id(i)).is_some()))
        .take(10)
        .collect();
    assert_eq!(known.len(), 10);
    for &i in &known {
        net.peer(i).dead.store(true, Ordering::SeqCst);
    }
    let t = Instant::now();
    net.bootstrap(25..40).await;
    eprintln!("newcomers joined in {:?}", t.elapsed());
    let has = |i: usize| net.nodes[x].with_routing_table(|t| t.entry(&net.id(i)).is_some());
    assert!(
        known.iter().all(|&i| has(i)),
        "dead peers left before any refresh"
    );
    let newcomers_before = (25..40).filter(|&i| has(i)).count();

    let cfg = MaintenanceConfig {
        refresh_interval: Duration::ZERO,
        stale_after: Some(Duration::ZERO),
        ..MaintenanceConfig::default()
    };
    let t = Instant::now();
    if periodic {
        let cfg = MaintenanceConfig {
            stale_after: Some(Duration::ZERO),
            ..MaintenanceConfig::default()
        };
        let handle = net.nodes[x].spawn_maintenance_with(cfg.clone());
        // Before the first interval nothing happens.
        tokio::time::sleep(cfg.refresh_interval / 2).await;
        assert!(known.iter().all(|&i| has(i)), "refreshed too early");
        tokio::time::sleep(cfg.refresh_interval).await;
        drop(handle);
    } else {
        let report = net.nodes[x].refresh_with(&cfg).await;
        eprintln!("refresh: {report:?} in {:?}", t.elapsed());
        assert!(report.pinged >= 10, "{report:?}");
        assert!(report.lookups >= 1, "{report:?}");
        assert_eq!(net.nodes[x].routing_table_len(), report.table_len);
    }
    assert!(
        known.iter().all(|&i| !has(i)),
        "a dead peer is still in the table"
    );
    let newcomers = (25..40).filter(|&i| has(i)).count();
    assert!(
        newcomers >= 12 && newcomers > newcomers_before,
        "only {newcomers} of 15 newcomers learned ({newcomers_before} before)"
    );
    // Every live peer but the node itself is known again.
    let len = net.nodes[x].routing_table_len();
    assert!(len >= 27, "table of {len} after the refresh (was {before})");
}

/// Right after the 3 peers closest to a key died, every table (the requester's included) still
/// names them, so the 21st to 23rd live peers are in few answers if any: the neighbourhood
/// probes of the lookup find them. Node 1 looks up with probes, node 2 without, for keys whose
/// 3 closest peers are killed one key after the other.
#[tokio::test(start_paused = true)]
async fn lookups_right_after_deaths_find_the_live_closest() {
    within(3600, async {
        let (with, without) = (1, 2);
        let net = Net::build(100, TIMEOUT, |i| {
            Config::default().with_probe_width(if i == without { 0 } else { 2 })
        });
        net.bootstrap(1..100).await;
        let keys = 16;
        let (mut exact_with, mut exact_without, mut probes) = (0, 0, 0);
        let stats = Arc::new(Mutex::new(None));
        let sink = stats.clone();
        net.nodes[with].set_progress(Some(Arc::new(move |p: &chainp2p_kad::node::LookupProgress| {
            if p.finished {
                *sink.lock().unwrap() = Some(p.stats.clone());
            }
        })));
        for k in 0..keys {
            let key = format!("/v/churn/{k}").into_bytes();
            for i in net
                .closest(&key, 5, usize::MAX)
                .into_iter()
                .filter(|&i| i != with && i != without)
                .take(3)
            {
                net.peer(i).dead.store(true, Ordering::SeqCst);
            }
            let truth = |r: usize| -> Vec<PeerId> {
                net.closest(&key, 20, r).iter().map(|&i| net.id(i)).collect()
            };
            let found = net.nodes[with].closest_to_key(&key).await;
            exact_with += usize::from(found == truth(with));
            probes += stats.lock().unwrap().as_ref().map_or(0, |s| s.probes);
            let found = net.nodes[without].closest_to_key(&key).await;
            exact_without += usize::from(found == truth(without));
        }
        eprintln!(
            "exact: {exact_with}/{keys} with probes ({probes} probes), {exact_without}/{keys} without"
        );
        // Typically 13-15 of 16 with probes, 5-10 without (the contrast is proven exactly by
        // the query unit tests; here: the node's driver sends the probes and uses the answers).
        assert!(exact_with >= 10, "{exact_with}/{keys} exact with probes");
        assert!((1..=4 * keys).contains(&probes), "{probes} probes");
    })
    .await;
}

/// A network that reaches nobody (the node below only needs to be built).
struct NoNet;

#[async_trait::async_trait]
impl chainp2p_kad::node::KadNetwork for NoNet {
    async fn open_stream(
        &self,
        _: &PeerId,
        _: &[chainp2p_core::multiaddr::Multiaddr],
    ) -> Result<chainp2p_core::BoxStream, chainp2p_kad::error::KadError> {
        Err(chainp2p_kad::error::KadError::Closed)
    }
}

#[test]
fn a_restarted_node_finds_its_published_records_in_the_store() {
    use chainp2p_kad::node::{KadNode, Mode, NodeParams};
    use chainp2p_kad::store::{DefaultValidator, MemoryStore, RecordStore, StoreConfig};
    let me = PeerId::random();
    let store: Arc<dyn RecordStore> = Arc::new(MemoryStore::new(Some(me), StoreConfig::default()));
    let now = SystemTime::now();
    let later = now + Duration::from_secs(3600);
    store.put(record(b"/v/mine", me, later), now).unwrap();
    store
        .put(record(b"/v/theirs", PeerId::random(), later), now)
        .unwrap();
    let node = KadNode::new(NodeParams {
        local: me,
        listen_addrs: Vec::new(),
        config: Config::default(),
        mode: Mode::Server,
        store,
        validator: Arc::new(DefaultValidator),
        network: Arc::new(NoNet),
    })
    .unwrap();
    assert_eq!(node.published_keys(), vec![b"/v/mine".to_vec()]);
}
