//! The chain as configuration: transports, security and muxer handlers in preference order, the
//! table of application protocols, limits and timeouts.
//!
//! The slots are typed: [`SwarmBuilder::security`] takes [`SecurityHandler`]s and
//! [`SwarmBuilder::muxers`] takes [`MuxerHandler`]s, so a muxer cannot be put in the security
//! slot. Which defaults exist depends on the crate's features (see the crate docs).
//!
//! ```
//! # use chainp2p_swarm::{SwarmBuilder, identity::Keypair};
//! let builder = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .security([chainp2p_noise::NoiseConfig::new()])
//!     .muxers([chainp2p_yamux::YamuxConfig::default()]);
//! ```
//!
//! ```compile_fail
//! # use chainp2p_swarm::{SwarmBuilder, identity::Keypair};
//! // A muxer in the security slot does not compile.
//! let builder = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .security([chainp2p_yamux::YamuxConfig::default()]);
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::{
    BoxStream, MuxerHandler, MuxerLayer, SecurityHandler, SecurityLayer, StreamHandler, Transport,
};
use chainp2p_multistream::MultistreamConfig;

use crate::conn_manager::ConnectionManagerConfig;
use crate::limits::ResourceLimits;
use crate::node::Swarm;
use crate::protocol::{Protocol, ProtocolFn, ProtocolHandler};

/// Builds a [`Swarm`]. Defaults, each from a default feature of this crate: transport TCP
/// (`tcp`), security `[/noise]` (`noise`), muxer `[/yamux/1.0.0]` (`yamux`), application
/// protocols `/ipfs/ping/1.0.0` (`ping`) and `/ipfs/id/1.0.0` + `/ipfs/id/push/1.0.0`
/// (`identify`); upgrade timeout 20 s; multistream [`MultistreamConfig::default`], with the
/// connection's own steps negotiated lazily as dialer ([`SwarmBuilder::lazy_upgrade`]).
/// Without a feature its slot starts empty.
pub struct SwarmBuilder {
    pub(crate) keypair: Arc<Keypair>,
    pub(crate) transports: Vec<Arc<dyn Transport>>,
    pub(crate) security: Vec<Arc<dyn StreamHandler>>,
    pub(crate) muxers: Vec<Arc<dyn StreamHandler>>,
    pub(crate) protocols: Vec<Arc<dyn StreamHandler>>,
    pub(crate) multistream: MultistreamConfig,
    pub(crate) lazy_upgrade: bool,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) idle_connection_timeout: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) agent_version: String,
    pub(crate) protocol_version: String,
    pub(crate) limits: ResourceLimits,
    pub(crate) conn_manager: Option<ConnectionManagerConfig>,
    pub(crate) event_capacity: usize,
    #[cfg(feature = "identify")]
    pub(crate) identify: chainp2p_identify::IdentifyConfig,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::SwarmMetrics>>,
}

/// Default of [`SwarmBuilder::event_capacity`].
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

impl SwarmBuilder {
    /// A builder with the default chain for the given identity.
    pub fn new(keypair: Keypair) -> Self {
        SwarmBuilder {
            keypair: Arc::new(keypair),
            transports: default_transports(),
            security: default_security(),
            muxers: default_muxers(),
            protocols: Vec::new(),
            multistream: MultistreamConfig::default(),
            lazy_upgrade: true,
            upgrade_timeout: Duration::from_secs(20),
            idle_connection_timeout: None,
            shutdown_timeout: Duration::from_secs(2),
            agent_version: format!("chain-node/{}", env!("CARGO_PKG_VERSION")),
            protocol_version: "ipfs/0.1.0".to_owned(),
            limits: ResourceLimits::auto(),
            conn_manager: Some(ConnectionManagerConfig::default()),
            event_capacity: DEFAULT_EVENT_CAPACITY,
            #[cfg(feature = "identify")]
            identify: chainp2p_identify::IdentifyConfig::default(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// The PeerId of the identity the swarm will have.
    pub fn local_peer_id(&self) -> chainp2p_core::identity::PeerId {
        self.keypair.public().to_peer_id()
    }

    /// Replaces the transports. A dial or listen uses the first transport that
    /// [handles](Transport::handles) the address, e.g.
    /// `.transports([MemoryTransport::default()])` for a swarm in memory.
    pub fn transports<T: Transport>(mut self, transports: impl IntoIterator<Item = T>) -> Self {
        self.transports = transports
            .into_iter()
            .map(|t| Arc::new(t) as Arc<dyn Transport>)
            .collect();
        self
    }

    /// Adds a transport after the ones already there.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transports.push(Arc::new(transport));
        self
    }

    /// TCP with these settings (nodelay, dial timeout) in place of the transports.
    #[cfg(feature = "tcp")]
    pub fn tcp(self, config: chainp2p_transport_tcp::TcpConfig) -> Self {
        self.transports([chainp2p_transport_tcp::TcpTransport::new(config)])
    }

    /// Replaces the security handlers (preference order), e.g. `.security([NoiseConfig::new()])`.
    /// Different kinds in one list: `[Arc::new(noise) as Arc<dyn SecurityHandler>, Arc::new(secio)]`.
    pub fn security<S: SecurityHandler>(mut self, handlers: impl IntoIterator<Item = S>) -> Self {
        self.security = handlers
            .into_iter()
            .map(|h| Arc::new(SecurityLayer(h)) as Arc<dyn StreamHandler>)
            .collect();
        self
    }

    /// Replaces the muxer handlers (preference order): swapping yamux for mplex is
    /// `.muxers([MplexConfig::default()])`.
    pub fn muxers<M: MuxerHandler>(mut self, handlers: impl IntoIterator<Item = M>) -> Self {
        self.muxers = handlers
            .into_iter()
            .map(|h| Arc::new(MuxerLayer(h)) as Arc<dyn StreamHandler>)
            .collect();
        self
    }

    /// Adds an application protocol handler, served on inbound substreams for each of its
    /// protocol ids (beside ping and identify, when their features are on).
    pub fn protocol(mut self, handler: Arc<dyn StreamHandler>) -> Self {
        self.protocols.push(handler);
        self
    }

    /// Serves an application [`Protocol`] under the id `id` on inbound substreams: the
    /// protocol gets the stream and the remote peer and returns `std::io::Result<()>` (an
    /// error becomes a [`ChainError`](chainp2p_core::ChainError) named after `id`, logged as
    /// a failed substream). The chain's own [`StreamHandler`] is [`SwarmBuilder::protocol`].
    pub fn serve(self, id: impl Into<String>, protocol: impl Protocol) -> Self {
        self.protocol(Arc::new(ProtocolHandler::new(id, protocol)))
    }

    /// Serves a closure as an application protocol under the id `id`:
    /// `.serve_fn("/echo/1.0.0", |mut stream, peer| async move { …; Ok(()) })`
    /// (see [`SwarmBuilder::serve`]).
    pub fn serve_fn<F, Fut>(self, id: impl Into<String>, handler: F) -> Self
    where
        F: Fn(BoxStream, PeerId) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        self.serve(id, ProtocolFn(handler))
    }

    /// Multistream-select settings used at every negotiation step (see also
    /// [`SwarmBuilder::lazy_upgrade`]).
    pub fn multistream(mut self, config: MultistreamConfig) -> Self {
        self.multistream = config;
        self
    }

    /// Whether a dialed connection's own steps (security, muxer) negotiate lazily, as
    /// rust-libp2p's dialer (`V1Lazy`): a step that proposes exactly one protocol sends header
    /// and proposal with its first bytes and does not wait for the echo, which saves a round
    /// trip per step. Default `true`. A step with several protocols, every listener, and
    /// [`MultistreamConfig::one_message_per_write`] (c-ipfs) negotiate as before, and so do
    /// the substreams we open ([`crate::Connection::open_stream`] still fails on a protocol
    /// the peer refuses) unless [`MultistreamConfig::lazy`] is set.
    pub fn lazy_upgrade(mut self, lazy: bool) -> Self {
        self.lazy_upgrade = lazy;
        self
    }

    /// Bound on the whole chain setup of one connection (all negotiations and handshakes).
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// Closes connections that had no substream open for `timeout` (checked every quarter of
    /// it, at least every second). Default `None`: connections live until either side closes
    /// them.
    pub fn idle_connection_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_connection_timeout = timeout;
        self
    }

    /// Bound on [`Swarm::shutdown`]: every connection is closed gracefully at once, and what
    /// has not finished by then is cut (default 2 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The agent version announced by identify.
    pub fn agent_version(mut self, agent: impl Into<String>) -> Self {
        self.agent_version = agent.into();
        self
    }

    /// The resource manager's limits (default: [`ResourceLimits::auto`], go-libp2p's defaults
    /// scaled to 1/8 of this machine's RAM).
    pub fn resource_limits(mut self, limits: ResourceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The connection manager's water marks (default: kubo's, 32 / 96 with a 20 s grace
    /// period); `None` turns it off.
    pub fn connection_manager(mut self, config: Option<ConnectionManagerConfig>) -> Self {
        self.conn_manager = config;
        self
    }

    /// How many events a slow [`Swarm::subscribe`] receiver may fall behind before it misses
    /// some (default [`DEFAULT_EVENT_CAPACITY`]; at least 1). The channel allocates its slots
    /// up front, about 180 bytes each: 1024 slots are ~184 kB per swarm, which dominates the
    /// heap of a swarm with few connections (1,000 swarms in one process: ~184 MB). The
    /// lossless feed ([`Swarm::observe`], which the Kademlia glue reads) is not affected.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }

    /// The identify limits (default [`chainp2p_identify::IdentifyConfig::default`]), e.g. a
    /// smaller `push_channel_capacity` (its slots are allocated up front).
    #[cfg(feature = "identify")]
    pub fn identify_config(mut self, config: chainp2p_identify::IdentifyConfig) -> Self {
        self.identify = config;
        self
    }

    /// Records the swarm's metrics in `registry`, under the prefix `chainp2p_swarm`:
    /// connections opened/closed/open by direction, security and muxer; handshake durations
    /// per layer; substreams opened/open by protocol and direction; transport bytes in and
    /// out; the resource manager's usage and refusals (read at scrape time). Without this
    /// call nothing is recorded and the transport streams are not wrapped.
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, registry: &mut prometheus_client::registry::Registry) -> Self {
        self.metrics = Some(crate::metrics::SwarmMetrics::register(registry));
        self
    }

    /// Builds the swarm. Must be called within a tokio runtime's context only when used.
    pub fn build(self) -> Swarm {
        Swarm::from_builder(self)
    }
}

// One push per default feature: without the feature the list stays empty.
#[allow(unused_mut, clippy::vec_init_then_push)]
fn default_transports() -> Vec<Arc<dyn Transport>> {
    let mut out: Vec<Arc<dyn Transport>> = Vec::new();
    #[cfg(feature = "tcp")]
    out.push(Arc::new(chainp2p_transport_tcp::TcpTransport::default()));
    out
}

#[allow(unused_mut, clippy::vec_init_then_push)]
fn default_security() -> Vec<Arc<dyn StreamHandler>> {
    let mut out: Vec<Arc<dyn StreamHandler>> = Vec::new();
    #[cfg(feature = "noise")]
    out.push(Arc::new(SecurityLayer(chainp2p_noise::NoiseConfig::new())));
    out
}

#[allow(unused_mut, clippy::vec_init_then_push)]
fn default_muxers() -> Vec<Arc<dyn StreamHandler>> {
    let mut out: Vec<Arc<dyn StreamHandler>> = Vec::new();
    #[cfg(feature = "yamux")]
    out.push(Arc::new(MuxerLayer(chainp2p_yamux::YamuxConfig::default())));
    out
}
