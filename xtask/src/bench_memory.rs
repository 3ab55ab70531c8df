//! `cargo xtask bench-compare --memory N[,N…]`: the RSS of a listener holding N idle
//! connections from one dialer over loopback, ours (`chain-node listen`, its limits lifted)
//! beside rust-libp2p 0.57 (`libp2p-hold listen`), in one run. The dialer is rust-libp2p in
//! both cases (`libp2p-hold dial ADDR N`: TCP + noise + yamux, identify and ping). The figure
//! is (RSS with N held − RSS before the first dial) / N, read from `/proc/PID/status` after the
//! connections settled.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::bench_compare::{build_release, start_listener, stdout_lines, ChildGuard};

/// Time the held connections get to settle before the RSS is read.
const SETTLE: Duration = Duration::from_secs(3);
/// How long the dialer may take to establish N connections.
const DIAL_LIMIT: Duration = Duration::from_secs(300);

pub(crate) fn run(counts: &[usize]) -> Result<()> {
    let (ours, hold) = build_release("libp2p-hold")?;
    let unlimited = "1000000";
    println!("RSS of a listener holding N idle TCP+noise+yamux connections (identify done) from one rust-libp2p dialer");
    for &n in counts {
        let o = held_rss(
            &ours,
            &[
                "listen",
                "--json",
                "--memory",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--max-connections",
                unlimited,
                "--max-inbound",
                unlimited,
                "--max-connections-per-peer",
                unlimited,
                "--max-pending",
                unlimited,
                "--max-pending-per-ip",
                unlimited,
                "--max-streams",
                unlimited,
                "--max-streams-per-peer",
                unlimited,
                "--max-streams-per-protocol",
                unlimited,
                "--max-streams-per-protocol-per-peer",
                unlimited,
                "--conn-low",
                unlimited,
                "--conn-high",
                unlimited,
            ],
            &hold,
            n,
        )?;
        let t = held_rss(&hold, &["listen"], &hold, n)?;
        println!(
            "  N = {n:6}: chain-node {:8.1} MB total, {:7.0} B per connection   rust-libp2p {:8.1} MB total, {:7.0} B per connection   ratio {:.2}",
            o.0 as f64 / 1e6,
            o.1,
            t.0 as f64 / 1e6,
            t.1,
            o.1 / t.1
        );
    }
    Ok(())
}

/// Starts `listener`, reads its RSS, holds `n` connections to it with `hold dial`, reads the
/// RSS again: (RSS with n held, bytes per connection).
fn held_rss(listener: &Path, args: &[&str], hold: &Path, n: usize) -> Result<(u64, f64)> {
    let started = start_listener(listener, args, Stdio::null())?;
    let pid = started.guard.0.id();
    let addr = started.addr;
    let _guard = started.guard;
    std::thread::sleep(Duration::from_secs(1));
    let before = rss(pid)?;
    let mut dialer = Command::new(hold)
        .args(["dial", &addr, &n.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting libp2p-hold dial")?;
    let rx = stdout_lines(&mut dialer)?;
    let _dialer = ChildGuard(dialer);
    let started = Instant::now();
    let line = rx
        .recv_timeout(DIAL_LIMIT)
        .map_err(|_| anyhow!("{n} connections not held within {DIAL_LIMIT:?}"))?;
    let held = json_num(&line, "held").unwrap_or(0.0) as usize;
    if held != n {
        bail!("the dialer held {held} of {n} connections: {line}");
    }
    eprintln!(
        "    {}: {n} connections in {:.1} s",
        listener.display(),
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(SETTLE);
    let after = rss(pid)?;
    Ok((after, (after.saturating_sub(before)) as f64 / n as f64))
}

/// Resident set size of `pid` in bytes.
fn rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow!("bad VmRSS line {line:?}"))?
        .parse()?;
    Ok(kib * 1024)
}

/// `"key":"value"` from a JSON line, without a JSON parser dependency.
pub(crate) fn json_str(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat)? + pat.len();
    let rest = line.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

/// `"key":number` from a JSON line.
pub(crate) fn json_num(line: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\":");
    let start = line.find(&pat)? + pat.len();
    let rest = line.get(start..)?;
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest.get(..end)?.trim().parse().ok()
}
