//! `cargo xtask`: project tasks that are more than one cargo command.
//!
//! - `cargo xtask test`: checks that `chainp2p-multistream` + `chainp2p-yamux` alone build no
//!   tokio, redb or RSA (the `alacarte-check` member's `cargo tree`, see `alacarte.rs`), builds
//!   the `chain-node` binary the end-to-end tests drive, then
//!   sets up the python virtualenv of the py-libp2p interop peer (`tests/py/setup.sh`), then runs
//!   every test of the workspace (with cargo-nextest when installed, else `cargo test`).
//! - `cargo xtask alacarte`: that check alone.
//! - `cargo xtask package`: `cargo package --no-verify` of every publishable crate, each `.crate`
//!   checked for its README and licence files (`release.rs`).
//! - `cargo xtask msrv`: no dependency of a publishable crate declares a `rust-version` newer
//!   than the workspace's (`release.rs`); `cargo xtask test` runs it first.
//! - `cargo xtask bench-compare [--bytes N] [--muxer yamux|mplex]`: the whole chain over
//!   loopback (tcp + noise + the muxer), ours against
//!   rust-libp2p in the same run (`chain-node perf` against `chain-node listen`, beside the
//!   rust-libp2p perf example against itself), then the per-layer criterion benches.
//! - `cargo xtask bench-compare --memory N[,N…]`: RSS per idle connection of a listener holding
//!   N connections from one rust-libp2p dialer, `chain-node listen` beside rust-libp2p.
//! - `cargo xtask bench-compare --connect N`: connection setup time over TCP loopback, N
//!   sequential connections (dial to established, dial to the first echo on a substream;
//!   median and p99), our dialer against `chain-node listen` beside rust-libp2p against itself.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod alacarte;
mod bench_compare;
mod bench_connect;
mod bench_memory;
mod release;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(args.get(1..).unwrap_or_default()),
        Some("bench-compare") => bench_compare::run(args.get(1..).unwrap_or_default()),
        Some("alacarte") => alacarte::check(),
        Some("package") => release::package(),
        Some("msrv") => release::msrv(),
        _ => {
            eprintln!("usage: cargo xtask test [extra test-runner args] | cargo xtask alacarte | cargo xtask package | cargo xtask msrv | cargo xtask bench-compare [--bytes N] [--muxer yamux|mplex] [--skip-criterion] | cargo xtask bench-compare --memory N[,N...] | cargo xtask bench-compare --connect N");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The target directory cargo uses for this workspace.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A `cargo` command (the one running xtask) in the workspace root.
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(workspace_root());
    c
}

pub(crate) fn run_checked(mut cmd: Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd.status()?;
    if !status.success() {
        anyhow::bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    release::msrv()?;
    alacarte::check()?;
    let mut build = cargo();
    build.args(["build", "-p", "chainp2p-node"]);
    run_checked(build)?;
    // The py-libp2p secio peer of the interop tests lives in a virtualenv.
    let mut venv = Command::new("bash");
    venv.arg(workspace_root().join("tests/py/setup.sh"));
    run_checked(venv)?;
    let bin = target_dir().join("debug").join("chain-node");
    let has_nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let mut tests = cargo();
    if has_nextest {
        tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        tests.args(["test", "--workspace", "--no-fail-fast"]);
    }
    tests.args(extra).env("CHAIN_NODE_BIN", &bin);
    run_checked(tests)?;
    // nextest runs no doc tests: the crate examples (and the compile_fail one that keeps a
    // muxer out of the security slot) run here.
    let mut docs = cargo();
    docs.args(["test", "--workspace", "--doc"]);
    run_checked(docs)
}
