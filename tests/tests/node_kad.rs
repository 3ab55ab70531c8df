//! End to end: networks of `chain-node listen` processes on 127.0.0.1 forming a Kademlia DHT, driven through
//! every `chain-node kad` subcommand (find-node, put, get, provide, get-providers), plus persistence of records
//! and provider records across a restart (redb store in `--data-dir`), the `--memory` contrast, `--client-mode`
//! and `--kad-protocol`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use common::node::{run_node, NodeOutput, NodeProcess};
use common::peer_id_from_seed;
use serde_json::Value;
use tempfile::TempDir;

/// Bound of every test.
const TEST: Duration = Duration::from_secs(60);
/// Bound of one `kad` client command (its own `--timeout` defaults to 20 s).
const RUN: Duration = Duration::from_secs(30);
/// How long a node may take to print `kad-bootstrapped`.
const BOOTSTRAP: Duration = Duration::from_secs(20);
/// The default Kademlia protocol id.
const KAD: &str = "/ipfs/kad/1.0.0";
/// The LAN protocol id used by `--kad-protocol` tests.
const LAN: &str = "/ipfs/lan/kad/1.0.0";
/// CIDv1 (raw, sha2-256) of "hello world".
const CID_V1_RAW: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
/// CIDv0 of the same sha2-256 multihash: as a provider key it is the same key as [`CID_V1_RAW`].
const CID_V0: &str = "QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4";

/// Where a node keeps its records.
#[derive(Clone, Copy)]
enum Store<'a> {
    /// `--data-dir DIR` (persistent redb store).
    Dir(&'a Path),
    /// `--memory`.
    Memory,
}

/// A running `chain-node listen` with its identity, address and `kad` event.
struct KadNode {
    proc: NodeProcess,
    seed: u64,
    peer_id: String,
    /// Full listen address, `/ip4/127.0.0.1/tcp/PORT/p2p/ID`.
    addr: String,
    /// The `{"event":"kad",…}` line.
    kad_event: Value,
}

impl KadNode {
    /// Starts `chain-node --json --seed SEED listen --listen /ip4/127.0.0.1/tcp/0 …` and waits for its
    /// `listening` and `kad` events.
    async fn start(
        seed: u64,
        store: Store<'_>,
        bootstrap: Option<&str>,
        extra: &[&str],
    ) -> Result<Self> {
        let seed_s = seed.to_string();
        let mut args: Vec<String> = [
            "--json",
            "--seed",
            &seed_s,
            "listen",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--timeout",
            "120",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        match store {
            Store::Dir(dir) => {
                args.push("--data-dir".into());
                args.push(dir.to_str().context("non-UTF-8 temp dir")?.into());
            }
            Store::Memory => args.push("--memory".into()),
        }
        if let Some(b) = bootstrap {
            args.push("--bootstrap".into());
            args.push(b.into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut proc = NodeProcess::spawn(&argv)?;
        let (peer_id, addr) = proc.listening().await?;
        let want = peer_id_from_seed(seed).to_string();
        ensure!(
            peer_id == want,
            "--seed {seed}: chain-node says {peer_id}, rust-libp2p derives {want}"
        );
        ensure!(
            addr.starts_with("/ip4/127.0.0.1/tcp/") && addr.ends_with(&format!("/p2p/{want}")),
            "listening addr {addr:?}"
        );
        let kad_event = proc
            .wait_json("the kad event", Duration::from_secs(10), |v| {
                (v["event"] == "kad").then(|| v.clone())
            })
            .await?;
        Ok(Self {
            proc,
            seed,
            peer_id,
            addr,
            kad_event,
        })
    }

    /// Waits for `{"event":"kad-bootstrapped","routing_table":N}` and returns N.
    async fn bootstrapped(&mut self) -> Result<u64> {
        let n = self
            .proc
            .wait_json("the kad-bootstrapped event", BOOTSTRAP, |v| {
                (v["event"] == "kad-bootstrapped").then(|| v["routing_table"].as_u64())
            })
            .await?;
        n.with_context(|| {
            format!(
                "kad-bootstrapped of seed {} without a numeric routing_table",
                self.seed
            )
        })
    }

    /// The listen address without its `/p2p/ID` suffix.
    fn tcp_addr(&self) -> &str {
        self.addr
            .split_once("/p2p/")
            .map_or(self.addr.as_str(), |(tcp, _)| tcp)
    }

    /// SIGINT, then waits for a clean exit.
    async fn stop(mut self) -> Result<()> {
        self.proc.interrupt()?;
        let status = self.proc.wait_exit(Duration::from_secs(10)).await?;
        ensure!(
            status.success(),
            "listen (seed {}) after SIGINT exited with {status}: {}",
            self.seed,
            self.proc.stderr()
        );
        Ok(())
    }
}

/// Starts `seeds[0]` alone, the others with `--bootstrap` to it, and waits until all bootstrapped.
/// `stores[i]` is the store of `seeds[i]`.
async fn network(seeds: &[u64], stores: &[Store<'_>], extra: &[&str]) -> Result<Vec<KadNode>> {
    ensure!(seeds.len() == stores.len() && !seeds.is_empty());
    let first = KadNode::start(seeds[0], stores[0], None, extra).await?;
    let boot = first.addr.clone();
    let mut nodes = vec![first];
    for (seed, store) in seeds.iter().zip(stores).skip(1) {
        nodes.push(KadNode::start(*seed, *store, Some(&boot), extra).await?);
    }
    for node in nodes.iter_mut().skip(1) {
        let n = node.bootstrapped().await?;
        ensure!(
            n >= 1,
            "seed {} bootstrapped with an empty routing table",
            node.seed
        );
    }
    Ok(nodes)
}

/// [`network`] of nodes with persistent stores, each in a fresh temporary directory (returned: the
/// directories live as long as the caller keeps them).
async fn dir_network(seeds: &[u64]) -> Result<(Vec<TempDir>, Vec<KadNode>)> {
    let dirs: Vec<TempDir> = seeds
        .iter()
        .map(|_| tempfile::tempdir())
        .collect::<Result<_, _>>()?;
    let stores: Vec<_> = dirs.iter().map(|d| Store::Dir(d.path())).collect();
    let nodes = network(seeds, &stores, &[]).await?;
    Ok((dirs, nodes))
}

/// Runs `test` within [`TEST`].
async fn bounded(test: impl Future<Output = Result<()>>) -> Result<()> {
    tokio::time::timeout(TEST, test).await?
}

/// Runs `chain-node --json [PRE...] kad ARGS...`.
async fn kad(pre: &[&str], args: &[&str]) -> Result<NodeOutput> {
    let mut argv = vec!["--json"];
    argv.extend_from_slice(pre);
    argv.push("kad");
    argv.extend_from_slice(args);
    run_node(&argv, RUN).await
}

/// Runs `chain-node --json [PRE...] kad OP ARGS...` (`args` = `[OP, ARGS...]`) and returns its one
/// `{"op": OP}` line (see [`single_op`]); `what` names the command in errors.
async fn kad_ok(pre: &[&str], args: &[&str], what: &str) -> Result<Value> {
    let op = *args.first().context("kad_ok without a subcommand")?;
    single_op(&kad(pre, args).await?, op, what)
}

/// The one JSON line of a successful command, which must have `"op": op`.
fn single_op(out: &NodeOutput, op: &str, what: &str) -> Result<Value> {
    out.expect_success(what)?;
    let [line] = out.json.as_slice() else {
        bail!(
            "{what}: expected exactly one JSON line on stdout, got {:?}; stderr:\n{}",
            out.json,
            out.stderr
        );
    };
    ensure!(line["op"] == op, "{what}: expected op {op:?}: {line}");
    Ok(line.clone())
}

/// The error contract of a failed `kad` command: exit status `code` (README, exit codes: 3 not
/// found, 5 refused) and one `{"error":…}` line.
fn expect_exit(out: &NodeOutput, code: i32, what: &str) -> Result<String> {
    let err = out.expect_error(what)?;
    ensure!(
        out.status.code() == Some(code),
        "{what}: expected exit {code}, got {:?}: {err}",
        out.status.code()
    );
    Ok(err)
}

/// Checks the `stored_at` of a put/provide line: a number in `1..=max`.
fn stored_at(line: &Value, key: &str, max: u64) -> Result<u64> {
    ensure!(line["key"] == key, "key should be {key:?}: {line}");
    let n = line["stored_at"]
        .as_u64()
        .with_context(|| format!("stored_at is not a number: {line}"))?;
    ensure!(
        (1..=max).contains(&n),
        "stored_at {n} not in 1..={max}: {line}"
    );
    Ok(n)
}

/// Parses a `[{"peer_id":"…","addrs":["…"]}]` array (`peers` / `providers`), checking its shape.
fn peer_list(line: &Value, field: &str) -> Result<Vec<(String, Vec<String>)>> {
    let arr = line[field]
        .as_array()
        .with_context(|| format!("{field} is not an array: {line}"))?;
    let mut out = Vec::new();
    for p in arr {
        let id = p["peer_id"]
            .as_str()
            .with_context(|| format!("{field}[].peer_id is not a string: {line}"))?;
        let addrs = p["addrs"]
            .as_array()
            .with_context(|| format!("{field}[].addrs is not an array: {line}"))?
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .with_context(|| format!("{field}[].addrs has a non-string: {line}"))?;
        out.push((id.to_string(), addrs));
    }
    Ok(out)
}

/// True if `addrs` holds `tcp` (with or without a `/p2p/` suffix).
fn has_addr(addrs: &[String], tcp: &str) -> bool {
    addrs
        .iter()
        .any(|a| a == tcp || a.starts_with(&format!("{tcp}/p2p/")))
}

/// The addresses `peer_id` is listed with in `get-providers` output, failing if it is absent.
fn provider_addrs(line: &Value, peer_id: &str) -> Result<Vec<String>> {
    let providers = peer_list(line, "providers")?;
    let (_, addrs) = providers
        .into_iter()
        .find(|(id, _)| id == peer_id)
        .with_context(|| format!("provider {peer_id} not listed: {line}"))?;
    ensure!(
        !addrs.is_empty() && addrs.iter().all(|a| a.starts_with("/ip4/127.0.0.1/tcp/")),
        "provider {peer_id} should come with its 127.0.0.1 addresses: {line}"
    );
    Ok(addrs)
}

/// Checks the `kad` event of a listener.
fn check_kad_event(node: &KadNode, mode: &str, protocol: &str, store: Store<'_>) -> Result<()> {
    let ev = &node.kad_event;
    ensure!(ev["mode"] == mode, "seed {}: mode {mode}: {ev}", node.seed);
    ensure!(
        ev["protocol"] == protocol,
        "seed {}: protocol {protocol}: {ev}",
        node.seed
    );
    match store {
        Store::Memory => ensure!(ev["store"] == "memory", "seed {}: {ev}", node.seed),
        Store::Dir(dir) => {
            let path = Path::new(ev["store"].as_str().context("store is not a string")?);
            ensure!(
                path.file_name() == Some("kad-store.redb".as_ref()),
                "seed {}: store file name: {ev}",
                node.seed
            );
            let parent = path.parent().context("store path has no parent")?;
            ensure!(
                parent.canonicalize()? == dir.canonicalize()?,
                "seed {}: store should be in {}: {ev}",
                node.seed,
                dir.display()
            );
            ensure!(
                path.is_file(),
                "seed {}: {} missing",
                node.seed,
                path.display()
            );
        }
    }
    Ok(())
}

/// Five nodes with persistent stores: put via A, get via D; a missing key is exit 3; the kad events.
#[tokio::test]
async fn put_and_get_across_the_network() -> Result<()> {
    bounded(async {
        let (dirs, nodes) = dir_network(&[1, 2, 3, 4, 5]).await?;
        for (node, dir) in nodes.iter().zip(&dirs) {
            check_kad_event(node, "server", KAD, Store::Dir(dir.path()))?;
        }
        let (a, d) = (&nodes[0], &nodes[3]);

        let key = "e2e/greeting";
        let value = "hello from A — ünïcode too";
        let line = kad_ok(&[], &["put", &a.addr, key, value], "kad put via A").await?;
        stored_at(&line, key, 5)?;

        let line = kad_ok(&[], &["get", &d.addr, key], "kad get via D").await?;
        ensure!(line["key"] == key && line["value"] == value, "{line}");

        let out = kad(&[], &["get", &d.addr, "e2e/never-stored"]).await?;
        expect_exit(&out, 3, "kad get of a missing key")?;
        Ok(())
    })
    .await
}

/// Five nodes: provide via A (the command's `--seed` id), get-providers via C; a CID key means its multihash,
/// so a CIDv1 provided via B is found under the CIDv0 of the same hash, and text keys stay separate.
#[tokio::test]
async fn provide_and_get_providers_with_text_and_cid_keys() -> Result<()> {
    bounded(async {
        let (_dirs, nodes) = dir_network(&[11, 12, 13, 14, 15]).await?;
        let (a, b, c, d, e) = (&nodes[0], &nodes[1], &nodes[2], &nodes[3], &nodes[4]);
        let text_provider = peer_id_from_seed(100).to_string();
        let cid_provider = peer_id_from_seed(101).to_string();

        let key = "e2e/provided";
        let line = kad_ok(
            &["--seed", "100"],
            &["provide", &a.addr, key],
            "kad provide via A",
        )
        .await?;
        stored_at(&line, key, 5)?;

        let line = kad_ok(
            &["--seed", "101"],
            &["provide", &b.addr, CID_V1_RAW],
            "kad provide of a CID via B",
        )
        .await?;
        stored_at(&line, CID_V1_RAW, 5)?;

        let line = kad_ok(
            &[],
            &["get-providers", &c.addr, key],
            "kad get-providers via C",
        )
        .await?;
        ensure!(line["key"] == key, "{line}");
        provider_addrs(&line, &text_provider)?;
        ensure!(
            peer_list(&line, "providers")?
                .iter()
                .all(|(id, _)| *id != cid_provider),
            "the CID's provider is listed under an unrelated text key: {line}"
        );

        let line = kad_ok(
            &[],
            &["get-providers", &d.addr, CID_V1_RAW],
            "kad get-providers of the CID via D",
        )
        .await?;
        ensure!(line["key"] == CID_V1_RAW, "{line}");
        provider_addrs(&line, &cid_provider)?;

        let line = kad_ok(
            &[],
            &["get-providers", &e.addr, CID_V0],
            "kad get-providers of the same multihash as CIDv0 via E",
        )
        .await?;
        ensure!(line["key"] == CID_V0, "{line}");
        provider_addrs(&line, &cid_provider)?;
        Ok(())
    })
    .await
}

/// Five nodes: find-node for E's id via A returns E first, with E's listen address.
#[tokio::test]
async fn find_node_returns_the_target_first() -> Result<()> {
    bounded(async {
        let (_dirs, nodes) = dir_network(&[21, 22, 23, 24, 25]).await?;
        let (a, e) = (&nodes[0], &nodes[4]);

        let line = kad_ok(
            &[],
            &["find-node", &a.addr, &e.peer_id],
            "kad find-node E via A",
        )
        .await?;
        let peers = peer_list(&line, "peers")?;
        let Some((first, addrs)) = peers.first() else {
            bail!("find-node returned no peers: {line}");
        };
        ensure!(*first == e.peer_id, "E should come first: {line}");
        ensure!(
            has_addr(addrs, e.tcp_addr()),
            "E's address {} missing: {line}",
            e.tcp_addr()
        );
        ensure!(peers.len() <= 20, "more than k peers: {line}");
        Ok(())
    })
    .await
}

/// Records and provider records survive a restart: after SIGINT to the whole network, node A alone,
/// restarted with the same `--seed` and `--data-dir`, serves them from its redb store.
#[tokio::test]
async fn restarted_node_serves_stored_records() -> Result<()> {
    bounded(async {
        let (dirs, mut nodes) = dir_network(&[31, 32, 33]).await?;
        let a_addr = nodes[0].addr.clone();

        let (key, value) = ("e2e/persistent", "still here after a restart");
        stored_at(
            &kad_ok(&[], &["put", &a_addr, key, value], "kad put via A").await?,
            key,
            3,
        )?;
        let pkey = "e2e/persistent-provider";
        stored_at(
            &kad_ok(
                &["--seed", "102"],
                &["provide", &a_addr, pkey],
                "kad provide via A",
            )
            .await?,
            pkey,
            3,
        )?;

        while let Some(node) = nodes.pop() {
            node.stop().await?;
        }

        let store = Store::Dir(dirs[0].path());
        let a = KadNode::start(31, store, None, &[]).await?;
        check_kad_event(&a, "server", KAD, store)?;

        let line = kad_ok(&[], &["get", &a.addr, key], "kad get via restarted A").await?;
        ensure!(line["key"] == key && line["value"] == value, "{line}");

        let line = kad_ok(
            &[],
            &["get-providers", &a.addr, pkey],
            "kad get-providers via restarted A",
        )
        .await?;
        provider_addrs(&line, &peer_id_from_seed(102).to_string())?;
        Ok(())
    })
    .await
}

/// The contrast: a `--memory` node serves a record, and no longer has it after a restart.
#[tokio::test]
async fn memory_node_forgets_records_on_restart() -> Result<()> {
    bounded(async {
        let node = KadNode::start(41, Store::Memory, None, &[]).await?;
        check_kad_event(&node, "server", KAD, Store::Memory)?;
        let (key, value) = ("e2e/ephemeral", "gone after a restart");
        stored_at(
            &kad_ok(
                &[],
                &["put", &node.addr, key, value],
                "kad put to a lone memory node",
            )
            .await?,
            key,
            1,
        )?;
        let line = kad_ok(&[], &["get", &node.addr, key], "kad get before the restart").await?;
        ensure!(line["value"] == value, "{line}");

        node.stop().await?;
        let node = KadNode::start(41, Store::Memory, None, &[]).await?;
        let out = kad(&[], &["get", &node.addr, key]).await?;
        expect_exit(&out, 3, "kad get from a restarted --memory node")?;
        Ok(())
    })
    .await
}

/// A `--client-mode` node joins (it bootstraps) but is not a DHT server: lookups never return it and puts
/// are not stored on it.
#[tokio::test]
async fn client_mode_node_is_not_returned_by_lookups() -> Result<()> {
    bounded(async {
        let stores = [Store::Memory; 3];
        let nodes = network(&[51, 52, 53], &stores, &[]).await?;
        let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
        let mut client =
            KadNode::start(54, Store::Memory, Some(&a.addr), &["--client-mode"]).await?;
        check_kad_event(&client, "client", KAD, Store::Memory)?;
        let n = client.bootstrapped().await?;
        ensure!(
            n >= 1,
            "client-mode node bootstrapped with an empty routing table"
        );

        // Positive control: servers are found.
        let line = kad_ok(
            &[],
            &["find-node", &a.addr, &c.peer_id],
            "kad find-node C via A",
        )
        .await?;
        let peers = peer_list(&line, "peers")?;
        ensure!(peers.first().map(|p| &p.0) == Some(&c.peer_id), "{line}");

        for (via, name) in [(a, "A"), (b, "B")] {
            let line = kad_ok(
                &[],
                &["find-node", &via.addr, &client.peer_id],
                &format!("kad find-node client via {name}"),
            )
            .await?;
            ensure!(
                peer_list(&line, "peers")?
                    .iter()
                    .all(|(id, _)| *id != client.peer_id),
                "the client-mode node was returned as a DHT server via {name}: {line}"
            );
        }

        let key = "e2e/servers-only";
        stored_at(
            &kad_ok(&[], &["put", &b.addr, key, "v"], "kad put via B").await?,
            key,
            3,
        )?;
        ensure!(client.proc.is_running(), "{}", client.proc.stderr());
        Ok(())
    })
    .await
}

/// `--kad-protocol /ipfs/lan/kad/1.0.0` on every node and command works; commands speaking the default
/// protocol to that network fail with exit 5 (refused).
#[tokio::test]
async fn custom_kad_protocol_and_mismatch() -> Result<()> {
    bounded(async {
        let stores = [Store::Memory; 3];
        let nodes = network(&[61, 62, 63], &stores, &["--kad-protocol", LAN]).await?;
        for node in &nodes {
            check_kad_event(node, "server", LAN, Store::Memory)?;
        }
        let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
        let lan = ["--kad-protocol", LAN];

        let (key, value) = ("e2e/lan", "local network value");
        let line = kad_ok(&lan, &["put", &a.addr, key, value], "lan kad put via A").await?;
        stored_at(&line, key, 3)?;
        let line = kad_ok(&lan, &["get", &c.addr, key], "lan kad get via C").await?;
        ensure!(line["value"] == value, "{line}");
        let line = kad_ok(
            &lan,
            &["find-node", &b.addr, &c.peer_id],
            "lan kad find-node C via B",
        )
        .await?;
        ensure!(
            peer_list(&line, "peers")?.first().map(|p| &p.0) == Some(&c.peer_id),
            "{line}"
        );

        let short = ["--timeout", "10"];
        let out = kad(&short, &["get", &c.addr, key]).await?;
        expect_exit(&out, 5, "kad get with the default protocol against a LAN network")?;
        let out = kad(&short, &["put", &a.addr, "e2e/mismatch", "v"]).await?;
        ensure!(
            out.status.code() == Some(5),
            "kad put with the default protocol against a LAN network: exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            out.stdout,
            out.stderr
        );
        Ok(())
    })
    .await
}

/// One of the IPNS fixtures made by the JS `ipns` package (`crates/protocols/kad/tests/fixtures/ipns`).
fn ipns_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/protocols/kad/tests/fixtures/ipns")
        .join(name)
}

/// `--ipfs-records` nodes store only `/pk/` and `/ipns/`: a `/foo/` put is refused (locally with
/// the flag: exit 2; by every server without it: stored nowhere, exit 1), and a real IPNS record
/// (made by js-ipns) put under `/ipns/<peer id>` comes back byte for byte from another node.
#[tokio::test]
async fn ipfs_records_refuse_foo_and_keep_a_real_ipns_record() -> Result<()> {
    bounded(async {
        let stores = [Store::Memory; 3];
        let nodes = network(&[71, 72, 73], &stores, &["--ipfs-records"]).await?;
        let (a, c) = (&nodes[0], &nodes[2]);
        let ipfs = ["--ipfs-records"];

        let out = kad(&ipfs, &["put", &a.addr, "/foo/bar", "baz"]).await?;
        let err = expect_exit(&out, 2, "kad --ipfs-records put /foo/bar")?;
        ensure!(err.contains("only /pk/ and /ipns/"), "{err}");
        let out = kad(&[], &["put", &a.addr, "/foo/bar", "baz"]).await?;
        let err = expect_exit(&out, 1, "kad put /foo/bar to --ipfs-records servers")?;
        ensure!(err.contains("stored at no peer"), "{err}");

        let name = std::fs::read(ipns_fixture("ed25519.name"))?;
        let peer = libp2p::PeerId::from_bytes(&name[6..])?;
        let record_path = ipns_fixture("ed25519-v1v2.ipns-record");
        let record = std::fs::read(&record_path)?;
        let key = format!("/ipns/{peer}");
        let file = record_path.to_str().context("non-UTF-8 fixture path")?;
        let line = kad_ok(
            &ipfs,
            &["put", &a.addr, &key, "--value-file", file],
            "kad put /ipns/",
        )
        .await?;
        ensure!(line["stored_at"].as_u64() >= Some(1), "{line}");
        let line = kad_ok(&ipfs, &["get", &c.addr, &key], "kad get /ipns/ via C").await?;
        use base64::Engine as _;
        let want = base64::engine::general_purpose::STANDARD.encode(&record);
        ensure!(line["value_base64"] == want.as_str(), "{line}");
        ensure!(
            line["value"].is_null(),
            "a protobuf record is not UTF-8: {line}"
        );
        // The expired record is refused by the servers too.
        let expired = ipns_fixture("ed25519-expired.ipns-record");
        let out = kad(
            &[],
            &[
                "put",
                &a.addr,
                &key,
                "--value-file",
                expired.to_str().unwrap(),
            ],
        )
        .await?;
        expect_exit(&out, 1, "kad put of an expired record")?;
        Ok(())
    })
    .await
}
