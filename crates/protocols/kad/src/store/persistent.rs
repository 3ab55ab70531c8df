//! [`PersistentStore`]: the [`RecordStore`] on an embedded redb database, the node's default
//! (in `--data-dir`), so records and provider records survive a restart. Only with the cargo
//! feature `redb` (on by default).
//!
//! Durability: every mutating call is one redb write transaction, committed with redb's
//! default `Durability::Immediate` (data and the commit are fsynced before the call returns).
//! A crash after a call returned loses nothing; a crash in the middle of a call leaves the
//! previous committed state (redb's copy-on-write B-trees never overwrite committed pages), so
//! no committed record is ever lost. After a crash, the next open runs redb's repair (a walk
//! of the file, time proportional to its size) before serving. The row format is described in `store/encoding.rs`; the
//! `meta` table holds its version, checked on open.
//!
//! Counts for the limits are computed by one scan at open and kept in memory under the same
//! mutex that serialises writes, so they always match the committed tables. Reads use redb
//! read transactions and do not take the mutex unless they find an expired entry to drop.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use chainp2p_core::identity::PeerId;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::encoding::{
    decode_providers, decode_record, encode_providers, encode_record, provider_count,
    record_header, FORMAT_VERSION,
};
use super::policy::{
    admit_record, check_key, check_provider, check_record, is_full, merge_provider, record_size,
};
use super::{
    ProviderAdded, ProviderRecord, Record, RecordStore, StoreConfig, StoreError, StoreStats,
};

/// A conventional file name for the store inside a node's data directory.
pub const DEFAULT_FILE_NAME: &str = "kad-store.redb";

const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
const PROVIDERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("providers");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const VERSION_KEY: &str = "format_version";

/// A record store persisted in one redb file.
pub struct PersistentStore {
    db: Database,
    local: Option<PeerId>,
    config: StoreConfig,
    /// Counts of committed rows; held across every write transaction.
    counts: Mutex<StoreStats>,
}

impl std::fmt::Debug for PersistentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentStore")
            .field("local", &self.local)
            .field("stats", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl PersistentStore {
    /// The row under `key` of `table`, decoded (one read transaction).
    fn read_row<T>(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        key: &[u8],
        decode: impl Fn(&[u8], &[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        let t = txn.open_table(table).map_err(StoreError::db)?;
        match t.get(key).map_err(StoreError::db)? {
            Some(g) => decode(key, g.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Every entry of every row of `table` that `keep` accepts (one read transaction).
    fn scan<T>(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        decode: impl Fn(&[u8], &[u8]) -> Result<Vec<T>, StoreError>,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        let t = txn.open_table(table).map_err(StoreError::db)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(StoreError::db)? {
            let (k, v) = item.map_err(StoreError::db)?;
            out.extend(decode(k.value(), v.value())?.into_iter().filter(&keep));
        }
        Ok(out)
    }

    /// Opens the database file at `path`, creating it (and its parent directories) if needed.
    /// `local` is our own peer id (our provider records are always kept when a key is full).
    /// Fails with [`StoreError::Db`] if another process has the file open, and with
    /// [`StoreError::FormatVersion`] if it was written in a format this build does not read.
    pub fn open(
        path: impl AsRef<Path>,
        local: Option<PeerId>,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let db = Database::create(path).map_err(StoreError::db)?;
        let txn = db.begin_write().map_err(StoreError::db)?;
        {
            let mut meta = txn.open_table(META).map_err(StoreError::db)?;
            let found = meta
                .get(VERSION_KEY)
                .map_err(StoreError::db)?
                .map(|g| g.value());
            match found {
                Some(v) if v != FORMAT_VERSION => {
                    return Err(StoreError::FormatVersion {
                        found: v,
                        expected: FORMAT_VERSION,
                    })
                }
                Some(_) => {}
                None => {
                    meta.insert(VERSION_KEY, FORMAT_VERSION)
                        .map_err(StoreError::db)?;
                }
            }
        }
        let counts = recount(&txn)?;
        txn.commit().map_err(StoreError::db)?;
        Ok(Self {
            db,
            local,
            config,
            counts: Mutex::new(counts),
        })
    }

    fn lock(&self) -> MutexGuard<'_, StoreStats> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_put(
        &self,
        counts: &mut StoreStats,
        record: &Record,
        row: &[u8],
    ) -> Result<(), StoreError> {
        let key = record.key.as_slice();
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        let old_size = {
            let mut t = txn.open_table(RECORDS).map_err(StoreError::db)?;
            let old_size = match t.get(key).map_err(StoreError::db)? {
                Some(g) => Some(key.len().saturating_add(record_header(g.value())?.1)),
                None => None,
            };
            admit_record(
                &self.config,
                counts.records,
                counts.record_bytes,
                old_size,
                record_size(record),
            )?;
            t.insert(key, row).map_err(StoreError::db)?;
            old_size
        };
        txn.commit().map_err(StoreError::db)?;
        if old_size.is_none() {
            counts.records = counts.records.saturating_add(1);
        }
        counts.record_bytes = counts
            .record_bytes
            .saturating_sub(old_size.unwrap_or(0))
            .saturating_add(record_size(record));
        Ok(())
    }

    fn try_add_provider(
        &self,
        counts: &mut StoreStats,
        record: &ProviderRecord,
        now: SystemTime,
    ) -> Result<ProviderAdded, StoreError> {
        let key = record.key.as_slice();
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        let (old_len, existed, new_len, added) = {
            let mut t = txn.open_table(PROVIDERS).map_err(StoreError::db)?;
            let old = match t.get(key).map_err(StoreError::db)? {
                Some(g) => Some(decode_providers(key, g.value())?),
                None => None,
            };
            let existed = old.is_some();
            let mut list = old.unwrap_or_default();
            let old_len = list.len();
            let added = merge_provider(
                &mut list,
                record.clone(),
                self.local.as_ref(),
                self.config.max_providers_per_key,
                now,
            )?;
            if list.len() > old_len
                && counts.provider_records.saturating_add(list.len() - old_len)
                    > self.config.max_provider_records
            {
                return Err(StoreError::TooManyProviderRecords {
                    max: self.config.max_provider_records,
                });
            }
            t.insert(key, encode_providers(&list)?.as_slice())
                .map_err(StoreError::db)?;
            (old_len, existed, list.len(), added)
        };
        txn.commit().map_err(StoreError::db)?;
        counts.provider_records = counts
            .provider_records
            .saturating_sub(old_len)
            .saturating_add(new_len);
        if !existed {
            counts.provider_keys = counts.provider_keys.saturating_add(1);
        }
        Ok(added)
    }

    /// Rewrites the provider row of `key` keeping only entries `keep` accepts; how many were
    /// dropped. One committed transaction; `counts` updated after the commit.
    fn filter_providers(
        &self,
        counts: &mut StoreStats,
        key: &[u8],
        keep: impl Fn(&ProviderRecord) -> bool,
    ) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        let (removed, now_empty) = {
            let mut t = txn.open_table(PROVIDERS).map_err(StoreError::db)?;
            let mut list = match t.get(key).map_err(StoreError::db)? {
                Some(g) => decode_providers(key, g.value())?,
                None => return Ok(0),
            };
            let before = list.len();
            list.retain(|p| keep(p));
            let removed = before - list.len();
            if removed == 0 {
                return Ok(0);
            }
            if list.is_empty() {
                t.remove(key).map_err(StoreError::db)?;
            } else {
                t.insert(key, encode_providers(&list)?.as_slice())
                    .map_err(StoreError::db)?;
            }
            (removed, list.is_empty())
        };
        txn.commit().map_err(StoreError::db)?;
        counts.provider_records = counts.provider_records.saturating_sub(removed);
        if now_empty {
            counts.provider_keys = counts.provider_keys.saturating_sub(1);
        }
        Ok(removed)
    }

    /// Removes every expired row (and expired provider in a row) in one transaction.
    fn purge(&self, counts: &mut StoreStats, now: SystemTime) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        {
            let mut records = txn.open_table(RECORDS).map_err(StoreError::db)?;
            records
                .retain(|_, row| record_header(row).map_or(true, |(expires, _)| expires > now))
                .map_err(StoreError::db)?;
            let mut providers = txn.open_table(PROVIDERS).map_err(StoreError::db)?;
            let mut changed: Vec<(Vec<u8>, Vec<ProviderRecord>)> = Vec::new();
            for item in providers.iter().map_err(StoreError::db)? {
                let (k, v) = item.map_err(StoreError::db)?;
                let key = k.value();
                let list = decode_providers(key, v.value())?;
                if list.iter().any(|p| p.expires <= now) {
                    let live = list.into_iter().filter(|p| p.expires > now).collect();
                    changed.push((key.to_vec(), live));
                }
            }
            for (key, live) in changed {
                if live.is_empty() {
                    providers.remove(key.as_slice()).map_err(StoreError::db)?;
                } else {
                    providers
                        .insert(key.as_slice(), encode_providers(&live)?.as_slice())
                        .map_err(StoreError::db)?;
                }
            }
        }
        let after = recount(&txn)?;
        txn.commit().map_err(StoreError::db)?;
        let removed = (counts.records + counts.provider_records)
            .saturating_sub(after.records + after.provider_records);
        *counts = after;
        Ok(removed)
    }
}

/// Counts every committed row (one scan; record rows only have their header read).
fn recount(txn: &WriteTransaction) -> Result<StoreStats, StoreError> {
    let mut s = StoreStats::default();
    let records = txn.open_table(RECORDS).map_err(StoreError::db)?;
    for item in records.iter().map_err(StoreError::db)? {
        let (k, v) = item.map_err(StoreError::db)?;
        s.records += 1;
        s.record_bytes = s
            .record_bytes
            .saturating_add(k.value().len())
            .saturating_add(record_header(v.value())?.1);
    }
    let providers = txn.open_table(PROVIDERS).map_err(StoreError::db)?;
    for item in providers.iter().map_err(StoreError::db)? {
        let (_, v) = item.map_err(StoreError::db)?;
        s.provider_keys += 1;
        s.provider_records = s
            .provider_records
            .saturating_add(provider_count(v.value())?);
    }
    Ok(s)
}

impl RecordStore for PersistentStore {
    fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn put(&self, record: Record, now: SystemTime) -> Result<(), StoreError> {
        check_record(&self.config, &record, now)?;
        let row = encode_record(&record)?;
        let mut counts = self.lock();
        match self.try_put(&mut counts, &record, &row) {
            Err(e) if is_full(&e) && self.purge(&mut counts, now)? > 0 => {
                self.try_put(&mut counts, &record, &row)
            }
            other => other,
        }
    }

    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Record>, StoreError> {
        check_key(&self.config, key)?;
        let Some(record) = self.read_row(RECORDS, key, decode_record)? else {
            return Ok(None);
        };
        if record.expires > now {
            return Ok(Some(record));
        }
        // Expired: drop it, unless a fresh record replaced it meanwhile.
        let mut counts = self.lock();
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        let removed = {
            let mut t = txn.open_table(RECORDS).map_err(StoreError::db)?;
            let expired_len = match t.get(key).map_err(StoreError::db)? {
                Some(g) => match record_header(g.value())? {
                    (expires, len) if expires <= now => Some(len),
                    _ => None,
                },
                None => None,
            };
            if expired_len.is_some() {
                t.remove(key).map_err(StoreError::db)?;
            }
            expired_len
        };
        txn.commit().map_err(StoreError::db)?;
        if let Some(len) = removed {
            counts.records = counts.records.saturating_sub(1);
            counts.record_bytes = counts
                .record_bytes
                .saturating_sub(key.len().saturating_add(len));
        }
        Ok(None)
    }

    fn remove(&self, key: &[u8]) -> Result<bool, StoreError> {
        let mut counts = self.lock();
        let txn = self.db.begin_write().map_err(StoreError::db)?;
        let removed = {
            let mut t = txn.open_table(RECORDS).map_err(StoreError::db)?;
            let removed = t.remove(key).map_err(StoreError::db)?;
            match removed {
                Some(g) => Some(record_header(g.value())?.1),
                None => None,
            }
        };
        txn.commit().map_err(StoreError::db)?;
        if let Some(len) = removed {
            counts.records = counts.records.saturating_sub(1);
            counts.record_bytes = counts
                .record_bytes
                .saturating_sub(key.len().saturating_add(len));
        }
        Ok(removed.is_some())
    }

    fn add_provider(
        &self,
        record: ProviderRecord,
        now: SystemTime,
    ) -> Result<ProviderAdded, StoreError> {
        check_provider(&self.config, &record, now)?;
        let mut counts = self.lock();
        match self.try_add_provider(&mut counts, &record, now) {
            Err(e) if is_full(&e) && self.purge(&mut counts, now)? > 0 => {
                self.try_add_provider(&mut counts, &record, now)
            }
            other => other,
        }
    }

    fn providers(&self, key: &[u8], now: SystemTime) -> Result<Vec<ProviderRecord>, StoreError> {
        check_key(&self.config, key)?;
        let Some(list) = self.read_row(PROVIDERS, key, decode_providers)? else {
            return Ok(Vec::new());
        };
        if list.iter().any(|p| p.expires <= now) {
            let mut counts = self.lock();
            self.filter_providers(&mut counts, key, |p| p.expires > now)?;
        }
        Ok(list.into_iter().filter(|p| p.expires > now).collect())
    }

    fn remove_provider(&self, key: &[u8], provider: &PeerId) -> Result<bool, StoreError> {
        let mut counts = self.lock();
        Ok(self.filter_providers(&mut counts, key, |p| &p.provider != provider)? > 0)
    }

    fn provided_by(
        &self,
        provider: &PeerId,
        now: SystemTime,
    ) -> Result<Vec<ProviderRecord>, StoreError> {
        self.scan(PROVIDERS, decode_providers, |p| {
            &p.provider == provider && p.expires > now
        })
    }

    fn published_by(&self, publisher: &PeerId, now: SystemTime) -> Result<Vec<Record>, StoreError> {
        let decode = |k: &[u8], v: &[u8]| decode_record(k, v).map(|r| vec![r]);
        self.scan(RECORDS, decode, |r| {
            r.publisher.as_ref() == Some(publisher) && r.expires > now
        })
    }

    fn expire(&self, now: SystemTime) -> Result<usize, StoreError> {
        let mut counts = self.lock();
        self.purge(&mut counts, now)
    }

    fn stats(&self) -> StoreStats {
        *self.lock()
    }
}
