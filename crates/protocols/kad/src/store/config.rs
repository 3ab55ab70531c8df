//! [`StoreConfig`]: TTLs, republish interval and the limits of a record store, shared by
//! [`MemoryStore`](super::MemoryStore) and `PersistentStore` (feature `redb`). Derived from the
//! node's [`Config`](crate::Config) ([`Config::store_config`](crate::Config::store_config)),
//! where the defaults are documented.

use std::time::{Duration, SystemTime};

/// TTLs and limits of a record store. Crossing a limit is a typed
/// [`StoreError`](super::StoreError), never a silent drop. Derived from
/// [`Config::store_config`](crate::Config::store_config); `Default` is the derived default
/// (each field's default is on the [`Config`](crate::Config) setter named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long a stored record lives ([`Config::with_record_ttl`](crate::Config::with_record_ttl)).
    pub record_ttl: Duration,
    /// How long a provider record lives
    /// ([`Config::with_provider_ttl`](crate::Config::with_provider_ttl)).
    pub provider_ttl: Duration,
    /// How often the node re-announces the keys it provides; below `provider_ttl`
    /// ([`Config::with_provider_republish_interval`](crate::Config::with_provider_republish_interval)).
    pub provider_republish_interval: Duration,
    /// Longest record or provider key
    /// ([`Config::with_max_key_size`](crate::Config::with_max_key_size)).
    pub max_key_size: usize,
    /// Largest record value
    /// ([`Config::with_max_record_value_size`](crate::Config::with_max_record_value_size)).
    pub max_record_value_size: usize,
    /// Most records, one per key ([`Config::with_max_records`](crate::Config::with_max_records)).
    pub max_records: usize,
    /// Most bytes of keys plus values over all records
    /// ([`Config::with_max_record_bytes`](crate::Config::with_max_record_bytes)).
    pub max_record_bytes: usize,
    /// Most providers per key, k by default
    /// ([`Config::with_max_providers_per_key`](crate::Config::with_max_providers_per_key)). When a
    /// key is full, see [`RecordStore::add_provider`](super::RecordStore::add_provider) for the
    /// policy.
    pub max_providers_per_key: usize,
    /// Most provider records over all keys
    /// ([`Config::with_max_provider_records`](crate::Config::with_max_provider_records)).
    pub max_provider_records: usize,
    /// Most addresses in one provider record: the addresses decoded per peer
    /// ([`Config::with_max_addrs_per_peer`](crate::Config::with_max_addrs_per_peer)).
    pub max_addrs_per_provider: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        crate::Config::default().store_config()
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
