//! One established connection: its authenticated peer, its chain, its muxer; opening
//! substreams on it and serving the substreams the peer opens.

use std::sync::Arc;

use chainp2p_core::identity::{PeerId, PublicKey};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{
    BoxStream, ChainError, HandlerContext, Muxer, NegotiatedChain, PeerFraming, Role,
};
use chainp2p_multistream::{Multistream, MultistreamConfig};
use tracing::Instrument;

use crate::activity::Activity;
use crate::resources::{ResourceManager, StreamPermits};

/// Who dialed a connection. A closed pair: matches on it need no wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We dialed.
    Outbound,
    /// The peer dialed us.
    Inbound,
}

impl Direction {
    /// `"inbound"` or `"outbound"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// A connection whose chain is complete. Cheap to clone; all clones share the session.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<ConnectionInner>,
}

struct ConnectionInner {
    id: u64,
    peer_id: PeerId,
    remote_key: Option<PublicKey>,
    direction: Direction,
    remote_addr: Multiaddr,
    chain: NegotiatedChain,
    muxer: Arc<dyn Muxer>,
    multistream: MultistreamConfig,
    peer_framing: PeerFraming,
    activity: Arc<Activity>,
    resources: Arc<ResourceManager>,
    established: std::time::Instant,
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<crate::metrics::SwarmMetrics>>,
}

impl Connection {
    #[allow(clippy::too_many_arguments)] // the parts of a connection, each from a different owner
    pub(crate) fn new(
        id: u64,
        direction: Direction,
        ctx: &HandlerContext,
        remote_addr: Multiaddr,
        muxer: Arc<dyn Muxer>,
        multistream: MultistreamConfig,
        resources: Arc<ResourceManager>,
        #[cfg(feature = "metrics")] metrics: Option<Arc<crate::metrics::SwarmMetrics>>,
    ) -> Result<Self, ChainError> {
        let peer_id = ctx.remote_peer.ok_or_else(|| {
            ChainError::new(
                crate::LAYER,
                chainp2p_core::ErrorKind::Authentication,
                "connection without an authenticated peer",
            )
        })?;
        Ok(Connection {
            inner: Arc::new(ConnectionInner {
                id,
                peer_id,
                remote_key: ctx.remote_key.clone(),
                direction,
                remote_addr,
                chain: ctx.chain.clone(),
                muxer,
                // Substreams we open negotiate the way the peer reads (c-ipfs: the request
                // goes with the proposal); inbound ones get theirs from `ctx` in `dispatch`.
                multistream: multistream.for_peer_substreams(ctx.peer_framing),
                peer_framing: ctx.peer_framing,
                activity: Activity::new(),
                resources,
                established: std::time::Instant::now(),
                #[cfg(feature = "metrics")]
                metrics,
            }),
        })
    }

    /// A number unique within this swarm.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The authenticated remote peer.
    pub fn peer_id(&self) -> PeerId {
        self.inner.peer_id
    }

    /// The remote's authenticated public key.
    pub fn remote_public_key(&self) -> Option<&PublicKey> {
        self.inner.remote_key.as_ref()
    }

    /// Who dialed.
    pub fn direction(&self) -> Direction {
        self.inner.direction
    }

    /// The remote transport address.
    pub fn remote_addr(&self) -> &Multiaddr {
        &self.inner.remote_addr
    }

    /// Which protocol each layer picked, and how long each took.
    pub fn chain(&self) -> &NegotiatedChain {
        &self.inner.chain
    }

    /// How the peer parses our writes, as its security layer found
    /// ([`PeerFraming::MessagePerFrame`] for c-libp2p-era peers behind secio).
    pub fn peer_framing(&self) -> PeerFraming {
        self.inner.peer_framing
    }

    /// Asks the peer who it is over `/ipfs/id/1.0.0`, with the default limits adjusted to the
    /// peer ([`chainp2p_identify::IdentifyConfig::for_peer`]: c-ipfs sends one message, never
    /// closes and puts no key in it), and tells the muxer the peer's agent
    /// ([`Muxer::peer_agent`]) before closing the stream.
    #[cfg(feature = "identify")]
    pub async fn identify(&self) -> Result<chainp2p_identify::IdentifyInfo, ChainError> {
        let mut stream = self.open_stream(chainp2p_identify::PROTOCOL).await?;
        let config = chainp2p_identify::IdentifyConfig::default()
            .for_peer(self.inner.peer_framing, self.inner.remote_key.clone());
        let info =
            chainp2p_identify::read_answer(&mut stream, Some(&self.inner.peer_id), &config).await?;
        self.inner.muxer.peer_agent(&info.agent_version);
        if let Err(e) = futures::AsyncWriteExt::close(&mut stream).await {
            tracing::debug!(error = %e, "identify: closing the request stream failed after a complete answer");
        }
        Ok(info)
    }

    /// When the connection's chain completed.
    pub fn established_at(&self) -> std::time::Instant {
        self.inner.established
    }

    /// How long the connection has had no substream open (`None` while one is).
    pub fn idle_for(&self, now: std::time::Instant) -> Option<std::time::Duration> {
        self.inner.activity.idle_for(now)
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.inner.muxer.is_closed()
    }

    /// Opens a substream and negotiates `protocol` on it (we propose, as multistream dialer).
    /// Over a resource limit (streams in total, with this peer, of this protocol) it fails
    /// with `ErrorKind::LimitExceeded` naming the scope, before anything is sent.
    pub async fn open_stream(&self, protocol: &str) -> Result<BoxStream, ChainError> {
        let span = tracing::debug_span!("substream", conn = self.inner.id, %protocol);
        async {
            let rm = &self.inner.resources;
            let permits = StreamPermits {
                _stream: rm.admit_stream(self.inner.peer_id)?,
                _protocol: Some(rm.admit_protocol(self.inner.peer_id, protocol)?),
                // Outbound substreams are counted when opened, under the protocol we propose.
                #[cfg(feature = "metrics")]
                _metrics: self
                    .inner
                    .metrics
                    .as_ref()
                    .map(|m| m.substream_opened(protocol, Direction::Outbound)),
            };
            let raw = self
                .inner
                .activity
                .track(self.inner.muxer.open_stream().await?, Some(permits));
            let negotiated = chainp2p_multistream::dialer_select(
                raw,
                &[protocol.to_owned()],
                &self.inner.multistream,
            )
            .await?;
            Ok(negotiated.io)
        }
        .instrument(span)
        .await
    }

    /// Closes the session gracefully (the muxer's goodbye), then the socket.
    pub async fn close(&self) -> Result<(), ChainError> {
        self.inner.muxer.close().await
    }

    /// Accepts the peer's substreams until the session ends, negotiating each against the
    /// application table and running the chosen handler in its own task (started by `spawn`,
    /// the swarm's task owner).
    pub(crate) async fn serve_inbound(
        self,
        apps: Arc<Multistream>,
        ctx: HandlerContext,
        spawn: impl Fn(futures::future::BoxFuture<'static, ()>),
    ) {
        let ctx = ctx.with_role(Role::Listener);
        loop {
            match self.inner.muxer.accept_stream().await {
                Ok(Some(stream)) => {
                    // Over a stream limit the newcomer is reset (dropped); the rest go on.
                    let permit = match self.inner.resources.admit_stream(self.inner.peer_id) {
                        Ok(permit) => permit,
                        Err(e) => {
                            tracing::debug!(error = %e, "inbound substream refused");
                            drop(stream);
                            continue;
                        }
                    };
                    let permits = StreamPermits {
                        _stream: permit,
                        _protocol: None,
                        #[cfg(feature = "metrics")]
                        _metrics: None,
                    };
                    let stream = self.inner.activity.track(stream, Some(permits));
                    let apps = apps.clone();
                    let ctx = ctx.clone();
                    let span = tracing::debug_span!("inbound-substream", conn = self.inner.id);
                    spawn(Box::pin(
                        async move {
                            match apps.dispatch(stream, ctx).await {
                                Ok(done) => {
                                    tracing::debug!(protocol = %done.protocol, "substream done")
                                }
                                Err(e) => tracing::debug!(error = %e, "substream failed"),
                            }
                        }
                        .instrument(span),
                    ));
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "accepting substreams stopped");
                    break;
                }
            }
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.inner.id)
            .field("peer_id", &self.inner.peer_id)
            .field("direction", &self.inner.direction)
            .field("remote_addr", &self.inner.remote_addr)
            .field("chain", &self.inner.chain.protocols())
            .finish()
    }
}
