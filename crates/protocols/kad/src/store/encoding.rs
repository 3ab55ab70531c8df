//! The on-disk encoding of [`PersistentStore`](super::PersistentStore) rows (format version
//! [`FORMAT_VERSION`]). All integers big-endian; decoding never panics and reports
//! [`StoreError::Corrupt`] on a malformed row.
//!
//! ```text
//! table "records":   key = record key bytes
//!                    value = expires_secs u64 | expires_nanos u32 |
//!                            publisher_len u32 (0 = none) | publisher (PeerId bytes) |
//!                            record value (the rest of the row)
//! table "providers": key = provided key bytes
//!                    value = count u32 | count × provider
//!                    provider = expires_secs u64 | expires_nanos u32 |
//!                               peer_len u32 | peer (PeerId bytes) |
//!                               addr_count u32 | addr_count × (addr_len u32 | addr bytes)
//! table "meta":      "format_version" → u64
//! ```
//! Times are seconds and nanoseconds since the Unix epoch (a time before it is stored as 0).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;

use super::{ProviderRecord, Record, StoreError};

/// The on-disk format version this build reads and writes.
pub(crate) const FORMAT_VERSION: u64 = 1;

fn put_time(out: &mut Vec<u8>, t: SystemTime) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    out.extend_from_slice(&d.as_secs().to_be_bytes());
    out.extend_from_slice(&d.subsec_nanos().to_be_bytes());
}

/// Appends `len` as u32; lengths were bounded by the store's limits before encoding.
fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), StoreError> {
    let len = u32::try_from(len)
        .map_err(|_| StoreError::Corrupt(format!("length {len} does not fit the row format")))?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), StoreError> {
    put_len(out, b.len())?;
    out.extend_from_slice(b);
    Ok(())
}

/// Encodes a record row (the key is the table key).
pub(crate) fn encode_record(r: &Record) -> Result<Vec<u8>, StoreError> {
    let publisher = r.publisher.map(|p| p.to_bytes()).unwrap_or_default();
    let mut out = Vec::with_capacity(16 + publisher.len() + r.value.len());
    put_time(&mut out, r.expires);
    put_bytes(&mut out, &publisher)?;
    out.extend_from_slice(&r.value);
    Ok(out)
}

/// Encodes the provider list of one key.
pub(crate) fn encode_providers(list: &[ProviderRecord]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(4 + list.len() * 64);
    put_len(&mut out, list.len())?;
    for p in list {
        put_time(&mut out, p.expires);
        put_bytes(&mut out, &p.provider.to_bytes())?;
        put_len(&mut out, p.addrs.len())?;
        for a in &p.addrs {
            put_bytes(&mut out, a.as_ref())?;
        }
    }
    Ok(out)
}

/// A bounds-checked reader over one row.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| StoreError::Corrupt("row truncated".into()))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        usize::try_from(u32::from_be_bytes(self.array()?))
            .map_err(|_| StoreError::Corrupt("length out of range".into()))
    }

    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = self.len()?;
        self.take(n)
    }

    fn time(&mut self) -> Result<SystemTime, StoreError> {
        let secs = u64::from_be_bytes(self.array()?);
        let nanos = u32::from_be_bytes(self.array()?);
        if nanos >= 1_000_000_000 {
            return Err(StoreError::Corrupt("bad nanoseconds".into()));
        }
        UNIX_EPOCH
            .checked_add(Duration::new(secs, nanos))
            .ok_or_else(|| StoreError::Corrupt("time out of range".into()))
    }

    fn peer(&mut self) -> Result<PeerId, StoreError> {
        PeerId::from_bytes(self.bytes()?).map_err(|e| StoreError::Corrupt(format!("peer id: {e}")))
    }
}

/// Expiry and value length of a record row, without copying the value.
pub(crate) fn record_header(row: &[u8]) -> Result<(SystemTime, usize), StoreError> {
    let mut r = Reader(row);
    let expires = r.time()?;
    r.bytes()?;
    Ok((expires, r.0.len()))
}

/// Number of providers in a provider row, without decoding them.
pub(crate) fn provider_count(row: &[u8]) -> Result<usize, StoreError> {
    Reader(row).len()
}

/// Decodes a record row stored under `key`.
pub(crate) fn decode_record(key: &[u8], row: &[u8]) -> Result<Record, StoreError> {
    let mut r = Reader(row);
    let expires = r.time()?;
    let publisher = match r.bytes()? {
        [] => None,
        b => Some(
            PeerId::from_bytes(b).map_err(|e| StoreError::Corrupt(format!("publisher: {e}")))?,
        ),
    };
    Ok(Record {
        key: key.to_vec(),
        value: r.0.to_vec(),
        publisher,
        expires,
    })
}

/// Decodes the provider list stored under `key`.
pub(crate) fn decode_providers(key: &[u8], row: &[u8]) -> Result<Vec<ProviderRecord>, StoreError> {
    let mut r = Reader(row);
    let count = r.len()?;
    let mut list = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let expires = r.time()?;
        let provider = r.peer()?;
        let naddrs = r.len()?;
        let mut addrs = Vec::with_capacity(naddrs.min(64));
        for _ in 0..naddrs {
            let a = Multiaddr::try_from(r.bytes()?.to_vec())
                .map_err(|e| StoreError::Corrupt(format!("multiaddr: {e}")))?;
            addrs.push(a);
        }
        list.push(ProviderRecord {
            key: key.to_vec(),
            provider,
            addrs,
            expires,
        });
    }
    if !r.0.is_empty() {
        return Err(StoreError::Corrupt("trailing bytes in provider row".into()));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_providers_round_trip_and_truncation_is_an_error() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let rec = Record {
            key: b"k".to_vec(),
            value: b"value".to_vec(),
            publisher: Some(PeerId::random()),
            expires: t,
        };
        let row = encode_record(&rec).unwrap();
        assert_eq!(decode_record(b"k", &row).unwrap(), rec);
        assert!(decode_record(b"k", &row[..5]).is_err());

        let p = ProviderRecord {
            key: b"k".to_vec(),
            provider: PeerId::random(),
            addrs: vec!["/ip4/127.0.0.1/tcp/4001".parse().unwrap()],
            expires: t,
        };
        let row = encode_providers(&[p.clone(), p.clone()]).unwrap();
        assert_eq!(decode_providers(b"k", &row).unwrap(), vec![p.clone(), p]);
        for cut in 0..row.len() {
            assert!(decode_providers(b"k", &row[..cut]).is_err(), "cut {cut}");
        }
    }
}
