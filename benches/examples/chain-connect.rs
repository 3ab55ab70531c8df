//! Our dialer setting up connections one after another, the measured side of
//! `cargo xtask bench-compare --connect N`: a `chainp2p-swarm` with its defaults (TCP with
//! `TCP_NODELAY`, noise, yamux), the way `chain-node` dials.
//!
//! `chain-connect ADDR N` opens N connections to ADDR (a `chain-node listen` address with
//! `/p2p/`) in sequence, each a fresh TCP connection with the whole handshake, and closes each
//! before the next. Per connection it prints `{"establish_us":F,"echo_us":F}`: the time from
//! the dial to the connection the swarm returns (security and muxer done), and to the echo of
//! 32 bytes on a new substream that negotiated `/ipfs/ping/1.0.0`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chainp2p_core::identity::Keypair;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_swarm::SwarmBuilder;

/// How long one connection (dial, echo, close) may take before the run fails.
const PER_CONNECTION: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 {
        bail!("usage: chain-connect ADDR N");
    }
    let addr: Multiaddr = args[0].parse().context("ADDR")?;
    let n: usize = args[1].parse().context("N")?;
    let swarm = SwarmBuilder::new(Keypair::generate_ed25519()).build();
    let mut last_id = None;
    let phases = std::env::var_os("CONNECT_PHASES").is_some();
    for i in 0..n {
        let one = async {
            let started = Instant::now();
            let conn = swarm.dial(&addr).await?;
            let established = started.elapsed();
            if last_id == Some(conn.id()) {
                bail!("dial {i} reused the previous connection");
            }
            let mut stream = conn.open_stream(chainp2p_ping::PROTOCOL).await?;
            let opened = started.elapsed();
            chainp2p_ping::ping(&mut stream).await?;
            let echoed = started.elapsed();
            if phases {
                // Where the time went, per layer of the chain (`CONNECT_PHASES=1`).
                let steps: Vec<String> = conn
                    .chain()
                    .steps()
                    .iter()
                    .map(|s| format!("{} {}us", s.protocol, s.elapsed.as_micros()))
                    .collect();
                eprintln!(
                    "{i}: {} | established {}us opened {}us echoed {}us",
                    steps.join(", "),
                    established.as_micros(),
                    opened.as_micros(),
                    echoed.as_micros()
                );
            }
            drop(stream);
            conn.close().await?;
            Ok::<_, anyhow::Error>((conn.id(), established, echoed))
        };
        let (id, established, echoed) = tokio::time::timeout(PER_CONNECTION, one)
            .await
            .with_context(|| format!("connection {i} took over {PER_CONNECTION:?}"))??;
        last_id = Some(id);
        println!(
            "{{\"establish_us\":{},\"echo_us\":{}}}",
            established.as_secs_f64() * 1e6,
            echoed.as_secs_f64() * 1e6
        );
    }
    swarm.shutdown().await;
    Ok(())
}
