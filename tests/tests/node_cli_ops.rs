//! End to end: the operator-facing side of `chain-node` — logs (no colour codes when piped,
//! `--log-format json`, `-v`), a flag given twice takes its last value, the exit codes, `--help`,
//! the identity kept in the data directory, `peer_id_checked`, and binary kad values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use base64::Engine as _;
use common::node::{chain_node_bin, run_node, NodeOutput, NodeProcess};
use common::peer_id_from_seed;
use serde_json::Value;

const RUN: Duration = Duration::from_secs(30);

/// A finished run whose stdout need not be JSON.
struct Raw {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `chain-node ARGS` with `XDG_DATA_HOME=home`, the `set` variables and without the
/// `unset` ones, under a deadline.
async fn run_env(args: &[&str], home: &Path, set: &[(&str, &str)], unset: &[&str]) -> Result<Raw> {
    let mut cmd = tokio::process::Command::new(chain_node_bin()?);
    cmd.env("XDG_DATA_HOME", home)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in set {
        cmd.env(k, v);
    }
    for k in unset {
        cmd.env_remove(k);
    }
    let out = tokio::time::timeout(RUN, cmd.spawn()?.wait_with_output())
        .await
        .with_context(|| format!("chain-node {args:?} still running after {RUN:?}"))??;
    Ok(Raw {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// A `listen --json --seed SEED --memory` node on 127.0.0.1 and its address.
async fn listener(seed: u64) -> Result<(NodeProcess, String)> {
    let seed = seed.to_string();
    let mut node = NodeProcess::spawn(&[
        "listen",
        "--json",
        "--memory",
        "--seed",
        &seed,
        "--timeout",
        "60",
    ])?;
    let (_, addr) = node.listening().await?;
    Ok((node, addr))
}

/// Checks a failure's exit status and the `exit_code` of its `{"error":…}` line.
fn expect_code(out: &NodeOutput, code: i32, what: &str) -> Result<String> {
    let error = out.expect_error(what)?;
    ensure!(
        out.status.code() == Some(code),
        "{what}: expected exit {code}, got {:?}: {error}\nstderr:\n{}",
        out.status.code(),
        out.stderr
    );
    let line = out
        .json
        .iter()
        .find(|v| v["error"].is_string())
        .context("error line")?;
    ensure!(
        line["exit_code"].as_i64() == Some(i64::from(code)),
        "{what}: {line}"
    );
    Ok(error)
}

/// Piped stderr gets no ANSI colour codes, even at debug level; `--log-format json` makes every
/// log line a JSON object with a `level`; `-vv` raises the default level to debug.
#[tokio::test]
async fn logs_are_plain_when_piped_and_json_on_request() -> Result<()> {
    let home = tempfile::tempdir()?;
    let listen = ["listen", "--memory", "--json", "--timeout", "1"];
    let out = run_env(
        &listen,
        home.path(),
        &[("RUST_LOG", "debug")],
        &["NO_COLOR"],
    )
    .await?;
    ensure!(out.status.success(), "{}", out.stderr);
    ensure!(out.stderr.contains("DEBUG"), "debug logs: {}", out.stderr);
    ensure!(
        !out.stderr.contains('\x1b'),
        "escape codes in piped stderr: {:?}",
        out.stderr
    );

    let mut json = listen.to_vec();
    json.extend(["--log-format", "json"]);
    let out = run_env(&json, home.path(), &[("RUST_LOG", "debug")], &[]).await?;
    ensure!(out.status.success(), "{}", out.stderr);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    ensure!(!lines.is_empty(), "no log lines at debug level");
    for line in lines {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("log line is not JSON: {line:?}"))?;
        ensure!(v["level"].is_string(), "no level: {line}");
    }

    // -vv without RUST_LOG: debug; nothing given: no debug lines.
    let mut verbose = listen.to_vec();
    verbose.push("-vv");
    let out = run_env(&verbose, home.path(), &[], &["RUST_LOG"]).await?;
    ensure!(out.stderr.contains("DEBUG"), "-vv: {}", out.stderr);
    let out = run_env(&listen, home.path(), &[], &["RUST_LOG"]).await?;
    ensure!(!out.stderr.contains("DEBUG"), "default: {}", out.stderr);
    Ok(())
}

/// A flag given twice takes its last value (global and subcommand flags); `--listen` still
/// accumulates.
#[tokio::test]
async fn repeated_flags_take_the_last_value_and_lists_accumulate() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut node = NodeProcess::spawn(&[
            "listen",
            "--json",
            "--memory",
            "--timeout",
            "300",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--conn-low",
            "90",
            "--conn-low",
            "10",
            "--timeout",
            "2",
        ])?;
        let mut addrs = Vec::new();
        for _ in 0..2 {
            let seen = addrs.len();
            let addr = node
                .wait_json("a listening event", Duration::from_secs(15), |v| {
                    let a = v["addr"].as_str()?;
                    (v["event"] == "listening" && !addrs.iter().any(|x: &String| x == a))
                        .then(|| a.to_owned())
                })
                .await?;
            ensure!(addrs.len() == seen);
            addrs.push(addr);
        }
        ensure!(addrs[0] != addrs[1], "{addrs:?}");
        // The last --timeout (2 s) counts, not 300.
        let status = node.wait_exit(Duration::from_secs(10)).await?;
        ensure!(status.success(), "{}", node.stderr());

        // A subcommand's own flag, given twice.
        let (_node, addr) = listener(71).await?;
        let out = run_node(
            &["ping", &addr, "--count", "5", "--count", "2", "--json"],
            RUN,
        )
        .await?;
        out.expect_success("ping --count 5 --count 2")?;
        out.expect_pings(2, &peer_id_from_seed(71).to_string())?;
        Ok(())
    })
    .await?
}

/// Each exit code from a real run: 2 bad input, 3 not found, 4 unreachable, 5 refused,
/// 6 timed out.
#[tokio::test]
async fn exit_codes_say_what_failed() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        // 2: bad input, ours and clap's.
        let out = run_node(&["ping", "not-a-multiaddr", "--json"], RUN).await?;
        expect_code(&out, 2, "unparseable address")?;
        let out = run_node(&["listen", "--json", "--memory", "--timeout", "0"], RUN).await?;
        expect_code(&out, 2, "--timeout 0")?;
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
        expect_code(&out, 2, "--conn-low above --conn-high")?;
        let out = run_node(&["ping", "/ip4/127.0.0.1/tcp/1", "--count", "0"], RUN).await?;
        ensure!(out.status.code() == Some(2), "--count 0: {out:?}");

        // 4: nothing listens on the port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let closed = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_id_from_seed(9));
        let out = run_node(&["ping", &closed, "--json"], RUN).await?;
        expect_code(&out, 4, "ping to a closed port")?;

        let (_node, addr) = listener(72).await?;
        // 3: a key nobody has.
        let out = run_node(&["--json", "kad", "get", &addr, "never/stored"], RUN).await?;
        expect_code(&out, 3, "kad get of a missing key")?;
        let out = run_node(
            &["--json", "kad", "get-providers", &addr, "never/provided"],
            RUN,
        )
        .await?;
        expect_code(&out, 3, "kad get-providers of an unprovided key")?;

        // 5: the peer answered but refused: another kad protocol, a different peer id.
        let out = run_node(
            &[
                "--json",
                "--kad-protocol",
                "/ipfs/lan/kad/1.0.0",
                "kad",
                "get",
                &addr,
                "k",
            ],
            RUN,
        )
        .await?;
        expect_code(&out, 5, "kad with a protocol the peer does not serve")?;
        let wrong = addr.replace(
            &peer_id_from_seed(72).to_string(),
            &peer_id_from_seed(73).to_string(),
        );
        let out = run_node(&["ping", &wrong, "--json"], RUN).await?;
        expect_code(&out, 5, "peer id mismatch")?;

        // 6: a listener that accepts and never speaks.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let silent_port = silent.local_addr()?.port();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = silent.accept().await {
                held.push(sock);
            }
        });
        let hang = format!("/ip4/127.0.0.1/tcp/{silent_port}");
        let out = run_node(&["ping", &hang, "--timeout", "1", "--json"], RUN).await;
        holder.abort();
        expect_code(&out?, 6, "ping to a silent listener")?;
        Ok(())
    })
    .await?
}

/// `--help` lists every subcommand, the protocols served, logging and the exit codes.
#[tokio::test]
async fn help_lists_every_subcommand_and_the_exit_codes() -> Result<()> {
    let home = tempfile::tempdir()?;
    let out = run_env(&["--help"], home.path(), &[], &[]).await?;
    ensure!(out.status.success(), "{}", out.stderr);
    for word in [
        "listen",
        "ping",
        "identify",
        "inspect",
        "perf",
        "kad",
        "keygen",
        "/ipfs/kad/1.0.0",
        "RUST_LOG",
        "NO_COLOR",
        "Exit codes",
        "--log-format",
        "--verbose",
        "--quiet",
    ] {
        ensure!(
            out.stdout.contains(word),
            "--help lacks {word}:\n{}",
            out.stdout
        );
    }
    Ok(())
}

/// Human output: "stored at 1 peer", not "1 peers".
#[tokio::test]
async fn one_peer_is_singular() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (_node, addr) = listener(74).await?;
        let home = tempfile::tempdir()?;
        let out = run_env(&["kad", "put", &addr, "k/one", "v"], home.path(), &[], &[]).await?;
        ensure!(out.status.success(), "{}", out.stderr);
        ensure!(
            out.stdout.contains("at 1 peer") && !out.stdout.contains("1 peers"),
            "{}",
            out.stdout
        );
        Ok(())
    })
    .await?
}

/// The peer id of a `listen` run's `listening` line.
fn listening_peer(out: &Raw) -> Result<String> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "listening")
        .and_then(|v| v["peer_id"].as_str().map(str::to_owned))
        .with_context(|| format!("no listening line: {}\n{}", out.stdout, out.stderr))
}

/// `listen` keeps its identity in the data directory: two runs with one `--data-dir` have one
/// peer id and one store (a record put during the first is found in the second); the key file
/// is private; `--memory` writes nothing; the default directory keeps it too.
#[tokio::test]
async fn identity_is_kept_in_the_data_dir() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let dir = tempfile::tempdir()?;
        let data = dir.path().to_str().context("utf-8 temp dir")?;
        let mut first =
            NodeProcess::spawn(&["listen", "--json", "--data-dir", data, "--timeout", "60"])?;
        let (id1, addr) = first.listening().await?;
        let out = run_node(&["--json", "kad", "put", &addr, "kept/key", "kept"], RUN).await?;
        out.expect_success("kad put to the first run")?;
        first.interrupt()?;
        ensure!(first.wait_exit(Duration::from_secs(10)).await?.success());
        drop(first);

        let key = dir.path().join("identity.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key)?.permissions().mode();
            ensure!(mode & 0o777 == 0o600, "identity.key mode {mode:o}");
        }
        let mut second =
            NodeProcess::spawn(&["listen", "--json", "--data-dir", data, "--timeout", "60"])?;
        let (id2, addr) = second.listening().await?;
        ensure!(id1 == id2, "restart changed the peer id: {id1} -> {id2}");
        let out = run_node(&["--json", "kad", "get", &addr, "kept/key"], RUN).await?;
        out.expect_success("kad get from the restarted node")?;
        ensure!(out.one("get")?["value"] == "kept", "{:?}", out.json);
        second.interrupt()?;

        // The per-user default directory keeps one identity too.
        let home = tempfile::tempdir()?;
        let run = ["listen", "--json", "--timeout", "1"];
        let a = listening_peer(&run_env(&run, home.path(), &[], &[]).await?)?;
        let b = listening_peer(&run_env(&run, home.path(), &[], &[]).await?)?;
        ensure!(a == b, "default directory: {a} then {b}");
        ensure!(home.path().join("chain-node/identity.key").is_file());

        // --memory writes nothing at all.
        let empty = tempfile::tempdir()?;
        let out = run_env(
            &["listen", "--json", "--memory", "--timeout", "1"],
            empty.path(),
            &[],
            &[],
        )
        .await?;
        ensure!(out.status.success(), "{}", out.stderr);
        ensure!(
            std::fs::read_dir(empty.path())?.next().is_none(),
            "--memory wrote into the data home"
        );
        Ok(())
    })
    .await?
}

/// An address without `/p2p/` is dialed with a warning and `"peer_id_checked":false`; with
/// one, `true` and no warning.
#[tokio::test]
async fn peer_id_checked_says_whether_the_address_named_the_peer() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (_node, addr) = listener(75).await?;
        let bare = addr.split("/p2p/").next().context("address")?.to_owned();
        let out = run_node(&["ping", &bare, "--json"], RUN).await?;
        out.expect_success("ping without /p2p/")?;
        ensure!(
            out.one("ping")?["peer_id_checked"] == false,
            "{:?}",
            out.json
        );
        ensure!(out.stderr.contains("peer id not checked"), "{}", out.stderr);
        let out = run_node(&["identify", &addr, "--json"], RUN).await?;
        out.expect_success("identify with /p2p/")?;
        ensure!(
            out.one("identify")?["peer_id_checked"] == true,
            "{:?}",
            out.json
        );
        ensure!(
            !out.stderr.contains("peer id not checked"),
            "{}",
            out.stderr
        );
        let out = run_node(
            &[
                "--json",
                "kad",
                "find-node",
                &bare,
                &peer_id_from_seed(1).to_string(),
            ],
            RUN,
        )
        .await?;
        out.expect_success("find-node without /p2p/")?;
        ensure!(
            out.one("find-node")?["peer_id_checked"] == false,
            "{:?}",
            out.json
        );
        Ok(())
    })
    .await?
}

/// Random bytes that are not UTF-8 survive put (`--value-hex`, `--value-file`) and get
/// (`value_base64`, `--out`); `value` is null for them.
#[tokio::test]
async fn binary_values_round_trip() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (_node, addr) = listener(76).await?;
        let mut bytes: Vec<u8> = (0..64).map(|_| rand::random::<u8>()).collect();
        bytes.extend([0xff, 0xfe, 0x00]);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let out = run_node(
            &[
                "--json",
                "kad",
                "put",
                &addr,
                "bin/hex",
                "--value-hex",
                &hex,
            ],
            RUN,
        )
        .await?;
        out.expect_success("put --value-hex")?;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("value.bin");
        std::fs::write(&file, &bytes)?;
        let file_s = file.to_str().context("utf-8 path")?;
        let out = run_node(
            &[
                "--json",
                "kad",
                "put",
                &addr,
                "bin/file",
                "--value-file",
                file_s,
            ],
            RUN,
        )
        .await?;
        out.expect_success("put --value-file")?;

        for key in ["bin/hex", "bin/file"] {
            let got = dir.path().join("got.bin");
            let got_s = got.to_str().context("utf-8 path")?;
            let out = run_node(&["--json", "kad", "get", &addr, key, "--out", got_s], RUN).await?;
            out.expect_success("get of binary bytes")?;
            let line = out.one("get")?;
            ensure!(line["value"].is_null(), "{line}");
            let b64 = line["value_base64"].as_str().context("value_base64")?;
            let decoded = base64::engine::general_purpose::STANDARD.decode(b64)?;
            ensure!(decoded == bytes, "{key}: base64 differs");
            ensure!(std::fs::read(&got)? == bytes, "{key}: --out differs");
        }

        // Exactly one value source.
        let out = run_node(
            &["--json", "kad", "put", &addr, "k", "v", "--value-hex", "00"],
            RUN,
        )
        .await?;
        ensure!(out.status.code() == Some(2), "two value sources: {out:?}");
        let out = run_node(
            &["--json", "kad", "put", &addr, "k", "--value-hex", "zz"],
            RUN,
        )
        .await?;
        expect_code(&out, 2, "bad hex")?;
        Ok(())
    })
    .await?
}
