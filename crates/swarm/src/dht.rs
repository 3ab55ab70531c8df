//! Kademlia on the swarm: the glue between a [`chainp2p_kad::node::KadNode`] and the connections.
//!
//! - [`SwarmNetwork`]: the node's [`KadNetwork`]: a kad request to a peer reuses the live
//!   connection or dials the peer's known addresses, then opens a substream negotiated for the
//!   kad protocol (`tcp -> multistream -> security -> multistream -> muxer -> multistream -> kad`).
//! - [`SwarmBuilder::build_with_kad`]: registers the node's [`chainp2p_kad::handler::KadHandler`] among the
//!   application protocols (server mode only: a client neither serves nor advertises kad) and
//!   starts the task that feeds the routing table: every new connection is identified
//!   (`/ipfs/id/1.0.0`) and the peer enters the table only if its identify lists our kad
//!   protocol id; a closed connection marks it disconnected; new listen addresses become the
//!   addresses we announce in ADD_PROVIDER.

use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::{BoxStream, ChainError, StreamHandler};
use chainp2p_kad::error::KadError;
use chainp2p_kad::node::{KadNetwork, KadNode, Mode, NodeParams};
use chainp2p_kad::query::QueryConfig;
use chainp2p_kad::routing::RoutingConfig;
use chainp2p_kad::store::{DefaultValidator, MemoryStore, RecordStore, RecordValidator};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::builder::SwarmBuilder;
use crate::event::SwarmEvent;
use crate::node::{Inner, Swarm};

/// Addresses of one peer tried per request, in order (the rest are ignored).
const MAX_DIAL_ADDRS: usize = 4;
/// Bound on one identify exchange of the routing-table feeder.
const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the DHT node needs besides the swarm: wire, routing and lookup settings, mode,
/// store and validator.
pub struct KadOptions {
    /// Wire settings (protocol id, message limits, timeouts).
    pub kad: chainp2p_kad::config::KadConfig,
    /// Routing-table settings.
    pub routing: RoutingConfig,
    /// Lookup settings (alpha, beta, k).
    pub query: QueryConfig,
    /// Server (serves and advertises kad) or client (queries only).
    pub mode: Mode,
    /// Where records and provider records live (`None`: a fresh [`MemoryStore`]).
    pub store: Option<Arc<dyn RecordStore>>,
    /// The record validator (`None`: [`DefaultValidator`]).
    pub validator: Option<Arc<dyn RecordValidator>>,
}

impl Default for KadOptions {
    /// `/ipfs/kad/1.0.0`, server mode, in-memory store, default validator and limits.
    fn default() -> Self {
        KadOptions {
            kad: chainp2p_kad::config::KadConfig::default(),
            routing: RoutingConfig::default(),
            query: QueryConfig::default(),
            mode: Mode::Server,
            store: None,
            validator: None,
        }
    }
}

/// The [`KadNetwork`] of a node running on a [`Swarm`]. Holds the swarm weakly (the swarm holds
/// the node through its kad handler).
pub struct SwarmNetwork {
    swarm: OnceLock<Weak<Inner>>,
    protocol: String,
}

impl SwarmNetwork {
    fn swarm(&self) -> Result<Swarm, KadError> {
        self.swarm
            .get()
            .and_then(Weak::upgrade)
            .map(Swarm::from_inner)
            .ok_or_else(|| KadError::Io(std::io::Error::other("the swarm is gone")))
    }
}

#[async_trait]
impl KadNetwork for SwarmNetwork {
    async fn open_stream(&self, peer: &PeerId, addrs: &[Multiaddr]) -> Result<BoxStream, KadError> {
        let swarm = self.swarm()?;
        let conn = match swarm.connection(peer) {
            Some(conn) => conn,
            None => dial_any(&swarm, peer, addrs).await?,
        };
        conn.open_stream(&self.protocol)
            .await
            .map_err(|e| KadError::Io(std::io::Error::other(e)))
    }
}

/// Dials `peer` at the first of `addrs` that works (each with `/p2p/<peer>`).
async fn dial_any(
    swarm: &Swarm,
    peer: &PeerId,
    addrs: &[Multiaddr],
) -> Result<crate::Connection, KadError> {
    let mut last = None;
    for addr in addrs.iter().take(MAX_DIAL_ADDRS) {
        let full = with_peer(addr, peer);
        match swarm.dial(&full).await {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                tracing::debug!(%peer, addr = %full, error = %e, "kad dial failed");
                last = Some(e);
            }
        }
    }
    Err(KadError::Io(std::io::Error::other(match last {
        Some(e) => e.to_string(),
        None => format!("no address known for {peer}"),
    })))
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

/// A running DHT node on a swarm. Dropping it stops feeding the routing table (the node keeps
/// serving requests while the swarm lives).
pub struct KadService {
    node: KadNode,
    feeder: JoinHandle<()>,
}

impl KadService {
    /// The DHT node: lookups, records, providers, its routing table.
    pub fn node(&self) -> &KadNode {
        &self.node
    }
}

impl Drop for KadService {
    fn drop(&mut self) {
        self.feeder.abort();
    }
}

impl SwarmBuilder {
    /// Builds the swarm with a Kademlia node on it. In [`Mode::Server`] the node's handler
    /// serves (and identify advertises) the kad protocol; in [`Mode::Client`] it only queries.
    /// Must be called within a tokio runtime (it spawns the task that feeds the routing table
    /// from identify).
    pub fn build_with_kad(self, opts: KadOptions) -> Result<(Swarm, KadService), ChainError> {
        let network = Arc::new(SwarmNetwork {
            swarm: OnceLock::new(),
            protocol: opts.kad.protocol_id.clone(),
        });
        let local = self.keypair.public().to_peer_id();
        let store = opts
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new(Some(local), Default::default())));
        let node = KadNode::new(NodeParams {
            local,
            listen_addrs: Vec::new(),
            kad: opts.kad,
            routing: opts.routing,
            query: opts.query,
            mode: opts.mode,
            store,
            validator: opts.validator.unwrap_or_else(|| Arc::new(DefaultValidator)),
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
        let feeder = tokio::spawn(feed_routing_table(swarm.clone(), node.clone()));
        Ok((swarm, KadService { node, feeder }))
    }
}

/// Follows the swarm's events for the node: identify each new connection, apply identify
/// pushes (a peer switching kad on or off), record closes and listen addresses.
async fn feed_routing_table(swarm: Swarm, node: KadNode) {
    let mut events = swarm.subscribe();
    let mut pushes = swarm.identify_pushes();
    let weak = swarm.downgrade();
    drop(swarm);
    loop {
        let event = tokio::select! {
            e = events.recv() => match e {
                Ok(e) => Some(e),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "kad: swarm events missed");
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
            p = pushes.recv() => match p {
                Ok(push) => {
                    apply_push(&node, push);
                    None
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        };
        let Some(event) = event else { continue };
        let Some(swarm) = weak.upgrade().map(Swarm::from_inner) else {
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
                    crate::Direction::Outbound => Some(remote_addr),
                    crate::Direction::Inbound => None,
                };
                tokio::spawn(async move { identify_peer(swarm, node, peer_id, dialed).await });
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } => {
                if swarm.connection(&peer_id).is_none() {
                    node.on_peer_disconnected(&peer_id);
                }
            }
            SwarmEvent::IncomingConnectionError { .. } => {}
        }
    }
}

/// An identify push that lists protocols re-decides the peer's place in the routing table.
fn apply_push(node: &KadNode, push: chainp2p_identify::PushEvent) {
    let Some(peer) = push.peer else { return };
    if push.push.protocols.is_empty() {
        if !push.push.listen_addrs.is_empty() {
            node.add_address(peer, &dialable(&push.push.listen_addrs));
        }
        return;
    }
    let mut addrs = dialable(&push.push.listen_addrs);
    if addrs.is_empty() {
        addrs = node.addrs_of(&peer);
    }
    let outcome = node.on_peer_identified(peer, &addrs, &push.push.protocols, Instant::now());
    tracing::debug!(%peer, ?outcome, "kad: identify push applied");
}

/// The dialable addresses among `addrs`, without `/p2p/`, deduplicated, in order.
fn dialable<'a>(addrs: impl IntoIterator<Item = &'a Multiaddr>) -> Vec<Multiaddr> {
    let mut out: Vec<Multiaddr> = Vec::new();
    for a in addrs {
        let a = without_peer(a);
        if is_dialable(&a) && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Asks `peer` for its identify info and offers it to the routing table. `dialed`: the address
/// we reached it at (listed first: it is known to work).
async fn identify_peer(swarm: Swarm, node: KadNode, peer: PeerId, dialed: Option<Multiaddr>) {
    let work = async {
        let mut stream = swarm
            .open_stream(&peer, chainp2p_identify::PROTOCOL)
            .await?;
        chainp2p_identify::request(&mut stream, Some(&peer)).await
    };
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
    let addrs = dialable(dialed.iter().chain(info.listen_addrs.iter()));
    let outcome = node.on_peer_identified(peer, &addrs, &info.protocols, Instant::now());
    tracing::debug!(%peer, ?outcome, addrs = addrs.len(), "kad: peer identified");
}

/// Whether we could dial `addr` (TCP over IP or DNS, not an unspecified IP).
fn is_dialable(addr: &Multiaddr) -> bool {
    let mut it = addr.iter();
    let host_ok = match it.next() {
        Some(Protocol::Ip4(ip)) => !ip.is_unspecified(),
        Some(Protocol::Ip6(ip)) => !ip.is_unspecified(),
        Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)) => true,
        _ => false,
    };
    host_ok && matches!(it.next(), Some(Protocol::Tcp(_))) && it.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialable_addresses_are_tcp_over_a_specified_host() {
        let ok: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert!(is_dialable(&ok));
        for bad in [
            "/ip4/0.0.0.0/tcp/4001",
            "/ip4/127.0.0.1/udp/4001/quic-v1",
            "/ip4/127.0.0.1/tcp/4001/ws",
            "/ip6/::/tcp/1",
        ] {
            assert!(!is_dialable(&bad.parse().unwrap()), "{bad}");
        }
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
