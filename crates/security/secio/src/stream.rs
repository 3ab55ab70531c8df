//! [`SecioStream`]: the encrypted transport as `AsyncRead + AsyncWrite`, a thin shell over the
//! two [`CipherState`]s with one receive buffer and one reusable send buffer.
//!
//! Writing: each `poll_write` seals up to one frame of the caller's bytes (at most the frame
//! limit minus the MAC), so one write is one secio frame, as c-libp2p expects when a layer
//! above writes one message per write. The plaintext is encrypted straight from the caller's
//! buffer into the send buffer (the keystream pass is the copy) and MACed there; a frame the
//! stream below cannot take at once stays queued (it is accepted) and goes out on the next
//! write, flush or close.
//! Reading: a frame's MAC is checked in the receive buffer, then its ciphertext is decrypted
//! straight into the caller's buffer as it is read (again the keystream pass is the copy), in
//! order, so a frame may be consumed over several reads.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use chainp2p_core::{BoxStream, LayerError};
use chainp2p_framing::{FailLatch, RecvBuf, SendBuf};
use futures::io::{AsyncRead, AsyncWrite};

use crate::cipher::CipherState;
use crate::codec::{needed, parse_frame, write_header, HEADER_LEN};
use crate::error::SecioError;

/// An authenticated, encrypted duplex stream over `T` (by default the chain's [`BoxStream`]).
pub struct SecioStream<T = BoxStream> {
    io: T,
    encoder: CipherState,
    decoder: CipherState,
    max_frame_len: usize,
    rb: RecvBuf,
    /// Ciphertext not yet read of the (MAC-checked) frame at the front of `rb`:
    /// `[pstart, pend)` relative to the buffer's window; the frame is `ftotal` bytes long.
    pstart: usize,
    pend: usize,
    ftotal: usize,
    read_failed: FailLatch,
    wbuf: SendBuf,
    write_failed: FailLatch,
}

impl<T> SecioStream<T> {
    pub(crate) fn new(
        io: T,
        encoder: CipherState,
        decoder: CipherState,
        rb: RecvBuf,
        max_frame_len: usize,
    ) -> Self {
        SecioStream {
            io,
            encoder,
            decoder,
            max_frame_len,
            rb,
            pstart: 0,
            pend: 0,
            ftotal: 0,
            read_failed: FailLatch::new(),
            wbuf: SendBuf::new(),
            write_failed: FailLatch::new(),
        }
    }

    /// The stream below.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The most plaintext one frame (one `poll_write`) carries.
    pub fn max_write(&self) -> usize {
        self.max_frame_len
            .saturating_sub(self.encoder.mac_len())
            .max(1)
    }
}

impl<T: AsyncRead + Unpin> SecioStream<T> {
    fn read_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, SecioError>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if self.pstart < self.pend {
                let avail = self
                    .rb
                    .data()
                    .get(self.pstart..self.pend)
                    .unwrap_or_default();
                let n = avail.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
                    self.decoder.decrypt_to(src, dst)?;
                }
                self.pstart += n;
                if self.pstart == self.pend {
                    self.rb.consume(self.ftotal);
                    (self.pstart, self.pend, self.ftotal) = (0, 0, 0);
                }
                return Poll::Ready(Ok(n));
            }
            if let Some(total) = parse_frame(self.rb.data(), self.max_frame_len)? {
                let body = self.rb.data().get(HEADER_LEN..total).unwrap_or_default();
                let n = self.decoder.verify(body)?;
                if n == 0 {
                    self.rb.consume(total);
                } else {
                    (self.pstart, self.pend, self.ftotal) = (HEADER_LEN, HEADER_LEN + n, total);
                }
                continue;
            }
            let need = needed(self.rb.data());
            let n = ready!(self.rb.poll_fill(&mut self.io, cx, need))?;
            if n == 0 {
                if self.rb.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                return Poll::Ready(Err(SecioError::FrameTruncated {
                    have: self.rb.len(),
                    need,
                }));
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> SecioStream<T> {
    /// Writes out the queued frame.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.wbuf.poll_drain(&mut self.io, cx)
    }

    /// Seals `plain` as one frame into the (drained) send buffer.
    fn seal(&mut self, plain: &[u8]) -> Result<(), SecioError> {
        let body_len = plain.len() + self.encoder.mac_len();
        let total = HEADER_LEN + body_len;
        let frame = self.wbuf.space(total).get_mut(..total).unwrap_or_default();
        write_header(frame, body_len)?;
        let body = frame.get_mut(HEADER_LEN..).unwrap_or_default();
        self.encoder.seal_from(plain, body)?;
        self.wbuf.filled(total);
        Ok(())
    }

    fn check_write(&self) -> io::Result<()> {
        if self.write_failed.is_tripped() {
            return Err(SecioError::Failed.into_io());
        }
        Ok(())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SecioStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.read_failed.is_tripped() {
            return Poll::Ready(Err(SecioError::Failed.into_io()));
        }
        let read = this.read_inner(cx, buf);
        this.read_failed.check_poll(read, SecioError::into_io)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SecioStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_write()?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Err(e) = ready!(this.poll_drain(cx)) {
            return Poll::Ready(Err(this.write_failed.trip(e)));
        }
        let take = buf.len().min(this.max_write());
        let sealed = this.seal(buf.get(..take).unwrap_or_default());
        this.write_failed.check(sealed, SecioError::into_io)?;
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(this.write_failed.trip(e)));
        }
        Poll::Ready(Ok(take))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_write()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_write()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_close(cx)
    }
}

impl<T> std::fmt::Debug for SecioStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecioStream")
            .field("buffered_in", &self.rb.len())
            .field("pending_out", &self.wbuf.pending())
            .finish_non_exhaustive()
    }
}
