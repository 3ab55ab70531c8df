//! rust-libp2p 0.57 setting up connections one after another, the yardstick of
//! `cargo xtask bench-compare --connect N`: TCP + noise + yamux, `TCP_NODELAY` on.
//!
//! `libp2p-connect listen` prints its address (with `/p2p/`) on the first stdout line and
//! serves identify and ping (`/ipfs/ping/1.0.0` echoes 32 bytes) until killed.
//! `libp2p-connect dial ADDR N` opens N connections to ADDR in sequence, each a fresh TCP
//! connection with the whole handshake, and closes each before the next. Per connection it
//! prints `{"establish_us":F,"echo_us":F}`: the time from the dial to `ConnectionEstablished`
//! (security and muxer done), and to the echo of 32 bytes on a new substream that negotiated
//! `/ipfs/ping/1.0.0`: the dialer runs only `ping::Behaviour`, whose handler opens that
//! substream (negotiated lazily, multistream `V1Lazy`) and sends its first 32-byte ping as soon
//! as the connection is up (no identify; the interval of later pings is an hour).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, Swarm};
/// How long one connection (dial, echo, close) may take before the run fails.
const PER_CONNECTION: Duration = Duration::from_secs(10);

#[derive(NetworkBehaviour)]
struct Listener {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

macro_rules! build_swarm {
    ($behaviour:expr) => {
        libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )?
            .with_behaviour($behaviour)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build()
    };
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("listen") => listen().await,
        Some("dial") if args.len() == 3 => dial(args[1].parse()?, args[2].parse()?).await,
        _ => bail!("usage: libp2p-connect listen | libp2p-connect dial ADDR N"),
    }
}

async fn listen() -> Result<()> {
    let mut swarm: Swarm<Listener> = build_swarm!(|key| Listener {
        identify: identify::Behaviour::new(identify::Config::new(
            "/ipfs/id/1.0.0".into(),
            key.public(),
        )),
        ping: ping::Behaviour::default(),
    });
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let peer = *swarm.local_peer_id();
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            println!("{address}/p2p/{peer}");
        }
    }
}

async fn dial(addr: Multiaddr, n: usize) -> Result<()> {
    // The first ping goes out when the connection is up; later ones never come in a run.
    let mut swarm: Swarm<ping::Behaviour> = build_swarm!(|_| ping::Behaviour::new(
        ping::Config::new().with_interval(Duration::from_secs(3600))
    ));
    for i in 0..n {
        let one = async {
            let started = Instant::now();
            swarm.dial(addr.clone())?;
            let connection = loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { connection_id, .. } => break connection_id,
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        bail!("dial {i} failed: {error}")
                    }
                    _ => {}
                }
            };
            let established = started.elapsed();
            if std::env::var_os("CONNECT_TRACE").is_some() {
                eprintln!("{i}: established");
            }
            // The ping handler opens its substream and pings as soon as the connection is
            // up; its first result is the first echo.
            let echoed = loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(ping::Event {
                        connection: c,
                        result,
                        ..
                    }) if c == connection => {
                        result.context("the first ping")?;
                        break started.elapsed();
                    }
                    SwarmEvent::ConnectionClosed { connection_id, .. }
                        if connection_id == connection =>
                    {
                        bail!("connection {i} closed before the first ping")
                    }
                    _ => {}
                }
            };
            if std::env::var_os("CONNECT_TRACE").is_some() {
                eprintln!("{i}: echoed");
            }
            if !swarm.close_connection(connection) {
                bail!("connection {i} was gone before it was closed");
            }
            loop {
                if let SwarmEvent::ConnectionClosed { connection_id, .. } =
                    swarm.select_next_some().await
                {
                    if connection_id == connection {
                        break;
                    }
                }
            }
            Ok::<_, anyhow::Error>((established, echoed))
        };
        let (established, echoed) = tokio::time::timeout(PER_CONNECTION, one)
            .await
            .with_context(|| format!("connection {i} took over {PER_CONNECTION:?}"))??;
        println!(
            "{{\"establish_us\":{},\"echo_us\":{}}}",
            established.as_secs_f64() * 1e6,
            echoed.as_secs_f64() * 1e6
        );
    }
    Ok(())
}
