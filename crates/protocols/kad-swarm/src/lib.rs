//! `chainp2p-kad-swarm`: Kademlia on the swarm, the glue between a
//! [`chainp2p_kad::KadNode`] and the swarm's connections. It lives beside kad, not in the
//! swarm, so a swarm without a DHT compiles neither kad nor its store.
//!
//! - [`SwarmNetwork`]: the node's [`KadNetwork`]: a kad request to a peer reuses the live
//!   connection or dials the peer's known addresses, then opens a substream negotiated for the
//!   kad protocol (`tcp -> multistream -> security -> multistream -> muxer -> multistream -> kad`).
//! - [`BuildWithKad::build_with_kad`] (on [`SwarmBuilder`]): registers the node's [`chainp2p_kad::KadHandler`] among the
//!   application protocols (server mode only: a client neither serves nor advertises kad) and
//!   starts the task that feeds the routing table: every new connection is identified
//!   (`/ipfs/id/1.0.0`) and the peer enters the table only if its identify lists our kad
//!   protocol id; a closed connection marks it disconnected; new listen addresses become the
//!   addresses we announce in ADD_PROVIDER. The feeder reads the swarm's lossless event feed
//!   ([`Swarm::observe`]) and runs, with the liveness checks of the routing table, as a task
//!   of the swarm ([`Swarm::spawn`]).
//!
//! [`KadService::dial`] dials a peer and puts it in the routing table before it returns (when
//! the peer serves kad), so `service.dial(addr).await?; node.put_value(k, v).await` stores at
//! that peer; after a bare [`Swarm::dial`] the peer enters the table only once the feeder's
//! identify exchange is over (a few hundred milliseconds later).
//!
//! A DHT of full nodes in one process (every node a swarm with this glue, over the in-memory
//! transport) is the `dht-swarm-sim` example: `cargo run --release -p chainp2p-kad-swarm
//! --example dht-swarm-sim -- --nodes 1000 --seed 42`; its 50-node version is the `dht_sim`
//! test.
//!
//! Two DHT nodes on loopback: the second bootstraps from the first, puts a record, and the
//! first holds it:
//!
//! ```
//! use chainp2p_kad_swarm::{BuildWithKad, KadOptions};
//! use chainp2p_swarm::{identity::Keypair, SwarmBuilder};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (seed, seed_kad) = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .build_with_kad(KadOptions::default())?;
//! let seed_addr = seed.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
//! let (node, kad) = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .build_with_kad(KadOptions::default())?;
//! node.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
//!
//! kad.node().bootstrap(vec![(seed.local_peer_id(), vec![seed_addr])]).await?;
//! assert_eq!(kad.node().routing_table_len(), 1);
//! let stored = kad.node().put_value(b"/v/colour".to_vec(), b"blue".to_vec()).await?;
//! assert_eq!(stored, 1); // at the seed, the one other server
//! let record = seed_kad.node().get_value(b"/v/colour".to_vec(), 1).await?;
//! assert_eq!(record.map(|r| r.value), Some(b"blue".to_vec()));
//! # Ok(()) }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::{BoxStream, ChainError, StreamHandler};
use chainp2p_kad::{
    Config, DefaultValidator, IpfsValidator, KadError, KadNetwork, KadNode, MemoryStore, Mode,
    NodeParams, RecordStore, RecordValidator,
};
use chainp2p_swarm::{Direction, Swarm, SwarmBuilder, SwarmEvent, WeakSwarm};
use futures::future::BoxFuture;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

pub use chainp2p_kad as kad;

/// Bound on one identify exchange of the routing-table feeder.
const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the DHT node needs besides the swarm: its settings, mode, store and validator.
pub struct KadOptions {
    /// Every setting of the node (protocol id, k, alpha, timeouts, limits, maintenance; also
    /// the addresses dialed per peer, [`Config::with_max_dial_addrs`]).
    pub config: Config,
    /// Server (serves and advertises kad) or client (queries only).
    pub mode: Mode,
    /// Where records and provider records live (`None`: a fresh [`MemoryStore`] with
    /// [`Config::store_config`]; a store given here must have been opened with it).
    pub store: Option<Arc<dyn RecordStore>>,
    /// The record validator (`None`: [`DefaultValidator`], or with
    /// [`Config::with_ipfs_records`] an [`IpfsValidator`] refusing every namespace but `/pk/`
    /// and `/ipns/`).
    pub validator: Option<Arc<dyn RecordValidator>>,
}

impl Default for KadOptions {
    /// `/ipfs/kad/1.0.0`, server mode, in-memory store, default validator and limits.
    fn default() -> Self {
        KadOptions {
            config: Config::default(),
            mode: Mode::Server,
            store: None,
            validator: None,
        }
    }
}

/// The [`KadNetwork`] of a node running on a [`Swarm`]. Holds the swarm weakly (the swarm holds
/// the node through its kad handler).
pub struct SwarmNetwork {
    swarm: OnceLock<WeakSwarm>,
    protocol: String,
    max_dial_addrs: usize,
}

impl SwarmNetwork {
    fn swarm(&self) -> Result<Swarm, KadError> {
        self.swarm
            .get()
            .and_then(WeakSwarm::upgrade)
            .ok_or_else(|| KadError::Io(std::io::Error::other("the swarm is gone")))
    }
}

#[async_trait]
impl KadNetwork for SwarmNetwork {
    async fn open_stream(&self, peer: &PeerId, addrs: &[Multiaddr]) -> Result<BoxStream, KadError> {
        let swarm = self.swarm()?;
        let conn = match swarm.connection(peer) {
            Some(conn) => conn,
            None => dial_any(&swarm, peer, addrs, self.max_dial_addrs).await?,
        };
        conn.open_stream(&self.protocol)
            .await
            .map_err(|e| KadError::Io(e.into_io()))
    }

    /// The node's background tasks (liveness checks) are tasks of the swarm.
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        match self.swarm() {
            Ok(swarm) => {
                swarm.spawn(task);
            }
            Err(_) => tracing::debug!("kad task dropped: the swarm is gone"),
        }
    }
}

/// Dials `peer` at the first of `addrs` that works (each with `/p2p/<peer>`), trying at most
/// `max` of them.
async fn dial_any(
    swarm: &Swarm,
    peer: &PeerId,
    addrs: &[Multiaddr],
    max: usize,
) -> Result<chainp2p_swarm::Connection, KadError> {
    let mut last = None;
    for addr in addrs.iter().take(max) {
        let full = with_peer(addr, peer);
        match swarm.dial(&full).await {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                tracing::debug!(%peer, addr = %full, error = %e, "kad dial failed");
                last = Some(e);
            }
        }
    }
    Err(KadError::Io(match last {
        Some(e) => e.into_io(),
        None => std::io::Error::other(format!("no address known for {peer}")),
    }))
}

/// `addr` ending in `/p2p/<peer>` (added unless already there).
fn with_peer(addr: &Multiaddr, peer: &PeerId) -> Multiaddr {
    match addr.iter().last() {
        Some(Protocol::P2p(_)) => addr.clone(),
        _ => addr.clone().with(Protocol::P2p(*peer)),
    }
}

/// `addr` without a trailing `/p2p/…`.
fn without_peer(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

/// Why [`KadService::dial`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// The swarm the service runs on is gone.
    #[error("the swarm is gone")]
    SwarmGone,
    /// The dial, or the identify exchange after it, failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The identify exchange did not finish in time.
    #[error("identify of {0} timed out")]
    IdentifyTimeout(PeerId),
    /// The peer does not list our kad protocol in its identify (it did not enter the table).
    #[error("{peer} does not serve the kad protocol {protocol} (it serves: {})", served.join(", "))]
    NotKadServer {
        /// The peer dialed.
        peer: PeerId,
        /// Our kad protocol id.
        protocol: String,
        /// What its identify lists.
        served: Vec<String>,
    },
}

/// A running DHT node on a swarm. Dropping it stops feeding the routing table (the node keeps
/// serving requests while the swarm lives).
pub struct KadService {
    node: KadNode,
    network: Arc<SwarmNetwork>,
    feeder: JoinHandle<()>,
}

impl KadService {
    /// The DHT node: lookups, records, providers, its routing table.
    pub fn node(&self) -> &KadNode {
        &self.node
    }

    /// Dials `addr` (reusing a live connection), identifies the peer and, if it serves our kad
    /// protocol, puts it in the routing table before returning its id: a lookup, put or
    /// provide started afterwards reaches it (no race with the feeder's own identify). Fails
    /// with [`DialError::NotKadServer`] if its identify does not list our protocol.
    pub async fn dial(&self, addr: &Multiaddr) -> Result<PeerId, DialError> {
        let swarm = self.network.swarm().map_err(|_| DialError::SwarmGone)?;
        let conn = swarm.dial(addr).await?;
        let peer = conn.peer_id();
        let info = match tokio::time::timeout(IDENTIFY_TIMEOUT, conn.identify()).await {
            Ok(info) => info?,
            Err(_) => return Err(DialError::IdentifyTimeout(peer)),
        };
        let dialed = conn.remote_addr().clone();
        let addrs = dialable(
            &swarm,
            std::iter::once(&dialed).chain(info.listen_addrs.iter()),
        );
        let protocols = served_protocols(info);
        if !protocols.iter().any(|p| *p == self.network.protocol) {
            return Err(DialError::NotKadServer {
                peer,
                protocol: self.network.protocol.clone(),
                served: protocols,
            });
        }
        let outcome = self
            .node
            .on_peer_identified(peer, &addrs, &protocols, Instant::now());
        tracing::debug!(%peer, ?outcome, "kad: dialed peer entered the routing table");
        Ok(peer)
    }
}

impl Drop for KadService {
    fn drop(&mut self) {
        self.feeder.abort();
    }
}

/// Puts a Kademlia node on a swarm: `SwarmBuilder::new(key).build_with_kad(opts)`.
pub trait BuildWithKad {
    /// Builds the swarm with a Kademlia node on it. In [`Mode::Server`] the node's handler
    /// serves (and identify advertises) the kad protocol; in [`Mode::Client`] it only queries.
    /// Must be called within a tokio runtime (it spawns the task that feeds the routing table
    /// from identify).
    fn build_with_kad(self, opts: KadOptions) -> Result<(Swarm, KadService), ChainError>;
}

impl BuildWithKad for SwarmBuilder {
    fn build_with_kad(self, opts: KadOptions) -> Result<(Swarm, KadService), ChainError> {
        let network = Arc::new(SwarmNetwork {
            swarm: OnceLock::new(),
            protocol: opts.config.protocol_id().to_owned(),
            max_dial_addrs: opts.config.max_dial_addrs(),
        });
        let local = self.local_peer_id();
        let store = opts
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new(Some(local), opts.config.store_config())));
        let validator = opts.validator.unwrap_or_else(|| {
            if opts.config.ipfs_records() {
                Arc::new(IpfsValidator {
                    only_ipfs_namespaces: true,
                })
            } else {
                Arc::new(DefaultValidator)
            }
        });
        let node = KadNode::new(NodeParams {
            local,
            listen_addrs: Vec::new(),
            config: opts.config,
            mode: opts.mode,
            store,
            validator,
            network: network.clone(),
        })?;
        let builder = match opts.mode {
            Mode::Server => {
                let handler = node.handler()?;
                self.protocol(Arc::new(handler) as Arc<dyn StreamHandler>)
            }
            Mode::Client => self,
        };
        let swarm = builder.build();
        let _ = network.swarm.set(swarm.downgrade());
        let feeder = swarm.spawn(feed_routing_table(swarm.clone(), node.clone()));
        Ok((
            swarm,
            KadService {
                node,
                network,
                feeder,
            },
        ))
    }
}

/// Follows the swarm's events for the node: identify each new connection, apply identify
/// pushes (a peer switching kad on or off), record closes and listen addresses.
async fn feed_routing_table(swarm: Swarm, node: KadNode) {
    let mut events = swarm.observe();
    let mut pushes = swarm.identify_pushes();
    let weak = swarm.downgrade();
    drop(swarm);
    loop {
        let event = tokio::select! {
            e = events.recv() => match e {
                Some(e) => Some(e),
                None => break,
            },
            p = pushes.recv() => match p {
                Ok(push) => {
                    if let Some(swarm) = weak.upgrade() {
                        apply_push(&swarm, &node, push);
                    }
                    None
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "kad: identify pushes missed");
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
        };
        let Some(event) = event else { continue };
        let Some(swarm) = weak.upgrade() else {
            break;
        };
        match event {
            SwarmEvent::Listening { .. } => node.set_listen_addrs(swarm.listen_addrs()),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                direction,
                remote_addr,
                ..
            } => {
                let node = node.clone();
                let dialed = match direction {
                    Direction::Outbound => Some(remote_addr),
                    Direction::Inbound => None,
                };
                let task = swarm.clone();
                task.spawn(async move { identify_peer(swarm, node, peer_id, dialed).await });
            }
            SwarmEvent::ConnectionClosed { peer_id, .. }
                if swarm.connection(&peer_id).is_none() =>
            {
                node.on_peer_disconnected(&peer_id);
            }
            _ => {}
        }
    }
}

/// An identify push that lists protocols re-decides the peer's place in the routing table.
fn apply_push(swarm: &Swarm, node: &KadNode, push: chainp2p_identify::PushEvent) {
    let Some(peer) = push.peer else { return };
    if push.push.protocols.is_empty() {
        if !push.push.listen_addrs.is_empty() {
            node.add_address(peer, &dialable(swarm, &push.push.listen_addrs));
        }
        return;
    }
    let mut addrs = dialable(swarm, &push.push.listen_addrs);
    if addrs.is_empty() {
        addrs = node.addrs_of(&peer);
    }
    let outcome = node.on_peer_identified(peer, &addrs, &push.push.protocols, Instant::now());
    tracing::debug!(%peer, ?outcome, "kad: identify push applied");
}

/// The addresses among `addrs` the swarm can dial, without `/p2p/`, deduplicated, in order.
fn dialable<'a>(swarm: &Swarm, addrs: impl IntoIterator<Item = &'a Multiaddr>) -> Vec<Multiaddr> {
    let mut out: Vec<Multiaddr> = Vec::new();
    for a in addrs {
        let a = without_peer(a);
        if is_dialable(&a) && swarm.can_dial(&a) && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Asks `peer` for its identify info and offers it to the routing table. `dialed`: the address
/// we reached it at (listed first: it is known to work).
async fn identify_peer(swarm: Swarm, node: KadNode, peer: PeerId, dialed: Option<Multiaddr>) {
    let work = swarm.identify(&peer);
    let info = match tokio::time::timeout(IDENTIFY_TIMEOUT, work).await {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "kad: identify failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "kad: identify timed out");
            return;
        }
    };
    let addrs = dialable(&swarm, dialed.iter().chain(info.listen_addrs.iter()));
    let protocols = served_protocols(info);
    let outcome = node.on_peer_identified(peer, &addrs, &protocols, Instant::now());
    tracing::debug!(%peer, ?outcome, addrs = addrs.len(), "kad: peer identified");
}

/// The protocols a peer serves, from its identify: what it lists, or for c-ipfs, whose
/// identify lists none (c-libp2p `identify/identify.c` sends only its key, protocolVersion and
/// agentVersion), the Kademlia protocol every c-ipfs node registers (`core/ipfs_node.c`).
fn served_protocols(info: chainp2p_identify::IdentifyInfo) -> Vec<String> {
    if info.protocols.is_empty() && info.agent_version.starts_with(C_IPFS_AGENT) {
        return vec![chainp2p_kad::DEFAULT_PROTOCOL.to_owned()];
    }
    info.protocols
}

/// How c-ipfs's identify agentVersion starts (`c-ipfs/1.0`).
const C_IPFS_AGENT: &str = "c-ipfs/";

/// Whether `addr` could be dialed by anybody: not an unspecified IP (`0.0.0.0`, `::`), not a
/// memory port 0. Whether our swarm has a transport for it is [`Swarm::can_dial`].
fn is_dialable(addr: &Multiaddr) -> bool {
    match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => !ip.is_unspecified(),
        Some(Protocol::Ip6(ip)) => !ip.is_unspecified(),
        Some(Protocol::Memory(port)) => port != 0,
        Some(_) => true,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(agent: &str, protocols: &[&str]) -> chainp2p_identify::IdentifyInfo {
        chainp2p_identify::IdentifyInfo {
            public_key: chainp2p_core::identity::Keypair::generate_ed25519().public(),
            protocol_version: "ipfs/0.1.0".into(),
            agent_version: agent.into(),
            listen_addrs: Vec::new(),
            protocols: protocols.iter().map(|p| (*p).to_owned()).collect(),
            observed_addr: None,
            signed_peer_record: None,
        }
    }

    #[test]
    fn c_ipfs_listing_no_protocols_serves_kad() {
        assert_eq!(chainp2p_kad::DEFAULT_PROTOCOL, "/ipfs/kad/1.0.0");
        for agent in ["c-ipfs/1.0", "c-ipfs/0.0.1-dev"] {
            assert_eq!(
                served_protocols(info(agent, &[])),
                vec!["/ipfs/kad/1.0.0".to_owned()],
                "{agent}"
            );
        }
    }

    #[test]
    fn served_protocols_are_the_listed_ones_otherwise() {
        // Other agents listing nothing serve nothing (not even "c-ipfs" without its slash).
        for agent in [
            "go-ipfs/0.4.23",
            "rust-libp2p/0.57.0",
            "",
            "c-ipfs",
            "my-c-ipfs/1.0",
        ] {
            assert!(served_protocols(info(agent, &[])).is_empty(), "{agent:?}");
        }
        // A list is taken as it is, from c-ipfs too.
        for agent in ["c-ipfs/1.0", "go-ipfs/0.4.23"] {
            assert_eq!(
                served_protocols(info(agent, &["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"])),
                vec!["/ipfs/id/1.0.0".to_owned(), "/ipfs/ping/1.0.0".to_owned()],
                "{agent}"
            );
        }
    }

    #[test]
    fn dialable_addresses_have_a_specified_host() {
        for ok in [
            "/ip4/127.0.0.1/tcp/4001",
            "/memory/7",
            "/dns4/example.org/tcp/1",
        ] {
            assert!(is_dialable(&ok.parse().unwrap()), "{ok}");
        }
        for bad in ["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/1", "/memory/0"] {
            assert!(!is_dialable(&bad.parse().unwrap()), "{bad}");
        }
    }

    #[tokio::test]
    async fn only_addresses_of_the_swarms_transports_are_kept() {
        let swarm =
            SwarmBuilder::new(chainp2p_swarm::identity::Keypair::generate_ed25519()).build();
        let addrs: Vec<Multiaddr> = [
            "/ip4/127.0.0.1/tcp/4001",
            "/ip4/127.0.0.1/udp/4001/quic-v1",
            "/ip4/127.0.0.1/tcp/4001/ws",
            "/ip4/0.0.0.0/tcp/4001",
            "/ip4/127.0.0.1/tcp/4001",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let kept = dialable(&swarm, &addrs);
        assert_eq!(
            kept,
            vec!["/ip4/127.0.0.1/tcp/4001".parse::<Multiaddr>().unwrap()]
        );
    }

    #[test]
    fn peer_suffix_added_once_and_removed() {
        let peer = PeerId::random();
        let a: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let full = with_peer(&a, &peer);
        assert_eq!(with_peer(&full, &peer), full);
        assert_eq!(without_peer(&full), a);
    }
}
