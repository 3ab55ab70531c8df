//! `chain-node`: runs a node of the chain-of-stream-handlers stack, or dials one to ping,
//! identify, inspect its chain or measure throughput, or makes an identity key (`keygen`). The
//! flags and JSON lines are an external contract (README): add, never rename.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod cli;
mod commands;
mod dht;
mod exit;
mod identity;
mod kad_cmd;
mod keyfile;
mod output;
mod shutdown;
mod stack;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command, CommonArgs, LogFormat};
use crate::exit::CliError;
use crate::output::Output;

/// Client commands give up after this long unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT_SECS: f64 = 20.0;

fn main() -> ExitCode {
    // clap's usage errors exit 2, `--help` and `--version` 0.
    let cli = Cli::parse();
    init_logs(&cli.common);
    let out = Output::new(cli.common.json);
    // Key generation is CPU work (RSA: about a second): done before any runtime exists.
    if let Command::Keygen {
        key_type,
        out: path,
        force,
    } = &cli.command
    {
        return finish(commands::keygen(*key_type, path, *force, out), out);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("cannot start the runtime: {e}"), exit::OTHER);
            return ExitCode::from(exit::OTHER);
        }
    };
    finish(runtime.block_on(run(cli, out)), out)
}

/// The exit status of a command's result; a failure is reported first (stderr, and the JSON
/// error line with its exit code).
fn finish(result: anyhow::Result<()>, out: Output) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(e) => {
            let code = exit::code(&e);
            out.error(&format!("{e:#}"), code);
            ExitCode::from(code)
        }
    }
}

/// Logs on stderr: the level from `-v`/`-q` unless RUST_LOG is set, colours only on a terminal
/// without NO_COLOR, text or JSON lines.
fn init_logs(common: &CommonArgs) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(spec).unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG ignored: {e}");
            EnvFilter::new(common.log_level())
        }),
        _ => EnvFilter::new(common.log_level()),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::stderr().is_terminal() && !no_color;
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(ansi);
    match common.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

async fn run(cli: Cli, out: Output) -> anyhow::Result<()> {
    let common = &cli.common;
    let timeout = match common.timeout {
        Some(secs) if !(secs.is_finite() && secs > 0.0) => {
            return Err(
                CliError::Usage("--timeout must be a positive number of seconds".into()).into(),
            )
        }
        Some(secs) => Some(Duration::from_secs_f64(secs)),
        None => None,
    };
    if let Command::Listen(args) = &cli.command {
        return commands::listen(common, args, out, timeout).await;
    }
    let limit = timeout.unwrap_or(Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS));
    let op = async {
        match &cli.command {
            Command::Ping {
                addr,
                count,
                interval_ms,
            } => {
                commands::ping(
                    common,
                    addr,
                    *count,
                    Duration::from_millis(*interval_ms),
                    out,
                )
                .await
            }
            Command::Identify { addr } => commands::identify(common, addr, out).await,
            Command::Inspect { addr } => commands::inspect(common, addr, out).await,
            Command::Perf {
                addr,
                upload,
                download,
            } => commands::perf(common, addr, *upload, *download, out).await,
            Command::Kad(args) => kad_cmd::run(common, args, out).await,
            Command::Listen(_) | Command::Keygen { .. } => Ok(()),
        }
    };
    match tokio::time::timeout(limit, op).await {
        Ok(result) => result,
        Err(_) => {
            Err(CliError::TimedOut(format!("timed out after {:.1} s", limit.as_secs_f64())).into())
        }
    }
}
