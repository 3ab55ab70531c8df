//! Periodic maintenance of a running [`KadNode`]: routing-table refresh, record-store expiry,
//! and re-announcing what we provide and publish.
//!
//! [`KadNode::spawn_maintenance`] starts one tokio task per duty, each on its own timer
//! (first run one period after the start: the caller bootstraps first); the returned
//! [`MaintenanceHandle`] aborts them when dropped. The tasks hold only a weak reference to the
//! node, so they also end once every [`KadNode`] clone is gone. Every duty is also a one-shot
//! method usable without waiting ([`KadNode::refresh_buckets`], [`KadNode::refresh_with`],
//! [`KadNode::expire_store`], [`KadNode::republish_providers`],
//! [`KadNode::republish_records`]). No lock is held across an await.
//!
//! A refresh round, in order (go-libp2p-kad-dht's refresh manager):
//! 1. liveness check (a FIND_NODE for our own id) of every routing-table peer not seen within
//!    [`MaintenanceConfig::stale_after`]; those that fail leave the table;
//! 2. a lookup of our own id (keeps the neighbourhood complete), if
//!    [`MaintenanceConfig::self_lookup`];
//! 3. a lookup of a random key in every bucket not refreshed within the interval, up to the
//!    highest non-empty bucket (buckets deeper than 15 have no cheap random key and are covered
//!    by the self lookup, as go's CPL limit of 15).

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use chainp2p_core::identity::PeerId;
use futures::StreamExt;
use tokio::task::JoinHandle;

use super::{lock, Inner, KadNode};
use crate::message::Request;

/// Liveness checks run concurrently during a refresh: 8.
pub const REFRESH_PING_CONCURRENCY: usize = 8;

/// What the maintenance tasks do and how often. Derived from the node's
/// [`Config`](crate::Config) ([`Config::maintenance_config`](crate::Config::maintenance_config),
/// which [`KadNode::spawn_maintenance`] runs); `Default` is the derived default, each field's
/// default is on the `Config` setter named. A zero interval disables that duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceConfig {
    /// How often the routing table is refreshed: a bucket is refreshed when no refresh lookup
    /// ran in it for this long ([`Config::with_refresh_interval`](crate::Config::with_refresh_interval)).
    pub refresh_interval: Duration,
    /// Whether a refresh looks up our own id
    /// ([`Config::with_self_lookup`](crate::Config::with_self_lookup)).
    pub self_lookup: bool,
    /// Routing-table peers not seen alive for this long get a liveness check during a refresh;
    /// `None` disables the checks ([`Config::with_stale_after`](crate::Config::with_stale_after)).
    pub stale_after: Option<Duration>,
    /// Most liveness checks per refresh round
    /// ([`Config::with_max_pings_per_refresh`](crate::Config::with_max_pings_per_refresh)).
    pub max_pings_per_refresh: usize,
    /// How often expired records and provider records are purged from the store
    /// ([`Config::with_expiry_interval`](crate::Config::with_expiry_interval)).
    pub expiry_interval: Duration,
    /// How often our provider records are re-announced to the k closest peers; `None` takes
    /// the store's `provider_republish_interval`
    /// ([`Config::with_provider_republish_interval`](crate::Config::with_provider_republish_interval)).
    pub provider_republish_interval: Option<Duration>,
    /// How often the records we published with `put_value` are stored again at the k closest
    /// peers, with a fresh expiry. No replication of other peers' records (go has none either)
    /// ([`Config::with_record_republish_interval`](crate::Config::with_record_republish_interval)).
    pub record_republish_interval: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        crate::Config::default().maintenance_config()
    }
}

/// What one refresh round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Liveness checks sent.
    pub pinged: usize,
    /// Peers removed from the routing table because their check failed.
    pub removed: usize,
    /// Lookups run (the self lookup included).
    pub lookups: usize,
    /// Routing-table size at the end.
    pub table_len: usize,
}

/// The running maintenance tasks of a node; dropping it stops them.
#[derive(Debug)]
pub struct MaintenanceHandle {
    tasks: Vec<JoinHandle<()>>,
}

impl MaintenanceHandle {
    /// Number of duty tasks started (0 without a tokio runtime or with every duty disabled).
    pub fn tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Whether any task is still running.
    pub fn is_running(&self) -> bool {
        self.tasks.iter().any(|t| !t.is_finished())
    }

    /// Stops every task now (same as dropping the handle).
    pub fn stop(self) {}
}

impl Drop for MaintenanceHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Now on tokio's clock (the std clock unless tokio time is paused, as in tests), the one the
/// maintenance timers run on.
fn clock() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Runs `duty` every `period` (first run one period from now) while the node lives.
fn every<F, Fut>(
    rt: &tokio::runtime::Handle,
    node: Weak<Inner>,
    period: Duration,
    duty: F,
) -> Option<JoinHandle<()>>
where
    F: Fn(KadNode) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    if period.is_zero() {
        return None;
    }
    Some(rt.spawn(async move {
        let start = tokio::time::Instant::now() + period;
        let mut tick = tokio::time::interval_at(start, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = node.upgrade() else { return };
            duty(KadNode { inner }).await;
        }
    }))
}

impl KadNode {
    /// Starts the periodic maintenance (see the module docs) of the node's
    /// [`Config`](crate::Config) on the current tokio runtime. Without a runtime nothing starts
    /// (logged) and the handle holds no task.
    pub fn spawn_maintenance(&self) -> MaintenanceHandle {
        self.spawn_maintenance_with(self.inner.config.maintenance_config())
    }

    /// [`Self::spawn_maintenance`] with other settings (tests and tools).
    pub fn spawn_maintenance_with(&self, cfg: MaintenanceConfig) -> MaintenanceHandle {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("kad maintenance not started: no tokio runtime");
            return MaintenanceHandle { tasks: Vec::new() };
        };
        let weak = Arc::downgrade(&self.inner);
        let provider_period = cfg
            .provider_republish_interval
            .unwrap_or(self.inner.store.config().provider_republish_interval);
        let refresh_cfg = cfg.clone();
        let tasks = [
            every(&rt, weak.clone(), cfg.refresh_interval, move |n| {
                let c = refresh_cfg.clone();
                async move {
                    let r = n.refresh_with(&c).await;
                    tracing::debug!(?r, "kad routing-table refresh");
                }
            }),
            every(&rt, weak.clone(), cfg.expiry_interval, |n| async move {
                n.expire_store();
            }),
            every(&rt, weak.clone(), provider_period, |n| async move {
                let keys = n.republish_providers().await;
                tracing::debug!(keys, "kad provider records re-announced");
            }),
            every(&rt, weak, cfg.record_republish_interval, |n| async move {
                let keys = n.republish_records().await;
                tracing::debug!(keys, "kad records republished");
            }),
        ];
        MaintenanceHandle {
            tasks: tasks.into_iter().flatten().collect(),
        }
    }

    /// One full refresh now: every bucket up to the highest non-empty one gets a random-key
    /// lookup, our own id is looked up, and peers not seen for
    /// [`MaintenanceConfig::stale_after`] (of the node's config) get a liveness check.
    pub async fn refresh_buckets(&self) {
        let cfg = MaintenanceConfig {
            refresh_interval: Duration::ZERO,
            ..self.inner.config.maintenance_config()
        };
        self.refresh_with(&cfg).await;
    }

    /// One refresh round with `cfg` (see the module docs): buckets not refreshed within
    /// `cfg.refresh_interval` (all of them for a zero interval).
    pub async fn refresh_with(&self, cfg: &MaintenanceConfig) -> RefreshReport {
        let mut report = RefreshReport::default();
        if let Some(stale) = cfg.stale_after {
            let (pinged, removed) = self.check_stale(stale, cfg.max_pings_per_refresh).await;
            report.pinged = pinged;
            report.removed = removed;
        }
        if cfg.self_lookup {
            let local = self.inner.local;
            let request = Request::FindNode {
                key: local.to_bytes(),
            };
            self.closest("refresh", self.inner.local_key.clone(), request)
                .await;
            report.lookups += 1;
        }
        report.lookups += self
            .lookup_stale_buckets(clock(), cfg.refresh_interval)
            .await;
        report.table_len = self.routing_table_len();
        report
    }

    /// Looks up a random key of every bucket not refreshed within `interval` at `now` (all of
    /// them for a zero interval), marking each refreshed at `now`. Returns the lookups run.
    pub(super) async fn lookup_stale_buckets(&self, now: Instant, interval: Duration) -> usize {
        let buckets = lock(&self.inner.table).buckets_to_refresh(now, interval);
        let mut lookups = 0;
        for idx in buckets {
            let key = {
                let mut t = lock(&self.inner.table);
                t.mark_refreshed(idx, now);
                t.random_key_in_bucket(idx, &mut rand::thread_rng())
            };
            let Some(key) = key else { continue };
            let request = Request::FindNode {
                key: key.preimage().to_vec(),
            };
            self.closest("refresh", key, request).await;
            lookups += 1;
        }
        lookups
    }

    /// Liveness checks of the table peers not seen within `stale` (at most `max`, least
    /// recently seen first); the dead leave the table. Returns (checked, removed).
    async fn check_stale(&self, stale: Duration, max: usize) -> (usize, usize) {
        let now = clock();
        let mut due: Vec<(Instant, PeerId)> = lock(&self.inner.table)
            .iter()
            .filter(|e| now.saturating_duration_since(e.last_seen) >= stale)
            .map(|e| (e.last_seen, e.peer))
            .collect();
        due.sort_unstable_by_key(|(t, _)| *t);
        due.truncate(max);
        let checked = due.len();
        let mut results = futures::stream::iter(due)
            .map(|(_, p)| async move { (p, self.ping(&p).await.is_ok()) })
            .buffer_unordered(REFRESH_PING_CONCURRENCY);
        let mut removed = 0;
        while let Some((peer, alive)) = results.next().await {
            let mut t = lock(&self.inner.table);
            if alive {
                t.on_liveness(&peer, true, clock());
            } else if t.remove(&peer).is_some() {
                removed += 1;
            }
        }
        (checked, removed)
    }

    /// Purges expired records and provider records from the store now; how many were removed
    /// (0 on a store error, which is logged).
    pub fn expire_store(&self) -> usize {
        self.expire_store_at(SystemTime::now())
    }

    /// [`Self::expire_store`] as if the time were `now` (for tests and tools).
    pub fn expire_store_at(&self, now: SystemTime) -> usize {
        match self.inner.store.expire(now) {
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(removed = n, "kad store expiry sweep");
                }
                n
            }
            Err(e) => {
                tracing::warn!(error = %e, "kad store expiry sweep failed");
                0
            }
        }
    }

    /// Re-announces every key we provide (our live provider records in the store): a lookup
    /// and ADD_PROVIDER to the k closest peers each, with a fresh local expiry. Returns how many
    /// keys reached at least one peer.
    pub async fn republish_providers(&self) -> usize {
        let keys = match self
            .inner
            .store
            .provided_by(&self.inner.local, SystemTime::now())
        {
            Ok(records) => records.into_iter().map(|r| r.key).collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, "kad provider republish: store read failed");
                return 0;
            }
        };
        let mut done = 0;
        for key in keys {
            match self.provide(key).await {
                Ok(_) => done += 1,
                Err(e) => tracing::debug!(error = %e, "kad provider republish failed"),
            }
        }
        done
    }

    /// Stores again, at the k closest peers and locally with a fresh expiry, every record we
    /// published with `put_value` that our store still holds as ours (keys whose record expired
    /// or was replaced by another publisher's are forgotten). Returns how many records reached
    /// at least one peer. The published keys are found again in the store after a restart
    /// (records whose publisher is us).
    pub async fn republish_records(&self) -> usize {
        let keys: Vec<Vec<u8>> = lock(&self.inner.published).iter().cloned().collect();
        let local = self.inner.local;
        let mut done = 0;
        for key in keys {
            let record = match self.inner.store.get(&key, SystemTime::now()) {
                Ok(Some(r)) if r.publisher == Some(local) => r,
                Ok(_) => {
                    lock(&self.inner.published).remove(&key);
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "kad record republish: store read failed");
                    continue;
                }
            };
            match self.put_value(key, record.value).await {
                Ok(_) => done += 1,
                Err(e) => tracing::debug!(error = %e, "kad record republish failed"),
            }
        }
        done
    }

    /// Keys of the records we published (republished by the maintenance).
    pub fn published_keys(&self) -> Vec<Vec<u8>> {
        lock(&self.inner.published).iter().cloned().collect()
    }

    /// Remembers that we published `key` (bounded by the store's record limit).
    pub(crate) fn remember_published(&self, key: &[u8]) {
        let max = self.inner.store.config().max_records;
        let mut set = lock(&self.inner.published);
        if set.len() < max || set.contains(key) {
            set.insert(key.to_vec());
        } else {
            tracing::warn!("kad: too many published records to track for republishing");
        }
    }
}

/// The set of published keys, as kept by the node.
pub(crate) type PublishedKeys = HashSet<Vec<u8>>;
