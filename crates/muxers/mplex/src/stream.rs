//! `MplexStream`: one substream as a futures `AsyncRead + AsyncWrite`.
//!
//! - `poll_write` encodes the data at once into the session's output queue (split into frames
//!   of `split_send_size`); it is `Pending` while the queue plus what the driver is writing
//!   is above `write_buffer_limit` (so a connection buffers at most about that much).
//!   Data it accepted is either written to the connection or the stream's flush/close errors:
//!   never silent loss.
//! - `poll_flush` waits until everything this stream queued was written and flushed by the
//!   driver; `poll_close` sends Close (half-close) and then flushes.
//! - Dropping the stream without `poll_close` resets it unless the peer already half-closed
//!   it, in which case our Close is sent (as our yamux does).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use chainp2p_core::LayerError;

use crate::error::MplexError;
use crate::session::{ReadOutcome, StreamId, Termination};
use chainp2p_muxer_shell::StreamCore;

use crate::shared::{now, register, Core, SharedRef};

/// An mplex substream. Returned boxed as `chainp2p_core::BoxStream` by the muxer.
#[derive(Debug)]
pub struct MplexStream {
    core: StreamCore<Core>,
    /// `queued_total` after this stream's last queued output: flushed once the driver's
    /// `flushed_total` reaches it.
    flush_mark: u64,
}

impl MplexStream {
    pub(crate) fn new(id: StreamId, shared: SharedRef) -> Self {
        MplexStream {
            core: StreamCore::new(id, shared),
            flush_mark: 0,
        }
    }

    /// The stream's identity (number and who opened it).
    pub fn id(&self) -> StreamId {
        self.core.id()
    }

    /// Resets the stream: both directions end at once, unread data is dropped.
    pub fn reset(&mut self) {
        self.core.reset();
    }

    fn poll_flushed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut g = self.core.lock();
        if g.flushed_total >= self.flush_mark {
            return Poll::Ready(Ok(()));
        }
        // A reset stream's data will not all reach the peer: fail now rather than after the
        // shared queue drained.
        if let Err(e @ (MplexError::StreamReset(_) | MplexError::BufferOverflow { .. })) =
            g.session.check_writable(self.core.id())
        {
            return Poll::Ready(Err(e.into_io()));
        }
        if g.driver_done || g.session.termination().is_some() {
            let err = match g.session.termination() {
                Some(Termination::Error(e)) => e.clone(),
                _ => MplexError::SessionClosed,
            };
            return Poll::Ready(Err(err.into_io()));
        }
        g.wait_writable(self.core.id(), cx.waker());
        register(&mut g.drained, cx.waker());
        g.wake_driver();
        Poll::Pending
    }
}

impl AsyncRead for MplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut g = this.core.lock();
        let result = g.session.read(this.core.id(), buf, now());
        // A read may let blocked input resume.
        g.dispatch();
        match result {
            Ok(ReadOutcome::Data(n)) => Poll::Ready(Ok(n)),
            Ok(ReadOutcome::Eof) => Poll::Ready(Ok(0)),
            Ok(ReadOutcome::Blocked) => {
                g.wait_readable(this.core.id(), cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e.into_io())),
        }
    }
}

impl AsyncWrite for MplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut g = this.core.lock();
        let limit = g.session.config().write_buffer_limit;
        let queued = g.session.output_len() + g.in_flight;
        if queued >= limit && g.session.termination().is_none() && !g.driver_done {
            // A stream reset meanwhile fails now, not once the shared queue has room.
            if let Err(e) = g.session.check_writable(this.core.id()) {
                return Poll::Ready(Err(e.into_io()));
            }
            g.wait_writable(this.core.id(), cx.waker());
            register(&mut g.drained, cx.waker());
            g.wake_driver();
            return Poll::Pending;
        }
        match g
            .session
            .write(this.core.id(), buf, limit.saturating_sub(queued).max(1))
        {
            Ok(n) => {
                this.flush_mark = g.session.queued_total();
                g.wake_driver();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(e.into_io())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flushed(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.core.close_write() {
            Ok(Some(mark)) => this.flush_mark = mark,
            Ok(None) => {}
            Err(e) => return Poll::Ready(Err(e.into_io())),
        }
        this.poll_flushed(cx)
    }
}
