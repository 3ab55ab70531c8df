//! Unit tests of the lookup state machine with fake peers and a fake clock.

use super::value::{GetProvidersQuery, GetValueQuery};
use super::*;
use std::collections::HashSet;

fn peer(i: u32) -> PeerId {
    let mut b = vec![0x00, 0x20];
    b.extend_from_slice(&i.to_be_bytes());
    b.extend_from_slice(&[7u8; 28]);
    PeerId::from_bytes(&b).unwrap()
}

fn closest_in(universe: &[PeerId], target: &Key, n: usize) -> Vec<PeerId> {
    let mut v: Vec<_> = universe.to_vec();
    v.sort_by_cached_key(|p| target.distance(&Key::from_peer(p)));
    v.truncate(n);
    v
}

/// Drives `q` against an ideal network where every live peer answers with its 30 closest to
/// the target from `universe`; `dead` peers never answer (time advances to time them out).
fn drive(q: &mut ClosestPeersQuery, universe: &[PeerId], dead: &HashSet<PeerId>) -> Instant {
    let mut now = Instant::now();
    let target = q.target().clone();
    let mut inflight = Vec::new();
    for _ in 0..100_000 {
        match q.poll(now) {
            QueryAction::Send(p) => {
                assert!(q.in_flight() <= q.config().alpha);
                inflight.push(p);
            }
            QueryAction::SendNeighbours(p) => {
                let closer = closest_in(universe, &Key::from_peer(&p), 30);
                assert!(q.on_neighbours(&p, closer, now));
            }
            QueryAction::Wait => {
                let live: Vec<_> = inflight.drain(..).filter(|p| !dead.contains(p)).collect();
                if live.is_empty() {
                    now += q.config().request_timeout;
                }
                for p in live {
                    let closer = closest_in(universe, &target, 30);
                    assert!(q.on_response(&p, closer, now));
                }
            }
            QueryAction::Finished => return now,
        }
    }
    panic!("lookup did not terminate");
}

#[test]
fn alpha_is_respected() {
    let now = Instant::now();
    let mut q = ClosestPeersQuery::new(
        Key::new(b"t"),
        (0..10).map(peer),
        QueryConfig::default(),
        now,
    );
    let mut sent = HashSet::new();
    for _ in 0..3 {
        match q.poll(now) {
            QueryAction::Send(p) => assert!(sent.insert(p)),
            other => panic!("expected Send, got {other:?}"),
        }
    }
    assert_eq!(q.poll(now), QueryAction::Wait);
    assert_eq!(q.in_flight(), 3);
    assert_eq!(q.stats().requests, 3);
    // The first send is the closest seed.
    let target = Key::new(b"t");
    let best = closest_in(&(0..10).map(peer).collect::<Vec<_>>(), &target, 3);
    assert_eq!(sent, best.into_iter().collect());
}

#[test]
fn timeouts_free_slots_and_late_answers_count() {
    let t0 = Instant::now();
    let cfg = QueryConfig::default();
    let mut q = ClosestPeersQuery::new(Key::new(b"t"), (0..10).map(peer), cfg.clone(), t0);
    let mut first = Vec::new();
    while let QueryAction::Send(p) = q.poll(t0) {
        first.push(p);
    }
    assert_eq!(q.next_timeout(), Some(t0 + cfg.request_timeout));
    // Just before the timeout nothing moves.
    assert_eq!(q.poll(t0 + cfg.request_timeout / 2), QueryAction::Wait);
    let t1 = t0 + cfg.request_timeout;
    let mut second = Vec::new();
    while let QueryAction::Send(p) = q.poll(t1) {
        second.push(p);
    }
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|p| !first.contains(p)));
    assert_eq!(q.stats().timeouts, 3);
    assert_eq!(q.stats().failures, 3);
    // A late answer from a timed-out peer is still accepted, without taking a slot.
    assert!(q.on_response(&first[0], Vec::new(), t1));
    assert_eq!(q.in_flight(), 3);
    assert!(q.result().contains(&first[0]));
}

#[test]
fn terminates_with_exact_closest() {
    let universe: Vec<_> = (0..500).map(peer).collect();
    let target = Key::new(b"some target");
    let seeds = universe.iter().rev().take(20).copied();
    let mut q = ClosestPeersQuery::new(
        target.clone(),
        seeds,
        QueryConfig::default(),
        Instant::now(),
    );
    drive(&mut q, &universe, &HashSet::new());
    assert!(q.is_finished());
    assert_eq!(q.result(), closest_in(&universe, &target, 20));
    assert!(q.stats().requests <= 40, "{:?}", q.stats());
}

#[test]
fn go_beta_rule_stops_early() {
    let universe: Vec<_> = (0..500).map(peer).collect();
    let target = Key::new(b"x");
    let cfg = QueryConfig {
        beta: 3,
        ..QueryConfig::default()
    };
    let seeds = universe.iter().take(20).copied();
    let mut q = ClosestPeersQuery::new(target.clone(), seeds, cfg, Instant::now());
    drive(&mut q, &universe, &HashSet::new());
    let want = closest_in(&universe, &target, 20);
    assert_eq!(q.closest_known(), want);
    assert_eq!(&q.result()[..3], &want[..3]);
    assert!(q.stats().requests < 20, "{:?}", q.stats());
}

#[test]
fn unresponsive_peers_are_skipped() {
    let universe: Vec<_> = (0..300).map(peer).collect();
    let target = Key::new(b"y");
    let truth = closest_in(&universe, &target, 40);
    // The 5 closest peers are dead.
    let dead: HashSet<_> = truth.iter().take(5).copied().collect();
    let mut q = ClosestPeersQuery::new(
        target.clone(),
        universe.iter().take(10).copied(),
        QueryConfig::default(),
        Instant::now(),
    );
    drive(&mut q, &universe, &dead);
    let res = q.result();
    assert_eq!(res, truth[5..25].to_vec());
    assert!(q.stats().failures >= 5);
    assert!(q.closest_known().iter().all(|p| !dead.contains(p)));
}

#[test]
fn bogus_flood_is_bounded() {
    let now = Instant::now();
    let cfg = QueryConfig {
        max_peers_seen: 100,
        max_closer_per_response: 10_000,
        ..QueryConfig::default()
    };
    let mut q = ClosestPeersQuery::new(Key::new(b"z"), [peer(1)], cfg, now);
    assert_eq!(q.poll(now), QueryAction::Send(peer(1)));
    assert!(q.on_response(&peer(1), (1000..6000).map(peer), now));
    assert!(q.num_candidates() <= 100);
    assert!(q.stats().peers_dropped >= 4900);
    // Default per-response cap.
    let mut q = ClosestPeersQuery::new(Key::new(b"z"), [peer(1)], QueryConfig::default(), now);
    q.poll(now);
    q.on_response(&peer(1), (1000..6000).map(peer), now);
    assert_eq!(q.num_candidates(), 41);
    // The flood never answers: the lookup still ends in bounded time.
    let mut t = now;
    let mut steps = 0;
    while q.poll(t) != QueryAction::Finished {
        t += Duration::from_secs(10);
        steps += 1;
        assert!(steps < 100);
    }
    assert_eq!(q.result(), vec![peer(1)]);
}

#[test]
fn unsolicited_responses_are_ignored() {
    let now = Instant::now();
    let mut q = ClosestPeersQuery::new(
        Key::new(b"z"),
        [peer(1), peer(2)],
        QueryConfig::default(),
        now,
    );
    assert!(!q.on_response(&peer(2), [peer(9)], now));
    assert!(!q.on_response(&peer(77), [peer(9)], now));
    assert_eq!(q.num_candidates(), 2);
    assert_eq!(q.stats().responses, 0);
}

#[test]
fn no_seeds_finishes() {
    let now = Instant::now();
    let mut q = ClosestPeersQuery::new(Key::new(b"z"), [], QueryConfig::default(), now);
    assert_eq!(q.poll(now), QueryAction::Finished);
    assert!(q.result().is_empty());
}

#[test]
fn get_value_stops_at_quorum() {
    let now = Instant::now();
    let mut q: GetValueQuery<Vec<u8>> = GetValueQuery::new(
        Key::new(b"k"),
        (0..30).map(peer),
        QueryConfig::default(),
        2,
        now,
    );
    let mut sent = Vec::new();
    while let QueryAction::Send(p) = q.poll(now) {
        sent.push(p);
    }
    assert_eq!(sent.len(), 3);
    assert!(q.on_response(&sent[0], [], None, now));
    assert!(q.on_response(&sent[1], [], Some(b"v1".to_vec()), now));
    assert_ne!(q.poll(now), QueryAction::Finished);
    assert!(q.on_response(&sent[2], [], Some(b"v2".to_vec()), now));
    assert_eq!(q.poll(now), QueryAction::Finished);
    assert_eq!(q.records().len(), 2);
    assert_eq!(q.peers_without_record(), &[sent[0]]);
}

#[test]
fn get_providers_collects_and_stops() {
    let now = Instant::now();
    let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
    let mut q = GetProvidersQuery::new(
        Key::new(b"cid"),
        (0..30).map(peer),
        QueryConfig::default(),
        2,
        100,
        now,
    );
    let QueryAction::Send(a) = q.poll(now) else {
        panic!()
    };
    let QueryAction::Send(b) = q.poll(now) else {
        panic!()
    };
    q.on_response(&a, [], [(peer(100), vec![addr.clone()])], now);
    q.on_response(&b, [], [(peer(100), vec![addr.clone()])], now);
    assert_eq!(q.providers().len(), 1);
    assert_ne!(q.poll(now), QueryAction::Finished);
    let QueryAction::Send(c) = q.poll(now) else {
        panic!()
    };
    q.on_response(&c, [], [(peer(101), vec![])], now);
    assert_eq!(q.poll(now), QueryAction::Finished);
    assert_eq!(q.providers().len(), 2);
}

use chainp2p_core::multiaddr::Multiaddr;

/// Every peer knows every other one, dead ones included, and answers with its k closest to
/// the asked key (itself excluded): the k-lists near the target name the dead.
fn drive_stale(q: &mut ClosestPeersQuery, universe: &[PeerId], dead: &HashSet<PeerId>) {
    let mut now = Instant::now();
    let target = q.target().clone();
    let answer = |p: &PeerId, key: &Key| -> Vec<PeerId> {
        let mut v: Vec<_> = universe.iter().filter(|x| *x != p).copied().collect();
        v.sort_by_cached_key(|x| key.distance(&Key::from_peer(x)));
        v.truncate(20);
        v
    };
    let mut inflight = Vec::new();
    for _ in 0..100_000 {
        match q.poll(now) {
            QueryAction::Send(p) => inflight.push((p, false)),
            QueryAction::SendNeighbours(p) => inflight.push((p, true)),
            QueryAction::Wait => {
                now += Duration::from_millis(1);
                for (p, probe) in std::mem::take(&mut inflight) {
                    if dead.contains(&p) {
                        q.on_failure(&p, now);
                    } else if probe {
                        assert!(q.on_neighbours(&p, answer(&p, &Key::from_peer(&p)), now));
                    } else {
                        assert!(q.on_response(&p, answer(&p, &target), now));
                    }
                }
            }
            QueryAction::Finished => return,
        }
    }
    panic!("lookup did not terminate");
}

#[test]
fn neighbourhood_probes_find_live_peers_hidden_behind_dead_ones() {
    let universe: Vec<_> = (0..2000).map(peer).collect();
    let (mut with, mut without, mut probes) = (0, 0, 0);
    for t in 0..40u32 {
        let target = Key::new(&t.to_be_bytes());
        // The 3 closest to the target are dead: every k-list near it names them.
        let dead: HashSet<_> = closest_in(&universe, &target, 3).into_iter().collect();
        let live: Vec<_> = universe
            .iter()
            .filter(|p| !dead.contains(p))
            .copied()
            .collect();
        let truth = closest_in(&live, &target, 20);
        let seeds = universe.iter().rev().take(20).copied();
        let off = QueryConfig {
            probe_width: 0,
            ..QueryConfig::default()
        };
        let mut q = ClosestPeersQuery::new(target.clone(), seeds.clone(), off, Instant::now());
        drive_stale(&mut q, &universe, &dead);
        assert_eq!(q.stats().probes, 0);
        without += usize::from(q.result() == truth);
        let mut q = ClosestPeersQuery::new(target, seeds, QueryConfig::default(), Instant::now());
        drive_stale(&mut q, &universe, &dead);
        probes += q.stats().probes;
        with += usize::from(q.result() == truth);
    }
    // Without probes the 21st..23rd live peers are named by nobody.
    assert_eq!(without, 0);
    assert!(with >= 36, "exact with probes: {with}/40");
    assert!(probes <= 40 * 4, "{probes} probes");
}

#[test]
fn no_probes_without_failures() {
    let universe: Vec<_> = (0..1000).map(peer).collect();
    let target = Key::new(b"healthy");
    let seeds = universe.iter().rev().take(20).copied();
    let mut q = ClosestPeersQuery::new(target, seeds, QueryConfig::default(), Instant::now());
    drive_stale(&mut q, &universe, &HashSet::new());
    assert_eq!(q.stats().probes, 0);
}
