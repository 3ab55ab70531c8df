//! Kademlia interop on 127.0.0.1: rust-libp2p 0.57 kad peers ([`RustKadPeer`]) and `chain-node listen`
//! processes in one DHT, driven by the `chain-node kad` subcommands.
//!
//! Every record/provider operation runs twice: once for a key whose home (the XOR-closest node, SHA-256 of the
//! key vs SHA-256 of the PeerId bytes) is a rust-libp2p peer, once for a key whose home is one of ours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use common::node::{run_node, NodeOutput, NodeProcess};
use common::peer_id_from_seed;
use common::rust_kad::RustKadPeer;
use futures::future::BoxFuture;
use libp2p::kad::{KBucketKey, RecordKey};
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;

/// Whole-test deadline.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Deadline of one `chain-node kad` client run.
const CLI_DEADLINE: Duration = Duration::from_secs(30);
/// Waits on the listeners' events.
const WAIT: Duration = Duration::from_secs(20);

/// Seeds of the rust peers and of our listeners in the mixed network.
const RUST_SEEDS: [u64; 3] = [11, 12, 13];
const OUR_SEEDS: [u64; 3] = [21, 22, 23];

/// Runs `test` under [`TEST_TIMEOUT`].
async fn bounded(test: impl Future<Output = Result<()>>) -> Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .context("test exceeded its 60 s deadline")?
}

/// Polls `check` every 200 ms until it returns true or `timeout` passes.
async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The node of `nodes` XOR-closest to `key` (SHA-256 of both sides, as kad does).
fn home_of(key: &[u8], nodes: &[PeerId]) -> PeerId {
    let target = KBucketKey::new(RecordKey::new(&key));
    *nodes
        .iter()
        .min_by_key(|p| target.distance(&KBucketKey::from(**p)))
        .expect("non-empty node list")
}

/// The first key `PREFIX-0`, `PREFIX-1`, ... whose home satisfies `pick`, and that home.
fn key_homed(prefix: &str, nodes: &[PeerId], pick: impl Fn(&PeerId) -> bool) -> (String, PeerId) {
    (0..10_000)
        .map(|i| format!("{prefix}-{i}"))
        .map(|k| {
            let home = home_of(k.as_bytes(), nodes);
            (k, home)
        })
        .find(|(_, home)| pick(home))
        .expect("some key in 10,000 is homed at the wanted node set")
}

/// Starts one listening rust kad peer per seed, all bootstrapped off the first one.
async fn rust_net(seeds: &[u64]) -> Result<(Vec<RustKadPeer>, Vec<Multiaddr>)> {
    let mut peers = Vec::new();
    let mut addrs = Vec::new();
    for &seed in seeds {
        let p = RustKadPeer::spawn(seed)?;
        addrs.push(p.listen().await?);
        peers.push(p);
    }
    let (first, first_addr) = (peers[0].peer_id, addrs[0].clone());
    for p in &peers[1..] {
        ensure!(p.add_address(first, first_addr.clone()).await?);
        p.bootstrap().await?;
    }
    Ok((peers, addrs))
}

/// Rust-only: five rust-libp2p peers form a DHT with the harness; every operation works (proves the harness).
#[tokio::test]
async fn rust_only_five_node_dht() -> Result<()> {
    bounded(async {
        let (peers, _) = rust_net(&[1, 2, 3, 4, 5]).await?;
        for p in &peers {
            p.bootstrap().await?;
        }
        let ids: Vec<PeerId> = peers.iter().map(|p| p.peer_id).collect();
        for p in &peers {
            let rt = p.routing_table().await?;
            ensure!(rt.len() == 4, "{} routing table {rt:?}", p.peer_id);
        }
        // FIND_NODE reaches a peer the asker had to discover.
        let found = peers[4].get_closest_peers(ids[3]).await?;
        ensure!(
            found.iter().any(|(id, a)| *id == ids[3] && !a.is_empty()),
            "closest peers {found:?} lack {}",
            ids[3]
        );

        let key = b"rust-only-record";
        let home = home_of(key, &ids);
        peers[1].put_record(key, b"v1").await?;
        let home_peer = &peers[ids.iter().position(|i| *i == home).unwrap()];
        eventually("the home to hold the record", WAIT, || {
            home_peer.store_has_record(key)
        })
        .await?;
        let getter = if home == ids[4] { &peers[3] } else { &peers[4] };
        getter.forget(key).await?;
        let all = getter.get_record_all(key).await?;
        ensure!(
            all.iter().any(|r| r.from.is_some() && r.value == b"v1"),
            "get_record: {all:?}"
        );

        let pkey = b"rust-only-provided";
        peers[2].start_providing(pkey).await?;
        let getter = &peers[0];
        eventually("providers to include the provider", WAIT, || async {
            getter.forget(pkey).await?;
            Ok(getter.get_providers(pkey).await?.contains(&ids[2]))
        })
        .await?;
        ensure!(
            getter.get_record(b"absent").await?.is_none(),
            "a never-stored key was found"
        );
        Ok(())
    })
    .await
}

/// Spawns `chain-node --json --seed SEED listen` on a free 127.0.0.1 port with the `store` options,
/// bootstrapped off `boot`, for 90 s.
fn spawn_listener(seed: u64, store: &[&str], boot: &str) -> Result<NodeProcess> {
    let seed = seed.to_string();
    let mut args = vec![
        "--json",
        "--seed",
        &seed,
        "listen",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
    ];
    args.extend_from_slice(store);
    args.extend_from_slice(&["--bootstrap", boot, "--timeout", "90"]);
    NodeProcess::spawn(&args)
}

/// The mixed DHT: three rust-libp2p peers and three `chain-node listen --memory` nodes.
struct Mixed {
    rust: Vec<RustKadPeer>,
    rust_addrs: Vec<Multiaddr>,
    /// Our listeners, killed when the network is dropped.
    _ours: Vec<NodeProcess>,
    our_ids: Vec<PeerId>,
    our_addrs: Vec<Multiaddr>,
}

impl Mixed {
    /// Rust peers bootstrap off the first one; ours bootstrap off rust peer 0 (node 0) and our node 0 (the
    /// others); then the rust peers bootstrap again and must have all five others in their routing tables.
    async fn start() -> Result<Self> {
        let (rust, rust_addrs) = rust_net(&RUST_SEEDS).await?;
        let mut ours = Vec::new();
        let mut our_ids = Vec::new();
        let mut our_addrs: Vec<Multiaddr> = Vec::new();
        for (i, seed) in OUR_SEEDS.iter().enumerate() {
            let boot = if i == 0 {
                rust_addrs[0].to_string()
            } else {
                our_addrs[0].to_string()
            };
            let mut node = spawn_listener(*seed, &["--memory"], &boot)?;
            let (id, addr) = node.listening().await?;
            let kad = node
                .wait_json("the kad event", WAIT, |v| {
                    (v["event"] == "kad").then(|| v.clone())
                })
                .await?;
            ensure!(
                kad["mode"] == "server"
                    && kad["protocol"] == "/ipfs/kad/1.0.0"
                    && kad["store"] == "memory",
                "kad event: {kad}"
            );
            let rt = node
                .wait_json("kad-bootstrapped", WAIT, |v| {
                    (v["event"] == "kad-bootstrapped").then(|| v["routing_table"].as_u64())
                })
                .await?;
            ensure!(
                rt.is_some_and(|n| n >= 1),
                "routing_table after bootstrap: {rt:?}"
            );
            our_ids.push(id.parse()?);
            our_addrs.push(addr.parse()?);
            ours.push(node);
        }
        let mixed = Self {
            rust,
            rust_addrs,
            _ours: ours,
            our_ids,
            our_addrs,
        };
        let all = mixed.all_ids();
        for r in &mixed.rust {
            r.bootstrap().await?;
            let want: Vec<PeerId> = all.iter().copied().filter(|p| *p != r.peer_id).collect();
            eventually("a full rust routing table", WAIT, || async {
                let rt = r.routing_table().await?;
                Ok(want.iter().all(|p| rt.contains(p)))
            })
            .await
            .with_context(|| format!("rust {} routing table: {:?}", r.peer_id, want))?;
        }
        Ok(mixed)
    }

    fn rust_ids(&self) -> Vec<PeerId> {
        self.rust.iter().map(|r| r.peer_id).collect()
    }

    fn all_ids(&self) -> Vec<PeerId> {
        let mut v = self.rust_ids();
        v.extend(&self.our_ids);
        v
    }

    fn rust_peer(&self, id: PeerId) -> Option<&RustKadPeer> {
        self.rust.iter().find(|r| r.peer_id == id)
    }

    /// A rust peer other than `not`.
    fn rust_other_than(&self, not: PeerId) -> &RustKadPeer {
        self.rust.iter().find(|r| r.peer_id != not).unwrap()
    }

    /// A key homed at a rust peer (`rust_home`) or at one of ours.
    fn key(&self, prefix: &str, rust_home: bool) -> (String, PeerId) {
        let rust = self.rust_ids();
        key_homed(prefix, &self.all_ids(), |h| rust.contains(h) == rust_home)
    }

    /// Entry point for a CLI command: one of ours for rust-homed keys, a rust peer for ours (both get used).
    fn entry(&self, rust_home: bool) -> String {
        if rust_home {
            self.our_addrs[1].to_string()
        } else {
            self.rust_addrs[1].to_string()
        }
    }

    /// Forgets `key` in every rust peer's local store.
    async fn forget_everywhere(&self, key: &[u8]) -> Result<()> {
        for r in &self.rust {
            r.forget(key).await?;
        }
        Ok(())
    }
}

/// `chain-node --json --timeout 20 ARGS...`; returns its output.
async fn cli(args: &[&str]) -> Result<NodeOutput> {
    let mut full = vec!["--json", "--timeout", "20"];
    full.extend_from_slice(args);
    run_node(&full, CLI_DEADLINE).await
}

/// The single `{"op": op}` line of a successful run.
fn op_line(out: &NodeOutput, op: &str) -> Result<Value> {
    out.expect_success(op)?;
    let ops = out.ops(op);
    ensure!(
        ops.len() == 1,
        "expected one {op} line: {}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    Ok(ops[0].clone())
}

/// The `peers`/`providers` array of a line as `(peer id, addrs)`.
fn peer_list(line: &Value, field: &str) -> Result<Vec<(String, Vec<String>)>> {
    let arr = line[field]
        .as_array()
        .with_context(|| format!("no {field} array in {line}"))?;
    Ok(arr
        .iter()
        .map(|p| {
            let addrs = p["addrs"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            (p["peer_id"].as_str().unwrap_or_default().to_string(), addrs)
        })
        .collect())
}

/// `kad put` through one of our nodes or a rust peer; rust `get_record` then finds it, the home holds it.
async fn our_put_rust_get(m: &Mixed, rust_home: bool) -> Result<()> {
    let (key, home) = m.key("put-ours", rust_home);
    let value = format!("value of {key}");
    let out = cli(&["kad", "put", &m.entry(rust_home), &key, &value]).await?;
    let line = op_line(&out, "put")?;
    ensure!(line["key"] == key.as_str(), "put line {line}");
    ensure!(
        line["stored_at"].as_u64().is_some_and(|n| n >= 1),
        "put line {line}"
    );
    let getter = m.rust_other_than(home);
    getter.forget(key.as_bytes()).await?;
    let found = getter.get_record_all(key.as_bytes()).await?;
    ensure!(
        found
            .iter()
            .any(|r| r.from.is_some() && r.value == value.as_bytes()),
        "rust get_record of {key} (home {home}): {found:?}"
    );
    match m.rust_peer(home) {
        Some(h) => ensure!(
            h.store_record(key.as_bytes()).await? == Some(value.clone().into_bytes()),
            "rust home {home} does not hold {key}"
        ),
        None => ensure!(
            found.iter().any(|r| r.from == Some(home)),
            "our home {home} did not return {key}: {found:?}"
        ),
    }
    Ok(())
}

/// Rust `put_record`; `kad get` returns it; with an our-homed key, still after every rust copy is forgotten.
async fn rust_put_our_get(m: &Mixed, rust_home: bool) -> Result<()> {
    let (key, home) = m.key("put-rust", rust_home);
    let value = format!("rust value of {key}");
    let putter = m.rust_other_than(home);
    putter.put_record(key.as_bytes(), value.as_bytes()).await?;
    if let Some(h) = m.rust_peer(home) {
        eventually("the rust home to hold the record", WAIT, || {
            h.store_has_record(key.as_bytes())
        })
        .await?;
    } else {
        m.forget_everywhere(key.as_bytes()).await?;
    }
    let out = cli(&["kad", "get", &m.entry(rust_home), &key]).await?;
    let line = op_line(&out, "get")?;
    ensure!(
        line["key"] == key.as_str() && line["value"] == value.as_str(),
        "get line {line} (home {home})"
    );
    Ok(())
}

/// `kad provide` (seeded client); rust `get_providers` lists the client's id; the home holds the provider
/// record.
async fn our_provide_rust_get(m: &Mixed, rust_home: bool, client_seed: u64) -> Result<()> {
    let (key, home) = m.key("prov-ours", rust_home);
    let provider = peer_id_from_seed(client_seed);
    let seed = client_seed.to_string();
    let out = cli(&["--seed", &seed, "kad", "provide", &m.entry(rust_home), &key]).await?;
    let line = op_line(&out, "provide")?;
    ensure!(
        line["key"] == key.as_str() && line["stored_at"].as_u64().is_some_and(|n| n >= 1),
        "provide line {line}"
    );
    if let Some(h) = m.rust_peer(home) {
        let stored = h.store_providers(key.as_bytes()).await?;
        ensure!(
            stored.iter().any(|(p, a)| *p == provider && !a.is_empty()),
            "rust home {home} provider records for {key}: {stored:?} (want {provider} with addrs)"
        );
        let getter = m.rust_other_than(home);
        getter.forget(key.as_bytes()).await?;
        let found = getter.get_providers(key.as_bytes()).await?;
        ensure!(found.contains(&provider), "get_providers: {found:?}");
    } else {
        // Only our nodes can answer once every rust copy is gone.
        m.forget_everywhere(key.as_bytes()).await?;
        let found = m.rust[0].get_providers(key.as_bytes()).await?;
        ensure!(
            found.contains(&provider),
            "get_providers with rust copies forgotten (home {home}): {found:?}"
        );
    }
    Ok(())
}

/// Rust `start_providing`; `kad get-providers` lists the rust peer with addresses.
async fn rust_provide_our_get(m: &Mixed, rust_home: bool) -> Result<()> {
    let (key, home) = m.key("prov-rust", rust_home);
    let provider = m.rust_other_than(home);
    provider.start_providing(key.as_bytes()).await?;
    // ADD_PROVIDER has no response: give the last ones a moment to land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Some(h) = m.rust_peer(home) {
        let stored = h.store_providers(key.as_bytes()).await?;
        ensure!(
            stored.iter().any(|(p, _)| *p == provider.peer_id),
            "rust home {home}: {stored:?}"
        );
    }
    let out = cli(&["kad", "get-providers", &m.entry(rust_home), &key]).await?;
    let line = op_line(&out, "get-providers")?;
    ensure!(line["key"] == key.as_str(), "get-providers line {line}");
    let providers = peer_list(&line, "providers")?;
    let want = provider.peer_id.to_string();
    ensure!(
        providers
            .iter()
            .any(|(p, a)| *p == want && a.iter().any(|a| a.starts_with("/ip4/127.0.0.1/tcp/"))),
        "get-providers {providers:?} lacks {want} with its address (home {home})"
    );
    Ok(())
}

/// Starts the mixed DHT and runs `op` with the record's home on a rust peer, then on one of ours.
async fn both_homes<F>(op: F) -> Result<()>
where
    F: for<'a> Fn(&'a Mixed, bool) -> BoxFuture<'a, Result<()>>,
{
    bounded(async {
        let m = Mixed::start().await?;
        op(&m, true).await.context("home: rust")?;
        op(&m, false).await.context("home: ours")
    })
    .await
}

#[tokio::test]
async fn mixed_our_put_rust_get_both_homes() -> Result<()> {
    both_homes(|m, rust_home| Box::pin(our_put_rust_get(m, rust_home))).await
}

#[tokio::test]
async fn mixed_rust_put_our_get_both_homes() -> Result<()> {
    both_homes(|m, rust_home| Box::pin(rust_put_our_get(m, rust_home))).await
}

#[tokio::test]
async fn mixed_our_provide_rust_get_providers_both_homes() -> Result<()> {
    both_homes(|m, rust_home| {
        let client_seed = if rust_home { 31 } else { 32 };
        Box::pin(our_provide_rust_get(m, rust_home, client_seed))
    })
    .await
}

#[tokio::test]
async fn mixed_rust_provide_our_get_providers_both_homes() -> Result<()> {
    both_homes(|m, rust_home| Box::pin(rust_provide_our_get(m, rust_home))).await
}

/// `kad find-node TARGET` through `entry` lists the target with an address.
async fn find_node_lists_target(entry: &str, target: &str) -> Result<()> {
    let out = cli(&["kad", "find-node", entry, target]).await?;
    let peers = peer_list(&op_line(&out, "find-node")?, "peers")?;
    ensure!(
        peers.iter().any(|(p, a)| *p == target && !a.is_empty()),
        "find-node {target} via {entry}: {peers:?}"
    );
    Ok(())
}

/// `kad find-node` finds a rust peer and one of ours (with addresses), through either kind of entry point;
/// rust `get_closest_peers` finds our nodes with their addresses.
#[tokio::test]
async fn mixed_find_node() -> Result<()> {
    bounded(async {
        let m = Mixed::start().await?;
        let targets = [
            (m.rust[2].peer_id, m.our_addrs[0].to_string()),
            (m.our_ids[2], m.rust_addrs[0].to_string()),
            (m.rust[1].peer_id, m.rust_addrs[0].to_string()),
            (m.our_ids[1], m.our_addrs[0].to_string()),
        ];
        for (target, entry) in targets {
            find_node_lists_target(&entry, &target.to_string()).await?;
        }
        for (i, id) in m.our_ids.iter().enumerate() {
            let asker = &m.rust[i % m.rust.len()];
            let found = asker.get_closest_peers(*id).await?;
            let tcp: Multiaddr = m.our_addrs[i]
                .iter()
                .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
                .collect();
            ensure!(
                found.iter().any(|(p, a)| p == id
                    && a.iter()
                        .any(|a| a.to_string().starts_with(&tcp.to_string()))),
                "rust get_closest_peers({id}) = {found:?}, want it with {tcp}"
            );
        }
        Ok(())
    })
    .await
}

/// A CIDv0 (`Qm…`, the base58 of a sha2-256 multihash) and its multihash bytes, the provider key IPFS uses.
fn cid_v0(digest_byte: u8) -> (String, Vec<u8>) {
    let mh = libp2p::multihash::Multihash::<64>::wrap(0x12, &[digest_byte; 32]).unwrap();
    let cid = PeerId::from_multihash(mh).unwrap().to_base58();
    assert!(cid.starts_with("Qm"), "{cid}");
    (cid, mh.to_bytes())
}

/// A CID KEY means its multihash bytes for `kad provide` / `kad get-providers`, as rust apps (and IPFS) key
/// provider records.
#[tokio::test]
async fn mixed_cid_keys_are_multihash_provider_keys() -> Result<()> {
    bounded(async {
        let m = Mixed::start().await?;
        let (cid, mh) = cid_v0(0x42);
        m.rust[0].start_providing(&mh).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let out = cli(&["kad", "get-providers", &m.our_addrs[0].to_string(), &cid]).await?;
        let providers = peer_list(&op_line(&out, "get-providers")?, "providers")?;
        let want = m.rust[0].peer_id.to_string();
        ensure!(
            providers.iter().any(|(p, _)| *p == want),
            "get-providers {cid}: {providers:?} lacks {want}"
        );

        let (cid, mh) = cid_v0(0x43);
        let out = cli(&[
            "--seed",
            "33",
            "kad",
            "provide",
            &m.our_addrs[1].to_string(),
            &cid,
        ])
        .await?;
        op_line(&out, "provide")?;
        m.rust[1].forget(&mh).await?;
        let found = m.rust[1].get_providers(&mh).await?;
        ensure!(
            found.contains(&peer_id_from_seed(33)),
            "rust get_providers(multihash of {cid}): {found:?}"
        );
        Ok(())
    })
    .await
}

/// `kad get` of a key nobody stored: the error contract (exit 3, one `{"error"}` line), within the deadline.
#[tokio::test]
async fn mixed_get_absent_key_fails_cleanly() -> Result<()> {
    bounded(async {
        let m = Mixed::start().await?;
        let out = cli(&["kad", "get", &m.rust_addrs[0].to_string(), "never-stored"]).await?;
        out.expect_error("kad get of an absent key")?;
        ensure!(
            out.ops("get").is_empty(),
            "a get line for an absent key: {}",
            out.stdout
        );
        Ok(())
    })
    .await
}

/// `kad find-node` for the id of the rust entry point itself: rust-libp2p answers FIND_NODE for its own id
/// with an empty list, yet the entry answered the lookup and is the target, so the result lists it (as
/// rust-libp2p's and go's own lookups would).
#[tokio::test]
async fn mixed_find_node_of_the_rust_entry_itself() -> Result<()> {
    bounded(async {
        let m = Mixed::start().await?;
        let t = m.rust[0].peer_id.to_string();
        find_node_lists_target(&m.rust_addrs[0].to_string(), &t).await
    })
    .await
}

/// Starts `chain-node listen` with a persistent store in `dir`, bootstrapped off `boot`; returns it and its
/// PeerId once bootstrapped.
async fn start_persistent(seed: u64, dir: &str, boot: &str) -> Result<(NodeProcess, PeerId)> {
    let mut node = spawn_listener(seed, &["--data-dir", dir], boot)?;
    let (id, _) = node.listening().await?;
    let store = node
        .wait_json("the kad event", WAIT, |v| {
            (v["event"] == "kad").then(|| v["store"].as_str().unwrap_or_default().to_string())
        })
        .await?;
    ensure!(
        store.starts_with(dir) && store.ends_with("kad-store.redb"),
        "kad store {store:?}, want kad-store.redb in {dir}"
    );
    node.wait_json("kad-bootstrapped", WAIT, |v| {
        (v["event"] == "kad-bootstrapped").then_some(())
    })
    .await?;
    Ok((node, id.parse()?))
}

/// Four rust peers and one `chain-node listen --data-dir`: a rust `put_record` and a `kad provide` land in
/// our store; after a SIGINT and a restart (same seed and directory, new port) our node alone (every rust
/// copy forgotten) still serves the record to `kad get` and the provider record to rust `get_providers`.
#[tokio::test]
async fn mixed_restart_serves_stored_records() -> Result<()> {
    bounded(async {
        let (rust, rust_addrs) = rust_net(&[41, 42, 43, 44]).await?;
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().to_str().context("utf-8 temp dir")?.to_string();
        let boot = rust_addrs[0].to_string();
        let (mut node, our_id) = start_persistent(51, &dir, &boot).await?;
        for r in &rust {
            r.bootstrap().await?;
            ensure!(
                r.routing_table().await?.contains(&our_id),
                "{} lacks us",
                r.peer_id
            );
        }
        let mut ids: Vec<PeerId> = rust.iter().map(|r| r.peer_id).collect();
        ids.push(our_id);
        let (key, _) = key_homed("persist", &ids, |h| *h == our_id);
        let value = format!("kept {key}");
        rust[1].put_record(key.as_bytes(), value.as_bytes()).await?;
        let provider = peer_id_from_seed(52);
        let out = cli(&["--seed", "52", "kad", "provide", &boot, &key]).await?;
        op_line(&out, "provide")?;
        for r in &rust {
            r.forget(key.as_bytes()).await?;
        }

        node.interrupt()?;
        let status = node.wait_exit(WAIT).await?;
        ensure!(status.success(), "SIGINT exit status {status}");
        drop(node);
        let (node, id_again) = start_persistent(51, &dir, &boot).await?;
        ensure!(id_again == our_id, "restart changed the peer id");

        let out = cli(&["kad", "get", &boot, &key]).await?;
        let line = op_line(&out, "get")?;
        ensure!(line["value"] == value.as_str(), "get after restart: {line}");
        let found = rust[0].get_providers(key.as_bytes()).await?;
        ensure!(
            found.contains(&provider),
            "rust get_providers after our restart: {found:?}"
        );
        drop(node);
        Ok(())
    })
    .await
}
