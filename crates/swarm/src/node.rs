//! The swarm itself: listeners and their accept loops, dialing, the table of connections (one
//! reused per peer), events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{
    BoxStream, ChainError, ErrorKind, HandlerContext, LayerKind, Role, StreamHandler,
};
use chainp2p_multistream::{Multistream, MultistreamConfig};
use chainp2p_transport_tcp::{TcpConnection, TcpTransport};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::builder::SwarmBuilder;
use crate::connection::{Connection, Direction};
use crate::event::SwarmEvent;
use crate::upgrade::{walk_chain, Upgraded};
use crate::LAYER;

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_CAPACITY: usize = 1024;

/// A node: listens, dials, keeps one connection per peer, serves application protocols on
/// inbound substreams. Cheap to clone.
#[derive(Clone)]
pub struct Swarm {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    keypair: Arc<Keypair>,
    stages: Vec<Multistream>,
    apps: Arc<Multistream>,
    identify: Arc<chainp2p_identify::IdentifyHandler>,
    transport: TcpTransport,
    multistream: MultistreamConfig,
    upgrade_timeout: Duration,
    idle_timeout: Option<Duration>,
    reaper_started: AtomicBool,
    connections: Mutex<HashMap<PeerId, Connection>>,
    listen_addrs: Mutex<Vec<Multiaddr>>,
    listeners: Mutex<Vec<JoinHandle<()>>>,
    events: broadcast::Sender<SwarmEvent>,
    next_id: AtomicU64,
}

impl Swarm {
    pub(crate) fn from_builder(b: SwarmBuilder) -> Swarm {
        let identify = Arc::new(chainp2p_identify::IdentifyHandler::new(
            chainp2p_identify::LocalInfo {
                protocol_version: b.protocol_version.clone(),
                agent_version: b.agent_version.clone(),
                listen_addrs: Vec::new(),
                protocols: Vec::new(),
            },
        ));
        let mut apps: Vec<Arc<dyn StreamHandler>> = vec![
            Arc::new(chainp2p_ping::PingHandler::default()),
            identify.clone() as Arc<dyn StreamHandler>,
        ];
        apps.extend(b.protocols);
        let apps = Multistream::new(apps, b.multistream.clone());
        identify.set_protocols(apps.protocols());
        let stages = vec![
            Multistream::new(b.security, b.multistream.clone()),
            Multistream::new(b.muxers, b.multistream.clone()),
        ];
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Swarm {
            inner: Arc::new(Inner {
                keypair: b.keypair,
                stages,
                apps: Arc::new(apps),
                identify,
                transport: TcpTransport::new(b.tcp),
                multistream: b.multistream,
                upgrade_timeout: b.upgrade_timeout,
                idle_timeout: b.idle_connection_timeout,
                reaper_started: AtomicBool::new(false),
                connections: Mutex::new(HashMap::new()),
                listen_addrs: Mutex::new(Vec::new()),
                listeners: Mutex::new(Vec::new()),
                events,
                next_id: AtomicU64::new(1),
            }),
        }
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Swarm {
        Swarm { inner }
    }

    /// Identify pushes received from peers (protocol or address changes).
    pub(crate) fn identify_pushes(&self) -> broadcast::Receiver<chainp2p_identify::PushEvent> {
        self.inner.identify.subscribe()
    }

    /// A handle that does not keep the swarm alive.
    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    /// Our PeerId.
    pub fn local_peer_id(&self) -> PeerId {
        self.inner.keypair.public().to_peer_id()
    }

    /// The application protocols we serve on inbound substreams.
    pub fn protocols(&self) -> Vec<String> {
        self.inner.apps.protocols()
    }

    /// Receives every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SwarmEvent> {
        self.inner.events.subscribe()
    }

    /// The addresses we listen on (without `/p2p/`), as announced: a listener on `0.0.0.0` or
    /// `::` is listed at each interface address of its family.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        lock(&self.inner.listen_addrs).clone()
    }

    /// The live connection to `peer`, if any.
    pub fn connection(&self, peer: &PeerId) -> Option<Connection> {
        lock(&self.inner.connections)
            .get(peer)
            .filter(|c| !c.is_closed())
            .cloned()
    }

    /// All live connections.
    pub fn connections(&self) -> Vec<Connection> {
        lock(&self.inner.connections)
            .values()
            .filter(|c| !c.is_closed())
            .cloned()
            .collect()
    }

    /// Binds a listener and serves inbound connections until [`Swarm::shutdown`]. Returns the
    /// bound address (with the real port). A connection that fails its chain is reported as
    /// [`SwarmEvent::IncomingConnectionError`]; the listener goes on.
    pub async fn listen(&self, addr: &Multiaddr) -> Result<Multiaddr, ChainError> {
        self.start_reaper();
        let listener = self.inner.transport.listen(addr).await?;
        let bound = listener.local_addr();
        {
            let mut addrs = lock(&self.inner.listen_addrs);
            for a in crate::addrs::announceable(&bound) {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            self.inner.identify.set_listen_addrs(addrs.clone());
        }
        let _ = self.inner.events.send(SwarmEvent::Listening {
            addr: bound.clone(),
        });
        let swarm = self.clone();
        let span = tracing::info_span!("listener", addr = %bound);
        let task = tokio::spawn(
            async move {
                loop {
                    match listener.accept().await {
                        Ok(conn) => {
                            let swarm = swarm.clone();
                            tokio::spawn(async move { swarm.handle_inbound(conn).await });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
            .instrument(span),
        );
        lock(&self.inner.listeners).push(task);
        Ok(bound)
    }

    async fn handle_inbound(&self, conn: TcpConnection) {
        let remote_addr = conn.remote_addr.clone();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let span =
            tracing::info_span!("connection", id, direction = "inbound", remote = %remote_addr);
        let result = async {
            let mut ctx = HandlerContext::new(Role::Listener, self.inner.keypair.clone());
            ctx.remote_addr = Some(conn.remote_addr.clone());
            ctx.local_addr = Some(conn.local_addr.clone());
            ctx.chain.push(
                LayerKind::Transport,
                conn.remote_addr.to_string(),
                Role::Listener,
                Duration::ZERO,
            );
            let upgraded = self.upgrade(conn.io, ctx).await?;
            self.register(id, upgraded, Direction::Inbound, remote_addr.clone())
        }
        .instrument(span)
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "inbound connection failed");
            let _ = self.inner.events.send(SwarmEvent::IncomingConnectionError {
                remote_addr,
                error: e.to_string(),
            });
        }
    }

    /// Dials `addr` (`/ip4|ip6|dns…/tcp/N[/p2p/ID]`) and runs the chain as dialer. With a
    /// `/p2p/` id, an existing live connection to that peer is reused, and the authenticated
    /// peer must be that id.
    pub async fn dial(&self, addr: &Multiaddr) -> Result<Connection, ChainError> {
        self.start_reaper();
        let (transport_addr, expected) = chainp2p_transport_tcp::split_peer_id(addr)?;
        if let Some(peer) = expected {
            if let Some(existing) = self.connection(&peer) {
                return Ok(existing);
            }
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let span =
            tracing::info_span!("connection", id, direction = "outbound", remote = %transport_addr);
        async {
            let started = Instant::now();
            let conn = self.inner.transport.dial(&transport_addr).await?;
            let mut ctx = HandlerContext::new(Role::Dialer, self.inner.keypair.clone());
            ctx.remote_peer = expected;
            ctx.remote_addr = Some(conn.remote_addr.clone());
            ctx.local_addr = Some(conn.local_addr.clone());
            ctx.chain.push(
                LayerKind::Transport,
                transport_addr.to_string(),
                Role::Dialer,
                started.elapsed(),
            );
            let upgraded = self.upgrade(conn.io, ctx).await?;
            self.register(id, upgraded, Direction::Outbound, conn.remote_addr)
        }
        .instrument(span)
        .await
    }

    /// Opens a substream for `protocol` on the live connection to `peer`.
    pub async fn open_stream(
        &self,
        peer: &PeerId,
        protocol: &str,
    ) -> Result<BoxStream, ChainError> {
        let conn = self.connection(peer).ok_or_else(|| {
            ChainError::new(LAYER, ErrorKind::Closed, format!("no connection to {peer}"))
        })?;
        conn.open_stream(protocol).await
    }

    /// Starts (once) the task closing idle connections, if the builder asked for it.
    fn start_reaper(&self) {
        let Some(timeout) = self.inner.idle_timeout else {
            return;
        };
        if self.inner.reaper_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let tick = (timeout / 4).max(Duration::from_secs(1));
        let weak = self.downgrade();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(swarm) = weak.upgrade().map(Swarm::from_inner) else {
                    break;
                };
                let now = Instant::now();
                for conn in swarm.connections() {
                    if conn.idle_for(now).is_some_and(|idle| idle >= timeout) {
                        tracing::debug!(peer = %conn.peer_id(), ?timeout, "closing idle connection");
                        tokio::spawn(async move {
                            let _ =
                                tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
                        });
                    }
                }
            }
        });
        lock(&self.inner.listeners).push(task);
    }

    /// Stops the listeners and closes every connection gracefully.
    pub async fn shutdown(&self) {
        for task in lock(&self.inner.listeners).drain(..) {
            task.abort();
        }
        let conns: Vec<Connection> = lock(&self.inner.connections)
            .drain()
            .map(|(_, c)| c)
            .collect();
        for c in conns {
            let _ = tokio::time::timeout(Duration::from_secs(2), c.close()).await;
        }
    }

    async fn upgrade(&self, io: BoxStream, ctx: HandlerContext) -> Result<Upgraded, ChainError> {
        match tokio::time::timeout(
            self.inner.upgrade_timeout,
            walk_chain(&self.inner.stages, io, ctx),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(ChainError::timeout(
                LAYER,
                format_args!(
                    "connection chain not complete after {:?}",
                    self.inner.upgrade_timeout
                ),
            )),
        }
    }

    /// Makes an upgraded connection live: runs its driver, serves its inbound substreams,
    /// records it in the table and announces it.
    fn register(
        &self,
        id: u64,
        upgraded: Upgraded,
        direction: Direction,
        remote_addr: Multiaddr,
    ) -> Result<Connection, ChainError> {
        let Upgraded { muxer, driver, ctx } = upgraded;
        let conn = Connection::new(
            id,
            direction,
            &ctx,
            remote_addr.clone(),
            muxer,
            self.inner.multistream.clone(),
        )?;
        let peer_id = conn.peer_id();
        let span = tracing::info_span!("connection", id, peer = %peer_id);

        let swarm = self.clone();
        tokio::spawn(
            async move {
                let result = driver.await;
                let error = result.err().map(|e| e.to_string());
                tracing::debug!(?error, "connection closed");
                {
                    let mut table = lock(&swarm.inner.connections);
                    if table.get(&peer_id).is_some_and(|c| c.id() == id) {
                        table.remove(&peer_id);
                    }
                }
                let _ = swarm.inner.events.send(SwarmEvent::ConnectionClosed {
                    peer_id,
                    direction,
                    error,
                });
            }
            .instrument(span.clone()),
        );
        tokio::spawn(
            conn.clone()
                .serve_inbound(self.inner.apps.clone(), ctx.clone())
                .instrument(span),
        );

        {
            let mut table = lock(&self.inner.connections);
            let keep_old = table.get(&peer_id).is_some_and(|c| !c.is_closed());
            if !keep_old {
                table.insert(peer_id, conn.clone());
            }
        }
        let _ = self.inner.events.send(SwarmEvent::ConnectionEstablished {
            peer_id,
            direction,
            remote_addr,
            chain: ctx.chain,
        });
        Ok(conn)
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the tables stay
/// consistent: every critical section is a single insert/remove/clone).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
