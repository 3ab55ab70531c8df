//! The async shell: [`MplexConfig`] as a `chainp2p_core::MuxerHandler`, and [`MplexMuxer`], the
//! `chainp2p_core::Muxer` handle over an `Arc<Mutex<Session>>` whose I/O runs in the driver
//! future returned beside it.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use async_trait::async_trait;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Muxer, MuxerHandler};
use futures::future::BoxFuture;

use crate::config::MplexConfig;
use crate::driver::Driver;
use crate::session::{Session, Stats};
use crate::shared::{lock, now, Core, Shared, SharedRef};
use crate::stream::MplexStream;

/// The protocol id.
pub const PROTOCOL: &str = "/mplex/6.7.0";

/// The driver future: does the session's I/O; must be polled (spawned) until it completes.
pub type DriverFuture = BoxFuture<'static, Result<(), ChainError>>;

/// Starts a session on `io` without the chain machinery: returns the muxer and the driver
/// future, which must be polled (spawned) until it completes. Fails if `config` is invalid.
pub fn start(
    io: BoxStream,
    config: MplexConfig,
) -> Result<(Arc<MplexMuxer>, DriverFuture), ChainError> {
    config.validate()?;
    let shared: SharedRef = Arc::new(Mutex::new(Shared::new(Core(Session::new(config)))));
    let driver = Driver::new(io, shared.clone());
    Ok((Arc::new(MplexMuxer { shared }), Box::pin(driver)))
}

#[async_trait]
impl MuxerHandler for MplexConfig {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    /// mplex stream ids do not depend on the role: both sides count from 0.
    async fn multiplex(
        &self,
        io: BoxStream,
        _ctx: &HandlerContext,
    ) -> Result<(Arc<dyn Muxer>, DriverFuture), ChainError> {
        let (muxer, driver) = start(io, self.clone())?;
        Ok((muxer as Arc<dyn Muxer>, driver))
    }
}

/// An mplex session handle, shared by everyone opening or accepting substreams.
#[derive(Debug)]
pub struct MplexMuxer {
    shared: SharedRef,
}

impl MplexMuxer {
    /// Opens an outbound stream (never waits: mplex has no ACK; the peer may reset it if it
    /// is over its inbound limit).
    pub async fn open(&self) -> Result<MplexStream, ChainError> {
        let id = {
            let mut g = lock(&self.shared);
            let id = g.session.open_stream()?;
            g.wake_driver();
            id
        };
        Ok(MplexStream::new(id, self.shared.clone()))
    }

    /// Waits for the next inbound stream; `Ok(None)` once the session ended cleanly.
    pub async fn accept(&self) -> Result<Option<MplexStream>, ChainError> {
        let id = poll_fn(|cx| {
            let mut g = lock(&self.shared);
            let accepted = g.session.accept(now());
            // Accepting may let input held for room in the accept queue resume.
            g.dispatch();
            if let Some(id) = accepted {
                return Poll::Ready(Ok(Some(id)));
            }
            g.poll_inbound_end(cx.waker()).map_ok(|()| None)
        })
        .await?;
        Ok(id.map(|id| MplexStream::new(id, self.shared.clone())))
    }

    /// Counters of tolerated anomalies (skipped frames, refused streams, overflow resets).
    pub fn stats(&self) -> Stats {
        lock(&self.shared).session.stats()
    }

    /// Closes the session (mplex has no GoAway): no new streams, everything queued is written,
    /// then the connection is closed. Waits until the driver finished; returns its error if
    /// the session had failed.
    pub async fn shutdown(&self) -> Result<(), ChainError> {
        poll_fn(|cx| {
            let mut g = lock(&self.shared);
            if !g.session.is_closing() {
                g.session.close();
                g.wake_driver();
            }
            g.poll_driver_done(cx.waker()).map_err(ChainError::from)
        })
        .await
    }
}

#[async_trait]
impl Muxer for MplexMuxer {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    async fn open_stream(&self) -> Result<BoxStream, ChainError> {
        Ok(Box::new(self.open().await?))
    }

    async fn accept_stream(&self) -> Result<Option<BoxStream>, ChainError> {
        Ok(self.accept().await?.map(|s| Box::new(s) as BoxStream))
    }

    async fn close(&self) -> Result<(), ChainError> {
        self.shutdown().await
    }

    fn is_closed(&self) -> bool {
        let g = lock(&self.shared);
        g.driver_done || g.session.is_closing() || g.session.termination().is_some()
    }
}
