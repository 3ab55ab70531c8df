//! `cargo xtask bench-compare --connect N`: connection setup over TCP loopback, ours beside
//! rust-libp2p 0.57, in one run. Each pair is a dialer process against a listener process:
//! `chain-connect ADDR N` (the `chainp2p-swarm` dialer, `benches/examples/chain-connect.rs`)
//! against `chain-node listen`, and `libp2p-connect dial ADDR N` against
//! `libp2p-connect listen` (`benches/examples/libp2p-connect.rs`); TCP + noise + yamux on
//! both. The dialer opens N connections in sequence (a fresh TCP connection and the whole
//! handshake each, closed before the next) and prints per connection (a) the time from the
//! dial to the established connection (security and muxer done) and (b) to the echo of 32
//! bytes on a new substream that negotiated `/ipfs/ping/1.0.0`. The table gives the median
//! and p99 of each, and ours / theirs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bench_compare::{start_listener, stdout_lines, ChildGuard};
use crate::bench_memory::json_num;
use crate::{cargo, run_checked, target_dir};

/// How long a whole dialer run may take.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Setup times of one pair, in microseconds, one entry per connection.
struct Samples {
    establish: Vec<f64>,
    echo: Vec<f64>,
}

pub(crate) fn run(n: usize) -> Result<()> {
    if n == 0 {
        bail!("--connect needs at least one connection");
    }
    // One cargo invocation for the three binaries: built separately, chain-node and the
    // examples unify different features and rebuild the shared crates each time.
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "chainp2p-node",
        "-p",
        "chain-benches",
        "--bin",
        "chain-node",
        "--example",
        "libp2p-connect",
        "--example",
        "chain-connect",
    ]);
    run_checked(build)?;
    let release = target_dir().join("release");
    let chain_node = release.join("chain-node");
    let theirs = release.join("examples").join("libp2p-connect");
    let ours = release.join("examples").join("chain-connect");

    let o = pair(
        &chain_node,
        &[
            "listen",
            "--json",
            "--memory",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ],
        &|addr| {
            let mut c = Command::new(&ours);
            c.args([addr, &n.to_string()]);
            c
        },
        n,
    )?;
    let t = pair(
        &theirs,
        &["listen"],
        &|addr| {
            let mut c = Command::new(&theirs);
            c.args(["dial", addr, &n.to_string()]);
            c
        },
        n,
    )?;

    println!(
        "connection setup over TCP loopback (tcp+noise+yamux), {n} sequential connections, µs"
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>10}",
        "", "ours p50", "ours p99", "rust p50", "rust p99"
    );
    for (what, ov, tv) in [
        ("(a) dial -> established", &o.establish, &t.establish),
        ("(b) dial -> first echo (32 B)", &o.echo, &t.echo),
    ] {
        let (o50, o99, t50, t99) = (
            percentile(ov, 50.0),
            percentile(ov, 99.0),
            percentile(tv, 50.0),
            percentile(tv, 99.0),
        );
        println!("{what:<34} {o50:>10.0} {o99:>10.0} {t50:>10.0} {t99:>10.0}");
        println!(
            "{:<34} ratio ours/rust: p50 {:.2}, p99 {:.2}",
            "",
            o50 / t50,
            o99 / t99
        );
    }
    Ok(())
}

/// Starts `listener` (its address on the first stdout line: a JSON `listening` line or a bare
/// multiaddr), runs the dialer against it, collects the dialer's per-connection lines.
fn pair(
    listener: &Path,
    args: &[&str],
    dialer: &dyn Fn(&str) -> Command,
    n: usize,
) -> Result<Samples> {
    let started = start_listener(listener, args, Stdio::inherit())?;
    let _guard = started.guard;

    let mut cmd = dialer(&started.addr);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the dialer")?;
    let rx = stdout_lines(&mut child)?;
    let mut dialer_guard = ChildGuard(child);
    let deadline = std::time::Instant::now() + RUN_LIMIT;
    let mut samples = Samples {
        establish: Vec::with_capacity(n),
        echo: Vec::with_capacity(n),
    };
    while samples.establish.len() < n {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = match rx.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => bail!(
                "the dialer stopped after {} of {n} connections",
                samples.establish.len()
            ),
        };
        match (json_num(&line, "establish_us"), json_num(&line, "echo_us")) {
            (Some(a), Some(b)) => {
                samples.establish.push(a);
                samples.echo.push(b);
            }
            _ => bail!("unexpected dialer line {line:?}"),
        }
    }
    let status = dialer_guard.0.wait()?;
    if !status.success() {
        bail!("the dialer exited with {status}");
    }
    Ok(samples)
}

/// The `p`th percentile (nearest rank) of `v`.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s.get(rank.saturating_sub(1).min(s.len() - 1))
        .copied()
        .unwrap_or(f64::NAN)
}
