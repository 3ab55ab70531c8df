//! [`StoreConfig`]: TTLs, republish interval and the limits of a record store, with documented
//! defaults. Shared by [`MemoryStore`](super::MemoryStore) and `PersistentStore` (feature
//! `redb`).

use std::time::{Duration, SystemTime};

/// Default record TTL: 48 h (go-libp2p-kad-dht and rust-libp2p).
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(48 * 3600);
/// Default provider record TTL: 48 h (go `amino.DefaultProvideValidity`).
pub const DEFAULT_PROVIDER_TTL: Duration = Duration::from_secs(48 * 3600);
/// Default interval at which we re-announce what we provide: 22 h (go `amino.DefaultReprovideInterval`).
pub const DEFAULT_PROVIDER_REPUBLISH_INTERVAL: Duration = Duration::from_secs(22 * 3600);
/// Default longest key: 1 KiB (record keys like `/ipns/<multihash>` and provider multihashes
/// are under 100 bytes; same as the wire layer's key limit).
pub const DEFAULT_MAX_KEY_SIZE: usize = 1024;
/// Default largest record value: 65 KiB, rust-libp2p's `max_value_bytes`, so we store what a
/// rust peer would. Keep it under the wire's message limit or such records cannot be served.
pub const DEFAULT_MAX_RECORD_VALUE_SIZE: usize = 65 * 1024;
/// Default most records (distinct keys): 16,384.
pub const DEFAULT_MAX_RECORDS: usize = 16 * 1024;
/// Default most bytes of keys plus values over all records: 256 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;
/// Default most providers kept per key: 20 (k, as rust-libp2p's `max_providers_per_key`).
pub const DEFAULT_MAX_PROVIDERS_PER_KEY: usize = 20;
/// Default most provider records over all keys: 65,536.
pub const DEFAULT_MAX_PROVIDER_RECORDS: usize = 64 * 1024;
/// Default most addresses kept per provider record: 64 (as the wire layer's `max_addrs_per_peer`).
pub const DEFAULT_MAX_ADDRS_PER_PROVIDER: usize = 64;

/// TTLs and limits of a record store. Crossing a limit is a typed
/// [`StoreError`](super::StoreError), never a silent drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long a stored record lives. Default [`DEFAULT_RECORD_TTL`] (48 h).
    pub record_ttl: Duration,
    /// How long a provider record lives. Default [`DEFAULT_PROVIDER_TTL`] (48 h).
    pub provider_ttl: Duration,
    /// How often the node re-announces the keys it provides. Default
    /// [`DEFAULT_PROVIDER_REPUBLISH_INTERVAL`] (22 h); must be below `provider_ttl`.
    pub provider_republish_interval: Duration,
    /// Longest record or provider key. Default [`DEFAULT_MAX_KEY_SIZE`] (1 KiB).
    pub max_key_size: usize,
    /// Largest record value. Default [`DEFAULT_MAX_RECORD_VALUE_SIZE`] (65 KiB).
    pub max_record_value_size: usize,
    /// Most records (one per key). Default [`DEFAULT_MAX_RECORDS`] (16,384).
    pub max_records: usize,
    /// Most bytes of keys plus values over all records. Default
    /// [`DEFAULT_MAX_RECORD_BYTES`] (256 MiB).
    pub max_record_bytes: usize,
    /// Most providers per key. Default [`DEFAULT_MAX_PROVIDERS_PER_KEY`] (20). When a key is
    /// full, see [`RecordStore::add_provider`](super::RecordStore::add_provider) for the policy.
    pub max_providers_per_key: usize,
    /// Most provider records over all keys. Default [`DEFAULT_MAX_PROVIDER_RECORDS`] (65,536).
    pub max_provider_records: usize,
    /// Most addresses in one provider record. Default [`DEFAULT_MAX_ADDRS_PER_PROVIDER`] (64).
    pub max_addrs_per_provider: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            record_ttl: DEFAULT_RECORD_TTL,
            provider_ttl: DEFAULT_PROVIDER_TTL,
            provider_republish_interval: DEFAULT_PROVIDER_REPUBLISH_INTERVAL,
            max_key_size: DEFAULT_MAX_KEY_SIZE,
            max_record_value_size: DEFAULT_MAX_RECORD_VALUE_SIZE,
            max_records: DEFAULT_MAX_RECORDS,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_providers_per_key: DEFAULT_MAX_PROVIDERS_PER_KEY,
            max_provider_records: DEFAULT_MAX_PROVIDER_RECORDS,
            max_addrs_per_provider: DEFAULT_MAX_ADDRS_PER_PROVIDER,
        }
    }
}

impl StoreConfig {
    /// Expiry of a record stored at `now`: `now + record_ttl` (saturating far in the future).
    pub fn record_expiry(&self, now: SystemTime) -> SystemTime {
        add_saturating(now, self.record_ttl)
    }

    /// Expiry of a provider record stored at `now`: `now + provider_ttl`.
    pub fn provider_expiry(&self, now: SystemTime) -> SystemTime {
        add_saturating(now, self.provider_ttl)
    }
}

/// `t + d`, or `t` plus 100 years if that overflows (a TTL of `Duration::MAX` means "forever").
fn add_saturating(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(t)
}
