//! `KadNode` over the in-memory network of `common`: every `open_stream` is a `tokio::io::duplex`
//! pair whose far end is served by the target node's `KadHandler` (after the target
//! "identifies" the caller as a kad server, as the swarm would). A dead node accepts streams
//! and never answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chainp2p_core::identity::PeerId;
use chainp2p_kad::handler::send_request;
use chainp2p_kad::key::peer_hash;
use chainp2p_kad::message::{KadPeer, Request, WireRecord};
use chainp2p_kad::node::{LookupProgress, NodeError};
use chainp2p_kad::proto::ConnectionType;
use chainp2p_kad::routing::InsertOutcome;
use chainp2p_kad::Config;
use common::{within, Net};
use futures::AsyncWriteExt;

const TIMEOUT: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_fills_tables_and_find_node_finds_the_target() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        let progress: Arc<Mutex<Vec<LookupProgress>>> = Arc::default();
        let sink = progress.clone();
        net.nodes[29].set_progress(Some(Arc::new(move |p: &LookupProgress| {
            sink.lock().unwrap().push(p.clone())
        })));
        net.bootstrap_all().await;
        for (i, node) in net.nodes.iter().enumerate() {
            let len = node.routing_table_len();
            assert!(len >= 15, "node {i} knows only {len} peers");
        }
        {
            let p = progress.lock().unwrap();
            assert!(p.iter().any(|p| p.op == "bootstrap" && p.finished));
            assert!(p.iter().any(|p| p.stats.responses > 0));
            if let Some(last) = p.iter().rev().find(|p| p.finished) {
                eprintln!("last lookup of node 29's bootstrap: {:?}", last.stats);
            }
        }
        for (from, to) in [(1, 28), (29, 2), (15, 0)] {
            let found = net.nodes[from].find_node(net.id(to)).await.unwrap();
            assert_eq!(found[0].id, net.id(to), "lookup {from} -> {to}");
            assert_eq!(found[0].addrs, vec![net.addr(to)]);
            assert!(found.len() <= 20);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_then_get_value_from_another_node() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        net.bootstrap_all().await;
        let key = b"/v/hello".to_vec();
        let stored = net.nodes[3]
            .put_value(key.clone(), b"world".to_vec())
            .await
            .unwrap();
        assert!((1..=20).contains(&stored), "stored at {stored}");
        let now = std::time::SystemTime::now();
        let reader = (0..30)
            .find(|&i| i != 3 && net.nodes[i].store().get(&key, now).unwrap().is_none())
            .expect("a node without the record");
        let got = net.nodes[reader]
            .get_value(key.clone(), 1)
            .await
            .unwrap()
            .expect("record found");
        assert_eq!(got.value, b"world");
        assert_eq!(got.publisher, Some(net.id(3)));

        // A missing key: None after the whole lookup, within the bound.
        let missing = net.nodes[reader].get_value(b"/v/nope".to_vec(), 1).await;
        assert!(missing.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provide_then_get_providers_with_addrs() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        net.bootstrap_all().await;
        let key = b"some-multihash".to_vec();
        let sent = net.nodes[5].provide(key.clone()).await.unwrap();
        assert!((1..=20).contains(&sent), "sent to {sent}");
        // ADD_PROVIDER has no response: wait until the servers have processed it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let found = net.nodes[20].get_providers(key).await.unwrap();
        let p = found
            .iter()
            .find(|p| p.id == net.id(5))
            .expect("provider found");
        assert_eq!(p.addrs, vec![net.addr(5)]);
        assert!(net.nodes[20]
            .get_providers(b"unknown".to_vec())
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_peers_cost_at_most_timeouts() {
    within(60, async {
        let net = Net::new(30, TIMEOUT);
        net.bootstrap_all().await;
        for i in [2, 7, 11, 19, 23] {
            net.kill(i);
        }
        let start = Instant::now();
        let found = net.nodes[1].find_node(net.id(7)).await.unwrap();
        let took = start.elapsed();
        assert!(
            !found.iter().any(|p| p.id == net.id(7)),
            "dead target answered"
        );
        assert!(found.len() >= 15, "only {} found", found.len());
        // alpha = 3 requests at once: 5 dead peers cost at most a few rounds of timeouts.
        assert!(took < TIMEOUT * 6, "lookup took {took:?}");
        eprintln!("find_node with 5 of 30 peers dead: {took:?}");

        let stored = net.nodes[4]
            .put_value(b"/v/k".to_vec(), b"v".to_vec())
            .await
            .unwrap();
        assert!((1..=20).contains(&stored));
        let got = net.nodes[9].get_value(b"/v/k".to_vec(), 1).await.unwrap();
        assert_eq!(got.unwrap().value, b"v");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_provider_for_another_peer_is_ignored() {
    within(20, async {
        let net = Net::new(3, TIMEOUT);
        let cfg = net.nodes[0].config().clone();
        let key = b"content".to_vec();
        let claim = |id: PeerId| Request::AddProvider {
            key: key.clone(),
            providers: vec![KadPeer {
                id,
                addrs: vec!["/ip4/10.0.0.1/tcp/1".parse().unwrap()],
                connection: ConnectionType::Connected,
            }],
        };
        // Node 0 claims node 2 provides: ignored. Then claims itself: stored.
        for id in [net.id(2), net.id(0)] {
            let mut s = net.stream(0, 1).await;
            assert!(send_request(&mut s, &claim(id), &cfg)
                .await
                .unwrap()
                .is_none());
            s.close().await.unwrap();
        }
        let store = net.nodes[1].store().clone();
        let mut providers = Vec::new();
        for _ in 0..100 {
            providers = store.providers(&key, std::time::SystemTime::now()).unwrap();
            if !providers.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let ids: Vec<PeerId> = providers.iter().map(|p| p.provider).collect();
        assert_eq!(ids, vec![net.id(0)]);
        // Without addresses in the message, the connection's address is kept.
        let bare = Request::AddProvider {
            key: b"other".to_vec(),
            providers: vec![KadPeer {
                id: net.id(0),
                addrs: vec![],
                connection: ConnectionType::Connected,
            }],
        };
        let mut s = net.stream(0, 1).await;
        send_request(&mut s, &bare, &cfg).await.unwrap();
        s.close().await.unwrap();
        for _ in 0..100 {
            providers = store
                .providers(b"other", std::time::SystemTime::now())
                .unwrap();
            if !providers.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(providers[0].addrs, vec![net.addr(0)]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pk_records_must_match_their_key() {
    within(20, async {
        let net = Net::new(3, TIMEOUT);
        let mut pk_key = b"/pk/".to_vec();
        pk_key.extend(net.id(0).to_bytes());
        let wrong = net.keys[1].public().encode_protobuf();
        let right = net.keys[0].public().encode_protobuf();

        // Locally refused.
        let err = net.nodes[0]
            .put_value(pk_key.clone(), wrong.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, NodeError::Store(_)), "{err}");

        // Refused by a remote server: the stream is reset, nothing stored.
        let cfg = net.nodes[0].config().clone();
        let put = |v: Vec<u8>| Request::PutValue {
            record: WireRecord::new(pk_key.clone(), v),
        };
        let mut s = net.stream(0, 1).await;
        assert!(send_request(&mut s, &put(wrong), &cfg).await.is_err());
        let now = std::time::SystemTime::now();
        assert!(net.nodes[1].store().get(&pk_key, now).unwrap().is_none());

        // The right key is accepted and echoed.
        let mut s = net.stream(0, 1).await;
        let echoed = send_request(&mut s, &put(right.clone()), &cfg)
            .await
            .unwrap();
        assert!(echoed.is_some());
        let stored = net.nodes[1].store().get(&pk_key, now).unwrap().unwrap();
        assert_eq!(stored.value, right);
        assert_eq!(stored.publisher, Some(net.id(0)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_identified_kad_servers_enter_the_routing_table() {
    within(20, async {
        let net = Net::new(3, TIMEOUT);
        let node = &net.nodes[0];
        let addrs = vec![net.addr(1)];
        node.on_peer_identified(
            net.id(1),
            &addrs,
            &["/ipfs/id/1.0.0".into()],
            Instant::now(),
        );
        assert_eq!(node.routing_table_len(), 0);
        // Its address is remembered all the same.
        assert_eq!(node.addrs_of(&net.id(1)), addrs);
        node.on_peer_identified(
            net.id(1),
            &addrs,
            &["/ipfs/kad/1.0.0".into()],
            Instant::now(),
        );
        assert_eq!(node.routing_table_len(), 1);
        // FIND_NODE answers exclude the requester and peers without addresses.
        assert!(node.closer_peers(b"x", &net.id(1)).is_empty());
        assert_eq!(node.closer_peers(b"x", &net.id(2))[0].id, net.id(1));
        // A request to a live peer answers; a dead one times out.
        node.ping(&net.id(1)).await.unwrap();
        net.kill(2);
        let start = Instant::now();
        assert!(node.ping(&net.id(2)).await.is_err());
        assert!(start.elapsed() < TIMEOUT * 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_a_dead_seed_fails_within_the_timeout() {
    within(20, async {
        let net = Net::new(2, TIMEOUT);
        net.kill(0);
        let start = Instant::now();
        let err = net.nodes[1]
            .bootstrap(vec![(net.id(0), vec![net.addr(0)])])
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::BootstrapReachedNobody { tried: 1 }),
            "{err}"
        );
        assert_eq!(net.nodes[1].routing_table_len(), 0);
        assert!(start.elapsed() < TIMEOUT * 3, "took {:?}", start.elapsed());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_provide_reaching_nobody_fail_but_stay_local() {
    within(20, async {
        let net = Net::new(2, TIMEOUT);
        // Nobody known: nothing to send to.
        let err = net.nodes[1]
            .put_value(b"/v/alone".to_vec(), b"v".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, NodeError::StoredNowhere { key, tried: 0 } if key == b"/v/alone"),
            "{err}"
        );
        let now = std::time::SystemTime::now();
        assert!(net.nodes[1]
            .store()
            .get(b"/v/alone", now)
            .unwrap()
            .is_some());
        let err = net.nodes[1].provide(b"alone".to_vec()).await.unwrap_err();
        assert!(
            matches!(&err, NodeError::ProvidedNowhere { tried: 0, .. }),
            "{err}"
        );
        // The only peer known is dead: tried, not stored.
        net.nodes[1].on_peer_identified(
            net.id(0),
            &[net.addr(0)],
            &[net.nodes[1].config().protocol_id().to_owned()],
            Instant::now(),
        );
        net.kill(0);
        let err = net.nodes[1]
            .put_value(b"/v/dead".to_vec(), b"v".to_vec())
            .await
            .unwrap_err();
        assert!(matches!(err, NodeError::StoredNowhere { .. }), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_bucket_pings_its_oldest_peer() {
    within(20, async {
        // k = 1 for the buckets; alpha must not exceed it.
        let net = Net::build(24, TIMEOUT, |_| Config::default().with_k(1).with_alpha(1));
        let node = &net.nodes[0];
        let bucket = |i: usize| node.with_routing_table(|t| t.bucket_index(&peer_hash(&net.id(i))));
        // Two pairs of peers sharing a bucket of node 0 (k = 1 there).
        let mut by_bucket: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        for i in 1..24 {
            by_bucket.entry(bucket(i)).or_default().push(i);
        }
        let mut pairs = by_bucket.values().filter(|v| v.len() >= 2);
        let alive = pairs.next().expect("a shared bucket").clone();
        let dead = pairs.next().expect("a second shared bucket").clone();
        let kad = vec!["/ipfs/kad/1.0.0".to_string()];
        let identify =
            |i: usize| node.on_peer_identified(net.id(i), &[net.addr(i)], &kad, Instant::now());
        let has = |i: usize| node.with_routing_table(|t| t.entry(&net.id(i)).is_some());

        // The oldest answers: it stays, the candidate is dropped (so it can be pending anew).
        assert_eq!(identify(alive[0]), InsertOutcome::Inserted);
        let check = InsertOutcome::Pending {
            check: net.id(alive[0]),
        };
        assert_eq!(identify(alive[1]), check);
        let mut again = InsertOutcome::AlreadyPending;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            again = identify(alive[1]);
            if again != InsertOutcome::AlreadyPending {
                break;
            }
        }
        assert_eq!(again, check);
        assert!(has(alive[0]) && !has(alive[1]));

        // The oldest is dead: after the timeout the candidate replaces it.
        net.kill(dead[0]);
        assert_eq!(identify(dead[0]), InsertOutcome::Inserted);
        assert!(matches!(identify(dead[1]), InsertOutcome::Pending { .. }));
        for _ in 0..400 {
            if has(dead[1]) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(has(dead[1]) && !has(dead[0]));
    })
    .await;
}
