//! [`NoiseStream`]: the encrypted transport as `AsyncRead + AsyncWrite`, a thin shell over
//! [`Transport`] with one large receive buffer and one reusable send buffer.
//!
//! Reading decrypts whole frames straight into the caller's buffer when it has room (several
//! frames per call), otherwise into an internal plaintext buffer served on later reads.
//! Writing: small writes (below [`COALESCE_BELOW`]) are collected into one frame that is sealed
//! when it is full, on a larger write, or on flush/close (as rust-libp2p does; callers flush).
//! Larger writes are encrypted directly, up to [`WRITE_FRAMES`] frames per call, into the send
//! buffer and written out; the next write (or flush/close) first finishes that, so accepted
//! bytes are never dropped. No allocation happens per frame.
//!
//! Buffers exist while bytes flow: the receive, plaintext and send buffers come from
//! `chainp2p_framing::pool` and go back to it once empty (a read found nothing to read, the
//! decrypted frame was served, the ciphertext was written), so an idle stream holds none.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use chainp2p_core::{BoxStream, LayerError};
use chainp2p_framing::{pool, FailLatch, RecvBuf, SendBuf};
use futures::io::{AsyncRead, AsyncWrite};

use crate::codec::{
    needed, parse_frame, HEADER_LEN, MAX_FRAME_LEN, MAX_FRAME_PLAINTEXT, MAX_NOISE_MSG_LEN, TAG_LEN,
};
use crate::error::NoiseError;
use crate::transport::Transport;

/// Frames of caller bytes encrypted per `poll_write` at most (so a 64 KiB write needs one
/// call, not two).
pub const WRITE_FRAMES: usize = 2;
/// Writes shorter than this are collected (copied) into one frame until a flush.
pub const COALESCE_BELOW: usize = 16 * 1024;

/// An authenticated, encrypted duplex stream over `T` (by default the chain's [`BoxStream`]).
pub struct NoiseStream<T = BoxStream> {
    io: T,
    transport: Transport,
    rb: RecvBuf,
    plain: Vec<u8>,
    pstart: usize,
    pend: usize,
    read_failed: FailLatch,
    wbuf: SendBuf,
    stage: Vec<u8>,
    write_failed: FailLatch,
}

impl<T> NoiseStream<T> {
    pub(crate) fn new(io: T, transport: Transport, rb: RecvBuf) -> Self {
        NoiseStream {
            io,
            transport,
            rb,
            plain: Vec::new(),
            pstart: 0,
            pend: 0,
            read_failed: FailLatch::new(),
            wbuf: SendBuf::new(),
            stage: Vec::new(),
            write_failed: FailLatch::new(),
        }
    }

    /// The stream below.
    pub fn get_ref(&self) -> &T {
        &self.io
    }
}

impl<T: AsyncRead + Unpin> NoiseStream<T> {
    fn read_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NoiseError>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if self.pstart < self.pend {
                let avail = self.plain.get(self.pstart..self.pend).unwrap_or_default();
                let n = avail.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.pstart += n;
                if self.pstart == self.pend {
                    // Served: the plaintext buffer goes back until the next large frame.
                    pool::give(std::mem::take(&mut self.plain));
                    (self.pstart, self.pend) = (0, 0);
                }
                return Poll::Ready(Ok(n));
            }
            let mut written = 0;
            while let Some(total) = parse_frame(self.rb.data(), MAX_NOISE_MSG_LEN)? {
                let ct = self.rb.data().get(HEADER_LEN..total).unwrap_or_default();
                let out = buf.get_mut(written..).unwrap_or_default();
                if out.len() >= ct.len() {
                    written += self.transport.decrypt(ct, out)?;
                    self.rb.consume(total);
                } else if written > 0 {
                    break;
                } else {
                    if self.plain.is_empty() {
                        self.plain = pool::take(MAX_NOISE_MSG_LEN);
                    }
                    self.pend = self.transport.decrypt(ct, &mut self.plain)?;
                    self.pstart = 0;
                    self.rb.consume(total);
                    break;
                }
            }
            if written > 0 {
                return Poll::Ready(Ok(written));
            }
            if self.pstart < self.pend {
                continue;
            }
            // Only empty frames, or no whole frame: read more.
            let n = ready!(self.rb.poll_fill(&mut self.io, cx, MAX_FRAME_LEN))?;
            if n == 0 {
                if self.rb.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                return Poll::Ready(Err(NoiseError::FrameTruncated {
                    have: self.rb.len(),
                    need: needed(self.rb.data()),
                }));
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> NoiseStream<T> {
    /// Writes out pending ciphertext.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.wbuf.poll_drain(&mut self.io, cx)
    }

    /// Seals the collected small writes (if any), then up to [`WRITE_FRAMES`] frames of `buf`,
    /// into the (drained) send buffer; returns how many bytes of `buf` were taken.
    fn encrypt_batch(&mut self, buf: &[u8]) -> Result<usize, NoiseError> {
        // Exactly the room these frames need: a small message takes a small buffer.
        let sealed_len = |plain: usize| HEADER_LEN + plain + TAG_LEN;
        let staged = match self.stage.len() {
            0 => 0,
            n => sealed_len(n),
        };
        let need = staged
            + buf
                .chunks(MAX_FRAME_PLAINTEXT)
                .take(WRITE_FRAMES)
                .map(|c| sealed_len(c.len()))
                .sum::<usize>();
        let wbuf = self
            .wbuf
            .space(need.min((1 + WRITE_FRAMES) * MAX_FRAME_LEN));
        let (mut off, mut taken) = (0, 0);
        if !self.stage.is_empty() {
            off += self.transport.encrypt_frame(&self.stage, wbuf)?;
            // Sealed: an idle stream keeps no staging buffer.
            pool::give(std::mem::take(&mut self.stage));
        }
        for chunk in buf.chunks(MAX_FRAME_PLAINTEXT).take(WRITE_FRAMES) {
            let out = wbuf.get_mut(off..).unwrap_or_default();
            off += self.transport.encrypt_frame(chunk, out)?;
            taken += chunk.len();
        }
        self.wbuf.filled(off);
        Ok(taken)
    }
}

impl<T: AsyncWrite + Unpin> NoiseStream<T> {
    /// Writes out pending ciphertext, then seals and writes the collected small writes.
    fn poll_send_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.write_failed.is_tripped() {
            return Poll::Ready(Err(failed()));
        }
        ready!(self.poll_drain(cx))?;
        if !self.stage.is_empty() {
            let sealed = self.encrypt_batch(&[]);
            self.write_failed.check(sealed, NoiseError::into_io)?;
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

fn failed() -> io::Error {
    NoiseError::Failed.into_io()
}

impl<T: AsyncRead + Unpin> AsyncRead for NoiseStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.read_failed.is_tripped() {
            return Poll::Ready(Err(failed()));
        }
        let read = this.read_inner(cx, buf);
        this.read_failed.check_poll(read, NoiseError::into_io)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for NoiseStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.write_failed.is_tripped() {
            return Poll::Ready(Err(failed()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_drain(cx))?;
        if buf.len() < COALESCE_BELOW && this.stage.len() + buf.len() <= MAX_FRAME_PLAINTEXT {
            // Grows as small writes come (most flushes seal a few hundred bytes).
            this.stage.extend_from_slice(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        let sealed = this.encrypt_batch(buf);
        let taken = this.write_failed.check(sealed, NoiseError::into_io)?;
        // Start sending now; if the stream below is busy the bytes stay queued (they are
        // accepted) and go out on the next write, flush or close.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(this.write_failed.trip(e)));
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_all(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_all(cx))?;
        Pin::new(&mut this.io).poll_close(cx)
    }
}

impl<T> std::fmt::Debug for NoiseStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseStream")
            .field("transport", &self.transport)
            .field("buffered_in", &self.rb.len())
            .field("pending_out", &self.wbuf.pending())
            .field("collected_out", &self.stage.len())
            .finish_non_exhaustive()
    }
}
