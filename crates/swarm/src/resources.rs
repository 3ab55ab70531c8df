//! The resource manager: every connection and substream of the swarm is admitted here against
//! [`ResourceLimits`] and holds a permit while it lives (dropping the permit gives the slot
//! back). Scopes as in go-libp2p: the system, inbound handshakes (transient) in total and per
//! IP address, each peer, each application protocol in total and per peer.
//!
//! A refusal is the newcomer's only: the caller closes that connection or resets that stream
//! (or fails that dial or open with `ErrorKind::LimitExceeded` naming the scope). Refusals are
//! counted and logged at most once per [`LOG_INTERVAL`] with how many there were, so a flood
//! does not flood the log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::{ChainError, ErrorKind, MemoryBudget};

use crate::limits::ResourceLimits;
use crate::node::lock;
use crate::LAYER;

/// Refusals are logged at most this often (with the count since the last line).
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// What the swarm holds now, and what it refused since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceUsage {
    /// Connections in every state (handshakes included).
    pub connections: usize,
    /// Inbound connections (handshakes included).
    pub inbound: usize,
    /// Inbound connections still in their handshake.
    pub pending: usize,
    /// Open substreams.
    pub streams: usize,
    /// Bytes the muxers' windows hold reserved.
    pub memory_reserved: u64,
    /// Connections refused by a limit.
    pub refused_connections: u64,
    /// Substreams refused by a limit.
    pub refused_streams: u64,
}

#[derive(Debug, Default)]
struct PeerUsage {
    connections: usize,
    streams: usize,
    protocols: HashMap<String, usize>,
    memory: u64,
}

impl PeerUsage {
    fn is_unused(&self) -> bool {
        self.connections == 0 && self.streams == 0 && self.protocols.is_empty() && self.memory == 0
    }
}

#[derive(Debug, Default)]
struct State {
    connections: usize,
    inbound: usize,
    pending: usize,
    pending_per_ip: HashMap<IpAddr, usize>,
    streams: usize,
    peers: HashMap<PeerId, PeerUsage>,
    protocols: HashMap<String, usize>,
    memory: u64,
}

impl State {
    /// Drops the entry of `peer` if nothing of it is left.
    fn forget_if_unused(&mut self, peer: &PeerId) {
        if self.peers.get(peer).is_some_and(PeerUsage::is_unused) {
            self.peers.remove(peer);
        }
    }
}

/// What a refusal refused (which counter it goes to).
#[derive(Debug, Clone, Copy)]
enum Refused {
    Connection,
    Stream,
}

/// Rate-limited refusal logging.
#[derive(Debug)]
struct RefusalLog {
    last: Option<Instant>,
    since_last: u64,
}

/// See the module docs. Shared by the swarm and every permit.
#[derive(Debug)]
pub(crate) struct ResourceManager {
    limits: ResourceLimits,
    state: Mutex<State>,
    refused_connections: AtomicU64,
    refused_streams: AtomicU64,
    log: Mutex<RefusalLog>,
}

/// The IP address of a connection's remote address, if it has one.
pub(crate) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

fn decrement(n: &mut usize) {
    *n = n.saturating_sub(1);
}

impl ResourceManager {
    pub(crate) fn new(limits: ResourceLimits) -> Arc<Self> {
        Arc::new(ResourceManager {
            limits,
            state: Mutex::new(State::default()),
            refused_connections: AtomicU64::new(0),
            refused_streams: AtomicU64::new(0),
            log: Mutex::new(RefusalLog {
                last: None,
                since_last: 0,
            }),
        })
    }

    /// The limits in force.
    pub(crate) fn limits(&self) -> &ResourceLimits {
        &self.limits
    }

    /// Usage now.
    pub(crate) fn usage(&self) -> ResourceUsage {
        let s = lock(&self.state);
        ResourceUsage {
            connections: s.connections,
            inbound: s.inbound,
            pending: s.pending,
            streams: s.streams,
            memory_reserved: s.memory,
            refused_connections: self.refused_connections.load(Ordering::Relaxed),
            refused_streams: self.refused_streams.load(Ordering::Relaxed),
        }
    }

    fn refuse(&self, what: Refused, scope: &str, limit: usize) -> ChainError {
        let (counter, what) = match what {
            Refused::Stream => (&self.refused_streams, "stream"),
            Refused::Connection => (&self.refused_connections, "connection"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut log = lock(&self.log);
        log.since_last += 1;
        let now = Instant::now();
        if log
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= LOG_INTERVAL)
        {
            tracing::warn!(
                refused = log.since_last,
                last = what,
                scope,
                limit,
                "resource limit reached: newcomers refused (logged at most every {:?})",
                LOG_INTERVAL
            );
            log.last = Some(now);
            log.since_last = 0;
        }
        ChainError::new(
            LAYER,
            ErrorKind::LimitExceeded,
            format!("{what} refused: {scope} limit of {limit} reached"),
        )
    }

    /// Admits an inbound connection before its handshake (system, inbound, transient and
    /// per-IP counts).
    pub(crate) fn admit_inbound(
        self: &Arc<Self>,
        remote: &Multiaddr,
    ) -> Result<PendingPermit, ChainError> {
        let l = &self.limits;
        let ip = ip_of(remote);
        let mut s = lock(&self.state);
        let refusal = if s.connections >= l.max_connections {
            Some(("system connections", l.max_connections))
        } else if s.inbound >= l.max_inbound_connections {
            Some(("system inbound connections", l.max_inbound_connections))
        } else if s.pending >= l.max_pending_inbound {
            Some(("pending inbound connections", l.max_pending_inbound))
        } else if ip.is_some_and(|ip| {
            s.pending_per_ip.get(&ip).copied().unwrap_or(0) >= l.max_pending_per_ip
        }) {
            Some(("pending inbound connections per IP", l.max_pending_per_ip))
        } else {
            None
        };
        if let Some((scope, limit)) = refusal {
            drop(s);
            return Err(self.refuse(Refused::Connection, scope, limit));
        }
        s.connections += 1;
        s.inbound += 1;
        s.pending += 1;
        if let Some(ip) = ip {
            *s.pending_per_ip.entry(ip).or_insert(0) += 1;
        }
        Ok(PendingPermit {
            rm: self.clone(),
            inbound: true,
            ip,
            done: false,
            memory: ConnectionMemory::new(self.clone()),
        })
    }

    /// Admits an outbound dial (system count) before it starts.
    pub(crate) fn admit_outbound(self: &Arc<Self>) -> Result<PendingPermit, ChainError> {
        let mut s = lock(&self.state);
        if s.connections >= self.limits.max_connections {
            drop(s);
            return Err(self.refuse(
                Refused::Connection,
                "system connections",
                self.limits.max_connections,
            ));
        }
        s.connections += 1;
        Ok(PendingPermit {
            rm: self.clone(),
            inbound: false,
            ip: None,
            done: false,
            memory: ConnectionMemory::new(self.clone()),
        })
    }

    /// Admits a substream with `peer` (system and per-peer counts); its protocol is admitted
    /// once it is known ([`ResourceManager::admit_protocol`]).
    pub(crate) fn admit_stream(self: &Arc<Self>, peer: PeerId) -> Result<StreamPermit, ChainError> {
        let l = &self.limits;
        let mut s = lock(&self.state);
        let per_peer = s.peers.get(&peer).map_or(0, |p| p.streams);
        let refusal = if s.streams >= l.max_streams {
            Some(("system streams", l.max_streams))
        } else if per_peer >= l.max_streams_per_peer {
            Some(("peer streams", l.max_streams_per_peer))
        } else {
            None
        };
        if let Some((scope, limit)) = refusal {
            drop(s);
            return Err(self.refuse(Refused::Stream, scope, limit));
        }
        s.streams += 1;
        s.peers.entry(peer).or_default().streams += 1;
        Ok(StreamPermit {
            rm: self.clone(),
            peer,
        })
    }
}

/// A connection slot held from before the handshake (inbound: also a transient slot).
#[derive(Debug)]
pub(crate) struct PendingPermit {
    rm: Arc<ResourceManager>,
    inbound: bool,
    ip: Option<IpAddr>,
    /// Turned into a [`ConnectionPermit`]: the connection slot moved there.
    done: bool,
    /// The connection's memory scope (handed to the chain in `HandlerContext::memory`).
    memory: Arc<ConnectionMemory>,
}

impl PendingPermit {
    /// The connection's memory scope, for `HandlerContext::memory`.
    pub(crate) fn memory(&self) -> Arc<dyn MemoryBudget> {
        self.memory.clone()
    }

    fn leave_transient(&self, s: &mut State) {
        if !self.inbound {
            return;
        }
        decrement(&mut s.pending);
        if let Some(ip) = self.ip {
            if let Some(n) = s.pending_per_ip.get_mut(&ip) {
                decrement(n);
                if *n == 0 {
                    s.pending_per_ip.remove(&ip);
                }
            }
        }
    }

    /// The handshake authenticated `peer`: checks the per-peer count and keeps the slot for
    /// the connection's life. A refusal frees everything this permit held.
    pub(crate) fn establish(mut self, peer: PeerId) -> Result<ConnectionPermit, ChainError> {
        let rm = self.rm.clone();
        let limit = rm.limits.max_connections_per_peer;
        let mut s = lock(&rm.state);
        if s.peers.get(&peer).map_or(0, |p| p.connections) >= limit {
            drop(s);
            drop(self);
            return Err(rm.refuse(Refused::Connection, "peer connections", limit));
        }
        self.leave_transient(&mut s);
        s.peers.entry(peer).or_default().connections += 1;
        self.memory.join_peer(&mut s, peer);
        self.done = true;
        Ok(ConnectionPermit {
            rm: rm.clone(),
            peer,
            inbound: self.inbound,
        })
    }
}

impl Drop for PendingPermit {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut s = lock(&self.rm.state);
        self.leave_transient(&mut s);
        decrement(&mut s.connections);
        if self.inbound {
            decrement(&mut s.inbound);
        }
    }
}

/// An established connection's slot; given back when the connection ends.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    rm: Arc<ResourceManager>,
    peer: PeerId,
    inbound: bool,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut s = lock(&self.rm.state);
        decrement(&mut s.connections);
        if self.inbound {
            decrement(&mut s.inbound);
        }
        if let Some(p) = s.peers.get_mut(&self.peer) {
            decrement(&mut p.connections);
        }
        s.forget_if_unused(&self.peer);
    }
}

/// One connection's memory scope, inside its peer's (once authenticated) and the system's.
/// Whatever is still reserved when the last holder drops it goes back.
#[derive(Debug)]
pub(crate) struct ConnectionMemory {
    rm: Arc<ResourceManager>,
    /// Bytes reserved by this connection, and its peer once known.
    inner: Mutex<(u64, Option<PeerId>)>,
}

impl ConnectionMemory {
    fn new(rm: Arc<ResourceManager>) -> Arc<Self> {
        Arc::new(ConnectionMemory {
            rm,
            inner: Mutex::new((0, None)),
        })
    }

    /// The connection was authenticated as `peer`: what it holds counts for the peer now.
    fn join_peer(&self, s: &mut State, peer: PeerId) {
        let mut me = lock(&self.inner);
        if me.1.is_none() {
            me.1 = Some(peer);
            s.peers.entry(peer).or_default().memory += me.0;
        }
    }

    fn give_back(&self, s: &mut State, me: &mut (u64, Option<PeerId>), bytes: u64) {
        let bytes = bytes.min(me.0);
        me.0 -= bytes;
        s.memory = s.memory.saturating_sub(bytes);
        if let Some(peer) = me.1 {
            if let Some(p) = s.peers.get_mut(&peer) {
                p.memory = p.memory.saturating_sub(bytes);
            }
            s.forget_if_unused(&peer);
        }
    }
}

impl MemoryBudget for ConnectionMemory {
    fn reserve(&self, bytes: usize) -> bool {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        let l = &self.rm.limits;
        let mut s = lock(&self.rm.state);
        let mut me = lock(&self.inner);
        let fits = |used: u64, limit: u64| used.checked_add(bytes).is_some_and(|n| n <= limit);
        let peer_used = me.1.and_then(|p| s.peers.get(&p)).map_or(0, |p| p.memory);
        if !(fits(me.0, l.memory_per_connection)
            && fits(s.memory, l.memory)
            && (me.1.is_none() || fits(peer_used, l.memory_per_peer)))
        {
            return false;
        }
        me.0 += bytes;
        s.memory += bytes;
        if let Some(peer) = me.1 {
            s.peers.entry(peer).or_default().memory += bytes;
        }
        true
    }

    fn release(&self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        let mut s = lock(&self.rm.state);
        let mut me = lock(&self.inner);
        self.give_back(&mut s, &mut me, bytes);
    }
}

impl Drop for ConnectionMemory {
    fn drop(&mut self) {
        let mut s = lock(&self.rm.state);
        let mut me = lock(&self.inner);
        let all = me.0;
        self.give_back(&mut s, &mut me, all);
    }
}

/// A substream's slot (system and peer scopes); given back when the substream is dropped.
#[derive(Debug)]
pub(crate) struct StreamPermit {
    rm: Arc<ResourceManager>,
    peer: PeerId,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut s = lock(&self.rm.state);
        decrement(&mut s.streams);
        if let Some(p) = s.peers.get_mut(&self.peer) {
            decrement(&mut p.streams);
        }
        s.forget_if_unused(&self.peer);
    }
}

impl ResourceManager {
    /// Admits a substream of `protocol` with `peer` (protocol scope, in total and with the
    /// peer); held while the protocol runs on it.
    pub(crate) fn admit_protocol(
        self: &Arc<Self>,
        peer: PeerId,
        protocol: &str,
    ) -> Result<ProtocolPermit, ChainError> {
        let l = &self.limits;
        let mut s = lock(&self.state);
        let total = s.protocols.get(protocol).copied().unwrap_or(0);
        let with_peer = s
            .peers
            .get(&peer)
            .and_then(|p| p.protocols.get(protocol))
            .copied()
            .unwrap_or(0);
        let refusal = if total >= l.max_streams_per_protocol {
            Some(("protocol streams", l.max_streams_per_protocol))
        } else if with_peer >= l.max_streams_per_protocol_per_peer {
            Some((
                "protocol streams per peer",
                l.max_streams_per_protocol_per_peer,
            ))
        } else {
            None
        };
        if let Some((scope, limit)) = refusal {
            drop(s);
            return Err(self.refuse(Refused::Stream, scope, limit));
        }
        *s.protocols.entry(protocol.to_owned()).or_insert(0) += 1;
        *s.peers
            .entry(peer)
            .or_default()
            .protocols
            .entry(protocol.to_owned())
            .or_insert(0) += 1;
        Ok(ProtocolPermit {
            rm: self.clone(),
            peer,
            protocol: protocol.to_owned(),
        })
    }
}

/// What a substream holds while it lives: its slot, and for the ones we open, its protocol's.
#[derive(Debug)]
pub(crate) struct StreamPermits {
    /// System and peer scopes.
    pub(crate) _stream: StreamPermit,
    /// Protocol scopes (inbound substreams: held by the protocol's handler instead).
    pub(crate) _protocol: Option<ProtocolPermit>,
    /// The metrics' open-substream count (outbound substreams; inbound ones are counted by
    /// the protocol's handler wrapper).
    #[cfg(feature = "metrics")]
    pub(crate) _metrics: Option<crate::metrics::SubstreamGuard>,
}

/// A substream's slot in its protocol's scopes; given back when dropped.
#[derive(Debug)]
pub(crate) struct ProtocolPermit {
    rm: Arc<ResourceManager>,
    peer: PeerId,
    protocol: String,
}

impl Drop for ProtocolPermit {
    fn drop(&mut self) {
        let mut s = lock(&self.rm.state);
        if let Some(n) = s.protocols.get_mut(&self.protocol) {
            decrement(n);
            if *n == 0 {
                s.protocols.remove(&self.protocol);
            }
        }
        if let Some(p) = s.peers.get_mut(&self.peer) {
            if let Some(n) = p.protocols.get_mut(&self.protocol) {
                decrement(n);
                if *n == 0 {
                    p.protocols.remove(&self.protocol);
                }
            }
        }
        s.forget_if_unused(&self.peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerId {
        PeerId::random()
    }

    fn tcp(ip: &str) -> Multiaddr {
        format!("/ip4/{ip}/tcp/1234").parse().unwrap()
    }

    fn small() -> ResourceLimits {
        ResourceLimits {
            max_connections: 4,
            max_inbound_connections: 3,
            max_pending_inbound: 2,
            max_pending_per_ip: 1,
            max_connections_per_peer: 1,
            max_streams: 4,
            max_streams_per_peer: 3,
            max_streams_per_protocol: 2,
            max_streams_per_protocol_per_peer: 1,
            memory: 1000,
            memory_per_peer: 600,
            memory_per_connection: 400,
        }
    }

    fn scope_of(e: &ChainError) -> String {
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
        e.to_string()
    }

    #[test]
    fn transient_limits_per_ip_and_in_total_refuse_only_the_newcomer() {
        let rm = ResourceManager::new(small());
        let a = rm.admit_inbound(&tcp("10.0.0.1")).unwrap();
        let e = rm.admit_inbound(&tcp("10.0.0.1")).unwrap_err();
        assert!(scope_of(&e).contains("per IP"), "{e}");
        let b = rm.admit_inbound(&tcp("10.0.0.2")).unwrap();
        let e = rm.admit_inbound(&tcp("10.0.0.3")).unwrap_err();
        assert!(
            scope_of(&e).contains("pending inbound connections limit"),
            "{e}"
        );
        assert_eq!(rm.usage().pending, 2);
        assert_eq!(rm.usage().refused_connections, 2);
        // A handshake done leaves the transient scope: the next one is admitted.
        let _a = a.establish(peer()).unwrap();
        assert_eq!(rm.usage().pending, 1);
        let c = rm.admit_inbound(&tcp("10.0.0.1")).unwrap();
        // Inbound total (3) reached, handshakes included.
        let e = rm.admit_inbound(&tcp("10.0.0.9")).unwrap_err();
        assert!(scope_of(&e).contains("system inbound"), "{e}");
        drop((b, c));
        let u = rm.usage();
        assert_eq!((u.connections, u.inbound, u.pending), (1, 1, 0));
    }

    #[test]
    fn per_peer_and_system_connection_limits() {
        let rm = ResourceManager::new(small());
        let p = peer();
        let first = rm.admit_outbound().unwrap().establish(p).unwrap();
        let e = rm.admit_outbound().unwrap().establish(p).unwrap_err();
        assert!(scope_of(&e).contains("peer connections"), "{e}");
        assert_eq!(rm.usage().connections, 1, "the refused one freed its slot");
        let _more: Vec<_> = (0..3)
            .map(|_| rm.admit_outbound().unwrap().establish(peer()).unwrap())
            .collect();
        let e = rm.admit_outbound().unwrap_err();
        assert!(scope_of(&e).contains("system connections"), "{e}");
        let e = rm.admit_inbound(&tcp("10.0.0.1")).unwrap_err();
        assert!(scope_of(&e).contains("system connections"), "{e}");
        drop(first);
        assert!(
            rm.admit_outbound().is_ok(),
            "a closed connection gives its slot back"
        );
    }

    #[test]
    fn stream_limits_system_peer_and_protocol() {
        let rm = ResourceManager::new(small());
        let (p, q) = (peer(), peer());
        let s1 = (
            rm.admit_stream(p).unwrap(),
            rm.admit_protocol(p, "/a").unwrap(),
        );
        let s2 = rm.admit_stream(p).unwrap();
        let e = rm.admit_protocol(p, "/a").unwrap_err();
        assert!(scope_of(&e).contains("protocol streams per peer"), "{e}");
        let s2 = (s2, rm.admit_protocol(p, "/b").unwrap());
        let s3 = rm.admit_stream(p).unwrap();
        let e = rm.admit_stream(p).unwrap_err();
        assert!(scope_of(&e).contains("peer streams"), "{e}");
        let s4 = (
            rm.admit_stream(q).unwrap(),
            rm.admit_protocol(q, "/b").unwrap(),
        );
        let e = rm.admit_stream(q).unwrap_err();
        assert!(scope_of(&e).contains("system streams"), "{e}");
        drop(s1);
        let s5 = rm.admit_stream(q).unwrap();
        let e = rm.admit_protocol(q, "/b").unwrap_err();
        assert!(scope_of(&e).contains("protocol streams limit"), "{e}");
        assert_eq!(rm.usage().refused_streams, 4);
        drop((s2, s3, s4, s5));
        assert_eq!(rm.usage().streams, 0);
        assert!(
            lock(&rm.state).peers.is_empty(),
            "no per-peer entry outlives its use"
        );
        assert!(lock(&rm.state).protocols.is_empty());
    }

    #[test]
    fn memory_is_reserved_in_the_connection_peer_and_system_scopes() {
        let rm = ResourceManager::new(ResourceLimits {
            max_connections_per_peer: 4,
            ..small()
        });
        let p = peer();
        let a = rm.admit_outbound().unwrap();
        let a_mem = a.memory();
        assert!(a_mem.reserve(300));
        assert!(!a_mem.reserve(200), "over the connection's 400");
        let _a = a.establish(p).unwrap();
        let b = rm.admit_outbound().unwrap();
        let b_mem = b.memory();
        let _b = b.establish(p).unwrap();
        assert!(!b_mem.reserve(400), "over the peer's 600 (300 held by a)");
        assert!(b_mem.reserve(300));
        let c = rm.admit_outbound().unwrap();
        let c_mem = c.memory();
        let _c = c.establish(peer()).unwrap();
        assert!(!c_mem.reserve(400 + 1), "over the connection's limit");
        assert!(c_mem.reserve(400));
        assert!(
            !c_mem.reserve(1) && rm.usage().memory_reserved == 1000,
            "system 1000 full"
        );
        a_mem.release(300);
        assert_eq!(rm.usage().memory_reserved, 700);
        drop((b_mem, _b));
        assert_eq!(
            rm.usage().memory_reserved,
            400,
            "a dropped scope gives everything back"
        );
        drop((c_mem, _c, a_mem, _a));
        assert_eq!(rm.usage().memory_reserved, 0);
        assert!(lock(&rm.state).peers.is_empty());
    }
}
