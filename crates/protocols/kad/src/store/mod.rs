//! The record store: where a DHT server keeps the values (`PUT_VALUE`) and provider records
//! (`ADD_PROVIDER`) it is home for, behind the [`RecordStore`] trait.
//!
//! Two implementations: [`MemoryStore`] (a `HashMap`, lost on exit) and `PersistentStore`
//! (an embedded redb database: every write is one committed transaction, so records survive a
//! restart and a crash mid-write loses no committed record; only with the cargo feature `redb`,
//! on by default). Both are sans-IO with respect to
//! time: every call that needs the clock takes `now: SystemTime` (wall-clock, so expiries stay
//! meaningful across restarts). Methods take `&self` (interior mutability), so one
//! `Arc<dyn RecordStore>` is shared by the stream handler and the node.
//!
//! Validation is separate: the store stores what it is given (after its size and count limits);
//! the server checks records with a [`RecordValidator`] first — [`validate_and_put`] does both,
//! and lets the validator's `select` keep the better of an old and a new record. The validator
//! is a hook: [`DefaultValidator`] checks `/pk/` keys and accepts every other namespace; users
//! pass their own.

use std::time::SystemTime;

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;

mod config;
#[cfg(feature = "redb")]
mod encoding;
mod error;
pub mod ipns;
pub mod memory;
#[cfg(feature = "redb")]
pub mod persistent;
mod policy;
pub mod validator;

pub use config::*;
pub use error::StoreError;
pub use ipns::{IpfsValidator, IpnsError};
pub use memory::MemoryStore;
#[cfg(feature = "redb")]
pub use persistent::PersistentStore;
pub use validator::{DefaultValidator, RecordValidator};

/// A value record (`PUT_VALUE` / `GET_VALUE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record key (e.g. `/pk/<peer id bytes>`, `/ipns/...`, or any bytes).
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// Who published it, if known (the peer that sent `PUT_VALUE`, or ourselves).
    pub publisher: Option<PeerId>,
    /// When it expires (wall-clock, so it keeps its meaning across restarts).
    pub expires: SystemTime,
}

/// A provider record (`ADD_PROVIDER` / `GET_PROVIDERS`): `provider` can serve `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    /// The provided key (for IPFS, a CID's multihash bytes).
    pub key: Vec<u8>,
    /// The providing peer.
    pub provider: PeerId,
    /// Its addresses, as it announced them.
    pub addrs: Vec<Multiaddr>,
    /// When it expires (wall-clock).
    pub expires: SystemTime,
}

/// What [`RecordStore::add_provider`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderAdded {
    /// A new provider for the key.
    Inserted,
    /// The provider was already known for the key: its addresses and expiry were replaced.
    Updated,
    /// The key was full: the returned record (the one expiring first, never our own) was
    /// evicted to make room.
    Replaced(ProviderRecord),
}

/// Counts a store keeps for its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Records stored (expired ones included until purged).
    pub records: usize,
    /// Bytes of keys plus values over all records.
    pub record_bytes: usize,
    /// Keys with at least one provider.
    pub provider_keys: usize,
    /// Provider records over all keys.
    pub provider_records: usize,
}

/// A record and provider store. All methods take `&self`; implementations are internally
/// synchronised. Expired entries are never returned: lookups drop them lazily, and
/// [`RecordStore::expire`] purges them all.
pub trait RecordStore: Send + Sync {
    /// The store's TTLs and limits.
    fn config(&self) -> &StoreConfig;

    /// Stores `record`, replacing any record under the same key. Errors on a key or value over
    /// its limit, a record already expired at `now`, or a full store (checked after purging
    /// expired records). Does not validate: see [`validate_and_put`].
    fn put(&self, record: Record, now: SystemTime) -> Result<(), StoreError>;

    /// The live record under `key`; an expired one is removed and `None` returned.
    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Record>, StoreError>;

    /// Removes the record under `key`; whether there was one.
    fn remove(&self, key: &[u8]) -> Result<bool, StoreError>;

    /// Adds or refreshes a provider of `record.key`.
    ///
    /// Policy when the key already has `max_providers_per_key` providers (after dropping
    /// expired ones): our own record (the store's local peer) always gets in, evicting the
    /// other provider that expires first; another peer's record evicts the provider expiring
    /// first only if it expires later than that one, else it is refused with
    /// [`StoreError::TooManyProviders`]. Fresh announcements thus displace stale ones, and the
    /// eviction is reported as [`ProviderAdded::Replaced`].
    fn add_provider(
        &self,
        record: ProviderRecord,
        now: SystemTime,
    ) -> Result<ProviderAdded, StoreError>;

    /// The live providers of `key` (expired ones are dropped).
    fn providers(&self, key: &[u8], now: SystemTime) -> Result<Vec<ProviderRecord>, StoreError>;

    /// Removes `provider` from the providers of `key`; whether it was there.
    fn remove_provider(&self, key: &[u8], provider: &PeerId) -> Result<bool, StoreError>;

    /// Every live provider record of `provider` (the keys we must re-announce every
    /// `provider_republish_interval` when `provider` is us). Scans all provider records.
    fn provided_by(
        &self,
        provider: &PeerId,
        now: SystemTime,
    ) -> Result<Vec<ProviderRecord>, StoreError>;

    /// Every live record whose publisher is `publisher` (for us: the records to keep
    /// republishing, also after a restart). Scans all records.
    fn published_by(&self, publisher: &PeerId, now: SystemTime) -> Result<Vec<Record>, StoreError>;

    /// Purges every record and provider record expired at `now`; how many were removed.
    fn expire(&self, now: SystemTime) -> Result<usize, StoreError>;

    /// Current counts.
    fn stats(&self) -> StoreStats;
}

/// Validates `record` with `validator`, then stores it unless the record already stored under
/// its key is preferred by [`RecordValidator::select`] (called with `[new, old]`).
/// Returns whether `record` was stored. A record refused by the validator is
/// [`StoreError::Invalid`]. The read of the old record and the write are two store calls:
/// two concurrent puts under one key race, and the last write wins.
pub fn validate_and_put(
    store: &dyn RecordStore,
    validator: &dyn RecordValidator,
    record: Record,
    now: SystemTime,
) -> Result<bool, StoreError> {
    validator
        .validate(&record.key, &record.value, now)
        .map_err(StoreError::Invalid)?;
    if let Some(old) = store.get(&record.key, now)? {
        if old.value != record.value
            && validator.select(&record.key, &[&record.value, &old.value]) != 0
        {
            return Ok(false);
        }
    }
    store.put(record, now)?;
    Ok(true)
}
