//! The routing table: 256 k-buckets indexed by the common prefix length (CPL) of a peer's key
//! with the local key (rust-libp2p style fixed buckets, allocated lazily up to the highest
//! non-empty one), each holding at most `k` server-mode peers ordered least-recently seen
//! first.
//!
//! Sans-IO: time is passed in, and the liveness check of a full bucket is delegated to the
//! caller. When a bucket is full, [`RoutingTable::on_peer_seen`] answers
//! [`InsertOutcome::Pending`] naming the least-recently-seen entry to ping; the caller reports
//! the result with [`RoutingTable::on_liveness`], which keeps the old entry (dropping the
//! candidate) or evicts it and inserts the candidate. A pending candidate that nobody reported
//! on within [`RoutingConfig::pending_timeout`] is discarded (the old entry stays).
//!
//! IP diversity (go-libp2p-kbucket `peerdiversity`): at most
//! [`RoutingConfig::max_per_ip_group_bucket`] peers of one IP group (/16 IPv4, /32 IPv6) per
//! bucket and [`RoutingConfig::max_per_ip_group_table`] in the whole table; only public
//! addresses have a group (see [`diversity`]).

pub mod diversity;

use crate::key::{peer_hash, Distance, Key, KEY_LEN};
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use diversity::{groups_of, IpGroup};
use rand::RngCore;
use std::time::{Duration, Instant};

/// Number of buckets (one per possible CPL of a 256-bit key).
pub const NUM_BUCKETS: usize = 256;

/// Routing-table limits. Derived from the node's [`Config`](crate::Config)
/// ([`Config::routing_config`](crate::Config::routing_config)); `Default` is the derived
/// default, each field's default is on the `Config` setter named.
#[derive(Clone, Debug)]
pub struct RoutingConfig {
    /// Bucket size k ([`Config::with_k`](crate::Config::with_k)).
    pub k: usize,
    /// Addresses kept per peer, newest first
    /// ([`Config::with_addrs_kept_per_peer`](crate::Config::with_addrs_kept_per_peer)).
    pub max_addrs_per_peer: usize,
    /// How long a pending candidate waits for the liveness result
    /// ([`Config::with_pending_timeout`](crate::Config::with_pending_timeout)).
    pub pending_timeout: Duration,
    /// Peers sharing one public IP group per bucket
    /// ([`Config::with_max_per_ip_group_bucket`](crate::Config::with_max_per_ip_group_bucket)).
    pub max_per_ip_group_bucket: usize,
    /// Peers sharing one public IP group in the whole table
    /// ([`Config::with_max_per_ip_group_table`](crate::Config::with_max_per_ip_group_table)).
    pub max_per_ip_group_table: usize,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        crate::Config::default().routing_config()
    }
}

/// One peer in the table.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The peer.
    pub peer: PeerId,
    /// SHA-256 of the peer's bytes (its key-space position).
    pub hash: [u8; KEY_LEN],
    /// Known addresses, newest first, at most `max_addrs_per_peer`.
    pub addrs: Vec<Multiaddr>,
    /// When the peer was last seen alive.
    pub last_seen: Instant,
    /// Whether we currently have a connection to it (informational, set by the caller).
    pub connected: bool,
}

#[derive(Debug)]
struct Pending {
    candidate: Entry,
    check: PeerId,
    since: Instant,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Least-recently seen first.
    entries: Vec<Entry>,
    pending: Option<Box<Pending>>,
    last_refreshed: Option<Instant>,
}

/// What [`RoutingTable::on_peer_seen`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The peer was added.
    Inserted,
    /// The peer was already present; its addresses and last-seen time were refreshed.
    Updated,
    /// The bucket is full: ping `check` (its least-recently-seen entry) and report with
    /// [`RoutingTable::on_liveness`]; the new peer waits as the bucket's pending candidate.
    Pending {
        /// The entry whose liveness decides.
        check: PeerId,
    },
    /// The peer is already the pending candidate of its (full) bucket; its addresses were
    /// refreshed and the liveness check already asked for is still awaited.
    AlreadyPending,
    /// The peer was not added.
    Rejected(RejectReason),
}

/// Why a peer was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// It is the local peer.
    LocalPeer,
    /// It is not in server mode (a peer already present is removed).
    NotServer,
    /// Its bucket is full and another candidate's liveness check is still running.
    BucketFull,
    /// Its public IP group already has the maximum number of peers in the bucket or table.
    IpDiversity,
}

/// What [`RoutingTable::on_liveness`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LivenessOutcome {
    /// The peer answered and stays; the candidate waiting on it (if any) was dropped.
    Kept {
        /// The dropped pending candidate.
        dropped: Option<PeerId>,
    },
    /// The peer did not answer and was evicted in favour of the pending candidate.
    Replaced {
        /// The evicted peer.
        evicted: PeerId,
        /// The candidate now in the table.
        inserted: PeerId,
    },
    /// The peer did not answer and was evicted, but the candidate could not take its place
    /// (it became an IP-diversity violation meanwhile, or its wait had expired).
    Evicted {
        /// The evicted peer.
        evicted: PeerId,
    },
    /// Nothing changed (unknown peer, or dead with no candidate waiting on it).
    Unchanged,
}

/// The Kademlia routing table of one node.
#[derive(Debug)]
pub struct RoutingTable {
    local: Key,
    config: RoutingConfig,
    /// Lazily grown: `buckets.len()` = 1 + highest index ever used.
    buckets: Vec<Bucket>,
    len: usize,
}

impl RoutingTable {
    /// An empty table around `local` (normally `Key::from_peer(&local_peer_id)`).
    pub fn new(local: Key, config: RoutingConfig) -> Self {
        Self {
            local,
            config,
            buckets: Vec::new(),
            len: 0,
        }
    }

    /// The local key.
    pub fn local_key(&self) -> &Key {
        &self.local
    }

    /// The configuration.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// Number of peers in the table (pending candidates excluded).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bucket index (CPL) of a digest relative to the local key; `None` for the local key.
    pub fn bucket_index(&self, hash: &[u8; KEY_LEN]) -> Option<usize> {
        Distance::between(self.local.hash(), hash).bucket_index()
    }

    /// Number of entries in bucket `idx`.
    pub fn bucket_len(&self, idx: usize) -> usize {
        self.buckets.get(idx).map_or(0, |b| b.entries.len())
    }

    /// All entries, bucket by bucket.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flat_map(|b| b.entries.iter())
    }

    /// The entry of `peer`, if present.
    pub fn entry(&self, peer: &PeerId) -> Option<&Entry> {
        let hash = peer_hash(peer);
        let idx = self.bucket_index(&hash)?;
        self.buckets
            .get(idx)?
            .entries
            .iter()
            .find(|e| e.peer == *peer)
    }

    /// A peer was seen (connected, answered, or was reported with addresses). Only server-mode
    /// peers enter the table (`is_server`: its identify lists the kad protocol); a peer no
    /// longer in server mode is removed. IP groups for the diversity limit come from `addrs`
    /// (include the observed address of the connection there).
    pub fn on_peer_seen(
        &mut self,
        peer: PeerId,
        addrs: &[Multiaddr],
        is_server: bool,
        now: Instant,
    ) -> InsertOutcome {
        let hash = peer_hash(&peer);
        let Some(idx) = self.bucket_index(&hash) else {
            return InsertOutcome::Rejected(RejectReason::LocalPeer);
        };
        if !is_server {
            self.remove(&peer);
            return InsertOutcome::Rejected(RejectReason::NotServer);
        }
        if self.buckets.len() <= idx {
            self.buckets.resize_with(idx + 1, Bucket::default);
        }
        let max_addrs = self.config.max_addrs_per_peer;
        let k = self.config.k;
        let pending_timeout = self.config.pending_timeout;
        let Some(bucket) = self.buckets.get_mut(idx) else {
            return InsertOutcome::Rejected(RejectReason::BucketFull);
        };
        if let Some(pos) = bucket.entries.iter().position(|e| e.peer == peer) {
            let mut e = bucket.entries.remove(pos);
            merge_addrs(&mut e.addrs, addrs, max_addrs);
            e.last_seen = now;
            bucket.entries.push(e);
            return InsertOutcome::Updated;
        }
        if let Some(p) = bucket.pending.as_deref_mut() {
            if now.saturating_duration_since(p.since) >= pending_timeout {
                bucket.pending = None;
            } else if p.candidate.peer == peer {
                merge_addrs(&mut p.candidate.addrs, addrs, max_addrs);
                p.candidate.last_seen = now;
                return InsertOutcome::AlreadyPending;
            }
        }
        let full = bucket.entries.len() >= k;
        if full && bucket.pending.is_some() {
            return InsertOutcome::Rejected(RejectReason::BucketFull);
        }
        let mut new_addrs = Vec::new();
        merge_addrs(&mut new_addrs, addrs, max_addrs);
        let groups = groups_of(&new_addrs);
        if !self.diversity_ok(idx, &groups) {
            return InsertOutcome::Rejected(RejectReason::IpDiversity);
        }
        let entry = Entry {
            peer,
            hash,
            addrs: new_addrs,
            last_seen: now,
            connected: false,
        };
        let Some(bucket) = self.buckets.get_mut(idx) else {
            return InsertOutcome::Rejected(RejectReason::BucketFull);
        };
        if !full {
            bucket.entries.push(entry);
            self.len += 1;
            return InsertOutcome::Inserted;
        }
        let Some(oldest) = bucket.entries.first() else {
            return InsertOutcome::Rejected(RejectReason::BucketFull);
        };
        let check = oldest.peer;
        bucket.pending = Some(Box::new(Pending {
            candidate: entry,
            check,
            since: now,
        }));
        InsertOutcome::Pending { check }
    }

    /// Result of the liveness check asked for by [`InsertOutcome::Pending`] (or any ping of a
    /// table peer): alive refreshes the peer and drops the candidate waiting on it; dead
    /// evicts it in favour of the candidate.
    pub fn on_liveness(&mut self, peer: &PeerId, alive: bool, now: Instant) -> LivenessOutcome {
        let hash = peer_hash(peer);
        let Some(idx) = self.bucket_index(&hash) else {
            return LivenessOutcome::Unchanged;
        };
        let pending_timeout = self.config.pending_timeout;
        let Some(bucket) = self.buckets.get_mut(idx) else {
            return LivenessOutcome::Unchanged;
        };
        let Some(pos) = bucket.entries.iter().position(|e| e.peer == *peer) else {
            return LivenessOutcome::Unchanged;
        };
        let waiting_on_it = bucket.pending.as_ref().is_some_and(|p| p.check == *peer);
        if alive {
            let mut e = bucket.entries.remove(pos);
            e.last_seen = now;
            bucket.entries.push(e);
            let dropped = if waiting_on_it {
                bucket.pending.take().map(|p| p.candidate.peer)
            } else {
                None
            };
            return LivenessOutcome::Kept { dropped };
        }
        if !waiting_on_it {
            if let Some(e) = bucket.entries.get_mut(pos) {
                e.connected = false;
            }
            return LivenessOutcome::Unchanged;
        }
        let evicted = bucket.entries.remove(pos);
        self.len -= 1;
        let Some(pending) = bucket.pending.take() else {
            return LivenessOutcome::Evicted {
                evicted: evicted.peer,
            };
        };
        let fresh = now.saturating_duration_since(pending.since) < pending_timeout;
        let groups = groups_of(&pending.candidate.addrs);
        if fresh && self.diversity_ok(idx, &groups) {
            let inserted = pending.candidate.peer;
            if let Some(bucket) = self.buckets.get_mut(idx) {
                bucket.entries.push(pending.candidate);
                self.len += 1;
            }
            LivenessOutcome::Replaced {
                evicted: evicted.peer,
                inserted,
            }
        } else {
            LivenessOutcome::Evicted {
                evicted: evicted.peer,
            }
        }
    }

    /// Marks a peer connected or disconnected (informational).
    pub fn set_connected(&mut self, peer: &PeerId, connected: bool) {
        let hash = peer_hash(peer);
        if let Some(e) = self
            .bucket_index(&hash)
            .and_then(|i| self.buckets.get_mut(i))
            .and_then(|b| b.entries.iter_mut().find(|e| e.peer == *peer))
        {
            e.connected = connected;
        }
    }

    /// Removes a peer (and a pending candidate with that id). If its bucket had a candidate
    /// waiting, the candidate takes the freed slot (diversity permitting).
    pub fn remove(&mut self, peer: &PeerId) -> Option<Entry> {
        let hash = peer_hash(peer);
        let idx = self.bucket_index(&hash)?;
        let bucket = self.buckets.get_mut(idx)?;
        if bucket
            .pending
            .as_ref()
            .is_some_and(|p| p.candidate.peer == *peer)
        {
            bucket.pending = None;
        }
        let pos = bucket.entries.iter().position(|e| e.peer == *peer)?;
        let removed = bucket.entries.remove(pos);
        self.len -= 1;
        if let Some(p) = bucket.pending.take() {
            let groups = groups_of(&p.candidate.addrs);
            if self.diversity_ok(idx, &groups) {
                if let Some(bucket) = self.buckets.get_mut(idx) {
                    bucket.entries.push(p.candidate);
                    self.len += 1;
                }
            }
        }
        Some(removed)
    }

    /// Up to `n` peers closest to `target` with their addresses, closest first.
    pub fn closest(&self, target: &Key, n: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.closest_entries(target.hash(), n)
            .into_iter()
            .map(|e| (e.peer, e.addrs.clone()))
            .collect()
    }

    /// Up to `n` peer ids closest to `target`, closest first.
    pub fn closest_peers(&self, target: &Key, n: usize) -> Vec<PeerId> {
        self.closest_entries(target.hash(), n)
            .into_iter()
            .map(|e| e.peer)
            .collect()
    }

    /// Up to `n` entries closest to the digest `target`, closest first.
    ///
    /// Visits whole buckets in order of distance to the target and sorts only those (≤ k
    /// entries each) instead of the whole table. With `D` = distance(local, target) and `b` its
    /// bucket: peers of bucket `b` come first (they share more than `b` bits with the target);
    /// a deeper bucket `i > b` differs from `D` exactly at bit `i`, so it is closer than every
    /// deeper bucket if bit `i` of `D` is 1 (visited in increasing `i`), and farther than every
    /// deeper one if it is 0 (visited in decreasing `i`); then buckets `b - 1`, …, 0.
    pub fn closest_entries(&self, target: &[u8; KEY_LEN], n: usize) -> Vec<&Entry> {
        let mut out: Vec<(Distance, &Entry)> = Vec::with_capacity(n + self.config.k);
        if n == 0 {
            return Vec::new();
        }
        let d = Distance::between(self.local.hash(), target);
        let len = self.buckets.len();
        let bit = |i: &usize| {
            d.0.get(i / 8)
                .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
        };
        // The target itself (zero distance) has no bucket: every bucket is then `< b`.
        let b = d.bucket_index().unwrap_or(len);
        let order = std::iter::once(b)
            .chain((b + 1..len).filter(|i| bit(i)))
            .chain((b + 1..len).rev().filter(|i| !bit(i)))
            .chain((0..b.min(len)).rev());
        for i in order {
            if out.len() >= n {
                break;
            }
            if let Some(bucket) = self.buckets.get(i) {
                push_group(&mut out, target, &bucket.entries);
            }
        }
        out.truncate(n);
        out.into_iter().map(|(_, e)| e).collect()
    }

    /// Buckets due for a refresh lookup: every index up to the highest non-empty bucket that was
    /// never refreshed or not within `interval` (go refreshes CPLs `0..=max`; rust-libp2p
    /// non-empty ones). Mark them with [`RoutingTable::mark_refreshed`] when the lookup starts.
    pub fn buckets_to_refresh(&self, now: Instant, interval: Duration) -> Vec<usize> {
        let Some(max) = self.buckets.iter().rposition(|b| !b.entries.is_empty()) else {
            return Vec::new();
        };
        self.buckets
            .iter()
            .take(max + 1)
            .enumerate()
            .filter(|(_, b)| {
                b.last_refreshed
                    .is_none_or(|t| now.saturating_duration_since(t) >= interval)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Records that bucket `idx` was refreshed (a lookup for a key in it ran) at `now`.
    pub fn mark_refreshed(&mut self, idx: usize, now: Instant) {
        if idx >= NUM_BUCKETS {
            return;
        }
        if self.buckets.len() <= idx {
            self.buckets.resize_with(idx + 1, Bucket::default);
        }
        if let Some(b) = self.buckets.get_mut(idx) {
            b.last_refreshed = Some(now);
        }
    }

    /// A random key (its preimage a well-formed PeerId) in bucket `idx`, for refresh lookups.
    /// Instant for `idx < 16` (prefix table); deeper buckets get 1024 random tries and usually
    /// `None`, like go-libp2p-kbucket which refreshes CPLs up to 15 only: such buckets are the
    /// local neighbourhood, kept fresh by the lookup of our own id.
    pub fn random_key_in_bucket<R: RngCore + ?Sized>(
        &self,
        idx: usize,
        rng: &mut R,
    ) -> Option<Key> {
        Key::random_in_bucket(self.local.hash(), idx, rng, 1 << 10)
    }

    /// Whether a peer with public IP `groups` may enter bucket `idx` .
    fn diversity_ok(&self, idx: usize, groups: &[IpGroup]) -> bool {
        if groups.is_empty() {
            return true;
        }
        for g in groups {
            let mut in_bucket = 0usize;
            let mut in_table = 0usize;
            for (i, b) in self.buckets.iter().enumerate() {
                for e in &b.entries {
                    if !groups_of(&e.addrs).contains(g) {
                        continue;
                    }
                    in_table += 1;
                    if i == idx {
                        in_bucket += 1;
                    }
                }
            }
            if in_bucket >= self.config.max_per_ip_group_bucket
                || in_table >= self.config.max_per_ip_group_table
            {
                return false;
            }
        }
        true
    }
}

/// Appends `entries` with their distance to `target`, sorted among themselves.
fn push_group<'a>(
    out: &mut Vec<(Distance, &'a Entry)>,
    target: &[u8; KEY_LEN],
    entries: &'a [Entry],
) {
    let start = out.len();
    for e in entries {
        out.push((Distance::between(target, &e.hash), e));
    }
    if let Some(g) = out.get_mut(start..) {
        g.sort_unstable_by_key(|(d, _)| *d);
    }
}

/// Puts `new` first (deduplicated), then the previous addresses, keeping at most `max`.
fn merge_addrs(addrs: &mut Vec<Multiaddr>, new: &[Multiaddr], max: usize) {
    if new.is_empty() {
        return;
    }
    let mut merged: Vec<Multiaddr> = Vec::with_capacity(max.min(new.len() + addrs.len()));
    for a in new.iter().chain(addrs.iter()) {
        if merged.len() >= max {
            break;
        }
        if !merged.contains(a) {
            merged.push(a.clone());
        }
    }
    *addrs = merged;
}
