//! Criterion bench of the kad record store: put and get throughput of `MemoryStore` and
//! `PersistentStore` (redb in a temp dir), 1 KiB values under 10,000 keys (`kad_store/*`,
//! throughput in records per second). Puts cycle over the keys, so after the first round they
//! overwrite; every persistent put is one committed (fsynced) redb transaction.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chainp2p_kad::store::{MemoryStore, PersistentStore, Record, RecordStore, StoreConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const KEYS: usize = 10_000;
const VALUE: usize = 1024;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn key(i: usize) -> Vec<u8> {
    format!("/bench/{:08}", i % KEYS).into_bytes()
}

fn record(i: usize) -> Record {
    Record {
        key: key(i),
        value: vec![(i % 251) as u8; VALUE],
        publisher: None,
        expires: now() + Duration::from_secs(3600),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("kad-store-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench_store(c: &mut Criterion, name: &str, store: &dyn RecordStore) {
    let mut g = c.benchmark_group("kad_store");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function(format!("{name}/put_1KiB"), |b| {
        b.iter_batched(
            || {
                i += 1;
                record(i)
            },
            |r| store.put(r, now()).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    for i in 0..KEYS {
        store.put(record(i), now()).unwrap();
    }
    let mut i = 0usize;
    g.bench_function(format!("{name}/get_1KiB"), |b| {
        b.iter(|| {
            i += 1;
            let r = store.get(&key(i), now()).unwrap();
            assert!(r.is_some());
            r
        })
    });
    g.finish();
}

fn kad_store(c: &mut Criterion) {
    let memory = MemoryStore::new(None, StoreConfig::default());
    bench_store(c, "memory", &memory);

    let dir = TempDir::new();
    let persistent =
        PersistentStore::open(dir.0.join("kad.redb"), None, StoreConfig::default()).unwrap();
    bench_store(c, "persistent", &persistent);
    drop(persistent);
}

criterion_group!(benches, kad_store);
criterion_main!(benches);
