//! End to end: the `chain-node` command-line contract — error reporting on bad input, refused and hanging dials,
//! `/p2p/` id mismatch, `listen` ending on `--timeout` or Ctrl-C, `--seed` keys, and chain-node talking to itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use anyhow::{ensure, Result};
use common::node::{json_strs, run_node, NodeProcess};
use common::peer_id_from_seed;
use common::rust_peer::RustPeer;

const RUN: Duration = Duration::from_secs(20);

/// Starts `chain-node listen --json --seed SEED` on an ephemeral 127.0.0.1 port; returns it and its address.
async fn listener(seed: u64, timeout_secs: u64) -> Result<(NodeProcess, String)> {
    let seed_s = seed.to_string();
    let timeout_s = timeout_secs.to_string();
    let mut node = NodeProcess::spawn(&[
        "listen",
        "--json",
        "--seed",
        &seed_s,
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--timeout",
        &timeout_s,
    ])?;
    let (peer_id, addr) = node.listening().await?;
    ensure!(
        peer_id == peer_id_from_seed(seed).to_string(),
        "--seed {seed}: chain-node says {peer_id}, rust-libp2p derives {}",
        peer_id_from_seed(seed)
    );
    Ok((node, addr))
}

/// An address that does not parse: every dialing subcommand exits non-zero with `{"error":…}` and a
/// stderr message, without trying the network.
#[tokio::test]
async fn unparseable_address_is_an_error() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        for args in [
            &["ping", "not-a-multiaddr", "--json"][..],
            &["identify", "/ip4/999.0.0.1/tcp/1", "--json"][..],
            &["inspect", "/ip4/127.0.0.1/tcp/notaport", "--json"][..],
            &[
                "perf",
                "/dns9/x",
                "--upload",
                "1",
                "--download",
                "1",
                "--json",
            ][..],
        ] {
            let out = run_node(args, RUN).await?;
            out.expect_error(&format!("chain-node {}", args.join(" ")))?;
            ensure!(
                out.elapsed < Duration::from_secs(5),
                "{args:?} took {:?}",
                out.elapsed
            );
        }
        Ok(())
    })
    .await?
}

/// A 127.0.0.1 port with nothing listening: the dial is refused and reported quickly.
#[tokio::test]
async fn refused_dial_fails_fast() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        // The listener is dropped here: nothing listens on `port` any more.
        let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_id_from_seed(9));
        let out = run_node(&["ping", &addr, "--json"], RUN).await?;
        let error = out.expect_error("ping to a closed port")?;
        ensure!(
            out.elapsed < Duration::from_secs(5),
            "refused dial took {:?}",
            out.elapsed
        );
        // Every cause is said once, on stdout and on stderr.
        ensure!(
            chainp2p_core::repeated_segment(&error).is_none(),
            "error repeats a segment: {error}"
        );
        let last = out.stderr.lines().rev().find(|l| !l.trim().is_empty());
        let last = last.unwrap_or_default();
        ensure!(
            chainp2p_core::repeated_segment(last).is_none(),
            "stderr repeats a segment: {last}"
        );
        Ok(())
    })
    .await?
}

/// Plaintext is never a default: a plaintext-only dialer is refused by a default listener, and a
/// listener that names plaintext explicitly accepts it and warns on stderr.
#[tokio::test]
async fn plaintext_only_when_asked_for() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (node, addr) = listener(51, 30).await?;
        let out = run_node(&["ping", &addr, "--security", "plaintext", "--json"], RUN).await?;
        let error = out.expect_error("plaintext dialer against a default listener")?;
        ensure!(error.contains("multistream"), "{error}");
        ensure!(
            out.stderr.contains(chain_node_warning()),
            "the dialer that asked for plaintext warns: {}",
            out.stderr
        );
        node.interrupt()?;

        let mut node = NodeProcess::spawn(&[
            "listen",
            "--json",
            "--seed",
            "52",
            "--security",
            "noise,plaintext",
            "--timeout",
            "30",
        ])?;
        let (_, addr) = node.listening().await?;
        ensure!(
            node.stderr().contains(chain_node_warning()),
            "listener with plaintext warns: {}",
            node.stderr()
        );
        let out = run_node(&["ping", &addr, "--security", "plaintext", "--json"], RUN).await?;
        out.expect_success("plaintext ping when both sides asked for it")?;
        let out = run_node(&["inspect", &addr, "--json"], RUN).await?;
        out.expect_success("default inspect")?;
        let chain = &out.one("inspect")?["chain"];
        ensure!(chain[1]["protocol"] == "/noise", "{chain}");
        ensure!(
            !out.stderr.contains(chain_node_warning()),
            "no warning without plaintext: {}",
            out.stderr
        );
        Ok(())
    })
    .await?
}

/// The start of the warning line chain-node prints when plaintext is enabled.
fn chain_node_warning() -> &'static str {
    "warning: --security includes plaintext"
}

/// A TCP listener that accepts and never speaks: `--timeout 2` bounds the whole attempt.
#[tokio::test]
async fn hanging_dial_is_bounded_by_timeout() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = silent.local_addr()?.port();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = silent.accept().await {
                held.push(sock);
            }
        });
        let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_id_from_seed(9));
        let out = run_node(&["ping", &addr, "--timeout", "2", "--json"], RUN).await;
        holder.abort();
        let out = out?;
        let err = out.expect_error("ping to a silent listener")?;
        ensure!(
            out.elapsed >= Duration::from_millis(1500) && out.elapsed < Duration::from_secs(5),
            "expected a failure after about 2 s, got one after {:?}: {err}",
            out.elapsed
        );
        Ok(())
    })
    .await?
}

/// Dialing a rust peer's address with another peer's id appended fails and names both ids.
#[tokio::test]
async fn peer_id_mismatch_is_an_error_naming_both_ids() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let mut rust = RustPeer::spawn(31)?;
        let addr = rust.listen().await?.to_string();
        let real = rust.peer_id.to_string();
        let wrong = peer_id_from_seed(32).to_string();
        let addr = addr.replace(&real, &wrong);
        let out = run_node(&["ping", &addr, "--json"], RUN).await?;
        let err = out.expect_error("ping with a mismatched /p2p/ id")?;
        ensure!(
            err.contains(&real) && err.contains(&wrong),
            "error should name expected {wrong} and actual {real}: {err:?}"
        );
        ensure!(
            out.elapsed < Duration::from_secs(5),
            "took {:?}",
            out.elapsed
        );
        Ok(())
    })
    .await?
}

/// `listen --timeout 2` prints its address, then exits 0 by itself; `--seed 1` is rust-libp2p's seed-1 id.
#[tokio::test]
async fn listen_exits_zero_after_timeout() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let (mut node, addr) = listener(1, 2).await?;
        let id1 = peer_id_from_seed(1).to_string();
        ensure!(
            addr.starts_with("/ip4/127.0.0.1/tcp/") && addr.ends_with(&format!("/p2p/{id1}")),
            "listening addr {addr:?}"
        );
        let status = node.wait_exit(Duration::from_secs(8)).await?;
        ensure!(
            status.success(),
            "listen --timeout 2 exited with {status}: {}",
            node.stderr()
        );
        Ok(())
    })
    .await?
}

/// Ctrl-C (SIGINT) stops `listen` cleanly with exit status 0.
#[tokio::test]
async fn listen_exits_zero_on_ctrl_c() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let (mut node, _addr) = listener(2, 60).await?;
        node.interrupt()?;
        let status = node.wait_exit(Duration::from_secs(5)).await?;
        ensure!(
            status.success(),
            "listen after SIGINT exited with {status}: {}",
            node.stderr()
        );
        Ok(())
    })
    .await?
}

/// chain-node against chain-node: ping, identify, inspect and a small perf; the listener reports the dialer.
#[tokio::test]
async fn ours_to_ours() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (mut node, addr) = listener(41, 60).await?;
        let out = run_node(
            &["ping", &addr, "--count", "2", "--seed", "42", "--json"],
            RUN,
        )
        .await?;
        out.expect_success("ours-to-ours ping")?;
        let listener_id = peer_id_from_seed(41).to_string();
        out.expect_pings(2, &listener_id)?;

        let dialer_id = peer_id_from_seed(42).to_string();
        node.expect_inbound_connection(&dialer_id, "/yamux/1.0.0", Duration::from_secs(5))
            .await?;

        let out = run_node(&["identify", &addr, "--json"], RUN).await?;
        out.expect_success("ours-to-ours identify")?;
        let id = out.one("identify")?;
        ensure!(id["peer_id"] == listener_id.as_str(), "{id}");
        let protocols = json_strs(&id["protocols"]);
        for want in ["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"] {
            ensure!(protocols.iter().any(|p| p == want), "{id}");
        }

        let out = run_node(&["inspect", &addr, "--json"], RUN).await?;
        out.expect_success("ours-to-ours inspect")?;
        let chain = &out.one("inspect")?["chain"];
        ensure!(
            chain[1]["protocol"] == "/noise" && chain[2]["protocol"] == "/yamux/1.0.0",
            "{chain}"
        );

        let mib = (1u64 << 20).to_string();
        let out = run_node(
            &[
                "perf",
                &addr,
                "--upload",
                &mib,
                "--download",
                &mib,
                "--json",
            ],
            RUN,
        )
        .await?;
        out.expect_success("ours-to-ours perf")?;
        let line = out.one("perf")?;
        ensure!(line["upload_bytes"].as_u64() == Some(1 << 20), "{line}");
        ensure!(line["download_bytes"].as_u64() == Some(1 << 20), "{line}");
        Ok(())
    })
    .await?
}

/// The limit flags of `listen` are checked: water marks out of order and a non-positive
/// `--stats` interval are refused before anything listens.
#[tokio::test]
async fn listen_refuses_bad_limit_flags() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let out = run_node(
            &[
                "listen",
                "--json",
                "--memory",
                "--conn-low",
                "50",
                "--conn-high",
                "10",
            ],
            RUN,
        )
        .await?;
        let error = out.expect_error("--conn-low above --conn-high")?;
        ensure!(error.contains("--conn-low"), "{error}");
        let out = run_node(&["listen", "--json", "--memory", "--stats", "0"], RUN).await?;
        ensure!(!out.status.success(), "--stats 0 is refused");
        ensure!(out.stderr.contains("--stats"), "{}", out.stderr);
        Ok(())
    })
    .await?
}
