//! rust-libp2p 0.57 holding idle connections, the yardstick and the load of
//! `cargo xtask bench-compare --memory N`: TCP + noise + yamux with identify and ping, as a
//! listener and as a dialer that opens N connections to one peer and keeps them.
//!
//! `libp2p-hold listen` prints its address on the first stdout line and serves until killed.
//! `libp2p-hold dial ADDR N` opens N connections to ADDR (at most 256 dials in flight), prints
//! `{"held":N,"seconds":F}` once all N are established and identified, and holds them until
//! killed. No connection limits, idle timeout one hour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, Swarm};

/// Dials in flight at most (a burst of thousands overflows the listener's accept backlog).
const IN_FLIGHT: usize = 256;

#[derive(NetworkBehaviour)]
struct Behaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

fn swarm() -> Result<Swarm<Behaviour>> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| Behaviour {
            identify: identify::Behaviour::new(identify::Config::new(
                "/ipfs/id/1.0.0".into(),
                key.public(),
            )),
            ping: ping::Behaviour::default(),
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("listen") => listen().await,
        Some("dial") if args.len() == 3 => dial(args[1].parse()?, args[2].parse()?).await,
        _ => bail!("usage: libp2p-hold listen | libp2p-hold dial ADDR N"),
    }
}

async fn listen() -> Result<()> {
    let mut swarm = swarm()?;
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let peer = *swarm.local_peer_id();
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            println!("{address}/p2p/{peer}");
        }
    }
}

async fn dial(addr: Multiaddr, n: usize) -> Result<()> {
    let mut swarm = swarm()?;
    let started = Instant::now();
    let (mut dialed, mut established, mut identified, mut failed) = (0usize, 0, 0, 0);
    let mut reported = false;
    loop {
        while dialed < n && dialed - established - failed < IN_FLIGHT {
            let opts = DialOpts::unknown_peer_id().address(addr.clone()).build();
            swarm.dial(opts)?;
            dialed += 1;
        }
        match swarm.select_next_some().await {
            SwarmEvent::ConnectionEstablished { .. } => established += 1,
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                failed += 1;
                eprintln!("dial failed: {error}");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                ..
            })) => identified += 1,
            _ => {}
        }
        if !reported && identified >= n {
            println!(
                "{{\"held\":{established},\"failed\":{failed},\"seconds\":{}}}",
                started.elapsed().as_secs_f64()
            );
            reported = true;
        }
        if !reported && established + failed >= n && failed > 0 {
            println!("{{\"held\":{established},\"failed\":{failed},\"seconds\":-1}}");
            reported = true;
        }
    }
}
