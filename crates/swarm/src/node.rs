//! The swarm itself: listeners and their accept loops, dialing (one dial shared by concurrent
//! dials to a peer, run as a task of the swarm), the table of connections (one reused per peer), events, and the one owner
//! of every task the swarm starts.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{
    BoxStream, ChainError, ErrorKind, HandlerContext, LayerKind, Listener, Role, StreamHandler,
    Transport, TransportConnection, TransportIo,
};
use chainp2p_multistream::{Multistream, MultistreamConfig};
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::StreamExt;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::admission::Admitted;
use crate::builder::SwarmBuilder;
use crate::conn_manager::{pick_to_close, Candidate, ConnectionManagerConfig};
use crate::connection::{Connection, Direction};
use crate::event::SwarmEvent;
use crate::limits::ResourceLimits;
use crate::resources::{ConnectionPermit, PendingPermit, ResourceManager, ResourceUsage};
use crate::upgrade::{from_muxed, walk_chain, Upgraded};
use crate::LAYER;

/// A node: listens, dials, keeps one connection per peer, serves application protocols on
/// inbound substreams. Cheap to clone.
#[derive(Clone)]
pub struct Swarm {
    inner: Arc<Inner>,
}

/// A [`Swarm`] that does not keep it alive; [`WeakSwarm::upgrade`] gives it back while it lives.
#[derive(Clone)]
pub struct WeakSwarm {
    inner: Weak<Inner>,
}

impl WeakSwarm {
    /// The swarm, if it still lives.
    pub fn upgrade(&self) -> Option<Swarm> {
        self.inner.upgrade().map(|inner| Swarm { inner })
    }
}

/// A dial in progress, awaited by every caller dialing the same peer meanwhile.
type SharedDial = Shared<BoxFuture<'static, Result<Connection, ChainError>>>;

pub(crate) struct Inner {
    keypair: Arc<Keypair>,
    stages: Vec<Multistream>,
    apps: Arc<Multistream>,
    #[cfg(feature = "identify")]
    identify: Arc<chainp2p_identify::IdentifyHandler>,
    transports: Vec<Arc<dyn Transport>>,
    multistream: MultistreamConfig,
    upgrade_timeout: Duration,
    idle_timeout: Option<Duration>,
    shutdown_timeout: Duration,
    reaper_started: AtomicBool,
    trimmer_started: AtomicBool,
    connections: Mutex<HashMap<PeerId, Connection>>,
    dials: Mutex<HashMap<PeerId, SharedDial>>,
    listen_addrs: Mutex<Vec<Multiaddr>>,
    events: broadcast::Sender<SwarmEvent>,
    observers: Mutex<Vec<mpsc::UnboundedSender<SwarmEvent>>>,
    /// Every task the swarm spawns.
    tasks: TaskTracker,
    /// Cancels every task (the end of [`Swarm::shutdown`]).
    cancel: CancellationToken,
    /// Cancels the listeners and the reaper (the start of [`Swarm::shutdown`]); a child of
    /// `cancel`.
    stop_accepting: CancellationToken,
    next_id: AtomicU64,
    /// Admits every connection and substream (see `resources.rs`).
    resources: Arc<ResourceManager>,
    /// Every live connection by id (the table above keeps one per peer).
    all: Mutex<HashMap<u64, Connection>>,
    /// Peers the connection manager never trims.
    protected: Mutex<HashSet<PeerId>>,
    conn_manager: Option<ConnectionManagerConfig>,
    /// Wakes the connection manager when a connection is added above the high mark.
    trim_wake: Arc<tokio::sync::Notify>,
    /// What [`SwarmBuilder::metrics`] registered, if it was called.
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<crate::metrics::SwarmMetrics>>,
}

impl Swarm {
    pub(crate) fn from_builder(b: SwarmBuilder) -> Swarm {
        #[allow(unused_mut)]
        let mut apps: Vec<Arc<dyn StreamHandler>> = Vec::new();
        #[cfg(feature = "ping")]
        apps.push(Arc::new(chainp2p_ping::PingHandler::default()));
        #[cfg(feature = "identify")]
        let identify = Arc::new(chainp2p_identify::IdentifyHandler::with_config(
            chainp2p_identify::LocalInfo {
                protocol_version: b.protocol_version.clone(),
                agent_version: b.agent_version.clone(),
                listen_addrs: Vec::new(),
                protocols: Vec::new(),
            },
            b.identify.clone(),
        ));
        #[cfg(feature = "identify")]
        apps.push(identify.clone() as Arc<dyn StreamHandler>);
        #[cfg(not(feature = "identify"))]
        let _ = (&b.protocol_version, &b.agent_version);
        apps.extend(b.protocols);
        let resources = ResourceManager::new(b.limits);
        #[cfg(feature = "metrics")]
        if let Some(m) = &b.metrics {
            m.set_resources(&resources);
        }
        let apps: Vec<Arc<dyn StreamHandler>> = apps
            .into_iter()
            .map(|inner| {
                Arc::new(Admitted {
                    inner,
                    resources: resources.clone(),
                    #[cfg(feature = "metrics")]
                    metrics: b.metrics.clone(),
                }) as Arc<dyn StreamHandler>
            })
            .collect();
        let apps = Multistream::new(apps, b.multistream.clone());
        #[cfg(feature = "identify")]
        identify.set_protocols(apps.protocols());
        let stage_config = MultistreamConfig {
            lazy: b.multistream.lazy || b.lazy_upgrade,
            ..b.multistream.clone()
        };
        let stages = vec![
            Multistream::new(b.security, stage_config.clone()),
            Multistream::new(b.muxers, stage_config),
        ];
        let (events, _) = broadcast::channel(b.event_capacity);
        let cancel = CancellationToken::new();
        Swarm {
            inner: Arc::new(Inner {
                keypair: b.keypair,
                stages,
                apps: Arc::new(apps),
                #[cfg(feature = "identify")]
                identify,
                transports: b.transports,
                multistream: b.multistream,
                upgrade_timeout: b.upgrade_timeout,
                idle_timeout: b.idle_connection_timeout,
                shutdown_timeout: b.shutdown_timeout,
                reaper_started: AtomicBool::new(false),
                trimmer_started: AtomicBool::new(false),
                connections: Mutex::new(HashMap::new()),
                dials: Mutex::new(HashMap::new()),
                listen_addrs: Mutex::new(Vec::new()),
                events,
                observers: Mutex::new(Vec::new()),
                tasks: TaskTracker::new(),
                stop_accepting: cancel.child_token(),
                cancel,
                next_id: AtomicU64::new(1),
                resources,
                all: Mutex::new(HashMap::new()),
                protected: Mutex::new(HashSet::new()),
                conn_manager: b.conn_manager,
                trim_wake: Arc::new(tokio::sync::Notify::new()),
                #[cfg(feature = "metrics")]
                metrics: b.metrics,
            }),
        }
    }

    /// Identify pushes received from peers (protocol or address changes).
    #[cfg(feature = "identify")]
    pub fn identify_pushes(&self) -> broadcast::Receiver<chainp2p_identify::PushEvent> {
        self.inner.identify.subscribe()
    }

    /// A handle that does not keep the swarm alive.
    pub fn downgrade(&self) -> WeakSwarm {
        WeakSwarm {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Runs `task` as one of the swarm's own tasks: tracked, and cancelled by
    /// [`Swarm::shutdown`] (a task started after it ends at once). The stack's own consumers
    /// (the Kademlia glue, its liveness checks) spawn here instead of on the runtime directly.
    pub fn spawn(
        &self,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.spawn_until(self.inner.cancel.clone(), task)
    }

    fn spawn_until(
        &self,
        token: CancellationToken,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.inner.tasks.spawn(async move {
            tokio::select! {
                biased;
                _ = token.cancelled() => {}
                _ = task => {}
            }
        })
    }

    /// How many of the swarm's tasks are running (listeners, connection drivers, substream
    /// handlers, …).
    pub fn task_count(&self) -> usize {
        self.inner.tasks.len()
    }

    /// Every event from now on, losslessly: nothing is dropped however far the reader falls
    /// behind (the events wait in the channel). For the stack's own consumers, such as the
    /// Kademlia routing-table feeder; a user who may fall behind should prefer
    /// [`Swarm::subscribe`].
    pub fn observe(&self) -> mpsc::UnboundedReceiver<SwarmEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inner.observers).push(tx);
        rx
    }

    /// Sends `event` to every observer and subscriber.
    fn emit(&self, event: SwarmEvent) {
        lock(&self.inner.observers).retain(|tx| tx.send(event.clone()).is_ok());
        let _ = self.inner.events.send(event);
    }

    /// Whether one of the swarm's transports can dial `addr` (a trailing `/p2p/` allowed).
    pub fn can_dial(&self, addr: &Multiaddr) -> bool {
        self.inner.transports.iter().any(|t| t.handles(addr))
    }

    fn transport_for(&self, addr: &Multiaddr) -> Result<Arc<dyn Transport>, ChainError> {
        self.inner
            .transports
            .iter()
            .find(|t| t.handles(addr))
            .cloned()
            .ok_or_else(|| {
                ChainError::new(
                    LAYER,
                    ErrorKind::Unsupported,
                    format!("no transport of this swarm handles {addr}"),
                )
            })
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

    /// What the resource manager holds now and what it refused so far.
    pub fn resource_usage(&self) -> ResourceUsage {
        self.inner.resources.usage()
    }

    /// The resource manager's limits.
    pub fn resource_limits(&self) -> &ResourceLimits {
        self.inner.resources.limits()
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
        let transport = self.transport_for(addr)?;
        let Listener {
            local_addr: bound,
            mut incoming,
        } = transport.listen(addr).await?;
        {
            let mut addrs = lock(&self.inner.listen_addrs);
            for a in crate::addrs::announceable(&bound) {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            #[cfg(feature = "identify")]
            self.inner.identify.set_listen_addrs(addrs.clone());
        }
        self.emit(SwarmEvent::Listening {
            addr: bound.clone(),
        });
        let swarm = self.clone();
        let span = tracing::info_span!("listener", addr = %bound);
        self.spawn_until(
            self.inner.stop_accepting.clone(),
            async move {
                while let Some(next) = incoming.next().await {
                    match next {
                        Ok(conn) => {
                            // Over a limit the connection is closed here, before its
                            // handshake costs anything. No event per refusal (a flood would
                            // fill the observers' queues): it is counted and logged by the
                            // resource manager.
                            let permit = match swarm.inner.resources.admit_inbound(&conn.remote_addr)
                            {
                                Ok(permit) => permit,
                                Err(error) => {
                                    tracing::trace!(%error, remote_addr = %conn.remote_addr, "inbound connection refused");
                                    drop(conn);
                                    continue;
                                }
                            };
                            let inbound = swarm.clone();
                            swarm.spawn(async move { inbound.handle_inbound(conn, permit).await });
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
        Ok(bound)
    }

    async fn handle_inbound(&self, conn: TransportConnection, permit: PendingPermit) {
        let TransportConnection {
            local_addr,
            remote_addr,
            io,
        } = conn;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let span =
            tracing::info_span!("connection", id, direction = "inbound", remote = %remote_addr);
        let result = async {
            let mut ctx = HandlerContext::new(Role::Listener, self.inner.keypair.clone());
            ctx.remote_addr = Some(remote_addr.clone());
            ctx.local_addr = Some(local_addr);
            ctx.memory = Some(permit.memory());
            ctx.chain.push(
                LayerKind::Transport,
                remote_addr.to_string(),
                Role::Listener,
                Duration::ZERO,
            );
            let upgraded = self.upgrade(io, ctx).await?;
            let permit = establish(permit, &upgraded)?;
            self.register(
                id,
                upgraded,
                Direction::Inbound,
                remote_addr.clone(),
                permit,
            )
        }
        .instrument(span)
        .await;
        if let Err(error) = result {
            tracing::debug!(%error, "inbound connection failed");
            self.emit(SwarmEvent::IncomingConnectionError { remote_addr, error });
        }
    }

    /// Dials `addr` (e.g. `/ip4/…/tcp/N[/p2p/ID]` or `/memory/N[/p2p/ID]`, with the first
    /// transport that handles it) and runs the chain as dialer. With a `/p2p/` id, an existing
    /// live connection to that peer is reused, concurrent dials to that peer share one dial
    /// (the first caller's address is dialed; it runs as a task of the swarm, so it completes
    /// even if every caller gives up), and the authenticated peer must be that id.
    pub async fn dial(&self, addr: &Multiaddr) -> Result<Connection, ChainError> {
        self.start_reaper();
        let (transport_addr, expected) = chainp2p_core::split_peer_id(addr)?;
        let Some(peer) = expected else {
            return self.dial_new(transport_addr, None).await;
        };
        if let Some(existing) = self.connection(&peer) {
            return Ok(existing);
        }
        let shared = lock(&self.inner.dials)
            .entry(peer)
            .or_insert_with(|| {
                // The dial runs as a task of the swarm, not inside the callers' futures: a
                // caller giving up (a lookup ending with requests in flight) must not freeze
                // a half-done handshake that the next caller to this peer would inherit long
                // after the other end gave up on it.
                let swarm = self.clone();
                let (tx, rx) = tokio::sync::oneshot::channel();
                self.spawn(async move {
                    let result = swarm.dial_new(transport_addr, Some(peer)).await;
                    lock(&swarm.inner.dials).remove(&peer);
                    let _ = tx.send(result);
                });
                async move {
                    rx.await.unwrap_or_else(|_| {
                        Err(ChainError::new(
                            LAYER,
                            ErrorKind::Closed,
                            "dial cancelled: the swarm is shutting down",
                        ))
                    })
                }
                .boxed()
                .shared()
            })
            .clone();
        shared.await
    }

    /// Dials a transport address (no `/p2p/`) and upgrades the connection.
    async fn dial_new(
        &self,
        transport_addr: Multiaddr,
        expected: Option<PeerId>,
    ) -> Result<Connection, ChainError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let span =
            tracing::info_span!("connection", id, direction = "outbound", remote = %transport_addr);
        async {
            let transport = self.transport_for(&transport_addr)?;
            let permit = self.inner.resources.admit_outbound()?;
            let started = Instant::now();
            let TransportConnection {
                local_addr,
                remote_addr,
                io,
            } = transport.dial(&transport_addr).await?;
            let mut ctx = HandlerContext::new(Role::Dialer, self.inner.keypair.clone());
            ctx.remote_peer = expected;
            ctx.memory = Some(permit.memory());
            ctx.remote_addr = Some(remote_addr.clone());
            ctx.local_addr = Some(local_addr);
            ctx.chain.push(
                LayerKind::Transport,
                transport_addr.to_string(),
                Role::Dialer,
                started.elapsed(),
            );
            let upgraded = self.upgrade(io, ctx).await?;
            let permit = establish(permit, &upgraded)?;
            self.register(id, upgraded, Direction::Outbound, remote_addr, permit)
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

    /// Asks `peer`, over the live connection to it, who it is ([`Connection::identify`]).
    #[cfg(feature = "identify")]
    pub async fn identify(
        &self,
        peer: &PeerId,
    ) -> Result<chainp2p_identify::IdentifyInfo, ChainError> {
        let conn = self.connection(peer).ok_or_else(|| {
            ChainError::new(LAYER, ErrorKind::Closed, format!("no connection to {peer}"))
        })?;
        conn.identify().await
    }

    /// Protects `peer` from the connection manager (bootstrap peers, peers the application
    /// needs): its connections are never trimmed.
    pub fn protect(&self, peer: PeerId) {
        lock(&self.inner.protected).insert(peer);
    }

    /// Lifts [`Swarm::protect`]; whether `peer` was protected.
    pub fn unprotect(&self, peer: &PeerId) -> bool {
        lock(&self.inner.protected).remove(peer)
    }

    /// Every live connection, duplicates to one peer included.
    pub fn all_connections(&self) -> Vec<Connection> {
        lock(&self.inner.all)
            .values()
            .filter(|c| !c.is_closed())
            .cloned()
            .collect()
    }

    /// Runs the connection manager once: above the high mark, closes the least useful
    /// connections down to the low mark (see `conn_manager.rs`). Returns how many it closed.
    pub fn trim_connections(&self) -> usize {
        let Some(cfg) = self.inner.conn_manager else {
            return 0;
        };
        let now = Instant::now();
        let conns = self.all_connections();
        let live: Vec<Candidate> = conns
            .iter()
            .map(|c| Candidate {
                id: c.id(),
                peer: c.peer_id(),
                established: c.established_at(),
                idle_for: c.idle_for(now),
            })
            .collect();
        let close = {
            let protected = lock(&self.inner.protected);
            pick_to_close(&live, &protected, &cfg, now)
        };
        if close.is_empty() {
            return 0;
        }
        tracing::debug!(
            live = live.len(),
            closing = close.len(),
            low = cfg.low,
            high = cfg.high,
            "connection manager: above the high mark, trimming"
        );
        for conn in conns.into_iter().filter(|c| close.contains(&c.id())) {
            self.spawn(async move {
                let _ = conn.close().await;
            });
        }
        close.len()
    }

    /// Starts (once) the connection manager's task: a trim on every addition above the high
    /// mark and every quarter grace period.
    fn start_trimmer(&self) {
        let Some(cfg) = self.inner.conn_manager else {
            return;
        };
        if self.inner.trimmer_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let tick = (cfg.grace / 4).max(Duration::from_secs(1));
        let weak = self.downgrade();
        // The task holds the swarm weakly: a dropped swarm ends it.
        let wake = self.inner.trim_wake.clone();
        self.spawn_until(self.inner.stop_accepting.clone(), async move {
            loop {
                let notified = wake.notified();
                let _ = tokio::time::timeout(tick, notified).await;
                let Some(swarm) = weak.upgrade() else {
                    break;
                };
                swarm.trim_connections();
            }
        });
    }

    /// Starts (once) the task closing idle connections, if the builder asked for it.
    fn start_reaper(&self) {
        self.start_trimmer();
        let Some(timeout) = self.inner.idle_timeout else {
            return;
        };
        if self.inner.reaper_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let tick = (timeout / 4).max(Duration::from_secs(1));
        let weak = self.downgrade();
        let close_within = self.inner.shutdown_timeout;
        self.spawn_until(self.inner.stop_accepting.clone(), async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(swarm) = weak.upgrade() else {
                    break;
                };
                let now = Instant::now();
                for conn in swarm.connections() {
                    if conn.idle_for(now).is_some_and(|idle| idle >= timeout) {
                        tracing::debug!(peer = %conn.peer_id(), ?timeout, "closing idle connection");
                        swarm.spawn(async move {
                            let _ = tokio::time::timeout(close_within, conn.close()).await;
                        });
                    }
                }
            }
        });
    }

    /// Stops the listeners, closes every connection gracefully and at once, then ends every
    /// task of the swarm; the whole of it within the builder's `shutdown_timeout` (twice it at
    /// worst: once for the goodbyes, once for the tasks to see their cancellation).
    pub async fn shutdown(&self) {
        let deadline = self.inner.shutdown_timeout;
        self.inner.stop_accepting.cancel();
        lock(&self.inner.dials).clear();
        let conns: Vec<Connection> = lock(&self.inner.connections)
            .drain()
            .map(|(_, c)| c)
            .collect();
        let goodbyes = futures::future::join_all(conns.iter().map(Connection::close));
        let _ = tokio::time::timeout(deadline, goodbyes).await;
        self.inner.cancel.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(deadline, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.inner.tasks.len(),
                "swarm tasks still running after shutdown"
            );
        }
    }

    async fn upgrade(&self, io: TransportIo, ctx: HandlerContext) -> Result<Upgraded, ChainError> {
        let io = match io {
            #[cfg(feature = "metrics")]
            TransportIo::Raw(io) => match &self.inner.metrics {
                Some(m) => m.count_bytes(io),
                None => io,
            },
            #[cfg(not(feature = "metrics"))]
            TransportIo::Raw(io) => io,
            TransportIo::Muxed(muxed) => return from_muxed(muxed, ctx),
            _ => {
                return Err(ChainError::new(
                    LAYER,
                    ErrorKind::Unsupported,
                    "a kind of transport connection this swarm does not know",
                ))
            }
        };
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
        permit: ConnectionPermit,
    ) -> Result<Connection, ChainError> {
        let Upgraded { muxer, driver, ctx } = upgraded;
        let conn = Connection::new(
            id,
            direction,
            &ctx,
            remote_addr.clone(),
            muxer,
            self.inner.multistream.clone(),
            self.inner.resources.clone(),
            #[cfg(feature = "metrics")]
            self.inner.metrics.clone(),
        )?;
        let peer_id = conn.peer_id();
        #[cfg(feature = "metrics")]
        let metrics_guard = self
            .inner
            .metrics
            .as_ref()
            .map(|m| m.connection_opened(direction, &ctx.chain));
        let span = tracing::info_span!("connection", id, peer = %peer_id);

        let swarm = self.clone();
        self.spawn(
            async move {
                // The connection's slot is given back when its driver ends.
                let _permit = permit;
                #[cfg(feature = "metrics")]
                let _metrics_guard = metrics_guard;
                let error = driver.await.err();
                tracing::debug!(?error, "connection closed");
                lock(&swarm.inner.all).remove(&id);
                {
                    let mut table = lock(&swarm.inner.connections);
                    if table.get(&peer_id).is_some_and(|c| c.id() == id) {
                        table.remove(&peer_id);
                    }
                }
                swarm.emit(SwarmEvent::ConnectionClosed {
                    peer_id,
                    direction,
                    error,
                });
            }
            .instrument(span.clone()),
        );
        let swarm = self.clone();
        self.spawn(
            conn.clone()
                .serve_inbound(self.inner.apps.clone(), ctx.clone(), move |task| {
                    swarm.spawn(task);
                })
                .instrument(span),
        );

        {
            let mut table = lock(&self.inner.connections);
            let keep_old = table.get(&peer_id).is_some_and(|c| !c.is_closed());
            if !keep_old {
                table.insert(peer_id, conn.clone());
            }
        }
        let live = {
            let mut all = lock(&self.inner.all);
            all.insert(id, conn.clone());
            all.len()
        };
        if self.inner.conn_manager.is_some_and(|cm| live > cm.high) {
            self.inner.trim_wake.notify_one();
        }
        self.emit(SwarmEvent::ConnectionEstablished {
            peer_id,
            direction,
            remote_addr,
            chain: ctx.chain,
        });
        Ok(conn)
    }
}

/// Turns a connection's pending slot into an established one for its authenticated peer
/// (the per-peer limit); a refusal drops the upgraded connection (closing it).
fn establish(permit: PendingPermit, upgraded: &Upgraded) -> Result<ConnectionPermit, ChainError> {
    let peer = upgraded.ctx.remote_peer.ok_or_else(|| {
        ChainError::new(
            LAYER,
            ErrorKind::Authentication,
            "connection without an authenticated peer",
        )
    })?;
    permit.establish(peer)
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the tables stay
/// consistent: every critical section is a single insert/remove/clone or counter update).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
