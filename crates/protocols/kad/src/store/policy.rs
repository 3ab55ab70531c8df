//! Limit checks and the provider-per-key policy, shared by both stores so they behave the same.

use std::time::SystemTime;

use chainp2p_core::identity::PeerId;

use super::{ProviderAdded, ProviderRecord, Record, StoreConfig, StoreError};

/// Bytes a record counts against `max_record_bytes`.
pub(crate) fn record_size(r: &Record) -> usize {
    r.key.len().saturating_add(r.value.len())
}

/// Checks a record's own limits (key, value, expiry) before it touches the store.
pub(crate) fn check_record(c: &StoreConfig, r: &Record, now: SystemTime) -> Result<(), StoreError> {
    check_key(c, &r.key)?;
    if r.value.len() > c.max_record_value_size {
        return Err(StoreError::ValueTooLarge {
            len: r.value.len(),
            max: c.max_record_value_size,
        });
    }
    if r.expires <= now {
        return Err(StoreError::Expired);
    }
    Ok(())
}

/// Checks a provider record's own limits (key, addresses, expiry).
pub(crate) fn check_provider(
    c: &StoreConfig,
    p: &ProviderRecord,
    now: SystemTime,
) -> Result<(), StoreError> {
    check_key(c, &p.key)?;
    if p.addrs.len() > c.max_addrs_per_provider {
        return Err(StoreError::TooManyAddrs {
            len: p.addrs.len(),
            max: c.max_addrs_per_provider,
        });
    }
    if p.expires <= now {
        return Err(StoreError::Expired);
    }
    Ok(())
}

/// Checks a key's length.
pub(crate) fn check_key(c: &StoreConfig, key: &[u8]) -> Result<(), StoreError> {
    if key.len() > c.max_key_size {
        return Err(StoreError::KeyTooLarge {
            len: key.len(),
            max: c.max_key_size,
        });
    }
    Ok(())
}

/// Whether a store holding `count` records of `bytes` bytes may store a record of `new_size`
/// bytes, replacing one of `old_size` bytes if the key is already present.
pub(crate) fn admit_record(
    c: &StoreConfig,
    count: usize,
    bytes: usize,
    old_size: Option<usize>,
    new_size: usize,
) -> Result<(), StoreError> {
    if old_size.is_none() && count >= c.max_records {
        return Err(StoreError::TooManyRecords { max: c.max_records });
    }
    let after = bytes
        .saturating_sub(old_size.unwrap_or(0))
        .saturating_add(new_size);
    if after > c.max_record_bytes {
        return Err(StoreError::TooManyRecordBytes {
            max: c.max_record_bytes,
        });
    }
    Ok(())
}

/// Whether the error is a store-wide limit that purging expired entries might lift.
pub(crate) fn is_full(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::TooManyRecords { .. }
            | StoreError::TooManyRecordBytes { .. }
            | StoreError::TooManyProviderRecords { .. }
    )
}

/// Applies the provider-per-key policy documented on
/// [`RecordStore::add_provider`](super::RecordStore::add_provider) to the provider list of one
/// key: drops expired entries, then updates, inserts or replaces. `list` may shrink (expired
/// entries) even when an error is returned; callers work on a copy and commit only on success.
pub(crate) fn merge_provider(
    list: &mut Vec<ProviderRecord>,
    new: ProviderRecord,
    local: Option<&PeerId>,
    max_per_key: usize,
    now: SystemTime,
) -> Result<ProviderAdded, StoreError> {
    list.retain(|p| p.expires > now);
    if let Some(p) = list.iter_mut().find(|p| p.provider == new.provider) {
        *p = new;
        return Ok(ProviderAdded::Updated);
    }
    if list.len() < max_per_key {
        list.push(new);
        return Ok(ProviderAdded::Inserted);
    }
    let new_is_local = local == Some(&new.provider);
    let victim = list
        .iter()
        .enumerate()
        .filter(|(_, p)| Some(&p.provider) != local)
        .min_by_key(|(_, p)| p.expires)
        .map(|(i, p)| (i, p.expires));
    match victim {
        Some((i, expires)) if new_is_local || expires < new.expires => {
            let old = std::mem::replace(
                list.get_mut(i)
                    .ok_or(StoreError::TooManyProviders { max: max_per_key })?,
                new,
            );
            Ok(ProviderAdded::Replaced(old))
        }
        _ => Err(StoreError::TooManyProviders { max: max_per_key }),
    }
}
