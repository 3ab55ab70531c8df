//! The subcommands: `listen` runs a node; `ping`, `identify`, `inspect` and `perf` dial a peer,
//! do one thing and exit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::LayerKind;
use chainp2p_kad::node::{KadNode, Mode};
use chainp2p_kad_swarm::BuildWithKad;
use chainp2p_swarm::{
    Connection, ConnectionManagerConfig, ResourceLimits, Swarm, SwarmBuilder, SwarmEvent, WeakSwarm,
};

use crate::cli::{CommonArgs, LimitArgs, ListenArgs};
use crate::exit::CliError;
use crate::keyfile::{self, KeyType};
use crate::output::{Event, Op, Output, Refused, Step};
use crate::shutdown::Shutdown;
use crate::{dht, identity, stack};

/// `listen` closes connections without a substream for this long (the DHT talks to many
/// peers; their connections should not pile up).
const IDLE_CONNECTION: Duration = Duration::from_secs(120);

/// Builds the swarm the common flags describe (identity, security and muxer lists).
pub fn build_swarm(args: &CommonArgs, serve_perf: bool) -> Result<Swarm> {
    Ok(swarm_builder(args, serve_perf)?.build())
}

/// The builder of [`build_swarm`], for callers that add to it (Kademlia).
pub fn swarm_builder(args: &CommonArgs, serve_perf: bool) -> Result<SwarmBuilder> {
    swarm_builder_with(args, identity::keypair(args)?, serve_perf)
}

/// [`swarm_builder`] with the identity given.
pub fn swarm_builder_with(
    args: &CommonArgs,
    keypair: chainp2p_core::identity::Keypair,
    serve_perf: bool,
) -> Result<SwarmBuilder> {
    let mut builder = SwarmBuilder::new(keypair)
        .security(stack::security_handlers(&args.security)?)
        .muxers(stack::muxer_handlers(&args.muxer)?)
        .multistream(stack::multistream_config(args.c_ipfs_compat));
    if stack::enables_plaintext(&args.security)? {
        eprintln!("{}", stack::PLAINTEXT_WARNING);
    }
    if serve_perf {
        builder = builder.protocol(Arc::new(chainp2p_perf::PerfHandler::default()));
    }
    if let Some(secs) = args.timeout {
        builder = builder.upgrade_timeout(Duration::from_secs_f64(secs));
    }
    Ok(builder)
}

/// The resource limits `listen` runs with: go-libp2p's defaults scaled to this machine, with
/// the flags given on top.
pub fn resource_limits(args: &LimitArgs) -> ResourceLimits {
    let auto = ResourceLimits::auto();
    let memory = args.memory_limit.unwrap_or(auto.memory);
    ResourceLimits {
        max_connections: args.max_connections.unwrap_or(auto.max_connections),
        max_inbound_connections: args.max_inbound.unwrap_or(auto.max_inbound_connections),
        max_connections_per_peer: args
            .max_connections_per_peer
            .unwrap_or(auto.max_connections_per_peer),
        max_pending_inbound: args.max_pending.unwrap_or(auto.max_pending_inbound),
        max_pending_per_ip: args.max_pending_per_ip.unwrap_or(auto.max_pending_per_ip),
        max_streams: args.max_streams.unwrap_or(auto.max_streams),
        max_streams_per_peer: args
            .max_streams_per_peer
            .unwrap_or(auto.max_streams_per_peer),
        max_streams_per_protocol: args
            .max_streams_per_protocol
            .unwrap_or(auto.max_streams_per_protocol),
        max_streams_per_protocol_per_peer: args
            .max_streams_per_protocol_per_peer
            .unwrap_or(auto.max_streams_per_protocol_per_peer),
        memory,
        // A smaller system limit caps the narrower scopes too.
        memory_per_peer: auto.memory_per_peer.min(memory),
        memory_per_connection: auto.memory_per_connection.min(memory),
    }
}

/// The connection manager `listen` runs with (kubo's defaults unless the flags say otherwise).
pub fn connection_manager(args: &LimitArgs) -> Result<ConnectionManagerConfig> {
    if args.conn_low > args.conn_high {
        return Err(CliError::Usage(format!(
            "--conn-low {} is above --conn-high {}",
            args.conn_low, args.conn_high
        ))
        .into());
    }
    if !(args.conn_grace.is_finite() && args.conn_grace >= 0.0) {
        return Err(CliError::Usage(format!(
            "--conn-grace takes a number of seconds, not {}",
            args.conn_grace
        ))
        .into());
    }
    Ok(ConnectionManagerConfig {
        low: args.conn_low,
        high: args.conn_high,
        grace: Duration::from_secs_f64(args.conn_grace),
    })
}

/// Prints `{"event":"stats"}` every `every` while the node lives.
async fn print_stats(node: WeakSwarm, every: Duration, out: Output) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(node) = node.upgrade() else {
            return;
        };
        let u = node.resource_usage();
        out.emit(
            Event::Stats {
                connections: u.connections,
                inbound: u.inbound,
                memory_reserved: u.memory_reserved,
                pending: u.pending,
                refused: Refused {
                    connections: u.refused_connections,
                    streams: u.refused_streams,
                },
                streams: u.streams,
            },
            || {
                format!(
                    "stats: {} connections ({} inbound, {} pending), {} streams, {} bytes reserved; refused {} connections, {} streams",
                    u.connections,
                    u.inbound,
                    u.pending,
                    u.streams,
                    u.memory_reserved,
                    u.refused_connections,
                    u.refused_streams
                )
            },
        );
    }
}

/// Parses a command-line multiaddr, with a clear message when it is not one (exit 2).
pub fn parse_addr(text: &str) -> Result<Multiaddr> {
    text.parse::<Multiaddr>()
        .with_context(|| CliError::Usage(format!("unparseable address {text:?}")))
}

/// The warning printed when a dial address has no `/p2p/<peer id>`: whoever answers is taken.
pub const PEER_ID_NOT_CHECKED: &str =
    "warning: peer id not checked: the address has no /p2p/<peer id>, so any peer answering there is accepted";

/// Parses a dial address and says whether it names the peer (`/p2p/…`); warns on stderr when
/// it does not.
pub fn parse_dial_addr(text: &str) -> Result<(Multiaddr, bool)> {
    let addr = parse_addr(text)?;
    let checked = addr
        .iter()
        .any(|p| matches!(p, chainp2p_core::multiaddr::Protocol::P2p(_)));
    if !checked {
        eprintln!("{PEER_ID_NOT_CHECKED}");
    }
    Ok((addr, checked))
}

/// `chain-node listen`: serve until Ctrl-C or `until` passes.
pub async fn listen(
    common: &CommonArgs,
    args: &ListenArgs,
    out: Output,
    until: Option<Duration>,
) -> Result<()> {
    // Before anything is printed: a signal sent right after the `listening` line must count.
    let mut shutdown = Shutdown::install()?;
    let keypair = identity::listen_keypair(common, args)?;
    let builder = swarm_builder_with(common, keypair, true)?
        .idle_connection_timeout(Some(IDLE_CONNECTION))
        .resource_limits(resource_limits(&args.limits))
        .connection_manager(Some(connection_manager(&args.limits)?));
    let peer_id = builder.local_peer_id();
    let (store, store_label) = dht::open_store(args, peer_id)?;
    let mode = if args.client_mode {
        Mode::Client
    } else {
        Mode::Server
    };
    let (node, kad) = builder.build_with_kad(dht::kad_options(common, mode, store)?)?;
    let mut events = node.subscribe();
    let addrs = if args.listen.is_empty() {
        vec!["/ip4/127.0.0.1/tcp/0".to_owned()]
    } else {
        args.listen.clone()
    };
    for text in &addrs {
        let bound = node.listen(&parse_addr(text)?).await?;
        let full = format!("{bound}/p2p/{peer_id}");
        out.emit(
            Event::Listening {
                addr: full.clone(),
                peer_id: peer_id.to_string(),
            },
            || format!("listening on {full}"),
        );
    }
    kad.node().set_listen_addrs(node.listen_addrs());
    let maintenance = kad.node().spawn_maintenance();
    out.emit(
        Event::Kad {
            mode: match mode {
                Mode::Server => "server",
                Mode::Client => "client",
            }
            .to_owned(),
            protocol: common.kad_protocol.clone(),
            store: store_label.clone(),
        },
        || {
            format!(
                "kad {} on {} (store: {store_label})",
                match mode {
                    Mode::Server => "server",
                    Mode::Client => "client",
                },
                common.kad_protocol
            )
        },
    );
    let bootstrap: Vec<Multiaddr> = args
        .bootstrap
        .iter()
        .map(|t| parse_addr(t))
        .collect::<Result<_>>()?;
    // Bootstrap peers are never trimmed by the connection manager.
    for addr in &bootstrap {
        if let Ok((_, Some(peer))) = chainp2p_core::split_peer_id(addr) {
            node.protect(peer);
        }
    }
    if !bootstrap.is_empty() {
        tokio::spawn(join_dht(node.clone(), kad.node().clone(), bootstrap, out));
    }
    if let Some(secs) = args.stats {
        tokio::spawn(print_stats(
            node.downgrade(),
            Duration::from_secs_f64(secs),
            out,
        ));
    }
    let deadline = async {
        match until {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = shutdown.wait() => break,
            _ = &mut deadline => break,
            event = events.recv() => match event {
                Ok(event) => print_event(out, &event),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event printer fell behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    drop(maintenance);
    drop(kad);
    node.shutdown().await;
    Ok(())
}

/// Dials the `--bootstrap` peers, then bootstraps the DHT from those that answered and prints
/// `{"event":"kad-bootstrapped","routing_table":N}`.
async fn join_dht(swarm: Swarm, kad: KadNode, addrs: Vec<Multiaddr>, out: Output) {
    let mut seeds = Vec::new();
    for addr in addrs {
        match swarm.dial(&addr).await {
            Ok(conn) => seeds.push((conn.peer_id(), vec![conn.remote_addr().clone()])),
            Err(e) => tracing::warn!(%addr, error = %e, "bootstrap dial failed"),
        }
    }
    let size = match kad.bootstrap(seeds).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "kad bootstrap failed");
            kad.routing_table_len()
        }
    };
    out.emit(
        Event::KadBootstrapped {
            routing_table: size,
        },
        || format!("kad bootstrapped: {size} peers in the routing table"),
    );
}

fn print_event(out: Output, event: &SwarmEvent) {
    match event {
        SwarmEvent::ConnectionEstablished {
            peer_id,
            direction,
            remote_addr,
            chain,
        } => {
            let protocols = chain.protocols();
            out.emit(
                Event::Connection {
                    chain: protocols.clone(),
                    direction: direction.as_str().to_owned(),
                    peer_id: peer_id.to_string(),
                    remote_addr: remote_addr.to_string(),
                },
                || {
                    format!(
                        "{} connection with {peer_id} via {}",
                        direction.as_str(),
                        protocols.join(" -> ")
                    )
                },
            );
        }
        SwarmEvent::ConnectionClosed {
            peer_id,
            direction,
            error,
        } => out.emit(
            Event::ConnectionClosed {
                direction: direction.as_str().to_owned(),
                error: error.as_ref().map(|e| e.to_string()),
                peer_id: peer_id.to_string(),
            },
            || {
                format!(
                    "connection with {peer_id} closed{}",
                    error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
                )
            },
        ),
        SwarmEvent::IncomingConnectionError { remote_addr, error } => {
            tracing::info!(%remote_addr, %error, "inbound connection failed");
        }
        _ => {}
    }
}

/// Dials `addr`; returns the node, the connection and whether the address named the peer.
async fn connect(
    common: &CommonArgs,
    addr: &str,
    serve_perf: bool,
) -> Result<(Swarm, Connection, bool)> {
    let (addr, checked) = parse_dial_addr(addr)?;
    let node = build_swarm(common, serve_perf)?;
    let conn = node.dial(&addr).await?;
    Ok((node, conn, checked))
}

async fn finish(node: Swarm) {
    node.shutdown().await;
}

/// `chain-node ping`.
pub async fn ping(
    common: &CommonArgs,
    addr: &str,
    count: u32,
    interval: Duration,
    out: Output,
) -> Result<()> {
    let (node, conn, checked) = connect(common, addr, false).await?;
    let peer = conn.peer_id().to_string();
    let mut stream = conn.open_stream(chainp2p_ping::PROTOCOL).await?;
    for i in 0..count {
        if i > 0 && !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
        let rtt = chainp2p_ping::ping(&mut stream).await?;
        let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
        out.emit(
            Op::Ping {
                peer_id: peer.clone(),
                peer_id_checked: checked,
                rtt_us: us,
            },
            || format!("ping {peer}: rtt {:.3} ms", rtt.as_secs_f64() * 1e3),
        );
    }
    let _ = futures::AsyncWriteExt::close(&mut stream).await;
    finish(node).await;
    Ok(())
}

/// `chain-node identify`.
pub async fn identify(common: &CommonArgs, addr: &str, out: Output) -> Result<()> {
    let (node, conn, checked) = connect(common, addr, false).await?;
    let peer = conn.peer_id();
    let info = conn.identify().await?;
    let listen: Vec<String> = info.listen_addrs.iter().map(|a| a.to_string()).collect();
    let observed = info.observed_addr.as_ref().map(|a| a.to_string());
    out.emit(
        Op::Identify {
            agent_version: info.agent_version.clone(),
            listen_addrs: listen.clone(),
            observed_addr: observed.clone(),
            peer_id: peer.to_string(),
            peer_id_checked: checked,
            protocol_version: info.protocol_version.clone(),
            protocols: info.protocols.clone(),
        },
        || {
            format!(
                "{peer}\n  agent: {}\n  protocol version: {}\n  protocols: {}\n  listen addrs: {}\n  observed addr: {}",
                info.agent_version,
                info.protocol_version,
                info.protocols.join(", "),
                listen.join(", "),
                observed.clone().unwrap_or_else(|| "-".into())
            )
        },
    );
    finish(node).await;
    Ok(())
}

/// `chain-node inspect`.
pub async fn inspect(common: &CommonArgs, addr: &str, out: Output) -> Result<()> {
    let (node, conn, checked) = connect(common, addr, false).await?;
    let peer = conn.peer_id().to_string();
    let steps: Vec<_> = conn
        .chain()
        .steps()
        .iter()
        .filter(|s| s.kind != LayerKind::Negotiation)
        .collect();
    let chain: Vec<Step> = steps
        .iter()
        .map(|s| Step {
            details: s.details.iter().cloned().collect(),
            layer: s.kind.as_str().to_owned(),
            protocol: s.protocol.clone(),
            us: u64::try_from(s.elapsed.as_micros()).unwrap_or(u64::MAX),
        })
        .collect();
    out.emit(
        Op::Inspect {
            chain,
            peer_id: peer.clone(),
            peer_id_checked: checked,
        },
        || {
            let mut text = peer.clone();
            for s in &steps {
                text.push_str(&format!(
                    "\n  {:<9} {:<32} {:>8} us",
                    s.kind.as_str(),
                    s.protocol,
                    s.elapsed.as_micros()
                ));
            }
            text
        },
    );
    finish(node).await;
    Ok(())
}

/// `chain-node keygen`: makes the key (RSA takes a CPU-second: run it off the async runtime)
/// and writes it, mode 0600, refusing to replace a file unless `force`.
pub fn keygen(kind: KeyType, path: &Path, force: bool, out: Output) -> Result<()> {
    let (keypair, bytes) = keyfile::generate(kind)?;
    write_key_file(path, &bytes, force)?;
    let peer = keypair.public().to_peer_id().to_string();
    let shown = path.display().to_string();
    out.emit(
        Op::Keygen {
            path: shown.clone(),
            peer_id: peer.clone(),
            key_type: kind.as_str().to_owned(),
        },
        || format!("wrote {} key of {peer} to {shown}", kind.as_str()),
    );
    Ok(())
}

fn write_key_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!("{} exists (use --force to replace it)", path.display())
        } else {
            format!("cannot create {}", path.display())
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// `chain-node perf`.
pub async fn perf(
    common: &CommonArgs,
    addr: &str,
    upload: u64,
    download: u64,
    out: Output,
) -> Result<()> {
    let (node, conn, checked) = connect(common, addr, false).await?;
    let mut stream = conn.open_stream(chainp2p_perf::PROTOCOL).await?;
    let report = chainp2p_perf::run(&mut stream, upload, download).await?;
    let seconds = report.total_time.as_secs_f64();
    let mbit = report.mbit_per_s();
    out.emit(
        Op::Perf {
            download_bytes: report.download_bytes,
            download_seconds: report.download_time.as_secs_f64(),
            mbit_per_s: mbit,
            peer_id_checked: checked,
            seconds,
            upload_bytes: report.upload_bytes,
            upload_seconds: report.upload_time.as_secs_f64(),
        },
        || {
            format!(
                "perf: {} B up, {} B down in {seconds:.3} s = {mbit:.1} Mbit/s",
                report.upload_bytes, report.download_bytes
            )
        },
    );
    finish(node).await;
    Ok(())
}
