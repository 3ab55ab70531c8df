//! Running the `chain-node` binary under test.
//!
//! The binary is `$CHAIN_NODE_BIN` if set, else `<target dir>/debug/chain-node` next to the test executable
//! (`target/debug/deps/<test>` -> `target/debug/chain-node`). [`NodeProcess`] is a long-running child (e.g.
//! `listen`) killed on drop; [`run_node`] runs a one-shot subcommand to completion under a deadline.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Path of the `chain-node` binary; errors with a hint if it was not built.
pub fn chain_node_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CHAIN_NODE_BIN") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("CHAIN_NODE_BIN={} does not exist", p.display());
        }
        return Ok(p);
    }
    let exe = std::env::current_exe().context("current_exe")?;
    // target/<profile>/deps/<test-binary> -> target/<profile>/chain-node
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| anyhow!("unexpected test binary path {}", exe.display()))?;
    let bin = profile_dir.join(format!("chain-node{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "chain-node binary not found at {}: run `cargo build -p chainp2p-node` first \
             (with the same CARGO_TARGET_DIR), or set CHAIN_NODE_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// A `chain-node` command with stdin closed and stdout/stderr piped, killed when dropped.
/// The command, with a fresh per-user data directory (`XDG_DATA_HOME`) so that a `listen` without
/// `--data-dir` keeps its default record store out of the real home and never shares it with another
/// node of the same `--seed`. The directory lives as long as the returned guard.
fn command(args: &[&str]) -> Result<(Command, tempfile::TempDir)> {
    let data_home = tempfile::Builder::new()
        .prefix("chain-node-test-home")
        .tempdir()?;
    let mut cmd = Command::new(chain_node_bin()?);
    cmd.env("XDG_DATA_HOME", data_home.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok((cmd, data_home))
}

/// A running `chain-node` (typically `listen`). Killed on drop.
pub struct NodeProcess {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
    args: String,
    _data_home: tempfile::TempDir,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Takes the piped stdout and stderr of `child`: every non-empty stdout line arrives on the returned
/// channel, and stderr collects in the returned buffer.
pub fn capture_output(
    child: &mut Child,
) -> Result<(mpsc::UnboundedReceiver<String>, Arc<Mutex<String>>)> {
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let stderr_pipe = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let stderr = Arc::new(Mutex::new(String::new()));
    tokio::spawn(collect_text(stderr_pipe, stderr.clone()));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if !line.trim().is_empty() && tx.send(line).is_err() {
                return;
            }
        }
    });
    Ok((rx, stderr))
}

/// Copies every line of `r` into `buf`.
async fn collect_text<R: AsyncRead + Unpin>(r: R, buf: Arc<Mutex<String>>) {
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut b) = buf.lock() {
            b.push_str(&line);
            b.push('\n');
        }
    }
}

impl NodeProcess {
    /// Starts `chain-node ARGS...`.
    pub fn spawn(args: &[&str]) -> Result<Self> {
        let (mut cmd, data_home) = command(args)?;
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawning chain-node {args:?}"))?;
        let (rx, stderr) = capture_output(&mut child)?;
        Ok(Self {
            child,
            lines: rx,
            seen: Vec::new(),
            stderr,
            args: args.join(" "),
            _data_home: data_home,
        })
    }

    /// What the process wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The JSON stdout lines seen so far (by the `wait_json` calls).
    pub fn seen_lines(&self) -> &[Value] {
        &self.seen
    }

    /// OS process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits up to `timeout` for a JSON stdout line (already seen or new) matching `pick`.
    pub async fn wait_json<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pick: impl FnMut(&Value) -> Option<T>,
    ) -> Result<T> {
        if let Some(found) = self.seen.iter().find_map(&mut pick) {
            return Ok(found);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => bail!(
                    "`chain-node {}` closed stdout while waiting for {what}; stdout: {:?}; stderr:\n{}",
                    self.args,
                    self.seen,
                    self.stderr()
                ),
                Err(_) => bail!(
                    "timed out after {timeout:?} waiting for {what} from `chain-node {}`; stdout: {:?}; stderr:\n{}",
                    self.args,
                    self.seen,
                    self.stderr()
                ),
            };
            // A non-JSON line is a contract violation under `--json`.
            let value = serde_json::from_str::<Value>(&line).map_err(|_| {
                anyhow!(
                    "`chain-node {}` printed a non-JSON stdout line under --json: {line:?}",
                    self.args
                )
            })?;
            let found = pick(&value);
            self.seen.push(value);
            if let Some(found) = found {
                return Ok(found);
            }
        }
    }

    /// Waits for the `listening` event and returns its `(peer_id, addr)`.
    pub async fn listening(&mut self) -> Result<(String, String)> {
        self.wait_json("a listening event", Duration::from_secs(15), |v| {
            (v["event"] == "listening").then(|| {
                (
                    v["peer_id"].as_str().unwrap_or_default().to_string(),
                    v["addr"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .await
    }

    /// Waits for the `connection` event of `peer` and checks it is inbound over
    /// `/multistream/1.0.0 /noise /multistream/1.0.0 <muxer>`; returns the event.
    pub async fn expect_inbound_connection(
        &mut self,
        peer: &str,
        muxer: &str,
        timeout: Duration,
    ) -> Result<Value> {
        let conn = self
            .wait_json("the inbound connection event", timeout, |v| {
                (v["event"] == "connection" && v["peer_id"] == peer).then(|| v.clone())
            })
            .await?;
        ensure!(conn["direction"] == "inbound", "connection event: {conn}");
        ensure!(
            conn["chain"]
                == serde_json::json!(["/multistream/1.0.0", "/noise", "/multistream/1.0.0", muxer]),
            "connection event chain: {conn}"
        );
        Ok(conn)
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGINT (what Ctrl-C sends) to the process.
    pub fn interrupt(&self) -> Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| anyhow!("process already exited"))?;
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .context("running kill -INT")?;
        if !status.success() {
            bail!("kill -INT {pid} failed: {status}");
        }
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => bail!(
                "`chain-node {}` did not exit within {timeout:?}; stderr:\n{}",
                self.args,
                self.stderr()
            ),
        }
    }
}

/// The outcome of a one-shot `chain-node` run.
#[derive(Debug)]
pub struct NodeOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Every non-empty stdout line, parsed as JSON (the run fails if one is not JSON).
    pub json: Vec<Value>,
    /// Raw stdout.
    pub stdout: String,
    /// Raw stderr.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl NodeOutput {
    /// The lines with `"op": op`.
    pub fn ops(&self, op: &str) -> Vec<&Value> {
        self.json.iter().filter(|v| v["op"] == op).collect()
    }

    /// The one line with `"op": op`; fails unless there is exactly one.
    pub fn one(&self, op: &str) -> Result<&Value> {
        match self.ops(op).as_slice() {
            [line] => Ok(line),
            _ => bail!("expected one {op} line, got {:?}", self.json),
        }
    }

    /// Checks that there are exactly `count` ping lines, each from `peer` with a plausible `rtt_us`
    /// (under 5 s).
    pub fn expect_pings(&self, count: usize, peer: &str) -> Result<()> {
        let pings = self.ops("ping");
        ensure!(
            pings.len() == count,
            "expected {count} ping lines, got {:?}",
            self.json
        );
        for p in &pings {
            ensure!(p["peer_id"] == peer, "ping line {p}");
            ensure!(
                p["rtt_us"].as_u64().is_some_and(|r| r < 5_000_000),
                "ping line without a plausible rtt_us: {p}"
            );
        }
        Ok(())
    }

    /// Fails (with stdout and stderr in the message) unless the exit status is 0.
    pub fn expect_success(&self, what: &str) -> Result<()> {
        if !self.status.success() {
            bail!(
                "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
                self.status.code(),
                self.stdout,
                self.stderr
            );
        }
        Ok(())
    }

    /// Checks the error contract: non-zero exit, exactly one `{"error": "..."}` stdout line (with --json),
    /// a non-empty last stderr line. Returns the error text.
    pub fn expect_error(&self, what: &str) -> Result<String> {
        let ctx = || {
            format!(
                "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
                self.status.code(),
                self.stdout,
                self.stderr
            )
        };
        if self.status.success() {
            bail!("expected a non-zero exit; {}", ctx());
        }
        let errors: Vec<&str> = self
            .json
            .iter()
            .filter_map(|v| v["error"].as_str())
            .collect();
        let [error] = errors.as_slice() else {
            bail!(
                "expected exactly one {{\"error\":…}} line on stdout; {}",
                ctx()
            );
        };
        if error.trim().is_empty() {
            bail!("empty error text; {}", ctx());
        }
        let last_stderr = self.stderr.lines().rev().find(|l| !l.trim().is_empty());
        if last_stderr.is_none() {
            bail!("expected a human message on stderr; {}", ctx());
        }
        Ok((*error).to_string())
    }
}

/// The strings of the JSON array `v` (empty if it is not an array; non-strings skipped).
pub fn json_strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `(layer, protocol)` pairs of an `inspect` line's `chain`.
pub fn inspect_layers(line: &Value) -> Vec<(String, String)> {
    line["chain"]
        .as_array()
        .map(|chain| {
            chain
                .iter()
                .map(|l| {
                    (
                        l["layer"].as_str().unwrap_or_default().to_string(),
                        l["protocol"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `chain-node ARGS...` to completion; the child is killed if it outlives `deadline`.
pub async fn run_node(args: &[&str], deadline: Duration) -> Result<NodeOutput> {
    let start = Instant::now();
    let (mut cmd, _data_home) = command(args)?;
    let child = cmd
        .spawn()
        .with_context(|| format!("spawning chain-node {args:?}"))?;
    let out = tokio::time::timeout(deadline, child.wait_with_output())
        .await
        .map_err(|_| {
            anyhow!(
                "`chain-node {}` still running after {deadline:?} (killed)",
                args.join(" ")
            )
        })??;
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut json = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v = serde_json::from_str::<Value>(line).map_err(|_| {
            anyhow!(
                "`chain-node {}` printed a non-JSON stdout line: {line:?}\nstderr:\n{stderr}",
                args.join(" ")
            )
        })?;
        json.push(v);
    }
    Ok(NodeOutput {
        status: out.status,
        json,
        stdout,
        stderr,
        elapsed,
    })
}
