//! The async shell: [`YamuxConfig`] as a `chainp2p_core::MuxerHandler`, and [`YamuxMuxer`], the
//! `chainp2p_core::Muxer` handle over an `Arc<Mutex<Session>>` whose I/O runs in the driver
//! future returned beside it.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chainp2p_core::{
    BoxStream, ChainError, HandlerContext, MemoryBudget, Muxer, MuxerHandler, PeerFraming, Role,
};
use futures::future::BoxFuture;

use crate::codec::GoAwayCode;
use crate::config::{Dialect, YamuxConfig};
use crate::driver::Driver;
use crate::session::{Mode, Session, Stats};
use crate::shared::{lock, register, Core, Shared, SharedRef};
use crate::stream::YamuxStream;

/// The protocol id.
pub const PROTOCOL: &str = "/yamux/1.0.0";

/// How c-ipfs's identify agentVersion starts (`c-ipfs/1.0`).
const C_IPFS_AGENT: &str = "c-ipfs/";

/// The driver future: does the session's I/O; must be polled (spawned) until it completes.
pub type DriverFuture = BoxFuture<'static, Result<(), ChainError>>;

/// Starts a session on `io` without the chain machinery: returns the muxer and the driver
/// future, which must be polled (spawned) until it completes, on any executor (the keep-alive
/// timer is a `futures-timer` delay and needs no runtime).
pub fn start(
    io: BoxStream,
    mode: Mode,
    config: YamuxConfig,
) -> Result<(Arc<YamuxMuxer>, DriverFuture), ChainError> {
    start_with_budget(io, mode, config, None)
}

/// [`start`], with window growth reserved from `memory` as well (see
/// `Session::set_memory_budget`).
pub fn start_with_budget(
    io: BoxStream,
    mode: Mode,
    config: YamuxConfig,
    memory: Option<Arc<dyn MemoryBudget>>,
) -> Result<(Arc<YamuxMuxer>, DriverFuture), ChainError> {
    config.validate()?;
    let mut session = Session::new(mode, config);
    if let Some(budget) = memory {
        session.set_memory_budget(budget);
    }
    let shared: SharedRef = Arc::new(Mutex::new(Shared::new(Core(session))));
    let driver = Driver::new(io, shared.clone());
    Ok((Arc::new(YamuxMuxer { shared }), Box::pin(driver)))
}

#[async_trait]
impl MuxerHandler for YamuxConfig {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    /// We are the client (odd ids) iff we dialed the connection (`ctx.role == Role::Dialer`).
    /// [`Dialect::Auto`] becomes [`Dialect::FramePerWrite`] for a peer whose security layer
    /// says it parses one message per frame (`ctx.peer_framing`), [`Dialect::Standard`]
    /// otherwise.
    async fn multiplex(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<(Arc<dyn Muxer>, DriverFuture), ChainError> {
        let mode = match ctx.role {
            Role::Dialer => Mode::Client,
            Role::Listener => Mode::Server,
        };
        let mut config = self.clone();
        if config.dialect == Dialect::Auto {
            config.dialect = match ctx.peer_framing {
                PeerFraming::MessagePerFrame => Dialect::FramePerWrite,
                _ => Dialect::Standard,
            };
        }
        let (muxer, driver) = start_with_budget(io, mode, config, ctx.memory.clone())?;
        Ok((muxer as Arc<dyn Muxer>, driver))
    }
}

/// A yamux session handle, shared by everyone opening or accepting substreams.
#[derive(Debug)]
pub struct YamuxMuxer {
    shared: SharedRef,
}

impl YamuxMuxer {
    /// Opens an outbound stream (waits while `ack_backlog` streams are unacknowledged).
    pub async fn open(&self) -> Result<YamuxStream, ChainError> {
        let id = poll_fn(|cx| {
            let mut g = lock(&self.shared);
            match g.session.open_stream() {
                Ok(Some(id)) => {
                    g.wake_driver();
                    Poll::Ready(Ok(id))
                }
                Ok(None) => {
                    register(&mut g.open, cx.waker());
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .await?;
        Ok(YamuxStream::new(id, self.shared.clone()))
    }

    /// Waits for the next inbound stream; `Ok(None)` once the session ended cleanly.
    pub async fn accept(&self) -> Result<Option<YamuxStream>, ChainError> {
        let id = poll_fn(|cx| {
            let mut g = lock(&self.shared);
            if let Some(id) = g.session.accept() {
                g.wake_driver();
                return Poll::Ready(Ok(Some(id)));
            }
            g.poll_inbound_end(cx.waker()).map_ok(|()| None)
        })
        .await?;
        Ok(id.map(|id| YamuxStream::new(id, self.shared.clone())))
    }

    /// Queues a ping; its round trip shows in [`YamuxMuxer::rtt`] once answered.
    pub fn ping(&self) {
        let mut g = lock(&self.shared);
        g.session.ping(Instant::now());
        g.dispatch();
    }

    /// The last measured round-trip time.
    pub fn rtt(&self) -> Option<Duration> {
        lock(&self.shared).session.rtt()
    }

    /// Counters of tolerated anomalies (ignored frames, refused streams).
    pub fn stats(&self) -> Stats {
        lock(&self.shared).session.stats()
    }

    /// The GoAway code the peer sent, if any.
    pub fn goaway_received(&self) -> Option<GoAwayCode> {
        lock(&self.shared).session.goaway_received()
    }

    /// Sends GoAway(normal), waits until it and everything queued before it is written, then
    /// closes the connection.
    pub async fn shutdown(&self) -> Result<(), ChainError> {
        poll_fn(|cx| {
            let mut g = lock(&self.shared);
            if !g.closing {
                g.closing = true;
                g.session.go_away(GoAwayCode::Normal);
                g.dispatch();
                g.wake_driver();
            }
            g.poll_driver_done(cx.waker()).map_err(ChainError::from)
        })
        .await
    }
}

#[async_trait]
impl Muxer for YamuxMuxer {
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

    /// A frame-per-write session whose peer says it is c-ipfs (`c-ipfs/…`) switches to
    /// [`Dialect::CLibp2p`]; for any other agent the FINs held back for it go out.
    fn peer_agent(&self, agent_version: &str) {
        let mut g = lock(&self.shared);
        if g.session.config().dialect != Dialect::FramePerWrite {
            return;
        }
        if agent_version.starts_with(C_IPFS_AGENT) {
            tracing::debug!(agent_version, "yamux: c-ipfs peer, its workarounds on");
            g.session.set_dialect(Dialect::CLibp2p);
        } else {
            g.session.peer_agent_known();
        }
        g.dispatch();
        g.wake_driver();
    }

    fn is_closed(&self) -> bool {
        let g = lock(&self.shared);
        g.driver_done || g.closing || g.session.termination().is_some()
    }
}
