//! The swarm as the one owner of its connections and tasks: concurrent dials to one peer share
//! one dial (which completes even if its callers give up), shutdown closes every connection at once and ends every task, tasks spawned on the
//! swarm end with it, and observers get every event however far behind they read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chainp2p_swarm::identity::Keypair;
use chainp2p_swarm::{Multiaddr, Swarm, SwarmBuilder, SwarmEvent};
use chainp2p_transport_memory::MemoryTransport;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// A builder on the in-memory transport.
fn node() -> SwarmBuilder {
    SwarmBuilder::new(Keypair::generate_ed25519()).transports([MemoryTransport::default()])
}

async fn listening() -> (Swarm, Multiaddr) {
    let node = node().build();
    let addr = node.listen(&"/memory/0".parse().unwrap()).await.unwrap();
    let full: Multiaddr = format!("{addr}/p2p/{}", node.local_peer_id())
        .parse()
        .unwrap();
    (node, full)
}

/// Counts `ConnectionEstablished` events on `events` until `quiet` passes without one.
async fn established(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<SwarmEvent>,
    quiet: Duration,
) -> usize {
    let mut n = 0;
    while let Ok(Some(e)) = timeout(quiet, events.recv()).await {
        if matches!(e, SwarmEvent::ConnectionEstablished { .. }) {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn concurrent_dials_to_one_peer_share_one_connection() {
    timeout(LIMIT, async {
        let (server, addr) = listening().await;
        let mut server_events = server.observe();
        let client = node().build();
        let mut client_events = client.observe();
        let dials = (0..16).map(|_| client.dial(&addr));
        let conns = futures::future::join_all(dials).await;
        let ids: Vec<u64> = conns.into_iter().map(|c| c.unwrap().id()).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let quiet = Duration::from_millis(300);
        assert_eq!(established(&mut client_events, quiet).await, 1);
        assert_eq!(established(&mut server_events, quiet).await, 1);
        assert_eq!(client.connections().len(), 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_failed_shared_dial_fails_every_caller_and_the_next_dial_tries_again() {
    timeout(LIMIT, async {
        // A memory port nobody listens on.
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let addr: Multiaddr = format!("/memory/{}/p2p/{peer}", u64::MAX - 7)
            .parse()
            .unwrap();
        let client = node().build();
        let results = futures::future::join_all((0..4).map(|_| client.dial(&addr))).await;
        for r in &results {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.layer().as_str(), "memory", "{e}");
        }
        // Nothing stale is left: a new dial is a new attempt, and fails the same way.
        assert!(client.dial(&addr).await.is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_dial_whose_caller_gave_up_still_completes() {
    timeout(LIMIT, async {
        let (server, addr) = listening().await;
        let peer = server.local_peer_id();
        let client = node().build();
        // Start the dial (poll it once), then drop it mid-handshake: the caller gave up.
        {
            let mut dial = std::pin::pin!(client.dial(&addr));
            assert!(futures::poll!(dial.as_mut()).is_pending());
        }
        // Nobody awaits it any more, yet the connection is established.
        let started = Instant::now();
        while client.connection(&peer).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the abandoned dial never completed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // A later dial reuses it instead of inheriting a stale handshake.
        let conn = client.dial(&addr).await.unwrap();
        let mut s = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut s).await.unwrap();
        assert_eq!(client.connections().len(), 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_ends_every_task() {
    timeout(LIMIT, async {
        let (server, addr) = listening().await;
        let mut clients = Vec::new();
        for _ in 0..12 {
            let c = node().build();
            let conn = c.dial(&addr).await.unwrap();
            let mut s = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
            chainp2p_ping::ping(&mut s).await.unwrap();
            clients.push((c.observe(), c));
        }
        // A task of the swarm's own that would never end by itself.
        let ran_to_end = Arc::new(AtomicBool::new(false));
        let flag = ran_to_end.clone();
        server.spawn(async move {
            futures::future::pending::<()>().await;
            flag.store(true, Ordering::SeqCst);
        });
        assert!(server.task_count() > 12, "{}", server.task_count());

        let started = Instant::now();
        server.shutdown().await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
        assert_eq!(server.task_count(), 0, "tasks left after shutdown");
        assert!(!ran_to_end.load(Ordering::SeqCst));
        assert!(server.connections().is_empty());
        // Every client sees its connection end.
        for (events, _client) in &mut clients {
            let closed = timeout(Duration::from_secs(5), async {
                loop {
                    match events.recv().await {
                        Some(SwarmEvent::ConnectionClosed { .. }) => break true,
                        Some(_) => continue,
                        None => break false,
                    }
                }
            })
            .await;
            assert_eq!(closed, Ok(true));
        }
        // The listener is gone too: a new dial is refused or fails.
        let late = node().build();
        assert!(late.dial(&addr).await.is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn observers_miss_nothing_while_subscribers_may_lag() {
    timeout(LIMIT, async {
        let node = node().build();
        let mut observer = node.observe();
        let mut subscriber = node.subscribe();
        // More events than the broadcast channel holds, none read meanwhile.
        let n = 1100;
        for _ in 0..n {
            node.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        }
        let mut seen = 0;
        while let Ok(event) = observer.try_recv() {
            if matches!(event, SwarmEvent::Listening { .. }) {
                seen += 1;
            }
        }
        assert_eq!(seen, n, "the observer lost events");
        // The subscriber lagged: it reports how many it missed instead of all of them.
        assert!(matches!(
            subscriber.try_recv(),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_))
        ));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_event_capacity_bounds_how_far_a_subscriber_may_lag() {
    timeout(LIMIT, async {
        let node = node().event_capacity(4).build();
        let mut observer = node.observe();
        let mut subscriber = node.subscribe();
        for _ in 0..4 {
            node.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        }
        // Four events fit: all read, nothing missed.
        for _ in 0..4 {
            assert!(matches!(
                subscriber.try_recv(),
                Ok(SwarmEvent::Listening { .. })
            ));
        }
        for _ in 0..6 {
            node.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        }
        // Six more do not: the two oldest are missed, the observer still has all ten.
        assert!(matches!(
            subscriber.try_recv(),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(2))
        ));
        let mut seen = 0;
        while observer.try_recv().is_ok() {
            seen += 1;
        }
        assert_eq!(seen, 10);
    })
    .await
    .unwrap();
}
