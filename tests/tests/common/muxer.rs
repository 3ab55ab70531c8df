//! Muxer interop harness: a rust-libp2p 0.57 peer whose muxer is chosen (`libp2p-yamux` 0.48 or
//! `libp2p-mplex` 0.44), and deterministic per-stream byte patterns checked without storing the data.
//!
//! [`MuxPeer`] runs TCP + noise + the chosen muxer with ping, identify, a `/perf/1.0.0` server and
//! `libp2p-stream` for any extra protocols. libp2p-stream hands inbound streams over through a channel
//! with **one** slot per protocol and drops (resets) a stream that finds it full, so concurrent inbound
//! streams must each use their own protocol id; every registered protocol is drained at once into
//! [`MuxPeer::next_inbound`].

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, PeerId, Stream, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::keypair_from_seed;
use super::perf::{self, PERF_PROTOCOL};
use super::rust_peer::{PeerEvent, RUST_PROTOCOL_VERSION};

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

/// The behaviour of the rust peer.
#[derive(NetworkBehaviour)]
struct Behaviour {
    ping: ping::Behaviour,
    identify: identify::Behaviour,
    stream: libp2p_stream::Behaviour,
}

/// Commands to the swarm task.
enum Command {
    Listen(Multiaddr, oneshot::Sender<Result<Multiaddr>>),
    Dial(Multiaddr, oneshot::Sender<Result<()>>),
}

/// A running rust-libp2p peer with a chosen muxer. Dropping it stops its tasks.
pub struct MuxPeer {
    /// Its PeerId.
    pub peer_id: PeerId,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    history: Vec<PeerEvent>,
    control: libp2p_stream::Control,
    inbound: mpsc::UnboundedReceiver<(String, PeerId, Stream)>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for MuxPeer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn build_swarm(seed: u64, muxer: RustMuxer) -> Result<Swarm<Behaviour>> {
    let keypair = keypair_from_seed(seed);
    let behaviour = |key: &libp2p::identity::Keypair| Behaviour {
        ping: ping::Behaviour::new(ping::Config::new()),
        identify: identify::Behaviour::new(identify::Config::new(
            RUST_PROTOCOL_VERSION.to_string(),
            key.public(),
        )),
        stream: libp2p_stream::Behaviour::new(),
    };
    let builder = libp2p::SwarmBuilder::with_existing_identity(keypair).with_tokio();
    // The two muxer upgrades have different types, hence two builder chains.
    Ok(match muxer {
        RustMuxer::Yamux => builder
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )?
            .with_behaviour(behaviour)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
            .build(),
        RustMuxer::Mplex => builder
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                libp2p_mplex::Config::default,
            )?
            .with_behaviour(behaviour)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
            .build(),
    })
}

impl MuxPeer {
    /// Builds the swarm from the `--seed` keypair, serves `/perf/1.0.0`, and accepts inbound streams of
    /// every protocol in `protocols` into [`MuxPeer::next_inbound`].
    pub fn spawn(seed: u64, muxer: RustMuxer, protocols: &[String]) -> Result<Self> {
        let mut swarm = build_swarm(seed, muxer)?;
        let peer_id = *swarm.local_peer_id();
        let mut control = swarm.behaviour().stream.new_control();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        let perf_incoming = control
            .accept(StreamProtocol::new(PERF_PROTOCOL))
            .map_err(|e| anyhow!("registering {PERF_PROTOCOL}: {e}"))?;
        tasks.push(tokio::spawn(perf_server(perf_incoming, ev_tx.clone())));
        for p in protocols {
            let proto = StreamProtocol::try_from_owned(p.clone())
                .map_err(|e| anyhow!("protocol {p:?}: {e}"))?;
            let mut incoming = control
                .accept(proto)
                .map_err(|e| anyhow!("registering {p}: {e}"))?;
            let tx = in_tx.clone();
            let name = p.clone();
            // Drain the one-slot libp2p-stream channel at once.
            tasks.push(tokio::spawn(async move {
                while let Some((peer, stream)) = incoming.next().await {
                    if tx.send((name.clone(), peer, stream)).is_err() {
                        return;
                    }
                }
            }));
        }
        tasks.push(tokio::spawn(async move {
            run_swarm(&mut swarm, cmd_rx, ev_tx).await
        }));
        Ok(Self {
            peer_id,
            commands: cmd_tx,
            events: ev_rx,
            history: Vec::new(),
            control,
            inbound: in_rx,
            tasks,
        })
    }

    /// Listens on `/ip4/127.0.0.1/tcp/0`; returns the bound address with `/p2p/<id>` appended.
    pub async fn listen(&mut self) -> Result<Multiaddr> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Listen("/ip4/127.0.0.1/tcp/0".parse()?, tx))
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
        self.wait_for("a connection", timeout, |ev| match ev {
            PeerEvent::Connected {
                peer: p, dialer, ..
            } if *p == peer => Some(Ok(*dialer)),
            PeerEvent::DialFailed { error, .. } => Some(Err(error.clone())),
            PeerEvent::IncomingFailed { error } => Some(Err(error.clone())),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("rust connection with {peer} failed: {e}"))
    }

    /// Waits for the first ping result with `peer` and returns the RTT.
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

    /// Waits for the perf server to finish a run for `peer`.
    pub async fn wait_perf_served(
        &mut self,
        peer: PeerId,
        timeout: Duration,
    ) -> Result<perf::PerfStats> {
        self.wait_for("a served perf run", timeout, |ev| match ev {
            PeerEvent::PerfServed { peer: p, stats } if *p == peer => Some(stats.clone()),
            _ => None,
        })
        .await?
        .map_err(|e| anyhow!("perf server run for {peer} failed: {e}"))
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

    /// Runs a perf client over a new `/perf/1.0.0` stream to `peer`.
    pub async fn perf(&self, peer: PeerId, upload: u64, download: u64) -> Result<perf::PerfStats> {
        let stream = self.open(peer, PERF_PROTOCOL).await?;
        Ok(perf::client(stream, upload, download).await?)
    }

    /// The next inbound stream of one of the extra protocols: `(protocol, remote, stream)`.
    pub async fn next_inbound(&mut self, timeout: Duration) -> Result<(String, PeerId, Stream)> {
        match tokio::time::timeout(timeout, self.inbound.recv()).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => bail!("rust inbound stream forwarders are gone"),
            Err(_) => bail!("no inbound stream on the rust peer within {timeout:?}"),
        }
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

/// Period of a [`Pattern`]: a prime, so a chunk delivered at the wrong offset never matches.
const PERIOD: usize = 65_521;

/// Size of one read or write on a pattern stream.
const IO_CHUNK: usize = 64 * 1024;

/// A deterministic byte stream distinct per seed: a pseudo-random block of [`PERIOD`] bytes, repeated.
/// Checked slice by slice as it arrives, so nothing is stored.
pub struct Pattern {
    block: Vec<u8>,
}

impl Pattern {
    /// The pattern of `seed` (splitmix64 output).
    pub fn new(seed: u64) -> Self {
        let mut state = seed ^ 0x5EED_5EED_5EED_5EED;
        let mut block = Vec::with_capacity(PERIOD + 8);
        while block.len() < PERIOD {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            block.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        block.truncate(PERIOD);
        Self { block }
    }

    /// Writes the first `len` bytes of the pattern (in chunks of up to 64 KiB); does not close.
    pub async fn write<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        w: &mut W,
        len: usize,
    ) -> std::io::Result<()> {
        let mut off = 0;
        while off < len {
            let pos = off % PERIOD;
            let n = (PERIOD - pos).min(len - off).min(IO_CHUNK);
            w.write_all(&self.block[pos..pos + n]).await?;
            off += n;
        }
        w.flush().await
    }

    /// Whether `data` equals the pattern at `offset`; on a mismatch returns the first bad offset.
    pub fn check(&self, offset: usize, data: &[u8]) -> Result<(), usize> {
        let mut done = 0;
        while done < data.len() {
            let pos = (offset + done) % PERIOD;
            let n = (PERIOD - pos).min(data.len() - done);
            let got = &data[done..done + n];
            let want = &self.block[pos..pos + n];
            if got != want {
                let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
                return Err(offset + done + i);
            }
            done += n;
        }
        Ok(())
    }

    /// Reads to EOF and checks that exactly the first `len` bytes of the pattern arrived.
    pub async fn expect<R: AsyncRead + Unpin + ?Sized>(&self, r: &mut R, len: usize) -> Result<()> {
        let mut buf = vec![0u8; IO_CHUNK];
        let mut total = 0usize;
        loop {
            let n = r
                .read(&mut buf)
                .await
                .with_context(|| format!("reading after {total} of {len} bytes"))?;
            if n == 0 {
                break;
            }
            if total + n > len {
                bail!(
                    "received more than the {len} bytes sent ({} so far)",
                    total + n
                );
            }
            if let Err(at) = self.check(total, &buf[..n]) {
                bail!("byte {at} of {len} differs from what was sent");
            }
            total += n;
        }
        if total != len {
            bail!("EOF after {total} of {len} bytes");
        }
        Ok(())
    }
}

/// Sends `send`'s first `len` bytes and closes the write half while reading `expect`'s first `len`
/// bytes to EOF, concurrently (neither direction waits for the other).
pub async fn exchange<S>(stream: S, send: &Pattern, expect: &Pattern, len: usize) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut r, mut w) = stream.split();
    let writer = async {
        send.write(&mut w, len).await.context("writing")?;
        w.close().await.context("closing the write half")?;
        anyhow::Ok(())
    };
    let reader = expect.expect(&mut r, len);
    // try_join: a failed read stops the writer too (else both peers could wait on flow control).
    futures::future::try_join(writer, reader).await?;
    Ok(())
}
