//! [`Admitted`]: an application handler behind the resource manager's protocol scopes. Every
//! handler of the swarm's application table is wrapped in one, so an inbound substream is
//! admitted for its protocol (in total and with its peer) once multistream has agreed on it,
//! and holds that slot while the handler runs; over the limit the substream is dropped
//! (reset) with `ErrorKind::LimitExceeded` and the handler never runs.

use std::sync::Arc;

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Next, StreamHandler};

use crate::resources::ResourceManager;
use crate::LAYER;

/// See the module docs.
pub(crate) struct Admitted {
    pub(crate) inner: Arc<dyn StreamHandler>,
    pub(crate) resources: Arc<ResourceManager>,
    /// Counts the substream by protocol (inbound) while the handler runs.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::SwarmMetrics>>,
}

#[async_trait]
impl StreamHandler for Admitted {
    fn protocols(&self) -> Vec<String> {
        self.inner.protocols()
    }

    async fn handle(
        &self,
        protocol: &str,
        io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        let peer = ctx.remote_peer.ok_or_else(|| {
            ChainError::new(
                LAYER,
                ErrorKind::Authentication,
                "substream without an authenticated peer",
            )
        })?;
        let _slot = self.resources.admit_protocol(peer, protocol)?;
        #[cfg(feature = "metrics")]
        let _counted = self
            .metrics
            .as_ref()
            .map(|m| m.substream_opened(protocol, crate::Direction::Inbound));
        self.inner.handle(protocol, io, ctx).await
    }
}
