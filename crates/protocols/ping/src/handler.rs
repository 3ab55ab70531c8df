//! The listener side: a [`StreamHandler`] that echoes 32-byte pings until the dialer closes.

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Next, StreamHandler};
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::error::io_err;
use crate::protocol::{read_full, PING_SIZE};
use crate::{PingConfig, PingError, PROTOCOL};

/// Answers `/ipfs/ping/1.0.0`: reads exactly 32 bytes, writes them back, until EOF; then
/// closes its side and returns [`Next::Done`]. Gives up when no ping (nor EOF) arrives within
/// [`PingConfig::idle_timeout`].
#[derive(Debug, Clone, Default)]
pub struct PingHandler {
    config: PingConfig,
}

impl PingHandler {
    /// A handler with the given settings.
    pub fn new(config: PingConfig) -> Self {
        PingHandler { config }
    }

    /// Echoes pings on `io` until EOF; returns how many pings were answered.
    pub async fn serve<S>(&self, io: &mut S) -> Result<u64, ChainError>
    where
        S: AsyncRead + AsyncWrite + Unpin + ?Sized,
    {
        let mut buf = [0u8; PING_SIZE];
        let mut answered = 0u64;
        loop {
            let idle = self.config.idle_timeout;
            let got = tokio::time::timeout(idle, read_full(io, &mut buf))
                .await
                .map_err(|_| PingError::Timeout {
                    what: "ping",
                    after: idle,
                })?
                .map_err(io_err)?;
            match got {
                0 => break,
                PING_SIZE => {}
                got => return Err(PingError::Truncated { got }.into()),
            }
            io.write_all(&buf).await.map_err(io_err)?;
            io.flush().await.map_err(io_err)?;
            answered += 1;
        }
        io.close().await.map_err(io_err)?;
        Ok(answered)
    }
}

#[async_trait]
impl StreamHandler for PingHandler {
    fn protocols(&self) -> Vec<String> {
        vec![PROTOCOL.to_owned()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        // An idle ping stream waits here: keep only the peer id of the context.
        let peer = ctx.remote_peer;
        drop(ctx);
        let answered = self.serve(&mut io).await?;
        tracing::trace!(?peer, answered, "ping stream done");
        Ok(Next::Done)
    }
}
