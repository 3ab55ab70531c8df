//! Routing-table behaviour through the public API: insertion, the liveness-checked eviction
//! of full buckets, server-mode filtering, IP diversity (public addresses only), closest-peer
//! queries against brute force, and bucket refresh bookkeeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_kad::key::Key;
use chainp2p_kad::routing::{
    InsertOutcome, LivenessOutcome, RejectReason, RoutingConfig, RoutingTable,
};
use rand::SeedableRng;
use std::time::{Duration, Instant};

fn peer(i: u32) -> PeerId {
    let mut b = vec![0x00, 0x20];
    b.extend_from_slice(&i.to_be_bytes());
    b.extend_from_slice(&[3u8; 28]);
    PeerId::from_bytes(&b).unwrap()
}

fn addr(s: &str) -> Vec<Multiaddr> {
    vec![s.parse().unwrap()]
}

fn table() -> RoutingTable {
    RoutingTable::new(Key::from_peer(&peer(u32::MAX)), RoutingConfig::default())
}

/// `n` peers that all fall in bucket `idx` of `t`.
fn peers_in_bucket(t: &RoutingTable, idx: usize, n: usize) -> Vec<PeerId> {
    (0..100_000)
        .map(peer)
        .filter(|p| t.bucket_index(Key::from_peer(p).hash()) == Some(idx))
        .take(n)
        .collect()
}

#[test]
fn full_bucket_asks_for_liveness_check() {
    let mut t = table();
    let t0 = Instant::now();
    let ps = peers_in_bucket(&t, 0, 23);
    for (i, p) in ps.iter().take(20).enumerate() {
        let now = t0 + Duration::from_secs(i as u64);
        assert_eq!(t.on_peer_seen(*p, &[], true, now), InsertOutcome::Inserted);
    }
    assert_eq!(t.len(), 20);
    assert_eq!(t.bucket_len(0), 20);
    let now = t0 + Duration::from_secs(100);
    // Full: the least-recently-seen entry (the first) must be checked.
    assert_eq!(
        t.on_peer_seen(ps[20], &[], true, now),
        InsertOutcome::Pending { check: ps[0] }
    );
    assert_eq!(
        t.on_peer_seen(ps[20], &[], true, now),
        InsertOutcome::AlreadyPending
    );
    assert_eq!(
        t.on_peer_seen(ps[21], &[], true, now),
        InsertOutcome::Rejected(RejectReason::BucketFull)
    );
    // Alive: the old entry stays (and becomes most recent), the candidate is dropped.
    assert_eq!(
        t.on_liveness(&ps[0], true, now),
        LivenessOutcome::Kept {
            dropped: Some(ps[20])
        }
    );
    assert!(t.entry(&ps[20]).is_none());
    // Next candidate: now ps[1] is the oldest.
    assert_eq!(
        t.on_peer_seen(ps[21], &[], true, now),
        InsertOutcome::Pending { check: ps[1] }
    );
    // Dead: evicted, the candidate takes its place.
    assert_eq!(
        t.on_liveness(&ps[1], false, now),
        LivenessOutcome::Replaced {
            evicted: ps[1],
            inserted: ps[21]
        }
    );
    assert!(t.entry(&ps[1]).is_none());
    assert!(t.entry(&ps[21]).is_some());
    assert_eq!(t.len(), 20);
    // Re-seen peers refresh without changing the count.
    assert_eq!(
        t.on_peer_seen(ps[2], &[], true, now),
        InsertOutcome::Updated
    );
    assert_eq!(t.len(), 20);
}

#[test]
fn pending_candidate_expires() {
    let mut t = table();
    let t0 = Instant::now();
    let ps = peers_in_bucket(&t, 0, 22);
    for p in ps.iter().take(20) {
        t.on_peer_seen(*p, &[], true, t0);
    }
    assert!(matches!(
        t.on_peer_seen(ps[20], &[], true, t0),
        InsertOutcome::Pending { .. }
    ));
    let late = t0 + t.config().pending_timeout;
    // The stale candidate no longer blocks a new one.
    assert_eq!(
        t.on_peer_seen(ps[21], &[], true, late),
        InsertOutcome::Pending { check: ps[0] }
    );
    // A liveness report after the candidate's wait expired evicts but does not insert it.
    let later = late + t.config().pending_timeout;
    assert_eq!(
        t.on_liveness(&ps[0], false, later),
        LivenessOutcome::Evicted { evicted: ps[0] }
    );
    assert!(t.entry(&ps[21]).is_none());
    assert_eq!(t.len(), 19);
}

#[test]
fn remove_lets_pending_candidate_in() {
    let mut t = table();
    let now = Instant::now();
    let ps = peers_in_bucket(&t, 0, 21);
    for p in ps.iter().take(20) {
        t.on_peer_seen(*p, &[], true, now);
    }
    t.on_peer_seen(ps[20], &[], true, now);
    assert_eq!(t.remove(&ps[5]).map(|e| e.peer), Some(ps[5]));
    assert!(t.entry(&ps[20]).is_some());
    assert_eq!(t.len(), 20);
    assert!(t.remove(&ps[5]).is_none());
}

#[test]
fn only_server_peers_and_not_self() {
    let mut t = table();
    let now = Instant::now();
    assert_eq!(
        t.on_peer_seen(peer(u32::MAX), &[], true, now),
        InsertOutcome::Rejected(RejectReason::LocalPeer)
    );
    assert_eq!(
        t.on_peer_seen(peer(1), &[], false, now),
        InsertOutcome::Rejected(RejectReason::NotServer)
    );
    assert!(t.is_empty());
    assert_eq!(
        t.on_peer_seen(peer(1), &[], true, now),
        InsertOutcome::Inserted
    );
    // A peer that switched to client mode leaves the table.
    t.on_peer_seen(peer(1), &[], false, now);
    assert!(t.is_empty());
}

#[test]
fn addresses_are_bounded_and_newest_first() {
    let mut t = table();
    let now = Instant::now();
    let many: Vec<Multiaddr> = (0..20)
        .map(|i| format!("/ip4/10.0.0.{i}/tcp/1").parse().unwrap())
        .collect();
    t.on_peer_seen(peer(1), &many, true, now);
    assert_eq!(t.entry(&peer(1)).unwrap().addrs.len(), 8);
    let fresh = addr("/ip4/10.9.9.9/tcp/4001");
    t.on_peer_seen(peer(1), &fresh, true, now);
    let e = t.entry(&peer(1)).unwrap();
    assert_eq!(e.addrs.len(), 8);
    assert_eq!(e.addrs[0], fresh[0]);
    assert_eq!(e.addrs[1], many[0]);
}

#[test]
fn ip_diversity_public_only() {
    let mut t = table();
    let now = Instant::now();
    let ps = peers_in_bucket(&t, 0, 10);
    // Two peers of 8.8.0.0/16 in one bucket, not a third.
    assert_eq!(
        t.on_peer_seen(ps[0], &addr("/ip4/8.8.1.1/tcp/1"), true, now),
        InsertOutcome::Inserted
    );
    assert_eq!(
        t.on_peer_seen(ps[1], &addr("/ip4/8.8.2.2/tcp/1"), true, now),
        InsertOutcome::Inserted
    );
    assert_eq!(
        t.on_peer_seen(ps[2], &addr("/ip4/8.8.3.3/tcp/1"), true, now),
        InsertOutcome::Rejected(RejectReason::IpDiversity)
    );
    // A different /16 is fine.
    assert_eq!(
        t.on_peer_seen(ps[3], &addr("/ip4/8.9.3.3/tcp/1"), true, now),
        InsertOutcome::Inserted
    );
    // Loopback and private ranges are exempt: a local network of many peers forms.
    for p in &ps[4..8] {
        assert_eq!(
            t.on_peer_seen(*p, &addr("/ip4/127.0.0.1/tcp/1"), true, now),
            InsertOutcome::Inserted
        );
    }
    for p in &ps[8..10] {
        assert_eq!(
            t.on_peer_seen(*p, &addr("/ip4/192.168.1.5/tcp/1"), true, now),
            InsertOutcome::Inserted
        );
    }
    // IPv6 /32 groups.
    let qs = peers_in_bucket(&t, 1, 3);
    assert_eq!(
        t.on_peer_seen(qs[0], &addr("/ip6/2a01:4f8::1/tcp/1"), true, now),
        InsertOutcome::Inserted
    );
    assert_eq!(
        t.on_peer_seen(qs[1], &addr("/ip6/2a01:4f8:ffff::1/tcp/1"), true, now),
        InsertOutcome::Inserted
    );
    assert_eq!(
        t.on_peer_seen(qs[2], &addr("/ip6/2a01:4f8:1::9/tcp/1"), true, now),
        InsertOutcome::Rejected(RejectReason::IpDiversity)
    );
}

#[test]
fn ip_diversity_table_wide_limit() {
    let mut t = table();
    let now = Instant::now();
    // One peer per bucket 0..4, all in 1.2.0.0/16: at most 3 in the table.
    let mut outcomes = Vec::new();
    for idx in 0..4 {
        let p = peers_in_bucket(&t, idx, 1)[0];
        outcomes.push(t.on_peer_seen(p, &addr("/ip4/1.2.3.4/tcp/1"), true, now));
    }
    assert_eq!(
        &outcomes[..3],
        &[
            InsertOutcome::Inserted,
            InsertOutcome::Inserted,
            InsertOutcome::Inserted
        ]
    );
    assert_eq!(
        outcomes[3],
        InsertOutcome::Rejected(RejectReason::IpDiversity)
    );
}

#[test]
fn closest_matches_brute_force() {
    let mut t = table();
    let now = Instant::now();
    let mut inserted = Vec::new();
    for i in 0..2000 {
        if t.on_peer_seen(peer(i), &[], true, now) == InsertOutcome::Inserted {
            inserted.push(peer(i));
        }
    }
    assert_eq!(t.len(), inserted.len());
    assert!(t.len() < 2000, "buckets are bounded by k");
    for target in [Key::new(b"a"), Key::new(b"b"), Key::from_peer(&peer(5))] {
        let mut want = inserted.clone();
        want.sort_by_key(|p| target.distance(&Key::from_peer(p)));
        want.truncate(20);
        assert_eq!(t.closest_peers(&target, 20), want);
        let with_addrs = t.closest(&target, 5);
        assert_eq!(
            with_addrs.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            want[..5].to_vec()
        );
    }
}

#[test]
fn refresh_bookkeeping() {
    let mut t = table();
    let t0 = Instant::now();
    let interval = Duration::from_secs(600);
    assert!(t.buckets_to_refresh(t0, interval).is_empty());
    let p = peers_in_bucket(&t, 3, 1)[0];
    t.on_peer_seen(p, &[], true, t0);
    assert_eq!(t.buckets_to_refresh(t0, interval), vec![0, 1, 2, 3]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for idx in 0..4 {
        let k = t.random_key_in_bucket(idx, &mut rng).unwrap();
        assert_eq!(t.bucket_index(k.hash()), Some(idx));
        t.mark_refreshed(idx, t0);
    }
    assert!(t.buckets_to_refresh(t0 + interval / 2, interval).is_empty());
    assert_eq!(
        t.buckets_to_refresh(t0 + interval, interval),
        vec![0, 1, 2, 3]
    );
}
