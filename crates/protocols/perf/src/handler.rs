//! The server side: a [`StreamHandler`] that reads the request, drains the upload until EOF,
//! and only then sends the requested bytes.

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Next, StreamHandler};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::io_err;
use crate::protocol::{decode_request, REQUEST_LEN};
use crate::stream::{drain, write_zeros};
use crate::{PerfConfig, PerfError, PROTOCOL};

/// Serves `/perf/1.0.0`. See [`PerfConfig`] for the cap on what a client may demand.
#[derive(Debug, Clone, Default)]
pub struct PerfHandler {
    config: PerfConfig,
}

/// What one served run moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Bytes the client uploaded.
    pub received: u64,
    /// Bytes we sent back.
    pub sent: u64,
}

impl PerfHandler {
    /// A handler with the given settings.
    pub fn new(config: PerfConfig) -> Self {
        PerfHandler { config }
    }

    /// Runs the server side on `io` and closes it.
    pub async fn serve<S>(&self, io: &mut S) -> Result<Served, ChainError>
    where
        S: AsyncRead + AsyncWrite + Unpin + ?Sized,
    {
        let mut header = [0u8; REQUEST_LEN];
        let mut got = 0;
        while let Some(rest) = header.get_mut(got..).filter(|r| !r.is_empty()) {
            match io.read(rest).await.map_err(io_err)? {
                0 => return Err(PerfError::TruncatedRequest { got }.into()),
                n => got += n,
            }
        }
        let requested = decode_request(header);
        if requested > self.config.max_download {
            return Err(PerfError::RequestTooLarge {
                requested,
                limit: self.config.max_download,
            }
            .into());
        }
        // Upload is unbounded by the protocol; u64::MAX cannot be exceeded in practice.
        let received = drain(io, u64::MAX)
            .await
            .map_err(io_err)?
            .unwrap_or(u64::MAX);
        write_zeros(io, requested).await.map_err(io_err)?;
        io.close().await.map_err(io_err)?;
        Ok(Served {
            received,
            sent: requested,
        })
    }
}

#[async_trait]
impl StreamHandler for PerfHandler {
    fn protocols(&self) -> Vec<String> {
        vec![PROTOCOL.to_owned()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        let served = self.serve(&mut io).await?;
        tracing::debug!(peer = ?ctx.remote_peer, received = served.received, sent = served.sent, "perf run served");
        Ok(Next::Done)
    }
}
