//! The streams handed to the next layer: [`Prefixed`] serves bytes read past the negotiation
//! before the rest of the stream, and [`LazyDialerStream`] is rust-libp2p's `V1Lazy` dialer
//! (negotiation bytes sent with the first write, the echo checked before the first read).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use chainp2p_core::{BoxStream, ChainError};
use futures::io::{AsyncRead, AsyncWrite, IoSlice};

use crate::dialer::Dialer;
use crate::error::MultistreamError;

/// The most application data a lazy dialer appends to its negotiation bytes in one write.
const LAZY_COALESCE_MAX: usize = 64 * 1024;

/// Size of the reads a lazy dialer makes while it waits for the echo.
const LAZY_READ_CHUNK: usize = 4096;

fn io_error(err: MultistreamError) -> io::Error {
    ChainError::from(err).into_io()
}

/// Copies from `src` into `buf`, consuming what was copied; an emptied `src` gives its
/// allocation back (a negotiated stream may then stay idle for a long time).
fn serve(src: &mut BytesMut, buf: &mut [u8]) -> usize {
    let n = src.len().min(buf.len());
    if let (Some(dst), Some(from)) = (buf.get_mut(..n), src.get(..n)) {
        dst.copy_from_slice(from);
    }
    src.advance(n);
    if src.is_empty() {
        *src = BytesMut::new();
    }
    n
}

/// Writes `pending` out to `inner`, setting `unflushed` once bytes went out; `Ready(Ok)` once
/// it is empty, its allocation given back (the negotiation's bytes need no memory any more).
fn poll_write_pending(
    inner: &mut BoxStream,
    pending: &mut BytesMut,
    unflushed: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while !pending.is_empty() {
        let n = ready!(Pin::new(&mut *inner).poll_write(cx, pending))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        pending.advance(n);
        *unflushed = true;
    }
    if pending.capacity() > 0 {
        *pending = BytesMut::new();
    }
    Poll::Ready(Ok(()))
}

/// A stream whose first reads return `leftover`, then the inner stream's bytes; and, for a
/// listener that answered a lazy dialer, whose first write carries the negotiation's last
/// answer (`pending`) in front of the caller's bytes. `pending` is written and flushed at the
/// latest before a read has to wait on the inner stream (the peer may be waiting for it), and
/// on flush and close.
pub struct Prefixed {
    inner: BoxStream,
    leftover: BytesMut,
    pending: BytesMut,
    /// Whether `pending` was written but not yet flushed.
    unflushed: bool,
}

impl Prefixed {
    /// Wraps `inner` so that `leftover` is read first.
    pub fn new(inner: BoxStream, leftover: BytesMut) -> Self {
        Self::with_pending_write(inner, leftover, BytesMut::new())
    }

    /// Wraps `inner` so that `leftover` is read first and `pending` is written before (and
    /// with) the first write.
    pub fn with_pending_write(inner: BoxStream, leftover: BytesMut, pending: BytesMut) -> Self {
        Prefixed {
            inner,
            leftover,
            pending,
            unflushed: false,
        }
    }

    /// Writes out `pending`; `Ready(Ok)` once it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_write_pending(&mut self.inner, &mut self.pending, &mut self.unflushed, cx)
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.leftover.is_empty() {
            return Poll::Ready(Ok(serve(&mut this.leftover, buf)));
        }
        // Nothing left but what the peer sends next: it may be waiting for our answer.
        ready!(this.poll_drain(cx))?;
        if this.unflushed {
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
            this.unflushed = false;
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.pending.is_empty() && !buf.is_empty() {
            // The answer and the first bytes of the next layer in one write.
            let n = buf.len().min(LAZY_COALESCE_MAX);
            this.pending
                .extend_from_slice(buf.get(..n).unwrap_or_default());
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(n));
        }
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.pending.is_empty() {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        self.unflushed = false;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// A `V1Lazy` dialer's stream: the negotiation runs inside the first write and read.
pub struct LazyDialerStream {
    inner: BoxStream,
    /// Present until the listener's header and echo have been read.
    dialer: Option<Dialer>,
    /// Bytes to write before anything else: header, proposal, maybe the first user data.
    pending: BytesMut,
    /// Whether the first user write has been appended to `pending`.
    absorbed: bool,
    /// Whether `pending` was written but not yet flushed (only tracked before a read).
    unflushed: bool,
    /// Bytes read past the echo.
    leftover: BytesMut,
}

impl LazyDialerStream {
    /// Wraps `inner`; `dialer` has queued header and proposal, which are taken now.
    pub fn new(inner: BoxStream, mut dialer: Dialer) -> Self {
        let mut pending = BytesMut::new();
        while let Some(w) = dialer.poll_transmit() {
            pending.extend_from_slice(&w);
        }
        LazyDialerStream {
            inner,
            dialer: Some(dialer),
            pending,
            absorbed: false,
            unflushed: false,
            leftover: BytesMut::new(),
        }
    }

    /// Writes out `pending`; `Ready(Ok)` once it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_write_pending(&mut self.inner, &mut self.pending, &mut self.unflushed, cx)
    }

    /// Reads until the dialer has seen the header and the echo.
    fn poll_negotiate(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        if self.unflushed {
            ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            self.unflushed = false;
        }
        let mut chunk = [0u8; LAZY_READ_CHUNK];
        while let Some(dialer) = self.dialer.as_mut() {
            let n = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut chunk))?;
            let step = match chunk.get(..n) {
                Some(read) if n > 0 => dialer.handle_input(read),
                _ => dialer.handle_eof().and(Err(MultistreamError::Eof)),
            };
            step.map_err(io_error)?;
            if dialer.is_done() {
                self.leftover = dialer.take_leftover();
                self.dialer = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for LazyDialerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.dialer.is_some() {
            ready!(this.poll_negotiate(cx))?;
        }
        if !this.leftover.is_empty() {
            return Poll::Ready(Ok(serve(&mut this.leftover, buf)));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LazyDialerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.absorbed && !this.pending.is_empty() {
            // 0-RTT: the first application bytes travel in the same write as the negotiation.
            let n = buf.len().min(LAZY_COALESCE_MAX);
            this.pending
                .extend_from_slice(buf.get(..n).unwrap_or_default());
            this.absorbed = true;
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(n));
        }
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        self.unflushed = false;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
