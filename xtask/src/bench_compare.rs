//! `cargo xtask bench-compare`: whole-chain throughput over loopback, ours beside rust-libp2p,
//! in one run, then the per-layer criterion benches (each beside its rust-libp2p counterpart).
//! `--muxer yamux|mplex` (default yamux) picks the muxer on both sides (chain-node's `--muxer`,
//! the libp2p-perf example's `--muxer`); the security is noise on both. `--memory N[,N…]`
//! measures memory per idle connection instead (`bench_memory.rs`), `--connect N` the time to
//! set up a connection and a first substream (`bench_connect.rs`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use anyhow::{anyhow, Context, Result};

use crate::bench_memory::{json_num, json_str};
use crate::{cargo, run_checked, target_dir};

/// Kills a child process when dropped, so a failed run leaves no listener behind.
pub(crate) struct ChildGuard(pub(crate) Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut bytes: u64 = 1 << 30;
    let mut criterion = true;
    let mut muxer = String::from("yamux");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bytes" => {
                bytes = it
                    .next()
                    .ok_or_else(|| anyhow!("--bytes needs a value"))?
                    .parse()
                    .context("--bytes")?;
            }
            "--muxer" => {
                muxer = it
                    .next()
                    .ok_or_else(|| anyhow!("--muxer needs yamux or mplex"))?
                    .clone();
                if muxer != "yamux" && muxer != "mplex" {
                    anyhow::bail!("--muxer takes yamux or mplex, not {muxer:?}");
                }
            }
            "--skip-criterion" => criterion = false,
            "--memory" => {
                let counts = it
                    .next()
                    .ok_or_else(|| anyhow!("--memory needs N[,N…]"))?
                    .split(',')
                    .map(|n| n.trim().parse::<usize>().context("--memory"))
                    .collect::<Result<Vec<_>>>()?;
                return crate::bench_memory::run(&counts);
            }
            "--connect" => {
                let n = it
                    .next()
                    .ok_or_else(|| anyhow!("--connect needs N"))?
                    .parse::<usize>()
                    .context("--connect")?;
                return crate::bench_connect::run(n);
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let (ours, theirs) = build_release("libp2p-perf")?;

    println!(
        "whole chain over loopback (tcp+noise+{muxer}), {bytes} bytes up and {bytes} down, 3 runs each"
    );
    let mut results = Vec::new();
    for round in 0..3 {
        let o = perf_once(
            &ours,
            &[
                "listen",
                "--json",
                "--security",
                "noise",
                "--muxer",
                &muxer,
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
            ],
            &|addr| {
                let mut c = Command::new(&ours);
                c.args([
                    "perf",
                    addr,
                    "--json",
                    "--security",
                    "noise",
                    "--muxer",
                    &muxer,
                    "--timeout",
                    "600",
                    "--upload",
                    &bytes.to_string(),
                    "--download",
                    &bytes.to_string(),
                ]);
                c
            },
        )?;
        let t = perf_once(&theirs, &["--muxer", &muxer, "server"], &|addr| {
            let mut c = Command::new(&theirs);
            c.args([
                "--muxer",
                &muxer,
                "client",
                addr,
                &bytes.to_string(),
                &bytes.to_string(),
            ]);
            c
        })?;
        println!(
            "  run {round}: chain-node {o:8.1} Mbit/s   rust-libp2p {t:8.1} Mbit/s   ratio {:.2}",
            o / t
        );
        results.push((o, t));
    }
    let (o, t): (Vec<f64>, Vec<f64>) = results.into_iter().unzip();
    let (mo, mt) = (median(o), median(t));
    println!(
        "median: chain-node {mo:.1} Mbit/s ({:.0} MiB/s), rust-libp2p {mt:.1} Mbit/s ({:.0} MiB/s), ratio {:.2}",
        mo * 1e6 / 8.0 / 1048576.0,
        mt * 1e6 / 8.0 / 1048576.0,
        mo / mt
    );

    if criterion {
        let mut benches = cargo();
        benches.args([
            "bench",
            "-p",
            "chain-benches",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
        ]);
        run_checked(benches)?;
    }
    Ok(())
}

/// Builds `chain-node` and the rust-libp2p `example` of `chain-benches` in release mode;
/// returns their paths.
pub(crate) fn build_release(example: &str) -> Result<(PathBuf, PathBuf)> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "chainp2p-node"]);
    run_checked(build)?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "chain-benches",
        "--example",
        example,
    ]);
    run_checked(build)?;
    let release = target_dir().join("release");
    Ok((
        release.join("chain-node"),
        release.join("examples").join(example),
    ))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Starts a server that prints its address (a JSON `listening` line or a bare multiaddr) on
/// its first stdout line, runs the client against it, returns the client's Mbit/s.
fn perf_once(
    server: &std::path::Path,
    server_args: &[&str],
    client: &dyn Fn(&str) -> Command,
) -> Result<f64> {
    let listener = start_listener(server, server_args, Stdio::inherit())?;
    let addr = listener.addr.clone();
    let output = client(&addr).stderr(Stdio::inherit()).output()?;
    drop(listener);
    if !output.status.success() {
        anyhow::bail!(
            "perf client failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    json_num(&text, "mbit_per_s").ok_or_else(|| anyhow!("no mbit_per_s in {text:?}"))
}

/// A listener process started for a comparison (killed when dropped) and the address it
/// printed first.
pub(crate) struct StartedListener {
    pub(crate) guard: ChildGuard,
    pub(crate) addr: String,
}

/// Starts `path args`, takes its address from its first stdout line (a JSON `listening` line or
/// a bare multiaddr), then keeps reading (and dropping) its output so it never blocks on a full
/// pipe.
pub(crate) fn start_listener(path: &Path, args: &[&str], stderr: Stdio) -> Result<StartedListener> {
    let mut child = Command::new(path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {}", path.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .ok_or_else(|| anyhow!("listener printed nothing"))??;
    let addr = json_str(&first, "addr").unwrap_or_else(|| first.trim().to_owned());
    std::thread::spawn(move || for _ in lines {});
    Ok(StartedListener { guard, addr })
}

/// The lines of `child`'s stdout (piped), as they come, on a channel (so a caller can wait for
/// one with a timeout).
pub(crate) fn stdout_lines(child: &mut Child) -> Result<mpsc::Receiver<String>> {
    let out = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}
