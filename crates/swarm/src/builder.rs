//! The chain as configuration: security and muxer handlers in preference order, the table of
//! application protocols, limits and timeouts.

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{MuxerLayer, SecurityLayer, StreamHandler};
use chainp2p_multistream::MultistreamConfig;
use chainp2p_transport_tcp::TcpConfig;

use crate::node::Swarm;

/// Builds a [`Swarm`]. Defaults: security `[/noise]`, muxer `[/yamux/1.0.0]`, application
/// protocols `/ipfs/ping/1.0.0`, `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`; upgrade timeout
/// 20 s.
pub struct SwarmBuilder {
    pub(crate) keypair: Arc<Keypair>,
    pub(crate) security: Vec<Arc<dyn StreamHandler>>,
    pub(crate) muxers: Vec<Arc<dyn StreamHandler>>,
    pub(crate) protocols: Vec<Arc<dyn StreamHandler>>,
    pub(crate) multistream: MultistreamConfig,
    pub(crate) tcp: TcpConfig,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) idle_connection_timeout: Option<Duration>,
    pub(crate) agent_version: String,
    pub(crate) protocol_version: String,
}

impl SwarmBuilder {
    /// A builder with the default chain for the given identity.
    pub fn new(keypair: Keypair) -> Self {
        SwarmBuilder {
            keypair: Arc::new(keypair),
            security: vec![Arc::new(SecurityLayer(chainp2p_noise::NoiseConfig::new()))],
            muxers: vec![Arc::new(MuxerLayer(chainp2p_yamux::YamuxConfig::default()))],
            protocols: Vec::new(),
            multistream: MultistreamConfig::default(),
            tcp: TcpConfig::default(),
            upgrade_timeout: Duration::from_secs(20),
            idle_connection_timeout: None,
            agent_version: format!("chain-node/{}", env!("CARGO_PKG_VERSION")),
            protocol_version: "ipfs/0.1.0".to_owned(),
        }
    }

    /// The PeerId of the identity the swarm will have.
    pub fn local_peer_id(&self) -> chainp2p_core::identity::PeerId {
        self.keypair.public().to_peer_id()
    }

    /// Replaces the security handlers (preference order), e.g.
    /// `vec![Arc::new(SecurityLayer(NoiseConfig::new()))]`.
    pub fn security(mut self, handlers: Vec<Arc<dyn StreamHandler>>) -> Self {
        self.security = handlers;
        self
    }

    /// Replaces the muxer handlers (preference order): swapping yamux for mplex is
    /// `.muxers(vec![Arc::new(MuxerLayer(MplexConfig::default()))])`.
    pub fn muxers(mut self, handlers: Vec<Arc<dyn StreamHandler>>) -> Self {
        self.muxers = handlers;
        self
    }

    /// Adds an application protocol handler, served on inbound substreams for each of its
    /// protocol ids. Ping and identify are always served.
    pub fn protocol(mut self, handler: Arc<dyn StreamHandler>) -> Self {
        self.protocols.push(handler);
        self
    }

    /// Multistream-select settings used at every negotiation step.
    pub fn multistream(mut self, config: MultistreamConfig) -> Self {
        self.multistream = config;
        self
    }

    /// TCP settings (nodelay, dial timeout).
    pub fn tcp(mut self, config: TcpConfig) -> Self {
        self.tcp = config;
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

    /// The agent version announced by identify.
    pub fn agent_version(mut self, agent: impl Into<String>) -> Self {
        self.agent_version = agent.into();
        self
    }

    /// Builds the swarm. Must be called within a tokio runtime's context only when used.
    pub fn build(self) -> Swarm {
        Swarm::from_builder(self)
    }
}
