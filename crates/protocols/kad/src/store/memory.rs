//! [`MemoryStore`]: the in-memory [`RecordStore`] (`HashMap`s behind one `Mutex`), for
//! `--memory` nodes, tests and benchmarks. Lost on exit.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use chainp2p_core::identity::PeerId;

use super::policy::{
    admit_record, check_key, check_provider, check_record, is_full, merge_provider, record_size,
};
use super::{
    ProviderAdded, ProviderRecord, Record, RecordStore, StoreConfig, StoreError, StoreStats,
};

/// An in-memory record store.
#[derive(Debug)]
pub struct MemoryStore {
    local: Option<PeerId>,
    config: StoreConfig,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<Vec<u8>, Record>,
    record_bytes: usize,
    providers: HashMap<Vec<u8>, Vec<ProviderRecord>>,
    provider_records: usize,
}

impl MemoryStore {
    /// An empty store. `local` is our own peer id: our provider records are always kept when a
    /// key is full (see [`RecordStore::add_provider`]); `None` if there is no local provider.
    pub fn new(local: Option<PeerId>, config: StoreConfig) -> Self {
        Self {
            local,
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn remove_record(&mut self, key: &[u8]) -> Option<Record> {
        let r = self.records.remove(key)?;
        self.record_bytes = self.record_bytes.saturating_sub(record_size(&r));
        Some(r)
    }

    fn purge(&mut self, now: SystemTime) -> usize {
        let before = self.records.len() + self.provider_records;
        self.records.retain(|_, r| r.expires > now);
        self.record_bytes = self.records.values().map(record_size).sum();
        self.providers.retain(|_, list| {
            list.retain(|p| p.expires > now);
            !list.is_empty()
        });
        self.provider_records = self.providers.values().map(Vec::len).sum();
        before.saturating_sub(self.records.len() + self.provider_records)
    }

    fn try_put(&mut self, c: &StoreConfig, record: &Record) -> Result<(), StoreError> {
        let old = self.records.get(&record.key).map(record_size);
        admit_record(
            c,
            self.records.len(),
            self.record_bytes,
            old,
            record_size(record),
        )
    }

    fn try_add_provider(
        &mut self,
        c: &StoreConfig,
        local: Option<&PeerId>,
        record: &ProviderRecord,
        now: SystemTime,
    ) -> Result<(Vec<ProviderRecord>, ProviderAdded), StoreError> {
        let old = self.providers.get(&record.key);
        let old_len = old.map_or(0, Vec::len);
        let mut list = old.cloned().unwrap_or_default();
        let added = merge_provider(
            &mut list,
            record.clone(),
            local,
            c.max_providers_per_key,
            now,
        )?;
        if list.len() > old_len
            && self.provider_records.saturating_add(list.len() - old_len) > c.max_provider_records
        {
            return Err(StoreError::TooManyProviderRecords {
                max: c.max_provider_records,
            });
        }
        Ok((list, added))
    }
}

impl RecordStore for MemoryStore {
    fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn put(&self, record: Record, now: SystemTime) -> Result<(), StoreError> {
        check_record(&self.config, &record, now)?;
        let mut inner = self.lock();
        if let Err(e) = inner.try_put(&self.config, &record) {
            if !is_full(&e) || inner.purge(now) == 0 {
                return Err(e);
            }
            inner.try_put(&self.config, &record)?;
        }
        inner.remove_record(&record.key);
        inner.record_bytes = inner.record_bytes.saturating_add(record_size(&record));
        inner.records.insert(record.key.clone(), record);
        Ok(())
    }

    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Record>, StoreError> {
        check_key(&self.config, key)?;
        let mut inner = self.lock();
        match inner.records.get(key) {
            Some(r) if r.expires > now => Ok(Some(r.clone())),
            Some(_) => {
                inner.remove_record(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn remove(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.lock().remove_record(key).is_some())
    }

    fn add_provider(
        &self,
        record: ProviderRecord,
        now: SystemTime,
    ) -> Result<ProviderAdded, StoreError> {
        check_provider(&self.config, &record, now)?;
        let local = self.local.as_ref();
        let mut inner = self.lock();
        let (list, added) = match inner.try_add_provider(&self.config, local, &record, now) {
            Err(e) if is_full(&e) && inner.purge(now) > 0 => {
                inner.try_add_provider(&self.config, local, &record, now)?
            }
            other => other?,
        };
        let old_len = inner.providers.get(&record.key).map_or(0, Vec::len);
        inner.provider_records = inner
            .provider_records
            .saturating_sub(old_len)
            .saturating_add(list.len());
        inner.providers.insert(record.key, list);
        Ok(added)
    }

    fn providers(&self, key: &[u8], now: SystemTime) -> Result<Vec<ProviderRecord>, StoreError> {
        check_key(&self.config, key)?;
        let mut inner = self.lock();
        let Some(list) = inner.providers.get_mut(key) else {
            return Ok(Vec::new());
        };
        let before = list.len();
        list.retain(|p| p.expires > now);
        let removed = before - list.len();
        let live = list.clone();
        if live.is_empty() {
            inner.providers.remove(key);
        }
        inner.provider_records = inner.provider_records.saturating_sub(removed);
        Ok(live)
    }

    fn remove_provider(&self, key: &[u8], provider: &PeerId) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some(list) = inner.providers.get_mut(key) else {
            return Ok(false);
        };
        let before = list.len();
        list.retain(|p| &p.provider != provider);
        let removed = before - list.len();
        if list.is_empty() {
            inner.providers.remove(key);
        }
        inner.provider_records = inner.provider_records.saturating_sub(removed);
        Ok(removed > 0)
    }

    fn provided_by(
        &self,
        provider: &PeerId,
        now: SystemTime,
    ) -> Result<Vec<ProviderRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .providers
            .values()
            .flatten()
            .filter(|p| &p.provider == provider && p.expires > now)
            .cloned()
            .collect())
    }

    fn published_by(&self, publisher: &PeerId, now: SystemTime) -> Result<Vec<Record>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .records
            .values()
            .filter(|r| r.publisher.as_ref() == Some(publisher) && r.expires > now)
            .cloned()
            .collect())
    }

    fn expire(&self, now: SystemTime) -> Result<usize, StoreError> {
        Ok(self.lock().purge(now))
    }

    fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            records: inner.records.len(),
            record_bytes: inner.record_bytes,
            provider_keys: inner.providers.len(),
            provider_records: inner.provider_records,
        }
    }
}
