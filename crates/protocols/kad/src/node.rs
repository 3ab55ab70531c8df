//! [`KadNode`]: the async shell turning the sans-IO parts (routing table, lookups, record store)
//! into a DHT node, independent of the swarm. Peers are reached through a [`KadNetwork`] (which
//! opens an already-negotiated kad substream); inbound requests arrive through
//! [`KadHandler`] with the node as its [`KadServer`](crate::handler::KadServer).
//!
//! - [`server`]: answering inbound requests (sync, called by the handler);
//! - [`lookup`]: the iterative lookups over the network and the user operations (bootstrap,
//!   find_node, get/put value, provide, get_providers);
//! - [`maintenance`]: periodic routing-table refresh, store expiry and republishing;
//! - `book`: a small bounded address book of peers learned from responses.
//!
//! Routing-table policy: a peer enters the table only when known to be a kad server: identified
//! with our protocol id ([`KadNode::on_peer_identified`]) or having answered one of our kad
//! requests (as rust-libp2p). A full bucket's liveness check (a FIND_NODE for our own id to the
//! least-recently-seen peer, as rust-libp2p) runs on a spawned task.

mod book;
mod error;
pub mod lookup;
pub mod maintenance;
pub mod server;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::BoxStream;

use crate::config::Config;
use crate::error::KadError;
use crate::handler::KadHandler;
use crate::key::Key;
use crate::query::QueryConfig;
use crate::routing::{InsertOutcome, RoutingTable};
use crate::store::{RecordStore, RecordValidator};
use book::AddressBook;
pub use error::NodeError;
pub use lookup::{LookupProgress, ProgressFn};
pub use maintenance::{MaintenanceConfig, MaintenanceHandle, RefreshReport};

/// How the node reaches peers.
#[async_trait]
pub trait KadNetwork: Send + Sync + 'static {
    /// A new substream to `peer` (dialing `addrs` if not connected) speaking the kad protocol,
    /// already negotiated.
    async fn open_stream(&self, peer: &PeerId, addrs: &[Multiaddr]) -> Result<BoxStream, KadError>;

    /// Runs a background task of the node (a routing table's liveness check). The default
    /// spawns it on the current tokio runtime, if one is running (otherwise the task is
    /// dropped and the pending candidate simply expires); a network that owns its tasks (the
    /// swarm) spawns it there, so it ends with the swarm.
    fn spawn(&self, task: futures::future::BoxFuture<'static, ()>) {
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(task);
            }
            Err(_) => tracing::debug!("kad background task skipped: no tokio runtime"),
        }
    }
}

/// Whether the node serves the DHT (advertises the kad protocol) or only queries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers requests; other peers may add us to their routing tables.
    Server,
    /// Queries only (e.g. behind NAT); the swarm should not advertise the kad protocol.
    Client,
}

/// Everything [`KadNode::new`] needs.
pub struct NodeParams {
    /// Our peer id.
    pub local: PeerId,
    /// Our listen addresses (sent in ADD_PROVIDER: rust-libp2p drops providers without any).
    pub listen_addrs: Vec<Multiaddr>,
    /// Every setting (wire, routing table, lookups, maintenance); the store must have been
    /// opened with its [`Config::store_config`].
    pub config: Config,
    /// Server or client mode.
    pub mode: Mode,
    /// The record store.
    pub store: Arc<dyn RecordStore>,
    /// The record validator.
    pub validator: Arc<dyn RecordValidator>,
    /// How peers are reached.
    pub network: Arc<dyn KadNetwork>,
}

/// A DHT node. Cheap to clone (clones share everything).
#[derive(Clone)]
pub struct KadNode {
    inner: Arc<Inner>,
}

struct Inner {
    local: PeerId,
    local_key: Key,
    listen_addrs: Mutex<Vec<Multiaddr>>,
    config: Config,
    /// Derived from `config` once.
    query: QueryConfig,
    mode: Mode,
    table: Mutex<RoutingTable>,
    book: Mutex<AddressBook>,
    store: Arc<dyn RecordStore>,
    validator: Arc<dyn RecordValidator>,
    network: Arc<dyn KadNetwork>,
    progress: Mutex<Option<ProgressFn>>,
    /// Keys of the records we published, for republishing.
    published: Mutex<maintenance::PublishedKeys>,
}

impl std::fmt::Debug for KadNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KadNode")
            .field("local", &self.inner.local)
            .field("mode", &self.inner.mode)
            .field("routing_table_len", &self.routing_table_len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KadNode {
    /// A node; fails with [`KadError::InvalidConfig`] if the config does not validate or the
    /// store's settings are not the config's [`Config::store_config`].
    pub fn new(p: NodeParams) -> Result<Self, KadError> {
        p.config.validate()?;
        if *p.store.config() != p.config.store_config() {
            return Err(KadError::InvalidConfig(format!(
                "the record store's settings {:?} are not those of the kad config {:?} \
                 (open the store with Config::store_config)",
                p.store.config(),
                p.config.store_config()
            )));
        }
        let local_key = Key::from_peer(&p.local);
        let book = AddressBook::new(p.config.address_book_size(), p.config.addrs_kept_per_peer());
        let routing = p.config.routing_config();
        let node = Self {
            inner: Arc::new(Inner {
                local: p.local,
                table: Mutex::new(RoutingTable::new(local_key.clone(), routing)),
                local_key,
                listen_addrs: Mutex::new(p.listen_addrs),
                query: p.config.query_config(),
                config: p.config,
                mode: p.mode,
                book: Mutex::new(book),
                store: p.store,
                validator: p.validator,
                network: p.network,
                progress: Mutex::new(None),
                published: Mutex::new(maintenance::PublishedKeys::new()),
            }),
        };
        // Records we published before a restart are ours to keep republishing.
        match node
            .inner
            .store
            .published_by(&node.inner.local, std::time::SystemTime::now())
        {
            Ok(records) => {
                for r in &records {
                    node.remember_published(&r.key);
                }
            }
            Err(e) => tracing::warn!(error = %e, "kad: cannot list our published records"),
        }
        Ok(node)
    }

    /// The stream handler serving this node's protocol id with this node as its server.
    pub fn handler(&self) -> Result<KadHandler, KadError> {
        KadHandler::new(self.inner.config.clone(), Arc::new(self.clone()))
    }

    /// Our peer id.
    pub fn local_peer(&self) -> PeerId {
        self.inner.local
    }

    /// Our listen addresses.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        lock(&self.inner.listen_addrs).clone()
    }

    /// Replaces our listen addresses (e.g. once the swarm listens).
    pub fn set_listen_addrs(&self, addrs: Vec<Multiaddr>) {
        *lock(&self.inner.listen_addrs) = addrs;
    }

    /// Server or client mode.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The node's settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The record store.
    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.inner.store
    }

    /// The record validator.
    pub fn validator(&self) -> &Arc<dyn RecordValidator> {
        &self.inner.validator
    }

    /// Runs `f` on the routing table (locked for the duration: keep it short).
    pub fn with_routing_table<T>(&self, f: impl FnOnce(&mut RoutingTable) -> T) -> T {
        f(&mut lock(&self.inner.table))
    }

    /// Number of peers in the routing table.
    pub fn routing_table_len(&self) -> usize {
        lock(&self.inner.table).len()
    }

    /// Number of peers in the address book of peers learned from responses.
    pub fn address_book_len(&self) -> usize {
        lock(&self.inner.book).len()
    }

    /// Installs a callback told about the progress of every lookup (`None` removes it).
    pub fn set_progress(&self, f: Option<ProgressFn>) {
        *lock(&self.inner.progress) = f;
    }

    /// Known addresses of `peer`: its routing-table entry, else the address book.
    pub fn addrs_of(&self, peer: &PeerId) -> Vec<Multiaddr> {
        if let Some(e) = lock(&self.inner.table).entry(peer) {
            if !e.addrs.is_empty() {
                return e.addrs.clone();
            }
        }
        lock(&self.inner.book).get(peer)
    }

    /// Remembers addresses of a peer (no routing-table change). No-op for ourselves.
    pub fn add_address(&self, peer: PeerId, addrs: &[Multiaddr]) {
        if peer != self.inner.local {
            lock(&self.inner.book).add(peer, addrs);
        }
    }

    /// The swarm identified `peer`: it enters the routing table if `protocols` lists our kad
    /// protocol id (else it is removed from it). A full bucket triggers a liveness check.
    pub fn on_peer_identified(
        &self,
        peer: PeerId,
        addrs: &[Multiaddr],
        protocols: &[String],
        now: Instant,
    ) -> InsertOutcome {
        let is_server = protocols
            .iter()
            .any(|p| *p == self.inner.config.protocol_id());
        self.add_address(peer, addrs);
        let outcome = {
            let mut t = lock(&self.inner.table);
            let o = t.on_peer_seen(peer, addrs, is_server, now);
            t.set_connected(&peer, true);
            o
        };
        self.after_insert(&outcome);
        outcome
    }

    /// The swarm lost its last connection to `peer` (it stays in the table, marked).
    pub fn on_peer_disconnected(&self, peer: &PeerId) {
        lock(&self.inner.table).set_connected(peer, false);
    }

    /// A peer evidently serving kad (it answered a request): offered to the routing table.
    pub(crate) fn on_server_seen(&self, peer: PeerId, addrs: &[Multiaddr]) {
        if peer == self.inner.local {
            return;
        }
        let outcome = lock(&self.inner.table).on_peer_seen(peer, addrs, true, Instant::now());
        self.after_insert(&outcome);
    }

    /// Starts the liveness check asked for by a full bucket, as a task of the network
    /// ([`KadNetwork::spawn`]).
    fn after_insert(&self, outcome: &InsertOutcome) {
        let InsertOutcome::Pending { check } = outcome else {
            return;
        };
        let node = self.clone();
        let check = *check;
        self.inner.network.spawn(Box::pin(async move {
            let alive = node.ping(&check).await.is_ok();
            let outcome = lock(&node.inner.table).on_liveness(&check, alive, Instant::now());
            tracing::debug!(peer = %check, alive, ?outcome, "kad liveness check");
        }));
    }
}
