#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Record store behaviour: one suite run against both `MemoryStore` and `PersistentStore`
//! (put/get/overwrite, TTLs, every limit's typed error, the provider-per-key policy, the
//! validator hook), then what only the persistent store promises: a restart keeps everything,
//! and a process killed mid-write loses no committed record.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_kad::store::{
    validate_and_put, DefaultValidator, MemoryStore, PersistentStore, ProviderAdded,
    ProviderRecord, Record, RecordStore, RecordValidator, StoreConfig, StoreError,
};

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn at(secs: u64) -> SystemTime {
    t0() + Duration::from_secs(secs)
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "kadstore-{tag}-{}-{nanos}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store under test, with the temp dir it lives in (persistent only).
struct Opened {
    store: Box<dyn RecordStore>,
    _dir: Option<TempDir>,
}

type Make = fn(Option<PeerId>, StoreConfig) -> Opened;

fn memory(local: Option<PeerId>, config: StoreConfig) -> Opened {
    Opened {
        store: Box::new(MemoryStore::new(local, config)),
        _dir: None,
    }
}

fn persistent(local: Option<PeerId>, config: StoreConfig) -> Opened {
    let dir = TempDir::new("suite");
    let store = PersistentStore::open(dir.path().join("db/kad.redb"), local, config).unwrap();
    Opened {
        store: Box::new(store),
        _dir: Some(dir),
    }
}

fn record(key: &[u8], value: &[u8], expires: SystemTime) -> Record {
    Record {
        key: key.to_vec(),
        value: value.to_vec(),
        publisher: Some(PeerId::random()),
        expires,
    }
}

fn provider(key: &[u8], peer: PeerId, expires: SystemTime) -> ProviderRecord {
    let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
    ProviderRecord {
        key: key.to_vec(),
        provider: peer,
        addrs: vec![addr],
        expires,
    }
}

// ---- the shared suite ----

fn put_get_overwrite_remove(make: Make) {
    let s = make(None, StoreConfig::default()).store;
    assert_eq!(s.get(b"a", t0()).unwrap(), None);
    let r1 = record(b"a", b"one", at(100));
    s.put(r1.clone(), t0()).unwrap();
    assert_eq!(s.get(b"a", t0()).unwrap(), Some(r1));
    let r2 = Record {
        publisher: None,
        ..record(b"a", b"second", at(200))
    };
    s.put(r2.clone(), t0()).unwrap();
    assert_eq!(s.get(b"a", t0()).unwrap(), Some(r2));
    let st = s.stats();
    assert_eq!((st.records, st.record_bytes), (1, 1 + 6));
    assert!(s.remove(b"a").unwrap());
    assert!(!s.remove(b"a").unwrap());
    assert_eq!(s.get(b"a", t0()).unwrap(), None);
    assert_eq!(s.stats().records, 0);
    assert_eq!(s.stats().record_bytes, 0);
}

fn record_ttl(make: Make) {
    let s = make(None, StoreConfig::default()).store;
    let cfg = s.config().clone();
    assert_eq!(cfg.record_ttl, Duration::from_secs(48 * 3600));
    assert_eq!(cfg.record_expiry(t0()), at(48 * 3600));
    s.put(record(b"k", b"v", at(10)), t0()).unwrap();
    assert!(s.get(b"k", at(9)).unwrap().is_some());
    assert_eq!(s.get(b"k", at(10)).unwrap(), None, "expired at its expiry");
    assert_eq!(s.stats().records, 0, "expired record dropped lazily");
    assert!(matches!(
        s.put(record(b"k", b"v", at(10)), at(10)),
        Err(StoreError::Expired)
    ));
    // expire() purges everything due, records and providers.
    s.put(record(b"a", b"v", at(10)), t0()).unwrap();
    s.put(record(b"b", b"v", at(20)), t0()).unwrap();
    s.put(record(b"c", b"v", at(30)), t0()).unwrap();
    s.add_provider(provider(b"p", PeerId::random(), at(15)), t0())
        .unwrap();
    s.add_provider(provider(b"p", PeerId::random(), at(40)), t0())
        .unwrap();
    assert_eq!(s.expire(at(20)).unwrap(), 3);
    let st = s.stats();
    assert_eq!(
        (st.records, st.provider_records, st.provider_keys),
        (1, 1, 1)
    );
    assert!(s.get(b"c", at(20)).unwrap().is_some());
    assert_eq!(s.expire(at(20)).unwrap(), 0);
}

fn record_limits(make: Make) {
    let cfg = StoreConfig {
        max_key_size: 8,
        max_record_value_size: 16,
        max_records: 2,
        max_record_bytes: 40,
        ..StoreConfig::default()
    };
    let s = make(None, cfg).store;
    assert!(matches!(
        s.put(record(&[1; 9], b"v", at(10)), t0()),
        Err(StoreError::KeyTooLarge { len: 9, max: 8 })
    ));
    assert!(matches!(
        s.get(&[1; 9], t0()),
        Err(StoreError::KeyTooLarge { len: 9, max: 8 })
    ));
    assert!(matches!(
        s.put(record(b"k", &[0; 17], at(10)), t0()),
        Err(StoreError::ValueTooLarge { len: 17, max: 16 })
    ));
    s.put(record(b"a", &[0; 16], at(10)), t0()).unwrap();
    s.put(record(b"b", b"x", at(100)), t0()).unwrap();
    assert!(matches!(
        s.put(record(b"c", b"x", at(100)), t0()),
        Err(StoreError::TooManyRecords { max: 2 })
    ));
    // Overwriting a present key is not a new record.
    s.put(record(b"b", b"y", at(100)), t0()).unwrap();
    // Bytes: 17 (a) + 2 (b) = 19; b with 16 bytes -> 17 + 17 = 34 fits, then c is refused.
    s.put(record(b"b", &[1; 16], at(100)), t0()).unwrap();
    assert_eq!(s.stats().record_bytes, 34);
    // Once "a" has expired, a full store purges it and admits the new record.
    s.put(record(b"c", b"x", at(100)), at(10)).unwrap();
    assert_eq!(s.get(b"a", at(10)).unwrap(), None);
    assert_eq!(s.stats().records, 2);

    let s = make(
        None,
        StoreConfig {
            max_record_bytes: 40,
            ..StoreConfig::default()
        },
    )
    .store;
    s.put(record(b"a", &[0; 30], at(10)), t0()).unwrap();
    assert!(matches!(
        s.put(record(b"b", &[0; 9], at(10)), t0()),
        Err(StoreError::TooManyRecordBytes { max: 40 })
    ));
    s.put(record(b"b", &[0; 8], at(10)), t0()).unwrap();
}

fn providers_and_ttl(make: Make) {
    let s = make(None, StoreConfig::default()).store;
    let cfg = s.config().clone();
    assert_eq!(cfg.provider_ttl, Duration::from_secs(48 * 3600));
    assert_eq!(
        cfg.provider_republish_interval,
        Duration::from_secs(22 * 3600)
    );
    let (a, b) = (PeerId::random(), PeerId::random());
    assert_eq!(
        s.add_provider(provider(b"k", a, at(10)), t0()).unwrap(),
        ProviderAdded::Inserted
    );
    assert_eq!(
        s.add_provider(provider(b"k", b, at(20)), t0()).unwrap(),
        ProviderAdded::Inserted
    );
    let mut updated = provider(b"k", a, at(30));
    updated.addrs = vec![
        "/ip6/::1/tcp/5".parse().unwrap(),
        "/dns4/x/tcp/1".parse().unwrap(),
    ];
    assert_eq!(
        s.add_provider(updated.clone(), t0()).unwrap(),
        ProviderAdded::Updated
    );
    let got = s.providers(b"k", t0()).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&updated));
    assert_eq!(s.stats().provider_records, 2);
    // b expires at 20: gone at 20, and dropped from the counts.
    assert_eq!(s.providers(b"k", at(20)).unwrap(), vec![updated]);
    assert_eq!(s.stats().provider_records, 1);
    assert!(s.providers(b"other", t0()).unwrap().is_empty());
    assert!(s.remove_provider(b"k", &a).unwrap());
    assert!(!s.remove_provider(b"k", &a).unwrap());
    assert!(s.providers(b"k", t0()).unwrap().is_empty());
    let st = s.stats();
    assert_eq!((st.provider_records, st.provider_keys), (0, 0));
    assert!(matches!(
        s.add_provider(provider(b"k", a, at(5)), at(5)),
        Err(StoreError::Expired)
    ));
}

fn provider_cap_policy(make: Make) {
    let local = PeerId::random();
    let cfg = StoreConfig {
        max_providers_per_key: 3,
        ..StoreConfig::default()
    };
    let s = make(Some(local), cfg).store;
    let p: Vec<PeerId> = (0..6).map(|_| PeerId::random()).collect();
    for (i, exp) in [10, 20, 30].into_iter().enumerate() {
        s.add_provider(provider(b"k", p[i], at(exp)), t0()).unwrap();
    }
    // A fresher record evicts the one expiring first.
    assert_eq!(
        s.add_provider(provider(b"k", p[3], at(40)), t0()).unwrap(),
        ProviderAdded::Replaced(provider(b"k", p[0], at(10)))
    );
    // A staler one is refused with the typed error.
    assert!(matches!(
        s.add_provider(provider(b"k", p[4], at(5)), t0()),
        Err(StoreError::TooManyProviders { max: 3 })
    ));
    // Our own record always gets in, even expiring first...
    assert_eq!(
        s.add_provider(provider(b"k", local, at(1)), t0()).unwrap(),
        ProviderAdded::Replaced(provider(b"k", p[1], at(20)))
    );
    // ...and is never the one evicted.
    assert_eq!(
        s.add_provider(provider(b"k", p[5], at(50)), t0()).unwrap(),
        ProviderAdded::Replaced(provider(b"k", p[2], at(30)))
    );
    let mut got: Vec<PeerId> = s
        .providers(b"k", t0())
        .unwrap()
        .into_iter()
        .map(|r| r.provider)
        .collect();
    got.sort();
    let mut want = vec![local, p[3], p[5]];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(s.stats().provider_records, 3);
}

fn provider_limits_and_provided_by(make: Make) {
    let local = PeerId::random();
    let cfg = StoreConfig {
        max_provider_records: 3,
        max_addrs_per_provider: 2,
        max_key_size: 4,
        ..StoreConfig::default()
    };
    let s = make(Some(local), cfg).store;
    let other = PeerId::random();
    s.add_provider(provider(b"k1", local, at(100)), t0())
        .unwrap();
    s.add_provider(provider(b"k2", local, at(100)), t0())
        .unwrap();
    s.add_provider(provider(b"k1", other, at(10)), t0())
        .unwrap();
    assert!(matches!(
        s.add_provider(provider(b"k3", other, at(100)), t0()),
        Err(StoreError::TooManyProviderRecords { max: 3 })
    ));
    // Refreshing an existing one is fine when full.
    s.add_provider(provider(b"k1", other, at(20)), t0())
        .unwrap();
    let mut many = provider(b"k4", other, at(100));
    many.addrs = vec![many.addrs[0].clone(); 3];
    assert!(matches!(
        s.add_provider(many, t0()),
        Err(StoreError::TooManyAddrs { len: 3, max: 2 })
    ));
    assert!(matches!(
        s.add_provider(provider(b"toolong", other, at(100)), t0()),
        Err(StoreError::KeyTooLarge { len: 7, max: 4 })
    ));
    let mut mine: Vec<Vec<u8>> = s
        .provided_by(&local, t0())
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    mine.sort();
    assert_eq!(mine, vec![b"k1".to_vec(), b"k2".to_vec()]);
    assert_eq!(s.provided_by(&other, t0()).unwrap().len(), 1);
    assert!(s.provided_by(&other, at(20)).unwrap().is_empty());
    // Once `other` expired, the full store purges it and takes k3.
    s.add_provider(provider(b"k3", other, at(100)), at(20))
        .unwrap();
    assert_eq!(s.stats().provider_records, 3);
}

/// A validator that prefers the longest value and rejects values starting with `!`.
struct Longest;

impl RecordValidator for Longest {
    fn validate(&self, _key: &[u8], value: &[u8], _now: SystemTime) -> Result<(), String> {
        match value.first() {
            Some(b'!') => Err("bang".into()),
            _ => Ok(()),
        }
    }

    fn select(&self, _key: &[u8], values: &[&[u8]]) -> usize {
        (0..values.len())
            .max_by_key(|&i| values[i].len())
            .unwrap_or(0)
    }
}

fn validator_hook(make: Make) {
    let s = make(None, StoreConfig::default()).store;
    let s = &*s;
    let v = DefaultValidator;
    let kp = Keypair::generate_ed25519();
    let id = kp.public().to_peer_id();
    let mut pk_key = b"/pk/".to_vec();
    pk_key.extend_from_slice(&id.to_bytes());
    let pk_value = kp.public().encode_protobuf();
    assert!(validate_and_put(s, &v, record(&pk_key, &pk_value, at(10)), t0()).unwrap());
    assert_eq!(s.get(&pk_key, t0()).unwrap().unwrap().value, pk_value);

    // Another peer's key under this peer id.
    let wrong = Keypair::generate_ed25519().public().encode_protobuf();
    let err = validate_and_put(s, &v, record(&pk_key, &wrong, at(10)), t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    // Garbage value, garbage peer id.
    assert!(matches!(
        validate_and_put(s, &v, record(&pk_key, b"garbage", at(10)), t0()),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        validate_and_put(s, &v, record(b"/pk/xyz", &pk_value, at(10)), t0()),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.get(&pk_key, t0()).unwrap().unwrap().value, pk_value);
    // Other namespaces are accepted.
    assert!(validate_and_put(s, &v, record(b"/ipns/x", b"anything", at(10)), t0()).unwrap());
    assert!(validate_and_put(s, &v, record(b"plain", b"", at(10)), t0()).unwrap());

    // A user's validator: select keeps the better stored record.
    assert!(validate_and_put(s, &Longest, record(b"n", b"longer", at(10)), t0()).unwrap());
    assert!(!validate_and_put(s, &Longest, record(b"n", b"short", at(10)), t0()).unwrap());
    assert_eq!(s.get(b"n", t0()).unwrap().unwrap().value, b"longer");
    assert!(validate_and_put(s, &Longest, record(b"n", b"longest!", at(10)), t0()).unwrap());
    assert!(matches!(
        validate_and_put(s, &Longest, record(b"n", b"!nope-very-long", at(10)), t0()),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.get(b"n", t0()).unwrap().unwrap().value, b"longest!");
}

fn shared_across_threads(make: Make) {
    let s: std::sync::Arc<dyn RecordStore> = make(None, StoreConfig::default()).store.into();
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    s.put(record(&[t, i], &[i; 8], at(100)), t0()).unwrap();
                    s.add_provider(provider(&[t], PeerId::random(), at(100)), t0())
                        .unwrap_or(ProviderAdded::Inserted);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let st = s.stats();
    assert_eq!(st.records, 100);
    assert_eq!(st.record_bytes, 100 * 10);
    assert_eq!((st.provider_keys, st.provider_records), (4, 80));
}

fn records_published_by(make: Make) {
    let me = PeerId::random();
    let s = make(Some(me), StoreConfig::default()).store;
    let mut mine = record(b"/v/mine", b"1", at(100));
    mine.publisher = Some(me);
    let mut old = record(b"/v/old", b"2", at(5));
    old.publisher = Some(me);
    s.put(mine.clone(), t0()).unwrap();
    s.put(old, t0()).unwrap();
    s.put(record(b"/v/theirs", b"3", at(100)), t0()).unwrap();
    // Only our live records.
    assert_eq!(s.published_by(&me, at(10)).unwrap(), vec![mine]);
    assert!(s.published_by(&PeerId::random(), t0()).unwrap().is_empty());
}

macro_rules! suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn put_get_overwrite_remove() {
                super::put_get_overwrite_remove($make);
            }
            #[test]
            fn record_ttl() {
                super::record_ttl($make);
            }
            #[test]
            fn record_limits() {
                super::record_limits($make);
            }
            #[test]
            fn providers_and_ttl() {
                super::providers_and_ttl($make);
            }
            #[test]
            fn provider_cap_policy() {
                super::provider_cap_policy($make);
            }
            #[test]
            fn provider_limits_and_provided_by() {
                super::provider_limits_and_provided_by($make);
            }
            #[test]
            fn validator_hook() {
                super::validator_hook($make);
            }
            #[test]
            fn records_published_by() {
                super::records_published_by($make);
            }
            #[test]
            fn shared_across_threads() {
                super::shared_across_threads($make);
            }
        }
    };
}

suite!(memory_store, memory);
suite!(persistent_store, persistent);

// ---- persistent only ----

#[test]
fn restart_keeps_records_and_providers() {
    let dir = TempDir::new("restart");
    let path = dir.path().join("nested/dir/kad.redb");
    let local = PeerId::random();
    let recs: Vec<Record> = (0..50u32)
        .map(|i| {
            record(
                format!("/k/{i}").as_bytes(),
                &i.to_be_bytes(),
                at(100 + u64::from(i)),
            )
        })
        .collect();
    let provs: Vec<ProviderRecord> = (0..5u32)
        .map(|i| provider(format!("p{i}").as_bytes(), local, at(100)))
        .collect();
    let before = {
        let s = PersistentStore::open(&path, Some(local), StoreConfig::default()).unwrap();
        for r in &recs {
            s.put(r.clone(), t0()).unwrap();
        }
        for p in &provs {
            s.add_provider(p.clone(), t0()).unwrap();
        }
        s.add_provider(provider(b"p0", PeerId::random(), at(100)), t0())
            .unwrap();
        s.stats()
    };
    let s = PersistentStore::open(&path, Some(local), StoreConfig::default()).unwrap();
    assert_eq!(s.stats(), before);
    assert_eq!(before.records, 50);
    assert_eq!(before.provider_records, 6);
    for r in &recs {
        assert_eq!(s.get(&r.key, t0()).unwrap().as_ref(), Some(r));
    }
    assert_eq!(s.providers(b"p0", t0()).unwrap().len(), 2);
    let mut mine = s.provided_by(&local, t0()).unwrap();
    mine.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(mine, provs);
    // Records we published are found again, so a restarted node keeps republishing them.
    let mut ours = record(b"/v/ours", b"x", at(100));
    ours.publisher = Some(local);
    s.put(ours.clone(), t0()).unwrap();
    drop(s);
    let s = PersistentStore::open(&path, Some(local), StoreConfig::default()).unwrap();
    assert_eq!(s.published_by(&local, t0()).unwrap(), vec![ours]);
}

#[test]
fn second_open_of_same_file_is_a_db_error() {
    let dir = TempDir::new("lock");
    let path = dir.path().join("kad.redb");
    let _s = PersistentStore::open(&path, None, StoreConfig::default()).unwrap();
    let err = PersistentStore::open(&path, None, StoreConfig::default()).unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
}

#[test]
fn unknown_format_version_is_refused() {
    let dir = TempDir::new("version");
    let path = dir.path().join("kad.redb");
    drop(PersistentStore::open(&path, None, StoreConfig::default()).unwrap());
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta");
            txn.open_table(def)
                .unwrap()
                .insert("format_version", 99)
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let err = PersistentStore::open(&path, None, StoreConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::FormatVersion {
                found: 99,
                expected: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn uncommitted_write_leaves_the_committed_state() {
    let dir = TempDir::new("uncommitted");
    let path = dir.path().join("kad.redb");
    let kept = record(b"kept", b"v", at(100));
    {
        let s = PersistentStore::open(&path, None, StoreConfig::default()).unwrap();
        s.put(kept.clone(), t0()).unwrap();
    }
    {
        // A write transaction that never commits (what a crash mid-write leaves behind).
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("records");
            let mut t = txn.open_table(def).unwrap();
            t.insert(b"ghost".as_slice(), b"garbage".as_slice())
                .unwrap();
            t.remove(b"kept".as_slice()).unwrap();
        }
        drop(txn);
    }
    let s = PersistentStore::open(&path, None, StoreConfig::default()).unwrap();
    assert_eq!(s.get(b"kept", t0()).unwrap(), Some(kept));
    assert_eq!(s.get(b"ghost", t0()).unwrap(), None);
    assert_eq!(s.stats().records, 1);
}

const CHILD_ENV: &str = "KADSTORE_CRASH_CHILD_DB";

fn crash_record(i: u32) -> Record {
    Record {
        key: format!("/crash/{i}").into_bytes(),
        value: vec![(i % 251) as u8; 1024],
        publisher: None,
        expires: at(3600),
    }
}

/// Not a test on its own: run by `committed_records_survive_abort_mid_write` in a child
/// process. Writes records in a loop, reports each committed one on stdout, and aborts the
/// process (no unwinding, no destructors) while the writer is busy.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s =
        std::sync::Arc::new(PersistentStore::open(&path, None, StoreConfig::default()).unwrap());
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    {
        let (s, committed) = (s.clone(), committed.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            for i in 0.. {
                s.put(crash_record(i), t0()).unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "committed {i}").unwrap();
                out.flush().unwrap();
                committed.store(i + 1, std::sync::atomic::Ordering::SeqCst);
            }
        });
    }
    while committed.load(std::sync::atomic::Ordering::SeqCst) < 30 {
        std::thread::yield_now();
    }
    std::process::abort();
}

#[test]
fn committed_records_survive_abort_mid_write() {
    let dir = TempDir::new("crash");
    let path = dir.path().join("kad.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("crash child did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(!status.success(), "child must have aborted");
    let committed = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("committed "))
        .map(|n| n.trim().parse::<u32>().unwrap() + 1)
        .max()
        .unwrap_or(0);
    assert!(committed >= 30, "child reported {committed} commits");

    let s = PersistentStore::open(&path, None, StoreConfig::default()).unwrap();
    for i in 0..committed {
        assert_eq!(
            s.get(&crash_record(i).key, t0()).unwrap(),
            Some(crash_record(i))
        );
    }
    // The write in flight at the abort may have committed before it was reported; nothing
    // beyond it exists, and nothing is half-written.
    let n = s.stats().records;
    assert!(
        n == committed as usize || n == committed as usize + 1,
        "{n} records after {committed} reported commits"
    );
    if n > committed as usize {
        assert_eq!(
            s.get(&crash_record(committed).key, t0()).unwrap(),
            Some(crash_record(committed))
        );
    }
}
