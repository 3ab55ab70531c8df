//! `YamuxStream`: one substream as a futures `AsyncRead + AsyncWrite`.
//!
//! - `poll_write` takes what fits in the peer's window and is encoded at once into the
//!   session's output queue; it is `Pending` while the window is 0 or the queue is above
//!   `write_buffer_limit`. Data it accepted is either written to the connection or the stream
//!   (its flush/close) errors: never silent loss.
//! - `poll_flush` waits until everything this stream queued was written and flushed by the
//!   driver; `poll_close` sends FIN (half-close) and then flushes.
//! - Dropping the stream without `poll_close` resets it (RST) unless the peer already
//!   half-closed it, in which case our FIN is sent — the rust-yamux behaviour.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use chainp2p_core::LayerError;

use crate::error::YamuxError;
use crate::session::{ReadOutcome, StreamId, Termination};
use chainp2p_muxer_shell::StreamCore;

use crate::shared::{register, Core, SharedRef};

/// A yamux substream. Returned boxed as `chainp2p_core::BoxStream` by the muxer.
#[derive(Debug)]
pub struct YamuxStream {
    core: StreamCore<Core>,
    /// `queued_total` after this stream's last queued output: flushed once the driver's
    /// `flushed_total` reaches it.
    flush_mark: u64,
}

impl YamuxStream {
    pub(crate) fn new(id: StreamId, shared: SharedRef) -> Self {
        YamuxStream {
            core: StreamCore::new(id, shared),
            flush_mark: 0,
        }
    }

    /// The yamux stream id.
    pub fn id(&self) -> u32 {
        self.core.id()
    }

    /// Resets the stream (RST): both directions end at once, unread data is dropped.
    pub fn reset(&mut self) {
        self.core.reset();
    }

    fn poll_flushed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut g = self.core.lock();
        if g.flushed_total >= self.flush_mark {
            return Poll::Ready(Ok(()));
        }
        if g.driver_done || g.session.termination().is_some() {
            let err = match g.session.termination() {
                Some(Termination::Error(e)) => e.clone(),
                _ => YamuxError::ConnectionClosed,
            };
            return Poll::Ready(Err(err.into_io()));
        }
        g.wait_flushed(self.flush_mark, cx.waker());
        g.wake_driver();
        Poll::Pending
    }
}

impl AsyncRead for YamuxStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut g = this.core.lock();
        // The clock is read only when a window update is due (auto-tuning needs the time).
        match g
            .session
            .read_with(this.core.id(), buf, || Some(std::time::Instant::now()))
        {
            Ok(ReadOutcome::Data(n)) => {
                if g.session.output_len() > 0 {
                    g.wake_driver();
                }
                Poll::Ready(Ok(n))
            }
            Ok(ReadOutcome::Eof) => Poll::Ready(Ok(0)),
            Ok(ReadOutcome::Blocked) => {
                g.wait_readable(this.core.id(), cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e.into_io())),
        }
    }
}

impl AsyncWrite for YamuxStream {
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
        let queued = g.session.output_len();
        if queued >= limit && g.session.termination().is_none() {
            register(&mut g.drained, cx.waker());
            g.wake_driver();
            return Poll::Pending;
        }
        match g
            .session
            .write(this.core.id(), buf, limit.saturating_sub(queued).max(1))
        {
            Ok(0) => {
                g.wait_writable(this.core.id(), cx.waker());
                Poll::Pending
            }
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
