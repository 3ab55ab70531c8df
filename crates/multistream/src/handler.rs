//! The async shell: drives a [`Dialer`] or [`Listener`] over a [`BoxStream`] under a timeout,
//! and [`Multistream`], the [`StreamHandler`] that negotiates and then runs the chosen handler.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use chainp2p_core::{
    BoxStream, ChainError, ErrorKind, HandlerContext, LayerKind, Next, Role, StreamHandler,
};
use futures::future::{select, Either};
use futures::{AsyncReadExt, AsyncWriteExt};
use futures_timer::Delay;

use crate::config::MultistreamConfig;
use crate::dialer::Dialer;
use crate::error::{MultistreamError, LAYER};
use crate::listener::Listener;
use crate::state::Event;
use crate::stream::{LazyDialerStream, Prefixed};

pub use crate::message::PROTOCOL;

/// Size of the reads made while negotiating.
const READ_CHUNK: usize = 1024;

/// The outcome of a negotiation.
pub struct Negotiated {
    /// The agreed protocol id.
    pub protocol: String,
    /// The stream, now carrying `protocol`; bytes already read past the negotiation come
    /// first.
    pub io: BoxStream,
    /// How long the negotiation took (zero-ish for a lazy dialer, which returns at once).
    pub elapsed: Duration,
}

impl std::fmt::Debug for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiated")
            .field("protocol", &self.protocol)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// What both machines offer to the drive loop.
trait Machine {
    fn handle_input(&mut self, data: &[u8]) -> Result<(), MultistreamError>;
    fn handle_eof(&mut self) -> Result<(), MultistreamError>;
    fn poll_transmit(&mut self) -> Option<Bytes>;
    fn is_done(&self) -> bool;
}

macro_rules! impl_machine {
    ($t:ty) => {
        impl Machine for $t {
            fn handle_input(&mut self, data: &[u8]) -> Result<(), MultistreamError> {
                <$t>::handle_input(self, data)
            }
            fn handle_eof(&mut self) -> Result<(), MultistreamError> {
                <$t>::handle_eof(self)
            }
            fn poll_transmit(&mut self) -> Option<Bytes> {
                <$t>::poll_transmit(self)
            }
            fn is_done(&self) -> bool {
                <$t>::is_done(self)
            }
        }
    };
}
impl_machine!(Dialer);
impl_machine!(Listener);

/// Hands what one read returned to `m`; an empty read is the peer's EOF, which ends the
/// negotiation with the machine's EOF error (or [`MultistreamError::Eof`]).
fn feed<M: Machine>(m: &mut M, read: Option<&[u8]>) -> Result<(), MultistreamError> {
    match read {
        Some(read) if !read.is_empty() => m.handle_input(read),
        _ => {
            m.handle_eof()?;
            Err(MultistreamError::Eof)
        }
    }
}

/// Runs `m` over `io` until it is done. Writes are flushed before each read (and after each
/// message when `one_message_per_write`).
async fn drive<M: Machine>(
    io: &mut BoxStream,
    m: &mut M,
    per_write_flush: bool,
) -> Result<(), MultistreamError> {
    let mut chunk = [0u8; READ_CHUNK];
    loop {
        let mut wrote = false;
        while let Some(write) = m.poll_transmit() {
            io.write_all(&write).await?;
            wrote = true;
            if per_write_flush {
                io.flush().await?;
            }
        }
        if wrote && !per_write_flush {
            io.flush().await?;
        }
        if m.is_done() {
            return Ok(());
        }
        let n = io.read(&mut chunk).await?;
        feed(m, chunk.get(..n))?;
    }
}

/// [`drive`] for the listener, except that once a protocol is selected with bytes already
/// read past the proposal (a lazy dialer), the last answers are left queued in the machine for
/// the caller to send with the next layer's first write.
async fn drive_listener(
    io: &mut BoxStream,
    m: &mut Listener,
    per_write_flush: bool,
) -> Result<(), MultistreamError> {
    if per_write_flush {
        return drive(io, m, true).await;
    }
    let mut chunk = [0u8; READ_CHUNK];
    // The dialer usually sent its header and proposal right after connecting: if they are
    // here already, our header goes out together with the answer (one write, not two).
    // Otherwise the header is written at once, as always (a dialer may wait for it).
    let mut first = true;
    loop {
        if m.is_done() && m.leftover_len() > 0 {
            return Ok(());
        }
        if std::mem::take(&mut first) {
            if let std::task::Poll::Ready(read) = futures::poll!(io.read(&mut chunk)) {
                feed(m, chunk.get(..read?))?;
                continue;
            }
        }
        let mut wrote = false;
        while let Some(write) = m.poll_transmit() {
            io.write_all(&write).await?;
            wrote = true;
        }
        if wrote {
            io.flush().await?;
        }
        if m.is_done() {
            return Ok(());
        }
        let n = io.read(&mut chunk).await?;
        feed(m, chunk.get(..n))?;
    }
}

/// Runs `fut` under the negotiation timeout.
async fn timed<T>(
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<T, MultistreamError>>,
) -> Result<T, MultistreamError> {
    // A timeout too far out to be an `Instant` never fires (futures-timer would panic on it).
    if Instant::now().checked_add(timeout).is_none() {
        return fut.await;
    }
    match select(pin!(fut), Delay::new(timeout)).await {
        Either::Left((out, _)) => out,
        Either::Right(_) => Err(MultistreamError::Timeout(timeout)),
    }
}

/// Hands on the stream with the bytes read past the negotiation in front.
fn with_leftover(io: BoxStream, leftover: BytesMut) -> BoxStream {
    if leftover.is_empty() {
        io
    } else {
        Box::new(Prefixed::new(io, leftover))
    }
}

/// Negotiates as the dialer, proposing `protocols` in order.
///
/// With [`MultistreamConfig::lazy`] (and not `one_message_per_write`) and exactly one
/// protocol, returns at once a stream that sends header and proposal with the first write and
/// checks the echo before the first read (an `na` fails that read with
/// [`ErrorKind::NegotiationFailed`]).
pub async fn dialer_select(
    mut io: BoxStream,
    protocols: &[String],
    config: &MultistreamConfig,
) -> Result<Negotiated, ChainError> {
    let start = Instant::now();
    let mut dialer = Dialer::new(protocols.to_vec(), config)?;
    if let (true, false, [only]) = (config.lazy, config.one_message_per_write, protocols) {
        return Ok(Negotiated {
            protocol: only.clone(),
            io: Box::new(LazyDialerStream::new(io, dialer)),
            elapsed: start.elapsed(),
        });
    }
    let flush_each = config.one_message_per_write;
    timed(config.timeout, drive(&mut io, &mut dialer, flush_each)).await?;
    let protocol = dialer
        .selected()
        .ok_or_else(|| {
            ChainError::new(
                LAYER,
                ErrorKind::NegotiationFailed,
                "dialer finished without a protocol",
            )
        })?
        .to_owned();
    let leftover = dialer.take_leftover();
    Ok(Negotiated {
        protocol,
        io: with_leftover(io, leftover),
        elapsed: start.elapsed(),
    })
}

/// Negotiates as the listener, accepting any of `protocols`.
pub async fn listener_select(
    mut io: BoxStream,
    protocols: &[String],
    config: &MultistreamConfig,
) -> Result<Negotiated, ChainError> {
    let start = Instant::now();
    let mut listener = Listener::new(protocols.to_vec(), config)?;
    let flush_each = config.one_message_per_write;
    timed(
        config.timeout,
        drive_listener(&mut io, &mut listener, flush_each),
    )
    .await?;
    // A lazy dialer's first bytes came with its proposal: our last answer (the echo) goes out
    // with the next layer's first write instead of in a write of its own, or before the next
    // layer reads past those bytes, whichever comes first (`Prefixed`). An eager dialer sent
    // nothing past its proposal: it waits for the echo, which `drive_listener` flushed.
    let mut pending = BytesMut::new();
    if !flush_each && listener.is_done() && listener.leftover_len() > 0 {
        while let Some(write) = listener.poll_transmit() {
            pending.extend_from_slice(&write);
        }
    }
    let protocol = listener
        .selected()
        .ok_or_else(|| {
            ChainError::new(
                LAYER,
                ErrorKind::NegotiationFailed,
                "listener finished without a protocol",
            )
        })?
        .to_owned();
    let leftover = listener.take_leftover();
    let io = if pending.is_empty() {
        with_leftover(io, leftover)
    } else {
        Box::new(Prefixed::with_pending_write(io, leftover, pending))
    };
    Ok(Negotiated {
        protocol,
        io,
        elapsed: start.elapsed(),
    })
}

/// Asks a listener for its protocols with `ls` (header + `ls`, then the answer). Peers that
/// dropped `ls` (current go) answer `na`: [`ErrorKind::NegotiationFailed`].
pub async fn list_protocols(
    mut io: BoxStream,
    config: &MultistreamConfig,
) -> Result<Vec<String>, ChainError> {
    let mut dialer = Dialer::list(config)?;
    timed(
        config.timeout,
        drive(&mut io, &mut dialer, config.one_message_per_write),
    )
    .await?;
    std::iter::from_fn(|| dialer.poll_event())
        .find_map(|e| match e {
            Event::Listed { protocols } => Some(protocols),
            _ => None,
        })
        .ok_or_else(|| ChainError::new(LAYER, ErrorKind::Protocol, "no ls response"))
}

/// The outcome of [`Multistream::dispatch`].
#[derive(Debug)]
pub struct Dispatched {
    /// The agreed protocol id.
    pub protocol: String,
    /// How long the negotiation took.
    pub negotiation: Duration,
    /// What the chosen handler returned.
    pub next: Next,
}

/// The multistream-select step of the chain: negotiates one of its handlers' protocols and
/// runs that handler.
pub struct Multistream {
    handlers: Vec<Arc<dyn StreamHandler>>,
    config: MultistreamConfig,
}

impl Multistream {
    /// A step choosing among `handlers` (first = most preferred when we dial).
    pub fn new(handlers: Vec<Arc<dyn StreamHandler>>, config: MultistreamConfig) -> Self {
        Multistream { handlers, config }
    }

    /// All ids of all handlers, in handler and preference order, without duplicates.
    pub fn protocols(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for p in self.handlers.iter().flat_map(|h| h.protocols()) {
            if !all.contains(&p) {
                all.push(p);
            }
        }
        all
    }

    /// Negotiates as `ctx.role` (a dialer proposes in preference order, a listener accepts any
    /// it has; every message in its own write for a peer that parses one message per frame,
    /// see [`MultistreamConfig::for_peer`]), then runs the chosen handler with a context whose chain records this
    /// negotiation step.
    pub async fn dispatch(
        &self,
        io: BoxStream,
        mut ctx: HandlerContext,
    ) -> Result<Dispatched, ChainError> {
        // The negotiation runs boxed, and its protocol list and config are dropped before the
        // handler runs: a handler that waits for a long time (an idle ping or kad stream) keeps
        // none of it (its read chunk and state would otherwise stay inline in its task).
        let negotiated = {
            let protocols = self.protocols();
            let config = self.config.for_peer(ctx.peer_framing);
            match ctx.role {
                Role::Dialer => Box::pin(dialer_select(io, &protocols, &config)).await?,
                Role::Listener => Box::pin(listener_select(io, &protocols, &config)).await?,
            }
        };
        let Negotiated {
            protocol,
            io,
            elapsed,
        } = negotiated;
        let handler = self
            .handlers
            .iter()
            .find(|h| h.protocols().contains(&protocol))
            .ok_or_else(|| {
                ChainError::new(
                    LAYER,
                    ErrorKind::NegotiationFailed,
                    format!("no handler for {protocol}"),
                )
            })?;
        tracing::debug!(%protocol, role = %ctx.role, ?elapsed, "multistream: negotiated");
        ctx.chain
            .push(LayerKind::Negotiation, PROTOCOL, ctx.role, elapsed);
        let next = handler.handle(&protocol, io, ctx).await?;
        Ok(Dispatched {
            protocol,
            negotiation: elapsed,
            next,
        })
    }
}

#[async_trait]
impl StreamHandler for Multistream {
    fn protocols(&self) -> Vec<String> {
        vec![PROTOCOL.to_owned()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        self.dispatch(io, ctx).await.map(|d| d.next)
    }
}
