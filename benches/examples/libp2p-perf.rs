//! rust-libp2p 0.57 speaking `/perf/1.0.0` over TCP + noise + yamux (or mplex), the yardstick
//! for `cargo xtask bench-compare` (libp2p-perf is not published for 0.57, so the protocol is
//! spoken over a raw `libp2p-stream` stream, with the same 256 KiB buffers our perf uses).
//!
//! `libp2p-perf [--muxer yamux|mplex] server` prints its address on the first stdout line and
//! serves until killed; `libp2p-perf [--muxer yamux|mplex] client ADDR UPLOAD DOWNLOAD` prints
//! `{"mbit_per_s":F,...}`. The muxer is `libp2p::yamux::Config::default()` (the default) or
//! `libp2p_mplex::Config::default()`, each with rust-libp2p's defaults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{noise, swarm::SwarmEvent, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};

const PERF: StreamProtocol = StreamProtocol::new("/perf/1.0.0");
const BUF: usize = 256 * 1024;

/// The stream muxer to negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Muxer {
    Yamux,
    Mplex,
}

/// The same swarm whatever the muxer: the builder's types differ per muxer, hence a macro.
macro_rules! build_swarm {
    ($muxer:expr) => {
        libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                $muxer,
            )?
            .with_behaviour(|_| libp2p_stream::Behaviour::new())?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
            .build()
    };
}

fn swarm(muxer: Muxer) -> Result<Swarm<libp2p_stream::Behaviour>> {
    Ok(match muxer {
        Muxer::Yamux => build_swarm!(yamux::Config::default),
        Muxer::Mplex => build_swarm!(libp2p_mplex::Config::default),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut muxer = Muxer::Yamux;
    if let Some(i) = args.iter().position(|a| a == "--muxer") {
        muxer = match args.get(i + 1).map(String::as_str) {
            Some("yamux") => Muxer::Yamux,
            Some("mplex") => Muxer::Mplex,
            other => bail!("--muxer takes yamux or mplex, not {other:?}"),
        };
        args.drain(i..i + 2);
    }
    match args.first().map(String::as_str) {
        Some("server") => server(muxer).await,
        Some("client") if args.len() == 4 => {
            client(muxer, args[1].parse()?, args[2].parse()?, args[3].parse()?).await
        }
        _ => bail!(
            "usage: libp2p-perf [--muxer yamux|mplex] server | libp2p-perf [--muxer yamux|mplex] client ADDR UPLOAD DOWNLOAD"
        ),
    }
}

async fn server(muxer: Muxer) -> Result<()> {
    let mut swarm = swarm(muxer)?;
    let mut incoming = swarm.behaviour().new_control().accept(PERF)?;
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let peer = *swarm.local_peer_id();
    tokio::spawn(async move {
        while let Some((_, mut stream)) = incoming.next().await {
            tokio::spawn(async move {
                let mut req = [0u8; 8];
                if stream.read_exact(&mut req).await.is_err() {
                    return;
                }
                let mut buf = vec![0u8; BUF];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
                let mut left = u64::from_be_bytes(req);
                while left > 0 {
                    let n = left.min(BUF as u64) as usize;
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = stream.close().await;
            });
        }
    });
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            println!("{address}/p2p/{peer}");
        }
    }
}

async fn client(muxer: Muxer, addr: Multiaddr, upload: u64, download: u64) -> Result<()> {
    let mut swarm = swarm(muxer)?;
    let mut control = swarm.behaviour().new_control();
    let peer = match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => bail!("address needs /p2p/"),
    };
    swarm.dial(addr)?;
    tokio::spawn(async move {
        loop {
            swarm.select_next_some().await;
        }
    });
    let started = Instant::now();
    let mut stream = open(&mut control, peer).await?;
    stream.write_all(&download.to_be_bytes()).await?;
    let buf = vec![0u8; BUF];
    let mut left = upload;
    while left > 0 {
        let n = left.min(BUF as u64) as usize;
        stream.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    stream.close().await?;
    let uploaded = started.elapsed();
    let mut rbuf = vec![0u8; BUF];
    let mut got = 0u64;
    loop {
        let n = stream.read(&mut rbuf).await?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let total = started.elapsed();
    if got != download {
        bail!("downloaded {got} bytes, asked for {download}");
    }
    let mbit = (upload + download) as f64 * 8.0 / 1e6 / total.as_secs_f64();
    println!(
        "{{\"op\":\"perf\",\"upload_bytes\":{upload},\"download_bytes\":{download},\"seconds\":{},\"mbit_per_s\":{mbit},\"upload_seconds\":{}}}",
        total.as_secs_f64(),
        uploaded.as_secs_f64()
    );
    Ok(())
}

async fn open(control: &mut libp2p_stream::Control, peer: PeerId) -> Result<libp2p::Stream> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match control.open_stream(peer, PERF).await {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e).context("opening the perf stream"),
        }
    }
}
