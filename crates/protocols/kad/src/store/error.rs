//! [`StoreError`]: why a record store refused or failed an operation.

/// An error of a [`RecordStore`](super::RecordStore). Each limit of
/// [`StoreConfig`](super::StoreConfig) has its own variant naming the limit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key is longer than `max_key_size`.
    #[error("key of {len} bytes exceeds the limit of {max}")]
    KeyTooLarge {
        /// Key length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The record value is longer than `max_record_value_size`.
    #[error("record value of {len} bytes exceeds the limit of {max}")]
    ValueTooLarge {
        /// Value length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The store already holds `max_records` records (after purging expired ones).
    #[error("record store full: {max} records")]
    TooManyRecords {
        /// The limit.
        max: usize,
    },
    /// Storing the record would exceed `max_record_bytes` (after purging expired ones).
    #[error("record store full: storing would exceed {max} bytes")]
    TooManyRecordBytes {
        /// The limit.
        max: usize,
    },
    /// The key already has `max_providers_per_key` providers, all expiring no earlier than the
    /// new one (see the policy on [`RecordStore::add_provider`](super::RecordStore::add_provider)).
    #[error("key already has {max} providers expiring later")]
    TooManyProviders {
        /// The limit.
        max: usize,
    },
    /// The store already holds `max_provider_records` provider records.
    #[error("provider store full: {max} provider records")]
    TooManyProviderRecords {
        /// The limit.
        max: usize,
    },
    /// A provider record lists more than `max_addrs_per_provider` addresses.
    #[error("provider record with {len} addresses exceeds the limit of {max}")]
    TooManyAddrs {
        /// Number of addresses.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The record or provider record had already expired when it was offered.
    #[error("record already expired")]
    Expired,
    /// The record validator rejected the record.
    #[error("invalid record: {0}")]
    Invalid(String),
    /// The database failed (I/O, corruption detected by redb, lock held by another process...).
    #[cfg(feature = "redb")]
    #[error("record database: {0}")]
    Db(#[from] redb::Error),
    /// Creating the database's directory failed.
    #[error("record database directory: {0}")]
    Io(#[from] std::io::Error),
    /// A stored row does not decode: the file was altered or written by an incompatible version.
    #[error("corrupt stored record: {0}")]
    Corrupt(String),
    /// The database was written in an on-disk format this version does not read.
    #[error("record database format version {found}, this build reads {expected}")]
    FormatVersion {
        /// Version found in the file.
        found: u64,
        /// Version this build reads and writes.
        expected: u64,
    },
}

impl StoreError {
    /// Wraps any redb error type.
    #[cfg(feature = "redb")]
    pub(crate) fn db(e: impl Into<redb::Error>) -> Self {
        StoreError::Db(e.into())
    }
}
