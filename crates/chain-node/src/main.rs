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
mod identity;
mod kad_cmd;
mod keyfile;
mod output;
mod shutdown;
mod stack;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// Client commands give up after this long unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT_SECS: f64 = 20.0;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let out = Output::new(cli.common.json);
    // Key generation is CPU work (RSA: about a second): done before any runtime exists.
    if let Command::Keygen {
        key_type,
        out: path,
        force,
    } = &cli.command
    {
        return match commands::keygen(*key_type, path, *force, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                out.error(&format!("{e:#}"));
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, out: Output) -> anyhow::Result<()> {
    let common = &cli.common;
    let timeout = match common.timeout {
        Some(secs) if !(secs.is_finite() && secs > 0.0) => {
            anyhow::bail!("--timeout must be a positive number of seconds")
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
        Err(_) => anyhow::bail!("timed out after {:.1} s", limit.as_secs_f64()),
    }
}
