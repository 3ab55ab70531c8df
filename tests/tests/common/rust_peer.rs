//! A rust-libp2p 0.57 peer for the interop tests: TCP + noise + yamux (or mplex), ping + identify +
//! `/perf/1.0.0`, and `libp2p-stream` streams of any protocol.
//!
//! The swarm runs in its own tokio task; the test talks to it through commands (listen, dial) and reads an
//! append-only history of [`PeerEvent`]s with [`RustPeer::wait_for`], so waiting for one event never loses
//! another one.

use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, PeerId, Stream, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::keypair_from_seed;
use super::perf::{self, PerfStats, PERF_PROTOCOL};

/// Identify protocol version the rust peer announces.
pub const RUST_PROTOCOL_VERSION: &str = "ipfs/0.1.0";

/// Idle connection timeout of the rust swarm: longer than any test.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Which muxer the rust peer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustMuxer {
    /// `libp2p-yamux` 0.48 (rust-yamux 0.13), `/yamux/1.0.0`.
    Yamux,
    /// `libp2p-mplex` 0.44 with its default config, `/mplex/6.7.0`.
    Mplex,
}

impl RustMuxer {
    /// The muxer's protocol id.
    pub fn protocol(self) -> &'static str {
        match self {
            RustMuxer::Yamux => "/yamux/1.0.0",
            RustMuxer::Mplex => "/mplex/6.7.0",
        }
    }
}

/// A tokio swarm (TCP + noise + yamux, idle timeout [`IDLE_TIMEOUT`]) with the `--seed` convention keypair
/// of `seed` and the behaviour `behaviour` builds from it.
pub fn seeded_swarm<B: NetworkBehaviour>(
    seed: u64,
    behaviour: impl FnOnce(&Keypair) -> B,
) -> Result<Swarm<B>> {
    muxed_swarm(seed, RustMuxer::Yamux, behaviour)
}

/// [`seeded_swarm`] with the muxer `muxer`.
pub fn muxed_swarm<B: NetworkBehaviour>(
    seed: u64,
    muxer: RustMuxer,
    behaviour: impl FnOnce(&Keypair) -> B,
) -> Result<Swarm<B>> {
    // The muxer upgrades have different types, hence one builder chain per muxer.
    macro_rules! build {
        ($muxer_config:expr) => {
            libp2p::SwarmBuilder::with_existing_identity(keypair_from_seed(seed))
                .with_tokio()
                .with_tcp(tcp::Config::default(), noise::Config::new, $muxer_config)?
                .with_behaviour(behaviour)?
                .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
                .build()
        };
    }
    Ok(match muxer {
        RustMuxer::Yamux => build!(yamux::Config::default),
        RustMuxer::Mplex => build!(libp2p_mplex::Config::default),
    })
}

/// The behaviour of the rust peer.
#[derive(NetworkBehaviour)]
struct Behaviour {
    ping: ping::Behaviour,
    identify: identify::Behaviour,
    stream: libp2p_stream::Behaviour,
}

/// Something the rust peer saw.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A connection is up (after noise + yamux).
    Connected {
        /// Remote peer.
        peer: PeerId,
        /// True if we dialed it.
        dialer: bool,
        /// Remote address of the connection.
        addr: Multiaddr,
    },
    /// A connection closed.
    Closed {
        /// Remote peer.
        peer: PeerId,
        /// Cause as text, if any.
        cause: Option<String>,
    },
    /// An outbound dial failed.
    DialFailed {
        /// Remote peer, if known.
        peer: Option<PeerId>,
        /// The error as text.
        error: String,
    },
    /// An inbound connection failed during its upgrade.
    IncomingFailed {
        /// The error as text.
        error: String,
    },
    /// A ping (ours or theirs) finished.
    Ping {
        /// Remote peer.
        peer: PeerId,
        /// Round-trip time, or the failure as text.
        rtt: Result<Duration, String>,
    },
    /// Identify info received from a peer.
    Identified {
        /// Remote peer.
        peer: PeerId,
        /// What it told us.
        info: Box<identify::Info>,
    },
    /// Our identify info was sent to a peer.
    IdentifySent {
        /// Remote peer.
        peer: PeerId,
    },
    /// Identify failed.
    IdentifyError {
        /// Remote peer.
        peer: PeerId,
        /// The error as text.
        error: String,
    },
    /// The perf server finished (or failed) one inbound run.
    PerfServed {
        /// Remote peer.
        peer: PeerId,
        /// What was moved, or the failure as text.
        stats: Result<PerfStats, String>,
    },
}

/// Commands to the swarm task.
enum Command {
    Listen(Multiaddr, oneshot::Sender<Result<Multiaddr>>),
    Dial(Multiaddr, oneshot::Sender<Result<()>>),
}

/// A running rust-libp2p peer. Dropping it stops the swarm task and the perf server.
pub struct RustPeer {
    /// Our PeerId.
    pub peer_id: PeerId,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    history: Vec<PeerEvent>,
    control: libp2p_stream::Control,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RustPeer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl RustPeer {
    /// Builds the swarm (noise + yamux) from the `--seed` convention keypair, starts its task and a
    /// `/perf/1.0.0` server.
    pub fn spawn(seed: u64) -> Result<Self> {
        Self::spawn_muxed(seed, RustMuxer::Yamux)
    }

    /// [`RustPeer::spawn`] with the muxer `muxer`.
    pub fn spawn_muxed(seed: u64, muxer: RustMuxer) -> Result<Self> {
        let mut swarm = muxed_swarm(seed, muxer, |key| Behaviour {
            ping: ping::Behaviour::new(ping::Config::new()),
            identify: identify::Behaviour::new(identify::Config::new(
                RUST_PROTOCOL_VERSION.to_string(),
                key.public(),
            )),
            stream: libp2p_stream::Behaviour::new(),
        })?;
        let peer_id = *swarm.local_peer_id();
        let mut control = swarm.behaviour().stream.new_control();
        let incoming = control
            .accept(StreamProtocol::new(PERF_PROTOCOL))
            .map_err(|e| anyhow!("registering {PERF_PROTOCOL}: {e}"))?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let perf_task = tokio::spawn(perf_server(incoming, ev_tx.clone()));
        let swarm_task = tokio::spawn(async move { run_swarm(&mut swarm, cmd_rx, ev_tx).await });
        Ok(Self {
            peer_id,
            commands: cmd_tx,
            events: ev_rx,
            history: Vec::new(),
            control,
            tasks: vec![swarm_task, perf_task],
        })
    }

    /// [`RustPeer::spawn_muxed`], listening on 127.0.0.1; returns it and its full `/ip4/…/tcp/…/p2p/…`
    /// address.
    pub async fn listener(seed: u64, muxer: RustMuxer) -> Result<(Self, Multiaddr)> {
        let mut peer = Self::spawn_muxed(seed, muxer)?;
        let addr = peer.listen().await?;
        Ok((peer, addr))
    }

    /// Listens on `/ip4/127.0.0.1/tcp/0`; returns the bound address with `/p2p/<our id>` appended.
    pub async fn listen(&mut self) -> Result<Multiaddr> {
        let (tx, rx) = oneshot::channel();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse()?;
        self.commands
            .send(Command::Listen(addr, tx))
            .map_err(|_| anyhow!("rust swarm task is gone"))?;
        let bound = tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .context("rust peer did not report its listen address")??;
        Ok(bound?.with(Protocol::P2p(self.peer_id)))
    }

    /// Starts a dial (the outcome arrives as a `Connected` or `DialFailed` event).
    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Dial(addr, tx))
            .map_err(|_| anyhow!("rust swarm task is gone"))?;
        rx.await?
    }

    /// Waits up to `timeout` for an event (already seen or new) for which `pick` returns `Some`.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pick: impl FnMut(&PeerEvent) -> Option<T>,
    ) -> Result<T> {
        if let Some(found) = self.history.iter().find_map(&mut pick) {
            return Ok(found);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ev = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ev)) => ev,
                Ok(None) => bail!("rust swarm stopped while waiting for {what}"),
                Err(_) => bail!(
                    "timed out after {timeout:?} waiting for {what}; rust peer saw: {:#?}",
                    self.history
                ),
            };
            let found = pick(&ev);
            self.history.push(ev);
            if let Some(found) = found {
                return Ok(found);
            }
        }
    }

    /// Waits for a connection with `peer`; returns whether we were the dialer. Fails on a dial error.
    pub async fn wait_connected(&mut self, peer: PeerId, timeout: Duration) -> Result<bool> {
        self.wait_connection(peer, timeout, false).await
    }

    /// [`RustPeer::wait_connected`] that also fails on an inbound connection failing its upgrade.
    pub async fn wait_connected_strict(&mut self, peer: PeerId, timeout: Duration) -> Result<bool> {
        self.wait_connection(peer, timeout, true).await
    }

    /// Waits for a connection with `peer`; fails on a dial error, and on an inbound upgrade error if
    /// `inbound_fails`.
    async fn wait_connection(
        &mut self,
        peer: PeerId,
        timeout: Duration,
        inbound_fails: bool,
    ) -> Result<bool> {
        self.wait_for("a connection", timeout, |ev| match ev {
            PeerEvent::Connected {
                peer: p, dialer, ..
            } if *p == peer => Some(Ok(*dialer)),
            PeerEvent::DialFailed { error, .. } => Some(Err(error.clone())),
            PeerEvent::IncomingFailed { error } if inbound_fails => Some(Err(error.clone())),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("rust connection with {peer} failed: {e}"))
    }

    /// Waits for the first ping result with `peer` (ours or theirs) and returns the RTT.
    pub async fn wait_ping(&mut self, peer: PeerId, timeout: Duration) -> Result<Duration> {
        self.wait_for("a ping result", timeout, |ev| match ev {
            PeerEvent::Ping { peer: p, rtt } if *p == peer => Some(rtt.clone()),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("ping with {peer} failed: {e}"))
    }

    /// Waits for identify info from `peer`. Fails on an identify error.
    pub async fn wait_identified(
        &mut self,
        peer: PeerId,
        timeout: Duration,
    ) -> Result<identify::Info> {
        self.wait_for("identify info", timeout, |ev| match ev {
            PeerEvent::Identified { peer: p, info } if *p == peer => Some(Ok((**info).clone())),
            PeerEvent::IdentifyError { peer: p, error } if *p == peer => Some(Err(error.clone())),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("identify of {peer} failed: {e}"))
    }

    /// Waits for a ping with `node` (RTT under 5 s) and its identify info, whose key must be `node`'s and
    /// whose protocols must include each of `protocols`; returns the info.
    pub async fn expect_ping_and_identify(
        &mut self,
        node: PeerId,
        timeout: Duration,
        protocols: &[&str],
    ) -> Result<identify::Info> {
        let rtt = self.wait_ping(node, timeout).await?;
        ensure!(rtt < Duration::from_secs(5), "implausible RTT {rtt:?}");
        let info = self.wait_identified(node, timeout).await?;
        ensure!(
            info.public_key.to_peer_id() == node,
            "identify public key does not match the peer id"
        );
        for want in protocols {
            ensure!(
                info.protocols.iter().any(|p| p.as_ref() == *want),
                "identify protocols {:?} lack {want}",
                info.protocols
            );
        }
        Ok(info)
    }

    /// Waits for the perf server to finish a run for `peer`.
    pub async fn wait_perf_served(&mut self, peer: PeerId, timeout: Duration) -> Result<PerfStats> {
        self.wait_for("a served perf run", timeout, |ev| match ev {
            PeerEvent::PerfServed { peer: p, stats } if *p == peer => Some(stats.clone()),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("perf server run for {peer} failed: {e}"))
    }

    /// Everything seen so far (pulls pending events first).
    pub fn history(&mut self) -> &[PeerEvent] {
        while let Ok(ev) = self.events.try_recv() {
            self.history.push(ev);
        }
        &self.history
    }

    /// Runs a perf client over a new `/perf/1.0.0` stream to `peer` (connected or dialable).
    pub async fn perf(&self, peer: PeerId, upload: u64, download: u64) -> Result<PerfStats> {
        let stream = self.open(peer, PERF_PROTOCOL).await?;
        Ok(perf::client(stream, upload, download).await?)
    }

    /// Opens a stream for `protocol` to `peer` (which must be connected or dialable).
    pub async fn open(&self, peer: PeerId, protocol: &str) -> Result<Stream> {
        let proto = StreamProtocol::try_from_owned(protocol.to_string())
            .map_err(|e| anyhow!("protocol {protocol:?}: {e}"))?;
        self.control
            .clone()
            .open_stream(peer, proto)
            .await
            .map_err(|e| anyhow!("rust opening {protocol} to {peer}: {e}"))
    }

    /// A handle for opening streams from other tasks.
    pub fn control(&self) -> libp2p_stream::Control {
        self.control.clone()
    }

    /// Accepts inbound streams of every protocol in `protocols`; returns the channel they all arrive on
    /// as `(protocol, remote, stream)`. libp2p-stream hands them over through a channel with one slot per
    /// protocol and resets a stream that finds it full, so each protocol is drained at once.
    pub fn accept(
        &mut self,
        protocols: &[String],
    ) -> Result<mpsc::UnboundedReceiver<(String, PeerId, Stream)>> {
        let (tx, rx) = mpsc::unbounded_channel();
        for p in protocols {
            let proto = StreamProtocol::try_from_owned(p.clone())
                .map_err(|e| anyhow!("protocol {p:?}: {e}"))?;
            let mut incoming = self
                .control
                .accept(proto)
                .map_err(|e| anyhow!("registering {p}: {e}"))?;
            let tx = tx.clone();
            let name = p.clone();
            self.tasks.push(tokio::spawn(async move {
                while let Some((peer, stream)) = incoming.next().await {
                    if tx.send((name.clone(), peer, stream)).is_err() {
                        return;
                    }
                }
            }));
        }
        Ok(rx)
    }
}

/// Serves every inbound `/perf/1.0.0` stream in its own task and reports the result.
async fn perf_server(
    mut incoming: libp2p_stream::IncomingStreams,
    events: mpsc::UnboundedSender<PeerEvent>,
) {
    while let Some((peer, stream)) = incoming.next().await {
        let events = events.clone();
        tokio::spawn(async move {
            let stats = perf::serve(stream).await.map_err(|e| e.to_string());
            let _ = events.send(PeerEvent::PerfServed { peer, stats });
        });
    }
}

/// The swarm loop: executes commands and forwards the interesting events.
async fn run_swarm(
    swarm: &mut Swarm<Behaviour>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<PeerEvent>,
) {
    let mut pending_listen: Vec<oneshot::Sender<Result<Multiaddr>>> = Vec::new();
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None => return,
                Some(Command::Listen(addr, reply)) => match swarm.listen_on(addr) {
                    Ok(_) => pending_listen.push(reply),
                    Err(e) => { let _ = reply.send(Err(anyhow!("listen_on: {e}"))); }
                },
                Some(Command::Dial(addr, reply)) => {
                    let _ = reply.send(swarm.dial(addr).map_err(|e| anyhow!("dial: {e}")));
                }
            },
            ev = swarm.select_next_some() => {
                if let SwarmEvent::NewListenAddr { address, .. } = &ev {
                    for reply in pending_listen.drain(..) {
                        let _ = reply.send(Ok(address.clone()));
                    }
                }
                if let Some(ev) = translate(ev) {
                    let _ = events.send(ev);
                }
            }
        }
    }
}

/// Maps a swarm event to a [`PeerEvent`] (None for the uninteresting ones).
fn translate(ev: SwarmEvent<BehaviourEvent>) -> Option<PeerEvent> {
    Some(match ev {
        SwarmEvent::ConnectionEstablished {
            peer_id, endpoint, ..
        } => {
            let (dialer, addr) = match endpoint {
                ConnectedPoint::Dialer { address, .. } => (true, address),
                ConnectedPoint::Listener { send_back_addr, .. } => (false, send_back_addr),
            };
            PeerEvent::Connected {
                peer: peer_id,
                dialer,
                addr,
            }
        }
        SwarmEvent::ConnectionClosed { peer_id, cause, .. } => PeerEvent::Closed {
            peer: peer_id,
            cause: cause.map(|c| c.to_string()),
        },
        SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => PeerEvent::DialFailed {
            peer: peer_id,
            error: error.to_string(),
        },
        SwarmEvent::IncomingConnectionError { error, .. } => PeerEvent::IncomingFailed {
            error: error.to_string(),
        },
        SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { peer, result, .. })) => {
            PeerEvent::Ping {
                peer,
                rtt: result.map_err(|e| e.to_string()),
            }
        }
        SwarmEvent::Behaviour(BehaviourEvent::Identify(ev)) => match ev {
            identify::Event::Received { peer_id, info, .. } => PeerEvent::Identified {
                peer: peer_id,
                info: Box::new(info),
            },
            identify::Event::Sent { peer_id, .. } => PeerEvent::IdentifySent { peer: peer_id },
            identify::Event::Error { peer_id, error, .. } => PeerEvent::IdentifyError {
                peer: peer_id,
                error: error.to_string(),
            },
            identify::Event::Pushed { .. } => return None,
        },
        _ => return None,
    })
}
